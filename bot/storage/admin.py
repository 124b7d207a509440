"""Queries behind the admin command line."""

from __future__ import annotations

from sqlalchemy import select

from bot.storage.db import Database
from bot.storage.models import AuditEvent, Person


async def list_people(db: Database, role: str | None = None) -> list[Person]:
    async with db.sessions() as session:
        query = select(Person).order_by(Person.id)
        if role is not None:
            query = query.where(Person.role == role)
        return list((await session.scalars(query)).all())


async def renamed_aliases(db: Database) -> set[int]:
    """People whose alias was changed by an upgrade because it clashed with another ignoring
    case ("LIN" beside "Lin"): they should choose a new one in /settings."""
    async with db.sessions() as session:
        rows = await session.scalars(
            select(AuditEvent.subject_id).where(AuditEvent.action == "alias_renamed")
        )
        return {int(r) for r in rows if r is not None}


async def rotate_encryption(db: Database, keys: list[str]) -> int:
    """Re-encrypt every stored free text (``bot.storage.encrypted``) with the newest key;
    returns how many values changed."""
    from sqlalchemy import update

    from bot.crypto import Cipher
    from bot.storage.encrypted import FREE_TEXT, rotate

    cipher = Cipher(keys)
    changed = 0
    async with db.transaction() as session:
        for free in FREE_TEXT:
            table = free.column.class_
            key = table.__mapper__.primary_key
            rows = (await session.execute(select(*key, free.column))).all()
            for row in rows:
                *ids, value = row
                rotated = rotate(cipher, value, free.many)
                if rotated != value:
                    await session.execute(
                        update(table)
                        .where(*(column == value_ for column, value_ in zip(key, ids, strict=True)))
                        .values({free.column.key: rotated})
                    )
                    changed += 1
    return changed
