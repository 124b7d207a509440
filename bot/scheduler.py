"""Scheduling as data: schedule rows with an indexed ``due_at``, claimed in batches by a tick.

No job per person: one periodic job runs ``Scheduler.tick``, which claims what is due
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several bot processes never send the same
prompt twice), decides for each row, moves its ``due_at`` on, commits, and then sends.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Select, bindparam, case, delete, false, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot
from telegram.ext import ContextTypes

from bot.activities import Activities
from bot.applying import Acting, Appliers
from bot.escalations import Escalations
from bot.host import Host
from bot.measures import Measures
from bot.rooms import Rooms
from bot.storage import checkins, recent_words
from bot.storage.family_links import active_links as family_links
from bot.storage.models import (
    CheckIn,
    Escalation,
    EscalationNote,
    EscalationReason,
    Flag,
    LessonProgress,
    Person,
    ProcessedUpdate,
    QueuedMessage,
    RelayMessage,
    RoomAttendance,
    RoomCopy,
    RoomMessage,
    Schedule,
    utcnow,
)
from bot.storage.people import view_of
from bot.supervision import Supervision
from bot.telegram.render import Outgoing
from bot.telegram.sending import Sender
from flows import flags, timers
from flows.escalation import HELD
from flows.schedule import local_date
from flows.timers import ESCALATION, FAMILY_SUMMARY, KINDS, LESSON, WEEKLY

log = logging.getLogger(__name__)

KEPT_FOR_AN_ANSWER = timedelta(days=2)


class Claimed(NamedTuple):
    """A claimed schedule row, with the facts about its person every kind needs."""

    person: Person
    kind: str
    last_local_date: date | None
    last_answered: date | None  # the last local day they answered anything
    held: bool  # a peer worker holds their chat: the bot's own messages wait
    # Which of the check-ins of the day before, of and after the tick's UTC date they
    # finished, as bits 1, 2 and 4: their local "today" is one of the three.
    finished_bits: int | None

    def finished(self, today: date, utc_today: date) -> bool:
        """Whether the check-in of their local ``today`` is already done."""
        offset = (today - utc_today).days  # -1, 0 or 1: zones are UTC-12 to UTC+14
        return -1 <= offset <= 1 and bool((self.finished_bits or 0) & (1 << (offset + 1)))

    @property
    def person_id(self) -> int:
        return self.person.id


@dataclass
class TickReport:
    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    purged: int = 0
    outgoing: list[Outgoing] = field(default_factory=list)
    # what the appliers left to make once the tick's transaction is over (weekly charts)
    deferred: list[Acting] = field(default_factory=list)


PURGE_EVERY = timedelta(hours=1)

# The tick claims schedule rows as columns, with their people, in one statement and saves the
# moved rows with one more (an executemany), instead of loading, changing and flushing 200
# ``Schedule`` objects and asking four more queries about their people (docs/benchmarks.md).


def _claim_select() -> Select[Any]:
    """Due rows joined with their people, each with the facts deciding it needs from other
    tables (correlated subqueries: index probes on the check-ins' person and day and on the
    escalations' client). Parameters: ``now``, ``batch``, and the UTC dates ``before``,
    ``on`` and ``after`` (``now``'s, and the days either side)."""
    last_answered = (
        select(func.max(CheckIn.local_date))
        .where(CheckIn.person_id == Schedule.person_id, CheckIn.mood.is_not(None))
        .scalar_subquery()
    )
    finished_bits = (
        select(
            func.sum(
                case(
                    (CheckIn.local_date == bindparam("before"), 1),
                    (CheckIn.local_date == bindparam("on"), 2),
                    else_=4,
                )
            )
        )
        .where(
            CheckIn.person_id == Schedule.person_id,
            CheckIn.local_date.between(bindparam("before"), bindparam("after")),
            CheckIn.completed_at.is_not(None),
        )
        .scalar_subquery()
    )
    held = (
        select(Escalation.id)
        .where(
            Escalation.subject_id == Schedule.person_id,
            Escalation.resolved_at.is_(None),  # what lets the one-open-per-subject index serve
            Escalation.state.in_(HELD),
        )
        .exists()
    )
    return (
        select(Person, Schedule.kind, Schedule.last_local_date, last_answered, held, finished_bits)
        .select_from(Schedule)
        .join(Person, Person.id == Schedule.person_id)
        .where(Schedule.due_at <= bindparam("now"), Schedule.kind != ESCALATION)
        .order_by(Schedule.due_at)
        .limit(bindparam("batch"))
    )


_CLAIM = _claim_select()


def _utc_date(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


async def purge_old(session: AsyncSession, now: datetime, retention_days: int) -> int:
    """Retention: free text older than the configured period is removed; old update ids too."""
    cutoff = now - timedelta(days=retention_days)
    purged = 0
    for statement in (
        update(CheckIn)
        .where(CheckIn.note.is_not(None), CheckIn.started_at < cutoff)
        .values(note=None),
        delete(EscalationNote).where(EscalationNote.at < cutoff),
        update(EscalationReason)
        .where(EscalationReason.note.is_not(None), EscalationReason.at < cutoff)
        .values(note=None),
        delete(RelayMessage).where(RelayMessage.at < cutoff),
        # Group rooms: where old copies landed, who wrote old messages and which members
        # were present go; the register keeps its counts (leaders stay named).
        delete(RoomCopy).where(RoomCopy.at < cutoff),
        update(RoomMessage)
        .where(RoomMessage.sender_id.is_not(None), RoomMessage.at < cutoff)
        .values(sender_id=None),
        update(RoomAttendance)
        .where(
            RoomAttendance.person_id.is_not(None),
            RoomAttendance.leader == false(),  # as ix_room_attendance_member_at says
            RoomAttendance.at < cutoff,
        )
        .values(person_id=None),
        delete(QueuedMessage).where(QueuedMessage.at < cutoff),
        # A worker's message nobody chose a recipient for is not sent days later.
        delete(QueuedMessage).where(
            QueuedMessage.purpose.in_(("unaddressed", "note")),
            QueuedMessage.at < now - KEPT_FOR_AN_ANSWER,
        ),
    ):
        result = await session.execute(statement)
        purged += int(getattr(result, "rowcount", 0) or 0)
    await session.execute(
        delete(ProcessedUpdate).where(ProcessedUpdate.at < now - timedelta(days=2))
    )
    return purged


class Scheduler:
    """Claims due rows and turns them into messages. Built once; ``tick`` runs periodically."""

    def __init__(
        self,
        host: Host,
        appliers: Appliers,
        escalations: Escalations,
        sender: Sender,
        supervision: Supervision,
        measures: Measures,
        activities: Activities | None = None,
        rooms: Rooms | None = None,
    ) -> None:
        self.host = host
        self.supervision = supervision
        self.measures = measures
        self.activities = activities  # None: a scheduler without activities
        self.rooms = rooms  # None: a scheduler without group rooms
        self.appliers = appliers  # the same registry that applies what updates decide
        self.escalations = escalations
        self.sender = sender
        self.db = host.db
        self.settings = host.settings
        self._last_purge: datetime | None = None
        self._draining = False

    async def tick_job(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The periodic job. A tick that claimed a full batch is followed at once by the next,
        so a crowd of prompts due at the same minute goes out at the rate limiter's pace, not
        one batch per interval; each claim stays a short transaction. While one run drains,
        the next periodic run returns at once. A failing tick is logged and retried later."""
        if self._draining:
            return
        self._draining = True
        try:
            while True:
                try:
                    report = await self.tick(context.bot, self.host.clock())
                except Exception as exc:
                    log.warning("scheduler tick failed: %s", type(exc).__name__)
                    return
                if report.claimed:
                    log.info(
                        "tick: %d due, %d sent, %d held back",
                        report.claimed,
                        report.sent,
                        report.skipped,
                    )
                # Every claimed row moves to its next due time or goes: this ends.
                if report.claimed < self.settings.tick_batch:
                    return
        finally:
            self._draining = False

    async def tick(self, bot: Bot, now: datetime | None = None) -> TickReport:
        now = now or utcnow()
        report = TickReport()
        async with self.db.transaction() as session:
            rows = await self._claim(session, now)
            report.claimed = len(rows)
            if rows:
                await self._decide(session, rows, now, report)
        async with self.db.transaction() as session:
            report.outgoing += await self.escalations.tick(session, now)
        if self.activities is not None:
            async with self.db.transaction() as session:
                report.outgoing += await self.activities.tick(session, now)
        if self.rooms is not None:
            async with self.db.transaction() as session:
                report.outgoing += await self.rooms.tick(session, now)
        async with self.db.transaction() as session:
            report.outgoing += await self.supervision.tick(session, now)
        async with self.db.transaction() as session:
            report.outgoing += await self.measures.tick(session, now)
        async with self.db.transaction() as session:
            # What people said is kept only for the crisis screen's window.
            report.purged += await recent_words.sweep(session, now)
        if self._last_purge is None or now - self._last_purge >= PURGE_EVERY:
            async with self.db.transaction() as session:
                report.purged += await purge_old(session, now, self.settings.retention_days)
            self._last_purge = now
        for firing in report.deferred:
            report.outgoing += await firing.make_deferred()
        report.sent = len(report.outgoing)
        await self.sender.send(bot, report.outgoing)
        return report

    async def _claim(self, session: AsyncSession, now: datetime) -> list[Claimed]:
        """What is due, oldest first, at most a batch, with each row's person: one round trip.
        The schedule rows stay locked until the tick's first transaction ends."""
        day = _utc_date(now)
        query = _CLAIM.params(
            now=now,
            batch=self.settings.tick_batch,
            before=day - timedelta(days=1),
            on=day,
            after=day + timedelta(days=1),
        )
        if self.db.is_postgres:
            query = query.with_for_update(of=Schedule, skip_locked=True)
        return [Claimed(*row) for row in await session.execute(query)]

    async def _decide(
        self,
        session: AsyncSession,
        rows: Sequence[Claimed],
        now: datetime,
        report: TickReport,
    ) -> None:
        """Each row's facts are loaded (by kind, in batches), the core decides, and what it
        decided is applied; the rows move on, or go, in two statements."""
        facts = await self._facts(session, rows, now)
        moves: list[dict[str, Any]] = []  # by primary key: one executemany of an UPDATE
        drops: list[tuple[int, str]] = []
        for row, due in zip(rows, facts, strict=True):
            if row.kind not in KINDS:
                log.warning("schedule row of unknown kind %s dropped", row.kind)
            timed = timers.decide(due, self.host.timing)
            report.skipped += timed.held_back
            firing = Acting(row.person, now)
            report.outgoing += await self.appliers.apply(session, timed.effects, firing)
            if firing.deferred:
                report.deferred.append(firing)
            if timed.due is None:
                drops.append((row.person_id, row.kind))
            else:
                moves.append(
                    {
                        "person_id": row.person_id,
                        "kind": row.kind,
                        "due_at": timed.due,
                        "last_local_date": timed.day,
                    }
                )
        if moves:
            await session.execute(update(Schedule), moves)
        if drops:  # no Schedule objects are loaded in a tick: none to synchronise
            await session.execute(
                delete(Schedule)
                .where(tuple_(Schedule.person_id, Schedule.kind).in_(drops))
                .execution_options(synchronize_session=False)
            )

    # -- the facts each kind needs, loaded for a whole batch ----------------------------------

    async def _facts(
        self, session: AsyncSession, rows: Sequence[Claimed], now: datetime
    ) -> list[timers.Due]:
        def ids(kind: str) -> list[int]:
            return [row.person_id for row in rows if row.kind == kind]

        history: dict[int, list[flags.DayRecord]] = {}
        if weekly := ids(WEEKLY):
            earliest = min(local_date(now, row.person.timezone) for row in rows)
            history = await checkins.records(session, weekly, earliest - timedelta(days=29))
        progress, practice = await self._lesson_facts(session, ids(LESSON), now)
        shared = await self._shared_lights(session, ids(FAMILY_SUMMARY))
        utc_today = _utc_date(now)
        return [
            timers.Due(
                kind=row.kind,
                person=replace(
                    view_of(row.person),
                    numbers=self.host.lines.numbers_for(row.person.region),
                ),
                now=now,
                last_local_date=row.last_local_date,
                last_answered=row.last_answered,
                finished_today=row.finished(local_date(now, row.person.timezone), utc_today),
                held=row.held,
                blocked=row.person.blocked_at is not None,
                onboarded_on=row.person.onboarded_at.date() if row.person.onboarded_at else None,
                history=tuple(history.get(row.person_id, ())),
                progress=progress.get(row.person_id, {}),
                practice_due=practice.get(row.person_id, ()),
                shared=shared.get(row.person_id, ()),
            )
            for row in rows
        ]

    @staticmethod
    async def _lesson_facts(
        session: AsyncSession, people: list[int], now: datetime
    ) -> tuple[dict[int, dict[str, str]], dict[int, tuple[str, ...]]]:
        """How far each relative is in the course, and the lessons they finished a week ago
        or more whose practice task they were not asked about yet."""
        progress: dict[int, dict[str, str]] = {}
        practice: dict[int, tuple[str, ...]] = {}
        if not people:
            return progress, practice
        rows = (
            await session.scalars(
                select(LessonProgress)
                .where(LessonProgress.person_id.in_(people))
                .order_by(LessonProgress.completed_at)
            )
        ).all()
        week_ago = now - timedelta(days=7)
        for row in rows:
            progress.setdefault(row.person_id, {})[row.lesson] = (
                "done" if row.completed_at else "started"
            )
            if (
                row.completed_at is not None
                and row.completed_at <= week_ago
                and row.practice_asked_at is None
            ):
                practice[row.person_id] = (*practice.get(row.person_id, ()), row.lesson)
        return progress, practice

    @staticmethod
    async def _shared_lights(
        session: AsyncSession, people: list[int]
    ) -> dict[int, tuple[tuple[timers.FlagSpan, ...], ...]]:
        """For each relative, the flags of every client who shares the weekly summary with
        them (one tuple per client, in link order): two queries for the whole batch."""
        if not people:
            return {}
        links = [
            link for link in await family_links(session, family_ids=people) if link.share_summary
        ]
        spans: dict[int, list[timers.FlagSpan]] = {link.client_id: [] for link in links}
        if spans:
            for flag in await session.scalars(select(Flag).where(Flag.person_id.in_(list(spans)))):
                spans[flag.person_id].append(timers.FlagSpan(flag.raised_at, flag.cleared_at))
        shared: dict[int, tuple[tuple[timers.FlagSpan, ...], ...]] = {}
        for link in links:
            assert link.family_id is not None  # joined links only: they name the relative
            shared[link.family_id] = (*shared.get(link.family_id, ()), tuple(spans[link.client_id]))
        return shared
