"""Telegram updates → the events flows understand. Anything we do not handle is classified too."""

from __future__ import annotations

from dataclasses import dataclass, replace

from telegram import Update


@dataclass(frozen=True, slots=True)
class Incoming:
    """One thing a person did, in the shell's terms."""

    user_id: int
    chat_id: int
    language_code: str | None
    kind: str  # text, command, callback, media, edited
    text: str = ""
    command: str = ""
    argument: str = ""
    callback_query_id: str | None = None
    callback_data: str | None = None
    message_id: int | None = None  # the person's message, or the one a pressed button belongs to
    message_text: str | None = None
    reply_to_message_id: int | None = None
    update_id: int | None = None


def _text(text: str | None) -> str:
    """What a person wrote, without NUL characters: they mean nothing to a reader and
    PostgreSQL refuses them in text, which would lose the message."""
    return (text or "").replace("\x00", "")


def classify(update: Update) -> Incoming | None:
    """None for updates that are not from a person in a private chat with the bot."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or user.is_bot or chat is None or chat.type != "private":
        return None
    base = Incoming(user.id, chat.id, user.language_code, kind="", update_id=update.update_id)

    if update.callback_query is not None:
        query = update.callback_query
        message = query.message
        text = getattr(message, "text", None) if message is not None else None
        return replace(
            base,
            kind="callback",
            callback_query_id=query.id,
            callback_data=query.data,
            message_id=message.message_id if message is not None else None,
            message_text=text,
        )
    if update.edited_message is not None:
        edited = update.edited_message
        return replace(
            base,
            kind="edited",
            text=_text(edited.text or edited.caption),
            message_id=edited.message_id,
        )
    message = update.message
    if message is None:
        return None
    base = replace(
        base,
        message_id=message.message_id,
        reply_to_message_id=message.reply_to_message.message_id
        if message.reply_to_message
        else None,
    )
    if message.text is not None:
        text = _text(message.text)
        head, _, argument = text.partition(" ")
        command = head[1:].split("@", 1)[0].lower()
        if text.startswith("/") and command:
            return replace(
                base, kind="command", command=command, argument=argument.strip(), text=text
            )
        return replace(base, kind="text", text=text)
    return replace(base, kind="media", text=_text(message.caption))
