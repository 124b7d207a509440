"""``tongban sandbox``: the whole bot on this computer, against the local Bot API, with a web chat.

Nothing leaves the machine: the Bot API server and the page listen on 127.0.0.1 only, the
bot talks to that server, and the data lives in its own SQLite file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
from dataclasses import dataclass, replace
from datetime import time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select

from bot.app import ALLOWED_UPDATES, Services, build
from bot.config import PROJECT_ROOT, Mode, Settings
from bot.invites import create_invite
from bot.rooms import WEEKDAYS
from bot.sandbox.botapi import SandboxBotAPI
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.models import Person, ProcessedUpdate
from bot.storage.people import alias_taken
from flows.activities import Draft
from flows.roles import STAFF, Role
from flows.schedule import at_local, local_date
from flows.text import LANGUAGE_NAMES

log = logging.getLogger(__name__)


def new_token() -> str:
    """A bot token made at each start: no other program can guess the sandbox's Bot API
    address, even one that knows it runs on 127.0.0.1:8080."""
    return f"123456789:SANDBOX-{secrets.token_urlsafe(24)}"


SANDBOX_DB = PROJECT_ROOT / "sandbox.db"
FIRST_USER_ID = 1_000_001

BANNER = """
================================================================================
  TONGBAN SANDBOX: a simulated Telegram on this computer. Nothing leaves it.

  Open the web chat:   {page}
  Local Bot API:       {api}
  Sandbox data:        {db}

  Create people in the page (any role, any language), or press "Create demo cast".
  To run a real bot instead: get a token from @BotFather, then
      TELEGRAM_BOT_TOKEN=123456789:AA... bash scripts/run.sh
  Stop with Ctrl+C.
================================================================================
"""


def database_url(database: Path) -> str:
    return f"sqlite+aiosqlite:///{database}"


def sandbox_settings(settings: Settings, api: SandboxBotAPI, database: Path) -> Settings:
    return settings.model_copy(
        update={
            "telegram_bot_token": api.token,
            "bot_api_base_url": api.base_url,
            "bot_api_file_url": api.base_file_url,
            "database_url": database_url(database),
            "mode": Mode.POLLING,
            "bot_username": "tongban_sandbox_bot",
        }
    )


@dataclass
class CastMember:
    name: str
    role: Role
    language_code: str
    alias: str | None = None

    def numbered(self, number: int) -> CastMember:
        """The same person in the ``number``-th cast; aliases are unique, names made distinct."""
        if number == 1:
            return self
        alias = f"{self.alias} {number}" if self.alias else None
        return replace(self, name=f"{self.name} {number}", alias=alias)


DEMO_CAST = (
    CastMember("小明 Ming", Role.CLIENT, "zh-CN"),
    CastMember("明妈妈 Ming's mother", Role.FAMILY, "zh-CN"),
    CastMember("Lin", Role.PEER_WORKER, "en", "Lin"),
    CastMember("阿華 Wah", Role.PEER_WORKER, "zh-TW", "阿華"),
    CastMember("Dr. Mei", Role.SUPERVISOR, "en", "Mei"),
)


class DemoCast:
    """Creates the demo people and walks each through onboarding, as a person would."""

    def __init__(self, api: SandboxBotAPI, services: Services) -> None:
        self.api = api
        self.services = services

    async def create(self) -> list[dict[str, Any]]:
        users = []
        client_id: int | None = None
        number = await self._next_number()
        for member in (template.numbered(number) for template in DEMO_CAST):
            user = await self.api.create_user(
                member.name, member.language_code, role=member.role.value
            )
            link_to = client_id if member.role is Role.FAMILY else None
            await self.onboard(user["id"], member, link_to)
            if member.role is Role.CLIENT:
                client_id = user["id"]
            users.append(user)
        await self.announce_activity(number)
        await self.open_group(number, [u["id"] for u in users])
        return users

    async def announce_activity(self, number: int) -> None:
        """An upcoming activity led by the cast's peer workers, so the client and the
        relative get an invitation (at the next tick, out of quiet hours) and /activities
        shows it to anyone who joins later."""
        leaders = tuple(
            alias
            for m in DEMO_CAST
            if m.role is Role.PEER_WORKER and (alias := m.numbered(number).alias)
        )
        zone = self.services.settings.default_timezone
        tomorrow = local_date(self.services.host.clock(), zone) + timedelta(days=1)
        draft = Draft(
            title="同伴分享会 Sharing circle" + (f" {number}" if number > 1 else ""),
            kind="sharing",
            starts_at=at_local(tomorrow, time(15, 0), zone),
            minutes=90,
            place="阳光社区中心 Sunshine Community Centre",
            online=False,
            capacity=12,
            audience="both",
            language="zh_Hans",
            leaders=leaders,
        )
        async with self.services.db.transaction() as session:
            await self.services.dispatcher.activities.create(
                session, draft, self.services.host.clock()
            )

    async def open_group(self, number: int, user_ids: list[int]) -> None:
        """A standing group room led by the cast's peer workers, meeting on today's weekday
        from the start of this hour for eight hours, so it can be tried at once: the client
        and the relative get its invitation at the next tick (others: ``tongban room invite``)."""
        leaders = [
            alias
            for m in DEMO_CAST
            if m.role is Role.PEER_WORKER and (alias := m.numbered(number).alias)
        ]
        zone = self.services.settings.default_timezone
        now = self.services.host.clock()
        local = now.astimezone(ZoneInfo(zone))
        rooms = self.services.dispatcher.rooms
        async with self.services.db.transaction() as session:
            room = await rooms.create(
                session,
                "线上互助小组 Online peer group" + (f" {number}" if number > 1 else ""),
                leaders,
                now,
                weekly=f"{WEEKDAYS[local.weekday()]} {local.hour}:00",
                minutes=480,
            )
            members = (
                await session.scalars(
                    select(Person)
                    .where(
                        Person.telegram_user_id.in_(user_ids),
                        Person.role.in_((Role.CLIENT.value, Role.FAMILY.value)),
                    )
                    .order_by(Person.id)
                )
            ).all()
            await rooms.invite_people(session, room, list(members), now)

    async def _next_number(self) -> int:
        """1 for the first cast; a later one (this run, or one kept in the database) is numbered."""
        number = 1
        async with self.services.db.transaction() as session:
            while True:
                aliases = [m.numbered(number).alias for m in DEMO_CAST if m.alias]
                if not [a for a in aliases if a and await alias_taken(session, a, -1)]:
                    return number
                number += 1

    def _last_id(self, user_id: int) -> int:
        messages = self.api.bot_messages(user_id)
        return messages[-1].message_id if messages else 0

    async def _answer(self, user_id: int, mark: int, label: str | None = None) -> int:
        """Press ``label`` (or the first button) on the next question after message ``mark``."""
        for _ in range(200):
            for entry in self.api.bot_messages(user_id):
                if entry.message_id <= mark or not entry.inline_keyboard:
                    continue
                for row in entry.inline_keyboard:
                    for button in row:
                        if label is None or button.get("text") == label:
                            mark = self._last_id(user_id)
                            await self.api.user_press_button(
                                user_id, entry.message_id, button["callback_data"]
                            )
                            return mark
            await asyncio.sleep(0.05)
        raise TimeoutError(f"demo person {user_id} got no question with {label or 'a button'}")

    async def _wait_for_new(self, user_id: int, mark: int) -> None:
        await self.api.wait_until(lambda: self._last_id(user_id) > mark, timeout=10)

    async def onboard(self, user_id: int, member: CastMember, link_to: int | None) -> None:
        from bot.i18n import locale_for_language_code

        code = await self.invite(member.role, link_to)
        locale = locale_for_language_code(member.language_code)
        text = self.services.translator.text
        mark = self._last_id(user_id)
        await self.api.user_send_text(user_id, f"/start {code}")
        mark = await self._answer(user_id, mark, text(locale, "onboarding.consent.agree"))
        mark = await self._answer(user_id, mark, LANGUAGE_NAMES[locale])
        if member.role in (Role.CLIENT, Role.FAMILY):
            mark = await self._answer(user_id, mark)  # region: the first offered
        mark = await self._answer(user_id, mark)  # time zone: the first offered
        if member.role is Role.CLIENT:
            mark = await self._answer(user_id, mark, "20:00")
        if member.role in STAFF:
            await self._wait_for_new(user_id, mark)
            mark = self._last_id(user_id)
            await self.api.user_send_text(user_id, member.alias or member.name)
            mark = await self._answer(user_id, mark, text(locale, "onboarding.duty.on"))
        await self._wait_for_new(user_id, mark)

    async def invite(self, role: Role, link_to: int | None) -> str:
        if role is Role.FAMILY and link_to is not None:
            from bot.storage.family_links import demo_link_invite

            code = await demo_link_invite(self.services.db, link_to)
            if code is not None:
                return code
        new = await create_invite(self.services.db, role, timedelta(days=1), 1, "sandbox")
        return new.code


async def _start_after_earlier_runs(database: Path) -> int:
    """The simulated Telegram starts from nothing each run, but the database keeps what it had.

    Its update ids start again, so the ids handled in an earlier run are forgotten (else the
    bot would ignore the new updates as redeliveries). People of this run get user ids above
    the kept ones, so nobody takes over someone else's record. Returns the first free id.
    """
    db = Database(database_url(database))
    try:
        async with db.transaction() as session:
            await session.execute(delete(ProcessedUpdate))
            highest = await session.scalar(select(func.max(Person.telegram_user_id)))
    finally:
        await db.dispose()
    return max(FIRST_USER_ID, (highest or 0) + 1)


def _remove_database(database: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)


async def serve(
    settings: Settings,
    port: int = 8080,
    fresh: bool = False,
    stop: asyncio.Event | None = None,
    database: Path = SANDBOX_DB,
) -> None:
    """Run the sandbox until ``stop`` is set (or Ctrl+C)."""
    if fresh:
        await asyncio.to_thread(_remove_database, database)
    await asyncio.to_thread(upgrade, database_url(database))
    api = SandboxBotAPI(
        token=new_token(),
        bot_username="tongban_sandbox_bot",
        first_user_id=await _start_after_earlier_runs(database),
    )
    bound = await api.start("127.0.0.1", port)
    services = build(sandbox_settings(settings, api, database))
    api.demo_cast = DemoCast(api, services).create
    application = services.application
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        async with application:
            await services.prepare()
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES, poll_interval=0.0, timeout=10
            )
            print(BANNER.format(page=api.page_url, api=api.base_url, db=database), flush=True)
            log.info("sandbox listening on 127.0.0.1:%s", bound)
            await stop.wait()
            await application.updater.stop()
            await application.stop()
    finally:
        await api.stop()
