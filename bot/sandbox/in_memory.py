"""The Bot API answered in memory, for in-process tests and benchmarks.

python-telegram-bot sends every Bot API call through a ``BaseRequest``; this one answers
as Telegram would without a network. The HTTP sandbox (``SandboxBotAPI``) is the same
idea over real HTTP, for the local web chat and the end-to-end tests.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from telegram.request import BaseRequest, RequestData

BOT_ID = 7000001
BOT_USER = {
    "id": BOT_ID,
    "is_bot": True,
    "first_name": "Tongban",
    "username": "tongban_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_SENDS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "copyMessage"})


@dataclass
class Call:
    method: str
    params: dict[str, Any]


class InMemoryBotAPI(BaseRequest):
    """Answers Bot API methods in memory; ``blocked`` chats get 403, as on Telegram.

    Every call is counted, per method and per chat. With ``record`` (the tests) each call
    and each message the bot sent is also kept, so a test can read them; benchmarks turn
    it off so that memory does not grow with the run. Parameters are JSON-encoded as the
    HTTP transport does, so that cost stays part of what a benchmark measures.
    """

    def __init__(self, record: bool = True) -> None:
        self.record = record
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.blocked: set[int] = set()
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
        encoded = request_data.json_parameters if request_data else {}
        params: dict[str, Any] = {
            key: _maybe_json(value) if self.record else value for key, value in encoded.items()
        }
        if self.record:
            files = request_data.multipart_data if request_data is not None else {}
            for key, value in list(params.items()):
                if isinstance(value, str) and value.startswith("attach://"):
                    # an uploaded file: (file name, content, mime type) under its part name
                    params[key] = files[value.removeprefix("attach://")][1]
            for part, (_filename, content, _mime) in files.items():
                params.setdefault(part, content)
            self.calls.append(Call(name, params))
        chat_id = params.get("chat_id")
        if chat_id is not None:
            self.per_chat[int(chat_id)] += 1
            if int(chat_id) in self.blocked:
                return 403, _error(403, "Forbidden: bot was blocked by the user")
        return 200, json.dumps({"ok": True, "result": self._answer(name, params)}).encode()

    def _answer(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return BOT_USER
        if name in _SENDS:
            chat_id = int(params["chat_id"])
            message = {
                "message_id": next(self._ids),
                "date": 1_700_000_000,
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
            if self.record:
                markup = params.get("reply_markup") or {}
                if isinstance(markup, dict) and "inline_keyboard" in markup:
                    message["reply_markup"] = markup
                self.messages[(chat_id, message["message_id"])] = message
            return message if name != "copyMessage" else {"message_id": message["message_id"]}
        if name in ("editMessageText", "editMessageCaption"):
            key = (int(params["chat_id"]), int(params["message_id"]))
            message = dict(
                self.messages.get(
                    key,
                    {"message_id": key[1], "date": 0, "chat": {"id": key[0], "type": "private"}},
                )
            )
            if name == "editMessageCaption":
                message["caption"] = params.get("caption", "")
            else:
                message["text"] = params["text"]
            message.pop("reply_markup", None)
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            if self.record:
                self.messages[key] = message
            return message
        return True

    # -- what tests and benchmarks look at ----------------------------------------------

    @property
    def messages_sent(self) -> int:
        return sum(self.methods[m] for m in _SENDS)

    def sent_to(self, chat_id: int) -> list[Call]:
        return [c for c in self.calls if str(c.params.get("chat_id")) == str(chat_id)]

    def clear(self) -> None:
        """Forget what was recorded and counted (the messages stay, for later edits)."""
        self.calls.clear()
        self.methods.clear()
        self.per_chat.clear()


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _error(code: int, description: str) -> bytes:
    return json.dumps({"ok": False, "error_code": code, "description": description}).encode()
