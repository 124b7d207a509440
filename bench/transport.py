"""A lean in-memory Bot API transport for the in-process benchmarks.

Like ``tests/fake_botapi.py`` it answers as Telegram would, but it keeps counts instead of
every call, so that recording does not grow with the run or dominate what is measured.
It still encodes each request's parameters as the real HTTP transport does, so the
serialisation cost of every Bot API call is part of the measurement.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_USER = {
    "id": 7000001,
    "is_bot": True,
    "first_name": "Tongban",
    "username": "tongban_bench_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_TRUE = b'{"ok":true,"result":true}'
_ME = json.dumps({"ok": True, "result": BOT_USER}).encode()
_SENDS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "copyMessage"})
_CHAT_METHODS = frozenset({*_SENDS, "editMessageText", "editMessageReplyMarkup"})


class LeanBotAPI(BaseRequest):
    """Counts calls per method (and per chat for messages); never fails."""

    def __init__(self) -> None:
        self.methods: Counter[str] = Counter()
        self.per_chat: Counter[int] = Counter()
        self._ids = itertools.count(1000)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    def reset(self) -> None:
        self.methods.clear()
        self.per_chat.clear()

    @property
    def messages_sent(self) -> int:
        return sum(self.methods[m] for m in _SENDS)

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        self.methods[name] += 1
        if name == "getMe":
            return 200, _ME
        if request_data is None or name not in _CHAT_METHODS:
            if request_data is not None:
                request_data.json_payload  # noqa: B018 - encoded as the HTTP transport would
            return 200, _TRUE
        request_data.json_payload  # noqa: B018
        params = request_data.parameters
        chat_id = int(params["chat_id"])  # type: ignore[arg-type]
        self.per_chat[chat_id] += 1
        if name.startswith("edit"):
            return 200, _TRUE
        message = {
            "message_id": next(self._ids),
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
            "text": str(params.get("text", "")),
        }
        return 200, json.dumps({"ok": True, "result": message}).encode()
