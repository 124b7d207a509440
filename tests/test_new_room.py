"""Rooms made and looked after in the chat (issue 20): an online activity's room follows the
activity (made when announced, everyone going invited, moved with its time, closed with it
in one message); ``/newgroup``, ``/groups`` and a room's ➕ Invite, ✖ Close and ✏ Edit (a
standing group's title, weekday, time, length and leaders; ``tongban room edit``). The
sessions are in the ``group_new_*`` and ``group_edit_*`` transcripts."""

from __future__ import annotations

import shlex
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot import rooms as room_shell
from bot.activities import Changes
from bot.cli import command_parser
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
    ChangeRoom,
    CreateRoom,
    FlowSnapshot,
    InviteToRoom,
    Notice,
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
    assert listed[-1].buttons == ["➕ Invite to 1", "✖ Close 1", "✏ Edit 1"]
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


# -- ✏ Edit: a standing group changed ------------------------------------------------------------

ACTIVITY_ROOM = Room(5, "Circle", "Asia/Shanghai", 60, starts_at=START, leaders=((10, "Lin"),))


def test_edit_is_offered_for_a_standing_group_and_not_for_an_activitys_room() -> None:
    counts = new_room.Counts(2, 1)
    assert [c.value for c in new_room.card(ROOM, counts).choices] == [
        "/group 4 invite",
        "/group 4 close",
        "/group 4 edit",
    ]
    assert [c.value for c in new_room.card(ACTIVITY_ROOM, counts).choices] == [
        "/group 5 invite",
        "/group 5 close",
    ]
    listed = new_room.listing([(ROOM, counts), (ACTIVITY_ROOM, counts)])
    assert [c.value for c in listed.choices] == [
        "/group 4 invite",
        "/group 4 close",
        "/group 5 invite",
        "/group 5 close",
        "/group 4 edit",
    ]
    assert new_room.decide("edit", ROOM, counts, LIN) == (new_room.editing(ROOM),)
    assert new_room.decide("edit", ACTIVITY_ROOM, counts, LIN) == (
        Say(msg("newroom.edit.activity", title=Raw("Circle"))),
    )


@pytest.mark.parametrize(
    ("person", "allowed"),
    [
        (LIN, True),  # leads it
        (PersonView(11, Role.PEER_WORKER, "en", "UTC", alias="Mei"), False),
        (PersonView(12, Role.SUPERVISOR, "en", "UTC", alias="Wen"), True),
    ],
)
def test_its_leaders_and_supervisors_may_edit_a_group(person: PersonView, allowed: bool) -> None:
    said = new_room.decide("edit", ROOM, new_room.Counts(), person)
    assert (said == (new_room.editing(ROOM),)) is allowed
    assert (said == (Say(Msg("room.leader.only")),)) is not allowed


def test_a_stale_forged_or_closed_edit_gets_a_short_answer() -> None:
    stale = (Notice(Msg("input.stale_button")),)
    for argument in ("x edit", "4 edit title", "4 colour", "4.5 title"):
        assert new_room.command(argument, True) == stale
    assert new_room.command("4 edit", True) == (RoomManagement("edit", 4),)
    assert new_room.command("4 time", True) == {"room": 4, "field": "time"}
    closed = replace(ROOM, closed=True)
    counts = new_room.Counts()
    assert new_room.decide("edit", closed, counts, LIN) == (
        Say(msg("newroom.closed_already", title=Raw(ROOM.title))),
    )
    assert new_room.decide("edit", None, counts, LIN) == (Say(Msg("newroom.gone")),)


STAFF_ALIASES = {"staff_aliases": ["Lin", "Mei", "Straße", "STRASSE"]}


@pytest.mark.parametrize(
    ("field", "answers", "change"),
    [
        ("title", [("text", "  Tuesday circle ")], ChangeRoom(4, title="Tuesday circle")),
        ("day", [("text", "Wednesday"), ("choice", "day:2")], ChangeRoom(4, weekday=2)),
        ("time", [("text", "25:00"), ("text", "19：45")], ChangeRoom(4, opens="19:45")),
        ("minutes", [("text", "5"), ("choice", "min:60")], ChangeRoom(4, minutes=60)),
        ("leaders", [("text", "lin, MEI")], ChangeRoom(4, leaders=("Lin", "Mei"))),
    ],
)
def test_edit_asks_for_the_one_thing_until_it_reads_it_then_saves_it(
    field: str, answers: list[tuple[str, str]], change: ChangeRoom
) -> None:
    started = _step(FlowSnapshot(), Event("command", "group", argument=f"4 {field}", now=AT))
    assert (started.snapshot.flow, started.snapshot.state) == (new_room.EDIT, field)
    outcome = started
    for kind, value in answers:
        outcome = _step(outcome.snapshot, Event(kind, value, now=AT, data=STAFF_ALIASES))
    assert outcome.snapshot == FlowSnapshot()
    assert outcome.effects[-1] == change


def test_leaders_typed_are_never_guessed_and_leave_it_as_it_is_changes_nothing() -> None:
    started = _step(FlowSnapshot(), Event("command", "group", argument="4 leaders", now=AT))
    nobody = _step(started.snapshot, Event("text", "Lin, NOONE", now=AT, data=STAFF_ALIASES))
    assert nobody.snapshot.state == "leaders"
    assert nobody.effects[0] == Say(msg("activity.leaders.nobody", alias="NOONE"))
    several = _step(nobody.snapshot, Event("text", "strasse", now=AT, data=STAFF_ALIASES))
    assert several.snapshot.state == "leaders"
    assert several.effects[0] == Say(msg("activity.leaders.several", alias="strasse"))
    assert not any(isinstance(e, ChangeRoom) for e in (*nobody.effects, *several.effects))
    exact = _step(several.snapshot, Event("text", "Straße", now=AT, data=STAFF_ALIASES))
    assert exact.effects[-1] == ChangeRoom(4, leaders=("Straße",))
    kept = _step(several.snapshot, Event("choice", "group:stop", now=AT))
    assert kept.snapshot == FlowSnapshot()
    assert kept.effects[-1] == Say(Msg("newroom.edit.stopped"), menu=True)
    assert not any(isinstance(e, ChangeRoom) for e in kept.effects)


def _sent(harness: Harness, since: int, cast: dict[str, Chat]) -> list[tuple[str, str]]:
    """Every message the bot sent since ``since``, to whom and in order."""
    names = {str(chat.user_id): name for name, chat in cast.items()}
    return [
        (names.get(str(c.params.get("chat_id")), "?"), str(c.params.get("text")))
        for c in harness.api.calls[since:]
        if c.method == "sendMessage"
    ]


async def _weekly_group(harness: Harness) -> dict[str, Chat]:
    """Lin's "Tuesday evening group" (Tue 19:30 on the program's clock, 90 minutes), a client
    and a relative invited to it, the invitations sent; Mei is another peer worker."""
    assert harness.services is not None
    harness.set_now(AT)
    lin, _ = await harness.make_person(Role.PEER_WORKER, "Lin", AT)
    mei, _ = await harness.make_person(Role.PEER_WORKER, "Mei", AT)
    me, _ = await harness.make_person(Role.CLIENT, "K7Q2X", AT)
    mum, _ = await harness.make_person(Role.FAMILY, "M3P9Q", AT)
    rooms_ = harness.services.dispatcher.rooms
    async with harness.db.transaction() as session:
        room = await rooms_.create(
            session, "Tuesday evening group", ["Lin"], AT, weekly="tue 19:30", minutes=90
        )
        await rooms_.invite(session, room.id, ["K7Q2X", "M3P9Q"], AT)
    await harness.tick()
    return {"lin": lin, "mei": mei, "me": me, "mum": mum}


CARD = (
    "👥 Tuesday evening group\n"
    "Every Tuesday at {time} (Asia/Shanghai), {minutes} minutes\n"
    "Led by: Lin\n"
    "In the group: 0 · invited, not yet in: 2"
)
TOLD = "✅ Saved. Told of the new time, once and outside their quiet hours: 2."
NEW_TIME = (
    "👥 Tuesday evening group has a new time:\n"
    "Every Tuesday at 8:00\u202fPM (Asia/Shanghai), 60 minutes"
)


async def test_a_new_time_and_length_are_told_to_each_member_once(harness: Harness) -> None:
    cast = await _weekly_group(harness)
    lin = cast["lin"]
    before = len(harness.api.calls)
    await lin.send("/group 1 time")
    await lin.send("20:00")
    assert _sent(harness, before, cast)[1:] == [
        ("lin", TOLD),
        ("lin", CARD.format(time="8:00\u202fPM", minutes=90)),
    ]
    before = len(harness.api.calls)
    await lin.send("/group 1 minutes")
    await lin.send("60")
    assert _sent(harness, before, cast)[1:] == [
        ("lin", TOLD),
        ("lin", CARD.format(time="8:00\u202fPM", minutes=60)),
    ]
    before = len(harness.api.calls)
    await harness.tick()
    assert _sent(harness, before, cast) == [("me", NEW_TIME), ("mum", NEW_TIME)]
    before = len(harness.api.calls)
    await harness.tick()
    assert _sent(harness, before, cast) == []


async def test_a_forged_stale_or_closed_edit_gets_a_short_answer(harness: Harness) -> None:
    cast = await _weekly_group(harness)
    lin, mei = cast["lin"], cast["mei"]
    await _announce(harness)  # room 2: the activity's
    before = len(harness.api.calls)
    await mei.send("/group 1 edit")
    await mei.send("/group 1 title")  # a forged button: asked, refused when saved
    await mei.send("Mine now")
    await lin.send("/group 2 edit")
    await lin.send("/group 2 minutes")
    await lin.send("60")
    await lin.send("/group 99 time")
    await lin.send("20:00")
    await lin.send("/group 1 title")
    assert harness.services is not None
    async with harness.db.transaction() as session:
        await harness.services.dispatcher.rooms.close(session, 1, AT)
    await lin.send("New name")
    await lin.send("/group 1 edit")
    only = "Only a leader of this room can do that."
    follows = "Circle is an activity's room: it changes with its activity (/myactivities)."
    title_ask = "What is the group's new title? Write it (up to 120 characters)."
    minutes_ask = "How long is each meeting (minutes)? Tap one, or write a number from 15 to 480."
    assert _sent(harness, before, cast) == [
        ("mei", only),
        ("mei", title_ask),
        ("mei", only),
        ("lin", follows),
        ("lin", minutes_ask),
        ("lin", follows),
        ("lin", "At what time? Write it like 19:30 (time in Asia/Shanghai)."),
        ("lin", "That group no longer exists."),
        ("lin", title_ask),
        ("lin", "Tuesday evening group is already closed."),
        ("lin", "Tuesday evening group is already closed."),
    ]
    async with harness.db.sessions() as session:
        room = await session.get(RoomRow, 1)
    assert room is not None and room.title == "Tuesday evening group"


def _seen(harness: Harness, since: int, cast: dict[str, Chat]) -> list[tuple[str, str, str]]:
    """Every message the bot sent or edited since ``since``: to whom, its text and buttons."""
    names = {str(chat.user_id): name for name, chat in cast.items()}
    seen = []
    for call in harness.api.calls[since:]:
        if call.method not in ("sendMessage", "editMessageText"):
            continue
        markup = call.params.get("reply_markup") or {}
        labels = [b["text"] for row in markup.get("inline_keyboard", []) for b in row]
        who = names.get(str(call.params.get("chat_id")), "?")
        mark = "<" if call.method == "sendMessage" else "~"
        seen.append((f"{who} {mark}", str(call.params.get("text")), " | ".join(labels)))
    return seen


async def test_a_leader_gone_between_the_question_and_the_save_is_named_and_asked_again(
    harness: Harness,
) -> None:
    """Mei stops being a peer worker after the staff aliases were read for Lin's answer and
    before the change is saved: Lin is told it was Mei, nothing changes (Mei is not invited),
    and the leaders are asked again."""
    from bot import operations
    from flows.facts import Fact

    cast = await _weekly_group(harness)
    lin, mei = cast["lin"], cast["mei"]
    services = harness.services
    assert services is not None
    loaders = services.dispatcher.facts.loaders
    async with harness.db.sessions() as session:
        as_read = await loaders[Fact.STAFF_ALIASES](session, None)  # type: ignore[arg-type]

    async def read_before_the_change(*_: Any) -> list[str]:
        return as_read

    before = len(harness.api.calls)
    await lin.send("/group 1 leaders")
    loaders[Fact.STAFF_ALIASES] = read_before_the_change
    mei_id = await harness.person_id(mei)
    await operations.set_role(services.dispatcher, services.application.bot, mei_id, Role.CLIENT)
    await lin.send("Lin, Mei")
    await harness.tick()
    await lin.press("Leaders")
    await lin.send("Lin")
    ask = "Who leads it? Tap Just me, or write the leaders' aliases separated by commas."
    assert _seen(harness, before, cast) == [
        ("lin <", ask, "Just me | ↩️ Leave it as it is"),
        (
            "mei <",
            "Your role has changed, so you are no longer a peer worker here. The chats you held "
            "went back to the queue, and their people were told someone else will join.",
            "",
        ),
        (
            "lin <",
            "That could not be saved: “Mei” is no longer the alias of a peer worker or "
            "supervisor. Nothing was changed. Please choose the leaders again.",
            "Leaders",
        ),
        ("lin <", ask, "Just me | ↩️ Leave it as it is"),
        ("lin <", "✅ Saved.", ""),
        (
            "lin <",
            CARD.format(time="7:30\u202fPM", minutes=90),
            "➕ Invite | ✖ Close the group | ✏ Edit",
        ),
    ]
    lin_id = await harness.person_id(lin)
    assert [(room, person, leader) for room, person, _, leader in await _members(harness)] == [
        (1, lin_id, True),
        (1, lin_id + 2, False),
        (1, lin_id + 3, False),
    ]


async def _cli(harness: Harness, command: str) -> list[str]:
    assert harness.services is not None and harness.now is not None
    args = command_parser().parse_args(shlex.split(command))
    try:
        return await room_shell.command_line(
            harness.services.dispatcher.rooms, harness.db, args, harness.now
        )
    except room_shell.InvalidRoom as exc:
        return [f"error: {exc}"]


async def test_tongban_room_edit_runs_as_docs_activities_shows_it(harness: Harness) -> None:
    """The two ``tongban room edit`` lines of docs/activities.md, with real ids and aliases,
    and what it refuses (nothing changed then)."""
    cast = await _weekly_group(harness)
    await _announce(harness)  # room 2: the activity's
    await harness.tick()  # its invitations out of the way
    assert await _cli(harness, "room edit 1 --weekday wed --opens 19:00 --minutes 60") == [
        "room 1 changed: Tuesday evening group, wed 19:00, 60 minutes; 3 member(s) to be told"
    ]
    assert await _cli(
        harness, 'room edit 1 --title "Wednesday circle" --leader Lin --leader mei'
    ) == ["room 1 changed: Wednesday circle, wed 19:00, 60 minutes; 0 member(s) to be told"]
    for command, error in (
        (
            "room edit 1",
            "nothing to change: give --title, --weekday, --opens, --minutes or --leader",
        ),
        ("room edit 1 --weekday someday", "--weekday is one of mon, tue, wed, thu, fri, sat, sun"),
        ("room edit 1 --opens 25:00", 'the time is hours and minutes, e.g. "19:30"'),
        ("room edit 1 --minutes 5", "the duration must be 15 to 480 minutes"),
        (
            "room edit 1 --title Later --leader NOONE",
            "no peer worker or supervisor with the alias NOONE",
        ),
        ("room edit 1 --leader K7Q2X", "no peer worker or supervisor with the alias K7Q2X"),
        ("room edit 2 --title Other", "room 2 follows activity 1: change the activity"),
        ("room edit 9 --title Other", "no open room 9"),
    ):
        assert await _cli(harness, command) == [f"error: {error}"]
    before = len(harness.api.calls)
    await harness.tick()
    told = (
        "👥 Wednesday circle has a new time:\n"
        "Every Wednesday at 7:00\u202fPM (Asia/Shanghai), 60 minutes"
    )
    invited = (  # Mei, a new leader, in her own zone (UTC)
        "🌿 You're invited to the online group Wednesday circle. Everyone speaks under a group "
        "name, never a real name.\n"
        "The room is closed now; it opens Wed, Dec 2 at 11:00\u202fAM. See you then!"
    )
    assert _sent(harness, before, cast) == [
        ("mei", invited),
        ("lin", told),
        ("me", told),
        ("mum", told),
    ]
    await _cli(harness, "room close 1")
    assert await _cli(harness, "room edit 1 --minutes 90") == ["error: no open room 1"]


async def test_a_member_hears_of_a_new_time_outside_their_quiet_hours(harness: Harness) -> None:
    """Changed late at night (``tongban room edit``): the leader, staff, hears at once; the
    client and the relative (quiet from 22:00 to 08:00 in their zone, UTC) in the morning."""
    cast = await _weekly_group(harness)
    night = datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    harness.set_now(night)
    assert await _cli(harness, "room edit 1 --minutes 60") == [
        "room 1 changed: Tuesday evening group, tue 19:30, 60 minutes; 3 member(s) to be told"
    ]
    told = (
        "👥 Tuesday evening group has a new time:\n"
        "Every Tuesday at 7:30\u202fPM (Asia/Shanghai), 60 minutes"
    )
    before = len(harness.api.calls)
    await harness.tick()
    assert _sent(harness, before, cast) == [("lin", told)]
    harness.set_now(night + timedelta(hours=9, minutes=30))
    before = len(harness.api.calls)
    await harness.tick()
    assert _sent(harness, before, cast) == [("me", told), ("mum", told)]


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
