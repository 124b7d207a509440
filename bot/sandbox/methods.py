"""The Bot API methods the sandbox implements, each checked the way Telegram checks it."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from bot.sandbox.chats import Chat, Chats, StoredMessage
from bot.sandbox.errors import BotAPIError, bad_request, conflict, too_many_requests
from bot.sandbox.events import EventHub
from bot.sandbox.files import (
    DOWNLOAD_MAX_BYTES,
    PHOTO_MAX_BYTES,
    UPLOAD_MAX_BYTES,
    FileKind,
    FileStore,
    StoredFile,
)
from bot.sandbox.formatting import FormattedText, parse
from bot.sandbox.markup import Markup, parse_reply_markup
from bot.sandbox.media import image_mime, image_size
from bot.sandbox.params import Params, UploadedFile
from bot.sandbox.profile import (
    BotProfile,
    parse_commands,
    parse_language,
    parse_menu_button,
    parse_scope,
)
from bot.sandbox.ratelimit import SendLimiter
from bot.sandbox.updates import UpdateQueue
from bot.sandbox.webhook import WebhookSender

Handler = Callable[[Params], Awaitable[Any]]

TEXT_MAX = 4096
CAPTION_MAX = 1024
CALLBACK_ANSWER_MAX = 200
LONG_POLL_MAX_SECONDS = 50
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_CONTENT_FIELDS = (
    "text",
    "entities",
    "photo",
    "document",
    "sticker",
    "voice",
    "caption",
    "caption_entities",
)
_PROFILE_TEXTS = {"name": 64, "description": 512, "short_description": 120}


class BotMethods:
    """Method name → implementation; state lives in the stores passed in."""

    def __init__(
        self,
        *,
        chats: Chats,
        files: FileStore,
        updates: UpdateQueue,
        webhook: WebhookSender,
        profile: BotProfile,
        limiter: SendLimiter | None,
        events: EventHub,
    ) -> None:
        self._chats = chats
        self._files = files
        self._updates = updates
        self._webhook = webhook
        self._profile = profile
        self._limiter = limiter
        self._events = events
        handlers: dict[str, Handler] = {
            "getMe": self.get_me,
            "getUpdates": self.get_updates,
            "setWebhook": self.set_webhook,
            "deleteWebhook": self.delete_webhook,
            "getWebhookInfo": self.get_webhook_info,
            "sendMessage": self.send_message,
            "sendPhoto": self.send_photo,
            "sendDocument": self.send_document,
            "copyMessage": self.copy_message,
            "forwardMessage": self.forward_message,
            "editMessageText": self.edit_message_text,
            "editMessageCaption": self.edit_message_caption,
            "editMessageReplyMarkup": self.edit_message_reply_markup,
            "deleteMessage": self.delete_message,
            "deleteMessages": self.delete_messages,
            "answerCallbackQuery": self.answer_callback_query,
            "sendChatAction": self.send_chat_action,
            "setMyCommands": self.set_my_commands,
            "getMyCommands": self.get_my_commands,
            "deleteMyCommands": self.delete_my_commands,
            "setChatMenuButton": self.set_chat_menu_button,
            "getChatMenuButton": self.get_chat_menu_button,
            "setMyName": self._profile_setter("name"),
            "getMyName": self._profile_getter("name"),
            "setMyDescription": self._profile_setter("description"),
            "getMyDescription": self._profile_getter("description"),
            "setMyShortDescription": self._profile_setter("short_description"),
            "getMyShortDescription": self._profile_getter("short_description"),
            "getChat": self.get_chat,
            "getFile": self.get_file,
            "close": self.close,
            "logOut": self.close,
        }
        # Telegram matches method names without regard to case.
        self._handlers = {name.lower(): (name, handler) for name, handler in handlers.items()}

    def find(self, method: str) -> tuple[str, Handler] | None:
        """The method's canonical name and implementation, or None if Telegram has no such."""
        return self._handlers.get(method.lower())

    # --- the bot itself and updates ---

    async def get_me(self, p: Params) -> dict[str, Any]:
        return {
            **self._chats.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def get_updates(self, p: Params) -> list[dict[str, Any]]:
        if self._webhook.active:
            raise conflict(
                "can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first"
            )
        self._updates.set_allowed(_allowed_updates(p))
        wait = min(max(p.number("timeout", 0), 0), LONG_POLL_MAX_SECONDS)
        updates = await self._updates.poll(
            p.optional_int("offset") or 0, p.optional_int("limit") or 100, wait
        )
        if self._webhook.active:  # set while this call was waiting
            raise conflict("terminated by setWebhook request")
        return updates

    async def set_webhook(self, p: Params) -> bool:
        url = p.optional_str("url") or ""
        self._webhook.set(
            url,
            p.optional_str("secret_token"),
            p.optional_int("max_connections"),
            p.optional_str("ip_address"),
        )
        if p.flag("drop_pending_updates"):
            self._updates.drop_pending()
        self._updates.set_allowed(_allowed_updates(p))
        return True

    async def delete_webhook(self, p: Params) -> bool:
        self._webhook.delete()
        if p.flag("drop_pending_updates"):
            self._updates.drop_pending()
        return True

    async def get_webhook_info(self, p: Params) -> dict[str, Any]:
        return self._webhook.info()

    async def close(self, p: Params) -> bool:
        return True

    # --- sending ---

    async def send_message(self, p: Params) -> dict[str, Any]:
        chat = self._chats.writable(p.chat_id())
        text = _formatted(p, "text", "entities", TEXT_MAX, "message is too long")
        if text is None or not text.text:
            raise bad_request("message text is empty")
        fields = _text_fields(text, "text", "entities")
        preview = p.json_object("link_preview_options", "link preview options")
        if isinstance(preview, dict):
            fields["link_preview_options"] = preview
        return self._send(chat, p, fields).message

    async def send_photo(self, p: Params) -> dict[str, Any]:
        chat = self._chats.writable(p.chat_id())
        stored = self._input_file(p, "photo", "photo")
        fields = {"photo": [stored.to_photo_size()], **self._caption(p)}
        return self._send(chat, p, fields, stored).message

    async def send_document(self, p: Params) -> dict[str, Any]:
        chat = self._chats.writable(p.chat_id())
        stored = self._input_file(p, "document", "document")
        fields = {"document": stored.to_document(), **self._caption(p)}
        return self._send(chat, p, fields, stored).message

    async def copy_message(self, p: Params) -> dict[str, Any]:
        chat = self._chats.writable(p.chat_id())
        source = self._source(p, "message to copy not found")
        fields = {k: v for k, v in source.message.items() if k in _CONTENT_FIELDS}
        if "text" not in fields and p.has("caption"):
            # A copy may carry a new caption; it never says where it came from.
            fields.pop("caption", None)
            fields.pop("caption_entities", None)
            fields.update(self._caption(p))
        sent = self._send(chat, p, fields, source.file)
        return {"message_id": sent.message_id}

    async def forward_message(self, p: Params) -> dict[str, Any]:
        chat = self._chats.writable(p.chat_id())
        source = self._source(p, "message to forward not found")
        fields = {k: v for k, v in source.message.items() if k in _CONTENT_FIELDS}
        fields["forward_origin"] = source.message.get("forward_origin") or {
            "type": "user",
            "sender_user": source.message["from"],
            "date": source.message["date"],
        }
        return self._send(chat, p, fields, source.file).message

    async def send_chat_action(self, p: Params) -> bool:
        chat = self._chats.writable(p.chat_id())
        action = p.required_str("action")
        if action not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self._events.publish("chat_action", chat_id=chat.id, action=action)
        return True

    # --- changing what was sent ---

    async def edit_message_text(self, p: Params) -> dict[str, Any]:
        chat, stored = self._editable(p)
        if "text" not in stored.message:
            raise bad_request("there is no text in the message to edit")
        text = _formatted(p, "text", "entities", TEXT_MAX, "message is too long")
        if text is None or not text.text:
            raise bad_request("message text is empty")
        fields = _text_fields(text, "text", "entities")
        return self._edit(chat, stored, _inline_markup(p), ("text", "entities"), fields)

    async def edit_message_caption(self, p: Params) -> dict[str, Any]:
        chat, stored = self._editable(p)
        if "text" in stored.message:
            raise bad_request("there is no caption in the message to edit")
        fields = self._caption(p)
        return self._edit(chat, stored, _inline_markup(p), ("caption", "caption_entities"), fields)

    async def edit_message_reply_markup(self, p: Params) -> dict[str, Any]:
        chat, stored = self._editable(p)
        return self._edit(chat, stored, _inline_markup(p))

    async def delete_message(self, p: Params) -> bool:
        chat = self._chats.known_to_bot(p.chat_id())
        message_id = p.required_int("message_id", "message identifier is not specified")
        stored = self._chats.live_message(chat, message_id, "message to delete not found")
        self._delete(chat, stored)
        return True

    async def delete_messages(self, p: Params) -> bool:
        chat = self._chats.known_to_bot(p.chat_id())
        ids = p.json_object("message_ids", "message identifiers")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must be a list of 1-100 message identifiers")
        for message_id in ids:
            stored = chat.live(message_id) if isinstance(message_id, int) else None
            if stored is not None:
                self._delete(chat, stored)
        return True

    async def answer_callback_query(self, p: Params) -> bool:
        query = self._chats.queries.get(p.required_str("callback_query_id"))
        if query is None or query.answer is not None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = p.optional_str("text") or ""
        if len(text) > CALLBACK_ANSWER_MAX:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answer = {
            "text": text,
            "show_alert": p.flag("show_alert"),
            "url": p.optional_str("url"),
        }
        self._events.publish(
            "callback_answer",
            chat_id=query.chat_id,
            message_id=query.message_id,
            query_id=query.id,
            **query.answer,
        )
        return True

    # --- how the bot presents itself ---

    async def set_my_commands(self, p: Params) -> bool:
        commands = parse_commands(p.json_object("commands", "commands"))
        self._set_commands(p, commands)
        return True

    async def delete_my_commands(self, p: Params) -> bool:
        self._set_commands(p, [])
        return True

    async def get_my_commands(self, p: Params) -> list[dict[str, str]]:
        scope = parse_scope(p.json_object("scope", "BotCommandScope"))
        return self._profile.commands(scope, parse_language(p.optional_str("language_code")))

    async def set_chat_menu_button(self, p: Params) -> bool:
        chat_id = p.optional_int("chat_id")
        if chat_id is not None:
            self._chats.known_to_bot(chat_id)
        button = parse_menu_button(p.json_object("menu_button", "MenuButton"))
        self._profile.set_menu_button(chat_id, button)
        self._events.publish("profile")
        return True

    async def get_chat_menu_button(self, p: Params) -> dict[str, Any]:
        return self._profile.menu_button(p.optional_int("chat_id"))

    def _profile_setter(self, field: str) -> Handler:
        async def set_text(p: Params) -> bool:
            value = p.optional_str(field) or ""
            if len(value) > _PROFILE_TEXTS[field]:
                raise bad_request(f"{field} is too long")
            self._profile.set_text(field, parse_language(p.optional_str("language_code")), value)
            self._events.publish("profile")
            return True

        return set_text

    def _profile_getter(self, field: str) -> Handler:
        async def get_text(p: Params) -> dict[str, str]:
            language = parse_language(p.optional_str("language_code"))
            value = self._profile.text(field, language)
            if field == "name" and not value:
                value = self._profile.first_name
            return {field: value}

        return get_text

    # --- chats and files ---

    async def get_chat(self, p: Params) -> dict[str, Any]:
        chat = self._chats.known_to_bot(p.chat_id())
        return {
            **chat.person.to_chat(),
            "accent_color_id": chat.person.id % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    async def get_file(self, p: Params) -> dict[str, Any]:
        stored = self._files.by_id(p.required_str("file_id"))
        if stored is None:
            raise bad_request("invalid file_id")
        if stored.size > DOWNLOAD_MAX_BYTES:
            raise bad_request("file is too big")
        return stored.to_file()

    # --- shared steps ---

    def _send(
        self,
        chat: Chat,
        p: Params,
        fields: dict[str, Any],
        file: StoredFile | None = None,
    ) -> StoredMessage:
        reply_markup = parse_reply_markup(p.json_object("reply_markup", "reply keyboard markup"))
        reply_to = self._reply_to(chat, p)
        if reply_to is not None:
            fields["reply_to_message"] = reply_to
        if p.flag("protect_content"):
            fields["has_protected_content"] = True
        if self._limiter is not None:
            retry_after = self._limiter.admit(chat.id)
            if retry_after is not None:
                raise too_many_requests(retry_after)
        stored = self._chats.add_message(
            chat, fields, from_bot=True, reply_markup=reply_markup, file=file
        )
        self._show_keyboard(chat, stored, reply_markup)
        return stored

    def _reply_to(self, chat: Chat, p: Params) -> Any:
        parameters = p.json_object("reply_parameters", "reply parameters")
        if isinstance(parameters, dict):
            message_id = parameters.get("message_id")
            if not isinstance(message_id, int):
                raise bad_request("can't parse reply parameters JSON object")
            allow = bool(parameters.get("allow_sending_without_reply", False))
            return self._chats.reply_target(chat, message_id, allow)
        allow = p.flag("allow_sending_without_reply")
        return self._chats.reply_target(chat, p.optional_int("reply_to_message_id"), allow)

    def _show_keyboard(self, chat: Chat, stored: StoredMessage, markup: Markup | None) -> None:
        if markup is None or "inline_keyboard" in markup:
            return
        if "keyboard" in markup:
            chat.keyboard = markup
        elif markup.get("remove_keyboard"):
            chat.keyboard = None
        elif markup.get("force_reply"):
            chat.force_reply = {
                "message_id": stored.message_id,
                "input_field_placeholder": markup.get("input_field_placeholder"),
            }
        self._chats.chat_changed(chat)

    def _caption(self, p: Params) -> dict[str, Any]:
        caption = _formatted(
            p, "caption", "caption_entities", CAPTION_MAX, "message caption is too long"
        )
        if caption is None or not caption.text:
            return {}
        return _text_fields(caption, "caption", "caption_entities")

    def _input_file(self, p: Params, name: str, kind: FileKind) -> StoredFile:
        value = p.file(name)
        if value is None:
            raise bad_request(f"there is no {name} in the request")
        if isinstance(value, str):
            return self._known_file(value, kind)
        return self._upload(value, kind)

    def _known_file(self, value: str, kind: FileKind) -> StoredFile:
        if value.startswith(("http://", "https://")):
            raise bad_request("failed to get HTTP URL content")
        stored = self._files.by_id(value)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise bad_request(f"can't use file of type {stored.kind.title()} as {kind.title()}")
        return stored

    def _upload(self, upload: UploadedFile, kind: FileKind) -> StoredFile:
        if not upload.data:
            raise bad_request("file must be non-empty")
        if len(upload.data) > UPLOAD_MAX_BYTES:
            raise BotAPIError(413, "Request Entity Too Large")
        if kind == "photo":
            if len(upload.data) > PHOTO_MAX_BYTES:
                raise bad_request("PHOTO_SAVE_FILE_INVALID")
            size = image_size(upload.data)
            if size is None:
                raise bad_request("IMAGE_PROCESS_FAILED")
            if sum(size) > 10_000 or max(size) > 20 * min(size):
                raise bad_request("PHOTO_INVALID_DIMENSIONS")
            mime = image_mime(upload.data)
            return self._files.add("photo", upload.data, mime_type=mime, dimensions=size)
        return self._files.add(
            kind, upload.data, mime_type=upload.content_type, file_name=upload.filename
        )

    def _source(self, p: Params, missing: str) -> StoredMessage:
        source_chat = self._chats.known_to_bot(p.chat_id("from_chat_id"))
        message_id = p.required_int("message_id", "message identifier is not specified")
        return self._chats.live_message(source_chat, message_id, missing)

    def _editable(self, p: Params) -> tuple[Chat, StoredMessage]:
        if p.has("inline_message_id"):
            raise bad_request("the sandbox has no inline messages; use chat_id and message_id")
        chat = self._chats.writable(p.chat_id())
        message_id = p.required_int("message_id", "message identifier is not specified")
        stored = self._chats.live_message(chat, message_id, "message to edit not found")
        if not stored.from_bot:
            raise bad_request("message can't be edited")
        return chat, stored

    def _edit(
        self,
        chat: Chat,
        stored: StoredMessage,
        markup: Markup | None,
        replaced: tuple[str, ...] = (),
        fields: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Replace the `replaced` fields and the inline keyboard (none given removes it)."""
        edited = {k: v for k, v in stored.message.items() if k not in (*replaced, "reply_markup")}
        edited.update(fields or {})
        if markup is not None:
            edited["reply_markup"] = markup
        if edited == stored.message:
            raise bad_request(NOT_MODIFIED)
        edited["edit_date"] = int(time.time())
        stored.message.clear()
        stored.message.update(edited)
        stored.reply_markup = markup
        self._chats.message_changed(chat, stored)
        return stored.message

    def _delete(self, chat: Chat, stored: StoredMessage) -> None:
        stored.deleted = True
        self._chats.message_changed(chat, stored)
        if chat.force_reply and chat.force_reply["message_id"] == stored.message_id:
            chat.force_reply = None
            self._chats.chat_changed(chat)

    def _set_commands(self, p: Params, commands: list[dict[str, str]]) -> None:
        scope = parse_scope(p.json_object("scope", "BotCommandScope"))
        language = parse_language(p.optional_str("language_code"))
        self._profile.set_commands(scope, language, commands)
        self._events.publish("profile")


def _formatted(
    p: Params, name: str, entities: str, limit: int, too_long: str
) -> FormattedText | None:
    raw = p.optional_str(name)
    if raw is None:
        return None
    formatted = parse(raw, p.optional_str("parse_mode"), p.json_object(entities, "entities"))
    if len(formatted.text) > limit:
        raise bad_request(too_long)
    return formatted


def _text_fields(text: FormattedText, name: str, entities: str) -> dict[str, Any]:
    fields: dict[str, Any] = {name: text.text}
    if text.entities:
        fields[entities] = text.entities
    return fields


def _inline_markup(p: Params) -> Markup | None:
    markup = parse_reply_markup(p.json_object("reply_markup", "reply keyboard markup"))
    if markup is not None and "inline_keyboard" not in markup:
        raise bad_request("inline keyboard expected")
    return markup


def _allowed_updates(p: Params) -> list[str] | None:
    allowed = p.json_object("allowed_updates", "allowed updates")
    if allowed is None:
        return None
    if not isinstance(allowed, list) or not all(isinstance(kind, str) for kind in allowed):
        raise bad_request("can't parse allowed updates JSON object")
    return allowed
