"""A fake Bot API transport for in-process tests: records every call, answers like Telegram."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
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


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class FakeBotAPI(BaseRequest):
    """Answers Bot API methods in memory. ``blocked`` chats get 403 as on Telegram."""

    calls: list[Call] = field(default_factory=list)
    blocked: set[int] = field(default_factory=set)
    down: bool = False
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    messages: dict[tuple[int, int], dict[str, Any]] = field(default_factory=dict)

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
        params = dict(request_data.json_parameters) if request_data else {}
        decoded = {k: _maybe_json(v) for k, v in params.items()}
        files = request_data.multipart_data if request_data is not None else {}
        for key, value in list(decoded.items()):
            if isinstance(value, str) and value.startswith("attach://"):
                # an uploaded file: (file name, content, mime type) under its part name
                decoded[key] = files[value.removeprefix("attach://")][1]
        for part, (_filename, content, _mime) in files.items():
            decoded.setdefault(part, content)
        self.calls.append(Call(name, decoded))
        chat_id = decoded.get("chat_id")
        if chat_id is not None and int(chat_id) in self.blocked:
            return 403, _error(403, "Forbidden: bot was blocked by the user")
        result = self._answer(name, decoded)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _answer(self, name: str, params: dict[str, Any]) -> Any:
        if name == "getMe":
            return BOT_USER
        if name in ("sendMessage", "sendPhoto", "sendDocument", "copyMessage"):
            chat_id = int(params["chat_id"])
            message = {
                "message_id": next(self._ids),
                "date": 1_700_000_000,
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
            if "inline_keyboard" in (params.get("reply_markup") or {}):
                message["reply_markup"] = params["reply_markup"]
            self.messages[(chat_id, message["message_id"])] = message
            return message if name != "copyMessage" else {"message_id": message["message_id"]}
        if name == "editMessageText":
            key = (int(params["chat_id"]), int(params["message_id"]))
            message = dict(
                self.messages.get(
                    key,
                    {"message_id": key[1], "date": 0, "chat": {"id": key[0], "type": "private"}},
                )
            )
            message["text"] = params["text"]
            message.pop("reply_markup", None)
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            self.messages[key] = message
            return message
        return True

    # -- what tests look at -------------------------------------------------------------

    def sent_to(self, chat_id: int) -> list[Call]:
        return [c for c in self.calls if str(c.params.get("chat_id")) == str(chat_id)]

    def clear(self) -> None:
        self.calls.clear()


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _error(code: int, description: str) -> bytes:
    return json.dumps({"ok": False, "error_code": code, "description": description}).encode()
