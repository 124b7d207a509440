"""What an operator watches: Prometheus metrics of one bot process (``prometheus_client``).

Counters and the latency histogram are this process's own; a deployment with several
workers sums them across workers. The gauges about escalations and the scheduler are read
from the database when ``/metrics`` is scraped, so every worker reports the same values
(take one, or the maximum, not the sum). Labels name kinds of things (an update's kind, a
request type, a tier), never a person, a chat or anything anyone wrote.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Escalation, Schedule
from flows.escalation import Tier
from flows.timers import ESCALATION

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """One process's metrics, in a registry of its own (two bots in one test never share)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.updates = Counter(
            "tongban_updates_handled",
            "Telegram updates handled, by kind of update",
            ["kind"],
            registry=r,
        )
        self.latency = Histogram(
            "tongban_update_handling_seconds",
            "Time from an update's arrival in the dispatcher to its replies sent",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.crisis_replies = Counter(
            "tongban_crisis_replies_sent", "First crisis replies sent", registry=r
        )
        self.send_failures = Counter(
            "tongban_send_failures",
            "Bot API requests that failed for good (after retries), by request type",
            ["request"],
            registry=r,
        )
        self.rate_limited = Counter(
            "tongban_telegram_429",
            "Bot API answers 429 Too Many Requests (each retried by the rate limiter)",
            registry=r,
        )
        self.open_escalations = Gauge(
            "tongban_open_escalations", "Unresolved escalations, by tier", ["tier"], registry=r
        )
        self.overdue_escalations = Gauge(
            "tongban_overdue_escalations",
            "Unresolved escalations whose claim or reply clock ran out",
            registry=r,
        )
        self.scheduler_lag = Gauge(
            "tongban_scheduler_lag_seconds",
            "How long the oldest due schedule row has been waiting (0: nothing is late)",
            registry=r,
        )
        for tier in Tier:
            self.open_escalations.labels(tier=tier.value)

    def handled(self, kind: str, seconds: float) -> None:
        self.updates.labels(kind=kind).inc()
        self.latency.observe(seconds)

    async def read_database(self, session: AsyncSession, now: datetime) -> None:
        """Set the gauges that describe the service rather than this process."""
        rows = await session.execute(
            select(Escalation.tier, func.count())
            .where(Escalation.resolved_at.is_(None))
            .group_by(Escalation.tier)
        )
        by_tier = {str(tier): int(count) for tier, count in rows}
        for tier in Tier:
            self.open_escalations.labels(tier=tier.value).set(by_tier.get(tier.value, 0))
        clock_ran_out = (
            select(Schedule.person_id)
            .where(
                Schedule.kind == ESCALATION,
                Schedule.person_id == Escalation.subject_id,
                Schedule.due_at <= now,
            )
            .exists()
        )
        overdue = await session.scalar(
            select(func.count())
            .select_from(Escalation)
            .where(Escalation.resolved_at.is_(None), or_(Escalation.reminders > 0, clock_ran_out))
        )
        self.overdue_escalations.set(overdue or 0)
        oldest = await session.scalar(
            select(func.min(Schedule.due_at)).where(Schedule.due_at <= now)
        )
        self.scheduler_lag.set(0.0 if oldest is None else (now - oldest).total_seconds())

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
