"""A person's schedule rows: recomputed whenever their time, zone, role or pause changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Person, Schedule
from flows.people import Role
from flows.schedule import next_daily, next_weekly, shifted

CHECKIN, REMINDER, WEEKLY = "checkin", "reminder", "weekly"


async def reschedule(
    session: AsyncSession,
    person: Person,
    now: datetime,
    reminder_after: timedelta,
    summary_day: int,
    quiet: Callable[[time], bool],
) -> None:
    """Recompute a person's schedule rows after onboarding or a change of time or zone.

    The local day already prompted is remembered, so moving the time or the zone never
    brings a second prompt on the same day.
    """
    existing = {
        row.kind: row
        for row in (
            await session.scalars(select(Schedule).where(Schedule.person_id == person.id))
        ).all()
    }
    wanted: dict[str, datetime] = {}
    if person.role == Role.CLIENT.value and person.onboarded_at is not None and person.checkin_time:
        zone = person.timezone
        prompted = existing[CHECKIN].last_local_date if CHECKIN in existing else None
        wanted[CHECKIN] = next_daily(person.checkin_time, zone, now, skip_day=prompted)
        reminder_at = shifted(person.checkin_time, reminder_after) if reminder_after else None
        if reminder_at is not None and not quiet(reminder_at):
            reminded = existing[REMINDER].last_local_date if REMINDER in existing else None
            wanted[REMINDER] = next_daily(reminder_at, zone, now, skip_day=reminded)
        wanted[WEEKLY] = next_weekly(summary_day, person.checkin_time, zone, now)
    for kind, row in existing.items():
        if kind in (CHECKIN, REMINDER, WEEKLY) and kind not in wanted:
            await session.delete(row)
    for kind, due in wanted.items():
        if kind in existing:
            existing[kind].due_at = due
        else:
            session.add(Schedule(person_id=person.id, kind=kind, due_at=due))
