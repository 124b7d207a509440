"""Settings the bot keeps in the database (``app_settings``) when several processes start."""

from __future__ import annotations

import asyncio

from sqlalchemy import delete

from bot.storage.db import Database
from bot.storage.models import AppSetting


async def test_two_workers_starting_together_both_record_the_bot_username(
    database_url: str,
) -> None:
    """Two webhook workers starting at the same moment each record the bot's username; the
    second must not die on the first one's row (seen in bench/two_workers.py on PostgreSQL)."""
    databases = [Database(database_url) for _ in range(4)]
    try:
        for _ in range(10):
            async with databases[0].transaction() as session:
                await session.execute(delete(AppSetting).where(AppSetting.key == "bot_username"))
            await asyncio.gather(
                *(db.set_app_setting("bot_username", "tongban_bot") for db in databases)
            )
        assert await databases[0].app_setting("bot_username") == "tongban_bot"
        await databases[1].set_app_setting("bot_username", "renamed_bot")
        assert await databases[2].app_setting("bot_username") == "renamed_bot"
    finally:
        for db in databases:
            await db.dispose()
