"""Group rooms, their members, messages and copies: the queries the shell needs, each saying
which index it uses."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import (
    Activity,
    FlowState,
    Person,
    Room,
    RoomAttendance,
    RoomCopy,
    RoomMember,
    RoomMessage,
    RoomSession,
)
from flows import rooms
from flows.rooms import INVITED, LEFT, MEMBER, Membership, Present


async def core_rooms(session: AsyncSession, rows: Sequence[Room]) -> dict[int, rooms.Room]:
    """The core's view of each room: times (an activity's from the activity), leaders and
    the aliases taken; two queries for all of them (``room_members``' primary key leads
    with the room; activities by primary key)."""
    ids = [row.id for row in rows]
    leaders: dict[int, list[tuple[int, str]]] = defaultdict(list)
    aliases: dict[int, set[str]] = defaultdict(set)
    if ids:
        members = await session.execute(
            select(RoomMember.room_id, RoomMember.person_id, RoomMember.alias, RoomMember.leader)
            .where(RoomMember.room_id.in_(ids))
            .order_by(RoomMember.room_id, RoomMember.person_id)
        )
        for room_id, person_id, alias, leader in members:
            if alias is not None:
                aliases[room_id].add(alias)
                if leader:
                    leaders[room_id].append((person_id, alias))
    activity_ids = [row.activity_id for row in rows if row.activity_id is not None]
    starts = {}
    if activity_ids:
        found = await session.execute(
            select(Activity.id, Activity.starts_at, Activity.minutes, Activity.cancelled_at).where(
                Activity.id.in_(activity_ids)
            )
        )
        starts = {a_id: (at, minutes, cancelled) for a_id, at, minutes, cancelled in found}
    made: dict[int, rooms.Room] = {}
    for row in rows:
        starts_at, minutes, closed = None, row.minutes, row.closed_at is not None
        if row.activity_id is not None and row.activity_id in starts:
            starts_at, minutes, cancelled = starts[row.activity_id]
            closed = closed or cancelled is not None
        made[row.id] = rooms.Room(
            id=row.id,
            title=row.title,
            zone=row.zone,
            minutes=minutes,
            weekday=row.weekday,
            opens=row.opens,
            starts_at=starts_at,
            closed=closed,
            leaders=tuple(leaders[row.id]),
            aliases=frozenset(aliases[row.id]),
        )
    return made


async def written_in(
    session: AsyncSession, person_id: int, chat_id: int, message_id: int
) -> Membership | None:
    """The person's place in the room this message of theirs was copied to, while it stands
    there (not taken back); ``None``: not a room message, or no longer theirs to edit (they
    erased their data). ``room_copies``' primary key, then ``room_members``'."""
    found = (
        await session.execute(
            select(RoomMember, Room)
            .join(RoomMessage, RoomMessage.room_id == Room.id)
            .join(RoomCopy, RoomCopy.room_message_id == RoomMessage.id)
            .join(
                RoomMember,
                (RoomMember.room_id == Room.id) & (RoomMember.person_id == person_id),
            )
            .where(
                RoomCopy.chat_id == chat_id,
                RoomCopy.message_id == message_id,
                RoomCopy.person_id == person_id,
                RoomMessage.removed_at.is_(None),
            )
        )
    ).first()
    if found is None:
        return None
    member, room = found
    views = await core_rooms(session, [room])
    return view_of(member, views[room.id])


async def memberships(session: AsyncSession, person_id: int) -> list[Membership]:
    """Every room the person was ever invited to, oldest first (``ix_room_members_person_id``)."""
    found = (
        await session.execute(
            select(RoomMember, Room)
            .join(Room, Room.id == RoomMember.room_id)
            .where(RoomMember.person_id == person_id)
            .order_by(Room.id)
        )
    ).all()
    views = await core_rooms(session, [room for _, room in found])
    return [view_of(member, views[room.id]) for member, room in found]


def view_of(member: RoomMember, room: rooms.Room) -> Membership:
    return Membership(
        room=room,
        alias=member.alias,
        leader=member.leader,
        state=member.state,
        rules=member.rules_at is not None,
        muted=member.muted,
    )


async def present(session: AsyncSession, room_id: int) -> list[tuple[Person, Present]]:
    """Members in the room now (in its flow, on that room), who have not blocked the bot,
    by person id (``room_members``' primary key, then ``flow_states``' by person)."""
    found = await session.execute(
        select(Person, RoomMember, FlowState)
        .join(RoomMember, RoomMember.person_id == Person.id)
        .join(FlowState, FlowState.person_id == Person.id)
        .where(
            RoomMember.room_id == room_id,
            RoomMember.state == MEMBER,
            Person.blocked_at.is_(None),
            FlowState.flow == rooms.NAME,
        )
        .order_by(Person.id)
    )
    return [
        (person, Present(person.id, member.alias or person.alias or "", member.leader))
        for person, member, flow in found
        if flow.state == "inside" and (flow.context or {}).get("room") == room_id
    ]


async def copies_of(session: AsyncSession, chat_id: int, message_id: int) -> dict[int, int]:
    """The room message a message in this chat belongs to, as every member's copy of it:
    person id → message id in their chat (the last one each: a photo after its line)."""
    room_message_id = await session.scalar(
        select(RoomCopy.room_message_id).where(
            RoomCopy.chat_id == chat_id, RoomCopy.message_id == message_id
        )
    )
    if room_message_id is None:
        return {}
    found = await session.execute(
        select(RoomCopy.person_id, func.max(RoomCopy.message_id))
        .where(RoomCopy.room_message_id == room_message_id)
        .group_by(RoomCopy.person_id)
    )
    return {person_id: int(last) for person_id, last in found}


async def drop(session: AsyncSession, person_id: int) -> None:
    """Someone blocked the bot: out of every room, quietly (``ix_room_members_person_id``)."""
    await session.execute(
        update(RoomMember)
        .where(RoomMember.person_id == person_id, RoomMember.state.in_((INVITED, MEMBER)))
        .values(state=LEFT)
    )


@dataclass(frozen=True, slots=True)
class Held:
    """One session of a room that happened, as the register counts it: the leaders present
    (by alias), the members present (person ids; ``None`` for someone erased or past the
    retention period), messages said, messages taken back (by a leader, or crisis language
    edited in), crisis messages held back."""

    room_id: int
    title: str
    starts_at: datetime
    leaders: tuple[str, ...]
    present: tuple[int | None, ...]
    messages: int
    removed: int
    held_back: int


async def sessions_held(
    session: AsyncSession, lo: datetime | None = None, hi: datetime | None = None
) -> list[Held]:
    """Every session that started in [lo, hi), oldest first: three queries in all (room
    sessions by their unique key's room, then messages and attendance by session id)."""
    query = (
        select(RoomSession, Room.title)
        .join(Room, Room.id == RoomSession.room_id)
        .order_by(RoomSession.starts_at, RoomSession.room_id)
    )
    if lo is not None:
        query = query.where(RoomSession.starts_at >= lo)
    if hi is not None:
        query = query.where(RoomSession.starts_at < hi)
    rows = (await session.execute(query)).all()
    ids = [row.id for row, _ in rows]
    said: dict[int, tuple[int, int]] = {}
    present: dict[int, list[tuple[int | None, bool, str | None]]] = defaultdict(list)
    if ids:
        counted = await session.execute(
            select(
                RoomMessage.session_id,
                func.count(),
                func.count(RoomMessage.removed_at),
            )
            .where(RoomMessage.session_id.in_(ids))
            .group_by(RoomMessage.session_id)
        )
        said = {s: (int(n), int(r)) for s, n, r in counted if s is not None}
        attended = await session.execute(
            select(
                RoomAttendance.session_id,
                RoomAttendance.person_id,
                RoomAttendance.leader,
                Person.alias,
            )
            .outerjoin(Person, Person.id == RoomAttendance.person_id)
            .where(RoomAttendance.session_id.in_(ids))
            .order_by(RoomAttendance.id)
        )
        for session_id, person_id, leader, alias in attended:
            present[session_id].append((person_id, leader, alias))
    return [
        Held(
            room_id=row.room_id,
            title=title,
            starts_at=row.starts_at,
            leaders=tuple(alias or "?" for _, leader, alias in present[row.id] if leader),
            present=tuple(p for p, leader, _ in present[row.id] if not leader),
            messages=said.get(row.id, (0, 0))[0],
            removed=said.get(row.id, (0, 0))[1],
            held_back=row.held_back,
        )
        for row, title in rows
    ]
