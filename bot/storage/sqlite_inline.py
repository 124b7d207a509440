"""SQLite connections whose statements run on the event loop's thread.

aiosqlite runs every call (each statement, each fetch, the commit) on a worker thread and
hands the result back through the event loop. The database work itself takes microseconds;
the hand-back waits behind every other task the loop has ready, and the bot's single SQLite
connection is held all that time. In the benchmark the thread hops, not SQLite, set the
bot's speed: the connection sat idle in more than half of each transaction.

Here the same ``aiosqlite.Connection`` (SQLAlchemy's dialect is unchanged) runs each call
directly. What could block is waiting for another process's lock (the CLI writing while the
bot runs): SQLite's own busy handler would sleep on the loop's thread, so it is off, and a
busy database is retried here with ``asyncio.sleep`` between tries, which keeps the bot
answering (crisis replies fall back to the language code) while it waits.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from typing import Any

import aiosqlite

BUSY_SECONDS = 10.0  # how long a statement waits for another process's lock in all
BUSY_POLL_SECONDS = 0.005


def is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY


class InlineConnection(aiosqlite.Connection):
    """aiosqlite's connection with its calls made in place; its thread only connects and
    closes (the sqlite3 connection is made with ``check_same_thread=False`` for that)."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        loop = asyncio.get_running_loop()
        give_up = loop.time() + BUSY_SECONDS
        while True:
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as exc:
                # A busy lock is refused before anything is done, so trying again is safe.
                if not is_busy(exc) or loop.time() >= give_up:
                    raise
            await asyncio.sleep(BUSY_POLL_SECONDS)


async def connect(database: str) -> InlineConnection:
    """A connection for SQLAlchemy's ``async_creator``: transactions are begun explicitly
    (``isolation_level=None``), and SQLite's busy handler is off (see above)."""

    def connector() -> sqlite3.Connection:
        conn = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        conn.execute("PRAGMA busy_timeout=0")
        return conn

    connection = InlineConnection(connector, iter_chunk_size=64)
    connection._thread.daemon = True  # as SQLAlchemy does for the connections it makes
    await connection
    return connection
