"""When things are due, in the person's own time zone. Pure date arithmetic, DST-safe.

All results are UTC datetimes. A daily item is due once per local calendar day: after a
daylight-saving change the wall-clock time stays the same and no day is lost or doubled.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A relative's lesson days unless the program sets its own: weekday numbers, Monday is 0
# (Tuesday and Friday, so a week's two lessons are spread out).
LESSON_DAYS = "1,4"


def lesson_weekdays(lesson_days: str | None) -> list[int]:
    """A relative's lesson days as weekday numbers (the default days when none are set)."""
    days = (day.strip() for day in (lesson_days or LESSON_DAYS).split(","))
    return [int(day) for day in days if day in set("0123456")]


def local_date(moment: datetime, zone: str) -> date:
    return moment.astimezone(ZoneInfo(zone)).date()


def at_local(day: date, clock: time, zone: str) -> datetime:
    """The UTC instant of ``clock`` on ``day`` in ``zone``.

    A wall-clock time that does not exist (skipped by a spring-forward change) is taken
    as the same time after the change; an ambiguous one (autumn) as its first occurrence.
    """
    # fold=0 means: in a gap, the offset before the change applies (so the time lands
    # after the gap); in an overlap, the first occurrence.
    return datetime.combine(day, clock, tzinfo=ZoneInfo(zone)).replace(fold=0).astimezone(UTC)


def next_daily(clock: time, zone: str, after: datetime, skip_day: date | None = None) -> datetime:
    """The first ``clock`` in ``zone`` strictly after ``after``, never on ``skip_day``."""
    day = local_date(after, zone)
    for offset in range(3):
        candidate_day = day + timedelta(days=offset)
        if candidate_day == skip_day:
            continue
        candidate = at_local(candidate_day, clock, zone)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a daily time recurs within three days")


def next_weekly(weekday: int, clock: time, zone: str, after: datetime) -> datetime:
    """The first ``weekday`` (0 = Monday) at ``clock`` in ``zone`` strictly after ``after``."""
    day = local_date(after, zone)
    for offset in range(15):
        candidate_day = day + timedelta(days=offset)
        if candidate_day.weekday() != weekday:
            continue
        candidate = at_local(candidate_day, clock, zone)
        if candidate > after:
            return candidate
    raise AssertionError("unreachable: a weekday recurs within two weeks")


def shifted(clock: time, by: timedelta) -> time | None:
    """``clock`` moved later by ``by`` on the same day, or None when it would pass midnight."""
    minutes = clock.hour * 60 + clock.minute + int(by.total_seconds() // 60)
    if minutes >= 24 * 60:
        return None
    return time(minutes // 60, minutes % 60)
