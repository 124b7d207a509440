"""Simulated people and their private chats with the bot: every message, as it now stands."""

from __future__ import annotations

import copy
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from bot.sandbox.errors import SandboxError, bad_request, forbidden
from bot.sandbox.events import EventHub
from bot.sandbox.files import StoredFile
from bot.sandbox.formatting import Entity
from bot.sandbox.markup import Markup, callback_data_on

FILE_URL_PREFIX = "/sandbox/api/files/"
_MEDIA_KINDS = ("photo", "document", "sticker", "voice")


@dataclass
class Person:
    """A simulated Telegram user; their private chat with the bot has the same id."""

    id: int
    first_name: str
    language_code: str
    username: str | None = None
    last_name: str | None = None
    role: str = ""
    blocked: bool = False
    started: bool = False

    def to_user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, **self._names()}
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def to_chat(self) -> dict[str, Any]:
        return {"id": self.id, "type": "private", **self._names()}

    def to_json(self) -> dict[str, Any]:
        """The Telegram user plus what only the sandbox knows (role label, blocked)."""
        extra = {"role": self.role, "blocked": self.blocked, "started": self.started}
        return {**self.to_user(), **extra}

    def _names(self) -> dict[str, str]:
        """The names a User and its private Chat both carry; Telegram omits the empty ones."""
        names = {"first_name": self.first_name}
        if self.last_name:
            names["last_name"] = self.last_name
        if self.username:
            names["username"] = self.username
        return names


@dataclass
class StoredMessage:
    message: dict[str, Any]
    from_bot: bool
    reply_markup: Markup | None = None
    file: StoredFile | None = None
    deleted: bool = False

    @property
    def message_id(self) -> int:
        return int(self.message["message_id"])


@dataclass
class Chat:
    person: Person
    chat_instance: str = field(default_factory=lambda: str(secrets.randbits(62)))
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    keyboard: Markup | None = None
    force_reply: dict[str, Any] | None = None

    @property
    def id(self) -> int:
        return self.person.id

    def live(self, message_id: int) -> StoredMessage | None:
        stored = self.messages.get(message_id)
        return stored if stored is not None and not stored.deleted else None


@dataclass
class CallbackQuery:
    """A button press the bot has been told about, and its answer once it gives one."""

    id: str
    chat_id: int
    message_id: int
    data: str
    answer: dict[str, Any] | None = None


@dataclass(frozen=True)
class ChatEntry:
    """One message of a chat as a person sees it now: edits applied, deletion marked."""

    chat_id: int
    message_id: int
    from_bot: bool
    date: int
    kind: str
    text: str | None
    entities: list[Entity]
    edited: bool
    deleted: bool
    inline_keyboard: list[list[dict[str, Any]]] | None
    reply_markup: Markup | None
    file_url: str | None
    file_name: str | None
    mime_type: str | None
    forward_origin: dict[str, Any] | None
    reply_to_message_id: int | None
    message: dict[str, Any]

    @property
    def photo_url(self) -> str | None:
        return self.file_url if self.kind == "photo" else None

    @property
    def document_url(self) -> str | None:
        return self.file_url if self.kind == "document" else None

    @property
    def callback_data(self) -> list[str]:
        return callback_data_on(self.reply_markup)

    def callback_data_for(self, label: str) -> str:
        """The callback_data of the inline button showing `label`."""
        for row in self.inline_keyboard or []:
            for button in row:
                if button.get("text") == label and "callback_data" in button:
                    return str(button["callback_data"])
        raise SandboxError(f"message {self.message_id} has no inline button {label!r}")

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Chats:
    def __init__(self, bot_user: dict[str, Any], events: EventHub, first_user_id: int) -> None:
        self.bot_user = bot_user
        self._events = events
        # A person's private chat has their id: the chats are also the list of people.
        self._chats: dict[int, Chat] = {}
        self._next_user_id = first_user_id
        self.queries: dict[str, CallbackQuery] = {}

    def add_person(
        self,
        first_name: str,
        language_code: str,
        username: str | None,
        last_name: str | None,
        role: str,
    ) -> Person:
        if not first_name.strip():
            raise SandboxError("a person needs a first name")
        if username and any(p.username == username for p in self.people()):
            raise SandboxError(f"the username {username!r} is taken")
        person = Person(
            self._next_user_id,
            first_name.strip(),
            language_code,
            username or None,
            last_name or None,
            role,
        )
        self._next_user_id += 1
        self._chats[person.id] = Chat(person)
        self.person_changed(person)
        return person

    def people(self) -> list[Person]:
        return [chat.person for chat in self._chats.values()]

    def person(self, user_id: int) -> Person:
        try:
            return self._chats[user_id].person
        except KeyError:
            raise SandboxError(f"there is no simulated person with id {user_id}") from None

    def chat(self, chat_id: int) -> Chat:
        try:
            return self._chats[chat_id]
        except KeyError:
            raise SandboxError(f"there is no chat with id {chat_id}") from None

    def known_to_bot(self, chat_id: int | str) -> Chat:
        """A chat the bot may address: the person has written to it at least once."""
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        if not chat.person.started:
            raise forbidden("bot can't initiate conversation with a user")
        return chat

    def writable(self, chat_id: int | str) -> Chat:
        chat = self.known_to_bot(chat_id)
        if chat.person.blocked:
            raise forbidden("bot was blocked by the user")
        return chat

    def add_message(
        self,
        chat: Chat,
        fields: dict[str, Any],
        *,
        from_bot: bool,
        reply_markup: Markup | None = None,
        file: StoredFile | None = None,
    ) -> StoredMessage:
        message: dict[str, Any] = {
            "message_id": chat.next_message_id,
            "from": self.bot_user if from_bot else chat.person.to_user(),
            "chat": chat.person.to_chat(),
            "date": int(time.time()),
            **fields,
        }
        if reply_markup and "inline_keyboard" in reply_markup:
            message["reply_markup"] = reply_markup
        chat.next_message_id += 1
        stored = StoredMessage(message, from_bot, reply_markup, file)
        chat.messages[stored.message_id] = stored
        self.message_changed(chat, stored)
        return stored

    def message_changed(self, chat: Chat, stored: StoredMessage) -> None:
        self._events.publish("message", entry=self.entry(chat, stored).to_json())

    def chat_changed(self, chat: Chat) -> None:
        self._events.publish("chat", chat_id=chat.id, **self.chat_state(chat))

    def person_changed(self, person: Person) -> None:
        self._events.publish("person", person=person.to_json())

    def chat_state(self, chat: Chat) -> dict[str, Any]:
        return {"keyboard": chat.keyboard, "force_reply": chat.force_reply}

    def history(self, chat_id: int) -> list[ChatEntry]:
        chat = self.chat(chat_id)
        return [self.entry(chat, stored) for stored in chat.messages.values()]

    def entry(self, chat: Chat, stored: StoredMessage) -> ChatEntry:
        """A snapshot: later edits do not change an entry already handed out."""
        message = copy.deepcopy(stored.message)
        kind = next((k for k in (*_MEDIA_KINDS, "text") if k in message), "other")
        reply_to = message.get("reply_to_message")
        markup = message.get("reply_markup")
        return ChatEntry(
            chat_id=chat.id,
            message_id=stored.message_id,
            from_bot=stored.from_bot,
            date=int(message["date"]),
            kind=kind,
            text=message.get("text", message.get("caption")),
            entities=list(message.get("entities", message.get("caption_entities", []))),
            edited="edit_date" in message,
            deleted=stored.deleted,
            inline_keyboard=markup["inline_keyboard"] if markup else None,
            reply_markup=copy.deepcopy(stored.reply_markup),
            file_url=FILE_URL_PREFIX + stored.file.file_unique_id if stored.file else None,
            file_name=stored.file.file_name if stored.file else None,
            mime_type=stored.file.mime_type if stored.file else None,
            forward_origin=message.get("forward_origin"),
            reply_to_message_id=reply_to["message_id"] if reply_to else None,
            message=message,
        )

    def live_message(self, chat: Chat, message_id: int, missing: str) -> StoredMessage:
        """The message if it is there and not deleted; else Telegram's 400 `missing`."""
        stored = chat.live(message_id)
        if stored is None:
            raise bad_request(missing)
        return stored

    def reply_target(self, chat: Chat, message_id: int | None, allow_missing: bool) -> Any:
        """The reply_to_message to embed, or None; Telegram's 400 if it is gone."""
        if message_id is None:
            return None
        stored = chat.live(message_id)
        if stored is None:
            if allow_missing:
                return None
            raise bad_request("message to be replied not found")
        return {k: v for k, v in stored.message.items() if k != "reply_to_message"}
