"""What simulated people do in their Telegram app, turned into updates for the bot.

Each action checks what a real Telegram app would allow (a button must be on the
message, a blocked bot gets nothing) and queues the update Telegram would send.
"""

from __future__ import annotations

import copy
import secrets
import time
from typing import Any

from bot.sandbox.chats import CallbackQuery, Chat, Chats, Person, StoredMessage
from bot.sandbox.errors import SandboxError
from bot.sandbox.files import UPLOAD_MAX_BYTES, FileStore, StoredFile
from bot.sandbox.formatting import parse
from bot.sandbox.markup import callback_data_on
from bot.sandbox.media import image_mime, image_size, sample_png, sample_voice
from bot.sandbox.updates import UpdateQueue

TEXT_MAX = 4096
_SPECIAL_BUTTONS = (
    "request_contact",
    "request_location",
    "request_poll",
    "request_users",
    "request_chat",
    "web_app",
)


class People:
    """The actions themselves; `SandboxBotAPI.user_*` are the entry points and hold the defaults."""

    def __init__(self, chats: Chats, files: FileStore, updates: UpdateQueue) -> None:
        self._chats = chats
        self._files = files
        self._updates = updates

    def send_text(self, user_id: int, text: str, reply_to: int | None = None) -> StoredMessage:
        chat = self._open_chat(user_id)
        formatted = parse(text, None, None)
        if not formatted.text:
            raise SandboxError("a message needs some text")
        if len(formatted.text) > TEXT_MAX:
            raise SandboxError(f"a message can have at most {TEXT_MAX} characters")
        fields: dict[str, Any] = {"text": formatted.text}
        if formatted.entities:
            fields["entities"] = formatted.entities
        return self._send(chat, fields, reply_to)

    def send_photo(self, user_id: int, data: bytes | None, caption: str | None) -> StoredMessage:
        chat = self._open_chat(user_id)
        data = data if data is not None else sample_png()
        size = image_size(data)
        if size is None:
            raise SandboxError("a photo must be a PNG, JPEG, GIF or WebP image")
        stored = self._files.add(
            "photo", _sendable(data), mime_type=image_mime(data), dimensions=size
        )
        fields = {"photo": [stored.to_photo_size()], **_caption(caption)}
        return self._send(chat, fields, file=stored)

    def send_document(
        self,
        user_id: int,
        data: bytes,
        file_name: str,
        mime_type: str | None,
        caption: str | None,
    ) -> StoredMessage:
        chat = self._open_chat(user_id)
        stored = self._files.add(
            "document", _sendable(data), mime_type=mime_type, file_name=file_name
        )
        fields = {"document": stored.to_document(), **_caption(caption)}
        return self._send(chat, fields, file=stored)

    def send_sticker(self, user_id: int, emoji: str) -> StoredMessage:
        chat = self._open_chat(user_id)
        image = _sendable(sample_png(512, 512))
        stored = self._files.add("sticker", image, mime_type="image/png", dimensions=(512, 512))
        return self._send(chat, {"sticker": stored.to_sticker(emoji)}, file=stored)

    def send_voice(self, user_id: int, duration: int) -> StoredMessage:
        chat = self._open_chat(user_id)
        stored = self._files.add("voice", _sendable(sample_voice()), mime_type="audio/ogg")
        return self._send(chat, {"voice": stored.to_voice(duration)}, file=stored)

    def edit_text(self, user_id: int, message_id: int, text: str) -> StoredMessage:
        chat = self._open_chat(user_id)
        stored = chat.live(message_id)
        if stored is None or stored.from_bot or "text" not in stored.message:
            raise SandboxError(f"{chat.person.first_name} has no text message {message_id} to edit")
        formatted = parse(text, None, None)
        if not formatted.text or len(formatted.text) > TEXT_MAX:
            raise SandboxError(f"an edited message needs 1-{TEXT_MAX} characters")
        if formatted.text == stored.message["text"]:
            raise SandboxError("the edit changes nothing")
        stored.message["text"] = formatted.text
        stored.message.pop("entities", None)
        if formatted.entities:
            stored.message["entities"] = formatted.entities
        stored.message["edit_date"] = int(time.time())
        self._chats.message_changed(chat, stored)
        self._updates.push("edited_message", copy.deepcopy(stored.message))
        return stored

    def press_button(self, user_id: int, message_id: int, callback_data: str) -> str:
        """Press an inline button that is really on the message; returns the query id."""
        chat = self._open_chat(user_id)
        stored = chat.live(message_id)
        if stored is None or not stored.from_bot:
            raise SandboxError(f"there is no bot message {message_id} in this chat")
        if callback_data not in callback_data_on(stored.reply_markup):
            raise SandboxError(f"message {message_id} has no button with that callback_data")
        return self.send_callback(user_id, message_id, callback_data)

    def send_callback(self, user_id: int, message_id: int, data: str) -> str:
        """A callback query with any data, even data no button carries (forged)."""
        chat = self._open_chat(user_id)
        stored = chat.live(message_id)
        message = (
            copy.deepcopy(stored.message)
            if stored is not None
            else {"chat": chat.person.to_chat(), "message_id": message_id, "date": 0}
        )
        query = CallbackQuery(str(secrets.randbits(63)), chat.id, message_id, data)
        self._chats.queries[query.id] = query
        self._mark_started(chat.person)
        self._updates.push(
            "callback_query",
            {
                "id": query.id,
                "from": chat.person.to_user(),
                "message": message,
                "chat_instance": chat.chat_instance,
                "data": data,
            },
        )
        return query.id

    def press_reply_button(self, user_id: int, text: str) -> StoredMessage:
        chat = self._open_chat(user_id)
        keyboard = chat.keyboard
        buttons = [b for row in (keyboard or {}).get("keyboard", []) for b in row]
        button = next((b for b in buttons if b["text"] == text), None)
        if keyboard is None or button is None:
            raise SandboxError(f"{chat.person.first_name} has no keyboard button {text!r}")
        special = next((kind for kind in _SPECIAL_BUTTONS if button.get(kind)), None)
        if special is not None:
            raise SandboxError(f"the sandbox cannot simulate {special} buttons")
        if keyboard.get("one_time_keyboard"):
            chat.keyboard = None
            self._chats.chat_changed(chat)
        return self.send_text(user_id, text)

    def block(self, user_id: int) -> None:
        self._set_blocked(self._chats.chat(user_id), True)

    def unblock(self, user_id: int) -> None:
        self._set_blocked(self._chats.chat(user_id), False)

    def _open_chat(self, user_id: int) -> Chat:
        chat = self._chats.chat(user_id)
        if chat.person.blocked:
            raise SandboxError(f"{chat.person.first_name} has blocked the bot; unblock it first")
        return chat

    def _send(
        self,
        chat: Chat,
        fields: dict[str, Any],
        reply_to: int | None = None,
        file: StoredFile | None = None,
    ) -> StoredMessage:
        if reply_to is not None:
            target = chat.live(reply_to)
            if target is None:
                raise SandboxError(f"there is no message {reply_to} to reply to")
            fields["reply_to_message"] = {
                k: v for k, v in target.message.items() if k != "reply_to_message"
            }
        if chat.force_reply is not None:
            chat.force_reply = None
            self._chats.chat_changed(chat)
        self._mark_started(chat.person)
        stored = self._chats.add_message(chat, fields, from_bot=False, file=file)
        self._updates.push("message", copy.deepcopy(stored.message))
        return stored

    def _mark_started(self, person: Person) -> None:
        if not person.started:
            person.started = True
            self._chats.person_changed(person)

    def _set_blocked(self, chat: Chat, blocked: bool) -> None:
        person = chat.person
        if person.blocked == blocked:
            return
        person.blocked = blocked
        self._chats.person_changed(person)
        if not person.started:
            return
        bot = self._chats.bot_user
        member = {"user": bot, "status": "member"}
        kicked = {"user": bot, "status": "kicked", "until_date": 0}
        self._updates.push(
            "my_chat_member",
            {
                "chat": person.to_chat(),
                "from": person.to_user(),
                "date": int(time.time()),
                "old_chat_member": member if blocked else kicked,
                "new_chat_member": kicked if blocked else member,
            },
        )


def _sendable(data: bytes) -> bytes:
    """A file a person may send: Telegram takes 1 byte to 50 MB."""
    if not data or len(data) > UPLOAD_MAX_BYTES:
        raise SandboxError("a file must have 1 byte to 50 MB")
    return data


def _caption(caption: str | None) -> dict[str, Any]:
    if not caption:
        return {}
    formatted = parse(caption, None, None)
    if len(formatted.text) > 1024:
        raise SandboxError("a caption can have at most 1024 characters")
    fields: dict[str, Any] = {"caption": formatted.text}
    if formatted.entities:
        fields["caption_entities"] = formatted.entities
    return fields
