"""Changing an activity's kind, audience, language and leaders (flows.activity_changes,
flows.activities.changed); who may change any activity; times shown to staff on the
program's clock (flows.text.ZonedTime)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.i18n import Translator
from flows import activities, activity_changes
from flows.activities import (
    CHANGED,
    CLOSED,
    GOING,
    LANGUAGE,
    MAYBE,
    PROMOTED,
    WAITING,
    Activity,
    Answer,
    Draft,
    Found,
)
from flows.effects import (
    ActivityRequest,
    Choice,
    DropActivityAnswers,
    ListLedActivities,
    PlaceNotices,
    ReplaceReminders,
    Say,
    SetActivityAnswer,
    Tell,
)
from flows.people import PersonView
from flows.roles import Role
from flows.text import Lines, Msg, Raw, ZonedTime, msg
from tests.harness import Harness, texts

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
START = datetime(2026, 12, 5, 7, 0, tzinfo=UTC)  # 15:00 in Shanghai
SHANGHAI = "Asia/Shanghai"


def _activity() -> Activity:
    return Activity(
        id=7,
        title="Sharing circle",
        kind="sharing",
        starts_at=START,
        minutes=90,
        place="Community centre",
        online=False,
        capacity=2,
        audience="both",
        language="en",
        leaders=((100, "Lin"),),
    )


def _person(person_id: int, role: Role) -> PersonView:
    return PersonView(person_id, role, "en", SHANGHAI, alias=f"P{person_id}", onboarded=True)


# A relative going, a client going, a client waiting, a relative who might come.
ANSWERS = (
    Answer(1, GOING, NOW),
    Answer(2, GOING, NOW),
    Answer(3, WAITING, NOW),
    Answer(4, MAYBE, NOW),
)
ROLES = {1: Role.FAMILY, 2: Role.CLIENT, 3: Role.CLIENT, 4: Role.FAMILY}


def test_a_narrower_audience_frees_the_places_of_those_it_leaves_out_and_tells_them() -> None:
    before = Found(_activity(), ANSWERS)
    after = replace(_activity(), audience="clients")
    reminders = activities.reminder_times(after, NOW)
    assert activities.changed(before, after, NOW, ROLES) == (
        DropActivityAnswers(7, (1, 4)),
        PlaceNotices(7, (1, 4), CLOSED, NOW),
        SetActivityAnswer(7, 3, GOING, NOW, reminders),
        ReplaceReminders(7, reminders),
        PlaceNotices(7, (2,), CHANGED, NOW),
        PlaceNotices(7, (3,), PROMOTED, NOW),
    )


def test_someone_no_longer_in_the_audience_is_told_warmly_once_and_only_then() -> None:
    found = Found(replace(_activity(), audience="clients"))
    mum, me = _person(1, Role.FAMILY), _person(2, Role.CLIENT)
    assert activities.notice(CLOSED, found, mum, NOW) == (
        Say(msg("activity.closed", title="Sharing circle")),
    )
    assert activities.notice(CLOSED, found, me, NOW) == ()  # the audience changed back
    assert activities.notice(CLOSED, found, mum, START) == ()  # it has started
    cancelled = Found(replace(_activity(), audience="clients", cancelled=True))
    assert activities.notice(CLOSED, cancelled, mum, NOW) == ()


def test_a_new_language_is_said_in_the_one_notice_of_the_change() -> None:
    answers = (Answer(2, GOING, NOW),)
    before = Found(_activity(), answers)
    after = replace(_activity(), language="zh_Hans", kind="knowledge")
    effects = activities.changed(before, after, NOW, {2: Role.CLIENT})
    assert [e for e in effects if isinstance(e, PlaceNotices)] == [
        PlaceNotices(7, (2,), LANGUAGE, NOW)
    ]
    said = activities.notice(LANGUAGE, Found(after, answers), _person(2, Role.CLIENT), NOW)
    assert isinstance(said[0].text, Lines)
    assert said[0].text.parts[0] == msg(
        "activity.changed.language", title="Sharing circle", language="简体中文"
    )


def test_a_new_leader_is_told_at_once_and_one_who_stays_is_not() -> None:
    before = Found(_activity(), ())
    after = replace(_activity(), leaders=((100, "Lin"), (101, "Rosa")))
    assert activities.changed(before, after, NOW, {}) == (
        ReplaceReminders(7, activities.reminder_times(after, NOW)),
        Tell(101, msg("activity.leaders.added", title="Sharing circle")),
    )


@pytest.mark.parametrize(
    ("role", "person_id", "allowed"),
    [
        (Role.PEER_WORKER, 100, True),  # leads it
        (Role.PEER_WORKER, 101, False),
        (Role.SUPERVISOR, 9, True),
        (Role.ADMIN, 8, True),
    ],
)
def test_leaders_supervisors_and_admins_may_change_any_activity(
    role: Role, person_id: int, allowed: bool
) -> None:
    found = Found(_activity())
    said = activity_changes.decide(
        ActivityRequest("manage", 7), found, _person(person_id, role), NOW, SHANGHAI
    )
    refused = (Say(Msg("activity.manage.not_yours")),)
    assert (said != refused) is allowed
    assert activity_changes.manages(found, _person(person_id, role)) is allowed


@pytest.mark.parametrize(("argument", "page"), [("", 0), ("1", 0), ("2", 1), ("0", 0), ("two", 0)])
def test_myactivities_takes_a_page_number(argument: str, page: int) -> None:
    assert activity_changes.listing(argument) == ListLedActivities(page)


def test_a_full_page_of_activities_offers_the_next_one_numbered_on() -> None:
    found = [Found(replace(_activity(), id=n, title=f"A{n}")) for n in range(11, 21)]
    said = activity_changes.led(found, SHANGHAI, page=1, more=True)
    assert said.choices[0] == Choice(Raw("11"), "/manage 11")
    assert said.choices[-1] == Choice(Msg("activity.led.more"), "/myactivities 3")
    last = activity_changes.led(found, SHANGHAI, page=1, more=False)
    assert all(choice.value.startswith("/manage") for choice in last.choices)


@pytest.mark.parametrize(
    ("zone", "shown"),
    [
        (SHANGHAI, "12/5/26, 3:00\u202fPM"),
        ("Asia/Taipei", "12/5/26, 3:00\u202fPM"),  # another zone, the same clock: no label
        ("UTC", "12/5/26, 3:00\u202fPM Asia/Shanghai time"),
    ],
)
def test_staff_read_activity_times_on_the_program_clock(zone: str, shown: str) -> None:
    text = msg("activity.edit.new.time", when=ZonedTime(START, SHANGHAI))
    assert Translator().render(text, "en", zone) == f"New time: {shown}"


def test_the_zone_label_is_written_in_chinese_too() -> None:
    text = msg("activity.edit.new.time", when=ZonedTime(START, SHANGHAI))
    assert Translator().render(text, "zh_Hans", "UTC") == (
        "新的时间：Asia/Shanghai 时间 2026/12/5 15:00"
    )


# -- on the databases ---------------------------------------------------------------------------

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


async def test_an_admin_pages_through_every_activity_and_a_peer_worker_sees_only_hers(
    harness: Harness,
) -> None:
    """/myactivities for an admin: all of the program's activities still to come, ten at a
    time (More ▶ for the rest); a peer worker who leads none of them sees none."""
    assert harness.services is not None
    harness.set_now(AT)
    await harness.make_person(Role.PEER_WORKER, "Lin", AT)
    rosa, _ = await harness.make_person(Role.PEER_WORKER, "Rosa", AT)
    ada, _ = await harness.make_person(Role.ADMIN, "Ada", AT)
    assert "No activity is still to come." in texts(await ada.send("/myactivities"))
    for day in range(11):
        draft = Draft(
            f"Circle {day + 1}",
            "sharing",
            START + timedelta(days=day),
            90,
            "",
            True,
            8,
            "clients",
            "en",
            ("Lin",),
        )
        async with harness.db.transaction() as session:
            await harness.services.dispatcher.activities.create(session, draft, AT)
    first = texts(await ada.send("/myactivities"))
    assert "10. Circle 10" in first and "Circle 11" not in first
    rest = texts(await ada.press("More ▶"))
    assert "11. Circle 11" in rest and "Circle 10" not in rest
    assert "You lead no activity" in texts(await rosa.send("/myactivities"))
    assert "Only the activity's leaders" in texts(await rosa.send("/manage 1"))
