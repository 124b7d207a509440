"""Telegram's limits and refusals, as the unmodified client experiences them."""

from __future__ import annotations

import time

import aiohttp
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter
from telegram.ext import AIORateLimiter

from bot.sandbox import RateLimits, SandboxBotAPI
from tests.sandbox.echo_bot import builder_for, started

# PTB itself reads the deprecated RetryAfter.retry_after whenever it raises RetryAfter.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*retry_after.*:telegram.warnings.PTBDeprecationWarning"
)


async def test_text_may_have_4096_characters_not_4097(sandbox: SandboxBotAPI, bot: Bot) -> None:
    chat_id = await started(sandbox)
    await bot.send_message(chat_id, "字" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(chat_id, "字" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(chat_id, "   ")


async def test_length_is_counted_after_parsing_the_markup(sandbox: SandboxBotAPI, bot: Bot) -> None:
    chat_id = await started(sandbox)
    message = await bot.send_message(chat_id, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    assert len(message.text or "") == 4096
    assert message.entities[0].type == "bold"


async def test_markup_telegram_rejects_is_rejected(sandbox: SandboxBotAPI, bot: Bot) -> None:
    chat_id = await started(sandbox)
    with pytest.raises(BadRequest, match=r'(?i)Unsupported start tag "br"'):
        await bot.send_message(chat_id, "line one<br>line two", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match=r"(?i)Character '.' is reserved"):
        await bot.send_message(chat_id, "Take care.", parse_mode=ParseMode.MARKDOWN_V2)
    sent = await bot.send_message(chat_id, "*Take care\\.*", parse_mode=ParseMode.MARKDOWN_V2)
    assert sent.text_html == "<b>Take care.</b>"


async def test_caption_may_have_1024_characters(sandbox: SandboxBotAPI, bot: Bot) -> None:
    chat_id = await started(sandbox)
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_document(chat_id, b"notes", filename="a.txt", caption="x" * 1025)
    await bot.send_document(chat_id, b"notes", filename="a.txt", caption="x" * 1024)


async def test_callback_data_is_limited_to_64_bytes(sandbox: SandboxBotAPI, bot: Bot) -> None:
    chat_id = await started(sandbox)

    def keyboard(data: str) -> InlineKeyboardMarkup:
        return InlineKeyboardMarkup([[InlineKeyboardButton("OK", callback_data=data)]])

    await bot.send_message(chat_id, "fits", reply_markup=keyboard("x" * 64))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(chat_id, "too long", reply_markup=keyboard("x" * 65))
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):  # 22 characters, 66 bytes
        await bot.send_message(chat_id, "中文", reply_markup=keyboard("好" * 22))


async def test_a_person_who_blocked_the_bot_cannot_be_reached(
    sandbox: SandboxBotAPI, bot: Bot
) -> None:
    chat_id = await started(sandbox)
    await sandbox.block(chat_id)
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(chat_id, "are you ok?")
    await sandbox.unblock(chat_id)
    await bot.send_message(chat_id, "welcome back")


async def test_the_bot_cannot_write_first_or_to_unknown_chats(
    sandbox: SandboxBotAPI, bot: Bot
) -> None:
    person = await sandbox.create_user("Quiet", "en")
    with pytest.raises(Forbidden, match=r"(?i)can't initiate conversation"):
        await bot.send_message(person["id"], "hello?")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "anyone?")


async def test_edit_and_delete_refusals(sandbox: SandboxBotAPI, bot: Bot) -> None:
    chat_id = await started(sandbox)
    sent = await bot.send_message(chat_id, "same")
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("same", chat_id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("new", chat_id, 999)
    with pytest.raises(BadRequest, match=r"(?i)message can't be edited"):
        await bot.edit_message_text("new", chat_id, 1)  # the person's /start
    assert await bot.delete_message(chat_id, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(chat_id, sent.message_id)
    assert sandbox.chat_history(chat_id)[-1].deleted
    assert sandbox.bot_messages(chat_id) == []


async def test_wrong_token_and_unknown_method(sandbox: SandboxBotAPI) -> None:
    wrong = Bot("999:WRONG", base_url=sandbox.base_url)
    try:
        with pytest.raises(InvalidToken):
            await wrong.get_me()
    finally:
        await wrong.request.shutdown()
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{sandbox.base_url}{sandbox.token}/sendTelepathy") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        async with http.get(f"{sandbox.base_url}999:WRONG/getMe") as response:
            assert response.status == 401
            assert (await response.json())["description"] == "Unauthorized"
    assert [(c.method, c.status) for c in sandbox.calls] == [("sendTelepathy", 404)]


async def test_too_many_messages_to_one_chat_get_429_with_retry_after() -> None:
    limits = RateLimits(per_chat_burst=3, per_chat_per_second=5.0)
    async with SandboxBotAPI(rate_limits=limits) as sandbox:
        chat_id = await started(sandbox)
        async with builder_for(sandbox).build().bot as bot:
            for n in range(3):
                await bot.send_message(chat_id, f"burst {n}")
            with pytest.raises(RetryAfter) as refused:
                await bot.send_message(chat_id, "one too many")
    assert "Retry in 1 seconds" in str(refused.value)
    assert sandbox.calls_to("sendMessage")[-1].status == 429


async def test_the_overall_limit_spans_chats() -> None:
    limits = RateLimits(overall_burst=2, overall_per_second=2.0)
    async with SandboxBotAPI(rate_limits=limits) as sandbox:
        chats = [await started(sandbox, f"P{n}") for n in range(3)]
        async with builder_for(sandbox).build().bot as bot:
            await bot.send_message(chats[0], "a")
            await bot.send_message(chats[1], "b")
            with pytest.raises(RetryAfter):
                await bot.send_message(chats[2], "c")


async def test_ptb_rate_limiter_retries_after_429_and_succeeds() -> None:
    limits = RateLimits(per_chat_burst=4, per_chat_per_second=5.0)
    async with SandboxBotAPI(rate_limits=limits) as sandbox:
        chat_id = await started(sandbox)
        app = builder_for(sandbox).rate_limiter(AIORateLimiter(max_retries=2)).build()
        began = time.monotonic()
        async with app:
            for n in range(6):
                await app.bot.send_message(chat_id, f"message {n}")
        elapsed = time.monotonic() - began
    statuses = [call.status for call in sandbox.calls_to("sendMessage")]
    assert statuses.count(429) == 1
    assert statuses.count(200) == 6
    assert [e.text for e in sandbox.bot_messages(chat_id)] == [f"message {n}" for n in range(6)]
    assert 1.0 < elapsed < 2.0
