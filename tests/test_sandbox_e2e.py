"""The real bot process over real HTTP against the sandbox Bot API, in polling and webhook mode,
with injected faults: it recovers, nothing is lost, and nothing is sent twice that should be sent once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.invites import create_invite
from bot.sandbox.botapi import SandboxBotAPI
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.models import Person
from flows.roles import Role
from tests.bot_process import find_button, free_port, sandbox_env, start_bot

TOKEN = "123456789:SANDBOX-tongban-local-only"


@asynccontextmanager
async def bot_process(api: SandboxBotAPI, database_url: str, mode: str) -> AsyncIterator[None]:
    env = sandbox_env(api, database_url, "WARNING") | {"TONGBAN_MODE": mode}
    if mode == "webhook":
        port = free_port()
        env |= {
            "TONGBAN_WEBHOOK_LISTEN": "127.0.0.1",
            "TONGBAN_WEBHOOK_PORT": str(port),
            "TONGBAN_WEBHOOK_URL": f"http://127.0.0.1:{port}/tongban-hook",
            "TONGBAN_WEBHOOK_SECRET": "sandbox-secret-0123456789",
        }
    process = await start_bot(env, stderr=asyncio.subprocess.PIPE)
    try:
        yield
    finally:
        process.terminate()
        try:
            await asyncio.wait_for(process.wait(), 15)
        except TimeoutError:
            process.kill()
            await process.wait()


# Seconds to wait for the bot's next message. Generous: through injected faults the bot
# retries with back-off, and CI shares two cores with a second test worker; this is a
# bound on a hang, not a speed target.
WAIT = 45


async def _invite(database_url: str, role: Role = Role.CLIENT) -> str:
    db = Database(database_url)
    try:
        return (await create_invite(db, role, timedelta(days=1))).code
    finally:
        await db.dispose()


async def _press(api: SandboxBotAPI, user_id: int, label: str, wait: float = WAIT) -> None:
    async def find() -> tuple[int, str]:
        while True:
            found = find_button(api, user_id, label)
            if found is not None:
                return found
            await asyncio.sleep(0.05)

    message_id, data = await asyncio.wait_for(find(), wait)
    await api.user_press_button(user_id, message_id, data)


async def _texts(api: SandboxBotAPI, user_id: int, contains: str, wait: float = WAIT) -> list[str]:
    await api.wait_until(
        lambda: any(contains in (e.text or "") for e in api.bot_messages(user_id)), wait
    )
    return [e.text or "" for e in api.bot_messages(user_id)]


@pytest.mark.parametrize("mode", ["polling", "webhook"])
async def test_a_client_onboards_and_checks_in_over_http_through_faults(
    tmp_path: Path, mode: str
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}"
    await asyncio.to_thread(upgrade, database_url)
    code = await _invite(database_url)
    async with (
        SandboxBotAPI(token=TOKEN, rate_limits=False) as api,
        bot_process(api, database_url, mode),
    ):
        user = await api.create_user("Ming", "zh-CN")
        uid = user["id"]
        await api.user_send_text(uid, f"/start {code}")
        await _texts(api, uid, "你同意吗？", wait=30)  # the process needs a moment to start
        # Every kind of fault on the way: the bot retries and nothing is lost.
        api.inject_faults("500", 2, methods={"sendMessage"})
        await _press(api, uid, "✅ 我同意")
        await _texts(api, uid, "你想让我用哪种语言？")
        api.inject_faults("429", 2, retry_after=1, methods={"sendMessage"})
        await _press(api, uid, "简体中文")
        await _texts(api, uid, "你住在哪里？")
        api.inject_faults("drop", 1, methods={"sendMessage"})
        await _press(api, uid, "中国大陆")
        await _texts(api, uid, "你在哪个时区？")
        await _press(api, uid, "北京 / 上海")
        await _press(api, uid, "20:00")
        await _texts(api, uid, "设置好了")
        await api.user_send_text(uid, "/checkin")
        await _texts(api, uid, "今天心情怎么样？")
        for label in (
            "🙂 不错",
            "和平时一样",
            "💊 吃了",
            "没有",
            "都没有",
            "有一点",
            "没有",
            "跳过",
        ):
            await _press(api, uid, label)
        texts = await _texts(api, uid, "谢谢")
        assert sum("今天心情怎么样？" in t for t in texts) == 1, (
            "each question was sent exactly once"
        )
        assert sum("你住在哪里？" in t for t in texts) == 1
        assert sum("设置好了" in t for t in texts) == 1


async def test_a_blocked_client_is_marked_and_the_bot_keeps_serving_others(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'e2e.db'}"
    await asyncio.to_thread(upgrade, database_url)
    codes = [await _invite(database_url) for _ in range(2)]
    async with (
        SandboxBotAPI(token=TOKEN, rate_limits=False) as api,
        bot_process(api, database_url, "polling"),
    ):
        first = (await api.create_user("A", "en"))["id"]
        second = (await api.create_user("B", "en"))["id"]
        await api.user_send_text(first, f"/start {codes[0]}")
        await _texts(api, first, "Is that OK with you?", wait=30)
        await api.block(first)  # Telegram tells the bot with a my_chat_member update
        await api.user_send_text(second, f"/start {codes[1]}")
        await _texts(api, second, "Is that OK with you?")
    db = Database(database_url)
    try:
        async with db.sessions() as session:
            rows = (await session.execute(select(Person.telegram_user_id, Person.blocked_at))).all()
    finally:
        await db.dispose()
    blocked = {user: when is not None for user, when in rows}
    assert blocked == {first: True, second: False}
