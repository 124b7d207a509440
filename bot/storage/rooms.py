"""Group rooms, their members, messages and copies: the queries the shell needs, each saying
which index it uses."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Activity, FlowState, Person, Room, RoomCopy, RoomMember
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
