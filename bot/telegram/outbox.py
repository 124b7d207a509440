"""The one place that talks to the Bot API on a person's behalf."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from telegram import Bot, BotCommand, BotCommandScopeChat, InputFile, ReplyParameters
from telegram.error import BadRequest, Forbidden, NetworkError, TelegramError, TimedOut

from bot.i18n import Translator
from bot.telegram.render import (
    AnswerButton,
    CopyMessage,
    DeleteMessage,
    EditCaption,
    EditMarkup,
    EditText,
    Outgoing,
    SendDocument,
    SendPhoto,
    SendText,
    SetCommands,
)
from flows.commands import commands_for

log = logging.getLogger(__name__)
_CONFIRMATIONS = (AnswerButton, EditText, EditMarkup)

TELEGRAM_TEXT_LIMIT = 4096
RETRY_PAUSES = (0.5, 1.0, 2.0, 4.0)
CAPTION_LIMIT = 1024


def command_menu(
    translator: Translator, role_commands: Sequence[tuple[str, str]], locale: str
) -> list[BotCommand]:
    return [
        BotCommand(name, translator.text(locale, description)[:256])
        for name, description in role_commands
    ]


@dataclass(frozen=True, slots=True)
class Delivery:
    """What happened to one request: the message id it got, or that it failed for good."""

    request: Outgoing
    message_id: int | None
    failed: bool


class Outbox:
    """Sends rendered requests in order; one failure never stops the rest."""

    def __init__(
        self, translator: Translator, on_blocked: Callable[[Bot, int], Awaitable[None]]
    ) -> None:
        self.translator = translator
        self.on_blocked = on_blocked

    async def deliver(self, bot: Bot, requests: Sequence[Outgoing]) -> list[Delivery]:
        """Deliver ``requests``; the results come back in the same order.

        New messages go out one after another, in order. Answering the tapped button and
        editing earlier messages change nothing in the order of the chat, so they go out
        (in their own order) alongside: the next question no longer waits for two Bot API
        round trips before it.
        """
        confirm = [i for i, r in enumerate(requests) if isinstance(r, _CONFIRMATIONS)]
        if not confirm or len(confirm) == len(requests):
            return await self._deliver_in_order(bot, requests)
        send = [i for i, r in enumerate(requests) if not isinstance(r, _CONFIRMATIONS)]
        confirmed, sent = await asyncio.gather(
            self._deliver_in_order(bot, [requests[i] for i in confirm]),
            self._deliver_in_order(bot, [requests[i] for i in send]),
        )
        ordered = dict(zip(confirm, confirmed, strict=True))
        ordered.update(zip(send, sent, strict=True))
        return [ordered[i] for i in range(len(requests))]

    async def _deliver_in_order(self, bot: Bot, requests: Sequence[Outgoing]) -> list[Delivery]:
        results: list[Delivery] = []
        for request in requests:
            message_id: int | None = None
            failed = True
            try:
                message_id = await self._send_with_retries(bot, request)
                failed = False
            except Forbidden:
                chat_id = getattr(request, "chat_id", None)
                if chat_id is not None:
                    log.info("chat %s has blocked the bot; marking it", chat_id)
                    await self.on_blocked(bot, chat_id)
            except BadRequest as exc:
                if "not modified" in str(exc).lower() or "query is too old" in str(exc).lower():
                    failed = False
                log.warning("Bot API refused %s: %s", type(request).__name__, type(exc).__name__)
            except TelegramError as exc:
                log.warning("could not send %s: %s", type(request).__name__, type(exc).__name__)
            except Exception:
                log.exception("unexpected failure sending %s", type(request).__name__)
            results.append(Delivery(request, message_id, failed))
        return results

    async def _send_with_retries(self, bot: Bot, request: Outgoing) -> int | None:
        """Retry what may succeed later: 5xx and network failures, with backoff and a cap.

        429s are retried by PTB's AIORateLimiter (it honours ``retry_after``). Refusals
        (400, 403) are not retried. A retry after a dropped connection may deliver a
        message twice; that is the price of not losing it (at-least-once).
        """
        for attempt, pause in enumerate((*RETRY_PAUSES, None)):
            try:
                return await self._send(bot, request)
            except (TimedOut, NetworkError) as exc:
                if isinstance(exc, BadRequest | Forbidden) or pause is None:
                    raise
                log.info(
                    "retrying %s after %s (attempt %d)",
                    type(request).__name__,
                    type(exc).__name__,
                    attempt + 1,
                )
                await asyncio.sleep(pause)
        raise AssertionError("unreachable")

    async def _send(self, bot: Bot, request: Outgoing) -> int | None:
        """Make one Bot API call; returns the id of the message it made, if any."""
        if isinstance(request, SendText):
            sent = await bot.send_message(
                request.chat_id,
                request.text[:TELEGRAM_TEXT_LIMIT],
                reply_markup=request.markup,
                reply_parameters=_replying(request.reply_to),
            )
            return sent.message_id
        if isinstance(request, CopyMessage):
            copied = await bot.copy_message(
                request.chat_id,
                request.from_chat_id,
                request.message_id,
                reply_parameters=_replying(request.reply_to),
            )
            return copied.message_id
        if isinstance(request, DeleteMessage):
            await bot.delete_message(request.chat_id, request.message_id)
            return None
        if isinstance(request, EditText):
            await bot.edit_message_text(
                request.text[:TELEGRAM_TEXT_LIMIT],
                chat_id=request.chat_id,
                message_id=request.message_id,
            )
        elif isinstance(request, EditCaption):
            await bot.edit_message_caption(
                chat_id=request.chat_id,
                message_id=request.message_id,
                caption=request.caption[:CAPTION_LIMIT],
            )
        elif isinstance(request, EditMarkup):
            await bot.edit_message_text(
                request.text[:TELEGRAM_TEXT_LIMIT],
                chat_id=request.chat_id,
                message_id=request.message_id,
                reply_markup=request.markup,
            )
        elif isinstance(request, SendPhoto):
            photo = await bot.send_photo(
                request.chat_id,
                InputFile(request.png, filename=request.filename),
                caption=request.caption[:CAPTION_LIMIT],
            )
            return photo.message_id
        elif isinstance(request, SendDocument):
            document = await bot.send_document(
                request.chat_id,
                InputFile(request.content, filename=request.filename),
                caption=request.caption[:CAPTION_LIMIT] or None,
            )
            return document.message_id
        elif isinstance(request, AnswerButton):
            await bot.answer_callback_query(request.callback_query_id, text=request.text)
        else:
            commands = [(c.name, c.description) for c in commands_for(request.role)]
            await bot.set_my_commands(
                command_menu(self.translator, commands, request.locale),
                scope=BotCommandScopeChat(request.chat_id),
            )
        return None


def _replying(message_id: int | None) -> ReplyParameters | None:
    """Answer that message; if it is gone (deleted by its reader), send anyway."""
    if message_id is None:
        return None
    return ReplyParameters(message_id, allow_sending_without_reply=True)


__all__ = ["Outbox", "SetCommands", "command_menu"]
