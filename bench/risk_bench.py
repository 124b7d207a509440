"""Throughput of flows.risk.assess over the labelled risk corpus.

Usage: python bench/risk_bench.py [--runs 5] [--repeat 10]

Each run assesses every corpus message (all locales) ``--repeat`` times in one process
and reports messages per second; the table shows the median, slowest and fastest run.
The lexicon is loaded (and compiled) once before timing, as the bot does at start-up.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flows.risk import assess, default_lexicon  # noqa: E402  (after the path set-up)

CORPUS = ROOT / "tests" / "risk_corpus"


def corpus_messages() -> list[str]:
    """Every message text of every locale's corpus file."""
    messages = []
    for path in sorted(CORPUS.glob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line or line.startswith("#") or line == "label\ttext":
                continue
            messages.append(line.split("\t", 1)[1])
    return messages


def one_run(messages: list[str], repeat: int) -> float:
    """Messages per second for ``repeat`` passes over ``messages``."""
    start = time.perf_counter()
    for _ in range(repeat):
        for message in messages:
            assess(message)
    return len(messages) * repeat / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs (default 5)")
    parser.add_argument("--repeat", type=int, default=10, help="corpus passes per run")
    args = parser.parse_args()

    started = time.perf_counter()
    default_lexicon()
    load_ms = (time.perf_counter() - started) * 1000
    messages = corpus_messages()
    one_run(messages, 1)  # warm-up
    rates = [one_run(messages, args.repeat) for _ in range(args.runs)]
    median = statistics.median(rates)

    print(f"corpus messages : {len(messages)} ({args.repeat} passes per run, {args.runs} runs)")
    print(f"lexicon load    : {load_ms:.0f} ms (once per process)")
    print()
    print(f"{'':14}{'messages/s':>12}{'µs/message':>12}")
    for name, rate in (("median", median), ("slowest", min(rates)), ("fastest", max(rates))):
        print(f"{name:14}{rate:>12,.0f}{1e6 / rate:>12.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
