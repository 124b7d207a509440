"""The unmodified python-telegram-bot client, long polling the sandbox over HTTP."""

from __future__ import annotations

import asyncio
import time

import pytest
from telegram.error import Conflict

from bot.sandbox import ChatEntry, SandboxBotAPI, SandboxError
from tests.sandbox.echo_bot import EchoApp, plain_bot


async def _asked(
    sandbox: SandboxBotAPI, name: str, language: str, text: str
) -> tuple[int, ChatEntry]:
    """Someone writes to the echo bot: their id and its answer, which has a "Yes" button."""
    person = await sandbox.create_user(name, language)
    await sandbox.user_send_text(person["id"], text)
    [question] = await sandbox.wait_for_messages(person["id"], timeout=3)
    return person["id"], question


async def _edited(sandbox: SandboxBotAPI, person: int) -> ChatEntry:
    """The newest message of the chat, once the bot has edited it."""
    await sandbox.wait_until(lambda: sandbox.chat_history(person)[-1].edited, 3)
    return sandbox.chat_history(person)[-1]


async def test_echo_bot_replies_to_a_person(sandbox: SandboxBotAPI, echo_bot: EchoApp) -> None:
    person = await sandbox.create_user("李明", "zh-CN")
    await sandbox.user_send_text(person["id"], "你好")
    [reply] = await sandbox.wait_for_messages(person["id"], 1, timeout=3)
    assert reply.text == "echo: 你好"
    assert reply.from_bot
    assert reply.inline_keyboard == [[{"text": "Yes", "callback_data": "yes"}]]


async def test_start_with_a_code_arrives_as_a_command(
    sandbox: SandboxBotAPI, echo_bot: EchoApp
) -> None:
    person = await sandbox.create_user("Ana", "en")
    sent = await sandbox.user_send_text(person["id"], "/start INVITE42")
    assert sent.entities == [{"type": "bot_command", "offset": 0, "length": 6}]
    [reply] = await sandbox.wait_for_messages(person["id"], timeout=3)
    assert reply.text == "start args: INVITE42"


async def test_button_press_is_answered_and_the_message_edited(
    sandbox: SandboxBotAPI, echo_bot: EchoApp
) -> None:
    person, question = await _asked(sandbox, "Wei", "zh-TW", "hello")

    query_id = await sandbox.user_press_button(
        person, question.message_id, question.callback_data_for("Yes")
    )

    edited = await _edited(sandbox, person)
    assert sandbox.callback_answer(query_id) == {"text": "Noted", "show_alert": False, "url": None}
    assert edited.text == "You chose yes"
    assert edited.inline_keyboard is None  # an edit without reply_markup removes the keyboard
    assert [c.method for c in sandbox.calls if c.method != "getUpdates"][-2:] == [
        "answerCallbackQuery",
        "editMessageText",
    ]


async def test_only_buttons_on_the_message_can_be_pressed_but_data_can_be_forged(
    sandbox: SandboxBotAPI, echo_bot: EchoApp
) -> None:
    person, question = await _asked(sandbox, "Sam", "en", "hi")
    with pytest.raises(SandboxError):
        await sandbox.user_press_button(person, question.message_id, "admin:delete-all")

    await sandbox.user_send_callback(person, question.message_id, "admin:delete-all")
    assert (await _edited(sandbox, person)).text == "You chose admin:delete-all"


async def test_an_edited_message_reaches_the_bot(sandbox: SandboxBotAPI, echo_bot: EchoApp) -> None:
    person = await sandbox.create_user("Mei", "zh-HK")
    sent = await sandbox.user_send_text(person["id"], "I slept 3 hours")
    await sandbox.wait_for_messages(person["id"], timeout=3)
    await sandbox.user_edit_message(person["id"], sent.message_id, "I slept 8 hours")
    [reply] = await sandbox.wait_for_messages(person["id"], timeout=3)
    assert reply.text == "edited to: I slept 8 hours"
    assert sandbox.chat_history(person["id"])[0].text == "I slept 8 hours"
    assert sandbox.chat_history(person["id"])[0].edited


async def test_an_update_is_delivered_again_until_a_later_offset_confirms_it(
    sandbox: SandboxBotAPI,
) -> None:
    person = await sandbox.create_user("Ana", "en")
    await sandbox.user_send_text(person["id"], "one")
    await sandbox.user_send_text(person["id"], "two")
    async with plain_bot(sandbox) as bot:
        first = await bot.get_updates()
        again = await bot.get_updates()
        assert [u.update_id for u in first] == [u.update_id for u in again]
        assert [u.message.text for u in first if u.message] == ["one", "two"]

        rest = await bot.get_updates(offset=first[0].update_id + 1)
        assert [u.message.text for u in rest if u.message] == ["two"]
        assert await bot.get_updates(offset=first[-1].update_id + 1) == ()
        assert sandbox.pending_updates == 0


async def test_limit_and_negative_offset(sandbox: SandboxBotAPI) -> None:
    person = await sandbox.create_user("Ana", "en")
    for text in ("a", "b", "c", "d"):
        await sandbox.user_send_text(person["id"], text)
    async with plain_bot(sandbox) as bot:
        assert [u.message.text for u in await bot.get_updates(limit=2) if u.message] == ["a", "b"]
        last = await bot.get_updates(offset=-1)
        assert [u.message.text for u in last if u.message] == ["d"]
        assert sandbox.pending_updates == 1


async def test_long_polling_answers_as_soon_as_an_update_arrives(sandbox: SandboxBotAPI) -> None:
    person = await sandbox.create_user("Ana", "en")
    async with plain_bot(sandbox) as bot:
        started = time.monotonic()
        polling = asyncio.create_task(bot.get_updates(timeout=10))
        await asyncio.sleep(0.2)
        assert not polling.done()
        await sandbox.user_send_text(person["id"], "are you there?")
        updates = await asyncio.wait_for(polling, 2)
        assert time.monotonic() - started < 1.5
        assert [u.message.text for u in updates if u.message] == ["are you there?"]


async def test_a_newer_getupdates_ends_a_waiting_one_with_conflict(
    sandbox: SandboxBotAPI,
) -> None:
    async with plain_bot(sandbox) as first, plain_bot(sandbox) as second:
        waiting = asyncio.create_task(first.get_updates(timeout=5))
        await asyncio.sleep(0.2)
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates request"):
            await asyncio.wait_for(waiting, 2)


async def test_allowed_updates_filters_what_is_queued(sandbox: SandboxBotAPI) -> None:
    person = await sandbox.create_user("Ana", "en")
    async with plain_bot(sandbox) as bot:
        await bot.get_updates(allowed_updates=["callback_query"])
        await sandbox.user_send_text(person["id"], "not wanted")
        assert sandbox.pending_updates == 0
        await bot.get_updates(allowed_updates=[])
        await sandbox.user_send_text(person["id"], "wanted again")
        assert sandbox.pending_updates == 1


async def test_blocking_sends_my_chat_member_updates(sandbox: SandboxBotAPI) -> None:
    person = await sandbox.create_user("Ana", "en")
    await sandbox.user_send_text(person["id"], "/start")
    await sandbox.block(person["id"])
    await sandbox.unblock(person["id"])
    async with plain_bot(sandbox) as bot:
        updates = await bot.get_updates()
    statuses = [
        (u.my_chat_member.old_chat_member.status, u.my_chat_member.new_chat_member.status)
        for u in updates
        if u.my_chat_member
    ]
    assert statuses == [("member", "kicked"), ("kicked", "member")]
