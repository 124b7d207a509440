"""Room copies: after everything else, and each room's messages in the room's order.

A room of 15 people turns one message into 14 copies; Telegram allows about 30 messages a
second in all (PTB's ``AIORateLimiter`` paces every call to that, first come first served).
Left to itself a busy room would fill that queue and a crisis reply or a check-in question
would wait behind its copies. So copies do not go out the moment they are made:

- they draw on their own budget, a token bucket filled at ``per_second`` (with a burst of
  the same size) less what every other message of the process used in the last second
  (``others_sent``), but never below a quarter of it. Crisis replies and one-to-one chats
  never wait for a room; a room slows down while other traffic is heavy, and is never
  stopped altogether (a room that fell silent would look broken to its members).
- a message's copies go to its readers side by side (each reader's own in order), and
  each room's messages go out in the order the room numbered them (``seq``, taken under
  the room row's lock, so in commit order): a message waits until every earlier message of
  the same room this process is sending has gone (``expect`` marks one as on its way while
  its transaction holds the lock); one whose transaction rolls back is forgotten (``forget``). As a last resort a
  message is waited for at most ``patience`` seconds (a failure between commit and send).

One process's view: with several bot processes each paces its own copies (as each paces
its own calls), and order across processes holds per sender, not across senders.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")

FLOOR = 0.25  # the share of its budget a room keeps however busy everything else is


class RoomFanout:
    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        patience: float = 60.0,
    ) -> None:
        self.per_second = per_second
        self.clock = clock
        self.patience = patience
        self._tokens = per_second
        self._at = clock()
        self._pacing = asyncio.Lock()
        self._on_the_way: dict[int, set[int]] = defaultdict(set)
        self._turn = asyncio.Condition()
        self._others: deque[tuple[float, int]] = deque()

    def expect(self, room_id: int, seq: int) -> None:
        """Message ``seq`` of the room is being written: later ones wait for it."""
        self._on_the_way[room_id].add(seq)

    def forget(self, room_id: int, seq: int) -> None:
        """Message ``seq`` will not be sent after all (its transaction rolled back)."""
        self._done(room_id, seq)

    def _done(self, room_id: int, seq: int) -> None:
        waiting = self._on_the_way.get(room_id)
        if waiting is not None:
            waiting.discard(seq)
            if not waiting:
                del self._on_the_way[room_id]
        with contextlib.suppress(RuntimeError):  # no loop running: nobody is waiting
            asyncio.get_running_loop().create_task(self._wake())

    async def _wake(self) -> None:
        async with self._turn:
            self._turn.notify_all()

    def others_sent(self, count: int) -> None:
        """Other messages went out: for a second, rooms earn that much less."""
        if count:
            self._refill()
            self._others.append((self.clock(), count))

    def _rate(self, now: float) -> float:
        while self._others and self._others[0][0] <= now - 1.0:
            self._others.popleft()
        others = sum(count for _, count in self._others)
        return max(self.per_second * FLOOR, self.per_second - others)

    async def deliver(
        self,
        room_id: int,
        seq: int,
        readers: Sequence[Sequence[T]],
        send: Callable[[Sequence[T]], Awaitable[list[object]]],
    ) -> list[object]:
        """Send one room message's copies, paced, once the room's earlier ones have gone:
        the readers side by side, so the message takes one round trip to reach the room,
        not one per member. Each reader's first copy (in the readers' order), then each
        one's second (a photo after its line): the calls start in a fixed order, however
        the pacing falls."""
        await self._wait_turn(room_id, seq)
        results: list[object] = []
        try:
            for round_ in range(max((len(copies) for copies in readers), default=0)):
                sending: list[asyncio.Task[list[object]]] = []
                for copies in readers:
                    if round_ < len(copies):
                        await self._pace()
                        sending.append(asyncio.ensure_future(send([copies[round_]])))
                for sent in await asyncio.gather(*sending):
                    results += sent
        finally:
            self._done(room_id, seq)
        return results

    async def _wait_turn(self, room_id: int, seq: int) -> None:
        self._on_the_way[room_id].add(seq)

        def earlier_gone() -> bool:
            return not any(other < seq for other in self._on_the_way.get(room_id, ()))

        # an earlier message whose transaction did not commit is waited for no longer
        async with self._turn:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._turn.wait_for(earlier_gone), self.patience)

    def _refill(self) -> None:
        now = self.clock()
        earned = (now - self._at) * self._rate(now)
        self._tokens = min(self.per_second, self._tokens + earned)
        self._at = now

    async def _pace(self) -> None:
        async with self._pacing:
            while True:
                self._refill()
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self._rate(self.clock()))
