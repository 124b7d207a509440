"""Group rooms: when a room is open, who gets a copy of what, what crisis language does in a
room, a leader's commands, a member who blocked the bot, and the fan-out's order and
priority. The sessions themselves are in the ``room_*`` transcripts; the model-based test of
membership and fan-out is ``tests/test_room_model.py``."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from bot import rooms as room_shell
from bot.storage.models import Person, RoomAttendance, RoomCopy, RoomMember, RoomMessage
from bot.telegram.fanout import RoomFanout
from flows import conversation, rooms
from flows.effects import (
    FlowSnapshot,
    PostToRoom,
    RoomHeldBack,
    RoomRequest,
    Say,
    Tell,
    UpdateMembership,
)
from flows.facts import Fact
from flows.people import Event, PersonView, Rules
from flows.roles import Role
from flows.rooms import INVITED, MEMBER, REMOVED, Copy, Membership, Present, Room
from flows.text import Msg, Raw, msg
from tests.harness import Harness
from tests.harness import Person as Chat

SHANGHAI = "Asia/Shanghai"
TUESDAY_EVENING = datetime(2026, 12, 1, 11, 45, tzinfo=UTC)  # 19:45 Tuesday in Shanghai
ROOM = Room(
    id=3,
    title="Tuesday evening group",
    zone=SHANGHAI,
    minutes=90,
    weekday=1,
    opens=time(19, 30),
    leaders=((10, "Lin"),),
    aliases=frozenset({"Lin", "Blue Sky"}),
)


def _me(person_id: int = 20, role: Role = Role.CLIENT) -> PersonView:
    return PersonView(person_id, role, "en", SHANGHAI, alias="K7Q2X", onboarded=True)


def _inside(membership: Membership, event: Event, person: PersonView | None = None) -> Any:
    snapshot = FlowSnapshot(rooms.NAME, "inside", {"room": membership.room.id})
    data = {Fact.ROOMS.value: [membership]}
    return conversation.handle(_with(event, data), person or _me(), snapshot, Rules())


def _with(event: Event, data: dict[str, Any]) -> Event:
    return replace(event, data=data)


# -- when a room is open -------------------------------------------------------------------


def test_a_weekly_room_is_open_during_its_session_only_and_says_when_it_opens_next() -> None:
    opens = datetime(2026, 12, 1, 11, 30, tzinfo=UTC)  # Tuesday 19:30 in Shanghai
    assert not ROOM.is_open(opens.replace(minute=29))
    assert ROOM.is_open(opens)
    assert ROOM.is_open(datetime(2026, 12, 1, 12, 59, tzinfo=UTC))
    assert not ROOM.is_open(datetime(2026, 12, 1, 13, 0, tzinfo=UTC))  # 90 minutes later
    assert ROOM.next_opening(datetime(2026, 12, 1, 13, 0, tzinfo=UTC)) == datetime(
        2026, 12, 8, 11, 30, tzinfo=UTC
    )
    # the reader's own zone: 19:30 in Shanghai is 11:30 in London
    london = PersonView(1, Role.CLIENT, "en", "Europe/London")
    assert rooms.opens_text(ROOM, datetime(2026, 12, 2, tzinfo=UTC), london) == msg(
        "room.opens", day=date(2026, 12, 8), time=time(11, 30)
    )


def test_a_weekly_room_keeps_its_local_time_across_a_clock_change() -> None:
    room = Room(1, "Sunday group", "Europe/London", 60, weekday=6, opens=time(18, 0))
    # the clocks went back on Sunday 25 October 2026: 18:00 is 17:00 UTC before, 18:00 after
    assert room.next_opening(datetime(2026, 10, 19, tzinfo=UTC)) == datetime(
        2026, 10, 25, 18, 0, tzinfo=UTC
    )
    assert room.next_opening(datetime(2026, 10, 12, tzinfo=UTC)) == datetime(
        2026, 10, 18, 17, 0, tzinfo=UTC
    )


def test_the_room_of_an_activity_is_open_while_it_runs_and_then_never_again() -> None:
    start = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    room = Room(2, "Online sharing", SHANGHAI, 60, starts_at=start)
    assert room.next_opening(datetime(2026, 12, 1, tzinfo=UTC)) == start
    assert room.is_open(start) and not room.is_open(datetime(2026, 12, 3, 8, 0, tzinfo=UTC))
    assert room.next_opening(datetime(2026, 12, 3, 8, 0, tzinfo=UTC)) is None
    after = rooms.opens_text(room, datetime(2026, 12, 3, 8, 0, tzinfo=UTC), _me())
    assert after == Msg("room.closed_for_good")


# -- who gets a copy of what ---------------------------------------------------------------


def test_a_message_goes_to_every_other_member_present_with_the_senders_alias() -> None:
    present = [
        Present(10, "Lin", True),
        Present(20, "Morning Tea", False),
        Present(30, "Sky", False),
    ]
    assert rooms.copies("text", "hello", present[1], present) == (
        Copy(10, msg("room.says", alias=Raw("Morning Tea"), text=Raw("hello")), False),
        Copy(30, msg("room.says", alias=Raw("Morning Tea"), text=Raw("hello")), False),
    )
    assert rooms.copies("media", "", present[0], present, {20: 501, 30: 777}) == (
        Copy(20, msg("room.leader_sent", alias=Raw("Lin")), True, 501),
        Copy(30, msg("room.leader_sent", alias=Raw("Lin")), True, 777),
    )


def test_a_message_in_an_open_room_is_posted_and_outside_its_session_gets_the_opening() -> None:
    member = Membership(ROOM, "Morning Tea", False, MEMBER, True)
    text = Event("text", "hello", now=TUESDAY_EVENING, message_id=41)
    posted = _inside(member, text)
    assert posted.effects == (PostToRoom(3, 20, "text", "hello", 41),)
    assert posted.snapshot == FlowSnapshot(rooms.NAME, "inside", {"room": 3})
    later = _inside(member, Event("text", "hello", now=datetime(2026, 12, 2, tzinfo=UTC)))
    assert later.effects == (Say(msg("room.opens", day=date(2026, 12, 8), time=time(19, 30))),)


def test_a_muted_member_is_told_and_nothing_reaches_the_room() -> None:
    muted = Membership(ROOM, "Morning Tea", False, MEMBER, True, muted=True)
    outcome = _inside(muted, Event("text", "hello", now=TUESDAY_EVENING, message_id=41))
    assert outcome.effects == (Say(Msg("room.muted")),)


def test_an_edit_the_room_cannot_take_gives_its_most_lasting_reason() -> None:
    """Why an edit of a message standing in a room does not reach it: the room over (closed,
    or an activity's room after it ran) before the member being out of it (left, removed,
    stepped out, in another room), before muted, before the room closed until its next
    session; in the writer's own zone."""
    me = _me()
    member = Membership(ROOM, "River", False, MEMBER, True)
    title = Raw(ROOM.title)
    wednesday = datetime(2026, 12, 2, tzinfo=UTC)
    assert rooms.edit_refused(member, 3, TUESDAY_EVENING, me) is None
    assert rooms.edit_refused(member, 3, wednesday, me) == msg(
        "room.edit.not_open", title=title, day=date(2026, 12, 8), time=time(19, 30)
    )
    muted = replace(member, muted=True)
    assert rooms.edit_refused(muted, 3, wednesday, me) == msg("room.edit.muted", title=title)
    for out, here in ((muted, None), (muted, 4), (replace(muted, state=REMOVED), 3)):
        assert rooms.edit_refused(out, here, wednesday, me) == msg(
            "room.edit.not_in_room", title=title
        )
    closed = replace(muted, state=REMOVED, room=replace(ROOM, closed=True))
    assert rooms.edit_refused(closed, None, TUESDAY_EVENING, me) == msg(
        "room.edit.closed", title=title
    )
    start = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    online = Membership(
        Room(2, "Online sharing", SHANGHAI, 60, starts_at=start), "R", False, MEMBER, True
    )
    online_title = Raw("Online sharing")
    assert rooms.edit_refused(online, 2, datetime(2026, 12, 3, 8, 0, tzinfo=UTC), me) == msg(
        "room.edit.closed", title=online_title
    )
    assert rooms.edit_refused(online, 2, TUESDAY_EVENING, me) == msg(
        "room.edit.not_open", title=online_title, day=date(2026, 12, 3), time=time(15, 0)
    )


def test_a_removed_member_is_out_of_the_room_at_their_next_message() -> None:
    removed = Membership(ROOM, "Morning Tea", False, REMOVED, True)
    outcome = _inside(removed, Event("text", "hello", now=TUESDAY_EVENING, message_id=41))
    assert outcome.effects == (Say(Msg("room.no_longer")),)
    assert outcome.snapshot == FlowSnapshot()


def test_crisis_language_in_a_room_is_held_back_and_the_leader_is_told() -> None:
    member = Membership(ROOM, "River", False, MEMBER, True)
    crisis = Event(
        "text", "I want to kill myself", now=TUESDAY_EVENING, message_id=41, risk="crisis"
    )
    outcome = _inside(member, crisis)
    assert outcome.effects == (
        RoomHeldBack(3),
        Say(Msg("room.crisis.held")),
        Tell(10, msg("room.crisis.leader", alias=Raw("River"))),
    )
    assert outcome.snapshot == FlowSnapshot(rooms.NAME, "inside", {"room": 3})


def test_a_first_join_asks_for_a_group_alias_then_the_rules() -> None:
    invited = Membership(ROOM, None, False, INVITED, False)
    event = Event("command", "room", "3", now=TUESDAY_EVENING, data={Fact.ROOMS.value: [invited]})
    entered = conversation.handle(event, _me(), FlowSnapshot(), Rules())
    assert entered.snapshot.state == "alias"
    taken = _with(Event("text", "blue sky", now=TUESDAY_EVENING), {Fact.ROOMS.value: [invited]})
    again = conversation.handle(taken, _me(), entered.snapshot, Rules())
    assert again.effects[0] == Say(msg("room.alias.taken", alias="blue sky"), (rooms.STOP,))
    chosen = _with(Event("text", "River", now=TUESDAY_EVENING), {Fact.ROOMS.value: [invited]})
    rules = conversation.handle(chosen, _me(), again.snapshot, Rules())
    assert rules.effects[0] == UpdateMembership(3, 20, alias="River")
    assert rules.snapshot.state == "rules"


def test_with_several_rooms_the_person_chooses_one() -> None:
    other = Room(4, "Family circle", SHANGHAI, 60, weekday=3, opens=time(10, 0))
    data = {
        Fact.ROOMS.value: [
            Membership(ROOM, "River", False, MEMBER, True),
            Membership(other, "River", False, MEMBER, True),
        ]
    }
    event = Event("command", "room", "", now=TUESDAY_EVENING, data=data)
    outcome = conversation.handle(event, _me(), FlowSnapshot(), Rules())
    assert outcome.effects == (
        Say(
            Msg("room.choose"),
            (
                rooms.Choice(Raw("Tuesday evening group"), "/room 3"),
                rooms.Choice(Raw("Family circle"), "/room 4"),
            ),
        ),
    )


# -- a leader's commands -------------------------------------------------------------------


def test_only_a_leader_may_mute_or_remove_and_never_another_leader() -> None:
    lead = Membership(ROOM, "Lin", True, MEMBER, True)
    member = Membership(ROOM, "Sky", False, MEMBER, True)
    mute = RoomRequest("mute", 3, alias="Sky")
    assert rooms.decide(mute, member, member, 30) == (Say(Msg("room.leader.only")),)
    assert rooms.decide(mute, lead, None, None) == (
        Say(msg("room.leader.no_such", alias=Raw("Sky"))),
    )
    assert rooms.decide(RoomRequest("mute", 3, alias="Lin"), lead, lead, 10) == (
        Say(Msg("room.leader.not_a_leader")),
    )
    assert rooms.decide(mute, lead, member, 30) == (
        UpdateMembership(3, 30, muted=True),
        Tell(30, msg("room.muted.told", title=Raw("Tuesday evening group"))),
        Say(msg("room.leader.muted", alias=Raw("Sky"))),
    )
    assert rooms.decide(RoomRequest("removemember", 3, alias="Sky"), lead, member, 30) == (
        UpdateMembership(3, 30, state=REMOVED),
        Tell(30, msg("room.removed.told", title=Raw("Tuesday evening group"))),
        Say(msg("room.leader.removed", alias=Raw("Sky"))),
    )


def test_leader_commands_need_the_room_and_unsay_needs_a_reply() -> None:
    outside = FlowSnapshot()
    inside = FlowSnapshot(rooms.NAME, "inside", {"room": 3})
    staff = _me(10, Role.PEER_WORKER)
    assert rooms.command("mute", "Sky", staff, outside, False) == (
        Say(Msg("room.leader.enter_first")),
    )
    assert rooms.command("unsay", "", staff, inside, False) == (Say(Msg("room.leader.unsay_how")),)
    assert rooms.command("unsay", "", staff, inside, True) == (RoomRequest("unsay", 3),)
    assert rooms.command("mute", "  Blue   Sky ", staff, inside, False) == (
        RoomRequest("mute", 3, alias="Blue Sky"),
    )


def test_a_weekly_time_is_read_as_a_weekday_and_a_time() -> None:
    assert room_shell.parse_weekly("Tue 19:30") == (1, time(19, 30))
    assert room_shell.parse_weekly("sunday 9:05") == (6, time(9, 5))
    for bad in ("tuesday", "xyz 19:00", "tue 25:00"):
        with pytest.raises(room_shell.InvalidRoom, match="--weekly"):
            room_shell.parse_weekly(bad)


# -- the fan-out: after everything else, in each room's order ----------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now


async def _paced(others: int, monkeypatch: Any) -> list[float]:
    """How long a room's copies wait: four in a burst, then a fifth, with ``others`` other
    messages sent meanwhile."""
    clock = _Clock()
    fanout = RoomFanout(per_second=4, clock=clock)

    async def sleep(seconds: float) -> None:
        clock.slept.append(seconds)
        clock.now += seconds

    monkeypatch.setattr("bot.telegram.fanout.asyncio.sleep", sleep)

    async def send(batch: Any) -> list[object]:
        return list(batch)

    await fanout.deliver(1, 1, [["a"], ["b"], ["c"], ["d"]], send)
    fanout.others_sent(others)
    await fanout.deliver(1, 2, [["e"]], send)
    return clock.slept


async def test_room_copies_slow_down_while_other_messages_go_out(monkeypatch: Any) -> None:
    assert await _paced(0, monkeypatch) == [0.25]  # the burst is spent: one earned at 4/s
    assert await _paced(2, monkeypatch) == [0.5]  # two others this second: 2/s left
    assert await _paced(30, monkeypatch) == [1.0]  # never below a quarter: 1/s


async def test_a_rooms_messages_go_out_in_the_rooms_order() -> None:
    fanout = RoomFanout(per_second=100)
    sent: list[str] = []
    fanout.expect(1, 7)
    fanout.expect(1, 8)

    async def send(batch: Any) -> list[object]:
        await asyncio.sleep(0)
        sent.extend(batch)
        return list(batch)

    # message 8 is ready first, but 7 was numbered first: 8 waits for it
    later = asyncio.create_task(fanout.deliver(1, 8, [["8a"], ["8b"]], send))
    await asyncio.sleep(0.01)
    assert sent == []
    await fanout.deliver(1, 7, [["7a"], ["7b"]], send)
    await later
    assert sent == ["7a", "7b", "8a", "8b"]


async def test_a_messages_readers_get_their_copies_side_by_side_each_in_order() -> None:
    """One round trip for the room, not one per member: the second reader's copy does not
    wait for the first's; a reader's photo still follows its line."""
    fanout = RoomFanout(per_second=100)
    events: list[str] = []
    arrived = {name: asyncio.Event() for name in ("a line", "a photo", "b line")}

    async def send(batch: Any) -> list[object]:
        (copy,) = batch
        events.append(f"start {copy}")
        if copy == "a line":
            await arrived["b line"].wait()  # a slow chat: b's copy must not wait for it
        arrived[copy].set()
        events.append(f"end {copy}")
        return [copy]

    got = await asyncio.wait_for(fanout.deliver(1, 1, [["a line", "a photo"], ["b line"]], send), 5)
    assert got == ["a line", "b line", "a photo"]
    assert events.index("end b line") < events.index("end a line")
    assert events.index("end a line") < events.index("start a photo")


async def test_a_message_that_was_never_committed_holds_up_nothing() -> None:
    fanout = RoomFanout(per_second=100, patience=3600)
    fanout.expect(1, 7)
    fanout.expect(1, 8)
    fanout.forget(1, 7)  # its transaction rolled back

    async def send(batch: Any) -> list[object]:
        return list(batch)

    # with 7 still awaited this would wait an hour (the test would time out)
    assert await asyncio.wait_for(fanout.deliver(1, 8, [["8a"]], send), 5) == ["8a"]


# -- the whole bot: a member who blocked the bot --------------------------------------------

NOW = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # Tuesday 21:00 in Shanghai


async def _weekly_room(harness: Harness, title: str, room_id: int, aliases: list[str]) -> None:
    """Lin leads a new weekly room (the ``room_id``-th made) open now; ``aliases`` are invited."""
    services = harness.services
    assert services is not None
    args = SimpleNamespace(
        room_command="create",
        title=title,
        leader=["Lin"],
        activity=None,
        weekly="tue 20:00",
        minutes=480,
    )
    await room_shell.command_line(services.dispatcher.rooms, harness.db, args, NOW)
    invite = SimpleNamespace(room_command="invite", room_id=room_id, alias=aliases)
    await room_shell.command_line(services.dispatcher.rooms, harness.db, invite, NOW)


async def _room_of(harness: Harness, members: int) -> tuple[Chat, list[Chat]]:
    """Lin leads a weekly room open now; ``members`` clients joined it and are in it."""
    harness.set_now(NOW)
    lin, _ = await harness.make_person(Role.PEER_WORKER, "Lin", NOW)
    chats = [(await harness.make_person(Role.CLIENT, f"C{i}ABC", NOW))[0] for i in range(members)]
    await _weekly_room(harness, "Evening group", 1, [f"C{i}ABC" for i in range(members)])
    await harness.tick()
    await lin.send("/room")
    for i, chat in enumerate(chats):
        await chat.send("/room")
        await chat.send(f"Member {i}")
        await chat.press("✅ I agree")
    return lin, chats


def _texts_to(harness: Harness, chat: Chat, since: int) -> list[str]:
    return [
        str(c.params.get("text"))
        for c in harness.api.calls[since:]
        if c.method == "sendMessage" and str(c.params.get("chat_id")) == str(chat.user_id)
    ]


async def test_a_member_who_blocked_the_bot_is_dropped_quietly(harness: Harness) -> None:
    lin, (one, two, gone) = await _room_of(harness, 3)
    harness.api.blocked.add(gone.user_id)
    before = len(harness.api.calls)
    await lin.send("Welcome")
    said = "💬 Lin (leader): Welcome"
    assert [_texts_to(harness, c, before) for c in (one, two, gone, lin)] == [
        [said],
        [said],
        [said],  # tried once: Telegram refused it (403)
        [],
    ]
    async with harness.db.sessions() as session:
        states = (
            await session.scalars(select(RoomMember.state).order_by(RoomMember.person_id))
        ).all()
    assert list(states) == ["member", "member", "member", "left"]
    before = len(harness.api.calls)
    await one.send("Hi")
    assert [_texts_to(harness, c, before) for c in (lin, two, gone, one)] == [
        ["💬 Member 0: Hi"],
        ["💬 Member 0: Hi"],
        [],  # no longer tried, and nobody was told
        [],
    ]


async def test_a_reply_answers_each_members_own_copy(harness: Harness) -> None:
    lin, (one, two) = await _room_of(harness, 2)
    await one.send("I walked today")
    before = len(harness.api.calls)
    await two.does('(reply to "I walked today") Me too')
    replies = {
        str(c.params["chat_id"]): c.params.get("reply_parameters", {}).get("message_id")
        for c in harness.api.calls[before:]
        if c.method == "sendMessage"
    }
    own = {
        str(chat): message_id
        for (chat, message_id), m in harness.api.messages.items()
        if m.get("text") == "💬 Member 0: I walked today"
    }
    # Lin's copy is answered in Lin's chat; in the writer's chat, their own message (their
    # third: /room, their group alias, then this one)
    assert replies == {str(lin.user_id): own[str(lin.user_id)], str(one.user_id): 3}


async def test_help_names_room_to_its_members_and_the_leaders_commands_to_its_leaders(
    harness: Harness,
) -> None:
    lin, (one,) = await _room_of(harness, 1)
    other, _ = await harness.make_person(Role.CLIENT, "OTHER1", NOW)
    room_line = (
        "🚪 /room — enter your group room (any command takes you out of it; /room brings you back)"
    )
    leader_line = "As a leader, in the room: /unsay as a reply to a message removes it everywhere"
    member_help = "\n".join(r.text for r in await one.send("/help"))
    assert member_help.startswith(room_line + "\nHere's what I can do for you:")
    assert leader_line not in member_help
    lin_help = "\n".join(r.text for r in await lin.send("/help"))
    assert lin_help.startswith(room_line + "\n" + leader_line)
    assert "/room" not in "\n".join(r.text for r in await other.send("/help"))
    await one.press("🚪 Leave the group")  # out of the room for good: /help forgets it
    assert "/room" not in "\n".join(r.text for r in await one.send("/help"))


# -- data rights: a copy of one's own rooms, erasure, the retention purge ----------------


async def _person_id(harness: Harness, chat: Chat) -> int:
    async with harness.db.sessions() as session:
        found = await session.scalar(
            select(Person.id).where(Person.telegram_user_id == chat.user_id)
        )
    assert found is not None
    return int(found)


async def test_mydata_has_ones_own_rooms_and_erasure_leaves_the_room_working(
    harness: Harness,
) -> None:
    from bot import operations

    lin, (one, two) = await _room_of(harness, 2)
    await one.send("I walked today")
    await two.send("Good for you")
    await one.send("/mydata")
    document = [c for c in harness.api.calls if c.method == "sendDocument"][-1]
    data = json.loads(document.params["document"])
    assert data["group_rooms"] == [
        {
            "room": "Evening group",
            "your_group_name": "Member 0",
            "as_leader": False,
            "state": "member",
            "invited": NOW.isoformat(),
            "agreed_to_the_rules": NOW.isoformat(),
            "muted": False,
        }
    ]
    # nobody else's group name, and no words: a room's messages are not stored with the
    # room; only the crisis screen keeps one's own last two, minutes (docs/risk-lexicon.md)
    assert "Member 1" not in document.params["document"].decode()
    assert "Good for you" not in document.params["document"].decode()
    assert [m["text"] for m in data["recent_messages"]] == ["Member 0", "I walked today"]

    erased = await _person_id(harness, one)
    lin_id, two_id = await _person_id(harness, lin), await _person_id(harness, two)
    assert harness.services is not None
    await operations.erase(harness.services.dispatcher, None, erased)
    async with harness.db.sessions() as session:
        members = await session.scalars(select(RoomMember.person_id).order_by(RoomMember.person_id))
        assert members.all() == [lin_id, two_id]
        copies = (await session.execute(select(RoomCopy.chat_id, RoomCopy.person_id))).all()
        assert all(chat != one.user_id and person != erased for chat, person in copies)
        senders = (
            await session.scalars(select(RoomMessage.sender_id).order_by(RoomMessage.seq))
        ).all()
        assert senders == [None, two_id]
        present = (await session.scalars(select(RoomAttendance.person_id))).all()
        assert erased not in present and len(present) == 3  # still counted, as nobody
    # a reply to the erased member's message still finds each copy
    before = len(harness.api.calls)
    await two.does('(reply to "I walked today") Me too')
    assert _texts_to(harness, lin, before) == ["💬 Member 1: Me too"]


async def test_the_retention_purge_forgets_who_wrote_and_where_copies_landed(
    harness: Harness,
) -> None:
    from datetime import timedelta

    from bot.scheduler import purge_old

    lin, (one,) = await _room_of(harness, 1)
    await one.send("Hello")
    await lin.send("Welcome")
    async with harness.db.transaction() as session:
        await purge_old(session, NOW + timedelta(days=366), retention_days=365)
    async with harness.db.sessions() as session:
        assert (await session.scalars(select(RoomCopy.chat_id))).all() == []
        assert (await session.scalars(select(RoomMessage.sender_id))).all() == [None, None]
        present = (
            await session.execute(
                select(RoomAttendance.person_id, RoomAttendance.leader).order_by(
                    RoomAttendance.leader
                )
            )
        ).all()
    assert present == [(None, False), (await _person_id(harness, lin), True)]


# -- the register: sessions held -------------------------------------------------------------


async def test_sessions_held_are_in_the_register_and_the_report_agrees_with_sql(
    harness: Harness,
) -> None:
    from datetime import timedelta

    from sqlalchemy import distinct, func

    from bot.report import gather
    from bot.storage.models import RoomSession

    lin, members = await _room_of(harness, 5)
    await members[0].send("Hello all")
    await members[1].send("My phone is 5551 2345")
    await lin.does('(reply to "5551 2345") /unsay')
    await members[2].send("I want to kill myself")  # held back
    harness.set_now(NOW + timedelta(days=7))  # next Tuesday's session
    await members[3].send("A new week")
    await lin.send("Welcome back")
    assert harness.services is not None
    lines = await room_shell.command_line(
        harness.services.dispatcher.rooms,
        harness.db,
        SimpleNamespace(room_command="sessions"),
        NOW,
    )
    assert [line.split() for line in lines[1:]] == [
        ["2026-12-01", "20:00", "1", "5", "2", "1", "1", "Lin", "Evening", "group"],
        ["2026-12-08", "20:00", "1", "5", "2", "0", "0", "Lin", "Evening", "group"],
    ]
    async with harness.db.sessions() as session:
        report = await gather(session, date(2026, 11, 30), date(2026, 12, 9))
        said = (
            await session.execute(
                select(
                    func.count(distinct(RoomMessage.session_id)),
                    func.count(),
                    func.count(RoomMessage.removed_at),
                )
            )
        ).one()
        attended = (
            await session.execute(
                select(func.count(), func.count(distinct(RoomAttendance.person_id))).where(
                    RoomAttendance.leader.is_(False)
                )
            )
        ).one()
        held_back = await session.scalar(select(func.sum(RoomSession.held_back)))
    sessions, messages, removed = said
    attendances, people = attended
    assert (sessions, messages, removed, attendances, people, held_back) == (2, 4, 1, 10, 5, 1)
    rooms_table = next(t for t in report.tables() if t.name == "room_sessions")
    assert rooms_table.rows == [
        ("Evening group", sessions, attendances, people, messages, removed, held_back)
    ]


async def test_a_room_of_fewer_than_five_members_shows_no_numbers_in_the_report(
    harness: Harness,
) -> None:
    from bot.report import SUPPRESSED, gather

    _, (one, _) = await _room_of(harness, 2)
    await one.send("Hello")
    async with harness.db.sessions() as session:
        report = await gather(session, date(2026, 11, 30), date(2026, 12, 2))
    rooms_table = next(t for t in report.tables() if t.name == "room_sessions")
    assert rooms_table.rows == [("Evening group", *(SUPPRESSED,) * 6)]


# -- a member edits a message already copied ----------------------------------------------


def _calls_to(harness: Harness, chat: Chat, since: int) -> list[tuple[str, str]]:
    return [
        (c.method, str(c.params.get("text", c.params.get("message_id"))))
        for c in harness.api.calls[since:]
        if str(c.params.get("chat_id")) == str(chat.user_id)
        and c.method in ("sendMessage", "editMessageText", "deleteMessage")
    ]


async def test_an_edit_is_screened_then_made_in_every_copy(harness: Harness) -> None:
    from datetime import timedelta

    from sqlalchemy import func

    from bot.storage.models import RoomSession

    lin, (one, two) = await _room_of(harness, 2)
    await one.send("I walked tday")
    copies = {
        str(chat): message_id
        for (chat, message_id), m in harness.api.messages.items()
        if m.get("text") == "💬 Member 0: I walked tday"
    }
    before = len(harness.api.calls)
    await one.does('(edit "walked") I walked today')
    edited = "💬 Member 0: I walked today"
    assert [_calls_to(harness, c, before) for c in (lin, two, one)] == [
        [("editMessageText", edited)],
        [("editMessageText", edited)],
        [],
    ]
    assert {
        str(c.params["chat_id"]): int(c.params["message_id"]) for c in harness.api.calls[before:]
    } == copies

    # a message a leader removed, and one sent outside the room: the edit changes nothing
    await two.send("Call me on 5551 2345")
    await lin.does('(reply to "5551 2345") /unsay')
    harness.set_now(NOW + timedelta(days=1))
    await one.send("just to the bot")  # the room is closed: nothing reaches it
    harness.set_now(NOW + timedelta(days=7))  # open again, next Tuesday
    before = len(harness.api.calls)
    await two.does('(edit "5551") Call me')
    await one.does('(edit "just to the bot") still just to the bot')
    assert harness.api.calls[before:] == []

    # crisis language edited in: taken back from everyone, and the crisis path as for a
    # new message (the crisis reply first, held back, the leader told)
    before = len(harness.api.calls)
    replies = await one.does('(edit "walked today") I want to kill myself')
    assert "emergency" in replies[0].text.lower() or "999" in replies[0].text
    assert _calls_to(harness, lin, before) == [
        (
            "sendMessage",
            "🔔 URGENT · #1 · client C0ABC\nEnglish · waiting 1 second\n• crisis language",
        ),
        ("deleteMessage", str(copies[str(lin.user_id)])),
        (
            "sendMessage",
            "⚠️ Member 0 needs support; a peer worker has been alerted. Their message was not shared with the group.",
        ),
    ]
    assert _calls_to(harness, two, before) == [("deleteMessage", str(copies[str(two.user_id)]))]
    async with harness.db.sessions() as session:
        held = await session.scalar(select(func.sum(RoomSession.held_back)))
        removed = (
            await session.scalars(select(RoomMessage.removed_at).order_by(RoomMessage.seq))
        ).all()
    assert held == 1 and all(r is not None for r in removed)


async def test_an_edited_caption_is_edited_on_each_copy_of_the_photo(harness: Harness) -> None:
    lin, (one,) = await _room_of(harness, 1)
    photo = [{"file_id": "p1", "file_unique_id": "u2", "width": 1, "height": 1}]
    sent = one._message(None, photo=photo, caption="My garden")
    await harness.feed(one, {"message": sent})
    copy = _copy_id(harness, lin)
    before = len(harness.api.calls)
    edited = {**sent, "caption": "My garden in spring", "edit_date": 1_700_000_100}
    await harness.feed(one, {"edited_message": edited})
    assert [(c.method, c.params) for c in harness.api.calls[before:]] == [
        (
            "editMessageCaption",
            {
                "chat_id": str(lin.user_id),
                "message_id": str(copy),
                "caption": "My garden in spring",
            },
        )
    ]


def _copy_id(harness: Harness, chat: Chat) -> int:
    """The id of the newest message in ``chat`` that the bot made by copying."""
    return max(
        message_id
        for (chat_id, message_id), m in harness.api.messages.items()
        if chat_id == chat.user_id and m.get("text") == ""
    )


# -- an edit after the writer is out of the room, and copies of members who left ---------------

SETTINGS = (
    "Your settings:\n• Check-in time: —\n• Time zone: UTC\n• Region: United States\n"
    "• Language: English"
)
NOT_REACHED = (
    "Your edit didn't reach Evening group: you're no longer in the room, so the others still "
    "see your message as it was."
)


def _everything(harness: Harness, since: int, cast: dict[str, Chat]) -> list[tuple[str, ...]]:
    """Every message the bot sent, edited or deleted since ``since``: in whose chat, in order."""
    names = {str(chat.user_id): name for name, chat in cast.items()}
    return [
        (
            names.get(str(c.params.get("chat_id")), "?"),
            c.method,
            str(c.params.get("text", c.params.get("message_id"))),
        )
        for c in harness.api.calls[since:]
        if c.method in ("sendMessage", "editMessageText", "deleteMessage", "copyMessage")
    ]


async def test_an_edit_made_out_of_the_room_reaches_nobody_and_its_writer_is_told(
    harness: Harness,
) -> None:
    """Stepped out (/settings) or left with one tap: the others' copies stay as they were, and
    the writer hears that the change did not reach the room, not the bot's general line about
    edits ("please send it again" would not reach the room either)."""
    lin, (one, two) = await _room_of(harness, 2)
    cast = {"lin": lin, "one": one, "two": two}
    await one.send("I walked tday")
    await two.send("Rain here")
    await two.send("/settings")
    before = len(harness.api.calls)
    await two.does('(edit "Rain") Sun here')
    await one.send("/room leave 1")
    await one.does('(edit "walked") I walked today')
    assert _everything(harness, before, cast) == [
        ("two", "sendMessage", NOT_REACHED),
        ("two", "sendMessage", SETTINGS),
        (
            "one",
            "sendMessage",
            "You've left Evening group. Take care — if you'd like to come back, ask the leader "
            "for a new invitation.",
        ),
        ("lin", "sendMessage", "Member 0 has left the group."),
        ("one", "sendMessage", NOT_REACHED),
    ]


async def test_an_edit_reaches_the_copy_of_a_member_who_has_left(harness: Harness) -> None:
    """Kept on purpose (docs/activities.md): an edit that takes something private out of a
    message must reach every copy, a member's who has left the room too."""
    lin, (one, two) = await _room_of(harness, 2)
    cast = {"lin": lin, "one": one, "two": two}
    await one.send("Call me on 5551 2345")
    copies = {
        name: message_id
        for name, chat in cast.items()
        for (chat_id, message_id), m in harness.api.messages.items()
        if chat_id == chat.user_id and m.get("text") == "💬 Member 0: Call me on 5551 2345"
    }
    await two.send("/room leave 1")
    before = len(harness.api.calls)
    await one.does('(edit "5551") Call me')
    assert _everything(harness, before, cast) == [
        ("lin", "editMessageText", "💬 Member 0: Call me"),
        ("two", "editMessageText", "💬 Member 0: Call me"),
    ]
    edited = {
        name: int(c.params["message_id"])
        for c in harness.api.calls[before:]
        for name, chat in cast.items()
        if str(c.params["chat_id"]) == str(chat.user_id)
    }
    assert edited == copies


# -- an edit the room cannot take: muted, the room closed, another room's message ---------------

MUTED_EDIT = (
    "Your edit didn't reach Evening group: a leader has paused your messages there, so the "
    "others still see your message as it was."
)
WELCOME_BACK = (
    "🟢 You're in Evening group as Member 0. What you send here (text, photos, stickers, voice) "
    "goes to everyone in the room. Any command takes you out of the room; /room brings you back."
)
CRISIS_REPLY = (
    "I'm really glad you told me. I'm a bot, so I can't help in an emergency — but people can, "
    "right now:\nIf you are in immediate danger, call now:\n📞 911 Emergency\nCrisis lines:\n"
    "📞 988 — Suicide & Crisis Lifeline (call or text, 24 h, free)\nI'm also asking a peer "
    "worker to contact you as soon as they can. You don't have to go through this alone."
)
CRISIS_CARD = "🔔 URGENT · #1 · client C0ABC\nEnglish · waiting 1 second\n• crisis language"
HELD_BACK = (
    "Your message was not shared with the group: it sounds like you're going through something "
    "very hard, and that's better talked through with one person. A peer worker has been "
    "alerted and will write to you here. You can stay in the room."
)
KEPT = "📝 Kept for the peer worker — they'll read it as soon as they join."
CLOSED_EDIT = (
    "Your edit didn't reach Evening group: the room has closed, so the others still see your "
    "message as it was."
)


async def test_an_edit_made_while_muted_reaches_nobody_and_its_writer_is_told(
    harness: Harness,
) -> None:
    """Muted, a member may not write, so an edit does not reach the room either; they hear
    why (they were told when muted, so nothing new about anyone is said). Unmuted, it does."""
    lin, (one, two) = await _room_of(harness, 2)
    cast = {"lin": lin, "one": one, "two": two}
    await one.send("I walked tday")
    await lin.send("/mute Member 0")
    before = len(harness.api.calls)
    await one.does('(edit "walked") I walked today')
    await lin.send("/unmute Member 0")
    await one.does('(edit "walked") I walked today!')
    assert _everything(harness, before, cast) == [
        ("one", "sendMessage", MUTED_EDIT),
        ("one", "sendMessage", "You can write in Evening group again."),
        ("lin", "sendMessage", "Member 0 can write again."),
        ("lin", "editMessageText", "💬 Member 0: I walked today!"),
        ("two", "editMessageText", "💬 Member 0: I walked today!"),
    ]


async def test_an_edit_made_between_sessions_reaches_nobody_and_says_when_the_room_opens(
    harness: Harness,
) -> None:
    """Outside its session a room takes no message and no edit; the writer hears when it
    opens again, in their own zone (UTC here), and an edit then reaches every copy."""
    from datetime import timedelta

    lin, (one, two) = await _room_of(harness, 2)
    cast = {"lin": lin, "one": one, "two": two}
    await one.send("I walked tday")
    harness.set_now(NOW + timedelta(days=1))  # Wednesday: the room is closed until Tuesday
    before = len(harness.api.calls)
    await one.does('(edit "walked") I walked today')
    harness.set_now(NOW + timedelta(days=7))
    await one.does('(edit "walked") I walked today!')
    assert _everything(harness, before, cast) == [
        (
            "one",
            "sendMessage",
            "Your edit didn't reach Evening group: the room is closed now, so the others still "
            "see your message as it was. It opens Tue, Dec 8 at 12:00\u202fPM.",
        ),
        ("lin", "editMessageText", "💬 Member 0: I walked today!"),
        ("two", "editMessageText", "💬 Member 0: I walked today!"),
    ]


async def test_an_edit_after_the_group_closed_reaches_nobody_and_its_writer_is_told(
    harness: Harness,
) -> None:
    """Closed for good: whether the writer was still in the room when it closed or had stepped
    out, they hear that the group has closed (not that they left it)."""
    lin, (one, two) = await _room_of(harness, 2)
    cast = {"lin": lin, "one": one, "two": two}
    await one.send("I walked tday")
    await two.send("Rain here")
    await two.send("/settings")
    await lin.does("/groups", "[✖ Close 1]", "[✖ Yes, close it]")
    before = len(harness.api.calls)
    await one.does('(edit "walked") I walked today')
    await two.does('(edit "Rain") Sun here')
    assert _everything(harness, before, cast) == [
        ("one", "sendMessage", CLOSED_EDIT),
        ("two", "sendMessage", CLOSED_EDIT),
        ("two", "sendMessage", SETTINGS),
    ]


async def test_an_edit_made_in_another_room_reaches_neither_and_its_writer_is_told(
    harness: Harness,
) -> None:
    """Each copy knows its room: a message written in Evening group, edited while its writer
    is in Morning group, is out of its room (it reaches nobody in either, and Morning group
    hears nothing of it); crisis language edited in is held back in the room they are in, as
    a new message would be; back in Evening group the edit reaches every copy."""
    lin, (one, two) = await _room_of(harness, 2)
    await _weekly_room(harness, "Morning group", 2, ["C0ABC", "C1ABC"])
    await harness.tick()
    cast = {"lin": lin, "one": one, "two": two}
    await one.send("I walked tday")
    await lin.send("/room 2")
    await two.does("/room 2", "Dawn", "[✅ I agree]")
    await one.does("/room 2", "Sunrise", "[✅ I agree]")
    before = len(harness.api.calls)
    await one.does('(edit "walked") I walked today')
    await one.does('(edit "walked") I want to kill myself')
    await one.send("/room 1")
    await one.does('(edit "kill") I walked today!')
    assert _everything(harness, before, cast) == [
        (
            "one",
            "sendMessage",
            "Your edit didn't reach Evening group: you're no longer in the room, so the others "
            "still see your message as it was.",
        ),
        # crisis language edited in, in Morning group: held back there, as a new message
        ("one", "sendMessage", CRISIS_REPLY),
        ("lin", "sendMessage", CRISIS_CARD),
        ("one", "sendMessage", HELD_BACK),
        (
            "lin",
            "sendMessage",
            "⚠️ Sunrise needs support; a peer worker has been alerted. Their message was not "
            "shared with the group.",
        ),
        ("one", "sendMessage", KEPT),
        ("one", "sendMessage", WELCOME_BACK),
        ("lin", "editMessageText", "💬 Member 0: I walked today!"),
        ("two", "editMessageText", "💬 Member 0: I walked today!"),
    ]


async def test_crisis_language_after_the_room_closed_is_kept_for_the_peer_worker(
    harness: Harness,
) -> None:
    """A member still in a room when it closed (or when they were removed) and writing crisis
    language there, as a new message or edited in: the room is gone, and their words go to the
    peer worker as they would anywhere else in the bot."""
    lin, (one, two) = await _room_of(harness, 2)
    cast = {"lin": lin, "one": one, "two": two}
    await two.send("I walked tday")
    await lin.send("/removemember Member 1")
    await lin.does("/groups", "[✖ Close 1]", "[✖ Yes, close it]")
    before = len(harness.api.calls)
    await one.send("I want to kill myself")
    await two.does('(edit "walked") I want to kill myself')
    assert _everything(harness, before, cast) == [
        ("one", "sendMessage", CRISIS_REPLY),
        ("lin", "sendMessage", CRISIS_CARD),
        ("one", "sendMessage", "You're no longer in that room."),
        ("one", "sendMessage", KEPT),
        ("two", "sendMessage", CRISIS_REPLY),
        ("lin", "sendMessage", CRISIS_CARD.replace("#1", "#2").replace("C0ABC", "C1ABC")),
        ("two", "sendMessage", CLOSED_EDIT),
        ("two", "sendMessage", KEPT),
    ]
