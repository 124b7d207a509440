"""The bot's queue of updates, with Telegram's getUpdates semantics.

An update stays in the queue, and is delivered again, until the bot confirms it by asking
for updates with an offset greater than its update_id (or until a webhook delivers it).
Long polling waits for the first update up to `timeout` seconds; a newer getUpdates call
ends an older one that is still waiting with 409 Conflict, as Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from bot.sandbox.errors import conflict

Update = dict[str, Any]

# Telegram sends every kind but these unless allowed_updates asks for them.
_OPT_IN_KINDS = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
MAX_LIMIT = 100


class UpdateQueue:
    def __init__(self, first_update_id: int = 10_000) -> None:
        self._next_id = first_update_id
        self._pending: list[Update] = []
        self._allowed: frozenset[str] | None = None
        self._arrived = asyncio.Event()
        self._polls = 0
        self._closed = False

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    @property
    def allowed_updates(self) -> list[str] | None:
        return sorted(self._allowed) if self._allowed is not None else None

    def set_allowed(self, kinds: list[str] | None) -> None:
        """allowed_updates as given to getUpdates or setWebhook; [] restores the default."""
        if kinds is None:
            return
        self._allowed = frozenset(kinds) if kinds else None

    def is_allowed(self, kind: str) -> bool:
        if self._allowed is None:
            return kind not in _OPT_IN_KINDS
        return kind in self._allowed

    def push(self, kind: str, payload: dict[str, Any]) -> Update | None:
        """Queue an update; None when the bot's allowed_updates filters it out."""
        if not self.is_allowed(kind):
            return None
        update: Update = {"update_id": self._next_id, kind: payload}
        self._next_id += 1
        self._pending.append(update)
        self._wake()
        return update

    def peek(self, limit: int = MAX_LIMIT) -> list[Update]:
        return self._pending[:limit]

    def confirm(self, offset: int) -> None:
        """Forget updates before `offset`; a negative offset keeps only the last -offset."""
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]

    def remove(self, update_id: int) -> None:
        """Forget one update (a webhook delivered it; others may still be on their way)."""
        self._pending = [u for u in self._pending if u["update_id"] != update_id]

    def drop_pending(self) -> None:
        self._pending.clear()

    async def poll(self, offset: int, limit: int, wait_seconds: float) -> list[Update]:
        """getUpdates: confirm, then answer at once or when the first update arrives."""
        self._polls += 1
        this_poll = self._polls
        self._wake()
        self.confirm(offset)
        limit = min(max(limit, 1), MAX_LIMIT)
        if not self._pending and wait_seconds > 0:
            await self.wait(wait_seconds)
            if self._polls != this_poll:
                raise conflict(
                    "terminated by other getUpdates request; "
                    "make sure that only one bot instance is running"
                )
        return self.peek(limit)

    async def wait(self, seconds: float) -> None:
        """Until an update is queued, another poll starts, the queue closes or time runs out."""
        arrived = self._arrived
        if self._closed:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(arrived.wait(), seconds)

    def interrupt(self) -> None:
        """Wake whoever waits (a newer poll, or a webhook being set)."""
        self._wake()

    def open(self) -> None:
        self._closed = False

    def close(self) -> None:
        """Answer every waiting poll now, and every later one at once."""
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        self._arrived.set()
        self._arrived = asyncio.Event()
