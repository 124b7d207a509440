"""A tiny echo bot for the sandbox tests, built the way a deployment builds its bot, and the
people who talk to it."""

from __future__ import annotations

from typing import Any

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.sandbox import SandboxBotAPI

EchoApp = Application[Any, Any, Any, Any, Any, Any]


def builder_for(api: SandboxBotAPI) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
    """An ApplicationBuilder pointed at the sandbox, exactly as a deployment would be."""
    return (
        ApplicationBuilder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
    )


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])
    await update.message.reply_text(f"echo: {update.message.text}", reply_markup=keyboard)


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None
    await update.message.reply_text(f"start args: {' '.join(context.args or [])}")


async def _button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer("Noted")
    await query.edit_message_text(f"You chose {query.data}")


async def _edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.edited_message is not None
    await update.edited_message.reply_text(f"edited to: {update.edited_message.text}")


def add_echo_handlers(app: EchoApp) -> None:
    app.add_handler(CommandHandler("start", _start))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED_MESSAGE, _edited))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    app.add_handler(CallbackQueryHandler(_button))


def plain_bot(api: SandboxBotAPI) -> Bot:
    """A client with no Application around it, for calling methods one by one."""
    bot: Bot = builder_for(api).build().bot
    return bot


async def started(api: SandboxBotAPI, name: str = "Ana", language: str = "en") -> int:
    """Someone who has sent /start, so the bot may write to them: their chat id."""
    person = await api.create_user(name, language)
    await api.user_send_text(person["id"], "/start")
    return int(person["id"])
