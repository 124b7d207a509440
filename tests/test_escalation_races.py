"""Opening an escalation cannot lose a race: two reasons about one person at the same instant
end in one escalation carrying both (on PostgreSQL, where two transactions really overlap)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from telegram import Update

from bot.storage.models import (
    Escalation,
    EscalationReason,
    FamilyLink,
    RiskEvent,
)
from flows.roles import Role
from tests.harness import Harness
from tests.harness import Person as Chat

NOW = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
TRIALS = 50


async def _pair(harness: Harness, n: int) -> tuple[Chat, Chat, int]:
    """A client and their relative (alerts shared), made directly in the database."""
    client, client_id = await harness.make_person(Role.CLIENT, f"C{n:04}", NOW)
    relative, relative_id = await harness.make_person(Role.FAMILY, f"R{n:04}", NOW)
    async with harness.db.transaction() as session:
        session.add(
            FamilyLink(
                client_id=client_id,
                family_id=relative_id,
                share_summary=False,
                share_alerts=True,
                created_at=NOW,
            )
        )
    return client, relative, client_id


def _update(harness: Harness, chat: Chat, text: str) -> Update:
    assert harness.services is not None
    return Update.de_json(
        {"update_id": next(harness.update_ids), "message": chat._message(text)},
        harness.services.application.bot,
    )


# PostgreSQL only: SQLite runs one writer at a time, so these transactions never overlap.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_crisis_and_a_concern_at_the_same_instant_make_one_urgent_escalation(
    harness: Harness,
) -> None:
    harness.set_now(NOW)
    assert harness.services is not None
    application = harness.services.application
    processor = application.update_processor
    for n in range(TRIALS):
        client, relative, client_id = await _pair(harness, n)
        await relative.send("/worried")
        await relative.press("Next ›")
        both = [
            _update(harness, client, "I want to kill myself tonight"),
            _update(harness, relative, "he is giving his things away"),
        ]
        await asyncio.gather(
            *(processor.process_update(u, application.process_update(u)) for u in both)
        )
        async with harness.db.sessions() as session:
            rows = (
                await session.scalars(
                    select(Escalation).where(
                        Escalation.subject_id == client_id, Escalation.resolved_at.is_(None)
                    )
                )
            ).all()
            assert len(rows) == 1, f"trial {n}: {len(rows)} open escalations"
            reasons = (
                await session.scalars(
                    select(EscalationReason.source).where(
                        EscalationReason.escalation_id == rows[0].id
                    )
                )
            ).all()
            risks = (
                await session.scalars(
                    select(RiskEvent.level).where(RiskEvent.person_id == client_id)
                )
            ).all()
        assert rows[0].tier == "urgent", f"trial {n}"
        assert sorted(reasons) == ["crisis", "family"], f"trial {n}: {reasons}"
        assert list(risks) == ["crisis"], f"trial {n}"
