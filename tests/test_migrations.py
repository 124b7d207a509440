"""Migrations are the only way the schema is made, and they agree with the models."""

from __future__ import annotations

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from bot.storage.models import Base


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


def test_models_and_migrations_agree(database_url: str) -> None:
    assert _diff(database_url) == []
