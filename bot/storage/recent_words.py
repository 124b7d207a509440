"""A person's last screened messages, kept for minutes so the crisis screen can read a new
message together with them (flows/risk/context.py). One row per person, encrypted,
overwritten by their next screened message and deleted by the scheduler's sweep once the
window has passed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import Cipher
from bot.storage.models import Person, RecentWords
from flows.risk.context import kept, recent
from flows.risk.levels import Level

Said = tuple[datetime, str]


async def earlier(
    session: AsyncSession, telegram_user_id: int, now: datetime, window: timedelta, cipher: Cipher
) -> list[Said]:
    """What the person said within ``window`` before ``now``, oldest first: one read, by the
    unique index on the Telegram id and the row's primary key."""
    return await _said(session, Person.telegram_user_id == telegram_user_id, now, window, cipher)


async def _said(
    session: AsyncSession,
    whose: ColumnElement[bool],
    now: datetime,
    window: timedelta,
    cipher: Cipher,
) -> list[Said]:
    """What one person (``whose``: a condition on their row) said within the window."""
    row = (
        await session.execute(
            select(RecentWords.texts, RecentWords.said_at)
            .join(Person, Person.id == RecentWords.person_id)
            .where(whose, RecentWords.expires_at >= now)
        )
    ).first()
    if row is None:
        return []
    texts, times = row
    said = zip(map(datetime.fromisoformat, times), map(cipher.decrypt, texts), strict=True)
    return recent(list(said), now, window)


async def locked(
    session: AsyncSession, person_id: int, now: datetime, window: timedelta, cipher: Cipher
) -> list[Said]:
    """What the person said within ``window`` before ``now``, read again with their row
    locked: the words another worker stored after the read made before the lock are here."""
    return await _said(session, RecentWords.person_id == person_id, now, window, cipher)


async def remember(
    session: AsyncSession,
    person_id: int,
    said: list[Said],
    text: str,
    level: Level,
    now: datetime,
    window: timedelta,
    cipher: Cipher,
) -> None:
    """Keep this message with the one before it (``said``: what ``locked`` read, so words
    another worker stored meanwhile are not overwritten); after a crisis, keep nothing."""
    texts = kept([t for _, t in said], text, level)
    if not texts:
        await session.execute(delete(RecentWords).where(RecentWords.person_id == person_id))
        return
    times = [at for at, _ in said] + [now]
    values = {
        "person_id": person_id,
        "texts": [cipher.encrypt(t) for t in texts],
        "said_at": [at.isoformat() for at in times[len(times) - len(texts) :]],
        "expires_at": now + window,
    }
    # One statement: insert, or overwrite what the last message left.
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = upsert(RecentWords).values(values)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[RecentWords.person_id],
            set_={key: statement.excluded[key] for key in values if key != "person_id"},
        )
    )


async def sweep(session: AsyncSession, now: datetime) -> int:
    """Delete every row whose window has passed (by the index on ``expires_at``)."""
    result = await session.execute(delete(RecentWords).where(RecentWords.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)
