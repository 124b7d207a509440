"""Loading, locking, changing and erasing people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Escalation, FlowState, Invite, Person
from flows.effects import FlowSnapshot, UpdatePerson
from flows.people import PersonView, Role


@dataclass
class Loaded:
    """What handling one update starts from: the person, their locked flow row, and the
    state of their open escalation (``None`` when there is none)."""

    person: Person
    flow: FlowState
    escalation_state: str | None


async def load_for_update(session: AsyncSession, telegram_user_id: int) -> Loaded | None:
    """The person and their flow row, with the flow row locked until the transaction ends.

    On PostgreSQL the row lock (``FOR UPDATE``) is what stops a second bot process from
    handling the same person at the same time; SQLite runs one process, ordered in memory.
    The open escalation's state comes in the same round trip (every client update needs it:
    a chat a peer worker holds is relayed, not answered by the bot).
    """
    open_state = (
        select(Escalation.state)
        .where(Escalation.client_id == Person.id, Escalation.resolved_at.is_(None))
        .limit(1)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            select(Person, FlowState, open_state)
            .join(FlowState, FlowState.person_id == Person.id)
            .where(Person.telegram_user_id == telegram_user_id)
            .with_for_update(of=FlowState)
        )
    ).first()
    if row is None:
        return None
    return Loaded(row[0], row[1], row[2])


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


def store_snapshot(flow: FlowState, snapshot: FlowSnapshot) -> None:
    flow.flow = snapshot.flow
    flow.state = snapshot.state
    flow.context = dict(snapshot.context)


def apply_update(person: Person, change: UpdatePerson, now: datetime) -> None:
    """Copy the fields a flow changed onto the person."""
    for field in (
        "locale",
        "timezone",
        "region",
        "checkin_time",
        "alias",
        "on_duty",
        "paused",
        "lesson_days",
    ):
        value = getattr(change, field)
        if value is not None:
            setattr(person, field, value)
    if change.consented and person.consented_at is None:
        person.consented_at = now
    if change.onboarded and person.onboarded_at is None:
        person.onboarded_at = now


async def alias_taken(session: AsyncSession, alias: str, person_id: int) -> bool:
    found = await session.scalar(
        select(Person.id).where(Person.alias == alias, Person.id != person_id).limit(1)
    )
    return found is not None


async def forget(session: AsyncSession, person: Person, flow: FlowState) -> None:
    """Erase someone who declined consent, and give their invite use back for a later change of mind."""
    if person.invite_id is not None:
        await session.execute(
            update(Invite)
            .where(Invite.id == person.invite_id, Invite.uses > 0)
            .values(uses=Invite.uses - 1)
        )
    await session.delete(flow)
    await session.flush()
    await session.delete(person)


async def held_by_a_person(session: AsyncSession, person_ids: list[int]) -> set[int]:
    """Clients whose chat a human peer worker holds right now (the bot's own messages wait)."""
    if not person_ids:
        return set()
    rows = await session.scalars(
        select(Escalation.client_id).where(
            Escalation.client_id.in_(person_ids),
            Escalation.state.in_(("claimed", "active")),
        )
    )
    return set(rows.all())


async def first_delivery(session: AsyncSession, update_id: int, now: datetime) -> bool:
    """Record an update id; False when it was already handled (Telegram redelivered it)."""
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    from bot.storage.models import ProcessedUpdate

    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    result = await session.execute(
        insert(ProcessedUpdate)
        .values(update_id=update_id, at=now)
        .on_conflict_do_nothing(index_elements=["update_id"])
        .returning(ProcessedUpdate.update_id)
    )
    return result.scalar_one_or_none() is not None
