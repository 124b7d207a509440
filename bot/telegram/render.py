"""Effects → Bot API requests. Knows Telegram's shapes; knows nothing about flows' logic."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)

from bot.i18n import Translator
from bot.telegram.callbacks import ButtonData, ButtonSigner
from flows.commands import MENU
from flows.effects import Choice
from flows.roles import Role
from flows.text import LOCALES, Text

Markup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove


@dataclass(frozen=True, slots=True)
class CardTag:
    """An escalation card: remembered so it can be edited to "taken" or "closed" later."""

    case_id: int
    staff_id: int


@dataclass(frozen=True, slots=True)
class CaseTag:
    """A message in a worker's chat that belongs to one escalation (a message relayed to
    them, the confirmation of one they sent, the context card): a Telegram reply to it can
    only go to that escalation's person."""

    case_id: int


@dataclass(frozen=True, slots=True)
class RelayTag:
    """A relayed message: the sender is told if it could not be delivered, and gets
    ``confirm`` (already in their language) once it was."""

    case_id: int
    sender_chat_id: int
    sender_locale: str
    to_worker: bool
    confirm: str | None = None


@dataclass(frozen=True, slots=True)
class RoomTag:
    """A member's copy of a room message (``seq`` in the room's order): sent after other
    traffic, in the room's order (``bot.telegram.fanout``), and remembered where it landed
    (a reply to it, or a leader's removal, finds it)."""

    room_id: int
    seq: int
    room_message_id: int
    person_id: int


# What to remember or do once a message is sent.
Tag = CardTag | CaseTag | RelayTag | RoomTag


@dataclass(frozen=True, slots=True)
class SendText:
    chat_id: int
    text: str
    markup: Markup | None = None
    tag: Tag | None = None
    reply_to: int | None = None  # a message in the same chat this one answers


@dataclass(frozen=True, slots=True)
class CopyMessage:
    """Copy a message into another chat: no "forwarded from" header, no identity crosses."""

    chat_id: int
    from_chat_id: int
    message_id: int
    tag: Tag | None = None
    reply_to: int | None = None


@dataclass(frozen=True, slots=True)
class DeleteMessage:
    """Remove a message the bot sent (a leader took a room message back)."""

    chat_id: int
    message_id: int


@dataclass(frozen=True, slots=True)
class EditText:
    chat_id: int
    message_id: int
    text: str


@dataclass(frozen=True, slots=True)
class EditCaption:
    """A copied photo's or voice note's caption, edited (a member edited theirs in a room)."""

    chat_id: int
    message_id: int
    caption: str


@dataclass(frozen=True, slots=True)
class AnswerButton:
    callback_query_id: str
    text: str | None = None


@dataclass(frozen=True, slots=True)
class SendPhoto:
    chat_id: int
    png: bytes
    caption: str
    filename: str = "chart.png"


@dataclass(frozen=True, slots=True)
class SendDocument:
    chat_id: int
    content: bytes
    filename: str
    caption: str = ""


@dataclass(frozen=True, slots=True)
class EditMarkup:
    """Redraw a message's text and buttons (a multi-select question)."""

    chat_id: int
    message_id: int
    text: str
    markup: InlineKeyboardMarkup


@dataclass(frozen=True, slots=True)
class SetCommands:
    chat_id: int
    role: Role
    locale: str


Outgoing = (
    SendText
    | CopyMessage
    | EditText
    | EditCaption
    | EditMarkup
    | AnswerButton
    | SendPhoto
    | SendDocument
    | SetCommands
    | DeleteMessage
)


class Reader(Protocol):
    """Whom a message is for: their chat, and the language and zone it is written in."""

    @property
    def chat_id(self) -> int: ...
    @property
    def telegram_user_id(self) -> int: ...
    @property
    def locale(self) -> str: ...
    @property
    def timezone(self) -> str: ...
    @property
    def role(self) -> str: ...


# Menu labels renamed since: a reply keyboard stays on a phone until the bot sends the next
# one, so a tap on the old label must still mean the same command.
RENAMED_MENU_LABELS = {("zh_Hans", "✅ 签到"): "checkin", ("zh_Hant", "✅ 簽到"): "checkin"}


@dataclass
class Renderer:
    """Renders choices into signed inline keyboards and the role menu into a reply keyboard."""

    translator: Translator
    signer: ButtonSigner
    _menu_lookup: dict[tuple[str, str], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._menu_lookup.update(RENAMED_MENU_LABELS)
        # Menus share labels across roles; the command's own role check still applies.
        for items in MENU.values():
            for locale in LOCALES:
                for command, label in items.items():
                    self._menu_lookup[(locale, self.translator.text(locale, label))] = command

    def message(
        self,
        reader: Reader,
        text: Text,
        choices: tuple[Choice, ...] = (),
        columns: int = 1,
        *,
        step: int = 0,
        menu: bool = False,
        tag: Tag | None = None,
    ) -> SendText:
        """The one way a text and its buttons become a message: in the reader's language and
        zone, with signed buttons (or their role's menu keyboard)."""
        rendered = self.text(reader, text)
        markup: Markup | None = None
        if choices:
            markup = self.inline_keyboard(
                reader.telegram_user_id, step, choices, columns, reader.locale
            )
        elif menu:
            markup = self.menu_keyboard(Role(reader.role), reader.locale)
        return SendText(reader.chat_id, rendered, markup, tag)

    def text(self, reader: Reader, text: Text) -> str:
        """``text`` as ``reader`` reads it: their language, times in their zone."""
        return self.translator.render(text, reader.locale, reader.timezone)

    def inline_keyboard(
        self, user_id: int, step: int, choices: tuple[Choice, ...], columns: int, locale: str
    ) -> InlineKeyboardMarkup:
        buttons = [
            InlineKeyboardButton(
                self.translator.render(choice.label, locale),
                callback_data=self.signer.sign(user_id, _button(choice.value, step)),
            )
            for choice in choices
        ]
        rows = [buttons[i : i + columns] for i in range(0, len(buttons), max(columns, 1))]
        return InlineKeyboardMarkup(rows)

    def menu_keyboard(self, role: Role, locale: str) -> ReplyKeyboardMarkup:
        labels = [
            KeyboardButton(self.translator.text(locale, label)) for label in MENU[role].values()
        ]
        rows = [labels[i : i + 2] for i in range(0, len(labels), 2)]
        return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)

    def menu_command(self, locale: str, text: str) -> str | None:
        """The command a tap on a main-menu button stands for, if ``text`` is one."""
        return self._menu_lookup.get((locale, text.strip()))


def _button(value: str, step: int) -> ButtonData:
    if value.startswith("/"):
        return ButtonData("command", value.removeprefix("/"))
    return ButtonData("flow", value, step)
