"""The supervisors' weekly digest in Telegram: due once a week for the whole program (one
row of ``app_settings`` holds when; claimed with a conditional UPDATE, so one process sends
it), the figures from ``bot.report`` for the last seven days, a chart, each supervisor in
their own language."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.applying import Acting, Appliers
from bot.host import Host
from bot.report import SUPPRESSED, Report, Table, gather
from bot.storage.models import AppSetting, Person, ReviewRequest
from bot.telegram.render import Outgoing, SendPhoto
from flows.digest import WeekNumbers, digest_text, next_digest
from flows.effects import Tell
from flows.escalation import TIER_LABELS, Tier
from flows.roles import Role
from flows.text import N_, Msg

KEY = "digest_due_at"


def _table(report: Report, name: str) -> Table:
    return next(t for t in report.tables() if t.name == name)


def week_numbers(report: Report, reviews_waiting: int) -> WeekNumbers:
    tiers = {str(row[0]): str(row[1]) for row in _table(report, "escalations_by_tier").rows}
    times = {str(row[0]): row for row in _table(report, "response_times").rows}
    crisis = _table(report, "crisis_reply_within_5_minutes").rows[0]
    debriefs = {str(row[0]): row[1] for row in _table(report, "debriefs").rows}
    counted = [v for v in debriefs.values() if isinstance(v, int)]
    total = str(sum(counted)) if len(counted) == len(debriefs) else SUPPRESSED
    share = crisis[2]
    return WeekNumbers(
        report.start,
        report.end,
        tiers,
        str(times["urgent"][2]),
        f"{round(float(share) * 100)}%" if isinstance(share, float) else str(share),
        total,
        str(debriefs.get("call", SUPPRESSED)),
        reviews_waiting,
    )


class Digest:
    def __init__(self, host: Host, appliers: Appliers) -> None:
        self.host = host
        self.appliers = appliers

    async def _claim(self, session: AsyncSession, now: datetime) -> bool:
        """Whether the digest is due now and this process won it (the due time moves on)."""
        zone = self.host.settings.default_timezone
        row = await session.get(AppSetting, KEY)
        if row is None:
            # several processes may tick at once: the first row made is the one kept
            dialect = session.get_bind().dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            await session.execute(
                insert(AppSetting)
                .values(key=KEY, value=next_digest(zone, now).isoformat())
                .on_conflict_do_nothing(index_elements=[AppSetting.key])
            )
            return False
        if datetime.fromisoformat(row.value) > now:
            return False
        moved = await session.execute(
            update(AppSetting)
            .where(AppSetting.key == KEY, AppSetting.value == row.value)
            .values(value=next_digest(zone, now).isoformat())
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(moved, "rowcount", 0))

    async def tick(self, session: AsyncSession, now: datetime) -> list[Outgoing]:
        if not await self._claim(session, now):
            return []
        end = (now - timedelta(days=1)).date()
        report = await gather(session, end - timedelta(days=6), end)
        waiting = int(
            await session.scalar(select(func.count()).where(ReviewRequest.taken_at.is_(None))) or 0
        )
        week = week_numbers(report, waiting)
        supervisors = (
            await session.scalars(
                select(Person).where(
                    Person.role == Role.SUPERVISOR.value,
                    Person.onboarded_at.is_not(None),
                    Person.blocked_at.is_(None),
                )
            )
        ).all()
        out: list[Outgoing] = []
        text = digest_text(week)
        for supervisor in supervisors:
            out += await self.appliers.apply(
                session, (Tell(supervisor.id, text),), Acting(None, now)
            )
            chart = self._chart(report, supervisor.locale)
            if chart is not None:
                caption = self.host.translator.render(Msg(N_("digest.chart")), supervisor.locale)
                out.append(SendPhoto(supervisor.chat_id, chart, caption, "digest.png"))
        return out

    def _chart(self, report: Report, locale: str) -> bytes | None:
        """Median minutes to claim per tier, labelled in the reader's language; none when
        every median is suppressed."""
        from matplotlib.figure import Figure

        from bot.charts import chart_font

        rows = {str(row[0]): row[2] for row in _table(report, "response_times").rows}
        values = [(tier, rows.get(tier.value)) for tier in Tier]
        if not any(isinstance(v, float) for _, v in values):
            return None
        font = chart_font(locale, 10)
        figure = Figure(figsize=(5, 2.6))
        axes = figure.subplots()
        labels = [self.host.translator.render(Msg(TIER_LABELS[t]), locale) for t, _ in values]
        heights = [float(v) if isinstance(v, float) else 0.0 for _, v in values]
        axes.bar(range(len(values)), heights, color="#3B7DD8")
        axes.set_xticks(range(len(values)), labels, fontproperties=font)
        axes.set_ylabel(
            self.host.translator.render(Msg(N_("digest.chart.minutes")), locale),
            fontproperties=font,
        )
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=110, bbox_inches="tight")
        return buffer.getvalue()
