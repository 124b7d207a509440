"""Throwaway databases for a benchmark: a SQLite file or a PostgreSQL ``bench_*`` database.

Each is made empty, brought to the newest schema with the project's own migrations
(``bot.storage.migrate.upgrade``), and removed afterwards.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage.migrate import upgrade

POSTGRES_ENV = "TONGBAN_BENCH_POSTGRES_URL"
TEST_POSTGRES_ENV = "TONGBAN_TEST_POSTGRES_URL"  # what CI sets for the test suite
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"


def postgres_admin_url() -> str:
    """Where bench databases are created: ``$TONGBAN_BENCH_POSTGRES_URL``, else the test
    suite's ``$TONGBAN_TEST_POSTGRES_URL``, else local trust auth."""
    return os.environ.get(POSTGRES_ENV) or os.environ.get(TEST_POSTGRES_ENV) or DEFAULT_POSTGRES


def asyncpg_url(url: str) -> str:
    return "postgresql+asyncpg://" + url.split("://", 1)[1]


async def _admin(sql: str) -> None:
    engine = create_async_engine(asyncpg_url(postgres_admin_url()), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


def _admin_sync(sql: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(_admin(sql))
        return
    raise RuntimeError("database set-up runs outside the event loop (Alembic needs its own)")


@contextmanager
def fresh_database(kind: str, label: str) -> Iterator[str]:
    """An empty, migrated database of ``kind`` ("sqlite" or "postgres"); yields its URL."""
    if kind == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix=f"tongban_bench_{label}_"))
        url = f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        try:
            upgrade(url)
            yield url
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    if kind != "postgres":
        raise ValueError(f"unknown database kind {kind!r}")
    name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    _admin_sync(f'CREATE DATABASE "{name}"')
    url = asyncpg_url(postgres_admin_url()).rsplit("/", 1)[0] + "/" + name
    try:
        upgrade(url)
        yield url
    finally:
        _admin_sync(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_available() -> str | None:
    """None when a bench database can be made; otherwise why not."""
    try:
        _admin_sync("SELECT 1")
    except Exception as exc:  # any reason at all means: skip PostgreSQL, say why
        return f"{type(exc).__name__}: {exc}"[:200]
    return None
