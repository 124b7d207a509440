"""The aiohttp request class (``bot.telegram.http``) against a small local Bot API stand-in:
what a person would receive arrives intact, and a slow or broken Telegram gives the errors
the outbox retries on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.request import getproxies

import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import NetworkError, TimedOut

from bot.telegram.http import AiohttpRequest, proxy_for

TOKEN = "123456:test-token-for-http"
SLOW_CHAT, BROKEN_CHAT, FAILING_CHAT = 408, 499, 500


class StandIn:
    """Answers sendMessage/sendPhoto like the Bot API and remembers what it was sent."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    @staticmethod
    def _message(chat_id: int) -> dict[str, Any]:
        return {
            "message_id": 7,
            "date": 1_700_000_000,
            "chat": {"id": chat_id, "type": "private"},
        }

    async def handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        if method == "getMe":
            me = {"id": 123456, "is_bot": True, "first_name": "Tongban", "username": "tb_bot"}
            return web.json_response({"ok": True, "result": me})
        form = await request.post()
        fields: dict[str, Any] = {}
        for name, value in form.items():
            fields[name] = value.file.read() if isinstance(value, web.FileField) else value
        chat_id = int(str(fields["chat_id"]))
        if chat_id == SLOW_CHAT:
            await asyncio.sleep(2)
        if chat_id == BROKEN_CHAT:
            assert request.transport is not None
            request.transport.close()
            return web.Response()
        if chat_id == FAILING_CHAT:
            return web.json_response({"ok": False, "description": "Internal"}, status=500)
        self.received.append({"method": method, **fields})
        return web.json_response({"ok": True, "result": self._message(chat_id)})


@pytest.fixture
async def bot() -> AsyncIterator[tuple[Bot, StandIn]]:
    stand_in = StandIn()
    app = web.Application()
    app.router.add_post(f"/bot{TOKEN}/{{method}}", stand_in.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    request = AiohttpRequest(read_timeout=0.5, write_timeout=0.5)
    telegram_bot = Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=request)
    async with telegram_bot:
        yield telegram_bot, stand_in
    await runner.cleanup()


async def test_a_message_with_buttons_arrives_intact(bot: tuple[Bot, StandIn]) -> None:
    telegram_bot, stand_in = bot
    buttons = InlineKeyboardMarkup([[InlineKeyboardButton("✅ 開始簽到", callback_data="x1")]])
    sent = await telegram_bot.send_message(42, "今天心情如何？ 🙂", reply_markup=buttons)
    assert sent.message_id == 7
    [got] = stand_in.received
    assert got["text"] == "今天心情如何？ 🙂"
    markup = json.loads(got["reply_markup"])
    assert markup["inline_keyboard"][0][0] == {"text": "✅ 開始簽到", "callback_data": "x1"}


async def test_a_chart_arrives_as_the_same_bytes(bot: tuple[Bot, StandIn]) -> None:
    telegram_bot, stand_in = bot
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
    await telegram_bot.send_photo(42, InputFile(png, filename="week.png"), caption="这一周")
    [got] = stand_in.received
    assert got["method"] == "sendPhoto"
    assert got["photo"] == png
    assert got["caption"] == "这一周"


async def test_slow_broken_and_failing_telegram_give_errors_the_outbox_retries(
    bot: tuple[Bot, StandIn],
) -> None:
    telegram_bot, stand_in = bot
    with pytest.raises(TimedOut):
        await telegram_bot.send_message(SLOW_CHAT, "hello")
    with pytest.raises(NetworkError):
        await telegram_bot.send_message(BROKEN_CHAT, "hello")
    with pytest.raises(NetworkError):
        await telegram_bot.send_message(FAILING_CHAT, "hello")
    # and the same connection pool still works afterwards
    await telegram_bot.send_message(42, "still here")
    assert [r["text"] for r in stand_in.received] == ["still here"]


async def test_a_proxy_from_the_environment_is_used(
    bot: tuple[Bot, StandIn], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where Telegram is reached through a proxy (HTTPS_PROXY / HTTP_PROXY, as httpx
    honoured them), calls go through it: here the stand-in plays the proxy."""
    telegram_bot, stand_in = bot
    port = telegram_bot.base_url.split(":")[2].split("/")[0]
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    behind = Bot(TOKEN, base_url="http://telegram.invalid/bot", request=AiohttpRequest())
    async with behind:
        await behind.send_message(42, "through the proxy")
    assert [r["text"] for r in stand_in.received] == ["through the proxy"]


async def test_no_proxy_for_the_hosts_no_proxy_names(
    bot: tuple[Bot, StandIn], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A host NO_PROXY lists (or a domain it is in) is reached directly, whatever
    HTTP_PROXY says; the environment is read when the session is made."""
    telegram_bot, stand_in = bot
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.invalid:3128")
    monkeypatch.setenv("NO_PROXY", "example.org, .0.0.1")
    monkeypatch.delenv("no_proxy", raising=False)
    port = telegram_bot.base_url.split(":")[2].split("/")[0]
    direct = Bot(TOKEN, base_url=f"http://127.0.0.1:{port}/bot", request=AiohttpRequest())
    async with direct:
        await direct.send_message(42, "straight there")
    assert [r["text"] for r in stand_in.received] == ["straight there"]
    assert proxy_for("http://api.example.org/bot", getproxies()) is None
    assert proxy_for("http://telegram.invalid/bot", getproxies()) == "http://proxy.invalid:3128"
    monkeypatch.setenv("NO_PROXY", "*")
    assert proxy_for("http://telegram.invalid/bot", getproxies()) is None
