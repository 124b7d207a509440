"""Risk assessment throughput over the labelled corpus, with ``bench/risk_bench.py``'s own code."""

from __future__ import annotations

import statistics

from bench.risk_bench import corpus_messages, long_timings, one_run
from flows.risk import default_lexicon


def measure(runs: int, repeat: int) -> tuple[list[float], int]:
    """Messages per second of ``flows.risk.assess`` per run, and the corpus size."""
    default_lexicon()  # loaded once at start, as the bot does
    messages = corpus_messages()
    one_run(messages, 1)  # warm-up
    return [one_run(messages, repeat) for _ in range(runs)], len(messages)


def long_message_ms(runs: int) -> list[float]:
    """Per run: the median milliseconds of the slowest kind of 4,096-character message."""
    return [
        max(statistics.median(times) for times in long_timings(repeat=10).values())
        for _ in range(runs)
    ]
