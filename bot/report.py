"""``tongban report``: what the program shows its funders, on the domains of the community
peer-support evaluation (Fan et al. 2018): service process, service contents, training and
supervision, satisfaction, perceived benefit and outcomes.

Aggregates only: no alias, id or words of anyone. Every cell that rests on fewer than
``MIN_PEOPLE`` people is suppressed. One self-contained HTML file (charts embedded as PNG)
and, on request, one CSV per table.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage import rooms as rooms_stored
from bot.storage.models import (
    Activity,
    ActivityAttendance,
    ActivityFeedback,
    ActivityRecord,
    CheckIn,
    CopingCard,
    CourseFeedback,
    Debrief,
    Escalation,
    EscalationEvent,
    EscalationReason,
    Flag,
    LessonProgress,
    MeasureAnswer,
    Person,
    ReviewRequest,
    SupervisionNote,
    TrainingProgress,
)
from flows.activities import KINDS
from flows.coping import CARDS
from flows.lessons.training import TRAINING

MIN_PEOPLE = 5
SUPPRESSED = "<5"
# Daily self-monitoring apps for psychosis reach about 86% of days (FOCUS, Ben-Zeev et al.).
ADHERENCE_REFERENCE = 0.86
CRISIS_REPLY_WITHIN = timedelta(minutes=5)
CRISIS_SOURCES = ("crisis", "family_danger")
TIERS = ("urgent", "same_day", "routine")
WHO5_MEANINGFUL = 10  # points on 0–100: the change usually called meaningful


Cell = str | int | float


@dataclass
class Table:
    """One table of the report (and one CSV file): ``name`` is its file name."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Cell, ...]] = field(default_factory=list)
    note: str = ""


@dataclass
class Section:
    title: str
    tables: list[Table] = field(default_factory=list)
    charts: list[tuple[str, bytes]] = field(default_factory=list)  # (caption, PNG)
    pending: list[str] = field(default_factory=list)  # what is not collected yet


@dataclass
class Report:
    start: date
    end: date  # inclusive
    sections: list[Section]

    def tables(self) -> list[Table]:
        return [table for section in self.sections for table in section.tables]


def count_cell(value: int, people: int) -> Cell:
    """A number shown only when it rests on at least ``MIN_PEOPLE`` people."""
    return value if people >= MIN_PEOPLE else SUPPRESSED


def answer_rows(answers: Iterable[Cell], given: Sequence[Any]) -> list[tuple[Cell, ...]]:
    """One row per possible answer: how often it was given and by how many people.
    ``given`` holds (person id, answer) rows."""
    table: list[tuple[Cell, ...]] = []
    for answer in answers:
        rows = [r for r in given if r[1] == answer]
        n = len({r[0] for r in rows})
        table.append((answer, count_cell(len(rows), n), count_cell(n, n)))
    return table


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def p90(values: Sequence[float]) -> float:
    """The 90th percentile, nearest rank."""
    ordered = sorted(values)
    return float(ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)])


def _minutes(delta: timedelta) -> float:
    return round(delta.total_seconds() / 60, 1)


def _bounds(start: date, end: date) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time(0), UTC),
        datetime.combine(end + timedelta(days=1), time(0), UTC),
    )


async def gather(session: AsyncSession, start: date, end: date) -> Report:
    """Every figure of the report for the days ``start`` to ``end`` (UTC, inclusive)."""
    lo, hi = _bounds(start, end)
    return Report(
        start,
        end,
        [
            await _service_process(session, start, end, lo, hi),
            await _service_contents(session, lo, hi),
            await _supervision(session, lo, hi),
            await _satisfaction(session, lo, hi),
            await _outcomes(session, lo, hi),
        ],
    )


# -- service process ---------------------------------------------------------------------------


async def _service_process(
    session: AsyncSession, start: date, end: date, lo: datetime, hi: datetime
) -> Section:
    section = Section("Service process")
    people = {
        p.id: p
        for p in (
            await session.scalars(select(Person).where(Person.role.in_(("client", "family"))))
        ).all()
    }
    checkins = (
        await session.execute(
            select(CheckIn.person_id, CheckIn.local_date).where(
                CheckIn.completed_at.is_not(None), CheckIn.local_date.between(start, end)
            )
        )
    ).all()
    escalations = (
        await session.scalars(
            select(Escalation).where(Escalation.opened_at >= lo, Escalation.opened_at < hi)
        )
    ).all()
    lessons = (
        await session.execute(
            select(LessonProgress.person_id).where(
                LessonProgress.started_at >= lo, LessonProgress.started_at < hi
            )
        )
    ).all()
    active: dict[str, set[int]] = {"client": set(), "family": set()}
    for person_id, _ in checkins:
        active["client"].add(person_id)
    for esc in escalations:
        if esc.subject_id in people:
            active[people[esc.subject_id].role].add(esc.subject_id)
    for (person_id,) in lessons:
        if person_id in people:
            active[people[person_id].role].add(person_id)
    section.tables.append(
        Table(
            "people_active",
            "People active (a check-in, a lesson or a chat with a person in the period)",
            ("group", "people"),
            [
                ("clients", count_cell(len(active["client"]), len(active["client"]))),
                ("relatives", count_cell(len(active["family"]), len(active["family"]))),
            ],
        )
    )
    # Adherence: for each client onboarded by the end, the share of their days in the period
    # (from the later of the start and their onboarding) with a finished check-in.
    done: dict[int, set[date]] = defaultdict(set)
    for person_id, day in checkins:
        done[person_id].add(day)
    shares: list[float] = []
    for person in people.values():
        if person.role != "client" or person.onboarded_at is None:
            continue
        first = max(start, person.onboarded_at.date())
        if first > end:
            continue
        days = (end - first).days + 1
        shares.append(len({d for d in done[person.id] if d >= first}) / days)
    adherence = Table(
        "checkin_adherence",
        "Check-in adherence: share of days with a finished check-in, per client",
        ("clients", "median", "25th percentile", "75th percentile", "clients at 86% or more"),
        note="Reference: daily self-monitoring apps for psychosis reach about 86% of days "
        "(FOCUS, Ben-Zeev et al.).",
    )
    if len(shares) >= MIN_PEOPLE:
        q = statistics.quantiles(shares, n=4, method="inclusive")
        at_reference = sum(1 for s in shares if s >= ADHERENCE_REFERENCE)
        adherence.rows.append(
            (
                len(shares),
                round(median(shares), 3),
                round(q[0], 3),
                round(q[2], 3),
                count_cell(at_reference, at_reference),
            )
        )
        section.charts.append(("Check-in adherence per client", _histogram(shares)))
    else:
        adherence.rows.append((SUPPRESSED, SUPPRESSED, SUPPRESSED, SUPPRESSED, SUPPRESSED))
    section.tables.append(adherence)

    flags = (
        await session.scalars(select(Flag).where(Flag.raised_at >= lo, Flag.raised_at < hi))
    ).all()
    by_rule: dict[str, list[Flag]] = defaultdict(list)
    for flag in flags:
        by_rule[flag.rule].append(flag)
    flag_table = Table(
        "flags",
        "Early-warning flags raised, and what happened to them",
        ("rule", "flags", "people", "led to a chat with a person", "cleared"),
    )
    for rule in sorted(by_rule):
        rows = by_rule[rule]
        n = len({f.person_id for f in rows})
        flag_table.rows.append(
            (
                rule,
                count_cell(len(rows), n),
                count_cell(n, n),
                count_cell(sum(1 for f in rows if f.escalation_id is not None), n),
                count_cell(sum(1 for f in rows if f.cleared_at is not None), n),
            )
        )
    section.tables.append(flag_table)

    ids = [e.id for e in escalations]
    reasons = (
        (
            await session.execute(
                select(EscalationReason.escalation_id, EscalationReason.source, EscalationReason.at)
                .where(EscalationReason.escalation_id.in_(ids))
                .order_by(EscalationReason.id)
            )
        ).all()
        if ids
        else []
    )
    events = (
        (
            await session.execute(
                select(EscalationEvent.escalation_id, EscalationEvent.kind, EscalationEvent.at)
                .where(EscalationEvent.escalation_id.in_(ids))
                .order_by(EscalationEvent.at, EscalationEvent.id)
            )
        ).all()
        if ids
        else []
    )
    first_reason: dict[int, str] = {}
    reason_people: dict[str, set[int]] = defaultdict(set)
    reason_count: Counter[str] = Counter()
    subject = {e.id: e.subject_id for e in escalations}
    for escalation_id, source, _ in reasons:
        first_reason.setdefault(escalation_id, source)
        reason_count[source] += 1
        reason_people[source].add(subject[escalation_id])
    tiers = Table(
        "escalations_by_tier",
        "Chats brought to a person, by tier (the highest the chat reached)",
        ("tier", "chats", "people"),
    )
    for tier in TIERS:
        rows_t = [e for e in escalations if e.tier == tier]
        n = len({e.subject_id for e in rows_t})
        tiers.rows.append((tier, count_cell(len(rows_t), n), count_cell(n, n)))
    section.tables.append(tiers)
    section.tables.append(
        Table(
            "escalations_by_reason",
            "Reasons a person was brought in (a chat can have several)",
            ("reason", "times", "people"),
            [
                (
                    source,
                    count_cell(reason_count[source], len(reason_people[source])),
                    count_cell(len(reason_people[source]), len(reason_people[source])),
                )
                for source in sorted(reason_count)
            ],
        )
    )
    first_at: dict[tuple[int, str], datetime] = {}
    overdue: Counter[int] = Counter()
    for escalation_id, kind, at in events:
        first_at.setdefault((escalation_id, kind), at)
        if kind == "overdue":
            overdue[escalation_id] += 1
    times = Table(
        "response_times",
        "Time to claim and to the first human message, minutes from the chat's opening",
        (
            "tier",
            "chats claimed",
            "claim median",
            "claim 90th percentile",
            "chats answered",
            "first message median",
            "first message 90th percentile",
        ),
    )
    medians: dict[str, tuple[float | None, float | None]] = {}
    for tier in TIERS:
        rows_t = [e for e in escalations if e.tier == tier]
        claimed = [
            _minutes(first_at[(e.id, k)] - e.opened_at)
            for e in rows_t
            for k in ("claimed",)
            if (e.id, k) in first_at
        ]
        answered = [
            _minutes(first_at[(e.id, "first_reply")] - e.opened_at)
            for e in rows_t
            if (e.id, "first_reply") in first_at
        ]
        n_claim = len({e.subject_id for e in rows_t if (e.id, "claimed") in first_at})
        n_answer = len({e.subject_id for e in rows_t if (e.id, "first_reply") in first_at})
        claim_ok, answer_ok = n_claim >= MIN_PEOPLE, n_answer >= MIN_PEOPLE
        times.rows.append(
            (
                tier,
                count_cell(len(claimed), n_claim),
                round(median(claimed), 1) if claim_ok else SUPPRESSED,
                round(p90(claimed), 1) if claim_ok else SUPPRESSED,
                count_cell(len(answered), n_answer),
                round(median(answered), 1) if answer_ok else SUPPRESSED,
                round(p90(answered), 1) if answer_ok else SUPPRESSED,
            )
        )
        medians[tier] = (
            median(claimed) if claim_ok else None,
            median(answered) if answer_ok else None,
        )
    section.tables.append(times)
    if any(v is not None for pair in medians.values() for v in pair):
        section.charts.append(
            ("Median minutes to claim and to the first human message", _bars(medians))
        )
    crisis = [e for e in escalations if first_reason.get(e.id) in CRISIS_SOURCES]
    n_crisis = len({e.subject_id for e in crisis})
    fast = [
        e
        for e in crisis
        if (e.id, "first_reply") in first_at
        and first_at[(e.id, "first_reply")] - e.opened_at <= CRISIS_REPLY_WITHIN
    ]
    section.tables.append(
        Table(
            "crisis_reply_within_5_minutes",
            "Chats opened by crisis language with a human reply within 5 minutes",
            ("crisis chats", "replied within 5 minutes", "share"),
            [
                (
                    count_cell(len(crisis), n_crisis),
                    count_cell(len(fast), n_crisis),
                    round(len(fast) / len(crisis), 3) if n_crisis >= MIN_PEOPLE else SUPPRESSED,
                )
            ],
        )
    )
    late = [e for e in escalations if overdue[e.id]]
    n_late = len({e.subject_id for e in late})
    section.tables.append(
        Table(
            "overdue",
            "Chats that ran past their time (claim or reply) at least once",
            ("chats", "overdue events"),
            [(count_cell(len(late), n_late), count_cell(sum(overdue.values()), n_late))],
        )
    )
    held = await _activities_held(session, lo, hi)
    marked = [(person_id, role) for _, _, person_id, role in held if person_id is not None]
    attending = {person_id for person_id, _ in marked}
    by_role = {role: {p for p, r in marked if r == role} for role in ("client", "family")}
    activities = {activity_id for activity_id, _, _, _ in held}
    section.tables.append(
        Table(
            "activities_held",
            "Peer activities held (not cancelled, a record filed) and who came",
            ("activities", "attendances by clients", "attendances by relatives", "people"),
            [
                (
                    count_cell(len(activities), len(attending)),
                    count_cell(sum(1 for _, r in marked if r == "client"), len(by_role["client"])),
                    count_cell(sum(1 for _, r in marked if r == "family"), len(by_role["family"])),
                    count_cell(len(attending), len(attending)),
                )
            ],
            note="People who erased their data are not counted among those who came.",
        )
    )
    return section


async def _activities_held(
    session: AsyncSession, lo: datetime, hi: datetime
) -> list[tuple[int, str, int | None, str | None]]:
    """Activities held in the period (started in it, not cancelled, a record filed): one row
    per person marked present (activity id, kind, person id, role), or one row with no person
    for an activity nobody was marked at."""
    rows = (
        await session.execute(
            select(
                Activity.id, Activity.kind, ActivityAttendance.person_id, ActivityAttendance.role
            )
            .join(ActivityRecord, ActivityRecord.activity_id == Activity.id)
            .outerjoin(ActivityAttendance, ActivityAttendance.activity_id == Activity.id)
            .where(
                Activity.starts_at >= lo,
                Activity.starts_at < hi,
                Activity.cancelled_at.is_(None),
                ActivityRecord.filed_at.is_not(None),
            )
        )
    ).all()
    return [(a, k, p, r) for a, k, p, r in rows]


# -- service contents, supervision, satisfaction, outcomes -----------------------------------------


async def _service_contents(session: AsyncSession, lo: datetime, hi: datetime) -> Section:
    section = Section("Service contents")
    done = (
        await session.execute(
            select(LessonProgress.person_id).where(
                LessonProgress.completed_at >= lo, LessonProgress.completed_at < hi
            )
        )
    ).all()
    n = len({row[0] for row in done})
    section.tables.append(
        Table(
            "lessons_completed",
            "Family lessons completed",
            ("lessons completed", "relatives"),
            [(count_cell(len(done), n), count_cell(n, n))],
        )
    )
    shown = (
        await session.execute(
            select(CopingCard.person_id, CopingCard.card, CopingCard.helped).where(
                CopingCard.shown_at >= lo, CopingCard.shown_at < hi
            )
        )
    ).all()
    cards = Table(
        "coping_cards",
        'Coping cards shown to clients, and their answer to "Did this help?"',
        ("card", "times shown", "clients", "helped", "helped some", "did not help"),
    )
    for card in CARDS:
        rows = [r for r in shown if r[1] == card]
        n = len({r[0] for r in rows})
        cards.rows.append(
            (
                card,
                count_cell(len(rows), n),
                count_cell(n, n),
                *(count_cell(sum(1 for r in rows if r[2] == a), n) for a in ("yes", "some", "no")),
            )
        )
    section.tables.append(cards)
    held = await _activities_held(session, lo, hi)
    kinds = Table(
        "activity_kinds",
        "Peer activities held, by kind",
        ("kind", "activities", "people who came"),
    )
    for kind in KINDS:
        rows_k = [r for r in held if r[1] == kind]
        n = len({r[2] for r in rows_k if r[2] is not None})
        kinds.rows.append((kind, count_cell(len({r[0] for r in rows_k}), n), count_cell(n, n)))
    section.tables.append(kinds)
    section.tables.append(await _room_sessions(session, lo, hi))
    return section


async def _room_sessions(session: AsyncSession, lo: datetime, hi: datetime) -> Table:
    """Group rooms' sessions that happened, by room; every count is shown only when it rests
    on enough members (someone erased, or present before the retention period, still counts
    as an attendance but no longer as one of the members)."""
    table = Table(
        "room_sessions",
        "Group room sessions held (a message written in them), by room",
        (
            "room",
            "sessions",
            "members present (attendances)",
            "members",
            "messages",
            "messages taken back",
            "crisis messages held back",
        ),
        note="Leaders are not counted among members. A message taken back because crisis "
        "language was edited into it is counted as taken back and as held back.",
    )
    held = await rooms_stored.sessions_held(session, lo, hi)
    for room_id in sorted({h.room_id for h in held}):
        of_room = [h for h in held if h.room_id == room_id]
        n = len({p for h in of_room for p in h.present if p is not None})
        table.rows.append(
            (
                of_room[0].title,
                count_cell(len(of_room), n),
                count_cell(sum(len(h.present) for h in of_room), n),
                count_cell(n, n),
                count_cell(sum(h.messages for h in of_room), n),
                count_cell(sum(h.removed for h in of_room), n),
                count_cell(sum(h.held_back for h in of_room), n),
            )
        )
    return table


async def _supervision(session: AsyncSession, lo: datetime, hi: datetime) -> Section:
    section = Section("Peer training and supervision")
    debriefs = (
        await session.execute(
            select(Debrief.worker_id, Debrief.answer).where(Debrief.at >= lo, Debrief.at < hi)
        )
    ).all()
    table = Table(
        "debriefs",
        "Debriefs after chats with a crisis in them, by answer (peer workers)",
        ("answer", "debriefs", "workers"),
    )
    table.rows.extend(answer_rows(("ok", "shaken", "call"), debriefs))
    section.tables.append(table)
    notes = (
        await session.execute(
            select(SupervisionNote.worker_id).where(
                SupervisionNote.at >= lo, SupervisionNote.at < hi
            )
        )
    ).all()
    reviews = (
        await session.execute(
            select(ReviewRequest.worker_id, ReviewRequest.taken_at).where(
                ReviewRequest.requested_at >= lo, ReviewRequest.requested_at < hi
            )
        )
    ).all()
    n_notes = len({r[0] for r in notes})
    n_reviews = len({r[0] for r in reviews})
    section.tables.append(
        Table(
            "supervision",
            "Supervision notes and review requests",
            ("item", "count", "workers"),
            [
                (
                    "supervision notes",
                    count_cell(len(notes), n_notes),
                    count_cell(n_notes, n_notes),
                ),
                (
                    "review requests",
                    count_cell(len(reviews), n_reviews),
                    count_cell(n_reviews, n_reviews),
                ),
                (
                    "reviews opened by a supervisor",
                    count_cell(sum(1 for r in reviews if r[1] is not None), n_reviews),
                    count_cell(n_reviews, n_reviews),
                ),
            ],
        )
    )
    section.tables.append(await _training(session, lo, hi))
    section.tables.append(
        await _course_feedback(
            session,
            "training",
            (lo, hi),
            Table(
                "training_feedback",
                "The training course: how useful was it? (each worker's latest answer)",
                ("answer", "workers"),
            ),
        )
    )
    return section


async def _training(session: AsyncSession, lo: datetime, hi: datetime) -> Table:
    """The peer workers' training course: lessons finished in the period, and the workers
    whose last lesson of the whole course fell in it (docs/training.md)."""
    slugs = [lesson.slug for lesson in TRAINING.lessons]
    finished = (
        await session.execute(
            select(TrainingProgress.person_id, TrainingProgress.completed_at).where(
                TrainingProgress.completed_at.is_not(None), TrainingProgress.lesson.in_(slugs)
            )
        )
    ).all()
    done = [(worker, at) for worker, at in finished if at is not None]
    in_period = [r for r in done if lo <= r[1] < hi]
    n_lessons = len({r[0] for r in in_period})
    by_worker: dict[int, list[datetime]] = {}
    for worker, at in done:
        by_worker.setdefault(worker, []).append(at)
    whole = sum(1 for ats in by_worker.values() if len(ats) == len(slugs) and lo <= max(ats) < hi)
    return Table(
        "training",
        "The training course for peer workers (five lessons)",
        ("item", "count", "workers"),
        [
            (
                "lessons finished",
                count_cell(len(in_period), n_lessons),
                count_cell(n_lessons, n_lessons),
            ),
            ("finished the whole course", count_cell(whole, whole), count_cell(whole, whole)),
        ],
    )


async def _satisfaction(session: AsyncSession, lo: datetime, hi: datetime) -> Section:
    section = Section("Satisfaction")
    rated = (
        await session.execute(
            select(Escalation.subject_id, Escalation.rating).where(
                Escalation.resolved_at >= lo,
                Escalation.resolved_at < hi,
                Escalation.rating.is_not(None),
            )
        )
    ).all()
    table = Table(
        "chat_ratings",
        "Chat ratings by the person (1 = not good, 5 = very good)",
        ("rating", "chats", "people"),
    )
    scores = [(subject, int(rating)) for subject, rating in rated if rating is not None]
    table.rows.extend(answer_rows(range(1, 6), scores))
    n_all = len({r[0] for r in scores})
    table.note = (
        f"Mean rating: {statistics.mean(r[1] for r in scores):.2f} from {len(scores)} chats."
        if n_all >= MIN_PEOPLE
        else "Mean rating: suppressed (fewer than 5 people)."
    )
    section.tables.append(table)
    practice = (
        await session.execute(
            select(LessonProgress.person_id, LessonProgress.practice_helped).where(
                LessonProgress.practice_asked_at >= lo,
                LessonProgress.practice_asked_at < hi,
                LessonProgress.practice_helped.is_not(None),
            )
        )
    ).all()
    practice_table = Table(
        "practice_helped",
        "Family lessons' practice tasks: did it help? (relatives who tried it)",
        ("answer", "answers", "relatives"),
    )
    practice_table.rows.extend(answer_rows(("yes", "some", "no"), practice))
    section.tables.append(practice_table)
    feedback = (
        await session.execute(
            select(
                ActivityFeedback.person_id,
                ActivityFeedback.role,
                ActivityFeedback.satisfaction,
                ActivityFeedback.helped,
                ActivityFeedback.again,
            ).where(ActivityFeedback.at >= lo, ActivityFeedback.at < hi)
        )
    ).all()
    activity_table = Table(
        "activity_feedback",
        "Feedback after peer activities (satisfaction and help 1–5)",
        ("group", "answers", "people", "satisfied (4 or 5)", "helped (4 or 5)", "would come again"),
        note="People who erased their data are not counted among the people.",
    )
    for role, group in (("client", "clients"), ("family", "relatives")):
        of_group = [r for r in feedback if r[1] == role]
        n = len({r[0] for r in of_group if r[0] is not None})
        activity_table.rows.append(
            (
                group,
                count_cell(len(of_group), n),
                count_cell(n, n),
                count_cell(sum(1 for r in of_group if r[2] >= 4), n),
                count_cell(sum(1 for r in of_group if r[3] >= 4), n),
                count_cell(sum(1 for r in of_group if r[4] == "yes"), n),
            )
        )
    section.tables.append(activity_table)
    section.tables.append(
        await _course_feedback(
            session,
            "family",
            (lo, hi),
            Table(
                "course_feedback",
                "The family course: how useful was it? (each relative's latest answer)",
                ("answer", "relatives"),
            ),
        )
    )
    return section


async def _course_feedback(
    session: AsyncSession, course: str, period: tuple[datetime, datetime], table: Table
) -> Table:
    """``table`` filled with each person's latest answer in the period to the question at
    the end of ``course``: how many people gave each answer."""
    lo, hi = period
    latest: dict[int, str] = {}
    for person_id, useful in (
        await session.execute(
            select(CourseFeedback.person_id, CourseFeedback.useful)
            .where(
                CourseFeedback.course == course,
                CourseFeedback.given_at >= lo,
                CourseFeedback.given_at < hi,
            )
            .order_by(CourseFeedback.given_at, CourseFeedback.id)
        )
    ).all():
        latest[person_id] = useful
    for answer in ("very", "somewhat", "not"):
        n = sum(1 for useful in latest.values() if useful == answer)
        table.rows.append((answer, count_cell(n, n)))
    return table


async def _outcomes(session: AsyncSession, lo: datetime, hi: datetime) -> Section:
    section = Section("Perceived benefit and outcomes")
    answers = (
        await session.execute(
            select(MeasureAnswer.person_id, MeasureAnswer.measure, MeasureAnswer.score)
            .where(MeasureAnswer.at >= lo, MeasureAnswer.at < hi)
            .order_by(MeasureAnswer.at, MeasureAnswer.id)
        )
    ).all()
    series: dict[int, list[int]] = defaultdict(list)
    alliance: list[tuple[int, int]] = []
    for person_id, measure, value in answers:
        if measure == "who5":
            series[person_id].append(value)
        else:
            alliance.append((person_id, value))
    pairs = [(s[0], s[-1]) for s in series.values() if len(s) >= 2]
    who5 = Table(
        "who5_change",
        "WHO-5 wellbeing (0–100): first and last answer of each person with two or more",
        (
            "people",
            "mean first",
            "mean last",
            "mean change",
            "improved by 10 or more",
            "worse by 10 or more",
        ),
    )
    if len(pairs) >= MIN_PEOPLE:
        better = sum(1 for a, b in pairs if b - a >= WHO5_MEANINGFUL)
        worse = sum(1 for a, b in pairs if a - b >= WHO5_MEANINGFUL)
        who5.rows.append(
            (
                len(pairs),
                round(statistics.mean(a for a, _ in pairs), 1),
                round(statistics.mean(b for _, b in pairs), 1),
                round(statistics.mean(b - a for a, b in pairs), 1),
                count_cell(better, better),
                count_cell(worse, worse),
            )
        )
        section.charts.append(("WHO-5: first and last answer per person", _slopes(pairs)))
    else:
        who5.rows.append((SUPPRESSED,) * 6)
    section.tables.append(who5)
    n_alliance = len({p for p, _ in alliance})
    section.tables.append(
        Table(
            "alliance",
            "Working alliance with peer workers (20–100; the project's own three items, "
            "see docs/measures.md)",
            ("answers", "people", "mean score"),
            [
                (
                    count_cell(len(alliance), n_alliance),
                    count_cell(n_alliance, n_alliance),
                    round(statistics.mean(v for _, v in alliance), 1)
                    if n_alliance >= MIN_PEOPLE
                    else SUPPRESSED,
                )
            ],
        )
    )
    return section


# -- charts -------------------------------------------------------------------------------------------


def _png(figure: object) -> bytes:
    from matplotlib.figure import Figure

    assert isinstance(figure, Figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
    return buffer.getvalue()


def _figure() -> object:
    from matplotlib.figure import Figure

    from bot.charts import register_fonts

    register_fonts()
    return Figure(figsize=(6.4, 3.2))


def _histogram(shares: Sequence[float]) -> bytes:
    from matplotlib.figure import Figure

    figure = _figure()
    assert isinstance(figure, Figure)
    axes = figure.subplots()
    axes.hist(
        [s * 100 for s in shares],
        bins=[0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
        color="#4C9F70",
    )
    axes.axvline(ADHERENCE_REFERENCE * 100, color="#333333", linestyle="--", linewidth=1)
    axes.set_xlabel("% of days with a finished check-in")
    axes.set_ylabel("clients")
    return _png(figure)


def _bars(medians: dict[str, tuple[float | None, float | None]]) -> bytes:
    from matplotlib.figure import Figure

    figure = _figure()
    assert isinstance(figure, Figure)
    axes = figure.subplots()
    tiers = list(medians)
    xs = range(len(tiers))
    claim = [medians[t][0] or 0 for t in tiers]
    reply = [medians[t][1] or 0 for t in tiers]
    axes.bar([x - 0.2 for x in xs], claim, width=0.4, label="to claim", color="#3B7DD8")
    axes.bar([x + 0.2 for x in xs], reply, width=0.4, label="to first message", color="#E39B2D")
    axes.set_xticks(list(xs), [t.replace("_", " ") for t in tiers])
    axes.set_ylabel("minutes (median)")
    axes.set_yscale("log")
    axes.legend()
    return _png(figure)


def _slopes(pairs: Sequence[tuple[int, int]]) -> bytes:
    from matplotlib.figure import Figure

    figure = _figure()
    assert isinstance(figure, Figure)
    axes = figure.subplots()
    for a, b in pairs:
        axes.plot([0, 1], [a, b], color="#4C9F70" if b >= a else "#C0504D", alpha=0.35)
    axes.set_xticks([0, 1], ["first answer", "last answer"])
    axes.set_ylim(0, 100)
    axes.set_ylabel("WHO-5 (0–100)")
    return _png(figure)


# -- output ---------------------------------------------------------------------------------------------


def to_html(report: Report) -> str:
    """One self-contained page: styles inline, charts as data: URIs, no external resource."""
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Tongban report {report.start} – {report.end}</title>",
        "<style>body{font-family:'Noto Sans CJK SC','Noto Sans',sans-serif;max-width:60em;"
        "margin:2em auto;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}"
        "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f3f3f3}"
        "td:first-child{text-align:left}caption{text-align:left;font-weight:bold;padding:.3em 0;white-space:nowrap}"
        ".note,.pending{color:#666;font-size:.9em}img{max-width:100%}</style></head><body>",
        "<h1>Tongban: program report</h1>",
        f"<p>{report.start} to {report.end} (UTC). Aggregates only; any cell resting on fewer "
        f"than {MIN_PEOPLE} people shows “{SUPPRESSED}”.</p>",
    ]
    for section in report.sections:
        out.append(f"<h2>{html.escape(section.title)}</h2>")
        for table in section.tables:
            out.append(f"<table><caption>{html.escape(table.title)}</caption><tr>")
            out += [f"<th>{html.escape(c)}</th>" for c in table.columns]
            out.append("</tr>")
            for row in table.rows:
                out.append(
                    "<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>"
                )
            out.append("</table>")
            if table.note:
                out.append(f"<p class='note'>{html.escape(table.note)}</p>")
        for caption, png in section.charts:
            data = base64.b64encode(png).decode()
            out.append(
                f"<figure><img alt='{html.escape(caption)}' src='data:image/png;base64,{data}'>"
                f"<figcaption>{html.escape(caption)}</figcaption></figure>"
            )
        for line in section.pending:
            out.append(f"<p class='pending'>{html.escape(line)}</p>")
    out.append("</body></html>")
    return "\n".join(out)


def write_csv(report: Report, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table in report.tables():
        path = folder / f"{table.name}.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(table.columns)
            writer.writerows(table.rows)
        written.append(path)
    return written
