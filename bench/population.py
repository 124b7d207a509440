"""Onboarded clients made directly as rows, in bulk: what N people who went through onboarding leave.

Rows are what ``Dispatcher._welcome`` and onboarding store (a person, their flow row, their
schedule rows computed with the project's own ``flows.schedule`` functions), plus a day of
check-in history, for every tenth client two warning signs answered yesterday, and for
every twentieth a resolved escalation (the history a running program accumulates, which
the scheduler's look-up of chats a peer worker holds must not scan). Yesterday's
medication answer is "none prescribed", as the benchmarks' clients answer today, except
for every twentieth client, whose "taken" yesterday makes today's check-in raise a
stopped-medication flag: one finished check-in in twenty opens an escalation. (Until
2026-12-06 every client had "taken", so nine in ten finished check-ins opened one, all in
the same few seconds of a run.)
PostgreSQL gets them with ``COPY`` (asyncpg ``copy_records_to_table``); SQLite with
``executemany``. Check-in times are spread over the whole day (UTC) across five time
zones, always at a local time outside quiet hours, as real clients would choose.
"""

from __future__ import annotations

import json
import random
import time as clock
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert as insert_rows
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bot.config import Settings
from bot.storage.models import (
    Base,
    CheckIn,
    Escalation,
    FlowState,
    Person,
    Schedule,
    SignAnswer,
    WarningSign,
)
from bot.storage.people import SETTINGS
from flows.people import Rules
from flows.schedule import local_date, next_daily, next_weekly, shifted
from flows.timers import CHECKIN, REMINDER, WEEKLY

ZONES = ("Asia/Shanghai", "Asia/Taipei", "Europe/London", "America/New_York", "America/Los_Angeles")
ALIAS_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # bot.storage.people.person_alias's alphabet
FIRST_USER_ID = 1_000_001  # the sandbox's first simulated person, so both can share ids
CHUNK = 20_000


FLAGGED_EVERY = 20  # every twentieth client's check-in today raises a flag


@dataclass(frozen=True)
class Population:
    """How many clients, from which Telegram id, and how many are in the middle of a check-in."""

    clients: int
    in_progress: int = 0
    first_user_id: int = FIRST_USER_ID
    # The instant the rows were made at: schedules are due after it, history is before it.
    now: datetime = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)  # a Wednesday: no weekly summaries
    zone: str | None = None  # one zone for everyone (in-process runs), else spread
    seed: int = 20261123
    signs_every: int = 10
    resolved_escalations_every: int = 20
    # Schedule rows fall due after this instant (default ``now``): a live run can start
    # with nothing due during it.
    schedules_after: datetime | None = None

    def user_id(self, index: int) -> int:
        return self.first_user_id + index


def alias(index: int) -> str:
    """A unique client alias in the shape the bot makes (four letters of its alphabet)."""
    letters = []
    for _ in range(4):
        index, digit = divmod(index, len(ALIAS_LETTERS))
        letters.append(ALIAS_LETTERS[digit])
    return "".join(letters)


def checkin_context(day: date) -> dict[str, Any]:
    """A check-in flow's context at its first question, as ``checkins.open_today`` makes it."""
    return {
        "day": day.isoformat(),
        "answers": {},
        "signs": [],
        "signs_answered": [],
        "completed": False,
    }


@cache
def _local_clock(zone: str, utc_minute: int, day: date) -> time:
    moment = datetime.combine(day, time(), tzinfo=UTC) + timedelta(minutes=utc_minute)
    local = moment.astimezone(ZoneInfo(zone))
    return time(local.hour, local.minute)


@cache
def _due(
    zone: str, clock_time: time, now: datetime, reminder_minutes: int, quiet: Rules, weekday: int
) -> tuple[datetime, datetime | None, datetime]:
    checkin = next_daily(clock_time, zone, now)
    reminder_at = shifted(clock_time, timedelta(minutes=reminder_minutes))
    reminder = (
        next_daily(reminder_at, zone, now)
        if reminder_at is not None and not quiet.is_quiet(reminder_at)
        else None
    )
    return checkin, reminder, next_weekly(weekday, clock_time, zone, now)


def _pick(rng: random.Random, pop: Population, rules: Rules) -> tuple[str, time]:
    """A zone and a local check-in time outside quiet hours, the UTC minute spread evenly."""
    minute = rng.randrange(24 * 60)
    zones = [pop.zone] if pop.zone else rng.sample(ZONES, len(ZONES))
    for zone in zones:
        local = _local_clock(zone, minute, pop.now.date())
        if not rules.is_quiet(local):
            return zone, local
    return zones[0], time(19, 0)


@dataclass
class Rows:
    """Rows for each table, as tuples in the order of ``COLUMNS[table]``."""

    people: list[tuple[Any, ...]]
    flow_states: list[tuple[Any, ...]]
    schedules: list[tuple[Any, ...]]
    checkins: list[tuple[Any, ...]]
    warning_signs: list[tuple[Any, ...]]
    checkin_signs: list[tuple[Any, ...]]
    escalations: list[tuple[Any, ...]]


COLUMNS: dict[str, tuple[str, ...]] = {
    "people": (
        "id",
        "telegram_user_id",
        "chat_id",
        "role",
        *SETTINGS,
        "consented_at",
        "onboarded_at",
        "created_at",
    ),
    "flow_states": ("person_id", "flow", "state", "context", "step", "updated_at"),
    "schedules": ("person_id", "kind", "due_at", "last_local_date"),
    "checkins": (
        "id",
        "person_id",
        "local_date",
        "started_at",
        "completed_at",
        "mood",
        "sleep",
        "medication",
        "contact",
        "stress",
    ),
    "warning_signs": ("id", "person_id", "text", "created_at"),
    "checkin_signs": ("checkin_id", "sign_id", "present"),
    "escalations": (
        "id",
        "subject_id",
        "ref",
        "tier",
        "state",
        "opened_at",
        "reminders",
        "resolved_at",
        "outcome",
    ),
}
MODELS: dict[str, type[Base]] = {
    "people": Person,
    "flow_states": FlowState,
    "schedules": Schedule,
    "checkins": CheckIn,
    "warning_signs": WarningSign,
    "checkin_signs": SignAnswer,
    "escalations": Escalation,
}


def rows(pop: Population, settings: Settings, start: int, stop: int) -> Rows:
    """The rows of clients ``start`` to ``stop - 1`` (ids start at 1)."""
    rules = Rules(quiet_start=settings.quiet_hours_start, quiet_end=settings.quiet_hours_end)
    rng = random.Random(pop.seed + start)
    onboarded = pop.now - timedelta(days=30)
    out = Rows([], [], [], [], [], [], [])
    for index in range(start, stop):
        person_id = index + 1
        user_id = pop.user_id(index)
        zone, checkin_time = _pick(rng, pop, rules)
        chosen = {  # what onboarding leaves
            "locale": "en",
            "timezone": zone,
            "region": "CN",
            "checkin_time": checkin_time,
            "alias": alias(index),
            "on_duty": False,
            "paused": False,
            "lesson_days": None,
        }
        out.people.append(
            (
                person_id,
                user_id,
                user_id,
                "client",
                *(chosen[name] for name in SETTINGS),
                onboarded,
                onboarded,
                onboarded,
            )
        )
        today = local_date(pop.now, zone)
        if index < pop.in_progress:
            flow: tuple[Any, ...] = ("checkin", "mood", checkin_context(today), 8)
        else:
            flow = (None, None, {}, 7)
        out.flow_states.append((person_id, *flow, pop.now))
        checkin, reminder, weekly = _due(
            zone,
            checkin_time,
            pop.schedules_after or pop.now,
            settings.reminder_after_minutes,
            rules,
            settings.weekly_summary_day,
        )
        yesterday = today - timedelta(days=1)
        out.schedules.append((person_id, CHECKIN, checkin, yesterday))
        if reminder is not None:
            out.schedules.append((person_id, REMINDER, reminder, yesterday))
        out.schedules.append((person_id, WEEKLY, weekly, None))
        answered = pop.now - timedelta(hours=20)
        out.checkins.append(
            (
                person_id,
                person_id,
                yesterday,
                answered,
                answered,
                rng.randint(2, 5),
                0,
                "taken" if index % FLAGGED_EVERY == FLAGGED_EVERY - 1 else "not_prescribed",
                1,
                1,
            )
        )
        if index < pop.in_progress:
            out.checkins.append(
                (
                    pop.clients + person_id,
                    person_id,
                    today,
                    pop.now,
                    None,
                    None,
                    None,
                    None,
                    None,
                    None,
                )
            )
        if pop.signs_every and index % pop.signs_every == 0:
            for n in (0, 1):
                sign_id = 2 * index + n + 1
                out.warning_signs.append((sign_id, person_id, f"sign {n}", onboarded))
                out.checkin_signs.append((person_id, sign_id, n == 0))
        if pop.resolved_escalations_every and index % pop.resolved_escalations_every == 0:
            opened = pop.now - timedelta(days=10)
            out.escalations.append(
                (
                    person_id,
                    person_id,
                    f"{person_id:06x}"[-6:],
                    "routine",
                    "resolved",
                    opened,
                    0,
                    opened,
                    "resolved",
                )
            )
    return out


def _chunks(total: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, CHUNK):
        yield start, min(total, start + CHUNK)


async def insert(url: str, pop: Population, settings: Settings) -> float:
    """Insert the population; returns the seconds it took (row generation included)."""
    started = clock.perf_counter()
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            for start, stop in _chunks(pop.clients):
                batch = rows(pop, settings, start, stop)
                for table in COLUMNS:
                    await _write(conn, table, getattr(batch, table), url)
            if url.startswith("postgresql"):
                for table, column in (
                    ("people", "id"),
                    ("checkins", "id"),
                    ("warning_signs", "id"),
                    ("escalations", "id"),
                ):
                    await conn.execute(
                        text(
                            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
                            f"(SELECT coalesce(max({column}), 0) + 1 FROM {table}), false)"
                        )
                    )
        if url.startswith("postgresql"):
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text("VACUUM ANALYZE"))
        else:
            async with engine.begin() as conn:
                await conn.execute(text("ANALYZE"))
    finally:
        await engine.dispose()
    return clock.perf_counter() - started


async def _write(
    conn: AsyncConnection, table: str, records: Sequence[tuple[Any, ...]], url: str
) -> None:
    if not records:
        return
    columns = COLUMNS[table]
    if url.startswith("postgresql"):
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        if table == "flow_states":  # asyncpg copies JSON columns as text
            at = columns.index("context")
            records = [(*r[:at], json.dumps(r[at]), *r[at + 1 :]) for r in records]
        await driver.copy_records_to_table(table, records=records, columns=list(columns))
        return
    await conn.execute(
        insert_rows(MODELS[table]), [dict(zip(columns, r, strict=True)) for r in records]
    )
