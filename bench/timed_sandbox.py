"""The project's sandbox Bot API with timestamps, for measuring the bot from outside.

Two moments are taken with ``time.perf_counter`` in the sandbox process:

- *handed*: when ``getUpdates`` returns an update to the bot (the first time only; an
  update stays queued until confirmed, as on Telegram);
- *arrived*: when a Bot API request from the bot reaches the server, before it is handled.

Listeners get both; the server's behaviour is unchanged.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.sandbox import SandboxBotAPI
from bot.sandbox.params import Params

_arrived: contextvars.ContextVar[float] = contextvars.ContextVar("arrived", default=0.0)

CallListener = Callable[[str, dict[str, Any], int, float], None]
HandedListener = Callable[[dict[str, Any], float], None]

TOKEN = "123456789:SANDBOX_bench_token_abcdefgh"


class TimedSandbox(SandboxBotAPI):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(token=TOKEN, **kwargs)
        self.on_call: CallListener | None = None
        self.on_handed: HandedListener | None = None
        self._handed: set[int] = set()
        poll = self.updates.poll

        async def timed_poll(offset: int, limit: int, wait_seconds: float) -> list[Any]:
            updates = await poll(offset, limit, wait_seconds)
            now = time.perf_counter()
            for update in updates:
                if update["update_id"] not in self._handed:
                    self._handed.add(update["update_id"])
                    if self.on_handed is not None:
                        self.on_handed(update, now)
            return updates

        self.updates.poll = timed_poll  # type: ignore[method-assign]

    async def _bot_api(self, request: web.Request) -> web.StreamResponse:
        token = _arrived.set(time.perf_counter())
        try:
            return await super()._bot_api(request)
        finally:
            _arrived.reset(token)

    def _record(self, method: str, params: Params, status: int) -> None:
        super()._record(method, params, status)
        if self.on_call is not None:
            self.on_call(method, params.values, status, _arrived.get())

    def add_people(self, count: int, language_code: str = "en") -> list[int]:
        """``count`` simulated people who have already started the bot; their ids."""
        ids = []
        for n in range(count):
            person = self.chats.add_person(
                f"Client{n}", language_code, username=None, last_name=None, role=""
            )
            person.started = True
            ids.append(person.id)
        return ids

    def chat_of(self, method: str, values: dict[str, Any]) -> int | None:
        """The chat a Bot API call is about (a callback answer is about the presser's chat)."""
        if "chat_id" in values:
            try:
                return int(values["chat_id"])
            except (TypeError, ValueError):
                return None
        query_id = values.get("callback_query_id")
        if query_id is not None:
            query = self.chats.queries.get(str(query_id))
            return query.chat_id if query is not None else None
        return None


def update_chat(update: dict[str, Any]) -> int | None:
    """The private chat an update comes from."""
    for kind in ("message", "edited_message", "callback_query"):
        payload = update.get(kind)
        if payload is not None:
            return int(payload["from"]["id"])
    return None
