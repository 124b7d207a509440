"""A program's history as rows, for the report (``tongban report``) and its tests: clients,
relatives and peer workers who went through onboarding (as ``bench.population`` makes
clients), with a quarter of check-ins, flags, chats with a person and their event log,
ratings, family lessons and the course's feedback, coping cards, peer activities with their
attendance and feedback, debriefs, supervision, and WHO-5 and alliance answers. Seeded, so a
test and a rendered report see the same program. Some groups are deliberately small, so the
report's suppression of cells under five people is exercised."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bench.population import alias
from bot.report import Report
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
from flows.escalation import SOURCE_TIERS
from flows.lessons.course import COURSE
from flows.lessons.training import TRAINING

# Minutes to claim, by tier: (median-ish, spread) of a log-normal.
CLAIM_MINUTES = {"urgent": (2.0, 0.8), "same_day": (35.0, 0.9), "routine": (300.0, 0.9)}
SOURCES = {
    "urgent": ("crisis", "crisis", "crisis", "family_danger"),
    "same_day": ("request", "request", "family"),
    "routine": ("flag", "flag", "silence", "concern"),
}


@dataclass(frozen=True)
class History:
    start: date = date(2026, 10, 1)
    end: date = date(2026, 12, 31)
    clients: int = 80
    relatives: int = 30
    workers: int = 6
    chats: int = 160
    seed: int = 21

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def moment(self, rng: random.Random) -> datetime:
        day = self.start + timedelta(days=rng.randrange(self.days))
        return datetime.combine(day, time(rng.randrange(24), rng.randrange(60)), UTC)


async def populate(session: AsyncSession, history: History = History()) -> None:
    """Write the history into an empty, migrated database."""
    rng = random.Random(history.seed)
    before = datetime.combine(history.start - timedelta(days=20), time(9), UTC)
    people: list[Person] = []

    def person(role: str, index: int, onboarded: datetime, name: str | None = None) -> Person:
        row = Person(
            telegram_user_id=10_000 + len(people),
            chat_id=10_000 + len(people),
            role=role,
            locale=rng.choice(("en", "zh_Hans", "zh_Hant")),
            timezone="UTC",
            region="CN",
            alias=name or alias(len(people)),
            on_duty=role == "peer_worker",
            consented_at=onboarded,
            onboarded_at=onboarded,
            created_at=onboarded,
        )
        people.append(row)
        return row

    # Most clients joined before the quarter; some during it (their days count from then).
    clients = [
        person("client", i, before if i % 4 else history.moment(rng))
        for i in range(history.clients)
    ]
    relatives = [person("family", i, before) for i in range(history.relatives)]
    workers = [person("peer_worker", i, before, f"Worker{i}") for i in range(history.workers)]
    supervisor = person("supervisor", 0, before, "Super")
    session.add_all(people)
    await session.flush()

    for client in clients:
        assert client.onboarded_at is not None
        adherence = rng.uniform(0.2, 1.0)
        first = max(history.start, client.onboarded_at.date())
        for offset in range((history.end - first).days + 1):
            day = first + timedelta(days=offset)
            if rng.random() < adherence:
                at = datetime.combine(day, time(19), UTC)
                session.add(
                    CheckIn(
                        person_id=client.id,
                        local_date=day,
                        started_at=at,
                        completed_at=at + timedelta(minutes=2),
                        mood=rng.randint(1, 5),
                    )
                )
            elif rng.random() < 0.1:  # started, not finished
                at = datetime.combine(day, time(19), UTC)
                session.add(CheckIn(person_id=client.id, local_date=day, started_at=at))

    rules = ("sleep_drop", "mood_low", "missed_medication")
    for i in range(45):
        raised = history.moment(rng)
        rule = "silence" if i < 3 else rng.choice(rules)  # silence: three people only
        session.add(
            Flag(
                person_id=clients[i % len(clients)].id,
                rule=rule,
                evidence=["…"],
                summary={},
                raised_at=raised,
                cleared_at=raised + timedelta(days=3) if rng.random() < 0.6 else None,
                escalation_id=1 if rng.random() < 0.5 else None,
            )
        )

    subjects = clients + relatives
    for _ in range(history.chats):
        tier = rng.choices(("urgent", "same_day", "routine"), weights=(2, 5, 3))[0]
        source = rng.choice(SOURCES[tier])
        assert SOURCE_TIERS[source].value == tier
        subject = rng.choice(subjects if source != "silence" else clients)
        opened = history.moment(rng)
        worker = rng.choice(workers)
        mu, sigma = CLAIM_MINUTES[tier]
        claim = timedelta(minutes=rng.lognormvariate(0, sigma) * mu)
        reply = claim + timedelta(minutes=rng.lognormvariate(0, 0.7) * 3)
        answered = rng.random() < 0.9
        resolved = opened + reply + timedelta(minutes=40)
        esc = Escalation(
            subject_id=subject.id,
            ref="abc123",
            tier=tier,
            state="resolved",
            opened_at=opened,
            claimed_by=worker.id,
            claimed_at=opened + claim,
            reminders=0,
            resolved_at=resolved,
            outcome="resolved",
            rating=rng.randint(2, 5) if rng.random() < 0.7 else None,
        )
        session.add(esc)
        await session.flush()
        session.add(
            EscalationReason(escalation_id=esc.id, source=source, tier=tier, detail={}, at=opened)
        )
        if rng.random() < 0.2:
            session.add(
                EscalationReason(
                    escalation_id=esc.id, source="request", tier="same_day", detail={}, at=opened
                )
            )
        log = [("opened", opened, None), ("claimed", opened + claim, worker.id)]
        if answered:
            log.append(("first_reply", opened + reply, worker.id))
        if claim > timedelta(minutes=5) and tier == "urgent":
            log.append(("overdue", opened + timedelta(minutes=5), None))
        log.append(("resolved", resolved, worker.id))
        for kind, at, actor in log:
            session.add(
                EscalationEvent(escalation_id=esc.id, kind=kind, actor_id=actor, detail={}, at=at)
            )
        if source in ("crisis", "family_danger") and rng.random() < 0.8:
            session.add(
                Debrief(
                    escalation_id=esc.id,
                    worker_id=worker.id,
                    answer=rng.choices(("ok", "shaken", "call"), weights=(6, 3, 1))[0],
                    at=resolved + timedelta(minutes=1),
                )
            )
        if rng.random() < 0.1:
            session.add(
                ReviewRequest(
                    escalation_id=esc.id,
                    worker_id=worker.id,
                    worker_alias=worker.alias,
                    requested_at=resolved + timedelta(minutes=5),
                    taken_by=supervisor.id if rng.random() < 0.7 else None,
                    taken_at=resolved + timedelta(hours=5),
                )
            )
    for i in range(24):
        session.add(
            SupervisionNote(
                worker_id=workers[i % len(workers)].id,
                author_id=supervisor.id,
                author_alias=supervisor.alias,
                text="…",
                at=history.moment(rng),
            )
        )
    for relative in relatives:
        for lesson in COURSE[: rng.randint(0, 8)]:
            started = history.moment(rng)
            asked = started + timedelta(days=7)
            session.add(
                LessonProgress(
                    person_id=relative.id,
                    lesson=lesson.slug,
                    started_at=started,
                    completed_at=started + timedelta(minutes=6),
                    practice_asked_at=asked if asked.date() <= history.end else None,
                    practice_tried=True,
                    practice_helped=rng.choice(("yes", "some", "no"))
                    if asked.date() <= history.end
                    else None,
                )
            )
    for relative in relatives[: history.relatives * 2 // 3]:
        given = history.moment(rng)
        for _ in range(rng.randint(1, 2)):  # a second answer replaces the first
            session.add(
                CourseFeedback(
                    person_id=relative.id,
                    useful=rng.choices(("very", "somewhat", "not"), weights=(5, 3, 1))[0],
                    given_at=given,
                )
            )
            given += timedelta(days=rng.randint(1, 20))
    for client in clients[: history.clients // 2]:
        for _ in range(rng.randint(1, 4)):
            answered = rng.random() < 0.7
            shown_at = history.moment(rng)
            session.add(
                CopingCard(
                    person_id=client.id,
                    card=rng.choice(list(CARDS)),
                    source=rng.choice(("checkin", "library")),
                    shown_at=shown_at,
                    helped=rng.choice(("yes", "some", "no")) if answered else None,
                    answered_at=shown_at + timedelta(minutes=3) if answered else None,
                )
            )
    # Half the clients and relatives come to peer activities; one activity is cancelled and
    # one has only a draft record (neither was held).
    pool = clients[: history.clients // 2] + relatives[: history.relatives // 2]
    for i in range(14):
        starts = history.moment(rng)
        activity = Activity(
            title="…",
            kind=rng.choice(list(KINDS)),
            starts_at=starts,
            minutes=90,
            place="centre",
            online=False,
            capacity=12,
            audience="both",
            language="zh_Hans",
            zone="Asia/Shanghai",
            created_by=workers[i % len(workers)].id,
            cancelled_at=starts - timedelta(days=1) if i == 0 else None,
        )
        session.add(activity)
        await session.flush()
        came = rng.sample(pool, min(len(pool), rng.randint(3, 10)))
        session.add(
            ActivityRecord(
                activity_id=activity.id,
                filed_by=workers[i % len(workers)].id,
                filed_at=None if i == 1 else starts + timedelta(hours=2),
                minutes=90,
                attended=len(came),
                problem="none",
            )
        )
        for attendee in came:
            session.add(
                ActivityAttendance(
                    activity_id=activity.id,
                    person_id=attendee.id,
                    role=attendee.role,
                    marked_by=workers[i % len(workers)].id,
                    marked_at=starts,
                )
            )
            if rng.random() < 0.6:
                session.add(
                    ActivityFeedback(
                        activity_id=activity.id,
                        person_id=attendee.id,
                        role=attendee.role,
                        satisfaction=rng.randint(2, 5),
                        helped=rng.randint(2, 5),
                        again=rng.choice(("yes", "maybe", "no")),
                        at=starts + timedelta(hours=3),
                    )
                )
        # someone who came and erased their data since: kept without them
        session.add(
            ActivityAttendance(
                activity_id=activity.id, person_id=None, role="client", marked_at=starts
            )
        )
    for client in clients[:50]:
        level = rng.randint(20, 70)
        for week in range(0, rng.randint(1, 3) * 4, 4):
            at = datetime.combine(history.start + timedelta(weeks=week + 1), time(12), UTC)
            answers = [max(0, min(5, round(level / 20 + rng.uniform(-1, 1)))) for _ in range(5)]
            session.add(
                MeasureAnswer(
                    person_id=client.id,
                    measure="who5",
                    answers=answers,
                    score=sum(answers) * 4,
                    at=at,
                )
            )
            level += rng.randint(-5, 15)
    for client in clients[:24]:
        answers = [rng.randint(3, 5) for _ in range(3)]
        session.add(
            MeasureAnswer(
                person_id=client.id,
                measure="alliance",
                worker_id=rng.choice(workers).id,
                answers=answers,
                score=round(sum(answers) * 20 / 3),
                at=history.moment(rng),
            )
        )
    # The training course: five workers finish it in the quarter (one began before it), one
    # is part way, the supervisor has read three lessons.
    for n, member in enumerate([*workers, supervisor]):
        lessons = TRAINING.lessons if n < 5 else TRAINING.lessons[: 2 if n == 5 else 3]
        for k, lesson in enumerate(lessons):
            done = history.moment(rng)
            if n == 0 and k == 0:
                done = datetime.combine(history.start - timedelta(days=3), time(10), UTC)
            session.add(
                TrainingProgress(
                    person_id=member.id,
                    lesson=lesson.slug,
                    started_at=done - timedelta(minutes=6),
                    completed_at=done,
                    answered_correctly=rng.random() < 0.8,
                )
            )
        if n < 5:  # the end of the course asks how useful it was
            session.add(
                CourseFeedback(
                    person_id=member.id,
                    useful="very",
                    given_at=done + timedelta(minutes=1),
                    course="training",
                )
            )
    await session.flush()


async def generated_report() -> Report:
    """The generated quarter's report, made in a scratch SQLite database."""
    import tempfile

    from bot.report import gather
    from bot.storage.db import Database
    from bot.storage.migrate import upgrade

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite+aiosqlite:///{scratch}/report.db"
        await asyncio.to_thread(upgrade, url)
        db = Database(url, 4)
        try:
            async with db.transaction() as session:
                await populate(session)
            async with db.sessions() as session:
                return await gather(session, History().start, History().end)
        finally:
            await db.dispose()


def render(folder: str) -> None:
    """The generated quarter's report as ``folder``/report.html and its CSV files, for
    docs/img/report.png (a whole-page screenshot by Debian's chromium in headless mode; the
    command is in docs/report.md)."""
    from pathlib import Path

    from bot.report import to_html, write_csv

    report = asyncio.run(generated_report())
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.html").write_text(to_html(report), encoding="utf-8")
    write_csv(report, out / "csv")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        description="Write the generated quarter's report (report.html and csv/) into a folder."
    )
    parser.add_argument("folder", nargs="?", default="report-out")
    render(parser.parse_args().folder)
