"""``tongban db backup`` / ``tongban db restore`` as an operator uses them: a backup taken
while the bot runs holds every row of that moment, and restoring it elsewhere finds them
all."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.population import Population, insert
from bot.config import load_settings
from bot.invites import create_invite
from bot.sandbox import SandboxBotAPI
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from flows.roles import Role
from tests.bot_process import ROOT, sandbox_env, start_bot

TOKEN = "123456789:SANDBOX-tongban-local-only"

Rows = dict[str, list[tuple[Any, ...]]]


def tongban(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("TONGBAN_") and key != "TELEGRAM_BOT_TOKEN"
    }
    env["TONGBAN_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def sqlite_rows(path: Path) -> Rows:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {
            table: sorted(connection.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in tables
        }
    finally:
        connection.close()


async def _people(database_url: str, clients: int) -> None:
    settings = load_settings(database_url=database_url)
    await insert(database_url, Population(clients=clients, first_user_id=5_000_000), settings)


async def _invite(database_url: str) -> str:
    db = Database(database_url)
    try:
        return (await create_invite(db, Role.CLIENT, timedelta(days=1))).code
    finally:
        await db.dispose()


async def test_a_backup_of_a_running_sqlite_bot_restores_every_row(tmp_path: Path) -> None:
    live = tmp_path / "tongban.db"
    url = f"sqlite+aiosqlite:///{live}"
    await asyncio.to_thread(upgrade, url)
    await _people(url, 200)  # people, check-ins, signs, schedules, escalations
    codes = [await _invite(url) for _ in range(2)]
    backup = tmp_path / "backups" / "tongban-1.db"
    backup.parent.mkdir()
    async with SandboxBotAPI(token=TOKEN, rate_limits=False) as api:
        bot = await start_bot(sandbox_env(api, url, "WARNING"))
        try:
            first = (await api.create_user("Ana", "en"))["id"]
            await api.user_send_text(first, f"/start {codes[0]}")
            await api.wait_until(lambda: bool(api.bot_messages(first)), 30)
            # The bot is running and holds the database open: what it wrote is still in the
            # write-ahead log, which a copy of the file alone would miss.
            assert (tmp_path / "tongban.db-wal").stat().st_size > 0
            at_backup = sqlite_rows(live)
            done = await asyncio.to_thread(tongban, url, "db", "backup", str(backup))
            assert done.returncode == 0, done.stderr
            assert done.stdout.startswith(f"backed up {live} to {backup}")
            # and it keeps working afterwards
            second = (await api.create_user("Bo", "en"))["id"]
            await api.user_send_text(second, f"/start {codes[1]}")
            await api.wait_until(lambda: bool(api.bot_messages(second)), 30)
        finally:
            bot.terminate()
            await bot.wait()
    assert sum(len(rows) for rows in at_backup.values()) > 1000
    assert len(at_backup["people"]) == 201

    again = await asyncio.to_thread(tongban, url, "db", "backup", str(backup))
    assert again.returncode == 1 and "already exists" in again.stderr, "never overwritten"

    restored = tmp_path / "elsewhere" / "restored.db"
    result = await asyncio.to_thread(tongban, f"sqlite:///{restored}", "db", "restore", str(backup))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"restored {backup} into {restored}\n"
    assert sqlite_rows(restored) == at_backup, "every row of the moment of the backup"
    assert len(sqlite_rows(live)["people"]) == 202

    refused = await asyncio.to_thread(tongban, url, "db", "restore", str(backup))
    assert refused.returncode == 1 and "--replace" in refused.stderr
    assert len(sqlite_rows(live)["people"]) == 202, "nothing was overwritten"
    replaced = await asyncio.to_thread(tongban, url, "db", "restore", "--replace", str(backup))
    assert replaced.returncode == 0, replaced.stderr
    assert sqlite_rows(live) == at_backup


async def _postgres_rows(url: str) -> Rows:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            tables = (
                await connection.execute(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                )
            ).scalars()
            rows: Rows = {}
            for table in list(tables):
                result = await connection.execute(text(f'SELECT * FROM "{table}"'))
                rows[table] = sorted((tuple(r) for r in result), key=repr)
            return rows
    finally:
        await engine.dispose()


async def _admin(url: str, sql: str) -> None:
    engine = create_async_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(sql))
    finally:
        await engine.dispose()


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
async def test_a_postgres_backup_restores_every_row_into_a_new_database(
    postgres_url: str, tmp_path: Path
) -> None:
    from tests.conftest import _truncate_postgres

    await asyncio.to_thread(_truncate_postgres, postgres_url)
    await _people(postgres_url, 200)
    backup = tmp_path / "tongban.dump"
    done = await asyncio.to_thread(tongban, postgres_url, "db", "backup", str(backup))
    assert done.returncode == 0, done.stderr
    name = f"tongban_restore_{uuid.uuid4().hex[:8]}"
    await _admin(postgres_url, f'CREATE DATABASE "{name}"')
    target = postgres_url.rsplit("/", 1)[0] + "/" + name
    try:
        result = await asyncio.to_thread(tongban, target, "db", "restore", str(backup))
        assert result.returncode == 0, result.stderr
        original = await _postgres_rows(postgres_url)
        assert sum(len(rows) for rows in original.values()) > 1000
        assert await _postgres_rows(target) == original
        refused = await asyncio.to_thread(tongban, target, "db", "restore", str(backup))
        assert refused.returncode == 1 and "--replace" in refused.stderr
    finally:
        await _admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
