"""A local Telegram Bot API server with simulated people: the sandbox.

The unmodified python-telegram-bot client talks to it over HTTP exactly as to Telegram::

    sandbox = SandboxBotAPI()
    port = await sandbox.start()
    app = (
        ApplicationBuilder()
        .token(sandbox.token)
        .base_url(sandbox.base_url)
        .base_file_url(sandbox.base_file_url)
        .build()
    )

Tests and the web page play the people on the other side through the control API
(`create_user`, `user_send_text`, `user_press_button` ...). Nothing leaves this computer:
the server listens on loopback only and delivers webhooks to loopback only.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from aiohttp import web

from bot.sandbox.chats import ChatEntry, Chats, StoredMessage
from bot.sandbox.control import control_routes
from bot.sandbox.errors import BotAPIError, too_many_requests
from bot.sandbox.events import EventHub
from bot.sandbox.faults import Fault, FaultKind, FaultPlan
from bot.sandbox.files import UPLOAD_MAX_BYTES, FileStore
from bot.sandbox.methods import BotMethods
from bot.sandbox.params import Params, read_params
from bot.sandbox.people import People
from bot.sandbox.profile import BotProfile
from bot.sandbox.ratelimit import RateLimits, SendLimiter
from bot.sandbox.updates import UpdateQueue
from bot.sandbox.webchat import loopback_only, page_routes
from bot.sandbox.webhook import WebhookSender

log = logging.getLogger(__name__)

DemoCast = Callable[[], Awaitable[list[dict[str, Any]]]]
UserCreatedHook = Callable[[dict[str, Any]], Awaitable[None]]

_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
_dumps = partial(json.dumps, ensure_ascii=False)


@dataclass(frozen=True)
class RecordedCall:
    """One Bot API call as received. Form values are strings, as the client sent them."""

    method: str
    params: dict[str, Any]
    files: dict[str, str] = field(default_factory=dict)
    status: int = 200
    at: float = 0.0


class SandboxBotAPI:
    """The Bot API server, the simulated people, and what tests need to watch both."""

    def __init__(
        self,
        token: str = "123456:SANDBOX",
        bot_username: str = "tongban_sandbox_bot",
        rate_limits: bool | RateLimits = True,
        *,
        bot_name: str = "Tongban (sandbox)",
        demo_cast: DemoCast | None = None,
        on_user_created: UserCreatedHook | None = None,
        first_user_id: int = 1_000_001,
    ) -> None:
        if not _TOKEN.fullmatch(token):
            raise ValueError("a bot token looks like 123456:ABC-def_ghi")
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":")[0]),
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self.demo_cast = demo_cast
        self.on_user_created = on_user_created
        self.calls: list[RecordedCall] = []
        self.events = EventHub()
        self.files = FileStore()
        self.updates = UpdateQueue()
        self.chats = Chats(self.bot_user, self.events, first_user_id)
        self.profile = BotProfile(bot_name)
        self.people = People(self.chats, self.files, self.updates)
        self.faults = FaultPlan()
        self.webhook = WebhookSender(self.updates, self._run_webhook_reply)
        limits = RateLimits() if rate_limits is True else rate_limits or None
        self.methods = BotMethods(
            chats=self.chats,
            files=self.files,
            updates=self.updates,
            webhook=self.webhook,
            profile=self.profile,
            limiter=SendLimiter(limits) if limits else None,
            events=self.events,
        )
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port = 0
        self._seen: dict[int, int] = {}

    # --- the server ---

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen on a loopback address; returns the port (a free one when port is 0)."""
        if self._runner is not None:
            raise RuntimeError("the sandbox is already running")
        address = "127.0.0.1" if host == "localhost" else host
        if not _is_loopback(address):
            raise ValueError("the sandbox listens only on this computer (127.0.0.1 or ::1)")
        app = web.Application(client_max_size=UPLOAD_MAX_BYTES + 1024 * 1024)
        app.middlewares.append(loopback_only)
        app.router.add_route("*", "/bot{token}/{method}", self._bot_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        app.router.add_routes(control_routes(self))
        app.router.add_routes(page_routes())
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((address, port))
        except OSError:
            sock.close()
            raise
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        await web.SockSite(runner, sock).start()
        self.updates.open()
        self._runner = runner
        self._host = f"[{address}]" if family == socket.AF_INET6 else address
        self._port = int(sock.getsockname()[1])
        return self._port

    async def stop(self) -> None:
        """Stop webhooks, answer waiting long polls, end live pages, close the port."""
        await self.webhook.close()
        self.updates.close()
        self.events.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> SandboxBotAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def page_url(self) -> str:
        """The web chat, e.g. http://127.0.0.1:8081/."""
        return f"http://{self._host}:{self._port}/"

    @property
    def base_url(self) -> str:
        """For ApplicationBuilder().base_url()."""
        return f"http://{self._host}:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ApplicationBuilder().base_file_url()."""
        return f"http://{self._host}:{self._port}/file/bot"

    # --- tests' view of the bot's side ---

    def inject_faults(
        self,
        kind: FaultKind,
        count: int,
        retry_after: int = 1,
        methods: set[str] | None = None,
    ) -> None:
        """The next `count` calls (to `methods`, or any) fail: see `faults.Fault`."""
        self.faults.add(Fault(kind, count, retry_after, methods))

    def calls_to(self, method: str) -> list[RecordedCall]:
        return [call for call in self.calls if call.method.lower() == method.lower()]

    def clear_calls(self) -> None:
        self.calls.clear()

    @property
    def pending_updates(self) -> int:
        return self.updates.pending_count

    def webhook_info(self) -> dict[str, Any]:
        return self.webhook.info()

    def callback_answer(self, query_id: str) -> dict[str, Any] | None:
        """How the bot answered a button press (text, show_alert, url), if it did."""
        query = self.chats.queries.get(query_id)
        return query.answer if query is not None else None

    def visible_commands(self, user_id: int) -> list[dict[str, str]]:
        """The command menu this person's Telegram app would show."""
        person = self.chats.person(user_id)
        return self.profile.commands_for(person.id, person.language_code)

    # --- the people's side ---

    async def create_user(
        self,
        first_name: str,
        language_code: str = "en",
        username: str | None = None,
        *,
        last_name: str | None = None,
        role: str = "",
    ) -> dict[str, Any]:
        """A new simulated person; their private chat id is their user id."""
        person = self.chats.add_person(first_name, language_code, username, last_name, role)
        user = person.to_json()
        if self.on_user_created is not None:
            await self.on_user_created(user)
        return user

    def users(self) -> list[dict[str, Any]]:
        return [person.to_json() for person in self.chats.people()]

    async def user_send_text(
        self, user_id: int, text: str, *, reply_to: int | None = None
    ) -> ChatEntry:
        """The person sends text; "/start CODE" arrives as a command, as on Telegram."""
        return self._entry(user_id, self.people.send_text(user_id, text, reply_to))

    async def user_send_photo(
        self, user_id: int, data: bytes | None = None, *, caption: str | None = None
    ) -> ChatEntry:
        """A photo (a small sample image unless `data` is given)."""
        stored = self.people.send_photo(user_id, data, caption)
        return self._entry(user_id, stored)

    async def user_send_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> ChatEntry:
        stored = self.people.send_document(user_id, data, file_name, mime_type, caption)
        return self._entry(user_id, stored)

    async def user_send_sticker(self, user_id: int, emoji: str = "🙂") -> ChatEntry:
        return self._entry(user_id, self.people.send_sticker(user_id, emoji))

    async def user_send_voice(self, user_id: int, duration: int = 3) -> ChatEntry:
        return self._entry(user_id, self.people.send_voice(user_id, duration))

    async def user_edit_message(self, user_id: int, message_id: int, text: str) -> ChatEntry:
        """The person edits their own text message: an edited_message update."""
        return self._entry(user_id, self.people.edit_text(user_id, message_id, text))

    async def user_press_button(self, user_id: int, message_id: int, callback_data: str) -> str:
        """Press an inline button on the bot's message; returns the callback query id."""
        return self.people.press_button(user_id, message_id, callback_data)

    async def user_send_callback(self, user_id: int, message_id: int, data: str) -> str:
        """A callback query with any data at all, as a forged client could send."""
        return self.people.send_callback(user_id, message_id, data)

    async def user_press_reply_button(self, user_id: int, text: str) -> ChatEntry:
        """Press a button of the reply keyboard the bot is showing this person."""
        return self._entry(user_id, self.people.press_reply_button(user_id, text))

    async def block(self, user_id: int) -> None:
        """The person blocks the bot: sends to them fail with 403 from now on."""
        self.people.block(user_id)

    async def unblock(self, user_id: int) -> None:
        self.people.unblock(user_id)

    def chat_history(self, chat_id: int) -> list[ChatEntry]:
        """Every message of the chat in order, edits applied, deleted ones marked."""
        return self.chats.history(chat_id)

    def bot_messages(self, chat_id: int) -> list[ChatEntry]:
        """What the bot sent to this chat and has not deleted."""
        return [e for e in self.chat_history(chat_id) if e.from_bot and not e.deleted]

    async def wait_for_messages(
        self,
        chat_id: int,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - tests read better with a plain timeout
    ) -> list[ChatEntry]:
        """The next `count` messages the bot sends to the chat, each returned only once.

        Raises TimeoutError if fewer arrive within `timeout` seconds.
        """
        seen = self._seen.get(chat_id, 0)

        def fresh() -> list[ChatEntry]:
            return [e for e in self.chat_history(chat_id) if e.from_bot and e.message_id > seen]

        try:
            await self.events.wait_until(lambda: len(fresh()) >= count, timeout)
        except TimeoutError:
            got = len(fresh())
            raise TimeoutError(
                f"the bot sent {got} of {count} expected messages to chat {chat_id} "
                f"within {timeout} s"
            ) from None
        entries = fresh()[:count]
        self._seen[chat_id] = entries[-1].message_id
        return entries

    async def wait_until(
        self,
        condition: Callable[[], bool],
        timeout: float = 5.0,  # noqa: ASYNC109 - same reason as wait_for_messages
    ) -> None:
        """Until `condition()` is true after some change (a message, an edit, an answer)."""
        await self.events.wait_until(condition, timeout)

    def _entry(self, chat_id: int, stored: StoredMessage) -> ChatEntry:
        return self.chats.entry(self.chats.chat(chat_id), stored)

    # --- HTTP ---

    async def _bot_api(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        if token != self.token:
            if _TOKEN.fullmatch(token):
                return _error(BotAPIError(401, "Unauthorized"))
            return _error(BotAPIError(404, "Not Found"))
        found = self.methods.find(request.match_info["method"])
        if found is None:
            # Recorded, so a test can see which real method the sandbox lacks.
            self._record(request.match_info["method"], Params({}), 404)
            return _error(BotAPIError(404, "Not Found: method not found"))
        name, handler = found
        if request.method == "GET" and not name.startswith("get"):
            # Telegram takes GET for every method; here a method that changes something must
            # be POSTed, so no link or image on a web page can send as the bot.
            self._record(name, Params({}), 405)
            return _error(BotAPIError(405, "Method Not Allowed: use POST for this method"))
        try:
            params = await read_params(request)
        except BotAPIError as refused:
            self._record(name, Params({}), refused.error_code)
            return _error(refused)
        fault = self.faults.take(name)
        if fault is not None and fault.kind == "drop":
            self._record(name, params, 0)
            return _drop(request)
        if fault is not None and fault.kind != "drop_after":
            injected = (
                too_many_requests(fault.retry_after)
                if fault.kind == "429"
                else BotAPIError(500, "Internal Server Error")
            )
            self._record(name, params, injected.error_code)
            return _error(injected)
        body, status = await self._run(name, handler, params)
        self._record(name, params, 0 if fault else status)
        return _drop(request) if fault else _answer(body, status)

    async def _run(
        self, name: str, handler: Callable[[Params], Awaitable[Any]], params: Params
    ) -> tuple[dict[str, Any], int]:
        try:
            return {"ok": True, "result": await handler(params)}, 200
        except BotAPIError as error:
            return error.to_json(), error.error_code
        except Exception:
            log.exception("sandbox Bot API method %s failed", name)
            return BotAPIError(500, "Internal Server Error").to_json(), 500

    async def _run_webhook_reply(self, method: str, values: dict[str, Any]) -> None:
        found = self.methods.find(method)
        if found is None:
            return
        name, handler = found
        params = Params(values)
        _, status = await self._run(name, handler, params)
        self._record(name, params, status)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        stored = self.files.by_path(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None:
            return _error(BotAPIError(404, "Not Found"))
        return web.Response(body=stored.data, content_type=stored.mime_type)

    def _record(self, method: str, params: Params, status: int) -> None:
        files = {name: part.filename for name, part in params.files.items()}
        self.calls.append(RecordedCall(method, dict(params.values), files, status, time.time()))


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def _answer(body: dict[str, Any], status: int) -> web.Response:
    return web.json_response(body, status=status, dumps=_dumps)


def _error(error: BotAPIError) -> web.Response:
    return _answer(error.to_json(), error.error_code)


def _drop(request: web.Request) -> web.Response:
    """Close the connection without an answer, as a network failure would."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response()
