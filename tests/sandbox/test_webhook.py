"""Webhook mode: the sandbox POSTs updates to a receiver on this computer."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from telegram.error import BadRequest, Conflict

from bot.sandbox import SandboxBotAPI
from tests.sandbox.echo_bot import add_echo_handlers, builder_for

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class Receiver:
    """A webhook endpoint that records what arrives and answers with planned statuses."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, Any], str | None]] = []
        self.statuses: list[int] = []
        self.reply: dict[str, Any] | None = None
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._arrived = asyncio.Condition()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", free_port())
        await site.start()
        self.url = site.name + "/hook"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_for(self, count: int, seconds: float = 3.0) -> None:
        async with asyncio.timeout(seconds), self._arrived:
            await self._arrived.wait_for(lambda: len(self.received) >= count)

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.json(), request.headers.get(SECRET_HEADER)))
        async with self._arrived:
            self._arrived.notify_all()
        status = self.statuses.pop(0) if self.statuses else 200
        if status == 200 and self.reply is not None:
            return web.json_response(self.reply)
        return web.Response(status=status)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    hook = Receiver()
    await hook.start()
    try:
        yield hook
    finally:
        await hook.stop()


async def test_updates_are_posted_with_the_secret_header(
    sandbox: SandboxBotAPI, receiver: Receiver
) -> None:
    person = await sandbox.create_user("Ana", "en")
    async with builder_for(sandbox).build().bot as bot:
        await bot.set_webhook(receiver.url, secret_token="s3cret-token_1")
        await sandbox.user_send_text(person["id"], "hello")
        await receiver.wait_for(1)
        info = await bot.get_webhook_info()
        with pytest.raises(Conflict, match=r"(?i)webhook is active"):
            await bot.get_updates()

    update, secret = receiver.received[0]
    assert secret == "s3cret-token_1"
    assert update["message"]["text"] == "hello"
    assert info.url == receiver.url
    assert info.pending_update_count == 0


async def test_a_failed_delivery_is_retried_until_it_succeeds(
    sandbox: SandboxBotAPI, receiver: Receiver
) -> None:
    person = await sandbox.create_user("Ana", "en")
    receiver.statuses = [500, 502]
    async with builder_for(sandbox).build().bot as bot:
        await bot.set_webhook(receiver.url)
        await sandbox.user_send_text(person["id"], "first")
        await sandbox.user_send_text(person["id"], "second")
        await receiver.wait_for(4)
        info = await bot.get_webhook_info()

    texts = [update["message"]["text"] for update, _ in receiver.received]
    assert texts == ["first", "first", "first", "second"]
    assert info.last_error_message == "Wrong response from the webhook: 502"
    assert info.pending_update_count == 0


async def test_webhooks_go_only_to_this_computer(sandbox: SandboxBotAPI) -> None:
    async with builder_for(sandbox).build().bot as bot:
        with pytest.raises(BadRequest, match=r"(?i)only to this computer"):
            await bot.set_webhook("https://bot.example.org/hook")
        assert (await bot.get_webhook_info()).url == ""


async def test_delete_webhook_can_drop_pending_updates(
    sandbox: SandboxBotAPI, receiver: Receiver
) -> None:
    person = await sandbox.create_user("Ana", "en")
    receiver.statuses = [500] * 100
    async with builder_for(sandbox).build().bot as bot:
        await bot.set_webhook(receiver.url)
        await sandbox.user_send_text(person["id"], "stuck")
        await receiver.wait_for(1)
        await bot.delete_webhook(drop_pending_updates=True)
        assert sandbox.pending_updates == 0
        assert await bot.get_updates() == ()


async def test_a_method_in_the_webhook_answer_is_run(
    sandbox: SandboxBotAPI, receiver: Receiver
) -> None:
    person = await sandbox.create_user("Ana", "en")
    receiver.reply = {"method": "sendMessage", "chat_id": person["id"], "text": "from the reply"}
    async with builder_for(sandbox).build().bot as bot:
        await bot.set_webhook(receiver.url)
        await sandbox.user_send_text(person["id"], "hi")
        [reply] = await sandbox.wait_for_messages(person["id"], timeout=3)
    assert reply.text == "from the reply"


async def test_the_echo_bot_works_in_webhook_mode(sandbox: SandboxBotAPI) -> None:
    port = free_port()
    app = builder_for(sandbox).build()
    add_echo_handlers(app)
    person = await sandbox.create_user("Ana", "en")
    async with app:
        assert app.updater is not None
        await app.updater.start_webhook(
            listen="127.0.0.1",
            port=port,
            url_path="hook",
            webhook_url=f"http://127.0.0.1:{port}/hook",
            secret_token="team-secret",
        )
        await app.start()
        try:
            await sandbox.user_send_text(person["id"], "over the webhook")
            [reply] = await sandbox.wait_for_messages(person["id"], timeout=3)
        finally:
            await app.updater.stop()
            await app.stop()
    assert reply.text == "echo: over the webhook"
    assert sandbox.webhook_info()["url"] == f"http://127.0.0.1:{port}/hook"
