"""A person's schedule rows: recomputed whenever their time, zone, role or pause changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Person, Schedule
from bot.storage.people import view_of
from flows.timers import KINDS, Timing, plan


async def reschedule(session: AsyncSession, person: Person, now: datetime, timing: Timing) -> None:
    """Recompute a person's schedule rows after onboarding or a change of time or zone
    (which rows, and when, is ``flows.timers.plan``'s to say).

    The local day already prompted is remembered, so moving the time or the zone never
    brings a second prompt on the same day.
    """
    existing = {
        row.kind: row
        for row in (
            await session.scalars(select(Schedule).where(Schedule.person_id == person.id))
        ).all()
    }
    fired = {kind: row.last_local_date for kind, row in existing.items()}
    wanted = plan(view_of(person), now, timing, fired)
    for kind, row in existing.items():
        if kind in KINDS and kind not in wanted:
            await session.delete(row)
    for kind, due in wanted.items():
        if kind in existing:
            existing[kind].due_at = due
        else:
            session.add(Schedule(person_id=person.id, kind=kind, due_at=due))
