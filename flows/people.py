"""What a flow may know about the person it talks to, and the program's rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    CLIENT = "client"
    FAMILY = "family"
    PEER_WORKER = "peer_worker"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def is_staff(self) -> bool:
        return self in (Role.PEER_WORKER, Role.SUPERVISOR, Role.ADMIN)

    @property
    def has_alias(self) -> bool:
        return self in (Role.PEER_WORKER, Role.SUPERVISOR)


LOCALES = ("en", "zh_Hans", "zh_Hant")


@dataclass(frozen=True, slots=True)
class PersonView:
    """A read-only snapshot of the person, taken by the shell before the flow runs."""

    id: int
    role: Role
    locale: str
    timezone: str
    region: str | None = None
    checkin_time: time | None = None
    alias: str | None = None
    on_duty: bool = False
    paused: bool = False
    onboarded: bool = False
    lesson_days: str | None = None
    # A client whose chat a peer worker holds: their messages are relayed to that worker.
    held: bool = False
    # A worker's held escalations, and the one their plain messages go to.
    holding: tuple[int, ...] = ()
    selected_escalation: int | None = None


@dataclass(frozen=True, slots=True)
class Rules:
    """Program settings a flow needs to decide (quiet hours, text limits)."""

    quiet_start: time = time(22, 0)
    quiet_end: time = time(8, 0)
    max_text_length: int = 2000

    def is_quiet(self, at: time) -> bool:
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= at < self.quiet_end
        return at >= self.quiet_start or at < self.quiet_end


@dataclass(frozen=True, slots=True)
class Event:
    """Something the person did. ``kind`` is one of: start, text, choice, command, media,
    edited, stale (a button from an earlier question, pressed mid-flow), timer."""

    kind: str
    value: str = ""
    argument: str = ""
    now: datetime | None = None
    # What the shell looked up for the flow beforehand, e.g. "alias_taken".
    facts: frozenset[str] = frozenset()
    # Data the shell loaded for this flow or command (today's answers, warning signs...).
    data: Mapping[str, Any] = field(default_factory=dict)
