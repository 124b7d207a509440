"""Peer activities: the waiting list, who is told what and when, and the last place taken
twice at the same instant. The conversations themselves are in the ``activity_*``
transcripts."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import select
from telegram import Update

from bot.activities import local_moment
from bot.storage.models import ActivityAnswer, ActivityNotice
from bot.storage.models import Person as PersonRow
from flows import activities, activity_changes
from flows.activities import (
    ATTENDANCE,
    CANCELLED,
    CANT,
    DAY_BEFORE,
    GOING,
    INVITE,
    MAYBE,
    PROMOTED,
    TWO_HOURS,
    WAITING,
    Activity,
    Answer,
    Draft,
    Found,
    InvalidActivity,
)
from flows.effects import (
    ActivityRequest,
    CancelActivity,
    Choice,
    Notice,
    PlaceNotices,
    Say,
    SetActivityAnswer,
    Tell,
)
from flows.people import PersonView, Rules
from flows.roles import Role
from flows.text import Msg, Raw, ZonedTime, msg
from tests.harness import Harness
from tests.harness import Person as Chat

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
START = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)  # 15:00 in Shanghai
RULES = Rules(quiet_start=time(22), quiet_end=time(8))
SHANGHAI = "Asia/Shanghai"


def _activity(capacity: int = 2, audience: str = "clients") -> Activity:
    return Activity(
        id=7,
        title="Sharing circle",
        kind="sharing",
        starts_at=START,
        minutes=90,
        place="Community centre",
        online=False,
        capacity=capacity,
        audience=audience,
        language="en",
        leaders=((100, "Lin"),),
    )


def _person(person_id: int, role: Role = Role.CLIENT) -> PersonView:
    return PersonView(person_id, role, "en", SHANGHAI, alias=f"P{person_id}", onboarded=True)


def _answer(found: Found, person_id: int, action: str, at: datetime = NOW) -> tuple[object, ...]:
    return activities.decide(
        ActivityRequest(action, found.activity.id), found, _person(person_id), at, RULES
    )


def _stored(effects: tuple[object, ...]) -> dict[int, str]:
    return {e.person_id: e.answer for e in effects if isinstance(e, SetActivityAnswer)}


def test_the_last_place_goes_and_the_next_person_waits() -> None:
    found = Found(_activity(capacity=1), (Answer(1, GOING, NOW),))
    effects = _answer(found, 2, GOING)
    assert _stored(effects) == {2: WAITING}
    said = [e for e in effects if isinstance(e, Say)]
    assert [s.text for s in said] == [msg("activity.answer.waiting.said", title="Sharing circle")]


def test_a_place_given_up_goes_to_the_first_who_waited_and_they_are_told() -> None:
    later = NOW + timedelta(minutes=5)
    found = Found(
        _activity(capacity=1),
        (Answer(1, GOING, NOW), Answer(3, WAITING, later), Answer(2, WAITING, NOW)),
    )
    effects = _answer(found, 1, CANT, later)
    assert _stored(effects) == {1: CANT, 2: GOING}
    assert PlaceNotices(7, (2,), PROMOTED, later) in effects
    promoted = next(e for e in effects if isinstance(e, SetActivityAnswer) and e.person_id == 2)
    assert promoted.reminders == (
        (DAY_BEFORE, START - timedelta(days=1)),
        (TWO_HOURS, START - timedelta(hours=2)),
    )


def test_maybe_keeps_no_place_and_moves_nobody_up() -> None:
    found = Found(_activity(capacity=1), (Answer(1, GOING, NOW), Answer(2, WAITING, NOW)))
    assert _stored(_answer(found, 3, MAYBE)) == {3: MAYBE}


def test_cannot_come_after_all_tells_every_leader_and_frees_the_place() -> None:
    found = Found(_activity(capacity=1), (Answer(1, GOING, NOW), Answer(2, WAITING, NOW)))
    effects = _answer(found, 1, "notcoming")
    assert _stored(effects) == {1: CANT, 2: GOING}
    assert [e for e in effects if isinstance(e, Tell)] == [
        Tell(100, msg("activity.not_coming.leader", alias="P1", title="Sharing circle"))
    ]


def test_running_late_is_only_for_someone_going() -> None:
    found = Found(_activity(), (Answer(1, MAYBE, NOW),))
    effects = _answer(found, 1, "late")
    assert not [e for e in effects if isinstance(e, Tell)]


def test_an_activity_for_clients_is_not_answered_by_a_relative() -> None:
    found = Found(_activity(audience="clients"))
    effects = activities.decide(
        ActivityRequest(GOING, 7), found, _person(5, Role.FAMILY), NOW, RULES
    )
    assert effects == (Say(Msg("activity.gone")),)


def test_answers_close_when_it_starts() -> None:
    found = Found(_activity())
    assert _stored(_answer(found, 1, GOING, START)) == {}


@pytest.mark.parametrize(
    ("kind", "local_at", "local_deadline", "expected"),
    [
        (INVITE, "2026-12-01 23:00", "2026-12-03 15:00", "2026-12-02 08:00"),  # held overnight
        (INVITE, "2026-12-02 07:59", "2026-12-03 15:00", "2026-12-02 08:00"),
        (INVITE, "2026-12-02 08:00", "2026-12-03 15:00", "2026-12-02 08:00"),
        (TWO_HOURS, "2026-12-03 07:00", "2026-12-03 09:00", "2026-12-03 08:00"),
        (TWO_HOURS, "2026-12-03 06:00", "2026-12-03 08:00", None),  # would come after the start
        (
            CANCELLED,
            "2026-12-03 06:00",
            "2026-12-03 08:00",
            "2026-12-03 06:00",
        ),  # woken, not sent there
        (DAY_BEFORE, "2026-12-02 21:59", "2026-12-03 21:59", "2026-12-02 21:59"),
    ],
)
def test_notices_wait_for_the_end_of_quiet_hours(
    kind: str, local_at: str, local_deadline: str, expected: str | None
) -> None:
    def moment(text: str) -> datetime:
        return local_moment(text, SHANGHAI)

    due = activities.notice_time(kind, moment(local_at), SHANGHAI, RULES, moment(local_deadline))
    assert due == (moment(expected) if expected else None)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"title": " "}, "title"),
        ({"kind": "bingo"}, "kind"),
        ({"starts_at": NOW}, "future"),
        ({"minutes": 5}, "duration"),
        ({"online": False, "place": ""}, "place"),
        ({"capacity": 0}, "capacity"),
        ({"audience": "everyone"}, "audience"),
        ({"language": "fr"}, "language"),
        ({"leaders": ()}, "leader"),
    ],
)
def test_a_draft_that_cannot_be_announced_says_why(change: dict[str, object], reason: str) -> None:
    draft = Draft("Circle", "sharing", START, 90, "", True, 8, "both", "en", ("Lin",))
    activities.check(draft, NOW)
    with pytest.raises(InvalidActivity, match=reason):
        activities.check(replace(draft, **change), NOW)  # type: ignore[arg-type]


class WaitingList(RuleBasedStateMachine):
    """Random answers from six people to one activity, applied as the shell applies them:
    never more going than places; nobody waits while a place is free; places go to those
    who waited in the order they asked, and each one moved up is told."""

    @initialize(capacity=st.integers(1, 3))
    def open(self, capacity: int) -> None:
        self.activity = _activity(capacity=capacity)
        self.answers: dict[int, Answer] = {}
        self.clock = NOW
        self.told: list[int] = []
        self.expected_told: list[int] = []

    def _found(self) -> Found:
        return Found(self.activity, tuple(self.answers.values()))

    @rule(person=st.integers(1, 6), action=st.sampled_from([GOING, MAYBE, CANT]))
    def answer(self, person: int, action: str) -> None:
        self.clock += timedelta(seconds=1)
        before = self._found()
        was_going = before.answer_of(person) == GOING
        queue = [a.person_id for a in before.waiting]
        effects = _answer(before, person, action, self.clock)
        if was_going and action != GOING and queue:
            self.expected_told.append(queue[0])
        for effect in effects:
            if isinstance(effect, SetActivityAnswer):
                self.answers[effect.person_id] = Answer(effect.person_id, effect.answer, effect.at)
            if isinstance(effect, PlaceNotices):
                assert effect.kind == PROMOTED
                self.told += effect.people

    @invariant()
    def never_more_going_than_places(self) -> None:
        if hasattr(self, "activity"):
            assert self._found().going <= self.activity.capacity

    @invariant()
    def nobody_waits_for_a_free_place(self) -> None:
        if hasattr(self, "activity") and self._found().waiting:
            assert self._found().going == self.activity.capacity

    @invariant()
    def first_come_first_served_and_told(self) -> None:
        if hasattr(self, "activity"):
            assert self.told == self.expected_told


TestWaitingList = WaitingList.TestCase
TestWaitingList.settings = settings(max_examples=150, stateful_step_count=30, deadline=None)


# -- on the databases ---------------------------------------------------------------------------

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # people made by the harness live in UTC


async def _announce(harness: Harness, capacity: int) -> int:
    """An activity for clients led by Lin (made the first time), announced at ``AT``."""
    assert harness.services is not None
    async with harness.db.sessions() as session:
        lin = await session.scalar(select(PersonRow).where(PersonRow.alias == "Lin"))
    if lin is None:
        await harness.make_person(Role.PEER_WORKER, "Lin", AT)
    draft = Draft("Circle", "sharing", START, 90, "", True, capacity, "clients", "en", ("Lin",))
    async with harness.db.transaction() as session:
        row, _ = await harness.services.dispatcher.activities.create(session, draft, AT)
    return row.id


def _press(harness: Harness, chat: Chat, command: str) -> Update:
    assert harness.services is not None
    return Update.de_json(
        {"update_id": next(harness.update_ids), "message": chat._message(command)},
        harness.services.application.bot,
    )


async def test_announcing_invites_each_client_once_and_answers_are_stored(
    harness: Harness,
) -> None:
    harness.set_now(AT)
    client, client_id = await harness.make_person(Role.CLIENT, "K7Q2X", AT)
    await harness.make_person(Role.FAMILY, "M3P9Q", AT)  # not for relatives
    activity_id = await _announce(harness, capacity=4)
    async with harness.db.sessions() as session:
        notices = (await session.scalars(select(ActivityNotice))).all()
    lin = await _id_of(harness, "Lin")
    assert sorted((n.person_id, n.kind) for n in notices) == sorted(
        [(client_id, INVITE), (lin, ATTENDANCE)]
    )
    await harness.tick()
    await harness.tick()  # the invitation went once
    invitations = [
        c
        for c in harness.api.calls
        if "invited" in str(c.params.get("text", ""))
        and str(c.params.get("chat_id")) == str(client.user_id)
    ]
    assert len(invitations) == 1  # (Lin, its leader, is invited to its online room)
    await client.send(f"/rsvp {activity_id} going")
    async with harness.db.sessions() as session:
        answer = await session.get(ActivityAnswer, (activity_id, client_id))
        reminders = (
            await session.scalars(
                select(ActivityNotice.kind)
                .where(ActivityNotice.person_id == client_id)
                .order_by(ActivityNotice.due_at)
            )
        ).all()
    assert answer is not None and answer.answer == GOING
    # It starts at 07:00 their time: two hours before is in their quiet hours, and waiting
    # for those to end would bring the reminder after the start, so only the day-before one.
    assert list(reminders) == [DAY_BEFORE]


# PostgreSQL only: SQLite runs one writer at a time, so these transactions never overlap.
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_the_last_place_is_taken_once_when_two_ask_at_the_same_instant(
    harness: Harness,
) -> None:
    harness.set_now(AT)
    assert harness.services is not None
    application = harness.services.application
    processor = application.update_processor
    for trial in range(10):
        activity_id = await _announce(harness, capacity=1)
        pair = [await harness.make_person(Role.CLIENT, f"T{trial}{n}", AT) for n in (1, 2)]
        both = [_press(harness, chat, f"/rsvp {activity_id} going") for chat, _ in pair]
        await asyncio.gather(
            *(processor.process_update(u, application.process_update(u)) for u in both)
        )
        async with harness.db.sessions() as session:
            answers = sorted(
                (
                    await session.scalars(
                        select(ActivityAnswer.answer).where(
                            ActivityAnswer.activity_id == activity_id
                        )
                    )
                ).all()
            )
        assert answers == [GOING, WAITING], f"trial {trial}: {answers}"


def test_a_leader_types_aliases_in_any_case_and_with_any_comma() -> None:
    from flows.effects import FlowSnapshot
    from flows.engine import Flow
    from flows.new_activity import NewActivity
    from flows.people import Event

    flow = Flow(NewActivity)
    lin = PersonView(9, Role.PEER_WORKER, "zh_Hans", SHANGHAI, alias="Lin", onboarded=True)
    context = {"title": "Circle", "kind": "sharing", "when": START.isoformat(), "minutes": 90}
    context |= {"place": "", "capacity": 8, "audience": "both", "language": "en"}
    staff = {"staff_aliases": ["Lin", "小梅"]}
    snapshot = FlowSnapshot("newactivity", "leaders", context)

    typed = Event("text", "lin，小梅、LIN", now=NOW, data=staff)
    assert flow.handle(snapshot, lin, typed, RULES).snapshot.context["leaders"] == ["Lin", "小梅"]
    nobody = Event("text", "Lin, Ghost", now=NOW, data=staff)
    stays = flow.handle(snapshot, lin, nobody, RULES)
    assert stays.snapshot.state == "leaders"
    assert stays.effects[0] == Say(msg("activity.leaders.nobody", alias="Ghost"))
    # never a guess: two staff aliases the same but for case ("Straße" and "STRASSE" are
    # different aliases to the database, the same to someone typing "strasse")
    staff = {"staff_aliases": ["Lin", "Straße", "STRASSE"]}
    several = Event("text", "Lin, strasse", now=NOW, data=staff)
    stays = flow.handle(snapshot, lin, several, RULES)
    assert stays.snapshot.state == "leaders"
    assert stays.effects[0] == Say(msg("activity.leaders.several", alias="strasse"))
    exact = Event("text", "Straße", now=NOW, data=staff)
    assert flow.handle(snapshot, lin, exact, RULES).snapshot.context["leaders"] == ["Straße"]


async def _id_of(harness: Harness, alias: str) -> int:
    async with harness.db.sessions() as session:
        found = await session.scalar(select(PersonRow.id).where(PersonRow.alias == alias))
    assert found is not None
    return int(found)


async def _user_of(harness: Harness, alias: str) -> int:
    async with harness.db.sessions() as session:
        found = await session.scalar(
            select(PersonRow.telegram_user_id).where(PersonRow.alias == alias)
        )
    assert found is not None
    return int(found)


# -- attendance, the record, feedback -------------------------------------------------------


def test_only_a_leader_or_a_supervisor_takes_attendance_and_only_once_it_started() -> None:
    from flows.activity_record import decide_leader
    from flows.effects import RefreshChoices, SetAttendance

    found = Found(_activity(), (Answer(1, GOING, NOW, "K7Q2X"), Answer(2, MAYBE, NOW, "S4T8R")))
    lin = PersonView(100, Role.PEER_WORKER, "en", SHANGHAI, alias="Lin", onboarded=True)
    ann = PersonView(101, Role.PEER_WORKER, "en", SHANGHAI, alias="Ann", onboarded=True)
    mei = PersonView(102, Role.SUPERVISOR, "en", SHANGHAI, alias="Mei", onboarded=True)
    tap = ActivityRequest("attend", 7, 2)
    assert decide_leader(tap, found, ann, START) == (Say(Msg("activity.gone")),)
    early = decide_leader(tap, found, lin, NOW)
    assert early == (Say(msg("activity.sheet.not_yet", title="Sharing circle", when=START)),)
    for leader in (lin, mei):
        marked, redrawn = decide_leader(tap, found, leader, START)
        assert marked == SetAttendance(7, 2, True)
        assert isinstance(redrawn, RefreshChoices)
        assert [c.label for c in redrawn.choices[:2]] == [Raw("▫️ K7Q2X"), Raw("✅ S4T8R")]
    unmarked, _ = decide_leader(tap, replace(found, present=frozenset({2})), lin, START)
    assert unmarked == SetAttendance(7, 2, False)


async def test_the_register_keeps_its_numbers_when_someone_who_came_is_erased(
    harness: Harness,
) -> None:
    """Attendance, the record and the feedback as stored; the client's comment is in their
    own copy; erased, the head count and their ratings stay, without them or their words."""
    from bot import operations
    from bot.storage.models import ActivityAttendance, ActivityFeedback, ActivityRecord

    harness.set_now(AT)
    client, client_id = await harness.make_person(Role.CLIENT, "K7Q2X", AT)
    activity_id = await _announce(harness, capacity=4)
    lin = Chat(harness, await _user_of(harness, "Lin"), "en")
    await client.send(f"/rsvp {activity_id} going")
    harness.set_now(START + timedelta(hours=2))  # 09:00 their time: out of quiet hours
    await lin.send(f"/attend {activity_id} {client_id}")
    await lin.does(f"/record {activity_id} 90", "80", "Beads and a talk about sleep.")
    await lin.press("No, all went well")
    await harness.tick()
    await client.does("[4]", "[5]", "[Yes]", "I liked the beads")
    await client.send("/mydata")
    copy = [c for c in harness.api.calls if c.method == "sendDocument"][-1].params["document"]
    assert json.loads(copy)["activities"]["feedback"][0]["comment"] == "I liked the beads"
    async with harness.db.sessions() as session:
        record = await session.get(ActivityRecord, activity_id)
        assert record is not None
        assert (record.minutes, record.attended, record.problem) == (80, 1, "none")
        feedback = (await session.scalars(select(ActivityFeedback))).one()
        assert (feedback.satisfaction, feedback.helped, feedback.again) == (4, 5, "yes")
    assert harness.services is not None
    await operations.erase(harness.services.dispatcher, None, client_id)
    async with harness.db.sessions() as session:
        attended = (await session.scalars(select(ActivityAttendance))).one()
        feedback = (await session.scalars(select(ActivityFeedback))).one()
    assert (attended.person_id, attended.role) == (None, "client")
    assert (feedback.person_id, feedback.satisfaction, feedback.comment) == (None, 4, None)


# -- a leader changes or cancels in the chat (flows/activity_changes.py) ---------------------


def _manage(found: Found | None, person: PersonView, action: str, at: datetime = NOW) -> object:
    return activity_changes.decide(ActivityRequest(action, 7), found, person, at, SHANGHAI)


@pytest.mark.parametrize(
    ("found", "person", "at", "said"),
    [
        (None, _person(100, Role.PEER_WORKER), NOW, Msg("activity.gone")),
        (Found(_activity()), _person(101, Role.PEER_WORKER), NOW, Msg("activity.manage.not_yours")),
        (
            Found(replace(_activity(), cancelled=True)),
            _person(100, Role.PEER_WORKER),
            NOW,
            msg("activity.was_cancelled", title="Sharing circle"),
        ),
        (
            Found(_activity()),
            _person(100, Role.PEER_WORKER),
            START,
            msg("activity.manage.started", title="Sharing circle"),
        ),
    ],
    ids=["gone", "not-a-leader", "cancelled", "started"],
)
@pytest.mark.parametrize("action", ["manage", "cancel", "cancelnow"])
def test_only_its_leaders_and_supervisors_change_or_cancel_it_before_it_starts(
    found: Found | None, person: PersonView, at: datetime, said: Msg, action: str
) -> None:
    assert _manage(found, person, action, at) == (Say(said),)


@pytest.mark.parametrize(
    "person",
    [_person(100, Role.PEER_WORKER), _person(9, Role.SUPERVISOR), _person(8, Role.ADMIN)],
)
def test_its_leader_a_supervisor_or_an_admin_is_asked_before_it_is_cancelled(
    person: PersonView,
) -> None:
    """Supervisors and admins may change or cancel any activity; the time is on the
    program's clock (the one the leader typed it on)."""
    found = Found(_activity(), (Answer(1, GOING, NOW),))
    assert _manage(found, person, "cancel") == (
        Say(
            msg("activity.cancel.ask", title="Sharing circle", when=ZonedTime(START, SHANGHAI)),
            (
                Choice(Msg("activity.cancel.yes"), "/manage 7 cancelnow"),
                Choice(Msg("activity.cancel.no"), "/manage 7 keep"),
            ),
            1,
        ),
    )
    assert _manage(found, person, "cancelnow") == (CancelActivity(7),)


@pytest.mark.parametrize(
    ("argument", "decided"),
    [
        ("", (Notice(Msg("input.stale_button")),)),
        ("seven", (Notice(Msg("input.stale_button")),)),
        ("99999999999", (Notice(Msg("input.stale_button")),)),
        ("7 explode", (Notice(Msg("input.stale_button")),)),
        ("7 time extra", (Notice(Msg("input.stale_button")),)),
        ("7 time", {"activity": 7, "field": "time"}),
        ("7", (ActivityRequest("manage", 7),)),
        ("7 keep", (Say(Msg("activity.cancel.kept")),)),
    ],
)
def test_a_typed_or_stale_manage_command_gets_a_short_answer(
    argument: str, decided: object
) -> None:
    assert activity_changes.command(argument, via_button=False) == decided
