"""Rooms made and looked after in the chat (issue 20): an online activity's room follows the
activity (made when announced, everyone going invited, moved with its time, closed with it
in one message); ``/newgroup``, ``/groups`` and a room's ➕ Invite and ✖ Close. The sessions
are in the ``group_new_*`` transcripts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select

from bot.activities import Changes
from bot.storage import rooms as stored_rooms
from bot.storage.models import Room as RoomRow
from bot.storage.models import RoomMember
from flows import activities, conversation, new_room
from flows.activities import (
    CANCELLED,
    CANCELLED_ROOM,
    DAY_BEFORE,
    GOING,
    MAYBE,
    TWO_HOURS,
    WAITING,
    Activity,
    Answer,
    Draft,
    Found,
)
from flows.effects import (
    CreateRoom,
    FlowSnapshot,
    InviteToRoom,
    PlaceNotices,
    RoomManagement,
    Say,
    Tell,
)
from flows.people import Event, PersonView, Rules
from flows.roles import Role
from flows.rooms import Room
from flows.text import Lines, Msg, Raw, msg
from tests.harness import Harness
from tests.harness import Person as Chat

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
START = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
LIN = PersonView(10, Role.PEER_WORKER, "en", "UTC", alias="Lin", onboarded=True)


# -- the core --------------------------------------------------------------------------------


def _step(snapshot: FlowSnapshot, event: Event, person: PersonView = LIN) -> Any:
    return conversation.handle(event, person, snapshot, Rules())


def test_newgroup_asks_title_day_time_length_leaders_then_creates() -> None:
    started = _step(FlowSnapshot(), Event("command", "newgroup", now=AT))
    assert started.snapshot.flow == new_room.NAME and started.snapshot.state == "title"
    snapshot = started.snapshot
    for kind, value in (
        ("text", "Tuesday evening group"),
        ("choice", "day:1"),
        ("text", "25:00"),  # not a time: asked again
        ("text", "19：30"),
        ("choice", "min:90"),
        ("choice", "lead:me"),
    ):
        snapshot = _step(snapshot, Event(kind, value, now=AT)).snapshot
    assert snapshot.state == "confirm"
    assert snapshot.context["time"] == "19:30"
    done = _step(snapshot, Event("choice", "group:create", now=AT))
    assert done.snapshot == FlowSnapshot()
    assert CreateRoom("Tuesday evening group", 1, "19:30", 90, ("Lin",)) in done.effects


def test_invite_asks_for_aliases_and_stop_invites_nobody() -> None:
    started = _step(FlowSnapshot(), Event("command", "group", argument="4 invite", now=AT))
    assert started.snapshot.flow == new_room.INVITE
    done = _step(started.snapshot, Event("text", "K7Q2X, M3P9Q  K7Q2X", now=AT))
    assert done.effects == (InviteToRoom(4, ("K7Q2X", "M3P9Q")),)
    stopped = _step(started.snapshot, Event("choice", "group:stop", now=AT))
    assert stopped.effects[-1] == Say(Msg("newroom.invite.stopped"), menu=True)


ROOM = Room(
    4, "Tuesday evening group", "Asia/Shanghai", 90, 1, time(19, 30), leaders=((10, "Lin"),)
)


def test_an_alias_naming_nobody_several_people_or_staff_invites_nobody() -> None:
    matches = [
        ("K7Q2X", [Role.CLIENT]),
        ("NOONE", []),
        ("TWINS", [Role.CLIENT, Role.FAMILY]),
        ("Mei", [Role.PEER_WORKER]),
    ]
    said = new_room.invited(ROOM, matches, new_room.Counts())
    assert said is not None and isinstance(said[0], Say) and isinstance(said[0].text, Lines)
    assert said[0].text.parts == (
        msg("newroom.invite.nobody", alias=Raw("NOONE")),
        msg("newroom.invite.several", alias=Raw("TWINS")),
        msg("newroom.invite.not_client", alias=Raw("Mei")),
        Msg("newroom.invite.none_invited"),
    )
    assert new_room.invited(ROOM, matches[:1], new_room.Counts()) is None


def test_only_a_leader_of_the_room_or_a_supervisor_may_manage_it() -> None:
    other = PersonView(11, Role.PEER_WORKER, "en", "UTC", alias="Mei")
    boss = PersonView(12, Role.SUPERVISOR, "en", "UTC", alias="Wen")
    counts = new_room.Counts(2, 1)
    assert new_room.decide("close", ROOM, counts, other) == (Say(Msg("room.leader.only")),)
    assert new_room.decide("show", ROOM, counts, LIN) == (new_room.card(ROOM, counts),)
    asked = new_room.decide("close", ROOM, counts, boss)
    assert isinstance(asked[0], Say) and asked[0].text == msg(
        "newroom.close.ask", title=Raw(ROOM.title)
    )
    closed = new_room.decide("closenow", ROOM, counts, LIN, told=(10, 20, 21))
    told = msg("newroom.closed.told", title=Raw(ROOM.title))
    assert closed[:2] == (Tell(20, told), Tell(21, told))
    assert new_room.command("4 closenow", False) == (RoomManagement("closenow", 4),)


def test_the_reminder_two_hours_before_an_online_activity_has_enter_the_room() -> None:
    activity = Activity(1, "Circle", "sharing", START, 60, "", True, 8, "clients", "en", room=3)
    found = Found(activity, (Answer(20, GOING, AT),))
    me = PersonView(20, Role.CLIENT, "en", "UTC")
    (said,) = activities.notice(TWO_HOURS, found, me, AT)
    assert said.choices[-1].value == "/room 3"
    (day_before,) = activities.notice(DAY_BEFORE, found, me, AT)
    without = Found(activity.__class__(**{**_fields(activity), "room": None}), found.answers)
    (plain,) = activities.notice(TWO_HOURS, without, me, AT)
    assert all(c.value != "/room 3" for c in (*plain.choices, *day_before.choices))


def _fields(activity: Activity) -> dict[str, Any]:
    return {name: getattr(activity, name) for name in activity.__dataclass_fields__}


# -- the whole bot ------------------------------------------------------------------------------


async def _announce(harness: Harness, capacity: int = 8, online: bool = True) -> int:
    assert harness.services is not None
    place = "" if online else "12 Park Road"
    draft = Draft(
        "Circle", "sharing", START, 60, place, online, capacity, "clients", "en", ("Lin",)
    )
    async with harness.db.transaction() as session:
        row, _ = await harness.services.dispatcher.activities.create(session, draft, AT)
    return row.id


async def _members(harness: Harness) -> list[tuple[int, int, str, bool]]:
    async with harness.db.sessions() as session:
        rows = (
            await session.scalars(
                select(RoomMember).order_by(RoomMember.room_id, RoomMember.person_id)
            )
        ).all()
    return [(m.room_id, m.person_id, m.state, m.leader) for m in rows]


def _texts_to(harness: Harness, chat: Chat, since: int) -> list[str]:
    return [
        str(c.params.get("text"))
        for c in harness.api.calls[since:]
        if c.method == "sendMessage" and str(c.params.get("chat_id")) == str(chat.user_id)
    ]


async def test_an_online_activity_gets_its_room_and_going_invites_to_it(harness: Harness) -> None:
    harness.set_now(AT)
    _, lin_id = await harness.make_person(Role.PEER_WORKER, "Lin", AT)
    one, one_id = await harness.make_person(Role.CLIENT, "K7Q2X", AT)
    two, two_id = await harness.make_person(Role.CLIENT, "S4T8R", AT)
    activity_id = await _announce(harness, capacity=1)
    assert await _members(harness) == [(1, lin_id, "invited", True)]
    await one.send(f"/rsvp {activity_id} going")
    await two.send(f"/rsvp {activity_id} going")  # full: the waiting list, not the room
    assert await _members(harness) == [(1, lin_id, "invited", True), (1, one_id, "invited", False)]
    before = len(harness.api.calls)
    await harness.tick()
    assert any("online group Circle" in t for t in _texts_to(harness, one, before))
    assert not any("online group" in t for t in _texts_to(harness, two, before))
    await one.send(f"/rsvp {activity_id} cant")  # two moves up and is invited; one is not
    assert await _members(harness) == [
        (1, lin_id, "invited", True),
        (1, one_id, "left", False),
        (1, two_id, "invited", False),
    ]


async def test_an_offline_activity_gets_no_room(harness: Harness) -> None:
    harness.set_now(AT)
    await harness.make_person(Role.PEER_WORKER, "Lin", AT)
    await _announce(harness, online=False)
    assert await _members(harness) == []


async def test_a_new_time_moves_the_rooms_session(harness: Harness) -> None:
    harness.set_now(AT)
    await harness.make_person(Role.PEER_WORKER, "Lin", AT)
    activity_id = await _announce(harness)
    later = START + timedelta(hours=3)
    assert harness.services is not None
    async with harness.db.transaction() as session:
        await harness.services.dispatcher.activities.edit(
            session, activity_id, Changes(starts_at=later, minutes=90), AT
        )
    async with harness.db.sessions() as session:
        row = await session.get(RoomRow, 1)
        assert row is not None
        view = (await stored_rooms.core_rooms(session, [row]))[1]
    assert (view.starts_at, view.minutes) == (later, 90)
    assert not view.is_open(START) and view.is_open(later)


async def test_cancelling_closes_the_room_and_each_member_is_told_once(harness: Harness) -> None:
    harness.set_now(AT)
    await harness.make_person(Role.PEER_WORKER, "Lin", AT)
    one, _ = await harness.make_person(Role.CLIENT, "K7Q2X", AT)
    invited_only, _ = await harness.make_person(Role.CLIENT, "A2B3C", AT)
    activity_id = await _announce(harness)
    await one.send(f"/rsvp {activity_id} going")
    assert harness.services is not None
    async with harness.db.transaction() as session:  # invited by hand, never answered
        await harness.services.dispatcher.rooms.invite(session, 1, ["A2B3C"], AT)
        await session.execute(RoomMember.__table__.update().values(invite_sent=True))
        _, told = await harness.services.dispatcher.activities.cancel(session, activity_id, AT)
    assert told == 2
    before = len(harness.api.calls)
    await harness.tick()
    for chat in (one, invited_only):
        (said,) = _texts_to(harness, chat, before)
        assert said.startswith("❗ Circle has been cancelled")
        assert said.endswith("Its online room is closed too.")
    async with harness.db.sessions() as session:
        room = await session.get(RoomRow, 1)
    assert room is not None and room.closed_at is not None


async def test_newgroup_invite_and_close_in_the_chat(harness: Harness) -> None:
    harness.set_now(AT)
    lin, lin_id = await harness.make_person(Role.PEER_WORKER, "Lin", AT)
    mei, _ = await harness.make_person(Role.PEER_WORKER, "Mei", AT)
    one, one_id = await harness.make_person(Role.CLIENT, "K7Q2X", AT)
    await lin.does("/newgroup", "Tuesday evening group", "[Tuesday]", "19:30", "[90]", "[Just me]")
    await lin.does("[✅ Create]")
    assert await _members(harness) == [(1, lin_id, "invited", True)]
    await lin.does("[➕ Invite]", "k7q2x, NOONE")
    assert await _members(harness) == [(1, lin_id, "invited", True)]  # nobody: one was wrong
    await lin.does("[➕ Invite]", "k7q2x Mei")
    assert await _members(harness) == [(1, lin_id, "invited", True)]
    replies = await lin.does("[➕ Invite]", "k7q2x")
    assert any("New invitations to Tuesday evening group: 1" in r.text for r in replies)
    assert await _members(harness) == [(1, lin_id, "invited", True), (1, one_id, "invited", False)]
    refused = await mei.send("/group 1 close")  # not a leader of it
    assert [r.text for r in refused] == ["Only a leader of this room can do that."]
    listed = await lin.send("/groups")
    assert listed[-1].buttons == ["➕ Invite to 1", "✖ Close 1"]
    await lin.does("[✖ Close 1]")
    before = len(harness.api.calls)
    await lin.does("[✖ Yes, close it]")
    assert _texts_to(harness, one, before) == [
        "👥 The group Tuesday evening group has closed. Thank you for being part of it."
    ]
    assert (await lin.send("/groups"))[-1].text.startswith("You lead no open group.")


async def test_made_online_later_gets_its_room_for_those_going_and_an_address_closes_it(
    harness: Harness,
) -> None:
    harness.set_now(AT)
    _, lin_id = await harness.make_person(Role.PEER_WORKER, "Lin", AT)
    one, one_id = await harness.make_person(Role.CLIENT, "K7Q2X", AT)
    activity_id = await _announce(harness, online=False)
    await one.send(f"/rsvp {activity_id} going")
    assert harness.services is not None
    edit = harness.services.dispatcher.activities.edit
    async with harness.db.transaction() as session:
        await edit(session, activity_id, Changes(place="online"), AT)
    assert await _members(harness) == [(1, lin_id, "invited", True), (1, one_id, "invited", False)]
    async with harness.db.transaction() as session:
        await edit(session, activity_id, Changes(place="12 Park Road"), AT)
    async with harness.db.sessions() as session:
        room = await session.get(RoomRow, 1)
    assert room is not None and room.closed_at is not None


async def test_no_room_invitation_goes_out_once_the_activity_is_over(harness: Harness) -> None:
    harness.set_now(AT)
    await harness.make_person(Role.PEER_WORKER, "Lin", AT)
    one, _ = await harness.make_person(Role.CLIENT, "K7Q2X", AT)
    activity_id = await _announce(harness)
    await one.send(f"/rsvp {activity_id} going")
    harness.set_now(START + timedelta(hours=2))  # over, the invitation never went
    before = len(harness.api.calls)
    await harness.tick()
    assert not any("online group" in t for t in _texts_to(harness, one, before))


async def test_the_room_follows_a_new_title_and_new_leaders(harness: Harness) -> None:
    harness.set_now(AT)
    await harness.make_person(Role.PEER_WORKER, "Lin", AT)
    await harness.make_person(Role.PEER_WORKER, "Mei", AT)
    activity_id = await _announce(harness)
    assert harness.services is not None
    async with harness.db.transaction() as session:
        await harness.services.dispatcher.activities.edit(
            session, activity_id, Changes(title="Evening circle", leaders=("Mei",)), AT
        )
    async with harness.db.sessions() as session:
        room = await session.get(RoomRow, 1)
        members = (await session.scalars(select(RoomMember).order_by(RoomMember.person_id))).all()
    assert room is not None and room.title == "Evening circle"
    assert [(m.alias, m.leader, m.state) for m in members] == [
        ("Lin", False, "left"),
        ("Mei", True, "invited"),
    ]


def test_a_cancellation_says_the_room_is_closed_only_to_those_it_had_invited() -> None:
    """Those going are in the room; those waiting or who answered Maybe never were."""
    activity = Activity(1, "Circle", "sharing", START, 60, "", True, 1, "clients", "en", room=3)
    answers = (Answer(20, GOING, AT), Answer(21, WAITING, AT), Answer(22, MAYBE, AT))
    assert activities.cancelled(Found(activity, answers), AT, members=(20, 23)) == (
        PlaceNotices(1, (21, 22), CANCELLED, AT),
        PlaceNotices(1, (20, 23), CANCELLED_ROOM, AT),
    )
    me = PersonView(21, Role.CLIENT, "en", "UTC")
    cancelled = Found(replace(activity, cancelled=True), answers)
    (plain,) = activities.notice(CANCELLED, cancelled, me, AT)
    (closed,) = activities.notice(CANCELLED_ROOM, cancelled, me, AT)
    assert isinstance(plain.text, Lines) and isinstance(closed.text, Lines)
    assert closed.text.parts == (*plain.text.parts, Msg("newroom.activity_room_closed"))
    assert Msg("newroom.activity_room_closed") not in plain.text.parts
