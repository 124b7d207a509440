"""``tongban sandbox``: the whole bot on this computer, against the local Bot API, with a web chat.

Nothing leaves the machine: the Bot API server and the page listen on 127.0.0.1 only, the
bot talks to that server, and the data lives in its own SQLite file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from bot.app import ALLOWED_UPDATES, Services, build
from bot.config import PROJECT_ROOT, Mode, Settings
from bot.invites import create_invite
from bot.sandbox.botapi import SandboxBotAPI
from bot.storage.migrate import upgrade
from flows.people import Role
from flows.questions import LANGUAGE_NAMES

log = logging.getLogger(__name__)

SANDBOX_TOKEN = "123456789:SANDBOX-tongban-local-only"
SANDBOX_DB = PROJECT_ROOT / "sandbox.db"

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


def sandbox_settings(settings: Settings, api: SandboxBotAPI, database: Path) -> Settings:
    return settings.model_copy(
        update={
            "telegram_bot_token": SANDBOX_TOKEN,
            "bot_api_base_url": api.base_url,
            "bot_api_file_url": api.base_file_url,
            "database_url": f"sqlite+aiosqlite:///{database}",
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
        for member in DEMO_CAST:
            user = await self.api.create_user(
                member.name, member.language_code, role=member.role.value
            )
            link_to = client_id if member.role is Role.FAMILY else None
            await self.onboard(user["id"], member, link_to)
            if member.role is Role.CLIENT:
                client_id = user["id"]
            users.append(user)
        return users

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
        if member.role in (Role.PEER_WORKER, Role.SUPERVISOR):
            await self._wait_for_new(user_id, mark)
            mark = self._last_id(user_id)
            await self.api.user_send_text(user_id, member.alias or member.name)
            mark = await self._answer(user_id, mark, text(locale, "onboarding.duty.on"))
        await self._wait_for_new(user_id, mark)

    async def invite(self, role: Role, link_to: int | None) -> str:
        if role is Role.FAMILY and link_to is not None:
            from bot.family import demo_link_invite

            code = await demo_link_invite(self.services.db, link_to)
            if code is not None:
                return code
        new = await create_invite(self.services.db, role, timedelta(days=1), 1, "sandbox")
        return new.code


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
    api = SandboxBotAPI(token=SANDBOX_TOKEN, bot_username="tongban_sandbox_bot")
    bound = await api.start("127.0.0.1", port)
    bot_settings = sandbox_settings(settings, api, database)
    await asyncio.to_thread(upgrade, bot_settings.database_url)
    services = build(bot_settings)
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
