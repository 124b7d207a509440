"""A person's schedule rows: recomputed whenever their time, zone, role or pause changes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Person, Schedule
from flows.people import Role
from flows.schedule import LESSON_DAYS, next_daily, next_weekly, shifted

CHECKIN, REMINDER, WEEKLY = "checkin", "reminder", "weekly"
LESSON, FAMILY_SUMMARY = "lesson", "family_summary"
KINDS = (CHECKIN, REMINDER, WEEKLY, LESSON, FAMILY_SUMMARY)


def lesson_weekdays(person: Person) -> list[int]:
    return [
        int(day) for day in (person.lesson_days or LESSON_DAYS).split(",") if day.strip().isdigit()
    ]


def next_lesson_due(person: Person, after: datetime) -> datetime | None:
    """The next of the member's lesson days at their chosen time."""
    if person.checkin_time is None:
        return None
    days = lesson_weekdays(person)
    if not days:
        return None
    return min(next_weekly(day, person.checkin_time, person.timezone, after) for day in days)


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
    if person.role == Role.FAMILY.value and person.onboarded_at is not None and person.checkin_time:
        lesson = next_lesson_due(person, now)
        if lesson is not None:
            wanted[LESSON] = lesson
        wanted[FAMILY_SUMMARY] = next_weekly(summary_day, person.checkin_time, person.timezone, now)
    for kind, row in existing.items():
        if kind in KINDS and kind not in wanted:
            await session.delete(row)
    for kind, due in wanted.items():
        if kind in existing:
            existing[kind].due_at = due
        else:
            session.add(Schedule(person_id=person.id, kind=kind, due_at=due))
