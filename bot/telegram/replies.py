"""How the core's answers to the person acting reach their screen: a new message, the
tapped question edited to show the answer or new buttons, a toast, their command list.
Nothing here touches storage, so the dispatcher and the core transcript player share it."""

from __future__ import annotations

from bot.telegram.incoming import Incoming
from bot.telegram.render import (
    AnswerButton,
    EditMarkup,
    EditText,
    Outgoing,
    Reader,
    Renderer,
    SendText,
    SetCommands,
)
from flows.effects import Notice, RefreshChoices, RefreshCommands, Say, ShowAnswer
from flows.roles import Role

TOAST_LIMIT = 190  # Telegram cuts a button's answer at 200 characters


def say(renderer: Renderer, reader: Reader, step: int, effect: Say) -> SendText:
    return renderer.message(
        reader, effect.text, effect.choices, effect.columns, step=step, menu=effect.menu
    )


def show_answer(
    renderer: Renderer, reader: Reader, incoming: Incoming, effect: ShowAnswer
) -> list[Outgoing]:
    """The question they answered, with their answer under it (its buttons gone)."""
    if incoming.message_id is None or incoming.message_text is None:
        return []
    shown = f"{incoming.message_text}\n\n→ {renderer.text(reader, effect.answer)}"
    return [EditText(incoming.chat_id, incoming.message_id, shown)]


def refresh_choices(
    renderer: Renderer, reader: Reader, incoming: Incoming, step: int, effect: RefreshChoices
) -> list[Outgoing]:
    if incoming.message_id is None:
        return []
    markup = renderer.inline_keyboard(
        reader.telegram_user_id, step, effect.choices, effect.columns, reader.locale
    )
    text = renderer.text(reader, effect.text)
    return [EditMarkup(incoming.chat_id, incoming.message_id, text, markup)]


def notice(
    renderer: Renderer, reader: Reader, incoming: Incoming, effect: Notice
) -> list[Outgoing]:
    """A short answer to the button they tapped (none for a typed message)."""
    if not incoming.callback_query_id:
        return []
    text = renderer.text(reader, effect.text)[:TOAST_LIMIT]
    return [AnswerButton(incoming.callback_query_id, text)]


def refresh_commands(reader: Reader, effect: RefreshCommands) -> list[Outgoing]:
    return [SetCommands(reader.chat_id, Role(reader.role), reader.locale)]
