"""Change notifications: live updates for open web pages and waits in tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

Event = dict[str, Any]

_SUBSCRIBER_BACKLOG = 1000


class EventHub:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[Event | None]] = set()
        self._changed = asyncio.Event()

    def publish(self, kind: str, **data: Any) -> None:
        event: Event = {"type": kind, **data}
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                # A page that stopped reading is cut off; it reconnects and reloads the state.
                self._subscribers.discard(queue)
                queue.get_nowait()
                queue.put_nowait(None)
        self._changed.set()
        self._changed = asyncio.Event()

    def subscribe(self) -> asyncio.Queue[Event | None]:
        queue: asyncio.Queue[Event | None] = asyncio.Queue(_SUBSCRIBER_BACKLOG)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[Event | None]) -> None:
        self._subscribers.discard(queue)

    async def wait_until(self, condition: Callable[[], bool], seconds: float) -> None:
        """Return once `condition()` holds; TimeoutError after `seconds`."""
        async with asyncio.timeout(seconds):
            while not condition():
                await self._changed.wait()

    def close(self) -> None:
        """End every live stream."""
        for queue in self._subscribers:
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)
        self._subscribers.clear()
