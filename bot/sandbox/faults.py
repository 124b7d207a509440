"""Planned failures for the next Bot API calls, so tests can see how the bot copes."""

from __future__ import annotations

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
    methods: frozenset[str] | None = None

    def matches(self, method: str) -> bool:
        return self.methods is None or method.lower() in self.methods


class FaultPlan:
    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def inject(
        self,
        kind: FaultKind,
        count: int,
        retry_after: int = 1,
        methods: set[str] | None = None,
    ) -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind must be one of {', '.join(FAULT_KINDS)}, not {kind!r}")
        if count < 1 or retry_after < 1:
            raise ValueError("count and retry_after must be at least 1")
        lowered = frozenset(m.lower() for m in methods) if methods else None
        self._faults.append(Fault(kind, count, retry_after, lowered))

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
