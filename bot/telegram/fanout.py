"""Room copies: after everything else, and each room's messages in the room's order.

A room of 15 people turns one message into 14 copies; Telegram allows about 30 messages a
second in all (PTB's ``AIORateLimiter`` paces every call to that, first come first served).
Left to itself a busy room would fill that queue and a crisis reply or a check-in question
would wait behind its copies. So copies do not go out the moment they are made:

- they draw on their own budget (``per_second``, a token bucket with a burst of the same
  size), and every other message the process sends is taken out of that same budget
  first (``others_sent``). Crisis replies and one-to-one chats never wait for a room; a
  room slows down, down to a stop, while other traffic uses the budget, and speeds up
  again when it does not.
- each room's messages go out in the order the room numbered them (``seq``, taken under
  the room row's lock, so in commit order): a message waits until every earlier message of
  the same room this process is sending has gone (``expect`` marks one as on its way while
  its transaction holds the lock). A message whose transaction never committed is waited
  for at most ``patience`` seconds.

One process's view: with several bot processes each paces its own copies (as each paces
its own calls), and order across processes holds per sender, not across senders.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


class RoomFanout:
    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        patience: float = 5.0,
    ) -> None:
        self.per_second = per_second
        self.clock = clock
        self.patience = patience
        self._tokens = per_second
        self._at = clock()
        self._pacing = asyncio.Lock()
        self._on_the_way: dict[int, set[int]] = defaultdict(set)
        self._turn = asyncio.Condition()

    def expect(self, room_id: int, seq: int) -> None:
        """Message ``seq`` of the room is being written: later ones wait for it."""
        self._on_the_way[room_id].add(seq)

    def others_sent(self, count: int) -> None:
        """Other messages went out: they come out of the rooms' budget first."""
        if count:
            self._refill()
            self._tokens = max(self._tokens - count, -self.per_second)

    async def deliver(
        self,
        room_id: int,
        seq: int,
        requests: Sequence[T],
        send: Callable[[Sequence[T]], Awaitable[list[object]]],
    ) -> list[object]:
        """Send one room message's copies, paced, once the room's earlier ones have gone."""
        await self._wait_turn(room_id, seq)
        results: list[object] = []
        try:
            for request in requests:
                await self._pace()
                results += await send([request])
        finally:
            self._on_the_way[room_id].discard(seq)
            if not self._on_the_way[room_id]:
                del self._on_the_way[room_id]
            async with self._turn:
                self._turn.notify_all()
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
        self._tokens = min(self.per_second, self._tokens + (now - self._at) * self.per_second)
        self._at = now

    async def _pace(self) -> None:
        async with self._pacing:
            while True:
                self._refill()
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.per_second)
