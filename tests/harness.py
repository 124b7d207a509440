"""Drives the real python-telegram-bot Application in-process, as people would use it."""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine
from telegram import Update

from bot.app import Services, build
from bot.config import load_settings
from bot.i18n import Translator
from bot.invites import create_invite
from bot.sandbox.in_memory import Call, InMemoryBotAPI
from flows.roles import Role

TEST_TOKEN = "123456789:TEST_token_for_tongban_tests_only"
NOT_AVAILABLE = "Sorry, that command is not available to you."
# A check-in's answers after the mood on an ordinary day, the note skipped.
ORDINARY_DAY = ("As usual", "💊 Yes", "No", "None of these", "A little", "None", "Skip")


@dataclass(frozen=True)
class Reply:
    """What one person saw from the bot: a message (with buttons) or an edit or a toast."""

    method: str
    text: str
    buttons: list[str] = field(default_factory=list)
    menu: list[str] = field(default_factory=list)
    message_id: int | None = None
    chat_id: int | None = None


class Chats(Protocol):
    """What people's updates are fed to: the whole bot (``Harness``) or the core with facts
    in memory (``tests.core_player.CoreStage``); either answers into ``api``."""

    api: InMemoryBotAPI
    query_ids: Iterator[int]

    async def feed(
        self, person: Person, payload: dict[str, Any], update_id: int | None = None
    ) -> list[Reply]: ...


class Person:
    def __init__(self, harness: Chats, user_id: int, language_code: str | None) -> None:
        self.harness = harness
        self.user_id = user_id
        self.language_code = language_code
        self._message_ids = itertools.count(1)
        self.own: dict[int, str] = {}  # what this person sent (a text, a caption or <photo>)

    def _user(self) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": self.user_id,
            "is_bot": False,
            "first_name": f"User{self.user_id}",
        }
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def _message(self, text: str | None = None, **extra: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": 1_700_000_000,
            "chat": {"id": self.user_id, "type": "private", "first_name": f"User{self.user_id}"},
            "from": self._user(),
            **extra,
        }
        if text is not None:
            message["text"] = text
            self.own[message["message_id"]] = text
            if text.startswith("/"):
                command = text.split(" ", 1)[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        return message

    async def send(self, text: str) -> list[Reply]:
        return await self.harness.feed(self, {"message": self._message(text)})

    async def send_media(
        self, kind: str = "sticker", caption: str | None = None, to: int | None = None
    ) -> list[Reply]:
        """A sticker, photo or voice note (a photo or voice note with ``caption``), as a reply
        to the message ``to`` in this chat when given."""
        payload: dict[str, Any] = {
            "sticker": {
                "file_id": "s1",
                "file_unique_id": "u1",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            },
            "photo": [{"file_id": "p1", "file_unique_id": "u2", "width": 1, "height": 1}],
            "voice": {"file_id": "v1", "file_unique_id": "u3", "duration": 2},
        }
        extra: dict[str, Any] = {kind: payload[kind]}
        if caption is not None:
            extra["caption"] = caption
        if to is not None:
            extra["reply_to_message"] = self._quoted(to)
        message = self._message(None, **extra)
        self.own[message["message_id"]] = caption or f"<{kind}>"
        return await self.harness.feed(self, {"message": message})

    def _quoted(self, message_id: int) -> dict[str, Any]:
        """The message ``message_id`` of this chat, as a reply quotes it."""
        return {
            "message_id": message_id,
            "date": 1_700_000_000,
            "chat": {"id": self.user_id, "type": "private"},
        }

    async def reply(self, text: str, to: int) -> list[Reply]:
        """``text`` sent as a reply to the message ``to`` in this chat (the bot's or their own)."""
        message = {**self._message(text), "reply_to_message": self._quoted(to)}
        return await self.harness.feed(self, {"message": message})

    async def edit(self, text: str, of: str | None = None) -> list[Reply]:
        """An edited message: a new one, or (``of``) the newest one this person sent that
        holds those words, now reading ``text``."""
        if of is None:
            message = self._message(text)
        else:
            mine = next(m for m, t in reversed(self.own.items()) if of in t)
            message = {**self._message(), "message_id": mine, "text": text}
            self.own[mine] = text
        message["edit_date"] = 1_700_000_100
        return await self.harness.feed(self, {"edited_message": message})

    def last_buttons_message(self) -> dict[str, Any]:
        for (chat_id, _), message in reversed(list(self.harness.api.messages.items())):
            if chat_id == self.user_id and message.get("reply_markup", {}).get("inline_keyboard"):
                return message
        raise AssertionError("no message with buttons in this chat")

    def button_data(
        self, label: str, message: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], str]:
        message = message or self.last_buttons_message()
        for row in message["reply_markup"]["inline_keyboard"]:
            for button in row:
                if button["text"] == label:
                    return message, button["callback_data"]
        labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
        raise AssertionError(f"no button {label!r}; buttons are {labels}")

    async def press(self, label: str, message: dict[str, Any] | None = None) -> list[Reply]:
        message, data = self.button_data(label, message)
        return await self.press_data(message, data)

    async def does(self, *actions: str) -> list[Reply]:
        """Each action, in order, as a transcript writes it (``tests/exact.py``): text is sent,
        "[label]" presses that button on the newest message with buttons, "<sticker>" (or
        "<photo>", "<voice>") sends one, '(reply to "words") text' replies to the newest
        message holding "words", '(edit "words") text' edits the newest message the person
        sent holding "words" to read text. Returns what the last action got back."""
        replies: list[Reply] = []
        for action in actions:
            replies = await self._do(action)
        return replies

    async def _do(self, action: str) -> list[Reply]:
        if action.startswith("[") and action.endswith("]"):
            return await self.press(action[1:-1])
        media = re.fullmatch(r"<(sticker|photo|voice)>", action)
        if media:
            return await self.send_media(media.group(1))
        edit = re.fullmatch(r'\(edit "(.+?)"\) (.*)', action)
        if edit:
            return await self.edit(edit.group(2), of=edit.group(1))
        reply = re.fullmatch(r'\(reply to "(.+?)"\) (.*)', action)
        if reply:
            quoted = next(
                m
                for (chat, _), m in reversed(list(self.harness.api.messages.items()))
                if chat == self.user_id and reply.group(1) in m.get("text", "")
            )
            message = {**self._message(reply.group(2)), "reply_to_message": quoted}
            return await self.harness.feed(self, {"message": message})
        return await self.send(action)

    async def answers(self, commands: Iterable[str]) -> dict[str, str]:
        """What the bot said to each of the commands, sent one after another."""
        return {command: texts(await self.send(command)) for command in commands}

    async def answer_checkin(self, mood: str) -> None:
        """Presses the mood, then the answers of an ordinary day."""
        for label in (mood, *ORDINARY_DAY):
            await self.press(label)

    async def press_data(self, message: dict[str, Any], data: str) -> list[Reply]:
        query = {
            "id": str(next(self.harness.query_ids)),
            "from": self._user(),
            "chat_instance": str(self.user_id),
            "data": data,
            "message": {**message, "chat": {"id": self.user_id, "type": "private"}},
        }
        return await self.harness.feed(self, {"callback_query": query})


class Harness:
    """One bot, one fake Telegram, a database; people are created with ``person()``."""

    def __init__(self, database_url: str, **settings: Any) -> None:
        self.database_url = database_url
        self.settings_overrides = settings
        self.api = InMemoryBotAPI()
        self.update_ids = itertools.count(1_000_000)
        self.query_ids = itertools.count(1)
        self.user_ids = itertools.count(500_001)
        self.services: Services | None = None
        self.now: datetime | None = None  # a fixed "now" for the bot, kept across restarts

    async def start(self) -> None:
        settings = load_settings(
            telegram_bot_token=TEST_TOKEN, database_url=self.database_url, **self.settings_overrides
        )
        self.services = build(
            settings,
            request=self.api,
            get_updates_request=self.api,
            with_updater=False,
            rate_limited=False,
        )
        await self.services.application.initialize()
        await self.services.prepare()
        if self.now is not None:
            self.set_now(self.now)

    def set_now(self, now: datetime) -> None:
        self.now = now
        assert self.services is not None
        self.services.host.clock = lambda: now

    async def tick(self) -> Any:
        """Run one scheduler tick at the harness's time."""
        assert self.services is not None
        return await self.services.scheduler.tick(self.services.application.bot, self.now)

    async def stop(self) -> None:
        if self.services is not None:
            await self.services.application.shutdown()
            await self.services.db.dispose()
            self.services = None

    @contextlib.asynccontextmanager
    async def database_down(self) -> AsyncIterator[None]:
        """The database refuses every connection while the block runs."""
        real = self.db.engine
        await real.dispose()
        broken = create_async_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none")
        self.db.engine = broken
        self.db.sessions.configure(bind=broken)
        try:
            yield
        finally:
            await broken.dispose()
            self.db.engine = real
            self.db.sessions.configure(bind=real)

    async def restart(self) -> None:
        """Stop the bot and start a new one on the same database, as after a crash."""
        await self.stop()
        await self.start()

    @property
    def db(self) -> Any:
        assert self.services is not None
        return self.services.db

    async def invite(self, role: Role = Role.CLIENT, **kwargs: Any) -> str:
        new = await create_invite(
            self.db, role, kwargs.pop("expires_in", timedelta(days=7)), **kwargs
        )
        return new.code

    def person(self, language_code: str | None = "en") -> Person:
        return Person(self, next(self.user_ids), language_code)

    async def feed(
        self, person: Person, payload: dict[str, Any], update_id: int | None = None
    ) -> list[Reply]:
        assert self.services is not None
        application = self.services.application
        before = len(self.api.calls)
        number = update_id if update_id is not None else next(self.update_ids)
        update = Update.de_json({"update_id": number, **payload}, application.bot)
        await application.process_update(update)
        return replies_to(person, self.api.calls[before:])

    async def make_person(self, role: Role, alias: str, at: datetime) -> tuple[Person, int]:
        """Someone onboarded straight into the database, faster than through onboarding (which
        has its own tests): English, UTC, staff on duty. Returns their chat and person id."""
        from bot.storage.models import FlowState
        from bot.storage.models import Person as Row

        chat = self.person("en")
        async with self.db.transaction() as session:
            row = Row(
                telegram_user_id=chat.user_id,
                chat_id=chat.user_id,
                role=role.value,
                locale="en",
                timezone="UTC",
                region="US",
                alias=alias,
                on_duty=role.has_alias,
                consented_at=at,
                onboarded_at=at,
                created_at=at,
            )
            session.add(row)
            await session.flush()
            session.add(FlowState(person_id=row.id, context={}, step=0))
        return chat, row.id

    async def link(self, client: Person, relative: Person) -> None:
        """The relative linked to the client, who shares support alerts (as /family would)."""
        from bot.storage.models import FamilyLink

        client_id, relative_id = await self.person_id(client), await self.person_id(relative)
        async with self.db.transaction() as session:
            session.add(FamilyLink(client_id=client_id, family_id=relative_id, share_alerts=True))

    async def client_family_and_worker(self, at: datetime) -> tuple[Person, Person, Person]:
        """Client AN7KQ, their relative M3P9Q (linked, support alerts shared) and peer worker
        Lin, made as ``make_person`` makes them."""
        client, _ = await self.make_person(Role.CLIENT, "AN7KQ", at)
        relative, _ = await self.make_person(Role.FAMILY, "M3P9Q", at)
        worker, _ = await self.make_person(Role.PEER_WORKER, "Lin", at)
        await self.link(client, relative)
        return client, relative, worker

    async def person_id(self, chat: Person) -> int:
        from bot.storage.models import Person as Row

        async with self.db.sessions() as session:
            found = await session.scalar(select(Row.id).where(Row.telegram_user_id == chat.user_id))
        assert found is not None, f"no person {chat.user_id}"
        return int(found)

    async def add_checkins(self, chat: Person, moods: dict[date, int], at: datetime) -> None:
        """A completed check-in for each day, with its mood, straight into the database
        (slept as usual, medication taken), all completed at ``at``."""
        from bot.storage.models import CheckIn

        person_id = await self.person_id(chat)
        async with self.db.transaction() as session:
            for day, mood in moods.items():
                session.add(
                    CheckIn(
                        person_id=person_id,
                        local_date=day,
                        mood=mood,
                        sleep=0,
                        medication="taken",
                        completed_at=at,
                    )
                )

    async def onboard(
        self, role: Role = Role.CLIENT, language_code: str = "en", alias: str | None = None
    ) -> Person:
        """A person who has finished onboarding with default answers."""
        assert self.services is not None
        person = self.person(language_code)
        region = region_label(self.services.translator, language_code)
        await onboard_in_chat(person, await self.invite(role), role, region, alias)
        return person


async def onboard_in_chat(
    person: Person, code: str, role: Role, region: str | None, alias: str | None = None
) -> None:
    """Onboard through the chat with default answers: agree, the language of their language
    code, ``region`` (the label of their language code's region) or else the first offered,
    the first time zone, 20:00 for a client, and for staff ``alias`` and the first answer."""
    language_code = person.language_code or "en"
    await person.send(f"/start {code}")
    await person.press(
        {"en": "✅ I agree", "zh_Hans": "✅ 我同意", "zh_Hant": "✅ 我同意"}[_loc(language_code)]
    )
    await person.press(
        {"en": "English", "zh_Hans": "简体中文", "zh_Hant": "繁體中文"}[_loc(language_code)]
    )
    if role in (Role.CLIENT, Role.FAMILY):
        message = person.last_buttons_message()
        labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
        await person.press(region or labels[0])
    message = person.last_buttons_message()
    await person.press(message["reply_markup"]["inline_keyboard"][0][0]["text"])
    if role is Role.CLIENT:
        await person.send("20:00")
    if role.has_alias:
        await person.send(alias or f"Worker{person.user_id}")
        message = person.last_buttons_message()
        await person.press(message["reply_markup"]["inline_keyboard"][0][0]["text"])


def region_label(translator: Translator, language_code: str) -> str | None:
    """The region button a language code names (zh-TW: Taiwan), if it is offered."""
    from bot.i18n import region_for_language_code
    from flows.questions import REGIONS

    region = region_for_language_code(language_code)
    if region is None or region not in REGIONS:
        return None
    return translator.text(_loc(language_code), REGIONS[region])


def _loc(language_code: str) -> str:
    from bot.i18n import locale_for_language_code

    return locale_for_language_code(language_code)


def replies_to(person: Person, calls: Sequence[Call]) -> list[Reply]:
    """What ``person`` saw of ``calls``: messages and edits in their chat, toasts."""
    return [r for r in map(_reply, calls) if r is not None and _for(person, r)]


def _for(person: Person, reply: Reply) -> bool:
    return reply.chat_id is None or reply.chat_id == person.user_id


def _reply(call: Call) -> Reply | None:
    params = call.params
    if call.method in ("sendMessage", "editMessageText"):
        markup = params.get("reply_markup") or {}
        buttons = [b["text"] for row in markup.get("inline_keyboard", []) for b in row]
        menu = [
            b["text"] if isinstance(b, dict) else b
            for row in markup.get("keyboard", [])
            for b in row
        ]
        return Reply(
            call.method,
            params.get("text", ""),
            buttons,
            menu,
            params.get("message_id"),
            int(params["chat_id"]),
        )
    if call.method == "copyMessage":
        return Reply(call.method, "(copied message)", chat_id=int(params["chat_id"]))
    if call.method == "answerCallbackQuery":
        return Reply(call.method, params.get("text") or "")
    return None


def texts(replies: list[Reply]) -> str:
    """Everything the person saw, as one string, for 'contains' assertions."""
    return "\n---\n".join(r.text for r in replies)
