"""Migrations are the only way the schema is made, and they agree with the models."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage.models import Base

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def _diff(url: str) -> list[object]:
    async def run() -> list[object]:
        engine = create_async_engine(url)

        def compare(connection: Connection) -> list[object]:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))

        async with engine.connect() as conn:
            result = await conn.run_sync(compare)
        await engine.dispose()
        return result

    return asyncio.run(run())


# Neither dialect can reflect the expression index on lower(alias); the test below checks it.
@pytest.mark.filterwarnings("ignore:.*expression-based index:UserWarning")
@pytest.mark.filterwarnings("ignore:.*expression-based index:sqlalchemy.exc.SAWarning")
def test_models_and_migrations_agree(database_url: str) -> None:
    assert _diff(database_url) == []


@pytest.mark.filterwarnings("ignore:.*expression-based index:sqlalchemy.exc.SAWarning")
def test_upgrading_keeps_notes_gives_relatives_aliases_and_separates_clashing_ones(
    database_url: str,
) -> None:
    """Migration 0008 on a database with data: the overwritten note becomes a note row,
    a relative gets an alias, and "LIN" beside "Lin" is renamed and reported."""
    from alembic import command
    from sqlalchemy import text

    from bot.storage.admin import renamed_aliases
    from bot.storage.db import Database
    from bot.storage.migrate import alembic_config, upgrade

    command.downgrade(alembic_config(database_url), "0007")
    people = [
        (1, "peer_worker", "Lin"),
        (2, "peer_worker", "LIN"),
        (3, "family", None),
        (4, "client", "K7Q2X"),
    ]

    async def seed() -> None:
        engine = create_async_engine(database_url)
        async with engine.begin() as conn:
            for person_id, role, alias in people:
                await conn.execute(
                    text(
                        "INSERT INTO people (id, telegram_user_id, chat_id, role, locale, timezone,"
                        " alias, on_duty, paused, created_at) VALUES (:id, :tg, :chat, :role, 'en',"
                        " 'UTC', :alias, :off, :unpaused, :at)"
                    ),
                    {
                        "id": person_id,
                        "tg": person_id,
                        "chat": person_id,
                        "role": role,
                        "alias": alias,
                        "off": False,
                        "unpaused": False,
                        "at": at,
                    },
                )
            await conn.execute(
                text(
                    "INSERT INTO escalations (client_id, tier, state, opened_at, reminders, note,"
                    " resolved_at, claimed_by) VALUES (4, 'routine', 'resolved', :at, 0,"
                    " 'talked about sleep', :at, 1)"
                ),
                {"at": at},
            )
        await engine.dispose()

    async def read() -> tuple[list[object], list[object], set[int]]:
        engine = create_async_engine(database_url)
        async with engine.connect() as conn:
            aliases = (await conn.execute(text("SELECT id, alias FROM people ORDER BY id"))).all()
            notes = (
                await conn.execute(
                    text(
                        "SELECT e.subject_id, n.text, n.author_id, n.closing FROM escalation_notes n"
                        " JOIN escalations e ON e.id = n.escalation_id"
                    )
                )
            ).all()
        await engine.dispose()
        db = Database(database_url)
        try:
            renamed = await renamed_aliases(db)
        finally:
            await db.dispose()
        return list(aliases), list(notes), renamed

    # sqlite3's own datetime adapter is deprecated (Python 3.12+): give SQLite text
    at: object = NOW if database_url.startswith("postgresql") else NOW.isoformat(" ")
    asyncio.run(seed())
    upgrade(database_url)
    aliases, notes, renamed = asyncio.run(read())
    assert [tuple(a) for a in aliases][:2] == [(1, "Lin"), (2, "LIN2")]
    assert aliases[2][1] is not None and len(str(aliases[2][1])) == 5, "a relative's alias"
    assert [tuple(n) for n in notes] == [(4, "talked about sleep", 1, True)]
    assert renamed == {2}

    async def clash() -> None:
        engine = create_async_engine(database_url)
        try:
            async with engine.begin() as conn:
                await conn.execute(text("UPDATE people SET alias = 'lin' WHERE id = 4"))
        finally:
            await engine.dispose()

    with pytest.raises(IntegrityError):
        asyncio.run(clash())


@pytest.mark.filterwarnings("ignore:.*expression-based index:sqlalchemy.exc.SAWarning")
def test_escalation_clocks_move_into_the_schedules_table_and_back(database_url: str) -> None:
    """Migration 0010 on a database with an open and a claimed escalation: each clock that
    ran becomes its subject's schedule row; downgrading puts them back in their columns."""
    from alembic import command
    from sqlalchemy import text

    from bot.storage.migrate import alembic_config, upgrade

    claim_due, reply_due = NOW + timedelta(hours=2), NOW + timedelta(minutes=15)
    # sqlite3's own datetime adapter is deprecated (Python 3.12+): give SQLite text
    postgres = database_url.startswith("postgresql")

    def value(moment: datetime) -> object:
        return moment if postgres else moment.isoformat(" ")

    def moment(stored: object) -> datetime:
        found = stored if isinstance(stored, datetime) else datetime.fromisoformat(str(stored))
        return found.astimezone(UTC) if found.tzinfo else found.replace(tzinfo=UTC)

    async def run(*statements: str) -> list[tuple[object, ...]]:
        engine = create_async_engine(database_url)
        rows: list[tuple[object, ...]] = []
        async with engine.begin() as conn:
            for statement in statements:
                result = await conn.execute(
                    text(statement),
                    {"at": value(NOW), "claim": value(claim_due), "reply": value(reply_due)},
                )
                if result.returns_rows:
                    rows += [tuple(row) for row in result.all()]
        await engine.dispose()
        return rows

    command.downgrade(alembic_config(database_url), "0009")
    people = ", ".join(
        f"({n}, {n}, {n}, '{role}', 'en', 'UTC', 'A{n}', false, false, :at)"
        for n, role in ((1, "client"), (2, "client"), (3, "peer_worker"))
    )
    asyncio.run(
        run(
            "INSERT INTO people (id, telegram_user_id, chat_id, role, locale, timezone, alias,"
            f" on_duty, paused, created_at) VALUES {people}",
            "INSERT INTO escalations (subject_id, ref, tier, state, opened_at, reminders,"
            " claim_due_at) VALUES (1, 'aaaaaa', 'same_day', 'open', :at, 0, :claim)",
            "INSERT INTO escalations (subject_id, ref, tier, state, opened_at, reminders,"
            " claimed_by, reply_due_at) VALUES (2, 'bbbbbb', 'urgent', 'claimed', :at, 0, 3,"
            " :reply)",
        )
    )
    upgrade(database_url)
    clocks = asyncio.run(
        run("SELECT person_id, kind, due_at FROM schedules ORDER BY person_id, kind")
    )
    assert [(p, k, moment(d)) for p, k, d in clocks] == [
        (1, "escalation", claim_due),
        (2, "escalation", reply_due),
    ]

    command.downgrade(alembic_config(database_url), "0009")
    columns = asyncio.run(
        run("SELECT subject_id, claim_due_at, reply_due_at FROM escalations ORDER BY subject_id")
    )
    assert [(s, c and moment(c), r and moment(r)) for s, c, r in columns] == [
        (1, claim_due, None),
        (2, None, reply_due),
    ]
    assert asyncio.run(run("SELECT person_id FROM schedules")) == []
    upgrade(database_url)
