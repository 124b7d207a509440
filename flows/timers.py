"""Timers: what the schedules table holds for a person, and what a due row brings.

The shell's scheduler claims due rows, loads the facts a row's kind needs (:class:`Due`) and
applies what :func:`decide` returns; it decides nothing itself. :func:`plan` says which rows a
person should have and when each is next due, so the same rules place a row after a change
of settings and move it on after it fired.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flows import crisis, flags
from flows.effects import Choice, Say
from flows.family import next_lesson
from flows.lessons.course import lesson_by_slug, lesson_text
from flows.people import PersonView, Rules
from flows.roles import Role
from flows.schedule import lesson_weekdays, local_date, next_daily, next_weekly, shifted
from flows.text import N_, Lines, Msg, msg

CHECKIN, REMINDER, WEEKLY = "checkin", "reminder", "weekly"
LESSON, FAMILY_SUMMARY = "lesson", "family_summary"
KINDS = (CHECKIN, REMINDER, WEEKLY, LESSON, FAMILY_SUMMARY)
# An escalation's clock (claim or reply) about its subject: set by the escalation appliers
# when a case opens or changes, not planned per person, and read by the same tick.
ESCALATION = "escalation"

START = Choice(Msg(N_("checkin.prompt.start")), "/checkin")
LATER = Choice(Msg(N_("checkin.prompt.later")), "/later")

LIGHTS = {
    "green": N_("family.summary.green"),
    "amber": N_("family.summary.amber"),
    "red": N_("family.summary.red"),
}


@dataclass(frozen=True, slots=True)
class Timing:
    """The program's settings the clock needs."""

    quiet: Rules = field(default_factory=Rules)
    flag_rules: flags.FlagRules = field(default_factory=flags.FlagRules)
    reminder_after: timedelta = timedelta(0)  # zero: no reminder
    summary_day: int = 6  # the weekly chart's and the family summary's weekday (Monday 0)
    # Each client's chart on a weekday of their own (by their id) instead of everyone's on
    # ``summary_day``: drawing a chart costs ~0.2 s of CPU, too much for one day at scale.
    spread_charts: bool = False

    def chart_weekday(self, person: PersonView) -> int:
        """The weekday of a client's weekly chart (Monday 0)."""
        return person.id % 7 if self.spread_charts else self.summary_day


@dataclass(frozen=True, slots=True)
class FlagSpan:
    """One early-warning flag of a client, as a relative's traffic light sees it: when it was
    raised and when (if) it cleared; never what it was about."""

    raised_at: datetime
    cleared_at: datetime | None


@dataclass(frozen=True, slots=True)
class Due:
    """A due row of the schedules table, with the facts deciding it needs. The facts after
    ``onboarded_on`` belong to one kind each and are left empty for the others."""

    kind: str
    person: PersonView
    now: datetime
    last_local_date: date | None = None  # the local day this row last fired
    last_answered: date | None = None  # the last local day they answered a check-in
    finished_today: bool = False  # today's check-in is done
    held: bool = False  # a peer worker holds their chat: the bot's own messages wait
    blocked: bool = False
    onboarded_on: date | None = None
    # weekly: their check-ins of the last four weeks
    history: tuple[flags.DayRecord, ...] = ()
    # lesson: how far they are in the course, and lessons finished a week ago or more
    # whose practice task they were not asked about yet (oldest first)
    progress: Mapping[str, str] = field(default_factory=dict)
    practice_due: tuple[str, ...] = ()
    # family summary: for each client who shares it with them, that client's flags
    shared: tuple[tuple[FlagSpan, ...], ...] = ()


@dataclass(frozen=True, slots=True)
class WeeklyChart:
    """Send the person their four-week chart, drawn from these records."""

    records: tuple[flags.DayRecord, ...]
    today: date


@dataclass(frozen=True, slots=True)
class PracticeAsked:
    """The week-later question about a lesson's practice task was asked (or its lesson is
    gone): it is not asked again."""

    lesson: str


@dataclass(frozen=True, slots=True)
class RaiseFlag:
    """An early-warning flag the clock found (days without a check-in)."""

    hit: flags.FlagHit


TimerEffect = Say | WeeklyChart | PracticeAsked | RaiseFlag


@dataclass(frozen=True, slots=True)
class Timed:
    """What a due row brings, and where the row goes next: its new due time and the local
    day it fired for, or ``due`` None to drop it."""

    effects: tuple[TimerEffect, ...]
    due: datetime | None
    day: date | None
    held_back: bool = False  # it fired while the person was not to be disturbed


def plan(
    person: PersonView,
    now: datetime,
    timing: Timing,
    fired: Mapping[str, date | None] | None = None,
) -> dict[str, datetime]:
    """The rows a person should have and when each is next due. ``fired``: the local day
    each existing row last fired for, so moving the time or the zone never brings a second
    prompt on the same day."""
    fired = fired or {}
    clock, zone = person.checkin_time, person.timezone
    if not person.onboarded or clock is None:
        return {}
    wanted: dict[str, datetime] = {}
    if person.role is Role.CLIENT:
        wanted[CHECKIN] = next_daily(clock, zone, now, skip_day=fired.get(CHECKIN))
        reminder_at = shifted(clock, timing.reminder_after) if timing.reminder_after else None
        if reminder_at is not None and not timing.quiet.is_quiet(reminder_at):
            wanted[REMINDER] = next_daily(reminder_at, zone, now, skip_day=fired.get(REMINDER))
        wanted[WEEKLY] = next_weekly(timing.chart_weekday(person), clock, zone, now)
    if person.role is Role.FAMILY:
        lesson = next_lesson_due(person, now)
        if lesson is not None:
            wanted[LESSON] = lesson
        wanted[FAMILY_SUMMARY] = next_weekly(timing.summary_day, clock, zone, now)
    return wanted


def next_lesson_due(person: PersonView, after: datetime) -> datetime | None:
    """The next of a relative's lesson days at their chosen time."""
    days = lesson_weekdays(person.lesson_days)
    if person.checkin_time is None or not days:
        return None
    return min(next_weekly(day, person.checkin_time, person.timezone, after) for day in days)


def traffic_light(spans: Sequence[FlagSpan], now: datetime) -> str:
    """Green, amber or red from a client's flags only, never their answers: red while one is
    open, amber when one was raised or cleared in the last week."""
    if any(span.cleared_at is None for span in spans):
        return "red"
    week_ago = now - timedelta(days=7)
    recent = any(
        span.raised_at >= week_ago or (span.cleared_at is not None and span.cleared_at >= week_ago)
        for span in spans
    )
    return "amber" if recent else "green"


def decide(due: Due, timing: Timing) -> Timed:
    """What a due row brings. Nothing is sent while the person paused, blocked the bot, is
    talking with a peer worker, or it is quiet hours for them; the row moves on regardless."""
    person = due.person
    today = local_date(due.now, person.timezone)
    local_time = due.now.astimezone(ZoneInfo(person.timezone)).time()
    waiting = person.paused or due.blocked or due.held or timing.quiet.is_quiet(local_time)
    if person.checkin_time is None:
        return Timed((), None, None)
    if due.kind in (CHECKIN, REMINDER):
        return _checkin(due, timing, today, waiting, person.checkin_time)
    if due.kind == WEEKLY:
        chart = () if waiting else (WeeklyChart(due.history, today),)
        weekday = timing.chart_weekday(person)
        due_at = next_weekly(weekday, person.checkin_time, person.timezone, due.now)
        return Timed(chart, due_at, due.last_local_date, held_back=waiting)
    if due.kind == LESSON:
        next_time = next_lesson_due(person, due.now)
        if next_time is None:  # no lesson day left: nothing to send, and the row goes
            return Timed((), None, None)
        effects = () if waiting else _lesson(due)
        return Timed(effects, next_time, due.last_local_date, held_back=waiting)
    if due.kind == FAMILY_SUMMARY:
        effects = () if waiting else _family_summary(due)
        due_at = next_weekly(timing.summary_day, person.checkin_time, person.timezone, due.now)
        return Timed(effects, due_at, due.last_local_date, held_back=waiting)
    return Timed((), None, None)  # a kind this version does not know: the row goes


def _checkin(due: Due, timing: Timing, today: date, waiting: bool, clock: time) -> Timed:
    already = due.finished_today or due.last_local_date == today
    effects: list[TimerEffect] = []
    if not waiting and not already:
        effects.append(Say(_prompt_text(due, timing, today), (START, LATER), columns=2))
        if due.kind == CHECKIN:
            since = due.onboarded_on or today
            hit = flags.silence_hit(due.last_answered, today, timing.flag_rules, since=since)
            if hit is not None:
                effects.append(RaiseFlag(hit))
    at = clock if due.kind == CHECKIN else shifted(clock, timing.reminder_after)
    if at is None:  # a reminder that would fall on the next day: no more reminders
        return Timed(tuple(effects), None, None)
    next_time = next_daily(at, due.person.timezone, due.now, skip_day=today)
    return Timed(tuple(effects), next_time, today, held_back=waiting or already)


def _prompt_text(due: Due, timing: Timing, today: date) -> Msg:
    if due.kind == REMINDER:
        return Msg(N_("checkin.reminder"))
    last = due.last_answered
    if last is not None and flags.silence(last, today, timing.flag_rules) is not None:
        return Msg(N_("checkin.prompt.after_a_while"))
    return Msg(N_("checkin.prompt"))


def _lesson(due: Due) -> tuple[TimerEffect, ...]:
    """Today's lesson, after a week-later question about an earlier lesson's practice task."""
    effects: list[TimerEffect] = []
    for slug in due.practice_due[:1]:
        effects.append(PracticeAsked(slug))
        earlier = lesson_by_slug(slug)
        if earlier is not None:
            ask = Lines(
                (Msg(N_("practice.ask")), lesson_text(earlier.practice, due.person.numbers))
            )
            effects.append(
                Say(
                    ask,
                    (
                        Choice(Msg(N_("practice.tried")), f"/practice {slug} yes"),
                        Choice(Msg(N_("practice.not_tried")), f"/practice {slug} no"),
                    ),
                    columns=2,
                )
            )
    lesson = next_lesson(dict(due.progress))
    if lesson is not None:
        effects.append(
            Say(
                msg(N_("lesson.prompt"), title=Msg(lesson.title), summary=Msg(lesson.summary)),
                (
                    Choice(Msg(N_("lesson.start")), f"/lesson {lesson.slug}"),
                    Choice(Msg(N_("lesson.later")), "/lessons"),
                ),
                columns=2,
            )
        )
    return tuple(effects)


def _family_summary(due: Due) -> tuple[TimerEffect, ...]:
    """Green, amber or red for each client who shares it with this relative — nothing more."""
    emergency = crisis.emergency_inline(due.person.numbers)
    return tuple(
        Say(msg(LIGHTS[traffic_light(spans, due.now)], emergency=emergency)) for spans in due.shared
    )


__all__ = [
    "CHECKIN",
    "FAMILY_SUMMARY",
    "KINDS",
    "LESSON",
    "REMINDER",
    "WEEKLY",
    "Due",
    "FlagSpan",
    "PracticeAsked",
    "RaiseFlag",
    "Timed",
    "Timing",
    "WeeklyChart",
    "decide",
    "next_lesson_due",
    "plan",
    "traffic_light",
]
