"""One measured metric: its runs, its target, and whether the median meets it."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Metric:
    """A number measured ``len(values)`` times; the median is compared with the target."""

    section: str
    name: str
    unit: str
    values: list[float]
    target: str = ""  # as shown, e.g. "≥ 1,000"
    meets: Callable[[float], bool] | None = None
    digits: int = 0
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.values) if self.values else float("nan")

    @property
    def passed(self) -> bool | None:
        if self.meets is None or not self.values:
            return None
        return self.meets(self.median)

    def fmt(self, value: float) -> str:
        return f"{value:,.{self.digits}f}"

    @property
    def spread(self) -> str:
        if not self.values:
            return "—"
        return f"{self.fmt(min(self.values))} – {self.fmt(max(self.values))}"

    @property
    def verdict(self) -> str:
        return {True: "met", False: "**missed**", None: "—"}[self.passed]


def at_least(limit: float) -> Callable[[float], bool]:
    return lambda value: value >= limit


def at_most(limit: float) -> Callable[[float], bool]:
    return lambda value: value <= limit


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0–1) by the nearest-rank method; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q * len(ordered))))
    return ordered[rank - 1]
