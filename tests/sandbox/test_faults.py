"""Injected failures: 429, 500 and dropped connections, and how the client copes."""

from __future__ import annotations

import aiohttp
import pytest
from telegram import Bot
from telegram.error import NetworkError, RetryAfter
from telegram.ext import AIORateLimiter

from bot.sandbox import SandboxBotAPI
from bot.sandbox.faults import FaultKind
from tests.sandbox.echo_bot import builder_for

# PTB itself reads the deprecated RetryAfter.retry_after whenever it raises RetryAfter.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


async def test_injected_429_carries_retry_after(
    sandbox: SandboxBotAPI, bot: Bot, chat_id: int
) -> None:
    sandbox.inject_faults("429", 1, retry_after=7, methods={"sendMessage"})
    await bot.get_me()  # other methods are not affected
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(chat_id, "hello")
    assert "Retry in 7 seconds" in str(refused.value)
    await bot.send_message(chat_id, "hello again")
    assert [e.text for e in sandbox.bot_messages(chat_id)] == ["hello again"]


async def test_ptb_rate_limiter_rides_out_an_injected_429(
    sandbox: SandboxBotAPI, chat_id: int
) -> None:
    sandbox.inject_faults("429", 1, retry_after=1, methods={"sendMessage"})
    app = builder_for(sandbox).rate_limiter(AIORateLimiter(max_retries=1)).build()
    async with app:
        await app.bot.send_message(chat_id, "eventually")
    assert [c.status for c in sandbox.calls_to("sendMessage")] == [429, 200]


async def test_injected_500_is_a_network_error(
    sandbox: SandboxBotAPI, bot: Bot, chat_id: int
) -> None:
    sandbox.inject_faults("500", 2, methods={"sendMessage"})
    for _ in range(2):
        with pytest.raises(NetworkError, match=r"(?i)Internal Server Error"):
            await bot.send_message(chat_id, "hello")
    await bot.send_message(chat_id, "third time")
    assert [e.text for e in sandbox.bot_messages(chat_id)] == ["third time"]


# "drop" closes the connection before the call is made, "drop_after" after it was made.
@pytest.mark.parametrize(
    ("kind", "text", "kept"),
    [
        ("drop", "lost", []),
        ("drop_after", "delivered but unconfirmed", ["delivered but unconfirmed"]),
    ],
    ids=["drop", "drop_after"],
)
async def test_a_dropped_connection_is_a_network_error(
    sandbox: SandboxBotAPI, bot: Bot, chat_id: int, kind: FaultKind, text: str, kept: list[str]
) -> None:
    sandbox.inject_faults(kind, 1, methods={"sendMessage"})
    with pytest.raises(NetworkError):
        await bot.send_message(chat_id, text)
    assert [e.text for e in sandbox.bot_messages(chat_id)] == kept
    assert sandbox.calls_to("sendMessage")[-1].status == 0, "no answer came back"


async def test_polling_survives_injected_faults(sandbox: SandboxBotAPI, echo_bot: object) -> None:
    sandbox.inject_faults("500", 1, methods={"getUpdates"})
    sandbox.inject_faults("drop", 1, methods={"sendMessage"})
    sandbox.inject_faults("429", 1, methods={"sendMessage"})
    person = await sandbox.create_user("Ana", "en")
    await sandbox.user_send_text(person["id"], "first")
    await sandbox.user_send_text(person["id"], "second")
    await sandbox.user_send_text(person["id"], "third")
    [reply] = await sandbox.wait_for_messages(person["id"], 1, timeout=5)
    assert reply.text == "echo: third"  # the first two replies failed; the bot moved on


async def test_faults_over_the_control_api(sandbox: SandboxBotAPI, bot: Bot) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"{sandbox.page_url}sandbox/api/faults"
        async with http.post(url, json={"kind": "500", "count": 1, "methods": ["getMe"]}) as r:
            assert (await r.json()) == {"ok": True, "result": True}
        async with http.post(url, json={"kind": "teapot", "count": 1}) as r:
            assert r.status == 400
        async with http.get(url) as r:
            [pending] = (await r.json())["result"]
    assert pending == {"kind": "500", "remaining": 1, "retry_after": 1, "methods": ["getme"]}
    with pytest.raises(NetworkError):
        await bot.get_me()
