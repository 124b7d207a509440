"""A staff member's duty clock (``staff_duty``), moved by ``flows.supervision.duty_after``."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import StaffDuty
from flows.supervision import Duty, duty_after


def duty_of(row: StaffDuty | None) -> Duty:
    if row is None:
        return Duty()
    return Duty(row.since, row.shift_started_at, row.off_at)


async def duty_changed(
    session: AsyncSession, person_id: int, on: bool, now: datetime, long_gap: timedelta
) -> None:
    """They went on or off duty: the stretch, the shift and the reminder follow."""
    row = await session.get(StaffDuty, person_id)
    before = duty_of(row)
    after = duty_after(before, on, now, long_gap)
    if after == before:
        return
    if row is None:
        row = StaffDuty(person_id=person_id)
        session.add(row)
    row.since, row.shift_started_at, row.off_at = after.since, after.shift_started, after.off_at
    if on:
        row.reminded_at = None  # a new stretch: remind again when it runs long
