"""``tongban report`` on a generated program (bench/report_population.py): every figure is
checked against an independent count the database makes (GROUP BY, COUNT DISTINCT), on
SQLite and PostgreSQL; cells under five people are suppressed; the HTML is self-contained,
names nobody, and each table has its CSV."""

from __future__ import annotations

import csv
import re
import statistics
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import case, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bench.report_population import History, populate
from bot.report import SUPPRESSED, Report, Table, gather, to_html, write_csv
from bot.storage.db import Database
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
from flows.lessons.training import TRAINING

HISTORY = History()
LO = datetime.combine(HISTORY.start, time(0), UTC)
HI = datetime.combine(HISTORY.end + timedelta(days=1), time(0), UTC)


def shown(count: int, people: int) -> Any:
    return count if people >= 5 else SUPPRESSED


def table(report: Report, name: str) -> Table:
    return next(t for t in report.tables() if t.name == name)


def rows_by_key(t: Table) -> dict[Any, tuple[Any, ...]]:
    return {row[0]: row[1:] for row in t.rows}


async def test_every_figure_agrees_with_an_independent_count(
    database_url: str, tmp_path: Path
) -> None:
    db = Database(database_url, 4)
    try:
        async with db.transaction() as session:
            await populate(session, HISTORY)
        async with db.sessions() as session:
            report = await gather(session, HISTORY.start, HISTORY.end)
            await _check(session, report)
    finally:
        await db.dispose()
    page = to_html(report)
    assert "<img" in page and not re.search(r"(src|href)=['\"]https?:", page)
    assert "Worker0" not in page and "Super" not in page.replace("Supervision", "")
    assert "not collected yet" not in page, "every domain of the issue is collected now"
    files = write_csv(report, tmp_path)
    assert sorted(p.stem for p in files) == sorted(t.name for t in report.tables())
    for t in report.tables():
        with (tmp_path / f"{t.name}.csv").open(encoding="utf-8") as handle:
            assert next(csv.reader(handle)) == list(t.columns)


async def _check(session: AsyncSession, report: Report) -> None:
    in_range = (Escalation.opened_at >= LO, Escalation.opened_at < HI)
    # escalations by tier: chats and people
    counted = {
        tier: (n, people)
        for tier, n, people in (
            await session.execute(
                select(Escalation.tier, func.count(), func.count(distinct(Escalation.subject_id)))
                .where(*in_range)
                .group_by(Escalation.tier)
            )
        ).all()
    }
    for tier, (chats, people) in rows_by_key(table(report, "escalations_by_tier")).items():
        n, p = counted.get(tier, (0, 0))
        assert (chats, people) == (shown(n, p), shown(p, p)), tier
    # reasons
    reasons = (
        await session.execute(
            select(
                EscalationReason.source,
                func.count(),
                func.count(distinct(Escalation.subject_id)),
            )
            .join(Escalation, Escalation.id == EscalationReason.escalation_id)
            .where(*in_range)
            .group_by(EscalationReason.source)
        )
    ).all()
    assert rows_by_key(table(report, "escalations_by_reason")) == {
        source: (shown(n, p), shown(p, p)) for source, n, p in reasons
    }
    # flags, with "silence" resting on three people: suppressed
    flags = {
        rule: (n, p)
        for rule, n, p in (
            await session.execute(
                select(Flag.rule, func.count(), func.count(distinct(Flag.person_id)))
                .where(Flag.raised_at >= LO, Flag.raised_at < HI)
                .group_by(Flag.rule)
            )
        ).all()
    }
    shown_flags = rows_by_key(table(report, "flags"))
    assert set(shown_flags) == set(flags)
    for rule, (n, p) in flags.items():
        assert shown_flags[rule][:2] == (shown(n, p), shown(p, p))
    assert shown_flags["silence"] == (SUPPRESSED,) * 4
    # response times: the database's timestamps, an independent median and nearest-rank p90
    pairs = (
        await session.execute(
            select(Escalation.tier, Escalation.opened_at, EscalationEvent.kind, EscalationEvent.at)
            .join(EscalationEvent, EscalationEvent.escalation_id == Escalation.id)
            .where(*in_range, EscalationEvent.kind.in_(("claimed", "first_reply")))
        )
    ).all()
    times = rows_by_key(table(report, "response_times"))
    for tier in ("urgent", "same_day", "routine"):
        for kind, columns in (("claimed", slice(0, 3)), ("first_reply", slice(3, 6))):
            minutes = sorted(
                round((at - opened).total_seconds() / 60, 1)
                for t, opened, k, at in pairs
                if t == tier and k == kind
            )
            mid = len(minutes) // 2
            middle = minutes[mid] if len(minutes) % 2 else (minutes[mid - 1] + minutes[mid]) / 2
            rank = -(-9 * len(minutes) // 10)  # ceil(0.9 n)
            assert times[tier][columns] == (
                len(minutes),
                round(middle, 1),
                round(minutes[rank - 1], 1),
            ), (tier, kind)
    # crisis chats answered within five minutes
    earlier = aliased(EscalationReason)
    first_reason = (
        select(func.min(earlier.id))
        .where(earlier.escalation_id == Escalation.id)
        .correlate(Escalation)
        .scalar_subquery()
    )
    crisis = (
        await session.execute(
            select(Escalation.id, Escalation.subject_id, Escalation.opened_at)
            .join(EscalationReason, EscalationReason.id == first_reason)
            .where(*in_range, EscalationReason.source.in_(("crisis", "family_danger")))
        )
    ).all()
    replies = dict(
        (
            await session.execute(
                select(EscalationEvent.escalation_id, EscalationEvent.at).where(
                    EscalationEvent.kind == "first_reply"
                )
            )
        ).all()
    )
    fast = [c for c in crisis if c[0] in replies and replies[c[0]] - c[2] <= timedelta(minutes=5)]
    crisis_people = len({c[1] for c in crisis})
    assert crisis_people >= 5
    assert table(report, "crisis_reply_within_5_minutes").rows == [
        (len(crisis), len(fast), round(len(fast) / len(crisis), 3))
    ]
    # overdue
    late = (
        await session.execute(
            select(
                func.count(distinct(Escalation.id)),
                func.count(),
                func.count(distinct(Escalation.subject_id)),
            )
            .join(EscalationEvent, EscalationEvent.escalation_id == Escalation.id)
            .where(*in_range, EscalationEvent.kind == "overdue")
        )
    ).one()
    assert table(report, "overdue").rows == [(shown(late[0], late[2]), shown(late[1], late[2]))]
    # adherence: clients onboarded by the end, finished check-ins in the period
    clients = await session.scalar(
        select(func.count()).where(Person.role == "client", Person.onboarded_at < HI)
    )
    assert table(report, "checkin_adherence").rows[0][0] == clients
    per_client = (
        await session.execute(
            select(Person.onboarded_at, func.count(CheckIn.id))
            .outerjoin(
                CheckIn,
                (CheckIn.person_id == Person.id)
                & CheckIn.completed_at.is_not(None)
                & CheckIn.local_date.between(HISTORY.start, HISTORY.end),
            )
            .where(Person.role == "client")
            .group_by(Person.id, Person.onboarded_at)
        )
    ).all()
    shares = [
        n / ((HISTORY.end - max(HISTORY.start, onboarded.date())).days + 1)
        for onboarded, n in per_client
    ]
    assert table(report, "checkin_adherence").rows[0][1] == round(statistics.median(shares), 3)
    # people active
    active_clients = await session.scalar(
        select(func.count(distinct(CheckIn.person_id))).where(
            CheckIn.completed_at.is_not(None),
            CheckIn.local_date.between(HISTORY.start, HISTORY.end),
        )
    )
    assert table(report, "people_active").rows[0] == ("clients", active_clients)
    # lessons, debriefs, supervision, ratings, practice
    lessons = (
        await session.execute(
            select(func.count(), func.count(distinct(LessonProgress.person_id))).where(
                LessonProgress.completed_at >= LO, LessonProgress.completed_at < HI
            )
        )
    ).one()
    assert table(report, "lessons_completed").rows == [(lessons[0], lessons[1])]
    debriefs = {
        answer: (n, p)
        for answer, n, p in (
            await session.execute(
                select(Debrief.answer, func.count(), func.count(distinct(Debrief.worker_id)))
                .where(Debrief.at >= LO, Debrief.at < HI)
                .group_by(Debrief.answer)
            )
        ).all()
    }
    for answer, row in rows_by_key(table(report, "debriefs")).items():
        n, p = debriefs.get(answer, (0, 0))
        assert row == (shown(n, p), shown(p, p))
    notes = (
        await session.execute(
            select(func.count(), func.count(distinct(SupervisionNote.worker_id))).where(
                SupervisionNote.at >= LO, SupervisionNote.at < HI
            )
        )
    ).one()
    reviews = (
        await session.execute(
            select(
                func.count(),
                func.count(distinct(ReviewRequest.worker_id)),
                func.count(ReviewRequest.taken_at),
            ).where(ReviewRequest.requested_at >= LO, ReviewRequest.requested_at < HI)
        )
    ).one()
    assert rows_by_key(table(report, "supervision")) == {
        "supervision notes": (shown(notes[0], notes[1]), shown(notes[1], notes[1])),
        "review requests": (shown(reviews[0], reviews[1]), shown(reviews[1], reviews[1])),
        "reviews opened by a supervisor": (
            shown(reviews[2], reviews[1]),
            shown(reviews[1], reviews[1]),
        ),
    }
    # the training course: lessons finished in the quarter, and workers whose last lesson of
    # the whole course fell in it
    slugs = [lesson.slug for lesson in TRAINING.lessons]
    lessons_done = (
        await session.execute(
            select(func.count(), func.count(distinct(TrainingProgress.person_id))).where(
                TrainingProgress.completed_at >= LO,
                TrainingProgress.completed_at < HI,
                TrainingProgress.lesson.in_(slugs),
            )
        )
    ).one()
    last = func.max(TrainingProgress.completed_at)
    whole = len(
        (
            await session.execute(
                select(TrainingProgress.person_id)
                .where(
                    TrainingProgress.completed_at.is_not(None), TrainingProgress.lesson.in_(slugs)
                )
                .group_by(TrainingProgress.person_id)
                .having(func.count() == len(slugs), last >= LO, last < HI)
            )
        ).all()
    )
    assert rows_by_key(table(report, "training")) == {
        "lessons finished": (
            shown(lessons_done[0], lessons_done[1]),
            shown(lessons_done[1], lessons_done[1]),
        ),
        "finished the whole course": (shown(whole, whole), shown(whole, whole)),
    }
    assert whole == 5 and lessons_done[1] == 7, "the population has these; else nothing is checked"
    ratings = {
        r: (n, p)
        for r, n, p in (
            await session.execute(
                select(Escalation.rating, func.count(), func.count(distinct(Escalation.subject_id)))
                .where(
                    Escalation.resolved_at >= LO,
                    Escalation.resolved_at < HI,
                    Escalation.rating.is_not(None),
                )
                .group_by(Escalation.rating)
            )
        ).all()
    }
    for rating, row in rows_by_key(table(report, "chat_ratings")).items():
        n, p = ratings.get(rating, (0, 0))
        assert row == (shown(n, p), shown(p, p))
    # outcomes: WHO-5 pairs and the alliance
    who5_people = (
        await session.execute(
            select(MeasureAnswer.person_id)
            .where(MeasureAnswer.measure == "who5", MeasureAnswer.at >= LO, MeasureAnswer.at < HI)
            .group_by(MeasureAnswer.person_id)
            .having(func.count() >= 2)
        )
    ).all()
    assert table(report, "who5_change").rows[0][0] == len(who5_people)
    alliance = (
        await session.execute(
            select(
                func.count(),
                func.count(distinct(MeasureAnswer.person_id)),
                func.avg(MeasureAnswer.score),
            ).where(
                MeasureAnswer.measure == "alliance", MeasureAnswer.at >= LO, MeasureAnswer.at < HI
            )
        )
    ).one()
    assert table(report, "alliance").rows == [
        (alliance[0], alliance[1], round(float(alliance[2]), 1))
    ]
    await _check_activities_cards_and_course(session, report)


async def _check_activities_cards_and_course(session: AsyncSession, report: Report) -> None:
    # peer activities held: started in the period, not cancelled, a filed record
    held = (
        Activity.starts_at >= LO,
        Activity.starts_at < HI,
        Activity.cancelled_at.is_(None),
        ActivityRecord.filed_at.is_not(None),
    )
    came = (
        select(Activity.kind, Activity.id, ActivityAttendance.person_id, ActivityAttendance.role)
        .join(ActivityRecord, ActivityRecord.activity_id == Activity.id)
        .outerjoin(ActivityAttendance, ActivityAttendance.activity_id == Activity.id)
        .where(*held)
        .subquery()
    )
    total = (
        await session.execute(
            select(func.count(distinct(came.c.id)), func.count(distinct(came.c.person_id)))
        )
    ).one()
    assert total[0] == 12 and total[1] >= 5  # two of the fourteen were not held
    by_role = {
        role: (n, p)
        for role, n, p in (
            await session.execute(
                select(came.c.role, func.count(), func.count(distinct(came.c.person_id)))
                .where(came.c.person_id.is_not(None))
                .group_by(came.c.role)
            )
        ).all()
    }
    assert table(report, "activities_held").rows == [
        (
            shown(total[0], total[1]),
            shown(*by_role["client"]),
            shown(*by_role["family"]),
            shown(total[1], total[1]),
        )
    ]
    kinds = {
        kind: (n, p)
        for kind, n, p in (
            await session.execute(
                select(
                    came.c.kind,
                    func.count(distinct(came.c.id)),
                    func.count(distinct(came.c.person_id)),
                ).group_by(came.c.kind)
            )
        ).all()
    }
    for kind, row in rows_by_key(table(report, "activity_kinds")).items():
        n, p = kinds.get(kind, (0, 0))
        assert row == (shown(n, p), shown(p, p)), kind
    # coping cards shown in the period, by card, and the answers
    cards = {
        card: (n, p, yes, some, no)
        for card, n, p, yes, some, no in (
            await session.execute(
                select(
                    CopingCard.card,
                    func.count(),
                    func.count(distinct(CopingCard.person_id)),
                    func.sum(case((CopingCard.helped == "yes", 1), else_=0)),
                    func.sum(case((CopingCard.helped == "some", 1), else_=0)),
                    func.sum(case((CopingCard.helped == "no", 1), else_=0)),
                )
                .where(CopingCard.shown_at >= LO, CopingCard.shown_at < HI)
                .group_by(CopingCard.card)
            )
        ).all()
    }
    shown_cards = rows_by_key(table(report, "coping_cards"))
    assert set(cards) <= set(shown_cards)
    assert any(row[0] != SUPPRESSED for row in shown_cards.values())
    for card, row in shown_cards.items():
        n, p, *answers = cards.get(card, (0, 0, 0, 0, 0))
        assert row == (shown(n, p), shown(p, p), *(shown(a, p) for a in answers)), card
    # activity feedback by role
    feedback = {
        role: tuple(values)
        for role, *values in (
            await session.execute(
                select(
                    ActivityFeedback.role,
                    func.count(),
                    func.count(distinct(ActivityFeedback.person_id)),
                    func.sum(case((ActivityFeedback.satisfaction >= 4, 1), else_=0)),
                    func.sum(case((ActivityFeedback.helped >= 4, 1), else_=0)),
                    func.sum(case((ActivityFeedback.again == "yes", 1), else_=0)),
                )
                .where(ActivityFeedback.at >= LO, ActivityFeedback.at < HI)
                .group_by(ActivityFeedback.role)
            )
        ).all()
    }
    for role, group in (("client", "clients"), ("family", "relatives")):
        n, p, satisfied, helped, again = feedback[role]
        assert rows_by_key(table(report, "activity_feedback"))[group] == (
            shown(n, p),
            shown(p, p),
            shown(satisfied, p),
            shown(helped, p),
            shown(again, p),
        ), role
    # each course's question: each person's latest answer in the period, family and training
    for course, name in (("family", "course_feedback"), ("training", "training_feedback")):
        ranked = (
            select(
                CourseFeedback.useful,
                func.row_number()
                .over(
                    partition_by=CourseFeedback.person_id,
                    order_by=(CourseFeedback.given_at.desc(), CourseFeedback.id.desc()),
                )
                .label("rank"),
            )
            .where(
                CourseFeedback.course == course,
                CourseFeedback.given_at >= LO,
                CourseFeedback.given_at < HI,
            )
            .subquery()
        )
        latest = dict(
            (
                await session.execute(
                    select(ranked.c.useful, func.count())
                    .where(ranked.c.rank == 1)
                    .group_by(ranked.c.useful)
                )
            ).all()
        )
        assert sum(latest.values()) >= 5, course
        assert rows_by_key(table(report, name)) == {
            answer: (shown(latest.get(answer, 0), latest.get(answer, 0)),)
            for answer in ("very", "somewhat", "not")
        }, course


async def test_a_small_program_shows_nothing_that_rests_on_fewer_than_five_people(
    database_url: str,
) -> None:
    db = Database(database_url, 4)
    try:
        async with db.transaction() as session:
            await populate(session, History(clients=4, relatives=3, workers=2, chats=8))
        async with db.sessions() as session:
            report = await gather(session, HISTORY.start, HISTORY.end)
    finally:
        await db.dispose()
    for t in report.tables():
        for row in t.rows:
            numbers = [v for v in row[1:] if not isinstance(v, str)]
            assert numbers == [], (t.name, row)


async def test_the_digest_shows_the_reports_figures_and_draws_its_chart(database_url: str) -> None:
    """The supervisors' digest reads the report of the week: the generated quarter's last
    week has enough urgent chats for a median, so the chart is drawn."""
    from bot.digest import week_numbers
    from flows.digest import digest_text

    db = Database(database_url, 4)
    try:
        async with db.transaction() as session:
            await populate(session, HISTORY)
        async with db.sessions() as session:
            report = await gather(session, HISTORY.start, HISTORY.end)
    finally:
        await db.dispose()
    week = week_numbers(report, reviews_waiting=3)
    urgent = table(report, "response_times").rows[0]
    assert week.urgent_claim_median == str(urgent[2])
    assert week.chats["urgent"] == str(table(report, "escalations_by_tier").rows[0][1])
    assert week.reviews_waiting == 3
    assert len(digest_text(week).parts) == 7
