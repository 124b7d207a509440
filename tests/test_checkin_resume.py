"""A check-in left halfway is picked up where it stopped, the same day."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from bot.storage.models import CheckIn, Person
from flows.roles import Role
from tests.harness import Harness

MOOD = "How has your mood been today?"
MEDICATION = "Did you take your medication today?"


async def test_checkin_again_later_asks_the_first_unanswered_question(harness: Harness) -> None:
    harness.set_now(datetime(2026, 3, 2, 4, tzinfo=UTC))  # noon in Shanghai
    client = await harness.onboard(Role.CLIENT)
    first = "\n".join(r.text for r in await client.send("/checkin"))
    assert MOOD in first
    await client.press("😐 Okay")
    await client.press("As usual")
    harness.set_now(datetime(2026, 3, 2, 9, tzinfo=UTC))  # the same evening
    again = "\n".join(r.text for r in await client.send("/checkin"))
    assert MEDICATION in again and MOOD not in again
    async with harness.db.sessions() as session:
        person = await session.scalar(
            select(Person).where(Person.telegram_user_id == client.user_id)
        )
        assert person is not None
        rows = (await session.scalars(select(CheckIn).where(CheckIn.person_id == person.id))).all()
    assert [(r.mood, r.sleep, r.started_at is not None) for r in rows] == [(3, 0, True)]
