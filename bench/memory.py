"""Resident memory of the bot with many clients in the database, against an empty database.

Each measurement is a fresh process (``python -m bench.memory --probe ...``) so that the
baseline is clean. The probe builds the bot with ``bot.app.build`` on the lean fake
transport, starts it (``Application.initialize`` and ``Services.prepare``), reads its RSS,
then handles updates and runs scheduler ticks, and reads RSS again (after
``gc.collect()``), with the peak (``VmHWM``):

- *empty database*: the updates come from strangers (answered "invite only"); ticks find
  nothing due;
- *populated*: ``--clients`` onboarded clients, ``--in-progress`` of them in the middle of
  a check-in; the updates are check-in answers from different clients in progress; each
  tick claims a full batch (`TONGBAN_TICK_BATCH` rows) and sends the prompts.

The population is inserted once per database; the five probes of each use different
clients and later tick moments.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.databases import fresh_database
from bench.population import Population, insert
from bench.throughput import (
    ANSWERS,
    bench_settings,
    callback_payload,
    feed,
    in_process_bot,
    stop_bot,
    text_payload,
)
from bot.config import PROJECT_ROOT
from bot.sandbox.in_memory import InMemoryBotAPI
from bot.telegram.callbacks import ButtonData

IN_PROGRESS_STEP = 8  # the step bench.population gives flows in progress


def rss_kib() -> dict[str, int]:
    """VmRSS and VmHWM of this process, in KiB."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


async def probe(url: str, clients: int, updates: int, ticks: int, offset: int) -> dict[str, Any]:
    settings = bench_settings(url, log_level="WARNING")
    population = Population(clients=max(clients, 1))
    api = InMemoryBotAPI(record=False)
    services = await in_process_bot(settings, api)
    application = services.application
    now = population.now + timedelta(minutes=1)
    services.host.clock = lambda: now
    gc.collect()
    started = rss_kib()["VmRSS"]
    ids = itertools.count(1_000_000 * (offset + 1))
    signer = services.host.renderer.signer
    if clients:
        first = offset * updates
        payloads = [
            callback_payload(
                next(ids),
                population.user_id(index),
                signer.sign(
                    population.user_id(index),
                    ButtonData("flow", ANSWERS["mood"], IN_PROGRESS_STEP),
                ),
                100,
            )
            for index in range(first, first + updates)
        ]
    else:
        payloads = [text_payload(next(ids), 9_000_000 + n, "hello") for n in range(updates)]
    await feed(application, payloads, 256)
    claimed = 0
    moment = population.now + timedelta(hours=2 * offset + 1)
    for _ in range(ticks):
        report = await services.scheduler.tick(application.bot, moment)
        claimed += report.claimed
        moment += timedelta(minutes=30 if clients < 100_000 else 3)
    await stop_bot(services)
    gc.collect()
    after = rss_kib()
    return {
        "started_kib": started,
        "after_kib": after["VmRSS"],
        "peak_kib": after["VmHWM"],
        "messages": api.messages_sent,
        "claimed": claimed,
    }


def run_probe(url: str, clients: int, updates: int, ticks: int, offset: int) -> dict[str, Any]:
    """One probe in a fresh process."""
    command = [
        sys.executable,
        "-m",
        "bench.memory",
        "--probe",
        url,
        str(clients),
        str(updates),
        str(ticks),
        str(offset),
    ]
    done = subprocess.run(
        command, cwd=str(PROJECT_ROOT), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory probe failed:\n{done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def measure(
    kind: str, clients: int, in_progress: int, runs: int, updates: int, ticks: int
) -> dict[str, list[dict[str, Any]]]:
    """Probes on an empty database and on a populated one: {"empty": [...], "populated": [...]}."""
    results: dict[str, list[dict[str, Any]]] = {"empty": [], "populated": []}
    with fresh_database(kind, "memory_empty") as url:
        for run in range(runs):
            results["empty"].append(run_probe(url, 0, updates, ticks, run))
    with fresh_database(kind, "memory") as url:
        settings = bench_settings(url)
        population = Population(clients=clients, in_progress=in_progress)
        seconds = asyncio.run(insert(url, population, settings))
        for run in range(runs):
            probe_result = run_probe(url, clients, updates, ticks, run)
            probe_result["insert_seconds"] = seconds
            results["populated"].append(probe_result)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description="one memory probe (used by python -m bench)")
    parser.add_argument("--probe", nargs=5, metavar=("URL", "CLIENTS", "UPDATES", "TICKS", "RUN"))
    args = parser.parse_args()
    url, clients, updates, ticks, offset = args.probe
    result = asyncio.run(probe(url, int(clients), int(updates), int(ticks), int(offset)))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
