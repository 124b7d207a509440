"""Looking after peer workers: the debrief after a crisis chat, the team on duty, reviews
and supervision notes. Pure, like ``flows.desk``: the shell loads ``TeamFacts`` for a
``SupervisionRequest`` and applies what :func:`decide` returns.

Peer-provided services work when their workers are trained, supervised and clear about
their role (Solomon 2004). A worker who has just closed a chat about suicide is asked,
privately, how they are; asking for a supervisor's call alerts every supervisor at once.
Supervision notes are about a worker: only supervisors and that worker read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flows.commands import parse_number
from flows.effects import (
    AddSupervisionNote,
    Choice,
    Effect,
    Notice,
    OpenReview,
    RecordDebrief,
    Say,
    SetSelection,
    ShowAnswer,
    ShowContext,
    SupervisionRequest,
    TakeReview,
    Tell,
    UpdatePerson,
)
from flows.escalation import Case, CaseRules, Party, Roster, released
from flows.lessons.training import TRAINING
from flows.roles import STAFF, Role
from flows.text import N_, Lines, Msg, Raw, msg

# Reasons after which the worker who closes the chat is asked how they are.
CRISIS_SOURCES = frozenset({"crisis", "family_danger"})

DEBRIEF_ANSWERS = {
    "ok": N_("debrief.ok"),
    "shaken": N_("debrief.shaken"),
    "call": N_("debrief.call"),
}
MAX_NOTE = 2000


def debrief_prompt(case: Case, worker: Party) -> tuple[Effect, ...]:
    """After a chat that had a crisis reason, the worker who closed it is asked how they are
    (nobody else sees the question or the answer)."""
    if not CRISIS_SOURCES & set(case.reasons):
        return ()
    return (
        Tell(
            worker.id,
            msg(N_("debrief.ask"), case=case.label),
            tuple(
                Choice(Msg(label), f"/debrief {case.id} {key}")
                for key, label in DEBRIEF_ANSWERS.items()
            ),
        ),
    )


# -- duty ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Duty:
    """A staff member's duty clock: the stretch on duty now (since their last break), the
    shift it belongs to (stretches with breaks shorter than ``long_gap`` between them), and
    when they last went off duty."""

    since: datetime | None = None
    shift_started: datetime | None = None
    off_at: datetime | None = None


def duty_after(duty: Duty, on: bool, now: datetime, long_gap: timedelta) -> Duty:
    """The clock after going on or off duty: a break shorter than ``long_gap`` keeps the
    shift going; a longer one starts a new shift."""
    if on:
        if duty.since is not None:
            return duty
        new_shift = (
            duty.shift_started is None or duty.off_at is None or now - duty.off_at >= long_gap
        )
        return Duty(now, now if new_shift else duty.shift_started, duty.off_at)
    if duty.since is None:
        return duty
    return Duty(None, duty.shift_started, now)


def duty_reminder(worker: Party, since: datetime, now: datetime) -> Tell:
    """A worker on duty for longer than the program's limit is reminded to take a break."""
    return Tell(
        worker.id,
        msg(N_("team.duty_reminder"), since=max(now - since, timedelta(seconds=1))),
        (
            Choice(Msg(N_("team.go_off_duty")), "/offduty"),
            Choice(Msg(N_("team.hand_back")), "/handback"),
        ),
    )


# -- what the shell loads --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Member:
    """A staff member as /team shows them."""

    party: Party
    on_duty: bool
    duty: Duty
    holding: int  # chats held now
    closed_week: int  # chats they closed in the last seven days
    trained: int = 0  # lessons of the training course finished


@dataclass(frozen=True, slots=True)
class Review:
    """A chat a worker asked a supervisor to look at with them."""

    id: int
    case: Case
    worker: Party
    note: str
    at: datetime
    taken_by: str | None = None  # the alias of the supervisor who opened it


@dataclass(frozen=True, slots=True)
class Note:
    """A supervision note about a worker (decrypted)."""

    at: datetime
    author: str
    text: str


@dataclass(frozen=True, slots=True)
class TeamFacts:
    """What deciding a ``SupervisionRequest`` needs; the shell loads what the request names."""

    me: Party
    case: Case | None = None  # debrief, review: the chat the request names
    debriefed: bool = False  # debrief: this worker already answered for this chat
    held: tuple[Case, ...] = ()  # handback, review: the chats the asker holds (locked)
    chosen: int | None = None  # the asker's chosen chat
    roster: Roster = field(default_factory=Roster)
    members: tuple[Member, ...] = ()  # team
    reviews: tuple[Review, ...] = ()  # reviews: the open ones, oldest first
    review: Review | None = None  # reviews <id>: that one
    targets: tuple[Party, ...] = ()  # supnote, supnotes: staff whose alias is the request's
    notes: tuple[Note, ...] = ()  # supnotes: the newest notes about the worker, oldest first


# -- parsing the commands ----------------------------------------------------------------------


def parse(name: str, argument: str, via_button: bool) -> SupervisionRequest | tuple[Effect, ...]:
    """A supervision command as a request for facts, or its usage."""
    parts = argument.split()
    if name == "debrief":
        number = parse_number(parts[0]) if len(parts) == 2 else None
        if number is None or parts[1] not in DEBRIEF_ANSWERS:
            return (Notice(Msg(N_("input.stale_button"))),)
        return SupervisionRequest("debrief", number, answer=parts[1], via_button=via_button)
    if name == "review":
        first = parts[0] if parts else ""
        number = parse_number(first.removeprefix("#")) if first.startswith("#") else None
        text = argument.strip()[len(first) :].strip() if number is not None else argument.strip()
        return SupervisionRequest("review", number, text=text[:MAX_NOTE])
    if name == "reviews":
        number = parse_number(parts[0]) if parts else None
        if parts and number is None:
            return (Say(Msg(N_("review.usage_supervisor"))),)
        return SupervisionRequest("reviews", number, via_button=via_button)
    if name == "supnote":
        if len(parts) < 2:
            return (Say(Msg(N_("supnote.usage"))),)
        text = argument.strip()[len(parts[0]) :].strip()
        return SupervisionRequest("supnote", alias=parts[0], text=text[:MAX_NOTE])
    if name == "supnotes":
        return SupervisionRequest("supnotes", alias=parts[0] if parts else None)
    if name in ("team", "handback"):
        return SupervisionRequest(name)
    raise AssertionError(f"not a supervision request: {name}")


def decide(
    request: SupervisionRequest, facts: TeamFacts, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    handler = {
        "debrief": _debrief,
        "team": _team,
        "handback": _handback,
        "review": _review,
        "reviews": _reviews,
        "supnote": _supnote,
        "supnotes": _supnotes,
    }[request.action]
    return handler(request, facts, rules, now)


# -- the debrief -------------------------------------------------------------------------------


def _debrief(
    request: SupervisionRequest, facts: TeamFacts, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    """Only the worker who closed the chat answers, once; "call me" alerts every supervisor
    now (the worker hears whether anyone was told)."""
    case, me = facts.case, facts.me
    if (
        case is None
        or case.state != "resolved"
        or case.holder is None
        or case.holder.id != me.id
        or facts.debriefed
    ):
        return (Notice(Msg(N_("input.stale_button"))),)
    answer = request.answer or "ok"
    effects: list[Effect] = [
        RecordDebrief(case.id, me.id, answer),
        ShowAnswer(Msg(DEBRIEF_ANSWERS[answer])),
    ]
    if answer == "ok":
        effects.append(Say(Msg(N_("debrief.thanks_ok"))))
    elif answer == "shaken":
        effects.append(Say(Msg(N_("debrief.thanks_shaken"))))
    else:
        supervisors = [s for s in facts.roster.supervisors if s.id != me.id]
        effects += [
            Tell(
                s.id,
                msg(N_("debrief.call_alert"), worker=Raw(me.alias), case=case.label),
            )
            for s in supervisors
        ]
        effects.append(
            Say(Msg(N_("debrief.call_sent") if supervisors else N_("debrief.call_nobody")))
        )
    return tuple(effects)


# -- the team -----------------------------------------------------------------------------------


def _team(
    request: SupervisionRequest, facts: TeamFacts, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    """Who is on duty and for how long, since their last break, and the chats each holds."""
    on = [m for m in facts.members if m.on_duty]
    off = [m for m in facts.members if not m.on_duty]
    lines: list[Msg | Raw] = [Msg(N_("team.heading"))]
    if not on:
        lines.append(Msg(N_("team.nobody_on_duty")))
    for member in on:
        since = member.duty.since or now
        shift = member.duty.shift_started or since
        lines.append(
            msg(
                N_("team.on_duty_line"),
                worker=Raw(member.party.alias),
                shift=max(now - shift, timedelta(seconds=1)),
                since_break=max(now - since, timedelta(seconds=1)),
                holding=member.holding,
                closed=member.closed_week,
                training=_training(member),
            )
        )
    if off:
        lines.append(Msg(N_("team.off_duty")))
        for member in off:
            lines.append(
                msg(
                    N_("team.off_duty_line"),
                    worker=Raw(member.party.alias),
                    holding=member.holding,
                    closed=member.closed_week,
                    training=_training(member),
                )
            )
    return (Say(Lines(tuple(lines))),)


def _training(member: Member) -> Msg:
    """How far a member is in the training course: "training 3/5", or ✅ when finished."""
    total = len(TRAINING.lessons)
    if member.trained >= total:
        return Msg(N_("team.trained"))
    return msg(N_("team.training"), done=member.trained, total=total)


def _handback(
    request: SupervisionRequest, facts: TeamFacts, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    """A worker who must stop gives every chat back to the queue and goes off duty."""
    me = facts.me
    # Cards go to whoever stays on duty, or to the supervisors when nobody does: never only
    # to the worker who is leaving.
    staying = Roster(
        tuple(p for p in facts.roster.on_duty if p.id != me.id), facts.roster.supervisors
    )
    effects: list[Effect] = [SetSelection(me.id, None)]
    for case in facts.held:
        effects += released(case, me, staying, rules, now)
    if facts.held:
        effects.append(
            Say(
                msg(
                    N_("team.handed_back"),
                    chats=Lines(tuple(case.label for case in facts.held)),
                )
            )
        )
    else:
        effects.append(Say(Msg(N_("team.handed_back_none"))))
    return (
        UpdatePerson(on_duty=False),
        *effects,
        Say(Msg(N_("duty.off")), menu=True),
    )


# -- reviews and supervision notes ------------------------------------------------------------------


def _review(
    request: SupervisionRequest, facts: TeamFacts, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    """A worker asks for supervision on a chat they hold or held (by "#id", else their chosen
    one); every supervisor hears of it."""
    me = facts.me
    case = facts.case
    if request.case_id is None:
        case = next((c for c in facts.held if c.id == facts.chosen), None)
        if case is None:
            if not facts.held:
                return (Say(Msg(N_("review.usage"))),)
            return (
                Say(
                    Msg(N_("review.which")),
                    # only the chat on the button (its data is at most 64 bytes): a note
                    # goes with a typed "/review #id note"
                    tuple(Choice(c.label, f"/review #{c.id}") for c in facts.held),
                ),
            )
    if case is None or case.holder is None or case.holder.id != me.id:
        return (Say(Msg(N_("escalation.not_found"))),)
    supervisors = [s for s in facts.roster.supervisors if s.id != me.id]
    return (
        OpenReview(case.id, me.id, request.text),
        Say(
            msg(N_("review.sent"), case=case.label)
            if supervisors
            else msg(N_("review.sent_nobody"), case=case.label)
        ),
        *(
            Tell(
                s.id,
                msg(N_("review.alert"), worker=Raw(me.alias), case=case.label),
                (Choice(Msg(N_("review.open")), "/reviews"),),
            )
            for s in supervisors
        ),
    )


def _reviews(
    request: SupervisionRequest, facts: TeamFacts, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    """The queue of reviews; one opened shows its chat's context card (read-only) and the
    worker's note."""
    if request.case_id is None:
        if not facts.reviews:
            return (Say(Msg(N_("review.queue_empty"))),)
        lines: list[Msg | Raw] = [Msg(N_("review.queue"))]
        lines += [
            msg(
                N_("review.queue_line"),
                id=r.id,
                worker=Raw(r.worker.alias),
                case=r.case.label,
                waited=max(now - r.at, timedelta(seconds=1)),
                taken=Raw(r.taken_by or "—"),
            )
            for r in facts.reviews
        ]
        choices = tuple(
            Choice(msg(N_("review.open_numbered"), id=r.id), f"/reviews {r.id}")
            for r in facts.reviews[:20]
        )
        return (Say(Lines(tuple(lines)), choices, 2),)
    review = facts.review
    if review is None:
        text = Msg(N_("review.not_found"))
        return (Notice(text),) if request.via_button else (Say(text),)
    return (
        TakeReview(review.id, facts.me.id),
        Say(
            msg(
                N_("review.opened"),
                id=review.id,
                worker=Raw(review.worker.alias),
                note=Raw(review.note or "—"),
            )
        ),
        ShowContext(facts.me.id, review.case.id, chosen=False, review=True),
        Say(msg(N_("review.how_to_note"), worker=Raw(review.worker.alias))),
    )


def _one_staff(request: SupervisionRequest, facts: TeamFacts) -> Party | tuple[Effect, ...]:
    alias = Raw((request.alias or "?")[:32])
    staff = [p for p in facts.targets if p.role in STAFF]
    if not staff:
        return (Say(msg(N_("escalation.no_such_worker"), alias=alias)),)
    if len(staff) > 1:
        return (Say(msg(N_("escalation.alias_ambiguous"), alias=alias)),)
    return staff[0]


def _supnote(
    request: SupervisionRequest, facts: TeamFacts, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    """A supervisor writes a note about a worker; the worker is told one was written, and
    can read it with /supnotes."""
    worker = _one_staff(request, facts)
    if not isinstance(worker, Party):
        return worker
    me = facts.me
    return (
        AddSupervisionNote(worker.id, me.id, me.alias, request.text),
        Say(msg(N_("supnote.saved"), worker=Raw(worker.alias))),
        *(
            (Tell(worker.id, msg(N_("supnote.told"), supervisor=Raw(me.alias))),)
            if worker.id != me.id
            else ()
        ),
    )


def _supnotes(
    request: SupervisionRequest, facts: TeamFacts, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    """A worker reads the notes about themselves; a supervisor reads anyone's."""
    me = facts.me
    if request.alias is None or request.alias.lower() == me.alias.lower():
        worker = me
    elif me.role is not Role.SUPERVISOR:
        return (Say(Msg(N_("supnotes.own_only"))),)
    else:
        found = _one_staff(request, facts)
        if not isinstance(found, Party):
            return found
        worker = found
    lines: list[Msg | Raw] = [msg(N_("supnotes.heading"), worker=Raw(worker.alias))]
    if not facts.notes:
        lines.append(Msg(N_("context.none")))
    lines += [
        msg(N_("supnotes.line"), at=note.at.date(), author=Raw(note.author), text=Raw(note.text))
        for note in facts.notes
    ]
    return (Say(Lines(tuple(lines))),)


__all__ = [
    "CRISIS_SOURCES",
    "DEBRIEF_ANSWERS",
    "Duty",
    "Member",
    "Note",
    "Review",
    "TeamFacts",
    "debrief_prompt",
    "decide",
    "duty_after",
    "duty_reminder",
    "parse",
]
