"""Planned failures for the next Bot API calls, so tests can see how the bot copes."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal, get_args

FaultKind = Literal["429", "500", "drop", "drop_after"]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)


@dataclass
class Fault:
    """`remaining` more calls (to `methods`, or to any method) fail as `kind`.

    "429" answers Too Many Requests with retry_after, "500" Internal Server Error, "drop"
    closes the connection before doing anything, "drop_after" does the call and then
    closes the connection without answering (the bot cannot know it worked).
    """

    kind: FaultKind
    remaining: int
    retry_after: int = 1
    methods: Collection[str] | None = None

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(
                f"fault kind must be one of {', '.join(FAULT_KINDS)}, not {self.kind!r}"
            )
        if self.remaining < 1 or self.retry_after < 1:
            raise ValueError("count and retry_after must be at least 1")
        # Telegram matches method names without regard to case.
        self.methods = frozenset(m.lower() for m in self.methods) if self.methods else None

    def matches(self, method: str) -> bool:
        return self.methods is None or method.lower() in self.methods


class FaultPlan:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def take(self, method: str) -> Fault | None:
        """The fault this call suffers, if any; each call uses up one."""
        for fault in self._faults:
            if fault.matches(method):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        self._faults.clear()

    @property
    def pending(self) -> list[Fault]:
        return list(self._faults)
