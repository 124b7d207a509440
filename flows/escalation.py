"""Escalations to human peer workers: the lifecycle, tiers, and who may see or do what.

The lifecycle is one shared ``transitions`` machine. The shell asks it whether a change is
allowed from the stored state and stores the result; the atomic part of claiming (exactly
one worker wins) is a conditional update in the shell.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

from transitions import Machine, MachineError

from flows.people import Role
from flows.text import N_


class Tier(StrEnum):
    URGENT = "urgent"
    SAME_DAY = "same_day"
    ROUTINE = "routine"

    @property
    def rank(self) -> int:
        return {Tier.URGENT: 0, Tier.SAME_DAY: 1, Tier.ROUTINE: 2}[self]


def higher(a: Tier, b: Tier) -> Tier:
    return a if a.rank <= b.rank else b


# Where an escalation comes from, and the tier each source opens with.
SOURCE_TIERS = {
    "crisis": Tier.URGENT,
    "request": Tier.SAME_DAY,
    "family": Tier.SAME_DAY,
    "flag": Tier.ROUTINE,
    "silence": Tier.ROUTINE,
    "concern": Tier.ROUTINE,
}

TIER_LABELS = {
    Tier.URGENT: N_("tier.urgent"),
    Tier.SAME_DAY: N_("tier.same_day"),
    Tier.ROUTINE: N_("tier.routine"),
}
SOURCE_LABELS = {
    "crisis": N_("reason.crisis"),
    "request": N_("reason.request"),
    "family": N_("reason.family"),
    "flag": N_("reason.flag"),
    "silence": N_("reason.silence"),
    "concern": N_("reason.concern"),
}
OUTCOMES = {
    "resolved": N_("outcome.resolved"),
    "referred": N_("outcome.referred"),
    "emergency": N_("outcome.emergency"),
    "unreachable": N_("outcome.unreachable"),
}


class InvalidChange(Exception):
    """The escalation is not in a state where this can happen (a stale card, a double tap)."""


class _Lifecycle:
    """Holds the current state while the shared machine checks and applies one change."""

    state: str


class Lifecycle:
    """open → claimed → active → resolved; released back to open; transferred to another worker."""

    STATES: ClassVar[list[str]] = ["open", "claimed", "active", "resolved"]
    TRANSITIONS: ClassVar[list[dict[str, Any]]] = [
        {"trigger": "claim", "source": "open", "dest": "claimed"},
        {"trigger": "assign", "source": ["open", "claimed", "active"], "dest": "claimed"},
        {"trigger": "reply", "source": ["claimed", "active"], "dest": "active"},
        {"trigger": "release", "source": ["claimed", "active"], "dest": "open"},
        {"trigger": "transfer", "source": ["claimed", "active"], "dest": "claimed"},
        {"trigger": "resolve", "source": ["open", "claimed", "active"], "dest": "resolved"},
        {"trigger": "add_reason", "source": ["open", "claimed", "active"], "dest": "="},
        {"trigger": "overdue", "source": ["open", "claimed", "active"], "dest": "="},
    ]
    machine = Machine(
        model=None,
        states=STATES,
        transitions=TRANSITIONS,
        initial="open",
        auto_transitions=False,
        ignore_invalid_triggers=False,
    )

    @classmethod
    def after(cls, state: str, change: str) -> str:
        """The state after ``change`` from ``state``, or InvalidChange."""
        model = _Lifecycle()
        cls.machine.add_model(model, initial=state)
        try:
            model.trigger(change)  # type: ignore[attr-defined]
        except (MachineError, AttributeError) as exc:
            raise InvalidChange(f"cannot {change} an escalation that is {state}") from exc
        finally:
            cls.machine.remove_model(model)
        return model.state

    @classmethod
    def allowed(cls, state: str, change: str) -> bool:
        try:
            cls.after(state, change)
        except InvalidChange:
            return False
        return True


@dataclass(frozen=True, slots=True)
class Route:
    """Where a worker's plain message should go: an escalation id, or why it cannot go."""

    escalation_id: int | None
    problem: str | None = None  # message id


def route_worker_message(replied_to: int | None, selected: int | None, held: list[int]) -> Route:
    """Never to the wrong person: a reply goes to its chat; otherwise the selected chat;
    otherwise the only chat; with several and none selected, refuse and ask."""
    if replied_to is not None:
        if replied_to in held:
            return Route(replied_to)
        return Route(None, N_("relay.reply_to_closed_chat"))
    if not held:
        return Route(None, N_("relay.no_chat"))
    if selected is not None and selected in held:
        return Route(selected)
    if len(held) == 1:
        return Route(held[0])
    return Route(None, N_("relay.choose_chat"))


STAFF = frozenset({Role.PEER_WORKER, Role.SUPERVISOR})


def may_see(role: Role, viewer_id: int, state: str, claimed_by: int | None) -> bool:
    """A worker sees escalations that are open or theirs; a supervisor sees all."""
    if role is Role.SUPERVISOR:
        return True
    if role is Role.PEER_WORKER:
        return state == "open" or claimed_by == viewer_id
    return False
