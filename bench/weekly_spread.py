"""Weekly charts at scale: the CPU of one chart, and how many fall on the busiest day with
every client's chart on the summary day or spread over the week (``TONGBAN_WEEKLY_CHART_DAY``).

The chart is ``bot.weekly.weekly_chart`` (four weeks of answers, Simplified Chinese labels),
timed with ``time.process_time`` after a warm-up. The days come from the core's own
``flows.timers.plan`` for ``clients`` onboarded clients (ids 1..N, check-in times and the
five zones of ``bench.population``); the busiest local day's share, times a million clients
and the chart's CPU, is what that day costs.
"""

from __future__ import annotations

import statistics
import time as clock
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta

from bench.population import ZONES
from bot.i18n import Translator
from flows.flags import DayRecord
from flows.people import PersonView
from flows.roles import Role
from flows.schedule import local_date
from flows.timers import WEEKLY, Timing, plan

MILLION = 1_000_000


def chart_ms(runs: int) -> list[float]:
    """CPU milliseconds of one weekly chart, ``runs`` times after a warm-up."""
    from bot.weekly import weekly_chart

    translator = Translator()
    today = date(2026, 12, 6)
    records = [
        DayRecord(today - timedelta(days=n), 1 + n % 5, n % 5 - 2, "taken", n % 2)
        for n in range(28, 0, -1)
    ]
    weekly_chart(translator, "zh_Hans", records, today)
    found = []
    for _ in range(runs):
        started = clock.process_time()
        weekly_chart(translator, "zh_Hans", records, today)
        found.append(1000 * (clock.process_time() - started))
    return found


def busiest_share(clients: int, spread: bool) -> tuple[float, Counter[int]]:
    """The busiest weekday's share of the week's charts, and the charts per weekday."""
    timing = replace(Timing(), spread_charts=spread)
    now = datetime(2026, 11, 25, tzinfo=UTC)
    per_day: Counter[int] = Counter()
    for n in range(1, clients + 1):
        zone = ZONES[n % len(ZONES)]
        person = PersonView(
            n, Role.CLIENT, "en", zone, checkin_time=time(8 + n % 13, 0), onboarded=True
        )
        due = plan(person, now, timing)[WEEKLY]
        per_day[local_date(due, zone).weekday()] += 1
    return max(per_day.values()) / clients, per_day


def measure(clients: int, runs: int) -> dict[str, object]:
    ms = chart_ms(runs)
    median = statistics.median(ms)
    found: dict[str, object] = {"chart_ms": ms}
    for name, spread in (("summary", False), ("spread", True)):
        share, per_day = busiest_share(clients, spread)
        found[name] = {
            "share": share,
            "per_day": dict(sorted(per_day.items())),
            "cpu_hours_at_a_million": share * MILLION * median / 1000 / 3600,
        }
    return found
