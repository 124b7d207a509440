"""How the core's answers to the person acting reach their screen: a new message, the
tapped question edited to show the answer or new buttons, a toast, their command list.
Nothing here touches storage, so the shell's appliers (:class:`Replies`) and the core
transcript player share it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.applying import Acting, Appliers, Applying
from bot.host import Host
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


class Replies:
    """The appliers of what the core says to the person acting."""

    def __init__(self, host: Host, appliers: Appliers) -> None:
        self.host = host
        appliers.register(
            {
                Say: self._say,
                ShowAnswer: self._show_answer,
                RefreshChoices: self._refresh_choices,
                Notice: self._notice,
                RefreshCommands: self._refresh_commands,
            }
        )

    async def _say(self, session: AsyncSession, effect: Say, acting: Acting) -> list[Outgoing]:
        assert acting.person is not None
        return [say(self.host.renderer, acting.person, acting.step, effect)]

    async def _show_answer(
        self, session: AsyncSession, effect: ShowAnswer, acting: Applying
    ) -> list[Outgoing]:
        if acting.incoming is None or acting.person is None:
            return []
        return show_answer(self.host.renderer, acting.person, acting.incoming, effect)

    async def _refresh_choices(
        self, session: AsyncSession, effect: RefreshChoices, acting: Applying
    ) -> list[Outgoing]:
        if acting.incoming is None or acting.person is None:
            return []
        return refresh_choices(
            self.host.renderer, acting.person, acting.incoming, acting.step, effect
        )

    async def _notice(
        self, session: AsyncSession, effect: Notice, acting: Applying
    ) -> list[Outgoing]:
        if acting.incoming is None or acting.person is None:
            return []
        out = notice(self.host.renderer, acting.person, acting.incoming, effect)
        acting.answered |= bool(out)
        return out

    async def _refresh_commands(
        self, session: AsyncSession, effect: RefreshCommands, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        return refresh_commands(acting.person, effect)
