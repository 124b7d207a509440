"""Escalations to human peer workers: the lifecycle, tiers, and what opening, the clocks and
a person leaving do. Staff commands and the relay are in ``flows.desk``.

Pure: the shell loads the escalation rows a person is part of (as ``Case``) and the people
concerned (as ``Party``), calls a function here, applies the effects it returns in one
transaction and sends. The lifecycle machine is the one authority on which change may
happen from which state: every ``ChangeCase`` is checked against it here, and the shell's
conditional UPDATE takes its WHERE clause from ``Lifecycle.sources``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from transitions import Machine, MachineError

from flows.effects import (
    AddReason,
    ChangeCase,
    Choice,
    EditCards,
    Effect,
    PostCard,
    SetSelection,
    Tell,
)
from flows.roles import Role
from flows.text import LANGUAGE_NAMES, N_, Lines, Localised, Msg, Raw, Text, msg


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
    "family_danger": Tier.URGENT,  # a relative ticked "talking about death"
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
    "family_danger": N_("reason.family_danger"),
    "request": N_("reason.request"),
    "family": N_("reason.family"),
    "flag": N_("reason.flag"),
    "silence": N_("reason.silence"),
    "concern": N_("reason.concern"),
}
# Outcomes a worker chooses when closing a chat.
OUTCOMES = {
    "resolved": N_("outcome.resolved"),
    "referred": N_("outcome.referred"),
    "emergency": N_("outcome.emergency"),
    "unreachable": N_("outcome.unreachable"),
}
# Outcomes nobody chooses: the person an escalation is about left (and what the holder is told).
LEFT = {
    "subject_blocked": N_("escalation.subject_blocked"),
    "subject_erased": N_("escalation.subject_erased"),
    "subject_role_changed": N_("escalation.subject_role_changed"),
}

# How a person is named to staff: by role and alias, never by anything Telegram knows.
_WHO = {
    Role.CLIENT: N_("who.client"),
    Role.FAMILY: N_("who.family"),
}


class InvalidChange(Exception):
    """The escalation is not in a state where this can happen (a stale card, a double tap)."""


class _Lifecycle:
    """Holds the current state while the shared machine checks and applies one change."""

    state: str


class Lifecycle:
    """open → claimed → active → resolved; released back to open; assigned or transferred to
    another worker; reasons added and clocks run out while unresolved."""

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

    @classmethod
    def dest(cls, change: str) -> str | None:
        """The state ``change`` leads to, or None when it leaves the state as it is."""
        targets = {t["dest"] for t in cls.TRANSITIONS if t["trigger"] == change}
        assert len(targets) == 1, change
        target = targets.pop()
        return None if target == "=" else str(target)

    @classmethod
    def sources(cls, change: str) -> tuple[str, ...]:
        """Every state ``change`` may happen from: the shell's UPDATE requires one of them."""
        return tuple(state for state in cls.STATES if cls.allowed(state, change))


# A peer worker holds the chat (and talks to its person) in these states.
HELD = Lifecycle.sources("release")
UNRESOLVED = Lifecycle.sources("resolve")


@dataclass(frozen=True, slots=True)
class Party:
    """A person as escalations know them: an id, a role and an alias (never a name)."""

    id: int
    role: Role
    alias: str
    locale: str = "en"
    # Their region's emergency number, as a subject is told it (None: "your local one").
    emergency: Msg | Raw | Localised | None = None

    @property
    def who(self) -> Msg | Raw:
        """ "client K7Q2X", "relative M3P9Q", or a staff member's alias."""
        label = _WHO.get(self.role)
        return msg(label, alias=Raw(self.alias)) if label else Raw(self.alias)


@dataclass(frozen=True, slots=True)
class Case:
    """One unresolved escalation as the shell loaded it (its row locked where it matters)."""

    id: int
    ref: str
    subject: Party
    state: str
    tier: Tier
    opened_at: datetime
    holder: Party | None = None
    reminders: int = 0
    claim_due_at: datetime | None = None
    reply_due_at: datetime | None = None
    reasons: tuple[str, ...] = ()  # sources, oldest first

    @property
    def held(self) -> bool:
        return self.state in HELD and self.holder is not None

    def held_by(self, person_id: int) -> bool:
        return self.held and self.holder is not None and self.holder.id == person_id

    @property
    def label(self) -> Msg:
        """ "#12 · client K7Q2X": how the case is named on buttons and in lists."""
        return msg(N_("escalation.case_label"), id=self.id, who=self.subject.who)


@dataclass(frozen=True, slots=True)
class Roster:
    """Who hears about new and waiting escalations: staff on duty, and all supervisors."""

    on_duty: tuple[Party, ...] = ()
    supervisors: tuple[Party, ...] = ()


@dataclass(frozen=True, slots=True)
class CaseRules:
    """The program's service levels (settings)."""

    claim_within: Mapping[Tier, timedelta] = field(
        default_factory=lambda: {
            Tier.URGENT: timedelta(minutes=5),
            Tier.SAME_DAY: timedelta(hours=2),
            Tier.ROUTINE: timedelta(days=1),
        }
    )
    reply_within: timedelta = timedelta(minutes=15)
    max_active: int = 5
    after_hours_note: Localised | None = None  # when the team is back, per locale

    def claim_due(self, tier: Tier, now: datetime) -> datetime:
        return now + self.claim_within[tier]


def change(
    case: Case, trigger: str, actor_id: int | None, now: datetime, **values: Any
) -> ChangeCase:
    """A lifecycle change of ``case``, checked against the machine now (InvalidChange if the
    case is in no state to allow it) and guarded in the shell by the holder seen here."""
    Lifecycle.after(case.state, trigger)
    return ChangeCase(
        case.id,
        trigger,
        actor_id,
        case.holder.id if case.holder and case.state in HELD else None,
        now,
        case.state,
        **values,
    )


# -- opening ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Opening:
    """What the shell found when it made sure an escalation is open about someone: the case
    (state and tier as they were before this reason), whether this reason opened it, and
    whether crisis language was already added in the last minutes (then nobody is alerted
    again for each message of the same crisis)."""

    case: Case
    new: bool
    recent_crisis: bool = False


@dataclass(frozen=True, slots=True)
class Reason:
    source: str
    detail: tuple[tuple[str, object], ...] = ()
    from_id: int | None = None  # a relative who raised a concern
    note: str = ""  # in their own words

    @property
    def tier(self) -> Tier:
        return SOURCE_TIERS[self.source]


def crisis_reason(
    categories: tuple[str, ...], layers: tuple[str, ...], relative_id: int | None, words: str
) -> Reason:
    """Crisis language as a reason for a human to look: the person's own, or a relative's
    about the client they are linked to (``relative_id``; then it says who raised it and
    keeps their words)."""
    detail: tuple[tuple[str, object], ...] = (
        ("categories", list(categories)),
        ("layers", list(layers)),
    )
    if relative_id is None:
        return Reason("crisis", detail)
    return Reason("family_danger", (*detail, ("about", "relative")), relative_id, words[:2000])


def add_reason(
    opening: Opening,
    reason: Reason,
    roster: Roster,
    relatives: tuple[int, ...],
    rules: CaseRules,
    now: datetime,
    tell_subject: bool,
) -> tuple[Effect, ...]:
    """A new reason for a human to look: cards to staff for a new (or newly urgent, still
    unclaimed) escalation, the holder told of a new reason, relatives who may be told that the
    team is following up, and — when the person asked — what happens next and when."""
    case, tier = opening.case, reason.tier
    effects: list[Effect] = []
    if not opening.new:
        raised = higher(case.tier, tier)
        if raised != case.tier:
            due = (
                min(case.claim_due_at or now, rules.claim_due(raised, now))
                if case.state == "open"
                else None
            )
            effects.append(
                change(case, "add_reason", reason.from_id, now, tier=raised.value, claim_due_at=due)
            )
            case = _with(case, tier=raised)
        else:
            Lifecycle.after(case.state, "add_reason")
    effects.append(AddReason(case.id, reason))
    case = _with(case, reasons=(*case.reasons, reason.source))
    if opening.new or (
        case.state == "open" and tier is Tier.URGENT and not opening.recent_crisis
    ):  # staff are not sent a card for each message of the same crisis
        effects += cards(case, roster, now)
    if opening.new and case.subject.role is Role.CLIENT:
        effects += [
            Tell(relative, Msg(N_("family.alert")))
            for relative in relatives
            if relative != reason.from_id  # the relative who raised it knows
        ]
    elif (
        case.held
        and case.holder is not None
        and not (tier is Tier.URGENT and opening.recent_crisis)
    ):
        effects.append(
            Tell(
                case.holder.id,
                msg(
                    N_("escalation.new_reason"),
                    case=case.label,
                    reason=Msg(SOURCE_LABELS[reason.source]),
                ),
            )
        )
        if tier is Tier.URGENT:  # and a supervisor knows a held chat has turned urgent
            effects += [
                Tell(
                    s.id,
                    msg(
                        N_("escalation.crisis_while_held"),
                        case=case.label,
                        worker=Raw(case.holder.alias),
                    ),
                )
                for s in roster.supervisors
                if s.id != case.holder.id
            ]
    if tell_subject:
        effects.append(Tell(case.subject.id, _what_next(case, roster, rules)))
    return tuple(effects)


def _what_next(case: Case, roster: Roster, rules: CaseRules) -> Text:
    if case.held:
        return Msg(N_("escalation.already_with_person"))
    if not roster.on_duty:
        emergency = case.subject.emergency or Msg(N_("crisis.local_emergency"))
        nobody = msg(N_("escalation.nobody_on_duty"), emergency=emergency)
        if rules.after_hours_note:
            return Lines((nobody, rules.after_hours_note))
        return nobody
    return msg(N_("escalation.requested"), within=rules.claim_within[case.tier])


def _with(case: Case, **values: Any) -> Case:
    fields = {name: getattr(case, name) for name in Case.__dataclass_fields__}
    fields.update(values)
    return Case(**fields)


def cards(case: Case, roster: Roster, now: datetime, leaving: int | None = None) -> list[Effect]:
    """A card with a Claim button to every staff member on duty, and to the supervisors when
    it is urgent or nobody is on duty (``leaving``: a worker giving it back gets none)."""
    staff = {p.id: p for p in roster.on_duty}
    if case.tier is Tier.URGENT or not roster.on_duty:
        staff.update({p.id: p for p in roster.supervisors})
    staff.pop(leaving or -1, None)
    lines: list[Msg | Raw] = [
        msg(
            N_("escalation.card"),
            tier=Msg(TIER_LABELS[case.tier]),
            case=case.label,
            language=Raw(LANGUAGE_NAMES.get(case.subject.locale, case.subject.locale)),
            waited=max(now - case.opened_at, timedelta(seconds=1)),
        ),
        *(
            msg(N_("escalation.card.reason"), reason=Msg(SOURCE_LABELS[s]))
            for s in list(dict.fromkeys(case.reasons))[-3:]  # each reason once
        ),
    ]
    if not roster.on_duty:
        lines.append(Msg(N_("escalation.card.nobody_on_duty")))
    claim = (Choice(Msg(N_("escalation.claim")), f"/claim {case.id} {case.ref}"),)
    return [PostCard(member.id, case.id, Lines(tuple(lines)), claim) for member in staff.values()]


def taken_card(case: Case, holder: Party) -> EditCards:
    return EditCards(
        case.id, msg(N_("escalation.card.taken"), case=case.label, worker=Raw(holder.alias))
    )


def closed_card(case: Case) -> EditCards:
    return EditCards(case.id, msg(N_("escalation.card.closed"), case=case.label))


# -- the clocks --------------------------------------------------------------------------------


def overdue(case: Case, roster: Roster, rules: CaseRules, now: datetime) -> tuple[Effect, ...]:
    """Unclaimed past its time: the cards again, and the supervisors told. Claimed but not
    answered: the worker reminded once, then the supervisors told."""
    waited = max(now - case.opened_at, timedelta(seconds=1))
    if case.state == "open":
        return (
            change(case, "overdue", None, now, claim_due_at=rules.claim_due(case.tier, now)),
            *cards(case, roster, now),
            *(
                Tell(s.id, msg(N_("escalation.overdue_claim"), case=case.label, waited=waited))
                for s in roster.supervisors
            ),
        )
    assert case.holder is not None
    effects: list[Effect] = [
        change(case, "overdue", None, now, reply_due_at=now + rules.reply_within)
    ]
    if case.reminders == 0:
        effects.append(Tell(case.holder.id, msg(N_("escalation.reply_reminder"), case=case.label)))
    else:
        effects += [
            Tell(
                s.id,
                msg(N_("escalation.overdue_reply"), case=case.label, worker=Raw(case.holder.alias)),
            )
            for s in roster.supervisors
        ]
    return tuple(effects)


# -- after it closes ------------------------------------------------------------------------------


def rated(rater_id: int, subject_id: int | None, state: str | None) -> tuple[bool, Msg]:
    """Whether a rating counts (only the person a closed chat was about rates it; a stale
    button does not) and what they are told."""
    if subject_id == rater_id and state == "resolved":
        return True, Msg(N_("escalation.thanks_for_rating"))
    return False, Msg(N_("input.stale_button"))


# -- people leaving --------------------------------------------------------------------------------


def subject_left(case: Case, outcome: str, now: datetime) -> tuple[Effect, ...]:
    """The person an escalation is about blocked the bot, erased their data or changed role:
    the chat closes, and whoever held it is told at once (their message choice is cleared)."""
    effects: list[Effect] = [change(case, "resolve", None, now, outcome=outcome), closed_card(case)]
    if case.held and case.holder is not None:
        effects += [
            SetSelection(case.holder.id, None),
            Tell(case.holder.id, msg(LEFT[outcome], case=case.label)),
        ]
    return tuple(effects)


def released(
    case: Case, worker: Party, roster: Roster, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    """A held chat goes back to the queue: its person is told, and staff get cards again."""
    effects: list[Effect] = [
        change(case, "release", worker.id, now, claim_due_at=rules.claim_due(case.tier, now)),
        Tell(case.subject.id, Msg(N_("escalation.released_client"))),
    ]
    reopened = _with(case, state="open", holder=None)
    effects += cards(reopened, roster, now, leaving=worker.id)
    return tuple(effects)


def worker_left(
    worker: Party,
    held: tuple[Case, ...],
    roster: Roster,
    rules: CaseRules,
    now: datetime,
    tell_worker: Text | None,
) -> tuple[Effect, ...]:
    """A worker blocked the bot, was erased or is no longer staff: every chat they hold goes
    back to the queue, and nothing they send is relayed any more."""
    effects: list[Effect] = [SetSelection(worker.id, None)]
    for case in held:
        effects += released(case, worker, roster, rules, now)
    if tell_worker is not None:
        effects.append(Tell(worker.id, tell_worker))
    return tuple(effects)


__all__ = [
    "HELD",
    "OUTCOMES",
    "UNRESOLVED",
    "Case",
    "CaseRules",
    "InvalidChange",
    "Lifecycle",
    "Opening",
    "Party",
    "Reason",
    "Roster",
    "Tier",
    "add_reason",
    "cards",
    "crisis_reason",
    "overdue",
    "rated",
    "subject_left",
    "worker_left",
]
