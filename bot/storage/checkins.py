"""Check-in rows: today's row, answers as they come, and the records rules and charts read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Date, Integer, Update, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import CheckIn, Person, SignAnswer, WarningSign
from flows.flags import DayRecord

FIELDS = ("mood", "sleep", "medication", "side_effects", "unusual", "distress", "contact", "stress")


# The statements opening a check-in (every "Start check-in" tap), built once.
_ACTIVE_SIGNS = (
    select(WarningSign)
    .where(WarningSign.person_id == bindparam("person"), WarningSign.removed_at.is_(None))
    .order_by(WarningSign.id)
)
_FOR_DAY = select(CheckIn).where(
    CheckIn.person_id == bindparam("person"), CheckIn.local_date == bindparam("day")
)
_ANSWERED_SIGNS = select(SignAnswer.sign_id).where(SignAnswer.checkin_id == bindparam("checkin"))
# ``raw``: one INSERT as written, not the ORM's bulk-insert path (which costs more than the
# statement for a single row).
_OPEN_DAY = (
    insert(CheckIn)
    .values(person_id=bindparam("person"), local_date=bindparam("day"), started_at=bindparam("now"))
    .execution_options(dml_strategy="raw")
)


async def active_signs(session: AsyncSession, person_id: int) -> list[WarningSign]:
    return list((await session.scalars(_ACTIVE_SIGNS, {"person": person_id})).all())


async def for_day(session: AsyncSession, person_id: int, day: date) -> CheckIn | None:
    return await session.scalar(_FOR_DAY, {"person": person_id, "day": day})


async def open_today(
    session: AsyncSession, person: Person, day: date, now: datetime
) -> dict[str, Any]:
    """Today's check-in as the flow saves it (answers, and the ids of the signs to ask, never
    their words); creates the row on first use."""
    row = await for_day(session, person.id, day)
    answers: dict[str, Any] = {}
    answered_signs: list[int] = []
    if row is None:  # the day's first: a new, empty row
        await session.execute(_OPEN_DAY, {"person": person.id, "day": day, "now": now})
    else:
        answers = {f: getattr(row, f) for f in FIELDS if getattr(row, f) is not None}
        answered_signs = list((await session.scalars(_ANSWERED_SIGNS, {"checkin": row.id})).all())
    signs = await active_signs(session, person.id)
    return {
        "day": day.isoformat(),
        "answers": answers,
        "signs": [sign.id for sign in signs],
        "signs_answered": answered_signs,
        "completed": row is not None and row.completed_at is not None,
    }


async def done_today(session: AsyncSession, person_id: int, day: date) -> bool:
    row = await for_day(session, person_id, day)
    return row is not None and row.completed_at is not None


async def record(session: AsyncSession, person_id: int, day: date, field: str, value: Any) -> None:
    """Store one answer. A plain answer is one UPDATE of the day's row, sent without flushing
    the session first, so the person's flow row goes out once, at commit, not twice."""
    if field == "sign":
        row = await _row_for(session, person_id, day)
        sign_id, present = int(value[0]), bool(value[1])
        existing = await session.get(SignAnswer, (row.id, sign_id))
        if existing is None:
            session.add(SignAnswer(checkin_id=row.id, sign_id=sign_id, present=present))
        else:
            existing.present = present
        return
    if field not in (*FIELDS, "note"):
        raise ValueError(f"unknown check-in field {field}")
    result = await session.execute(
        _ANSWER_UPDATES[field], {"p_person": person_id, "p_day": day, "p_value": value}
    )
    if _rowcount(result) == 0:  # the row is made when the check-in opens; this is a safety net
        session.add(CheckIn(person_id=person_id, local_date=day, **{field: value}))


# The day's row is changed by UPDATEs built once, with bind parameters. Neither flushes the
# session first, and neither looks for loaded ``CheckIn`` objects to change (nothing reads
# one after an answer in the same transaction): both would cost more than the UPDATE.
_UNSYNCHRONISED = {"synchronize_session": False, "autoflush": False}


def _answer_update(field: str) -> Update:
    return (
        update(CheckIn)
        .where(CheckIn.person_id == bindparam("p_person"), CheckIn.local_date == bindparam("p_day"))
        .values({field: bindparam("p_value")})
        .execution_options(**_UNSYNCHRONISED)
    )


_ANSWER_UPDATES = {field: _answer_update(field) for field in (*FIELDS, "note")}
_FINISH = (
    update(CheckIn)
    .where(
        CheckIn.person_id == bindparam("p_person"),
        CheckIn.local_date == bindparam("p_day"),
        CheckIn.completed_at.is_(None),
    )
    .values(completed_at=bindparam("p_now"))
    .execution_options(**_UNSYNCHRONISED)
)


async def _row_for(session: AsyncSession, person_id: int, day: date) -> CheckIn:
    row = await for_day(session, person_id, day)
    if row is None:  # the row is made when the check-in opens; this is a safety net
        row = CheckIn(person_id=person_id, local_date=day)
        session.add(row)
        await session.flush()
    return row


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


async def finish(session: AsyncSession, person_id: int, day: date, now: datetime) -> None:
    await session.execute(_FINISH, {"p_person": person_id, "p_day": day, "p_now": now})


_IDS = bindparam("ids", type_=Integer, expanding=True)
_SINCE = bindparam("since", type_=Date)
# Warning-sign counts per day, only over the asked people's days (the whole table grows with
# every answer).
_SIGN_COUNTS = (
    select(
        SignAnswer.checkin_id,
        func.count().filter(SignAnswer.present.is_(True)).label("yes"),
        func.count().label("asked"),
    )
    .join(CheckIn, CheckIn.id == SignAnswer.checkin_id)
    .where(CheckIn.person_id.in_(_IDS), CheckIn.local_date >= _SINCE)
    .group_by(SignAnswer.checkin_id)
    .subquery()
)
# Day records of the people ``ids`` since ``since``, oldest first; built once (making this
# statement cost more CPU than running it, at the end of every check-in).
_RECORDS = (
    select(
        CheckIn.person_id,
        CheckIn.local_date,
        CheckIn.mood,
        CheckIn.sleep,
        CheckIn.medication,
        CheckIn.side_effects,
        CheckIn.unusual,
        CheckIn.distress,
        CheckIn.contact,
        CheckIn.stress,
        _SIGN_COUNTS.c.yes,
        _SIGN_COUNTS.c.asked,
    )
    .outerjoin(_SIGN_COUNTS, _SIGN_COUNTS.c.checkin_id == CheckIn.id)
    .where(CheckIn.person_id.in_(_IDS), CheckIn.local_date >= _SINCE)
    .order_by(CheckIn.local_date)
)


async def records(
    session: AsyncSession, person_ids: list[int], since: date
) -> dict[int, list[DayRecord]]:
    """Day records (every answer and the warning-sign counts) since ``since``, for several
    people at once."""
    if not person_ids:
        return {}
    rows = (await session.execute(_RECORDS, {"ids": person_ids, "since": since})).all()
    result: dict[int, list[DayRecord]] = {pid: [] for pid in person_ids}
    for person_id, day, *answers, yes, asked in rows:
        if all(answer is None for answer in answers) and not asked:
            continue  # opened but nothing answered: not a check-in
        result[person_id].append(day_record(day, answers, (yes or 0) if asked else None))
    return result


def day_record(day: date, answers: Sequence[Any], signs_yes: int | None) -> DayRecord:
    """A stored day's answers (in ``FIELDS`` order) as the rules, the card, /history and the
    chart read them."""
    by_field = dict(zip(FIELDS, answers, strict=True))
    unusual = by_field.pop("unusual")
    return DayRecord(
        day=day,
        signs_yes=signs_yes,
        unusual=tuple(unusual) if unusual is not None else None,
        **by_field,
    )


def window_start(today: date, days: int) -> date:
    return today - timedelta(days=days)


async def completed_days(session: AsyncSession, person_id: int, since: date) -> set[date]:
    rows = await session.scalars(
        select(CheckIn.local_date).where(
            CheckIn.person_id == person_id,
            CheckIn.local_date >= since,
            CheckIn.completed_at.is_not(None),
        )
    )
    return set(rows.all())


async def save_sign(session: AsyncSession, person_id: int, sign_id: int | None, text: str) -> None:
    if sign_id is None:
        session.add(WarningSign(person_id=person_id, text=text))
        return
    sign = await session.get(WarningSign, sign_id)
    if sign is not None and sign.person_id == person_id and sign.removed_at is None:
        sign.text = text


async def remove_sign(session: AsyncSession, person_id: int, sign_id: int, now: datetime) -> None:
    """Removed signs stay behind past answers (``removed_at``) but are no longer asked."""
    sign = await session.get(WarningSign, sign_id)
    if sign is not None and sign.person_id == person_id:
        sign.removed_at = now
