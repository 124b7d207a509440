"""Activities, their leaders, answers and notices: the queries the shell needs, each saying
which index it uses."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    Activity,
    ActivityAnswer,
    ActivityAttendance,
    ActivityLeader,
    ActivityNotice,
    ActivityOptOut,
    ActivityRecord,
    Person,
    Room,
)
from flows import activities
from flows.activities import GOING, INVITE, REMINDERS, Answer, Found
from flows.people import Rules
from flows.roles import STAFF, Role

# Longest activity (flows.activities.MINUTES): what may still be running when listing.
LONGEST = timedelta(minutes=activities.MINUTES.stop)
LISTED = 10


def core_activity(
    row: Activity, leaders: Sequence[tuple[int, str]], room: int | None = None
) -> activities.Activity:
    return activities.Activity(
        id=row.id,
        title=row.title,
        kind=row.kind,
        starts_at=row.starts_at,
        minutes=row.minutes,
        place=row.place,
        online=row.online,
        capacity=row.capacity,
        audience=row.audience,
        language=row.language,
        leaders=tuple(leaders),
        cancelled=row.cancelled_at is not None,
        room=room,
    )


async def found(session: AsyncSession, rows: Sequence[Activity]) -> list[Found]:
    """Each activity with its leaders, every answer (with the person's alias), who was marked
    present and whether it was recorded: four queries for all of them (the primary keys of
    ``activity_leaders``, ``activity_answers`` and ``activity_records`` lead with the
    activity, as does the unique index of ``activity_attendance``)."""
    ids = [row.id for row in rows]
    leaders: dict[int, list[tuple[int, str]]] = defaultdict(list)
    answers: dict[int, list[Answer]] = defaultdict(list)
    present: dict[int, set[int]] = defaultdict(set)
    rooms: dict[int, int] = {}  # an activity's room (``ix_rooms_activity_id``)
    recorded: set[int] = set()
    if ids:
        for activity_id, person_id, alias in await session.execute(
            select(ActivityLeader.activity_id, Person.id, Person.alias)
            .join(Person, Person.id == ActivityLeader.person_id)
            .where(ActivityLeader.activity_id.in_(ids))
            .order_by(ActivityLeader.activity_id, Person.id)
        ):
            leaders[activity_id].append((person_id, alias or "?"))
        for answer, alias in await session.execute(
            select(ActivityAnswer, Person.alias)
            .join(Person, Person.id == ActivityAnswer.person_id)
            .where(ActivityAnswer.activity_id.in_(ids))
        ):
            answers[answer.activity_id].append(
                Answer(answer.person_id, answer.answer, answer.answered_at, alias or "?")
            )
        for activity_id, attendee in await session.execute(
            select(ActivityAttendance.activity_id, ActivityAttendance.person_id).where(
                ActivityAttendance.activity_id.in_(ids), ActivityAttendance.person_id.is_not(None)
            )
        ):
            if attendee is not None:
                present[activity_id].add(attendee)
        recorded = set(
            (
                await session.scalars(
                    select(ActivityRecord.activity_id).where(
                        ActivityRecord.activity_id.in_(ids), ActivityRecord.filed_at.is_not(None)
                    )
                )
            ).all()
        )
        for of_activity, room_id in await session.execute(
            select(Room.activity_id, func.min(Room.id))
            .where(Room.activity_id.in_(ids))
            .group_by(Room.activity_id)
        ):
            if of_activity is not None and room_id is not None:
                rooms[of_activity] = room_id
    return [
        Found(
            core_activity(row, leaders[row.id], rooms.get(row.id)),
            tuple(answers[row.id]),
            frozenset(present[row.id]),
            row.id in recorded,
        )
        for row in rows
    ]


async def load(
    session: AsyncSession, activity_id: int, lock: bool = False
) -> tuple[Activity, Found] | None:
    """One activity; ``lock`` holds its row until the transaction ends, so two answers to
    the same activity are decided one after the other (the last place goes once)."""
    query = select(Activity).where(Activity.id == activity_id)
    if lock:
        query = query.with_for_update()
    row = await session.scalar(query)
    if row is None:
        return None
    return row, (await found(session, [row]))[0]


async def upcoming(session: AsyncSession, role: Role, now: datetime) -> list[Found]:
    """The next activities for this role that have not ended, soonest first (the
    ``starts_at`` index)."""
    audiences = [name for name, roles in activities.AUDIENCES.items() if role in roles]
    rows = (
        await session.scalars(
            select(Activity)
            .where(
                Activity.starts_at > now - LONGEST,
                Activity.cancelled_at.is_(None),
                Activity.audience.in_(audiences),
            )
            .order_by(Activity.starts_at, Activity.id)
            .limit(LISTED * 2)
        )
    ).all()
    live = [row for row in rows if row.starts_at + timedelta(minutes=row.minutes) > now]
    return await found(session, live[:LISTED])


async def led_by(
    session: AsyncSession,
    leader: int | None,
    now: datetime,
    offset: int = 0,
    limit: int = LISTED,
) -> list[Found]:
    """The activities not cancelled and not yet started that ``leader`` leads (``None``: a
    supervisor's or admin's, every one), soonest first (the ``starts_at`` index), from
    ``offset``."""
    query = (
        select(Activity)
        .where(Activity.starts_at > now, Activity.cancelled_at.is_(None))
        .order_by(Activity.starts_at, Activity.id)
        .offset(offset)
        .limit(limit)
    )
    if leader is not None:
        query = query.join(ActivityLeader, ActivityLeader.activity_id == Activity.id).where(
            ActivityLeader.person_id == leader
        )
    return await found(session, (await session.scalars(query)).all())


async def set_answer(
    session: AsyncSession,
    activity_id: int,
    person_id: int,
    answer: str,
    at: datetime,
) -> None:
    row = await session.get(ActivityAnswer, (activity_id, person_id))
    if row is None:
        session.add(
            ActivityAnswer(
                activity_id=activity_id, person_id=person_id, answer=answer, answered_at=at
            )
        )
    else:
        row.answer, row.answered_at = answer, at
    await session.flush()


async def drop_answers(session: AsyncSession, activity_id: int, people: Iterable[int]) -> None:
    """These people's answers, and every notice about the activity still waiting for them."""
    ids = list(people)
    await session.execute(
        delete(ActivityAnswer).where(
            ActivityAnswer.activity_id == activity_id, ActivityAnswer.person_id.in_(ids)
        )
    )
    await session.execute(
        delete(ActivityNotice).where(
            ActivityNotice.activity_id == activity_id, ActivityNotice.person_id.in_(ids)
        )
    )


async def told_once(session: AsyncSession, activity_id: int) -> None:
    """Someone told of a new language is not told of a change as well: that notice shows
    every detail as it is when it is sent."""
    language = select(ActivityNotice.person_id).where(
        ActivityNotice.activity_id == activity_id, ActivityNotice.kind == activities.LANGUAGE
    )
    await session.execute(
        delete(ActivityNotice).where(
            ActivityNotice.activity_id == activity_id,
            ActivityNotice.kind == activities.CHANGED,
            ActivityNotice.person_id.in_(language),
        )
    )


async def roles(session: AsyncSession, people: Sequence[int]) -> dict[int, Role]:
    """Each person's role (the primary key)."""
    if not people:
        return {}
    rows = await session.execute(select(Person.id, Person.role).where(Person.id.in_(people)))
    return {person_id: Role(role) for person_id, role in rows}


async def drop_reminders(
    session: AsyncSession, activity_id: int, people: Iterable[int] | None = None
) -> None:
    query = delete(ActivityNotice).where(
        ActivityNotice.activity_id == activity_id, ActivityNotice.kind.in_(list(REMINDERS))
    )
    if people is not None:
        query = query.where(ActivityNotice.person_id.in_(list(people)))
    await session.execute(query)


async def place(
    session: AsyncSession,
    activity: activities.Activity,
    people: Sequence[Person],
    kind: str,
    at: datetime,
    rules: Rules,
    deadline: datetime,
) -> int:
    """A notice of ``kind`` for each person, due ``at`` or when their quiet hours end
    (``flows.activities.notice_time``); none when that is past ``deadline``. A notice of the
    same kind already waiting is moved. Returns how many were placed."""
    placed = 0
    # the notices of this kind already waiting, in one query (an announcement reaches every
    # client of the program; a lookup per person would be thousands of round trips)
    waiting = {
        notice.person_id: notice
        for notice in await session.scalars(
            select(ActivityNotice).where(
                ActivityNotice.activity_id == activity.id, ActivityNotice.kind == kind
            )
        )
    }
    for person in people:
        due = activities.notice_time(kind, at, person.timezone, rules, deadline)
        existing = waiting.get(person.id)
        if due is None:
            if existing is not None:
                await session.delete(existing)
            continue
        placed += 1
        if existing is None:
            session.add(
                ActivityNotice(activity_id=activity.id, person_id=person.id, kind=kind, due_at=due)
            )
        else:
            existing.due_at = due
    await session.flush()
    return placed


async def invitees(session: AsyncSession, activity: activities.Activity) -> list[Person]:
    """Who is invited when an activity is announced: onboarded people of its audience who
    did not block the bot, pause, or turn invitations off."""
    roles = [role.value for role in activities.AUDIENCES[activity.audience]]
    opted_out = select(ActivityOptOut.person_id).where(ActivityOptOut.person_id == Person.id)
    return list(
        (
            await session.scalars(
                select(Person)
                .where(
                    Person.role.in_(roles),  # ix_people_role
                    Person.onboarded_at.is_not(None),
                    Person.blocked_at.is_(None),
                    Person.paused.is_(False),
                    ~opted_out.exists(),
                )
                .order_by(Person.id)
            )
        ).all()
    )


async def going(session: AsyncSession, activity_id: int) -> list[Person]:
    return list(
        (
            await session.scalars(
                select(Person)
                .join(ActivityAnswer, ActivityAnswer.person_id == Person.id)
                .where(ActivityAnswer.activity_id == activity_id, ActivityAnswer.answer == GOING)
                .order_by(Person.id)
            )
        ).all()
    )


async def staff_aliases(session: AsyncSession) -> list[str]:
    """Peer workers' and supervisors' aliases (ix_people_role)."""
    roles = [role.value for role in STAFF]
    rows = await session.scalars(
        select(Person.alias).where(Person.role.in_(roles), Person.alias.is_not(None))
    )
    return sorted(alias for alias in rows if alias)


async def supervisors(session: AsyncSession) -> list[int]:
    """Every supervisor (ix_people_role), told at once of an adverse event."""
    rows = await session.scalars(
        select(Person.id).where(Person.role == Role.SUPERVISOR.value).order_by(Person.id)
    )
    return list(rows.all())


async def set_opt_out(session: AsyncSession, person_id: int, out: bool, at: datetime) -> None:
    row = await session.get(ActivityOptOut, person_id)
    if out and row is None:
        session.add(ActivityOptOut(person_id=person_id, at=at))
    elif not out and row is not None:
        await session.delete(row)
    await session.flush()


__all__ = [
    "INVITE",
    "core_activity",
    "drop_reminders",
    "found",
    "going",
    "invitees",
    "load",
    "place",
    "set_answer",
    "set_opt_out",
    "upcoming",
]
