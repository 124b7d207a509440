"""Webhook delivery: POST each queued update to the bot's URL until it answers 2xx.

Up to ``max_connections`` updates are on their way at once (setWebhook's setting, 40 by
default, as on Telegram), but never two from the same person: a person's next update
waits until the previous one was answered, so each person's updates arrive in order
(Telegram documents only the connection limit; this is the sandbox's assumption, and what
a bot behind several workers needs). A failed delivery is retried with growing pauses,
holding back only that person's later updates, and reported by getWebhookInfo, as
Telegram reports it. Telegram also runs a method the webhook puts in its answer
({"method": "sendMessage", ...}); so does the sandbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bot.sandbox.errors import BotAPIError, bad_request
from bot.sandbox.updates import UpdateQueue

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
MAX_PEEK = 1000  # how far down the queue to look for people with nothing in flight

MethodRunner = Callable[[str, dict[str, Any]], Awaitable[None]]


class WebhookSender:
    def __init__(
        self,
        queue: UpdateQueue,
        run_method: MethodRunner,
        first_retry_delay: float = 0.1,
        max_retry_delay: float = 5.0,
    ) -> None:
        self._queue = queue
        self._run_method = run_method
        self._first_retry_delay = first_retry_delay
        self._max_retry_delay = max_retry_delay
        self.url = ""
        self.secret_token: str | None = None
        self.max_connections = 40
        self.ip_address: str | None = None
        self.last_error_date: int | None = None
        self.last_error_message: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    @property
    def active(self) -> bool:
        return bool(self.url)

    def set(
        self,
        url: str,
        secret_token: str | None,
        max_connections: int | None,
        ip_address: str | None,
    ) -> None:
        if not url:
            self.delete()
            return
        parts = urlsplit(url)
        try:
            valid = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
        except ValueError:
            valid = False
        if not valid:
            raise bad_request("bad webhook: invalid webhook URL specified")
        if parts.hostname not in LOOPBACK_HOSTS:
            raise bad_request(
                "bad webhook: the sandbox delivers only to this computer "
                "(127.0.0.1, localhost or ::1)"
            )
        if secret_token is not None and not _SECRET.fullmatch(secret_token):
            raise bad_request("secret token contains unallowed characters")
        if max_connections is not None and not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: max_connections must be between 1 and 100")
        self.url = url
        self.secret_token = secret_token
        self.max_connections = max_connections or 40
        self.ip_address = ip_address
        self.last_error_date = self.last_error_message = None
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._deliver_forever())
        self._queue.interrupt()

    def delete(self) -> None:
        self.url = ""
        self.secret_token = None
        self._queue.interrupt()

    def info(self) -> dict[str, Any]:
        """getWebhookInfo's WebhookInfo."""
        info: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": self._queue.pending_count,
        }
        if self.active:
            info["max_connections"] = self.max_connections
            if self.ip_address:
                info["ip_address"] = self.ip_address
            if self._queue.allowed_updates is not None:
                info["allowed_updates"] = self._queue.allowed_updates
        if self.last_error_date is not None:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message
        return info

    async def close(self) -> None:
        self.url = ""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _deliver_forever(self) -> None:
        delays: dict[int, float] = {}  # update id → pause before its next attempt
        retry_at: dict[int, float] = {}
        flying: dict[asyncio.Task[bool], dict[str, Any]] = {}
        try:
            while self.active:
                now = time.monotonic()
                busy = {_sender(update) for update in flying.values()}
                for update in self._queue.peek(MAX_PEEK):
                    if len(flying) >= self.max_connections:
                        break
                    key = _sender(update)
                    if key in busy:
                        continue
                    busy.add(key)  # a person's later updates wait for this one
                    if retry_at.get(update["update_id"], 0.0) > now:
                        continue
                    flying[asyncio.create_task(self._deliver(update))] = update
                waits = [t for t in retry_at.values() if t > now]
                timeout = min(waits) - now if waits else 30.0
                arrival = asyncio.create_task(self._queue.wait(timeout))
                await asyncio.wait({arrival, *flying}, return_when=asyncio.FIRST_COMPLETED)
                arrival.cancel()
                for task in [t for t in flying if t.done()]:
                    update = flying.pop(task)
                    update_id = update["update_id"]
                    if task.result():
                        self._queue.remove(update_id)
                        delays.pop(update_id, None)
                        retry_at.pop(update_id, None)
                    else:
                        delay = delays.get(update_id, self._first_retry_delay)
                        retry_at[update_id] = time.monotonic() + delay
                        delays[update_id] = min(delay * 2, self._max_retry_delay)
        finally:
            for task in flying:
                task.cancel()

    async def _deliver(self, update: dict[str, Any]) -> bool:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        headers = {SECRET_HEADER: self.secret_token} if self.secret_token else {}
        try:
            async with self._session.post(self.url, json=update, headers=headers) as response:
                if not 200 <= response.status < 300:
                    self._failed(f"Wrong response from the webhook: {response.status}")
                    return False
                reply = await _reply_method(response)
        except (aiohttp.ClientError, TimeoutError) as error:
            self._failed(_describe(error))
            return False
        if reply is not None:
            await self._run_reply(reply)
        return True

    async def _run_reply(self, reply: dict[str, Any]) -> None:
        method = reply.pop("method")
        try:
            await self._run_method(str(method), reply)
        except BotAPIError as error:
            log.info("method in a webhook reply failed: %s", error.error_code)

    def _failed(self, message: str) -> None:
        self.last_error_date = int(time.time())
        self.last_error_message = message


async def _reply_method(response: aiohttp.ClientResponse) -> dict[str, Any] | None:
    if response.content_type != "application/json":
        return None
    try:
        body = await response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("method"), str):
        return body
    return None


def _sender(update: dict[str, Any]) -> int:
    """Whose update it is (updates without a person each stand alone)."""
    for payload in update.values():
        if isinstance(payload, dict):
            person = payload.get("from") or payload.get("chat") or {}
            if "id" in person:
                return int(person["id"])
    return -int(update["update_id"])


def _describe(error: Exception) -> str:
    if isinstance(error, TimeoutError):
        return "Read timeout expired"
    if isinstance(error, aiohttp.ClientConnectorError):
        return "Connection refused"
    return f"Connection error: {type(error).__name__}"
