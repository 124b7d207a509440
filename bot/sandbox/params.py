"""Bot API parameters as a client sends them: query string, form, JSON body or multipart.

Telegram accepts every method over GET or POST in any of these encodings. Form and query
values are strings (python-telegram-bot JSON-encodes objects and numbers into them), JSON
bodies carry typed values; `Params` reads both the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from multidict import MultiDictProxy

from bot.sandbox.errors import BotAPIError, bad_request


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


class Params:
    """Typed access to one call's parameters, failing with Telegram's 400 answers."""

    def __init__(self, values: dict[str, Any], files: dict[str, UploadedFile] | None = None):
        self.values = values
        self.files = files or {}

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "") or name in self.files

    def required_str(self, name: str, empty: str | None = None) -> str:
        value = self.optional_str(name)
        if value is None or value == "":
            raise bad_request(empty or f"{name} is empty")
        return value

    def optional_str(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        raise bad_request(f'field "{name}" must be of type String')

    def required_int(self, name: str, empty: str | None = None) -> int:
        value = self.optional_int(name)
        if value is None:
            raise bad_request(empty or f"{name} is empty")
        return value

    def optional_int(self, name: str) -> int | None:
        value = self._given(name)
        if value is None:
            return None
        if isinstance(value, bool):
            raise bad_request(f'field "{name}" must be of type Integer')
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                pass
        raise bad_request(f'field "{name}" must be of type Integer')

    def number(self, name: str, default: float) -> float:
        value = self._given(name)
        if value is None:
            return default
        if isinstance(value, bool):
            raise bad_request(f'field "{name}" must be of type Float')
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Float') from None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self._given(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        if isinstance(value, str) and value.lower() in ("true", "1", "false", "0"):
            return value.lower() in ("true", "1")
        raise bad_request(f'field "{name}" must be of type Boolean')

    def json_object(self, name: str, what: str) -> Any:
        """A JSON-serialized object parameter; `what` names it in the error, as Telegram does."""
        value = self._given(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {what} JSON object") from None
        return value

    def chat_id(self, name: str = "chat_id") -> int | str:
        """A chat id: an integer, or "@username" (which only names public chats)."""
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith("@"):
            return value
        return self.required_int(name)

    def file(self, name: str) -> UploadedFile | str | None:
        """An InputFile parameter: an uploaded part, attach://<part>, a file_id or a URL."""
        if name in self.files:
            return self.files[name]
        value = self.optional_str(name)
        if value is None or value == "":
            return None
        if value.startswith("attach://"):
            part = self.files.get(value.removeprefix("attach://"))
            if part is None:
                raise bad_request(f"{name}: file not found in the request")
            return part
        return value

    def _given(self, name: str) -> Any:
        """The value, or None when it is missing or empty: Telegram reads both as not given."""
        value = self.values.get(name)
        return None if value == "" else value


async def read_params(request: web.Request) -> Params:
    """Collect parameters from the query string and whichever body encoding was used."""
    values: dict[str, Any] = dict(request.query)
    files: dict[str, UploadedFile] = {}
    if not request.body_exists:
        return Params(values)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise bad_request("can't parse JSON request body") from None
        if not isinstance(body, dict):
            raise bad_request("JSON request body must be an object")
        values.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await _read_form(request)
        for key, field in form.items():
            if isinstance(field, web.FileField):
                files[key] = UploadedFile(
                    filename=field.filename,
                    content_type=field.content_type,
                    data=field.file.read(),
                )
            elif isinstance(field, str):
                values[key] = field
            else:
                values[key] = bytes(field).decode("utf-8", errors="replace")
    return Params(values, files)


FormField = str | bytes | bytearray | web.FileField


async def _read_form(request: web.Request) -> MultiDictProxy[FormField]:
    try:
        return await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise BotAPIError(413, "Request Entity Too Large") from None
    except ValueError:
        raise bad_request("can't parse request body") from None
