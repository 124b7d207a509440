"""What a flow may know about the person it talks to, and the program's rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Any

from flows.crisis import Numbers
from flows.desk import Desk
from flows.escalation import Case
from flows.roles import Role


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
    # The unresolved escalation about this person (a client, or a relative), if any: while
    # a worker holds it their messages go to that worker; until then they are kept for one.
    case: Case | None = None
    # A peer worker's or supervisor's chats and the one their messages go to.
    desk: Desk | None = None
    # The emergency number and crisis lines for their region, from the shell's table.
    numbers: Numbers = field(default_factory=Numbers)


@dataclass(frozen=True, slots=True)
class Rules:
    """Program settings a flow needs to decide (quiet hours, text limits)."""

    quiet_start: time = time(22, 0)
    quiet_end: time = time(8, 0)
    max_text_length: int = 2000
    program_zone: str = "Asia/Shanghai"  # the zone activities are entered in

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
    message_id: int | None = None  # the person's own message (text, media, command)
    via_button: bool = False  # a command carried by a button rather than typed
    # A worker's Telegram reply to a message that belongs to this escalation (looked up by
    # the shell in the worker's chat); None when it is not a reply, or to nothing relayed.
    reply_case: int | None = None
    # A worker's Telegram reply to a message no escalation is known for (erased or purged).
    reply_unknown: bool = False
    # What the crisis screen found in the text: none, concern or crisis; and whether it is
    # about someone else (a relative reporting).
    risk: str = "none"
    risk_about_others: bool = False
    # The crisis words were denied or in the past ("I'm not going to…", "I used to…").
    risk_softened: bool = False
    # What the shell loaded for this event because a feature declared it needs it, keyed by
    # ``flows.facts.Fact`` (today's answers, warning signs, whether an alias is taken ...).
    data: Mapping[str, Any] = field(default_factory=dict)
