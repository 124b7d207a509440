"""The engine and sessions. One ``Database`` is made at start and passed to whoever needs it."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.storage.models import AppSetting

DEFAULT_POOL_SIZE = 32
BUSY_MILLISECONDS = 10_000  # how long SQLite waits for another process's write lock


def make_engine(url: str, pool_size: int = DEFAULT_POOL_SIZE) -> AsyncEngine:
    """Create the async engine with the settings each database needs.

    SQLite is the embedded single-process default: one pooled connection serialises
    writers inside the process, WAL lets the CLI read while the bot runs, and the busy
    timeout waits out the CLI writing at the same moment — on aiosqlite's own thread, so a
    slow disk or a held lock never stops the event loop that carries the crisis reply.

    PostgreSQL gets a fixed pool and no overflow: with hundreds of updates at once, overflow
    connections were opened and closed all the time (a TCP connect and log-in each, 54 per
    1,000 answers in the benchmark); waiting for a pooled one is cheaper. No pre-ping: with
    asyncpg it is three round trips (BEGIN, a query, ROLLBACK) before every transaction,
    more than an answer's own work. A connection found dead instead fails its transaction,
    which empties the pool of connections as old as it, and ``Dispatcher`` runs an update's
    transaction once more when that happens (``Database.lost_connection``).
    """
    if url.startswith("sqlite"):
        engine = create_async_engine(url, pool_size=1, max_overflow=0, pool_timeout=60)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # We begin transactions ourselves (below): the driver's lazy BEGIN would let a
            # read run outside the transaction and two writers act on the same rows.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_MILLISECONDS}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            # Erased and overwritten text is zeroed in the file, not left in free pages.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=0, pool_timeout=30)


class Database:
    """Owns the engine and hands out sessions; the transaction boundary is ``transaction()``."""

    def __init__(self, url: str, pool_size: int = DEFAULT_POOL_SIZE) -> None:
        self.url = url
        self.engine = make_engine(url, pool_size)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith("postgresql")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: committed on success, rolled back on any error."""
        async with self.sessions() as session, session.begin():
            yield session

    @staticmethod
    def lost_connection(exc: BaseException) -> bool:
        """The error came from a pooled connection that had gone away (the database
        restarted, or the network dropped it): trying again uses a new connection."""
        return isinstance(exc, DBAPIError) and exc.connection_invalidated

    async def reachable(self, within: float = 2.0) -> bool:
        """Whether a query gets an answer within ``within`` seconds (for ``/healthz``)."""
        try:
            async with asyncio.timeout(within), self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except (TimeoutError, OSError, SQLAlchemyError):
            return False
        return True

    async def dispose(self) -> None:
        await self.engine.dispose()

    async def app_setting(self, key: str) -> str | None:
        async with self.sessions() as session:
            row = await session.get(AppSetting, key)
            return row.value if row else None

    async def set_app_setting(self, key: str, value: str) -> None:
        """Insert or overwrite; two processes writing the same key at once both succeed."""
        for _ in range(2):
            try:
                async with self.transaction() as session:
                    row = await session.get(AppSetting, key)
                    if row is None:
                        session.add(AppSetting(key=key, value=value))
                    else:
                        row.value = value
                return
            except IntegrityError:
                continue  # another process inserted it first: the second try overwrites it
        raise RuntimeError(f"app setting {key!r} could not be written")

    async def signing_key(self, configured: str | None) -> bytes:
        """The key that signs button data: the configured one, else one made once and kept."""
        if configured:
            return configured.encode()
        existing = await self.app_setting("signing_key")
        if existing is None:
            try:
                async with self.transaction() as session:
                    session.add(AppSetting(key="signing_key", value=secrets.token_hex(32)))
            except IntegrityError:
                pass  # another process made it first; use theirs
            existing = await self.app_setting("signing_key")
        assert existing is not None
        return existing.encode()
