"""Scheduling as data: schedule rows with an indexed ``due_at``, claimed in batches by a tick.

No job per person: one periodic job runs ``Scheduler.tick``, which claims what is due
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several bot processes never send the same
prompt twice), decides for each row, moves its ``due_at`` on, commits, and then sends.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Table, bindparam, case, delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Bot
from telegram.ext import ContextTypes

from bot.family import active_links as family_links
from bot.storage import checkins, flag_store
from bot.storage.models import (
    CheckIn,
    Escalation,
    EscalationNote,
    EscalationReason,
    LessonProgress,
    Person,
    ProcessedUpdate,
    QueuedMessage,
    RelayMessage,
    Schedule,
    utcnow,
)
from bot.storage.schedules import (
    CHECKIN,
    FAMILY_SUMMARY,
    LESSON,
    REMINDER,
    WEEKLY,
    next_lesson_due,
)
from bot.telegram.render import Outgoing, SendText
from flows import crisis, flags
from flows.effects import Choice
from flows.escalation import HELD
from flows.family import next_lesson
from flows.lessons.course import lesson_by_slug, lesson_text
from flows.schedule import local_date, next_daily, next_weekly, shifted
from flows.text import N_, Lines, Msg, Text, msg

if TYPE_CHECKING:
    from bot.telegram.dispatch import Dispatcher

log = logging.getLogger(__name__)

KEPT_FOR_AN_ANSWER = timedelta(days=2)
START = Choice(Msg(N_("checkin.prompt.start")), "/checkin")
LATER = Choice(Msg(N_("checkin.prompt.later")), "/later")


class Due(NamedTuple):
    """A claimed schedule row, with what deciding it needs to know about its person."""

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
    flags: int = 0
    purged: int = 0
    outgoing: list[Outgoing] = field(default_factory=list)


PURGE_EVERY = timedelta(hours=1)

# The tick claims rows of the schedule table with their people in one statement and saves
# the moved rows with one more (executemany), instead of loading, changing and flushing
# 200 ORM objects and asking four more queries about their people (docs/benchmarks.md).
SCHEDULES: Table = Schedule.__table__  # type: ignore[assignment]


def _claim_select() -> Select[Any]:
    """Due rows joined with their people, each with the facts deciding it needs from other
    tables (correlated subqueries: index probes on the check-ins' person and day and on the
    escalations' client). Parameters: ``now``, ``batch``, and the UTC dates ``before``,
    ``on`` and ``after`` (``now``'s, and the days either side)."""
    columns = SCHEDULES.c
    last_answered = (
        select(func.max(CheckIn.local_date))
        .where(CheckIn.person_id == columns.person_id, CheckIn.mood.is_not(None))
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
            CheckIn.person_id == columns.person_id,
            CheckIn.local_date.between(bindparam("before"), bindparam("after")),
            CheckIn.completed_at.is_not(None),
        )
        .scalar_subquery()
    )
    held = (
        select(Escalation.id)
        .where(
            Escalation.subject_id == columns.person_id,
            Escalation.resolved_at.is_(None),  # what lets the one-open-per-subject index serve
            Escalation.state.in_(HELD),
        )
        .exists()
    )
    return (
        select(Person, columns.kind, columns.last_local_date, last_answered, held, finished_bits)
        .select_from(SCHEDULES)
        .join(Person, Person.id == columns.person_id)
        .where(columns.due_at <= bindparam("now"))
        .order_by(columns.due_at)
        .limit(bindparam("batch"))
    )


_CLAIM = _claim_select()


def _utc_date(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


_MOVE = (
    update(SCHEDULES)
    .where(SCHEDULES.c.person_id == bindparam("s_person"), SCHEDULES.c.kind == bindparam("s_kind"))
    .values(due_at=bindparam("s_due"), last_local_date=bindparam("s_day"))
)


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

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.db = dispatcher.db
        self.settings = dispatcher.settings
        self.translator = dispatcher.translator
        self.rules = dispatcher.flag_rules
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
                    report = await self.tick(context.bot, self.dispatcher.clock())
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
        charts: list[tuple[Person, list[flags.DayRecord], date]] = []
        async with self.db.transaction() as session:
            rows = await self._claim(session, now)
            report.claimed = len(rows)
            if rows:
                await self._decide(session, rows, now, report, charts)
        async with self.db.transaction() as session:
            report.outgoing += await self.dispatcher.tick_escalations(session, now)
        if self._last_purge is None or now - self._last_purge >= PURGE_EVERY:
            async with self.db.transaction() as session:
                report.purged = await purge_old(session, now, self.settings.retention_days)
            self._last_purge = now
        for person, records, today in charts:
            report.outgoing.append(await self.dispatcher.weekly_photo(person, records, today))
        report.sent = len(report.outgoing)
        await self.dispatcher.send(bot, report.outgoing)
        return report

    async def _claim(self, session: AsyncSession, now: datetime) -> list[Due]:
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
            query = query.with_for_update(of=SCHEDULES, skip_locked=True)
        return [Due(*row) for row in await session.execute(query)]

    async def _decide(
        self,
        session: AsyncSession,
        rows: Sequence[Due],
        now: datetime,
        report: TickReport,
        charts: list[tuple[Person, list[flags.DayRecord], date]],
    ) -> None:
        weekly_ids = [row.person_id for row in rows if row.kind == WEEKLY]
        history: dict[int, list[flags.DayRecord]] = {}
        if weekly_ids:
            earliest = min(local_date(now, row.person.timezone) for row in rows)
            history = await checkins.records(session, weekly_ids, earliest - timedelta(days=29))
        moves: list[dict[str, Any]] = []
        drops: list[tuple[int, str]] = []
        for row in rows:
            due, day = await self._decide_row(session, row, now, report, charts, history)
            if due is None:
                drops.append((row.person_id, row.kind))
            else:
                moves.append(
                    {"s_person": row.person_id, "s_kind": row.kind, "s_due": due, "s_day": day}
                )
        if moves:
            await session.execute(_MOVE, moves)
        if drops:
            await session.execute(
                delete(SCHEDULES).where(tuple_(SCHEDULES.c.person_id, SCHEDULES.c.kind).in_(drops))
            )

    async def _decide_row(
        self,
        session: AsyncSession,
        row: Due,
        now: datetime,
        report: TickReport,
        charts: list[tuple[Person, list[flags.DayRecord], date]],
        history: dict[int, list[flags.DayRecord]],
    ) -> tuple[datetime | None, date | None]:
        """What one due row brings (appended to ``report`` and ``charts``), and where the row
        goes next: its new due time and last prompted local day, or ``None`` to drop it."""
        person = row.person
        today = local_date(now, person.timezone)
        quiet_now = self.dispatcher.rules.is_quiet(now.astimezone(ZoneInfo(person.timezone)).time())
        blocked = person.blocked_at is not None
        waiting = person.paused or blocked or row.held or quiet_now
        kind = row.kind
        if kind in (CHECKIN, REMINDER):
            already = row.finished(today, _utc_date(now)) or row.last_local_date == today
            if not waiting and not already:
                report.outgoing.append(self._prompt(person, kind, today, row.last_answered))
                if kind == CHECKIN:
                    report.outgoing += await self._silence(
                        session, person, today, row.last_answered, now, report
                    )
            else:
                report.skipped += 1
            assert person.checkin_time is not None
            clock = (
                person.checkin_time
                if kind == CHECKIN
                else shifted(
                    person.checkin_time, timedelta(minutes=self.settings.reminder_after_minutes)
                )
            )
            if clock is None:
                return None, None
            return next_daily(clock, person.timezone, now, skip_day=today), today
        if kind == WEEKLY:
            if not waiting and person.checkin_time is not None:
                charts.append((person, history.get(person.id, []), today))
            else:
                report.skipped += 1
            assert person.checkin_time is not None
            due = next_weekly(
                self.settings.weekly_summary_day, person.checkin_time, person.timezone, now
            )
            return due, row.last_local_date
        if kind == LESSON:
            next_lesson = next_lesson_due(person, now)
            if next_lesson is None:  # no lesson day left (or no time): nothing to send; it goes
                return None, None
            if not waiting:
                report.outgoing += await self._lesson(session, person, now)
            else:
                report.skipped += 1
            return next_lesson, row.last_local_date
        if kind == FAMILY_SUMMARY:
            if not waiting:
                report.outgoing += await self._family_summary(session, person, now)
            assert person.checkin_time is not None
            due = next_weekly(
                self.settings.weekly_summary_day, person.checkin_time, person.timezone, now
            )
            return due, row.last_local_date
        log.warning("schedule row of unknown kind %s dropped", kind)
        return None, None

    def _render(
        self, person: Person, text: Text, choices: tuple[Choice, ...] = (), columns: int = 2
    ) -> SendText:
        return self.dispatcher.renderer.message(person, text, choices, columns)

    async def _lesson(self, session: AsyncSession, person: Person, now: datetime) -> list[Outgoing]:
        """Today's lesson, and a week-later question about an earlier lesson's practice task."""
        out: list[Outgoing] = []
        week_ago = now - timedelta(days=7)
        due_followups = (
            await session.scalars(
                select(LessonProgress).where(
                    LessonProgress.person_id == person.id,
                    LessonProgress.completed_at <= week_ago,
                    LessonProgress.practice_asked_at.is_(None),
                )
            )
        ).all()
        for row in due_followups[:1]:
            lesson = lesson_by_slug(row.lesson)
            row.practice_asked_at = now
            if lesson is None:
                continue
            out.append(
                self._render(
                    person,
                    Lines(
                        (
                            Msg(N_("practice.ask")),
                            lesson_text(
                                lesson.practice, self.dispatcher.lines.numbers_for(person.region)
                            ),
                        )
                    ),
                    (
                        Choice(Msg(N_("practice.tried")), f"/practice {lesson.slug} yes"),
                        Choice(Msg(N_("practice.not_tried")), f"/practice {lesson.slug} no"),
                    ),
                )
            )
        progress = await self.dispatcher.family.progress(session, person.id)
        lesson = next_lesson(progress)
        if lesson is None:
            return out
        out.append(
            self._render(
                person,
                msg(N_("lesson.prompt"), title=Msg(lesson.title), summary=Msg(lesson.summary)),
                (
                    Choice(Msg(N_("lesson.start")), f"/lesson {lesson.slug}"),
                    Choice(Msg(N_("lesson.later")), "/lessons"),
                ),
            )
        )
        return out

    async def _family_summary(
        self, session: AsyncSession, person: Person, now: datetime
    ) -> list[Outgoing]:
        """Green, amber or red for each relative who chose to share it — nothing more."""
        out: list[Outgoing] = []
        for link in await family_links(session, family_id=person.id):
            if not link.share_summary:
                continue
            colour = await self.dispatcher.family.traffic_light(session, link.client_id, now)
            text_id = {
                "green": N_("family.summary.green"),
                "amber": N_("family.summary.amber"),
                "red": N_("family.summary.red"),
            }[colour]
            numbers = crisis.emergency_inline(self.dispatcher.lines.numbers_for(person.region))
            out.append(self._render(person, msg(text_id, emergency=numbers)))
        return out

    def _prompt(self, person: Person, kind: str, today: date, last: date | None) -> SendText:
        if kind == REMINDER:
            text_id = N_("checkin.reminder")
        elif last is not None and flags.silence(last, today, self.rules) is not None:
            text_id = N_("checkin.prompt.after_a_while")
        else:
            text_id = N_("checkin.prompt")
        return self._render(person, Msg(text_id), (START, LATER))

    async def _silence(
        self,
        session: AsyncSession,
        person: Person,
        today: date,
        last: date | None,
        now: datetime,
        report: TickReport,
    ) -> list[Outgoing]:
        since = person.onboarded_at.date() if person.onboarded_at else today
        hit = flags.silence_hit(last, today, self.rules, since=since)
        if hit is None:
            return []
        raised = await flag_store.apply(session, person, [hit], now, rules={"silence"})
        report.flags += len(raised)
        return await self.dispatcher.flags_raised(session, person, raised, now)
