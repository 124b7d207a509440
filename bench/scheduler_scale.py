"""Scheduler scaling on PostgreSQL: the cost of one tick with 10,000 to 1,000,000 clients.

Clients are made with ``COPY`` (``bench.population``): a person, a flow row, schedule rows
(check-in, reminder when it is not in quiet hours, weekly summary) computed with the
project's own ``flows.schedule`` functions, one completed check-in yesterday, and two
warning signs answered yesterday for every tenth client. Check-in times are spread evenly
over the day (UTC) across five time zones, at local times outside quiet hours.

Each timed tick is ``bot.scheduler.Scheduler.tick`` itself, at a moment chosen so that
exactly ``tick_batch`` (200 by default) rows are due that no earlier tick claimed: a full batch, the
most one tick does, whatever the table size. It claims them (``FOR UPDATE SKIP LOCKED``),
decides for each (the person, today's check-ins, last check-in days, quiet hours), renders
the prompts, moves ``due_at`` on, commits, and sends through the lean fake transport.

Reported per size:

- *claim query*: the scheduler's own ``_claim`` in a transaction that is rolled back
  (nothing claimed), i.e. the SQL round trip and ORM loading of a batch of rows;
- *tick without sending*: the tick minus the time spent in ``Sender.send`` (claim,
  decide, render, commit: what holds the rows);
- *tick*: the whole tick, including handing a batch of messages to PTB's Bot on the fake transport;
- *30-second tick*: a whole tick at 30 s after the next row falls due, i.e. what the
  periodic job finds at this size (grows with the number of clients until a full batch);
- *empty tick*: a tick when nothing is due (the fixed cost paid every 30 s);
- *hourly purge*: ``purge_old``, which the tick runs once an hour (timed ticks skip it);
- *weekly chart*: one ``bot.weekly.weekly_photo`` (four weeks of answers): a Sunday tick
  makes one per client whose summary is due (timed ticks fall on a Wednesday).

``EXPLAIN (ANALYZE, BUFFERS)`` of every statement a tick runs is captured at the largest
size (the claim query first) for ``docs/benchmarks.md``.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, text
from telegram import Bot

from bench.population import Population, insert
from bench.throughput import bench_settings, in_process_bot, stop_bot
from bot.app import Services
from bot.sandbox.in_memory import InMemoryBotAPI
from bot.scheduler import Scheduler, purge_old
from bot.storage import checkins
from bot.storage.models import Person
from bot.telegram.outbox import Delivery
from bot.telegram.render import Outgoing
from bot.telegram.sending import Sender
from bot.weekly import weekly_photo
from flows.flags import DayRecord


class _Rollback(Exception):
    """Raised to end a transaction without committing."""


class TimedSender(Sender):
    """The bot's sending path, adding up the time spent in it: the rest of a tick is what
    holds the claimed rows."""

    def __init__(self, sender: Sender) -> None:
        super().__init__(sender.host, sender.appliers, sender.escalations)
        self.seconds = 0.0

    async def send(self, bot: Bot, outgoing: Sequence[Outgoing]) -> list[Delivery]:
        started = time.perf_counter()
        try:
            return await super().send(bot, outgoing)
        finally:
            self.seconds += time.perf_counter() - started


@dataclass
class ScaleResult:
    clients: int
    schedule_rows: int
    insert_seconds: float
    claim_ms: list[float] = field(default_factory=list)
    decide_ms: list[float] = field(default_factory=list)
    tick_ms: list[float] = field(default_factory=list)
    window_ms: list[float] = field(default_factory=list)
    window_claimed: list[int] = field(default_factory=list)
    empty_ms: list[float] = field(default_factory=list)
    purge_ms: list[float] = field(default_factory=list)
    chart_ms: list[float] = field(default_factory=list)
    claimed: list[int] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    plans: list[tuple[str, str]] = field(default_factory=list)
    table_sizes: dict[str, str] = field(default_factory=dict)


class SchedulerBench:
    def __init__(self, database_url: str, clients: int) -> None:
        self.url = database_url
        self.clients = clients
        self.settings = bench_settings(database_url, log_level="WARNING")
        self.population = Population(clients=clients)
        self.api = InMemoryBotAPI(record=False)
        self.services: Services | None = None
        self.scheduler: Scheduler | None = None
        self.sender: TimedSender | None = None

    async def start(self) -> float:
        seconds = await insert(self.url, self.population, self.settings)
        self.services = await in_process_bot(self.settings, self.api)
        # The bot's own scheduler, made as ``bot.app.build`` makes it, with a sender that
        # times itself.
        self.sender = TimedSender(self.services.scheduler.sender)
        dispatcher = self.services.dispatcher
        self.scheduler = Scheduler(
            self.services.host,
            dispatcher.appliers,
            dispatcher.escalations,
            self.sender,
            dispatcher.supervision,
            dispatcher.measures,
            dispatcher.activities,
        )
        return seconds

    async def stop(self) -> None:
        await stop_bot(self.services)

    async def _scalar(self, sql: str, **params: Any) -> Any:
        assert self.services is not None
        async with self.services.db.transaction() as session:
            return (await session.execute(text(sql), params)).scalar()

    async def due_moment(self, nth: int) -> datetime:
        """The moment at which the ``nth`` unclaimed row (in due order) falls due."""
        moment = await self._scalar(
            "SELECT due_at FROM schedules WHERE due_at > :after ORDER BY due_at OFFSET :n LIMIT 1",
            after=self.population.now,
            n=nth - 1,
        )
        assert isinstance(moment, datetime)
        return moment

    async def claim_only(self, now: datetime) -> float:
        """The scheduler's claim query, rolled back; milliseconds."""
        assert self.services is not None and self.scheduler is not None
        elapsed = 0.0
        try:
            async with self.services.db.transaction() as session:
                started = time.perf_counter()
                rows = await self.scheduler._claim(session, now)
                elapsed = time.perf_counter() - started
                assert len(rows) == self.settings.tick_batch, len(rows)
                raise _Rollback
        except _Rollback:
            pass
        return 1000 * elapsed

    async def tick(self, now: datetime) -> tuple[float, float, int, int]:
        """One tick at ``now`` without the hourly purge: (ms, ms without sending, claimed, sent)."""
        assert self.services is not None and self.scheduler is not None
        assert self.sender is not None
        self.scheduler._last_purge = now  # the purge is measured on its own
        self.sender.seconds = 0.0
        started = time.perf_counter()
        report = await self.scheduler.tick(self.services.application.bot, now)
        elapsed = time.perf_counter() - started
        return 1000 * elapsed, 1000 * (elapsed - self.sender.seconds), report.claimed, report.sent

    async def chart(self) -> float:
        """One weekly summary chart (four weeks of answers), as a Sunday tick makes it; ms."""
        assert self.services is not None
        today = self.population.now.date()
        records = [
            DayRecord(today - timedelta(days=n), 1 + n % 5, n % 5 - 2, "taken", n % 2)
            for n in range(28, 0, -1)
        ]
        async with self.services.db.transaction() as session:
            person = await session.get(Person, 1)
        assert person is not None
        started = time.perf_counter()
        await weekly_photo(self.services.translator, person, records, today)
        return 1000 * (time.perf_counter() - started)

    async def purge(self, now: datetime) -> float:
        assert self.services is not None
        elapsed = 0.0
        try:
            async with self.services.db.transaction() as session:
                started = time.perf_counter()
                await purge_old(session, now, self.settings.retention_days)
                elapsed = time.perf_counter() - started
                raise _Rollback
        except _Rollback:
            pass
        return 1000 * elapsed

    async def explain_tick(self, now: datetime) -> list[tuple[str, str]]:
        """EXPLAIN (ANALYZE, BUFFERS) of each statement a tick at ``now`` runs, then of the
        weekly-summary history query a Sunday tick adds (``checkins.records``, 200 people)
        and of the hourly purge.

        The tick itself commits; each EXPLAIN ANALYZE runs in a transaction rolled back.
        """
        assert self.services is not None
        captured: list[tuple[str, Any]] = []
        engine = self.services.db.engine.sync_engine

        def capture(
            _conn: Any, _cursor: Any, statement: str, params: Any, _context: Any, many: bool
        ) -> None:
            if not many and statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE")):
                captured.append((statement, tuple(params or ())))

        event.listen(engine, "before_cursor_execute", capture)
        try:
            await self.tick(now)
            weekly_from = len(captured)
            since = self.population.now.date() - timedelta(days=29)
            async with self.services.db.transaction() as session:
                await checkins.records(session, list(range(1, 201)), since)
            purge_from = len(captured)
            await self.purge(now)
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        plans: list[tuple[str, str]] = []
        seen: set[str] = set()
        for index, (statement, params) in enumerate(captured):
            if statement in seen:
                continue
            seen.add(statement)
            if index >= purge_from:
                label = "-- the hourly purge (purge_old)\n"
            elif index >= weekly_from:
                label = "-- Sunday ticks: weekly summaries' history (checkins.records)\n"
            else:
                label = ""
            plans.append((label + statement, await self._explain(statement, params)))
        return plans

    async def _explain(self, statement: str, params: Any) -> str:
        assert self.services is not None
        lines: list[str] = []
        try:
            async with self.services.db.engine.connect() as conn:
                raw = await conn.get_raw_connection()
                driver = raw.driver_connection
                assert driver is not None
                async with driver.transaction():
                    rows = await driver.fetch("EXPLAIN (ANALYZE, BUFFERS) " + statement, *params)
                    lines = [row[0] for row in rows]
                    raise _Rollback
        except _Rollback:
            pass
        return "\n".join(lines)

    async def sizes(self) -> dict[str, str]:
        sizes = {}
        for table in ("people", "flow_states", "schedules", "checkins", "checkin_signs"):
            rows = await self._scalar(f"SELECT count(*) FROM {table}")
            size = await self._scalar(f"SELECT pg_size_pretty(pg_total_relation_size('{table}'))")
            sizes[table] = f"{rows:,} rows, {size}"
        return sizes


async def measure(database_url: str, clients: int, runs: int, explain: bool) -> ScaleResult:
    bench = SchedulerBench(database_url, clients)
    insert_seconds = await bench.start()
    try:
        batch = bench.settings.tick_batch
        rows = int(await bench._scalar("SELECT count(*) FROM schedules"))
        result = ScaleResult(clients, rows, insert_seconds)
        result.table_sizes = await bench.sizes()
        for n in range(runs + 1):  # the first of each kind is a warm-up, left out
            empty_ms = (await bench.tick(bench.population.now))[0]
            moment = await bench.due_moment(batch)
            claim_ms = await bench.claim_only(moment)
            tick_ms, decide_ms, claimed, sent = await bench.tick(moment)
            purge_ms = await bench.purge(moment)
            # What a real tick every 30 s finds at this size: the rows due in 30 seconds.
            window_ms, _, window_claimed, _ = await bench.tick(
                await bench.due_moment(1) + timedelta(seconds=30)
            )
            if n == 0:
                continue
            result.window_ms.append(window_ms)
            result.window_claimed.append(window_claimed)
            result.empty_ms.append(empty_ms)
            result.claim_ms.append(claim_ms)
            result.tick_ms.append(tick_ms)
            result.decide_ms.append(decide_ms)
            result.claimed.append(claimed)
            result.sent.append(sent)
            result.purge_ms.append(purge_ms)
            result.chart_ms.append(await bench.chart())
        if explain:
            result.plans = await bench.explain_tick(await bench.due_moment(batch))
        return result
    finally:
        await bench.stop()


def describe(result: ScaleResult) -> str:
    return (
        f"{result.clients:,} clients, {result.schedule_rows:,} schedule rows, "
        f"inserted in {result.insert_seconds:.0f} s; tick median "
        f"{statistics.median(result.tick_ms):.0f} ms"
    )
