"""SQLite held by another process (the CLI writing while the bot runs).

The bot waits for the lock on aiosqlite's thread (SQLite's busy timeout); a locked database
must not freeze the loop: the crisis reply still goes out while the lock is held, and the
waiting update is answered once it is released, nothing lost."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from bot.storage.migrate import upgrade
from flows.roles import Role
from tests.harness import Harness, texts

LOCK_SECONDS = 3.0
CRISIS = "i want to kill myself tonight"
CRISIS_INTRO = "I'm a bot, so I can't help in an emergency"


async def test_a_locked_database_delays_answers_but_never_the_crisis_reply(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tongban.db"
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(upgrade, url)
    harness = Harness(url)
    await harness.start()
    try:
        client = await harness.onboard(Role.CLIENT)
        other = await harness.onboard(Role.CLIENT)

        cli = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        cli.execute("BEGIN IMMEDIATE")  # what `tongban users set-role` holds while it writes
        locked_at = time.monotonic()
        asyncio.get_running_loop().call_later(LOCK_SECONDS, cli.execute, "COMMIT")

        checkin = asyncio.create_task(client.send("/checkin"))
        await asyncio.sleep(0.1)
        crisis = asyncio.create_task(other.send(CRISIS))
        crisis_at = None
        while not crisis.done():
            if any(CRISIS_INTRO in c.params.get("text", "") for c in harness.api.calls):
                crisis_at = time.monotonic() - locked_at
                break
            await asyncio.sleep(0.02)

        assert crisis_at is not None and crisis_at < LOCK_SECONDS, (
            f"the crisis reply came {crisis_at} s after the lock, which lasted {LOCK_SECONDS} s"
        )
        assert "How has your mood been today?" in texts(await checkin)
        after = await crisis
        assert time.monotonic() - locked_at >= LOCK_SECONDS
        assert after, "the crisis message was handled once the lock was gone"
        cli.close()
    finally:
        await harness.stop()
