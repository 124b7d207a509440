"""The control API over HTTP: what the web page (or a script) does as the simulated people.

JSON in and out under /sandbox/api/. Successful calls answer {"ok": true, "result": ...};
refused ones {"ok": false, "error": "..."} with status 400. POST bodies must be JSON,
which a page on another origin cannot send without the browser asking first.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from aiohttp import web

from bot.sandbox.chats import FILE_URL_PREFIX
from bot.sandbox.errors import SandboxError
from bot.sandbox.faults import FAULT_KINDS

if TYPE_CHECKING:
    from bot.sandbox.botapi import SandboxBotAPI

log = logging.getLogger(__name__)

_dumps = partial(json.dumps, ensure_ascii=False)
_INLINE_IMAGES = frozenset({"image/png", "image/jpeg", "image/gif", "image/webp"})
_KEEPALIVE_SECONDS = 15.0

Body = dict[str, Any]
Action = Callable[["SandboxBotAPI", int, Body], Awaitable[Any]]


def control_routes(sandbox: SandboxBotAPI) -> list[web.AbstractRouteDef]:
    control = ControlAPI(sandbox)
    api = "/sandbox/api"
    routes: list[web.AbstractRouteDef] = [
        web.get(f"{api}/state", control.state),
        web.get(f"{api}/events", control.events),
        web.post(f"{api}/users", control.create_user),
        web.get(f"{api}/chats/{{chat_id:-?\\d+}}/history", control.history),
        web.get(f"{api}/calls", control.calls),
        web.delete(f"{api}/calls", control.clear_calls),
        web.get(f"{api}/faults", control.faults),
        web.post(f"{api}/faults", control.inject_faults),
        web.post(f"{api}/demo-cast", control.demo_cast),
        web.get(FILE_URL_PREFIX + "{unique_id}", control.file),
    ]
    for name, action in _PERSON_ACTIONS.items():
        routes.append(web.post(f"{api}/users/{{user_id:\\d+}}/{name}", control.person(action)))
    return routes


class ControlAPI:
    def __init__(self, sandbox: SandboxBotAPI) -> None:
        self._sandbox = sandbox

    async def state(self, request: web.Request) -> web.Response:
        """Everything the page shows, for its first load and after reconnecting."""
        sandbox = self._sandbox
        chats: dict[str, Any] = {}
        for person in sandbox.chats.people():
            chat = sandbox.chats.chat(person.id)
            chats[str(person.id)] = {
                "history": [entry.to_json() for entry in sandbox.chat_history(person.id)],
                **sandbox.chats.chat_state(chat),
                **self._profile_for(person.id),
            }
        return _ok(
            {
                "bot": sandbox.bot_user,
                "people": sandbox.users(),
                "chats": chats,
                "demo_cast": sandbox.demo_cast is not None,
                "pending_updates": sandbox.pending_updates,
                "webhook": sandbox.webhook_info(),
            }
        )

    def _profile_for(self, user_id: int) -> dict[str, Any]:
        sandbox = self._sandbox
        person = sandbox.chats.person(user_id)
        profile = sandbox.profile
        return {
            "commands": sandbox.visible_commands(user_id),
            "menu_button": profile.menu_button(user_id),
            "description": profile.text_for("description", person.language_code),
        }

    async def events(self, request: web.Request) -> web.StreamResponse:
        """Server-sent events: every change, as it happens."""
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-store"}
        )
        await response.prepare(request)
        queue = self._sandbox.events.subscribe()
        try:
            await response.write(b'retry: 1000\ndata: {"type": "hello"}\n\n')
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), _KEEPALIVE_SECONDS)
                except TimeoutError:
                    await response.write(b": keepalive\n\n")
                    continue
                if event is None:
                    break
                if event["type"] in ("person", "profile"):
                    event = self._with_profiles(event)
                await response.write(f"data: {_dumps(event)}\n\n".encode())
        except ConnectionResetError:
            pass
        finally:
            self._sandbox.events.unsubscribe(queue)
        with contextlib.suppress(ConnectionResetError):
            await response.write_eof()
        return response

    def _with_profiles(self, event: dict[str, Any]) -> dict[str, Any]:
        """Commands and descriptions differ per person; send each person's own."""
        return {
            **event,
            "profiles": {
                str(person.id): self._profile_for(person.id)
                for person in self._sandbox.chats.people()
            },
        }

    async def create_user(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        try:
            user = await self._sandbox.create_user(
                _text(body, "first_name"),
                _text(body, "language_code", "en"),
                _optional_text(body, "username"),
                last_name=_optional_text(body, "last_name"),
                role=_text(body, "role", ""),
            )
        except SandboxError as error:
            return _refused(error)
        return _ok(user)

    def person(self, action: Action) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def act(request: web.Request) -> web.Response:
            body = await _json_body(request)
            try:
                result = await action(self._sandbox, int(request.match_info["user_id"]), body)
            except SandboxError as error:
                return _refused(error)
            return _ok(result.to_json() if hasattr(result, "to_json") else result)

        return act

    async def history(self, request: web.Request) -> web.Response:
        try:
            entries = self._sandbox.chat_history(int(request.match_info["chat_id"]))
        except SandboxError as error:
            return _refused(error)
        return _ok([entry.to_json() for entry in entries])

    async def calls(self, request: web.Request) -> web.Response:
        method = request.query.get("method")
        calls = self._sandbox.calls_to(method) if method else self._sandbox.calls
        return _ok(
            [
                {"method": c.method, "params": c.params, "files": c.files, "status": c.status}
                for c in calls
            ]
        )

    async def clear_calls(self, request: web.Request) -> web.Response:
        self._sandbox.clear_calls()
        return _ok(True)

    async def faults(self, request: web.Request) -> web.Response:
        pending = [
            {
                "kind": f.kind,
                "remaining": f.remaining,
                "retry_after": f.retry_after,
                "methods": sorted(f.methods) if f.methods else None,
            }
            for f in self._sandbox.faults.pending
        ]
        return _ok(pending)

    async def inject_faults(self, request: web.Request) -> web.Response:
        body = await _json_body(request)
        kind, methods = body.get("kind"), body.get("methods")
        try:
            if kind not in FAULT_KINDS:
                raise SandboxError(f"kind must be one of {', '.join(FAULT_KINDS)}")
            if methods is not None and not (
                isinstance(methods, list) and all(isinstance(m, str) for m in methods)
            ):
                raise SandboxError("methods must be a list of method names")
            count, retry_after = _number(body, "count", 1), _number(body, "retry_after", 1)
            self._sandbox.inject_faults(kind, count, retry_after, set(methods or ()) or None)
        except (SandboxError, ValueError) as error:
            return _refused(SandboxError(str(error)))
        return _ok(True)

    async def demo_cast(self, request: web.Request) -> web.Response:
        if self._sandbox.demo_cast is None:
            raise web.HTTPNotFound(text="No demo cast is configured for this sandbox.")
        try:
            cast = await self._sandbox.demo_cast()
        except SandboxError as error:
            return _refused(error)
        except Exception:
            log.exception("the demo cast could not be created")
            return _failed("The demo cast could not be created; see the server log.")
        return _ok(cast)

    async def file(self, request: web.Request) -> web.StreamResponse:
        stored = self._sandbox.files.by_unique_id(request.match_info["unique_id"])
        if stored is None:
            raise web.HTTPNotFound()
        headers = {
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, max-age=3600",
        }
        if stored.mime_type not in _INLINE_IMAGES:
            name = quote(stored.file_name or stored.file_path.rsplit("/", 1)[-1])
            headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{name}"
        return web.Response(body=stored.data, content_type=stored.mime_type, headers=headers)


# What a person can do, by URL: POST /sandbox/api/users/<id>/<action>.


async def _send_text(s: SandboxBotAPI, uid: int, body: Body) -> Any:
    reply_to = body.get("reply_to")
    return await s.user_send_text(
        uid, _text(body, "text"), reply_to=reply_to if isinstance(reply_to, int) else None
    )


async def _send_photo(s: SandboxBotAPI, uid: int, body: Body) -> Any:
    data = _bytes(body) if "data_base64" in body else None
    return await s.user_send_photo(uid, data, caption=_optional_text(body, "caption"))


async def _send_document(s: SandboxBotAPI, uid: int, body: Body) -> Any:
    return await s.user_send_document(
        uid,
        _bytes(body),
        _text(body, "file_name"),
        mime_type=_optional_text(body, "mime_type"),
        caption=_optional_text(body, "caption"),
    )


async def _send_sticker(s: SandboxBotAPI, uid: int, body: Body) -> Any:
    return await s.user_send_sticker(uid, _text(body, "emoji", "🙂"))


async def _send_voice(s: SandboxBotAPI, uid: int, body: Body) -> Any:
    return await s.user_send_voice(uid, _number(body, "duration", 3))


async def _edit(s: SandboxBotAPI, uid: int, body: Body) -> Any:
    return await s.user_edit_message(uid, _number(body, "message_id"), _text(body, "text"))


async def _press(s: SandboxBotAPI, uid: int, body: Body) -> Any:
    return await s.user_press_button(uid, _number(body, "message_id"), _text(body, "callback_data"))


async def _callback(s: SandboxBotAPI, uid: int, body: Body) -> Any:
    return await s.user_send_callback(uid, _number(body, "message_id"), _text(body, "data"))


async def _reply_button(s: SandboxBotAPI, uid: int, body: Body) -> Any:
    return await s.user_press_reply_button(uid, _text(body, "text"))


async def _block(s: SandboxBotAPI, uid: int, body: Body) -> Any:
    await s.block(uid)
    return True


async def _unblock(s: SandboxBotAPI, uid: int, body: Body) -> Any:
    await s.unblock(uid)
    return True


_PERSON_ACTIONS: dict[str, Action] = {
    "text": _send_text,
    "photo": _send_photo,
    "document": _send_document,
    "sticker": _send_sticker,
    "voice": _send_voice,
    "edit": _edit,
    "press": _press,
    "callback": _callback,
    "reply-button": _reply_button,
    "block": _block,
    "unblock": _unblock,
}


async def _json_body(request: web.Request) -> Body:
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="Send the request as application/json.")
    try:
        body = await request.json()
    except ValueError:
        raise web.HTTPBadRequest(text="The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="The request body must be a JSON object.")
    return body


def _text(body: Body, name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if not isinstance(value, str):
        raise SandboxError(f"{name} must be text")
    return value


def _optional_text(body: Body, name: str) -> str | None:
    value = body.get(name)
    return value if isinstance(value, str) and value else None


def _number(body: Body, name: str, default: int | None = None) -> int:
    value = body.get(name, default)
    if not isinstance(value, int) or isinstance(value, bool):
        raise SandboxError(f"{name} must be a whole number")
    return value


def _bytes(body: Body) -> bytes:
    try:
        return base64.b64decode(_text(body, "data_base64"), validate=True)
    except (binascii.Error, ValueError):
        raise SandboxError("data_base64 is not valid base64") from None


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result}, dumps=_dumps)


def _refused(error: SandboxError) -> web.Response:
    return web.json_response({"ok": False, "error": str(error)}, status=400, dumps=_dumps)


def _failed(message: str) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=500, dumps=_dumps)
