"""Coping cards shown and whether they helped; the family course's feedback. Plain rows the
program's reports read (docs/lessons.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import CopingCard, CourseFeedback


async def shown(
    session: AsyncSession, person_id: int, card: str, source: str, now: datetime
) -> None:
    session.add(CopingCard(person_id=person_id, card=card, source=source, shown_at=now))


async def helped(
    session: AsyncSession, person_id: int, card: str, answer: str, now: datetime
) -> None:
    """The answer goes on the latest showing of that card not answered yet; a second tap on
    the same card changes the latest answer (never a row of another card)."""
    latest = await session.scalar(
        select(CopingCard)
        .where(CopingCard.person_id == person_id, CopingCard.card == card)
        .order_by(CopingCard.helped.is_not(None), CopingCard.shown_at.desc(), CopingCard.id.desc())
        .limit(1)
    )
    if latest is None:  # the card's row went (erased data): keep the answer anyway
        latest = CopingCard(person_id=person_id, card=card, source="library", shown_at=now)
        session.add(latest)
    latest.helped = answer
    latest.answered_at = now


async def course_feedback(
    session: AsyncSession, person_id: int, useful: str, now: datetime, course: str = "family"
) -> None:
    session.add(CourseFeedback(person_id=person_id, useful=useful, given_at=now, course=course))
