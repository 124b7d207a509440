"""Throughput of flows.risk.assess over the labelled risk corpus.

Usage: python bench/risk_bench.py [--runs 5] [--repeat 10]

Each run assesses every corpus message (all locales) ``--repeat`` times in one process
and reports messages per second; the table shows the median, slowest and fastest run.
The second table reads each message as the bot reads a message below crisis from someone
who has just written: again with the two corpus messages before it, as if the same person
had sent them (flows/risk/context.py), the cost in a burst of chat.
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
from flows.risk.context import EARLIER_MESSAGES, in_context  # noqa: E402

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


LONG = 4096  # characters: Telegram's longest text message


def long_messages() -> dict[str, str]:
    """4,096-character messages of the kinds that cost most: ordinary chat in each script
    (built from the corpus's everyday messages), a message full of crisis words, one full
    of denials (every hit is judged), letters spaced out and hidden behind asterisks."""
    everyday: dict[str, list[str]] = {"en": [], "zh": []}
    for path in sorted(CORPUS.glob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("none\t"):
                everyday["en" if path.stem == "en" else "zh"].append(line.split("\t", 1)[1])

    def fill(parts: list[str], separator: str = " ") -> str:
        text = separator.join(parts)
        return (text * (LONG // max(1, len(text)) + 1))[:LONG]

    return {
        "everyday English": fill(everyday["en"], ". "),
        "everyday Chinese": fill(everyday["zh"], "。"),
        "mixed scripts": fill(
            [a + " " + b for a, b in zip(everyday["en"], everyday["zh"], strict=False)]
        ),
        "crisis words throughout": fill(["i want to die", "我不想活了", "kill myself"]),
        "denials throughout": fill(["i'm not going to kill myself", "我不会自杀的"], ", "),
        "spaced-out letters": fill(["k i l l m y s e l f"]),
        "asterisks": fill(["k*ll m*self s*icide"]),
    }


def long_timings(repeat: int = 20) -> dict[str, list[float]]:
    """Milliseconds per assessment of each long message (``repeat`` times each)."""
    timings = {}
    for name, text in long_messages().items():
        assess(text)  # warm-up
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            assess(text)
            times.append((time.perf_counter() - start) * 1000)
        timings[name] = times
    return timings


def one_run(messages: list[str], repeat: int) -> float:
    """Messages per second for ``repeat`` passes over ``messages``."""
    start = time.perf_counter()
    for _ in range(repeat):
        for message in messages:
            assess(message)
    return len(messages) * repeat / (time.perf_counter() - start)


def one_run_in_context(messages: list[str], repeat: int) -> float:
    """Messages per second for ``repeat`` passes, each message read alone and, when below
    crisis, again with the ``EARLIER_MESSAGES`` messages before it."""
    start = time.perf_counter()
    for _ in range(repeat):
        for n, message in enumerate(messages):
            in_context(assess(message), messages[max(0, n - EARLIER_MESSAGES) : n], message)
    return len(messages) * repeat / (time.perf_counter() - start)


def print_rates(title: str, rates: list[float]) -> None:
    print(f"{title:14}{'messages/s':>12}{'µs/message':>12}")
    median = statistics.median(rates)
    for name, rate in (("median", median), ("slowest", min(rates)), ("fastest", max(rates))):
        print(f"{name:14}{rate:>12,.0f}{1e6 / rate:>12.1f}")


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
    in_context_rates = [one_run_in_context(messages, args.repeat) for _ in range(args.runs)]

    print(f"corpus messages : {len(messages)} ({args.repeat} passes per run, {args.runs} runs)")
    print(f"lexicon load    : {load_ms:.0f} ms (once per process)")
    print()
    print_rates("alone", rates)
    print()
    print_rates("in context", in_context_rates)
    print()
    print(f"{LONG:,}-character messages, ms per message (20 each):")
    print(f"{'':26}{'median':>8}{'slowest':>9}")
    for name, times in long_timings().items():
        print(f"{name:26}{statistics.median(times):>8.2f}{max(times):>9.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
