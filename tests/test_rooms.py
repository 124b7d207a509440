"""Group rooms: when a room is open, who gets a copy of what, what crisis language does in a
room, a leader's commands, a member who blocked the bot, and the fan-out's order and
priority. The sessions themselves are in the ``room_*`` transcripts; the model-based test of
membership and fan-out is ``tests/test_room_model.py``."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime, time
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from bot import rooms as room_shell
from bot.storage.models import RoomMember
from bot.telegram.fanout import RoomFanout
from flows import conversation, rooms
from flows.effects import (
    FlowSnapshot,
    PostToRoom,
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


async def _room_of(harness: Harness, members: int) -> tuple[Chat, list[Chat]]:
    """Lin leads a weekly room open now; ``members`` clients joined it and are in it."""
    harness.set_now(NOW)
    lin, _ = await harness.make_person(Role.PEER_WORKER, "Lin", NOW)
    chats = [(await harness.make_person(Role.CLIENT, f"C{i}ABC", NOW))[0] for i in range(members)]
    services = harness.services
    assert services is not None
    args = SimpleNamespace(
        room_command="create",
        title="Evening group",
        leader=["Lin"],
        activity=None,
        weekly="tue 20:00",
        minutes=480,
    )
    await room_shell.command_line(services.dispatcher.rooms, harness.db, args, NOW)
    invite = SimpleNamespace(
        room_command="invite", room_id=1, alias=[f"C{i}ABC" for i in range(members)]
    )
    await room_shell.command_line(services.dispatcher.rooms, harness.db, invite, NOW)
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
