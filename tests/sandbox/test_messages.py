"""Copying, forwarding, keyboards, replies, commands and chats, through the real client."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    MenuButtonCommands,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    ReplyParameters,
)
from telegram.error import BadRequest

from bot.sandbox import SandboxBotAPI, SandboxError
from tests.sandbox.echo_bot import started


async def test_a_copy_does_not_say_where_it_came_from(sandbox: SandboxBotAPI, bot: Bot) -> None:
    client = await started(sandbox, "Client")
    worker = await started(sandbox, "Peer worker")
    said = await sandbox.user_send_text(client, "I have not slept for two nights")

    copied = await bot.copy_message(worker, client, said.message_id)

    [entry] = sandbox.bot_messages(worker)
    assert entry.message_id == copied.message_id
    assert entry.text == "I have not slept for two nights"
    assert entry.forward_origin is None
    assert entry.message["from"]["id"] == sandbox.bot_user["id"]
    assert "forward_origin" not in sandbox.calls_to("copyMessage")[0].params


async def test_a_forward_names_its_sender(sandbox: SandboxBotAPI, bot: Bot) -> None:
    client = await started(sandbox, "Client")
    worker = await started(sandbox, "Peer worker")
    said = await sandbox.user_send_text(client, "hello")
    forwarded = await bot.forward_message(worker, client, said.message_id)
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.sender_user.id == client  # type: ignore[attr-defined]
    with pytest.raises(BadRequest, match=r"(?i)message to copy not found"):
        await bot.copy_message(worker, client, 999)


async def test_a_copied_photo_can_get_a_new_caption(sandbox: SandboxBotAPI, bot: Bot) -> None:
    client = await started(sandbox, "Client")
    worker = await started(sandbox, "Peer worker")
    photo = await sandbox.user_send_photo(client, caption="private caption")
    await bot.copy_message(worker, client, photo.message_id, caption="From your client")
    [entry] = sandbox.bot_messages(worker)
    assert entry.kind == "photo" and entry.text == "From your client"


async def test_reply_keyboard_buttons_send_their_text(sandbox: SandboxBotAPI, bot: Bot) -> None:
    chat = await started(sandbox, "Ana")
    keyboard = ReplyKeyboardMarkup(
        [["😀 Good", "😐 OK"], [KeyboardButton("😞 Low")]], one_time_keyboard=True
    )
    await bot.send_message(chat, "How is your mood today?", reply_markup=keyboard)
    with pytest.raises(SandboxError):
        await sandbox.user_press_reply_button(chat, "😡 Angry")

    sent = await sandbox.user_press_reply_button(chat, "😐 OK")

    assert sent.text == "😐 OK" and not sent.from_bot
    assert sandbox.chats.chat(chat).keyboard is None  # one-time keyboards close after use
    await bot.send_message(chat, "kept", reply_markup=ReplyKeyboardMarkup([["A"]]))
    await bot.send_message(chat, "gone", reply_markup=ReplyKeyboardRemove())
    assert sandbox.chats.chat(chat).keyboard is None


async def test_force_reply_and_reply_parameters(sandbox: SandboxBotAPI, bot: Bot) -> None:
    chat = await started(sandbox, "Ana")
    question = await bot.send_message(
        chat, "What helps you sleep?", reply_markup=ForceReply(input_field_placeholder="…")
    )
    assert sandbox.chats.chat(chat).force_reply == {
        "message_id": question.message_id,
        "input_field_placeholder": "…",
    }
    answer = await sandbox.user_send_text(chat, "Tea", reply_to=question.message_id)
    assert answer.reply_to_message_id == question.message_id
    assert sandbox.chats.chat(chat).force_reply is None

    reply = await bot.send_message(
        chat, "Thanks", reply_parameters=ReplyParameters(answer.message_id)
    )
    assert reply.reply_to_message is not None
    assert reply.reply_to_message.text == "Tea"
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(chat, "?", reply_parameters=ReplyParameters(999))
    await bot.send_message(
        chat, "ok", reply_parameters=ReplyParameters(999, allow_sending_without_reply=True)
    )


async def test_edit_reply_markup_and_caption(sandbox: SandboxBotAPI, bot: Bot) -> None:
    chat = await started(sandbox, "Ana")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    sent = await bot.send_message(chat, "pick", reply_markup=keyboard)
    await bot.edit_message_reply_markup(chat, sent.message_id, reply_markup=None)
    assert sandbox.bot_messages(chat)[0].inline_keyboard is None
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_reply_markup(chat, sent.message_id, reply_markup=None)

    document = await bot.send_document(chat, b"x", filename="x.txt", caption="old")
    await bot.edit_message_caption(
        chat, document.message_id, caption="<b>new</b>", parse_mode="HTML"
    )
    entry = sandbox.bot_messages(chat)[-1]
    assert entry.text == "new" and entry.entities == [{"type": "bold", "offset": 0, "length": 3}]
    with pytest.raises(BadRequest, match=r"(?i)no text in the message"):
        await bot.edit_message_text("text", chat, document.message_id)


async def test_commands_by_scope_and_language(sandbox: SandboxBotAPI, bot: Bot) -> None:
    taipei = await started(sandbox, "小美", "zh-TW")
    london = await started(sandbox, "Sam", "en-GB")
    await bot.set_my_commands([BotCommand("help", "Get help")])
    await bot.set_my_commands([BotCommand("help", "取得協助")], language_code="zh")
    await bot.set_my_commands(
        [BotCommand("queue", "Open chats")], scope=BotCommandScopeChat(london)
    )
    await bot.set_my_commands(
        [BotCommand("checkin", "Daily check-in")], scope=BotCommandScopeAllPrivateChats()
    )

    assert [c.description for c in await bot.get_my_commands(language_code="zh")] == ["取得協助"]
    assert (
        await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="zh") == ()
    )
    assert sandbox.visible_commands(taipei) == [
        {"command": "checkin", "description": "Daily check-in"}
    ]
    assert sandbox.visible_commands(london) == [{"command": "queue", "description": "Open chats"}]

    await bot.delete_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert sandbox.visible_commands(taipei) == [{"command": "help", "description": "取得協助"}]
    with pytest.raises(BadRequest, match=r"(?i)two-letter"):
        await bot.set_my_commands([BotCommand("help", "x")], language_code="zh-TW")
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Help!", "x")])


async def test_get_chat_menu_button_description_and_actions(
    sandbox: SandboxBotAPI, bot: Bot
) -> None:
    chat = await started(sandbox, "Ana")
    info = await bot.get_chat(chat)
    assert (info.id, info.type, info.first_name) == (chat, "private", "Ana")
    assert await bot.set_chat_menu_button(chat, MenuButtonCommands())
    assert (await bot.get_chat_menu_button(chat)).type == "commands"
    assert await bot.set_my_description("I am a bot, not an emergency service.")
    assert (await bot.get_my_description()).description.startswith("I am a bot")
    assert await bot.send_chat_action(chat, "typing")
    me = await bot.get_me()
    assert me.username == "tongban_sandbox_bot"
    assert await bot.close() and await bot.log_out()


async def test_markdown_v2_is_stored_as_entities(sandbox: SandboxBotAPI, bot: Bot) -> None:
    chat = await started(sandbox, "Ana")
    sent = await bot.send_message(
        chat,
        "*Call* [12356](https://example.org/help) _now_ \\- you matter",
        parse_mode="MarkdownV2",
    )
    assert sent.text == "Call 12356 now - you matter"
    assert [e.type for e in sent.entities] == ["bold", "text_link", "italic"]
    assert sent.text_markdown_v2 == "*Call* [12356](https://example.org/help) _now_ \\- you matter"
