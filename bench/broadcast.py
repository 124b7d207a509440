"""Broadcast pacing: N check-in prompts due at the same minute, through the real rate limiter.

The bot runs as its own process (``bench.botproc``), exactly as ``bot.app.build`` makes it
(PTB's ``AIORateLimiter(max_retries=5)``, the scheduler's periodic tick), against the
sandbox Bot API enforcing Telegram's flood limits (30 messages/s overall with a burst of
30, one per second per chat with a burst of 20; 429 with ``retry_after`` beyond that).
N onboarded clients (PostgreSQL, rows from ``bench.population``, in a time zone where it
is not quiet hours now) have their check-in due at the same moment, before the bot's
first tick; nothing else falls due.

Every prompt must reach its person exactly once; 429s must be retried. The achieved rate
is prompts delivered / (last delivery − first delivery). The run is also cut into five
equal consecutive parts by delivery order, each part's rate being one "run" of the table.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench.databases import fresh_database
from bench.live import LiveBot
from bench.population import FIRST_USER_ID, ZONES, Population, insert
from bench.throughput import bench_settings
from bench.timed_sandbox import TimedSandbox
from bot.storage.models import utcnow
from flows.people import Rules

PARTS = 5


@dataclass
class BroadcastRun:
    prompts: int
    settings: dict[str, str]
    delivered_at: list[float] = field(default_factory=list)
    per_chat: Counter[int] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    ticks_skipped: int = 0
    log_errors: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def rate(self) -> float:
        times = sorted(self.delivered_at)
        if len(times) < 2:
            return float("nan")
        return len(times) / (times[-1] - times[0])

    def part_rates(self) -> list[float]:
        times = sorted(self.delivered_at)
        size = len(times) // PARTS
        if size < 2:
            return []
        rates = []
        for part in range(PARTS):
            chunk = times[part * size : (part + 1) * size]
            previous = times[part * size - 1] if part else chunk[0]
            span = chunk[-1] - previous
            rates.append((len(chunk) - (0 if part else 1)) / span if span > 0 else float("nan"))
        return rates

    @property
    def duplicated(self) -> int:
        return sum(count - 1 for count in self.per_chat.values() if count > 1)

    def missing(self, chats: list[int]) -> int:
        return sum(1 for chat in chats if self.per_chat[chat] == 0)


def awake_zone(rules: Rules) -> str:
    """A zone where it is not quiet hours now nor in the next few minutes."""
    now = utcnow()
    for zone in ZONES:
        local = (now + timedelta(minutes=10)).astimezone(ZoneInfo(zone)).time()
        if not rules.is_quiet(local) and not rules.is_quiet(now.astimezone(ZoneInfo(zone)).time()):
            return zone
    return "Pacific/Auckland"


async def _all_due_at(url: str, moment: Any) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE schedules SET due_at = :moment WHERE kind = 'checkin'"),
                {"moment": moment},
            )
    finally:
        await engine.dispose()


async def run_broadcast(url: str, prompts: int, env: dict[str, str]) -> BroadcastRun:
    settings = bench_settings(
        url, **{k.removeprefix("TONGBAN_").lower(): v for k, v in env.items()}
    )
    rules = Rules(quiet_start=settings.quiet_hours_start, quiet_end=settings.quiet_hours_end)
    now = utcnow()
    population = Population(
        clients=prompts,
        now=now,
        zone=awake_zone(rules),
        first_user_id=FIRST_USER_ID,
        schedules_after=now + timedelta(hours=2),
        signs_every=0,
    )
    await insert(url, population, settings)
    await _all_due_at(url, now)
    run = BroadcastRun(
        prompts,
        {"tick_seconds": str(settings.tick_seconds), "tick_batch": str(settings.tick_batch)},
    )
    sandbox = TimedSandbox(rate_limits=True)
    await sandbox.start()
    bot = LiveBot(sandbox, url, rate_limiter=True, env=env)
    chats = sandbox.add_people(prompts)
    assert chats[0] == FIRST_USER_ID

    def on_call(method: str, values: dict[str, Any], status: int, at: float) -> None:
        if method != "sendMessage":
            return
        run.statuses[status] += 1
        if status == 200:
            run.delivered_at.append(at)
            run.per_chat[int(values["chat_id"])] += 1

    sandbox.on_call = on_call
    started = time.perf_counter()
    try:
        await bot.start()
        # Long enough for every tick the settings need at 30/s, with room to spare.
        ticks = -(-prompts // settings.tick_batch)
        budget = 60 + 2 * prompts / 30 + ticks * settings.tick_seconds
        deadline = time.perf_counter() + budget
        while len(run.delivered_at) < prompts and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
        await asyncio.sleep(2.0)  # anything sent twice would arrive now
        run.wall_seconds = time.perf_counter() - started
    finally:
        await bot.stop()
        await sandbox.stop()
    log = bot.log()
    run.ticks_skipped = log.count("maximum number of running instances reached")
    run.log_errors = bot.log_errors()
    bot.cleanup()
    return run


def measure(prompts: int, env: dict[str, str]) -> tuple[BroadcastRun, list[int]]:
    with fresh_database("postgres", "broadcast") as url:
        run = asyncio.run(run_broadcast(url, prompts, env))
    chats = [FIRST_USER_ID + n for n in range(prompts)]
    return run, chats
