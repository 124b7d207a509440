"""Tongban's benchmarks: ``python -m bench --quick`` (under 2 minutes) or ``--full``.

Prints a short table and, unless ``--no-write``, writes the results into
``docs/benchmarks.md``. Exits 0 when every measurement ran (missed targets included, and
PostgreSQL measurements skipped with the reason when no server is reachable), 1 when a
measurement failed to run. See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bench import (
    broadcast,
    latency,
    memory,
    report,
    risk,
    room,
    scheduler_scale,
    throughput,
    two_workers,
    weekly_spread,
)
from bench.databases import asyncpg_url, fresh_database, postgres_admin_url, postgres_available
from bench.report import Section
from bench.results import Metric, at_least, at_most, quantile
from bot.config import Settings

SECTIONS = (
    "throughput",
    "latency",
    "scheduler",
    "broadcast",
    "memory",
    "risk",
    "workers",
    "weekly",
    "room",
)


@dataclass(frozen=True)
class Plan:
    """How big each measurement is in a mode."""

    name: str
    runs: int
    checkin_clients: int
    checkin_batch: int
    bare_updates: int
    floor_transactions: int
    latency_kinds: tuple[str, ...]
    latency_seconds: float
    latency_warmup: float
    latency_extra_rate: float | None
    scheduler_sizes: tuple[int, ...]
    broadcast: tuple[tuple[int, tuple[tuple[str, str], ...]], ...]
    memory_kinds: tuple[str, ...]
    memory_clients: int
    memory_in_progress: int
    memory_runs: int
    risk_repeat: int
    workers: two_workers.Plan
    room_kinds: tuple[str, ...] = ("postgres",)
    room_seconds: float = 5
    room_warmup: float = 1


QUICK = Plan(
    name="quick",
    runs=5,
    checkin_clients=30,
    checkin_batch=512,
    bare_updates=1000,
    floor_transactions=100,
    latency_kinds=("postgres",),
    latency_seconds=10,
    latency_warmup=2,
    latency_extra_rate=None,
    scheduler_sizes=(10_000,),
    broadcast=((300, (("TONGBAN_TICK_SECONDS", "2"),)),),
    memory_kinds=("sqlite",),
    memory_clients=20_000,
    memory_in_progress=2_000,
    memory_runs=1,
    risk_repeat=3,
    workers=two_workers.QUICK,
)
# The same measurements as QUICK, larger, on both databases.
FULL = replace(
    QUICK,
    name="full",
    checkin_clients=300,
    bare_updates=5000,
    floor_transactions=300,
    latency_kinds=("sqlite", "postgres"),
    latency_seconds=60,
    latency_warmup=5,
    latency_extra_rate=40,
    scheduler_sizes=(10_000, 100_000, 1_000_000),
    broadcast=((3000, ()),),
    memory_kinds=("postgres", "sqlite"),
    memory_clients=100_000,
    memory_in_progress=10_000,
    memory_runs=5,
    risk_repeat=10,
    workers=two_workers.FULL,
    room_kinds=("sqlite", "postgres"),
    room_seconds=60,
    room_warmup=5,
)
NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
BATCH = Settings.model_fields["tick_batch"].default  # rows one tick claims
FLOOR_STATEMENTS = 10  # about what one check-in answer runs (see docs/benchmarks.md)
LATENCY_CLIENTS, LATENCY_RATE = 500, 100.0


def _kinds(kinds: tuple[str, ...], postgres_missing: str | None) -> list[str]:
    return [k for k in kinds if k == "sqlite" or postgres_missing is None]


def run_throughput(plan: Plan, postgres_missing: str | None) -> Section:
    section = Section("throughput", "1. Cost per update, in one process")
    concurrency = 256
    echo, echo_cpu = asyncio.run(
        throughput.bare_rate(
            "echo", plan.bare_updates, 500, plan.checkin_batch, concurrency, plan.runs
        )
    )
    floor, floor_cpu = asyncio.run(
        throughput.bare_rate(
            "floor", plan.bare_updates, 500, plan.checkin_batch, concurrency, plan.runs
        )
    )
    rows = []
    floors: list[Metric] = []
    for kind in _kinds(("sqlite", "postgres"), postgres_missing):
        with fresh_database(kind, "throughput") as url:
            rates, info = asyncio.run(
                throughput.measure(url, plan.checkin_clients, plan.runs, plan.checkin_batch)
            )
            floors.append(
                Metric(
                    section.key,
                    f"database floor: transactions of {FLOOR_STATEMENTS} trivial statements, "
                    f"{NAMES[kind]}",
                    "tx/s",
                    asyncio.run(
                        throughput.database_floor(
                            url, FLOOR_STATEMENTS, plan.floor_transactions, plan.runs
                        )
                    ),
                )
            )
        section.metrics.append(
            Metric(
                section.key,
                f"check-in answers, {NAMES[kind]}",
                "answers/s",
                rates,
                "≥ 1,000",
                at_least(1000),
            )
        )
        rows.append((NAMES[kind], rates, info))
    section.metrics.append(Metric(section.key, "bare PTB echo bot", "updates/s", echo))
    section.metrics.append(
        Metric(section.key, "bare PTB, same calls as an answer", "updates/s", floor)
    )
    section.metrics += floors
    echo_median = statistics.median(echo)
    section.details += [
        f"{plan.checkin_clients} onboarded clients each do a whole check-in per run (7 button "
        f"presses, the last one finishing it), {plan.runs} runs after a warm-up; updates are "
        f"fed through `application.update_processor.process_update(update, "
        f"application.process_update(update))`, {plan.checkin_batch} at a time with "
        f"`asyncio.gather`, JSON-decoded inside the timed part; concurrency "
        f"{concurrency} (`TONGBAN_MAX_CONCURRENT_UPDATES`). No rate limiter (see 4.).",
        "",
        "| database | median answers/s | echo bot ÷ Tongban | bot CPU per answer | all runs |",
        "| --- | ---: | ---: | ---: | --- |",
    ]
    for name, rates, info in rows:
        median = statistics.median(rates)
        section.details.append(
            f"| {name} | {median:,.0f} | {echo_median / median:,.1f}× "
            f"| {info['cpu ms per answer']} ms "
            f"| {', '.join(f'{r:,.0f}' for r in rates)} ({info['answers per run']} answers each) |"
        )
    section.details += [
        "",
        f"Bare PTB echo bot (text → `reply_text`): {echo_median:,.0f} updates/s "
        f"({echo_cpu:.2f} ms CPU per update); bare PTB doing an answer's three calls (answer "
        f"the button, edit, send): {statistics.median(floor):,.0f} updates/s ({floor_cpu:.2f} ms "
        f"CPU per update), with {plan.bare_updates:,} updates per run. *Bot CPU per answer* is "
        "this process's CPU time over the run divided by the answers (SQLite's work included, "
        "PostgreSQL's server not): 1,000 answers/s needs at most 1.0 ms.",
    ]
    return section


def run_latency(plan: Plan, postgres_missing: str | None) -> Section:
    section = Section("latency", "2. Latency over real HTTP (sandbox Bot API)")
    extra = f" (and {plan.latency_extra_rate:.0f}/s)" if plan.latency_extra_rate else ""
    section.details.append(
        f"{LATENCY_CLIENTS} clients, a steady {LATENCY_RATE:.0f} updates/s{extra} offered for "
        f"{plan.latency_seconds:.0f} s after a {plan.latency_warmup:.0f} s warm-up; the bot is "
        "its own process (`python -m bench.botproc`: `bot.app.build`, polling, no rate "
        "limiter) and the sandbox (`rate_limits=False`) with the simulated people is this "
        "process. Times are taken by the sandbox: bot-side = arrival of the reply "
        "`sendMessage` − the moment `getUpdates` handed the update over. The five runs are "
        "five equal windows of the measured period. *sent/s* can be below the rate offered: a "
        "client waiting for its answer does not act, so when all 500 wait, the tick is skipped; "
        "*answered/s* counts replies arriving during the measured period."
    )
    section.details += [
        "",
        "| database | offered/s | sent/s | answered/s | updates measured | bot-side p50 | p99 | max | end-to-end p99 | lost | duplicated | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    kinds = _kinds(plan.latency_kinds, postgres_missing)
    if not kinds:
        section.skipped = f"needs PostgreSQL ({postgres_missing})"
        return section
    cases = [(kind, LATENCY_RATE) for kind in kinds]
    if plan.latency_extra_rate:
        cases += [(kind, plan.latency_extra_rate) for kind in kinds]
    for kind, rate in cases:
        run = latency.measure(
            kind, LATENCY_CLIENTS, rate, plan.latency_seconds, plan.latency_warmup
        )
        found = latency.summary(run)
        errors = sum(run.errors.values()) + len(run.log_errors)
        label = f"{NAMES[kind]}, {rate:.0f}/s"
        section.metrics += [
            Metric(section.key, f"bot-side p50, {label}", "ms", found["p50"], digits=1),
            Metric(
                section.key, f"bot-side p99, {label}", "ms", found["p99"], "≤ 50", at_most(50), 1
            ),
            Metric(
                section.key,
                f"lost + duplicated replies + errors, {label}",
                "",
                [float(run.lost + run.duplicated + errors)],
                "0",
                at_most(0),
            ),
        ]
        section.details.append(
            f"| {NAMES[kind]} | {rate:.0f} | {found['sent_rate']:.0f} | {found['handled_rate']:.0f} "
            f"| {found['updates']:,} | {found['p50_all']:,.1f} ms "
            f"| {found['p99_all']:,.1f} ms | {found['max']:,.1f} ms | {found['e2e_p99']:,.1f} ms "
            f"| {run.lost} | {run.duplicated} | {errors} |"
        )
        if run.errors or run.log_errors:
            section.details.append(
                f"|  | errors: {dict(run.errors)} {run.log_errors[:3]} | | | | | | | | | | |"
            )
    return section


def run_scheduler(plan: Plan, postgres_missing: str | None) -> Section:
    section = Section("scheduler", "3. Scheduler scaling (PostgreSQL)")
    if postgres_missing:
        section.skipped = f"needs PostgreSQL ({postgres_missing})"
        return section
    results = []
    for size in plan.scheduler_sizes:
        with fresh_database("postgres", f"scheduler_{size}") as url:
            results.append(
                asyncio.run(
                    scheduler_scale.measure(url, size, plan.runs, size == plan.scheduler_sizes[-1])
                )
            )
    base, largest = results[0], results[-1]

    def target(result: scheduler_scale.ScaleResult, values: list[float]) -> tuple[str, Any]:
        """The scaling target applies to the largest size: < 50 ms and ≤ 2× the smallest."""
        if result is not largest:
            return "", None
        if result is base:
            return "< 50", at_most(50)
        limit = min(50.0, 2 * statistics.median(values))
        return f"< 50 and ≤ 2× {base.clients:,}: ≤ {limit:.1f}", at_most(limit)

    for result in results:
        label = f"{result.clients:,} clients"
        claim_target, claim_ok = target(result, base.claim_ms)
        decide_target, decide_ok = target(result, base.decide_ms)
        section.metrics += [
            Metric(
                section.key,
                f"claim query ({BATCH} due), {label}",
                "ms",
                result.claim_ms,
                claim_target,
                claim_ok,
                1,
            ),
            Metric(
                section.key,
                f"tick without sending ({BATCH} due), {label}",
                "ms",
                result.decide_ms,
                decide_target,
                decide_ok,
                1,
            ),
            Metric(
                section.key,
                f"whole tick incl. sending {BATCH}, {label}",
                "ms",
                result.tick_ms,
                digits=1,
            ),
            Metric(
                section.key,
                f"30-second tick ({statistics.median(result.window_claimed):.0f} due), {label}",
                "ms",
                result.window_ms,
                digits=1,
            ),
            Metric(section.key, f"empty tick, {label}", "ms", result.empty_ms, digits=1),
            Metric(section.key, f"hourly purge, {label}", "ms", result.purge_ms, digits=1),
        ]
    section.metrics.append(
        Metric(
            section.key,
            "one weekly summary chart (Sunday ticks)",
            "ms",
            [m for r in results for m in r.chart_ms],
            digits=1,
        )
    )
    section.details += [
        "| clients | schedule rows | insert (COPY) | tables |",
        "| ---: | ---: | ---: | --- |",
    ]
    for result in results:
        tables = "; ".join(f"{k}: {v}" for k, v in result.table_sizes.items())
        section.details.append(
            f"| {result.clients:,} | {result.schedule_rows:,} | {result.insert_seconds:.0f} s | {tables} |"
        )
    section.details += [
        "",
        f"Each timed tick claims a full batch (`TONGBAN_TICK_BATCH`, {BATCH} rows) of check-in and "
        "reminder prompts on a Wednesday (so no weekly charts), and sends them through the "
        "lean fake transport; the claim query is the scheduler's own `_claim`, rolled back.",
    ]
    if largest.plans:
        section.details += [
            "",
            f"EXPLAIN (ANALYZE, BUFFERS) of every statement of one tick with "
            f"{largest.clients:,} clients (the claim query first; `IN` lists shortened here):",
        ]
        for statement, plan_text in largest.plans:
            section.details += [
                "",
                "```sql",
                _shorten(statement),
                "```",
                "```",
                _shorten(plan_text),
                "```",
            ]
    return section


def _shorten(text_: str, limit: int = 160) -> str:
    lines = []
    for line in text_.splitlines():
        lines.append(line if len(line) <= limit else line[:limit] + " …")
    return "\n".join(lines)


def run_broadcast(plan: Plan, postgres_missing: str | None) -> Section:
    section = Section(
        "broadcast", "4. Broadcast pacing (AIORateLimiter → sandbox with Telegram's limits)"
    )
    if postgres_missing:
        section.skipped = f"needs PostgreSQL ({postgres_missing})"
        return section
    section.details += [
        "| prompts | settings | delivered | duplicated | missing | 429s retried | rate | wall time |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for prompts, env_items in plan.broadcast:
        env = dict(env_items)
        run, chats = broadcast.measure(prompts, env)
        shown = ", ".join(f"{k}={v}" for k, v in env.items()) or "defaults"
        label = f"{prompts:,} prompts, {shown}"
        missing = run.missing(chats)
        section.metrics += [
            Metric(
                section.key,
                f"achieved rate, {label}",
                "msg/s",
                run.part_rates() or [run.rate],
                "≥ 28.5",
                at_least(28.5),
                1,
            ),
            Metric(
                section.key,
                f"prompts not delivered exactly once, {label}",
                "",
                [float(missing + run.duplicated)],
                "0",
                at_most(0),
            ),
        ]
        section.details.append(
            f"| {prompts:,} | {shown} ({', '.join(f'{k} {v}' for k, v in run.settings.items())}) "
            f"| {len(run.delivered_at):,} | {run.duplicated} | {missing} | {run.statuses[429]} "
            f"| {run.rate:.1f}/s | {run.wall_seconds:.0f} s |"
        )
    section.details += [
        "",
        "Rate = prompts / (last delivery − first delivery), over the whole run; the table's "
        "runs are five consecutive fifths of the deliveries.",
    ]
    return section


def run_memory(plan: Plan, postgres_missing: str | None) -> Section:
    section = Section("memory", "5. Memory (RSS)")
    section.details += [
        "| database | clients / flows in progress | RSS at start | RSS after, empty DB | RSS after, populated | peak, empty | peak, populated |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind in _kinds(plan.memory_kinds, postgres_missing):
        found = memory.measure(
            kind, plan.memory_clients, plan.memory_in_progress, plan.memory_runs, 1000, 5
        )
        empty, populated = found["empty"], found["populated"]

        def mib(rows: list[dict[str, int]], key: str) -> float:
            return statistics.median(r[key] for r in rows) / 1024

        differences = [
            (p["after_kib"] - e["after_kib"]) / 1024 for e, p in zip(empty, populated, strict=True)
        ]
        section.metrics.append(
            Metric(
                section.key,
                f"RSS populated − empty, {NAMES[kind]}, "
                f"{plan.memory_clients:,} clients / {plan.memory_in_progress:,} in progress",
                "MiB",
                differences,
                "≤ 50",
                at_most(50),
                1,
            )
        )
        section.details.append(
            f"| {NAMES[kind]} | {plan.memory_clients:,} / {plan.memory_in_progress:,} "
            f"| {mib(populated, 'started_kib'):.0f} MiB | {mib(empty, 'after_kib'):.0f} MiB "
            f"| {mib(populated, 'after_kib'):.0f} MiB | {mib(empty, 'peak_kib'):.0f} MiB "
            f"| {mib(populated, 'peak_kib'):.0f} MiB |"
        )
    section.details += [
        "",
        "Each probe is a fresh process: start the bot (lean fake transport), handle 1,000 "
        "updates (check-in answers from different clients in progress; from strangers on the "
        f"empty database), run 5 scheduler ticks ({BATCH} due each when populated), `gc.collect()`, "
        "read `VmRSS`/`VmHWM`.",
    ]
    return section


def run_risk(plan: Plan, _postgres_missing: str | None) -> Section:
    section = Section("risk", "6. Risk assessment")
    rates, size = risk.measure(plan.runs, plan.risk_repeat)
    section.metrics.append(
        Metric(
            section.key,
            "messages assessed (labelled corpus)",
            "messages/s",
            rates,
            "≥ 10,000",
            at_least(10_000),
        )
    )
    section.metrics.append(
        Metric(
            section.key,
            "4,096-character message, slowest kind",
            "ms",
            risk.long_message_ms(plan.runs),
            "≤ 2",
            at_most(2),
        )
    )
    section.details.append(
        f"`flows.risk.assess` over the {size} messages of `tests/risk_corpus/*.tsv` "
        f"({plan.risk_repeat} passes per run), as `bench/risk_bench.py` does. Long messages: "
        "the median of 10 assessments of each kind in `bench/risk_bench.py` "
        "(`long_messages`), the slowest kind per run."
    )
    return section


def run_workers(plan: Plan, postgres_missing: str | None) -> Section:
    section = Section("workers", "7. Two webhook workers, one killed and restarted (PostgreSQL)")
    if postgres_missing:
        section.skipped = f"needs PostgreSQL ({postgres_missing})"
        return section
    p = plan.workers
    result = two_workers.measure(p)
    windows = result.summary()
    for name, found in windows.items():
        section.metrics.append(
            Metric(section.key, f"end-to-end p99, {name} the kill", "ms", [found["p99"]], digits=0)
        )
    broken = (
        result.updates_unanswered
        + result.not_stored
        + result.unanswered
        + result.duplicated
        + result.out_of_order_clients
        + result.checkins_wrong
        + result.checkin_rows_extra
        + result.prompts_twice
        + len(result.log_errors)
    )
    section.metrics.append(
        Metric(
            section.key,
            "updates lost, stored twice, replies missing or doubled, out of order, "
            "prompts sent twice, errors",
            "",
            [float(broken)],
            "0",
            at_most(0),
        )
    )
    answered = {w.name: result.proxy.answered[w.url] for w in result.workers}
    restarted = result.workers[1].ready_at - result.started - p.restart_at
    section.details += [
        f"{p.clients} clients (the clients of 2.), {p.rate:.0f} updates/s offered for "
        f"{p.seconds:.0f} s through a round-robin proxy to workers A and B "
        "(`python -m bench.botproc` with `TONGBAN_MODE=webhook`: `tongban run`'s webhook "
        f"server, no rate limiter); B SIGKILLed at {p.kill_at:.0f} s and started again at "
        f"{p.restart_at:.0f} s (answering {restarted:.1f} s later); {p.scheduled:,} more "
        "clients' check-in prompts due one after another over the run, both workers ticking "
        "every second. Times: the person's update → the first message of the reply "
        "(end-to-end, Telegram's delivery included).",
        "",
        "| window | updates | p50 | p99 | max |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name, found in windows.items():
        section.details.append(
            f"| {name} | {found['n']:,} | {found['p50']:,.0f} ms | {found['p99']:,.0f} ms "
            f"| {found['max']:,.0f} ms |"
        )
    section.details += [
        "",
        "| check | count |",
        "| --- | ---: |",
        f"| updates made by the clients | {result.updates_created:,} |",
        f"| … never answered 2xx by a worker | {result.updates_unanswered} |",
        f"| … answered but not recorded as handled | {result.not_stored} |",
        f"| replies missing (not the documented case) | {result.unanswered} |",
        f"| replies lost: committed, worker killed before sending (at most once) | {result.lost_replies} |",
        f"| replies doubled | {result.duplicated} |",
        f"| clients whose updates were handled out of order | {result.out_of_order_clients} |",
        f"| check-ins finished / with a wrong answer / a second row | "
        f"{result.checkins_finished} / {result.checkins_wrong} / {result.checkin_rows_extra} |",
        f"| prompts sent exactly once / twice | {result.prompts_once:,} / {result.prompts_twice} |",
        f"| prompts claimed and not sent (worker killed: at most once) | {result.prompts_lost_after_claim} |",
        f"| prompts not yet due at the end | {result.prompts_not_due_yet} |",
        f"| calls answered by A / B | {answered['A']:,} / {answered['B']:,} |",
        f"| time a worker took to answer a call (handling + replies sent), p50 / p99 "
        f"| {1000 * quantile(result.proxy.seconds, 0.5):,.0f} / "
        f"{1000 * quantile(result.proxy.seconds, 0.99):,.0f} ms |",
        f"| calls B refused (down), passed to A / cut off mid-call (502, redelivered) "
        f"| {sum(result.proxy.refused.values()):,} / {sum(result.proxy.cut.values())} |",
        f"| errors logged by the workers / non-2xx Bot API answers "
        f"| {len(result.log_errors)} / {sum(result.load.errors.values())} |",
    ]
    for worker in result.workers:
        calls = max(answered[worker.name], 1)
        section.details.append(
            f"| CPU of worker {worker.name} (start-up left out) | {worker.cpu:.1f} s, "
            f"{1000 * worker.cpu / calls:.2f} ms per update (prompts' share included) |"
        )
    if result.log_errors:
        section.details.append(f"\nFirst errors: {result.log_errors[:3]}")
    return section


def run_weekly(plan: Plan, _postgres_missing: str | None) -> Section:
    section = Section("weekly", "8. Weekly charts across the week")
    clients = 7_000 if plan.name == "quick" else 70_000
    found = weekly_spread.measure(clients, plan.runs)
    chart_ms = found["chart_ms"]
    assert isinstance(chart_ms, list)
    section.metrics.append(Metric(section.key, "one weekly chart, CPU", "ms", chart_ms, digits=0))
    days = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    section.details += [
        f"The CPU of one chart (`bot.weekly.weekly_chart`, four weeks, Chinese labels; "
        f"{plan.runs} runs), and on which local weekday `flows.timers.plan` puts the charts of "
        f"{clients:,} clients in five zones, with `TONGBAN_WEEKLY_CHART_DAY=summary` (all on "
        "`TONGBAN_WEEKLY_SUMMARY_DAY`, Sunday) and `spread` (each on the weekday of their id). "
        "The busiest day at a million clients costs its share × 1,000,000 × the chart's CPU.",
        "",
        "| setting | charts per weekday (" + ", ".join(days) + ") | busiest day's share "
        "| busiest day at 1,000,000 clients |",
        "| --- | --- | ---: | ---: |",
    ]
    for name in ("summary", "spread"):
        row = found[name]
        assert isinstance(row, dict)
        per_day = row["per_day"]
        counts = ", ".join(f"{per_day.get(d, 0):,}" for d in range(7))
        section.metrics.append(
            Metric(
                section.key,
                f"busiest day's chart CPU at 1,000,000 clients, {name}",
                "CPU-hours",
                [row["cpu_hours_at_a_million"]],
                digits=1,
            )
        )
        section.details.append(
            f"| {name} | {counts} | {100 * row['share']:.1f}% "
            f"| {row['cpu_hours_at_a_million']:.1f} CPU-hours |"
        )
    return section


ROOM_MEMBERS, ROOM_CLIENTS = 30, 500


def run_room(plan: Plan, postgres_missing: str | None) -> Section:
    section = Section("room", "9. A group room under load")
    section.details.append(
        f"A room of {ROOM_MEMBERS} members gets a message a second (each member in turn) for "
        f"{plan.room_seconds:.0f} s after a {plan.room_warmup:.0f} s warm-up, while "
        f"{ROOM_CLIENTS} other clients answer check-in questions at a steady "
        f"{LATENCY_RATE:.0f} updates/s (as in 2.); the bot is its own process, the sandbox "
        "has Telegram's limits off and `TONGBAN_ROOM_COPIES_PER_SECOND` is 1,000, so what is "
        "measured is the bot's own cost (with Telegram's 30 messages/s, such a room alone "
        "needs 29). Bot-side, from the sandbox: a room message is delivered when the last of "
        "its copies arrived, counted from when `getUpdates` handed it to the bot; a copy's "
        "delivery from the same moment; check-in p99 as in 2. Checked: every member but the "
        "writer got every message once, all in the same order, and each writer's in the "
        "order written (*out of order* counts pairs seen in opposite orders). Less "
        "sensitive to a shared machine: the bot process's CPU time over the run per room "
        "message (the check-in answers' included) and the load average (1 min) at its start "
        "and end."
    )
    section.details += [
        "",
        "| database | room messages | copies | room delivered p50 | p99 | copy p99 "
        "| check-in p50 | p99 | lost | duplicated | out of order | errors "
        "| bot CPU per room message | load |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: |",
    ]
    kinds = _kinds(plan.room_kinds, postgres_missing)
    if not kinds:
        section.skipped = f"needs PostgreSQL ({postgres_missing})"
        return section
    for kind in kinds:
        run = room.measure(
            kind, ROOM_MEMBERS, ROOM_CLIENTS, LATENCY_RATE, plan.room_seconds, plan.room_warmup
        )
        found = room.summary(run)
        label = NAMES[kind]
        wrong = found["lost"] + found["duplicated"] + found["out_of_order"] + found["errors"]
        section.metrics += [
            Metric(
                section.key, f"room delivered p99, {label}", "ms", [found["room_p99"]], digits=1
            ),
            Metric(
                section.key,
                f"check-in p99 beside the room, {label}",
                "ms",
                [found["checkin_p99"]],
                "≤ 50",
                at_most(50),
                1,
            ),
            Metric(
                section.key,
                f"room copies lost, doubled or out of order + errors, {label}",
                "",
                [float(wrong)],
                "0",
                at_most(0),
            ),
        ]
        section.details.append(
            f"| {label} | {found['messages']} | {found['copies']:,} "
            f"| {found['room_p50']:,.1f} ms | {found['room_p99']:,.1f} ms "
            f"| {found['copy_p99']:,.1f} ms | {found['checkin_p50']:,.1f} ms "
            f"| {found['checkin_p99']:,.1f} ms | {found['lost']} | {found['duplicated']} "
            f"| {found['out_of_order']} | {found['errors']} "
            f"| {_cpu_ms(found['cpu_per_message'])} "
            f"| {found['load'][0]:.1f} → {found['load'][1]:.1f} |"
        )
    return section


def _cpu_ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} ms"


RUNNERS: dict[str, Callable[[Plan, str | None], Section]] = {
    "throughput": run_throughput,
    "latency": run_latency,
    "scheduler": run_scheduler,
    "broadcast": run_broadcast,
    "memory": run_memory,
    "risk": run_risk,
    "workers": run_workers,
    "weekly": run_weekly,
    "room": run_room,
}


def postgres_version() -> str:
    async def ask() -> str:
        engine = create_async_engine(asyncpg_url(postgres_admin_url()))
        try:
            async with engine.connect() as conn:
                return str((await conn.execute(text("SHOW server_version"))).scalar())
        finally:
            await engine.dispose()

    return "PostgreSQL " + asyncio.run(ask()).split()[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--quick", action="store_true", help="small sizes, under 2 minutes")
    mode.add_argument("--full", action="store_true", help="the sizes in docs/benchmarks.md")
    parser.add_argument("--no-write", action="store_true", help="print only; leave the doc")
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated subset of {', '.join(SECTIONS)}",
    )
    args = parser.parse_args(argv)
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s): {', '.join(unknown)}")
    plan = QUICK if args.quick else FULL
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("bot").setLevel(logging.ERROR)  # e.g. the missing-encryption-key notice

    command = "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:])
    info = {"date": report.now_utc(), **report.machine(), "revision": report.git_revision()}
    load_start = report.load_average()
    postgres_missing = postgres_available()
    if postgres_missing is None:
        info["postgres"] = postgres_version()
    else:
        print(f"PostgreSQL not reachable, its measurements are skipped: {postgres_missing}")
    started = time.perf_counter()
    sections: list[Section] = []
    for name in SECTIONS:
        if name not in chosen:
            continue
        print(f"== {name} ...", flush=True)
        section_started = time.perf_counter()
        try:
            section = RUNNERS[name](plan, postgres_missing)
        except Exception as exc:
            traceback.print_exc()
            section = Section(name, name, failed=f"{type(exc).__name__}: {exc}"[:300])
        section.seconds = time.perf_counter() - section_started
        print(f"   {section.seconds:.0f} s", flush=True)
        sections.append(section)
    total = time.perf_counter() - started
    info["load"] = f"{load_start} → {report.load_average()}"
    info["total"] = f"{total:.0f} s"
    print()
    print(report.plain_table(sections))
    print(f"\n{plan.name} run, {total:.0f} s")
    if not args.no_write:
        path = report.write(report.render(sections, command, info))
        print(f"written to {path}")
    return 1 if any(section.failed for section in sections) else 0


if __name__ == "__main__":
    raise SystemExit(main())
