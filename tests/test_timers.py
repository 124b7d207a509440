"""The clock's decisions in the core: what a due schedule row brings, with facts in memory.

Each test names the row's facts and compares everything the core decides (the messages, the
row's next time, whether it was held back); no database, no Telegram, milliseconds.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from flows.effects import Say
from flows.flags import FlagRules
from flows.people import PersonView, Rules
from flows.roles import Role
from flows.schedule import local_date
from flows.text import Msg
from flows.timers import (
    CHECKIN,
    FAMILY_SUMMARY,
    LATER,
    LESSON,
    REMINDER,
    START,
    WEEKLY,
    Due,
    FlagSpan,
    PracticeAsked,
    RaiseFlag,
    Timed,
    Timing,
    WeeklyChart,
    decide,
    plan,
)

ZONE = "Asia/Shanghai"  # UTC+8, no daylight saving
TIMING = Timing(quiet=Rules(), flag_rules=FlagRules(), reminder_after=timedelta(hours=2))
# 19:00 in Shanghai on Wednesday 4 March 2026
NOW = datetime(2026, 3, 4, 11, 0, tzinfo=UTC)
TODAY = date(2026, 3, 4)


def client(**kw: object) -> PersonView:
    fields: dict[str, object] = {"checkin_time": time(19, 0), "onboarded": True} | kw
    return PersonView(1, Role.CLIENT, "en", ZONE, **fields)  # type: ignore[arg-type]


def relative(**kw: object) -> PersonView:
    fields: dict[str, object] = {"checkin_time": time(19, 0), "onboarded": True} | kw
    return PersonView(2, Role.FAMILY, "en", ZONE, **fields)  # type: ignore[arg-type]


def at_shanghai(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=UTC) - timedelta(hours=8)


PROMPT = Say(Msg("checkin.prompt"), (START, LATER), columns=2)
TOMORROW_19 = at_shanghai(TODAY + timedelta(days=1), time(19, 0))


def test_the_daily_prompt_and_the_row_moves_to_tomorrow() -> None:
    due = Due(CHECKIN, client(), NOW, last_answered=TODAY - timedelta(days=1))
    assert decide(due, TIMING) == Timed((PROMPT,), TOMORROW_19, TODAY)


@pytest.mark.parametrize(
    "waiting",
    [
        {"person": client(paused=True)},
        {"blocked": True},
        {"held": True},  # a peer worker holds the chat
        {"finished_today": True},
        {"last_local_date": TODAY},  # already prompted today (the time was moved)
    ],
)
def test_no_prompt_while_the_person_is_not_to_be_disturbed(waiting: dict[str, object]) -> None:
    facts: dict[str, object] = {"kind": CHECKIN, "person": client(), "now": NOW} | waiting
    due = Due(**facts)  # type: ignore[arg-type]
    assert decide(due, TIMING) == Timed((), TOMORROW_19, TODAY, held_back=True)


def test_quiet_hours_hold_the_prompt_back() -> None:
    late = client(checkin_time=time(23, 0))
    now = at_shanghai(TODAY, time(23, 0))
    timed = decide(Due(CHECKIN, late, now), TIMING)
    assert timed == Timed((), at_shanghai(TODAY + timedelta(days=1), time(23, 0)), TODAY, True)


def test_after_days_without_an_answer_the_prompt_changes_and_a_flag_is_raised() -> None:
    rules = TIMING.flag_rules
    last = TODAY - timedelta(days=rules.silence_flag_days + 1)
    joined = date(2026, 1, 5)
    timed = decide(Due(CHECKIN, client(), NOW, last_answered=last, onboarded_on=joined), TIMING)
    prompt, flag = timed.effects
    assert prompt == Say(Msg("checkin.prompt.after_a_while"), (START, LATER), columns=2)
    assert isinstance(flag, RaiseFlag) and flag.hit.rule == "silence"
    assert (timed.due, timed.day, timed.held_back) == (TOMORROW_19, TODAY, False)


def test_a_new_client_is_not_flagged_for_days_before_they_joined() -> None:
    rules = TIMING.flag_rules
    joined = TODAY - timedelta(days=rules.silence_flag_days - 1)
    timed = decide(Due(CHECKIN, client(), NOW, onboarded_on=joined), TIMING)
    assert timed == Timed((PROMPT,), TOMORROW_19, TODAY)


def test_the_reminder_has_its_own_words_and_never_flags() -> None:
    now = at_shanghai(TODAY, time(21, 0))
    timed = decide(Due(REMINDER, client(), now, last_answered=date(2026, 1, 1)), TIMING)
    reminder = Say(Msg("checkin.reminder"), (START, LATER), columns=2)
    assert timed == Timed((reminder,), at_shanghai(TODAY + timedelta(days=1), time(21, 0)), TODAY)


def test_a_reminder_that_would_fall_on_the_next_day_goes() -> None:
    late = client(checkin_time=time(23, 30))
    now = at_shanghai(TODAY, time(21, 30))  # not quiet: the rules' quiet hours are the default
    quiet_free = Timing(quiet=Rules(time(0, 0), time(0, 0)), reminder_after=timedelta(hours=2))
    assert decide(Due(REMINDER, late, now), quiet_free).due is None


def test_the_weekly_chart_is_drawn_from_the_loaded_records() -> None:
    timed = decide(Due(WEEKLY, client(), NOW, history=()), TIMING)
    assert timed.effects == (WeeklyChart((), TODAY),)
    assert timed.due is not None and timed.due > NOW and not timed.held_back


def test_spread_weekly_charts_fall_on_every_weekday_each_client_weekly() -> None:
    spread = replace(TIMING, spread_charts=True)
    clients = [
        PersonView(n, Role.CLIENT, "en", ZONE, checkin_time=time(19, 0), onboarded=True)
        for n in range(1, 701)
    ]
    due = [plan(person, NOW, spread)[WEEKLY] for person in clients]
    weekdays = Counter(local_date(at, ZONE).weekday() for at in due)
    assert weekdays == Counter({day: 100 for day in range(7)}), "a seventh on each day"
    assert all(at.astimezone(ZoneInfo(ZONE)).time() == time(19, 0) for at in due)
    # each one's next chart comes a week after the last, on the same weekday
    for person, at in zip(clients[:14], due[:14], strict=True):
        timed = decide(Due(WEEKLY, person, at, history=()), spread)
        assert timed.effects == (WeeklyChart((), local_date(at, ZONE)),)
        assert timed.due == at + timedelta(days=7)
    # the family summary stays on the program's day
    summary = plan(relative(), NOW, spread)[FAMILY_SUMMARY]
    assert local_date(summary, ZONE).weekday() == spread.summary_day
    # without spreading, every chart is on the summary day
    assert {local_date(plan(p, NOW, TIMING)[WEEKLY], ZONE).weekday() for p in clients} == {6}


def test_a_lesson_after_the_practice_question_about_an_earlier_one() -> None:
    due = Due(LESSON, relative(), NOW, progress={"feelings": "done"}, practice_due=("feelings",))
    asked, practice, lesson = decide(due, TIMING).effects
    assert asked == PracticeAsked("feelings")
    assert isinstance(practice, Say) and [c.value for c in practice.choices] == [
        "/practice feelings yes",
        "/practice feelings no",
    ]
    assert isinstance(lesson, Say)
    assert [c.value for c in lesson.choices][1] == "/lessons"
    assert lesson.choices[0].value.startswith("/lesson ")
    assert lesson.choices[0].value != "/lesson feelings"


def test_an_unknown_lesson_is_marked_asked_without_a_question() -> None:
    due = Due(LESSON, relative(), NOW, practice_due=("gone",))
    effects = decide(due, TIMING).effects
    assert effects[0] == PracticeAsked("gone")
    assert all(not (isinstance(e, Say) and "practice" in str(e.text)) for e in effects[1:])


def test_a_finished_course_sends_nothing_but_keeps_the_row() -> None:
    from flows.lessons.course import COURSE

    progress = {lesson.slug: "done" for lesson in COURSE}
    timed = decide(Due(LESSON, relative(), NOW, progress=progress), TIMING)
    assert timed.effects == () and timed.due is not None


def test_a_row_of_someone_without_a_time_goes_without_a_message() -> None:
    for kind in (CHECKIN, LESSON, FAMILY_SUMMARY):
        assert decide(Due(kind, relative(checkin_time=None), NOW), TIMING) == Timed((), None, None)


def test_the_family_summary_gives_one_light_per_client_who_shares_it() -> None:
    open_flag = (FlagSpan(NOW - timedelta(days=1), None),)
    due = Due(FAMILY_SUMMARY, relative(), NOW, shared=((), open_flag))
    green, red = decide(due, TIMING).effects
    assert isinstance(green, Say) and isinstance(green.text, Msg)
    assert isinstance(red, Say) and isinstance(red.text, Msg)
    assert (green.text.id, red.text.id) == ("family.summary.green", "family.summary.red")


def test_an_unknown_kind_is_dropped() -> None:
    assert decide(Due("newsletter", client(), NOW), TIMING) == Timed((), None, None)


def test_plan_gives_clients_and_relatives_their_rows() -> None:
    assert set(plan(client(), NOW, TIMING)) == {CHECKIN, REMINDER, WEEKLY}
    assert set(plan(relative(), NOW, TIMING)) == {LESSON, FAMILY_SUMMARY}
    assert plan(client(onboarded=False), NOW, TIMING) == {}
    staff = PersonView(3, Role.PEER_WORKER, "en", ZONE, checkin_time=time(19, 0), onboarded=True)
    assert plan(staff, NOW, TIMING) == {}


def test_plan_never_prompts_twice_on_a_day_already_prompted() -> None:
    early = NOW - timedelta(hours=3)  # 16:00 local, before the 19:00 prompt
    assert plan(client(), early, TIMING)[CHECKIN] == at_shanghai(TODAY, time(19, 0))
    fired = {CHECKIN: TODAY}
    assert plan(client(), early, TIMING, fired)[CHECKIN] == TOMORROW_19


def test_plan_leaves_out_a_reminder_in_quiet_hours() -> None:
    late = client(checkin_time=time(21, 0))  # the reminder would be 23:00, in quiet hours
    assert REMINDER not in plan(late, NOW, TIMING)
