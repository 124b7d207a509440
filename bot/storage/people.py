"""Loading, locking, changing and erasing people."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, inspect, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.storage.models import Escalation, FamilyLink, FlowState, Invite, Person, ProcessedUpdate
from flows.effects import FlowSnapshot, UpdatePerson
from flows.people import PersonView
from flows.roles import Role


@dataclass
class Loaded:
    """What handling one update starts from: the person, their locked flow row, and the
    state of their open escalation (``None`` when there is none)."""

    person: Person
    flow: FlowState
    escalation_state: str | None


def _locking_select() -> Select[Any]:
    """The person, their flow row locked (``FOR UPDATE``), and their open escalation's state.

    On PostgreSQL the row lock is what stops a second bot process from handling the same
    person at the same time; SQLite runs one process, ordered in memory. The escalation
    state comes in the same round trip because every client update needs it (a chat a peer
    worker holds is relayed, not answered by the bot). Parameter: ``user_id``.
    """
    open_state = (
        select(Escalation.state)
        .where(Escalation.subject_id == Person.id, Escalation.resolved_at.is_(None))
        .limit(1)
        .scalar_subquery()
        .label("escalation_state")
    )
    return (
        select(Person, FlowState, open_state)
        .join(FlowState, FlowState.person_id == Person.id)
        .where(Person.telegram_user_id == bindparam("user_id"))
        .with_for_update(of=FlowState)
    )


def _arrival_select() -> Select[Any]:
    """PostgreSQL: record the update id and load the sender in one statement, a
    data-modifying CTE beside the locking SELECT. One row always: how many ids were
    inserted (0 for a redelivery), and the person if there is one. Parameters: ``user_id``,
    ``update_id``, ``now``."""
    seen = (
        pg_insert(ProcessedUpdate)
        .values(update_id=bindparam("update_id"), at=bindparam("now"))
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(ProcessedUpdate.update_id)
        .cte("seen")
    )
    fresh = select(func.count().label("fresh")).select_from(seen).subquery("fresh")
    found = _locking_select().subquery("found")
    person, flow = aliased(Person, found), aliased(FlowState, found)
    return select(fresh.c.fresh, person, flow, found.c.escalation_state).select_from(
        fresh.outerjoin(found, true())
    )


# Built once: making these statements (an aliased entity over a subquery) costs more CPU
# than running them.
LOCKING_SELECT = _locking_select()
ARRIVAL_SELECT = _arrival_select()


async def load_for_update(session: AsyncSession, telegram_user_id: int) -> Loaded | None:
    """The person with their flow row locked until the transaction ends (see above)."""
    row = (await session.execute(LOCKING_SELECT, {"user_id": telegram_user_id})).first()
    return None if row is None else Loaded(*row)


async def arrive(
    session: AsyncSession, telegram_user_id: int, update_id: int | None, now: datetime
) -> tuple[bool, Loaded | None]:
    """Start handling an update: record its id (``False`` first when Telegram delivered it
    before), then load and lock the sender as ``load_for_update`` does.

    On PostgreSQL both are one statement (the first round trip of every update is the one
    worth saving); SQLite cannot put an INSERT in a CTE and takes two, which cost little
    in-process.
    """
    if update_id is None:
        return True, await load_for_update(session, telegram_user_id)
    if session.get_bind().dialect.name != "postgresql":
        if not await first_delivery(session, update_id, now):
            return False, None
        return True, await load_for_update(session, telegram_user_id)
    params = {"user_id": telegram_user_id, "update_id": update_id, "now": now}
    arrived = await session.execute(ARRIVAL_SELECT, params)
    fresh, person, flow, escalation_state = arrived.one()
    if not fresh:
        return False, None
    if person is None:  # nobody has that Telegram id
        return True, None
    return True, Loaded(person, flow, escalation_state)


def view_of(person: Person) -> PersonView:
    return PersonView(
        id=person.id,
        role=Role(person.role),
        locale=person.locale,
        timezone=person.timezone,
        region=person.region,
        checkin_time=person.checkin_time,
        alias=person.alias,
        on_duty=person.on_duty,
        paused=person.paused,
        onboarded=person.onboarded_at is not None,
        lesson_days=person.lesson_days,
    )


def snapshot_of(flow: FlowState) -> FlowSnapshot:
    return FlowSnapshot(flow.flow, flow.state, dict(flow.context or {}))


async def store_snapshot(
    session: AsyncSession, flow: FlowState, snapshot: FlowSnapshot, step: int
) -> None:
    """Write where the person now is in their conversation, and the button step.

    One UPDATE, whose ``evaluate`` synchronisation gives the loaded row the new values as
    saved rather than as changes: left to the session's unit of work, saving this row at
    commit was the largest single cost of an update (a quarter of its CPU in the benchmark
    profile). It does not flush the session first, so the person's other changes go out
    once, at commit.
    """
    values = {
        "flow": snapshot.flow,
        "state": snapshot.state,
        "context": dict(snapshot.context),
        "step": step,
    }
    if inspect(flow).pending:  # a person who has just joined: their row is inserted at flush
        for key, value in values.items():
            setattr(flow, key, value)
        return
    if all(getattr(flow, key) == value for key, value in values.items()):
        return
    await session.execute(
        update(FlowState)
        .where(FlowState.person_id == flow.person_id)
        .values(values)
        .execution_options(synchronize_session="evaluate", autoflush=False)
    )


# What a person sets about themselves (in onboarding and /settings): the fields a flow may
# change (``UpdatePerson``), which /mydata shows with the rest of the profile.
SETTINGS = (
    "locale",
    "timezone",
    "region",
    "checkin_time",
    "alias",
    "on_duty",
    "paused",
    "lesson_days",
)


def apply_update(person: Person, change: UpdatePerson, now: datetime) -> None:
    """Copy the fields a flow changed onto the person."""
    for field in SETTINGS:
        value = getattr(change, field)
        if value is not None:
            setattr(person, field, value)
    if change.consented and person.consented_at is None:
        person.consented_at = now
    if change.onboarded and person.onboarded_at is None:
        person.onboarded_at = now


_ALIAS_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def person_alias() -> str:
    """A short neutral alias for a client or relative, the same in every language ("K7Q2X").

    Five characters give 32**5 (33 million) aliases, so a new person finds a free one at
    once even in a national program; four ran out near a million.
    """
    return "".join(secrets.choice(_ALIAS_LETTERS) for _ in range(5))


async def free_alias(session: AsyncSession) -> str:
    """An alias nobody has."""
    alias = person_alias()
    while await alias_taken(session, alias, -1):
        alias = person_alias()
    return alias


async def alias_taken(session: AsyncSession, alias: str, person_id: int) -> bool:
    """Aliases are unique ignoring case: "Lin" and "LIN" are one name to a reader."""
    found = await session.scalar(
        select(Person.id)
        .where(func.lower(Person.alias) == alias.lower(), Person.id != person_id)
        .limit(1)
    )
    return found is not None


async def forget(session: AsyncSession, person: Person, flow: FlowState) -> None:
    """Erase someone who declined consent, and give their invite use back for a later change of
    mind. A client's link that invited them stays open for that later try (deleting the
    person would otherwise delete the link with them)."""
    await session.execute(
        update(FamilyLink).where(FamilyLink.family_id == person.id).values(family_id=None)
    )
    if person.invite_id is not None:
        await session.execute(
            update(Invite)
            .where(Invite.id == person.invite_id, Invite.uses > 0)
            .values(uses=Invite.uses - 1)
        )
    await session.delete(flow)
    await session.flush()
    await session.delete(person)


# SQLite records the update id with a statement of its own (PostgreSQL does it inside
# ARRIVAL_SELECT). It runs for every update, so it is built once and run ``raw``: as one
# INSERT, not through the ORM's bulk-insert path, which costs more than the statement.
_FIRST_DELIVERY = (
    sqlite_insert(ProcessedUpdate)
    .values(update_id=bindparam("update_id"), at=bindparam("now"))
    .on_conflict_do_nothing(index_elements=[ProcessedUpdate.update_id])
    .returning(ProcessedUpdate.update_id)
    .execution_options(dml_strategy="raw")
)


async def first_delivery(session: AsyncSession, update_id: int, now: datetime) -> bool:
    """Record an update id on SQLite; False when it was already handled (Telegram
    redelivered it)."""
    result = await session.execute(_FIRST_DELIVERY, {"update_id": update_id, "now": now})
    return result.scalar_one_or_none() is not None
