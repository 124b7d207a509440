"""A peer worker's desk: the chats they hold, whom each of their messages goes to, and every
staff command about escalations. Pure, like ``flows.escalation``.

The rule this module exists for: a worker's message goes to a person only when that is
unambiguous *and* the worker chose it — a Telegram reply to a message of that chat, or the
chat they claimed or switched to themselves, with nothing changed since. Any change they
did not make (an assignment, a transfer to them, a chat closed or given away, its person
leaving) clears the choice and tells them at once which chats they now hold; their next
message is then kept and they are asked whom it is for. Every relayed message is confirmed
to them with its recipient's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flows.commands import parse_number
from flows.effects import (
    AddNote,
    Choice,
    DropQueued,
    Effect,
    Notice,
    QueueMessage,
    RelayTo,
    Say,
    SetSelection,
    ShowAnswer,
    ShowContext,
    StaffRequest,
    Tell,
)
from flows.escalation import (
    OUTCOMES,
    TIER_LABELS,
    UNRESOLVED,
    Case,
    CaseRules,
    Party,
    Roster,
    change,
    closed_card,
    released,
    taken_card,
)
from flows.roles import STAFF, Role
from flows.supervision import debrief_prompt
from flows.text import N_, Lines, Localised, Msg, Raw, Text, msg


@dataclass(frozen=True, slots=True)
class Desk:
    """A staff member's chats (oldest claim first) and the one they chose for their messages."""

    worker: Party
    held: tuple[Case, ...] = ()
    selected: int | None = None

    def holding(self, case_id: int | None) -> Case | None:
        return next((case for case in self.held if case.id == case_id), None)

    @property
    def chosen(self) -> Case | None:
        return self.holding(self.selected)

    def without(self, case_id: int) -> Desk:
        return Desk(self.worker, tuple(c for c in self.held if c.id != case_id), None)

    def plus(self, case: Case) -> Desk:
        return Desk(self.worker, (*self.held, case), None)


@dataclass(frozen=True, slots=True)
class Message:
    """A text or a photo, voice note, sticker … someone sent, as it may be passed on."""

    kind: str  # text | media
    text: str
    message_id: int
    reply_case: int | None = None  # a Telegram reply to a message of this escalation
    # A Telegram reply to a message that belongs to no escalation known any more (its chat
    # was erased, or its records purged): meant for someone, but for whom is not known.
    reply_unknown: bool = False


@dataclass(frozen=True, slots=True)
class Queued:
    """A kept message (``bot.storage.models.QueuedMessage``), its text decrypted."""

    id: int
    sender_id: int
    case_id: int | None
    purpose: str
    message_id: int
    kind: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DeskFacts:
    """What deciding a ``StaffRequest`` needs; the shell loads what the request names."""

    desk: Desk
    case: Case | None = None  # the escalation the request names, its row locked
    targets: tuple[Party, ...] = ()  # staff whose alias is the request's, ignoring case
    target_desk: Desk | None = None  # the one target's chats
    holder_desk: Desk | None = None  # assign: the chats of whoever holds the case now
    waiting: tuple[Queued, ...] = ()  # what the case's person wrote while nobody held it
    kept: Queued | None = None  # sendto: the worker's kept message
    queue: tuple[Case, ...] = ()  # queue, overdue: unresolved escalations, oldest first
    roster: Roster = field(default_factory=Roster)

    @property
    def own_case(self) -> Case | None:
        """The escalation the request names, when the staff member asking holds it."""
        held = self.case is not None and self.case.held_by(self.desk.worker.id)
        return self.case if held else None


# -- what a worker holds -------------------------------------------------------------------


def holdings(desk: Desk, heading: Text | None = None) -> Say:
    """The chats held now, one button each to write to it; ``heading`` says what changed."""
    lines: list[Msg | Raw | Localised] = []
    if heading is not None:
        lines += list(heading.parts) if isinstance(heading, Lines) else [heading]
    if not desk.held:
        lines.append(Msg(N_("desk.holds_none")))
        return Say(Lines(tuple(lines)))
    lines.append(Msg(N_("desk.holds")))
    lines += [
        msg(N_("desk.holds.line"), case=case.label, tier=Msg(TIER_LABELS[case.tier]))
        for case in desk.held
    ]
    if desk.chosen is not None:
        lines.append(msg(N_("desk.writing_to"), case=desk.chosen.label))
    else:
        lines.append(Msg(N_("desk.will_ask")))
    return Say(Lines(tuple(lines)), _switch_buttons(desk))


def _switch_buttons(desk: Desk) -> tuple[Choice, ...]:
    return tuple(
        Choice(msg(N_("desk.write_to"), case=case.label), f"/switch {case.id}")
        for case in desk.held
    )


def _tell_holdings(desk: Desk, heading: Text) -> Tell:
    said = holdings(desk, heading)
    return Tell(desk.worker.id, said.text, said.choices)


def mine(desk: Desk) -> tuple[Effect, ...]:
    return (holdings(desk),)


def switch(desk: Desk, argument: str) -> tuple[Effect, ...]:
    """Choose the chat plain messages go to, by number ("12", "#12") or by the person's alias."""
    wanted = argument.strip().removeprefix("#")
    number = parse_number(wanted)
    case = next(
        (c for c in desk.held if c.id == number or c.subject.alias.lower() == wanted.lower()),
        None,
    )
    if case is None:
        if not desk.held:
            return (Say(Msg(N_("relay.no_chat"))),)
        return (Say(Msg(N_("desk.choose")), _switch_buttons(desk)),)
    return (
        SetSelection(desk.worker.id, case.id),
        Say(msg(N_("relay.selected"), case=case.label)),
    )


def target_of(desk: Desk, argument: str) -> Case | None:
    """The chat a command names ("#12" or "12"), else the worker's chosen chat."""
    number = parse_number(argument.strip().removeprefix("#")) if argument.strip() else None
    if number is not None:
        return desk.holding(number)
    return desk.chosen if not argument.strip() else None


def which(desk: Desk, question: str, command: str) -> tuple[Effect, ...]:
    """The command did not say which chat and none is chosen: ask, one button per chat."""
    if not desk.held:
        return (Say(Msg(N_("relay.no_chat"))),)
    return (
        Say(
            Msg(question),
            tuple(Choice(case.label, f"/{command} {case.id}") for case in desk.held),
        ),
    )


# -- the relay ---------------------------------------------------------------------------------


def from_worker(desk: Desk, message: Message, now: datetime) -> tuple[Effect, ...]:
    """Where a worker's message goes: a reply to a chat's message goes to that chat (or
    nowhere, if they no longer hold it); otherwise the chat they chose; otherwise nowhere
    yet — it is kept and they are asked whom it is for. A reply to a message whose chat is
    not known any more is kept and asked about too: it was meant for that chat's person,
    not for the one chosen now."""
    if message.reply_case is not None:
        case = desk.holding(message.reply_case)
        if case is None:
            return (Say(Msg(N_("relay.reply_to_closed_chat"))),)
        return _relay_to_subject(desk, case, message, now)
    if not desk.held:
        return (Say(Msg(N_("relay.no_chat_not_sent"))),)
    chosen = None if message.reply_unknown else desk.chosen
    if chosen is not None:
        return _relay_to_subject(desk, chosen, message, now)
    return (
        QueueMessage(
            desk.worker.id, None, "unaddressed", message.message_id, message.kind, message.text
        ),
        Say(
            Msg(N_("relay.who_is_it_for")),
            _recipients(desk, message.message_id, N_("relay.dont_send")),
        ),
    )


def _recipients(desk: Desk, message_id: int, decline: str) -> tuple[Choice, ...]:
    """One button per held chat for a kept message, and one to drop it ("0")."""
    return (
        *(Choice(case.label, f"/sendto {message_id} {case.id}") for case in desk.held),
        Choice(Msg(decline), f"/sendto {message_id} 0"),
    )


def _relay_to_subject(
    desk: Desk, case: Case, message: Message, now: datetime
) -> tuple[Effect, ...]:
    worker = Raw(desk.worker.alias)
    if message.kind == "text":
        text: Text = msg(N_("relay.from_worker"), worker=worker, text=Raw(message.text))
        copy = None
    else:
        text, copy = msg(N_("relay.media_from_worker"), worker=worker), message.message_id
    return (
        change(case, "reply", desk.worker.id, now),
        RelayTo(
            case.subject.id,
            case.id,
            desk.worker.id,
            text,
            copy,
            confirm=msg(N_("relay.sent"), who=case.subject.who),
        ),
    )


def from_subject(case: Case, message: Message) -> tuple[Effect, ...]:
    """A message from the person an escalation is about: to the worker who holds it, or kept
    for the worker who will (they are told it is kept)."""
    if case.held and case.holder is not None:
        return (
            _relay_to_worker(case, case.holder, message.kind, message.text, message.message_id),
        )
    return (
        QueueMessage(
            case.subject.id, case.id, "waiting", message.message_id, message.kind, message.text
        ),
        Say(Msg(N_("relay.kept_for_worker"))),
    )


def _relay_to_worker(
    case: Case, worker: Party, kind: str, text: str, message_id: int, at: datetime | None = None
) -> RelayTo:
    who = Raw(case.subject.alias)
    if kind == "text":
        body: Text = (
            msg(N_("relay.from_subject_earlier"), who=who, at=at, text=Raw(text))
            if at is not None
            else msg(N_("relay.from_subject"), who=who, text=Raw(text))
        )
        return RelayTo(worker.id, case.id, case.subject.id, body)
    header = (
        msg(N_("relay.media_from_subject_earlier"), who=who, at=at)
        if at is not None
        else msg(N_("relay.media_from_subject"), who=who)
    )
    return RelayTo(worker.id, case.id, case.subject.id, header, message_id)


def _hand_waiting(case: Case, worker: Party, waiting: tuple[Queued, ...]) -> list[Effect]:
    """What the person wrote while waiting, in order, to the worker who now holds the chat."""
    effects: list[Effect] = [
        _relay_to_worker(case, worker, q.kind, q.text, q.message_id, q.at) for q in waiting
    ]
    if waiting:
        effects.append(DropQueued(tuple(q.id for q in waiting)))
    return effects


# -- staff commands ------------------------------------------------------------------------------


def parse(
    name: str, argument: str, desk: Desk, via_button: bool, message_id: int | None
) -> StaffRequest | tuple[Effect, ...]:
    """Turn a staff command into a request for facts, or answer it (usage, which chat?)."""
    parts = argument.split()
    if name == "claim":
        number = parse_number(parts[0].removeprefix("#")) if parts else None
        if number is None:
            return (Say(Msg(N_("escalation.claim_usage"))),)
        ref = parts[1] if len(parts) > 1 else None
        return StaffRequest("claim", number, ref, via_button=via_button)
    if name == "assign":
        number = parse_number(parts[0].removeprefix("#")) if len(parts) == 2 else None
        if number is None:
            return (Say(Msg(N_("escalation.assign_usage"))),)
        return StaffRequest("assign", number, alias=parts[1])
    if name == "transfer":
        if not parts or len(parts) > 2:
            return (Say(Msg(N_("escalation.transfer_usage"))),)
        case = target_of(desk, parts[0] if len(parts) == 2 else "")
        if case is None:
            if len(parts) == 2 and desk.holding(parse_number(parts[0].removeprefix("#"))) is None:
                return (Say(Msg(N_("escalation.not_found"))),)
            return which_first(desk)
        return StaffRequest("transfer", case.id, alias=parts[-1])
    if name == "release":
        case = target_of(desk, argument)
        if case is None:
            if argument.strip():
                return (Say(Msg(N_("escalation.not_found"))),)
            return which(desk, N_("desk.which_release"), "release")
        return StaffRequest("release", case.id, via_button=via_button)
    if name == "note":
        text = argument.strip()
        first = parts[0] if parts else ""
        named = parse_number(first.removeprefix("#")) if first.startswith("#") else None
        if named is not None:
            text = argument.strip()[len(first) :].strip()
        if not text:
            return (Say(Msg(N_("escalation.note_usage"))),)
        case = desk.holding(named) if named is not None else desk.chosen
        if case is not None:
            return StaffRequest("note", case.id, text=text[:2000])
        if named is not None:
            return (Say(Msg(N_("escalation.not_found"))),)
        if not desk.held or message_id is None:
            return (Say(Msg(N_("relay.no_chat"))),)
        return (
            QueueMessage(desk.worker.id, None, "note", message_id, "text", text[:2000]),
            Say(Msg(N_("desk.which_note")), _recipients(desk, message_id, N_("desk.dont_save"))),
        )
    if name == "sendto":
        numbers = [parse_number(p) for p in parts]
        if len(numbers) != 2 or None in numbers:
            return (Notice(Msg(N_("input.stale_button"))),)
        return StaffRequest("sendto", numbers[1], message_id=numbers[0], via_button=via_button)
    if name in ("queue", "overdue"):
        return StaffRequest(name)
    raise AssertionError(f"not a staff request: {name}")


def which_first(desk: Desk) -> tuple[Effect, ...]:
    """Transfer names the chat it hands on: without one chosen, choose it first."""
    if not desk.held:
        return (Say(Msg(N_("relay.no_chat"))),)
    return (Say(Msg(N_("desk.choose_first")), _switch_buttons(desk)),)


def closing_target(desk: Desk, argument: str) -> Case | tuple[Effect, ...]:
    """/done closes the chat it names, else the chosen chat, else it asks which."""
    case = target_of(desk, argument)
    if case is not None:
        return case
    if argument.strip():
        return (Say(Msg(N_("escalation.not_found"))),)
    return which(desk, N_("desk.which_close"), "done")


def decide(
    request: StaffRequest, facts: DeskFacts, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    """Carry out a staff request on the rows the shell loaded (and locked)."""
    on_own_case = {
        "transfer": _transfer,
        "release": _release,
        "resolve": _resolve,
        "note": _note,
    }.get(request.action)
    if on_own_case is not None:
        case = facts.own_case
        if case is None:
            return _answer(request, Msg(N_("escalation.not_found")))
        return on_own_case(request, case, facts, rules, now)
    handler = {
        "claim": _claim,
        "assign": _assign,
        "sendto": _sendto,
        "queue": _queue,
        "overdue": _queue,
    }[request.action]
    return handler(request, facts, rules, now)


def _answer(request: StaffRequest, text: Text) -> tuple[Effect, ...]:
    """A refusal: a toast on the tapped button, or a message for a typed command."""
    return (Notice(text),) if request.via_button else (Say(text),)


def _unavailable(request: StaffRequest, case: Case | None) -> tuple[Effect, ...] | None:
    if case is None or (request.ref is not None and request.ref != case.ref):
        return _answer(request, Msg(N_("escalation.not_found")))
    if case.state not in UNRESOLVED:
        return _answer(request, Msg(N_("escalation.closed")))
    return None


def _claim(
    request: StaffRequest, facts: DeskFacts, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    case, desk = facts.case, facts.desk
    refused = _unavailable(request, case)
    if refused is not None:
        return refused
    assert case is not None
    me = desk.worker
    if case.held_by(me.id):
        return (SetSelection(me.id, case.id), Say(msg(N_("relay.selected"), case=case.label)))
    if case.held and case.holder is not None:
        return _answer(request, msg(N_("escalation.already_taken"), worker=Raw(case.holder.alias)))
    if len(desk.held) >= rules.max_active:
        return _answer(request, msg(N_("escalation.limit"), limit=rules.max_active))
    return (
        change(case, "claim", me.id, now, holder_id=me.id, reply_due_at=now + rules.reply_within),
        SetSelection(me.id, case.id),
        taken_card(case, me),
        ShowContext(me.id, case.id, chosen=True),
        *_hand_waiting(case, me, facts.waiting),
        Tell(case.subject.id, msg(N_("escalation.joined"), worker=Raw(me.alias))),
    )


def _one_target(request: StaffRequest, facts: DeskFacts) -> Party | tuple[Effect, ...]:
    alias = Raw((request.alias or "?")[:32])
    staff = [p for p in facts.targets if p.role in STAFF]
    if not staff:
        return (Say(msg(N_("escalation.no_such_worker"), alias=alias)),)
    if len(staff) > 1:
        return (Say(msg(N_("escalation.alias_ambiguous"), alias=alias)),)
    return staff[0]


def _room_for(
    target: Party, facts: DeskFacts, rules: CaseRules, full: str
) -> Desk | tuple[Effect, ...]:
    """The chats of the staff member a chat is handed to, or ``full`` when they hold the most
    they may."""
    desk = facts.target_desk or Desk(target)
    if len(desk.held) >= rules.max_active:
        return (Say(msg(full, worker=Raw(target.alias), limit=rules.max_active)),)
    return desk


def _hand_over(
    case: Case, how: str, me: Party, target: Party, rules: CaseRules, now: datetime
) -> Effect:
    """``target`` holds the chat now, and owes its person a reply within the usual time."""
    return change(case, how, me.id, now, holder_id=target.id, reply_due_at=now + rules.reply_within)


def _unselect(desk: Desk, case: Case) -> list[Effect]:
    """A chat leaves a desk: if it was the one their messages went to, they will be asked."""
    return [SetSelection(desk.worker.id, None)] if desk.selected == case.id else []


def _assign(
    request: StaffRequest, facts: DeskFacts, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    case, me = facts.case, facts.desk.worker
    refused = _unavailable(request, case)
    if refused is not None:
        return refused
    assert case is not None
    target = _one_target(request, facts)
    if not isinstance(target, Party):
        return target
    who = Raw(target.alias)
    if case.held_by(target.id):
        return (Say(msg(N_("escalation.already_with"), case=case.label, worker=who)),)
    target_desk = _room_for(target, facts, rules, N_("escalation.assign_full"))
    if not isinstance(target_desk, Desk):
        return target_desk
    effects: list[Effect] = [_hand_over(case, "assign", me, target, rules, now)]
    previous = case.holder if case.held else None
    if previous is not None:
        before = facts.holder_desk or Desk(previous, (case,))
        effects += [
            SetSelection(previous.id, None),
            _tell_holdings(
                before.without(case.id),
                msg(N_("desk.assigned_away"), by=Raw(me.alias), case=case.label, worker=who),
            ),
        ]
    if target.id == me.id:
        effects += [
            SetSelection(me.id, case.id),
            ShowContext(me.id, case.id, chosen=True),
            taken_card(case, me),
            *_hand_waiting(case, me, facts.waiting),
            Tell(case.subject.id, msg(N_("escalation.joined"), worker=who)),
        ]
        return tuple(effects)
    heading = msg(N_("desk.assigned_to_you"), by=Raw(me.alias), case=case.label)
    return (
        *effects,
        *_handed_to(case, target, target_desk, heading, facts.waiting),
        Say(msg(N_("escalation.assigned"), case=case.label, worker=who)),
    )


def _handed_to(
    case: Case, target: Party, desk: Desk, heading: Msg, waiting: tuple[Queued, ...] = ()
) -> list[Effect]:
    """A chat reaches a worker who did not choose it: they are told what they hold now and
    will be asked whom their next message is for; its person hears who has joined."""
    return [
        SetSelection(target.id, None),
        _tell_holdings(desk.plus(case), heading),
        ShowContext(target.id, case.id, chosen=False),
        taken_card(case, target),
        *_hand_waiting(case, target, waiting),
        Tell(case.subject.id, msg(N_("escalation.joined"), worker=Raw(target.alias))),
    ]


# Transfer, release, resolve, note: about a chat the one asking holds (``decide`` made sure).


def _transfer(
    request: StaffRequest, case: Case, facts: DeskFacts, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    desk = facts.desk
    me = desk.worker
    target = _one_target(request, facts)
    if not isinstance(target, Party):
        return target
    if target.id == me.id:
        return (Say(Msg(N_("escalation.transfer_to_self"))),)
    target_desk = _room_for(target, facts, rules, N_("escalation.transfer_full"))
    if not isinstance(target_desk, Desk):
        return target_desk
    who = Raw(target.alias)
    effects = [
        _hand_over(case, "transfer", me, target, rules, now),
        *_unselect(desk, case),
        Say(msg(N_("escalation.transferred"), case=case.label, worker=who)),
    ]
    heading = msg(N_("desk.handed_to_you"), by=Raw(me.alias), case=case.label)
    return (*effects, *_handed_to(case, target, target_desk, heading))


def _release(
    request: StaffRequest, case: Case, facts: DeskFacts, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    desk = facts.desk
    return (
        *_unselect(desk, case),
        Say(msg(N_("escalation.you_released"), case=case.label)),
        *released(case, desk.worker, facts.roster, rules, now),
    )


def _resolve(
    request: StaffRequest, case: Case, facts: DeskFacts, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    desk = facts.desk
    me = desk.worker
    outcome = request.outcome if request.outcome in OUTCOMES else "resolved"
    effects: list[Effect] = [change(case, "resolve", me.id, now, outcome=outcome)]
    if request.text:
        effects.append(AddNote(case.id, me.id, me.alias, request.text, closing=True))
    effects += _unselect(desk, case)
    effects += [
        Say(msg(N_("escalation.closed_by_you"), case=case.label)),
        closed_card(case),
        Tell(case.subject.id, msg(N_("escalation.goodbye"), worker=Raw(me.alias))),
        Tell(
            case.subject.id,
            Msg(N_("escalation.rate")),
            tuple(Choice(Raw(str(n)), f"/rate {case.id} {n}") for n in range(1, 6)),
            5,
        ),
        *debrief_prompt(case, me),
    ]
    return tuple(effects)


def _note(
    request: StaffRequest, case: Case, facts: DeskFacts, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    me = facts.desk.worker
    return (
        AddNote(case.id, me.id, me.alias, request.text),
        Say(msg(N_("escalation.note_saved"), case=case.label)),
    )


def _sendto(
    request: StaffRequest, facts: DeskFacts, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    """The worker said whom a kept message (or note) is for."""
    kept, desk = facts.kept, facts.desk
    if kept is None:
        return _answer(request, Msg(N_("relay.kept_gone")))
    drop = DropQueued((kept.id,))
    if request.case_id == 0:
        declined = N_("desk.dont_save") if kept.purpose == "note" else N_("relay.dont_send")
        return (drop, ShowAnswer(Msg(declined)))
    case = desk.holding(request.case_id)
    if case is None:
        return (
            drop,
            ShowAnswer(Msg(N_("relay.not_sent"))),
            Say(Msg(N_("relay.not_yours_not_sent"))),
        )
    if kept.purpose == "note":
        return (
            drop,
            ShowAnswer(case.label),
            AddNote(case.id, desk.worker.id, desk.worker.alias, kept.text),
            Say(msg(N_("escalation.note_saved"), case=case.label)),
        )
    message = Message(kept.kind, kept.text, kept.message_id)
    return (
        drop,
        ShowAnswer(case.label),
        SetSelection(desk.worker.id, case.id),
        *_relay_to_subject(desk, case, message, now),
    )


def may_see(viewer: Party, case: Case) -> bool:
    """A worker sees escalations that are open or theirs; a supervisor sees all."""
    if viewer.role is Role.SUPERVISOR:
        return True
    return case.state == "open" or case.held_by(viewer.id)


def _queue(
    request: StaffRequest, facts: DeskFacts, rules: CaseRules, now: datetime
) -> tuple[Effect, ...]:
    viewer = facts.desk.worker
    rows = [case for case in facts.queue if may_see(viewer, case)]
    overdue_only = request.action == "overdue"
    if overdue_only:
        rows = [
            c
            for c in rows
            if (c.state == "open" and c.claim_due_at is not None and c.claim_due_at <= now)
            or (c.held and c.reply_due_at is not None and c.reply_due_at <= now)
        ]
    if not rows:
        empty = (
            N_("escalation.queue.empty_overdue") if overdue_only else N_("escalation.queue.empty")
        )
        return (Say(Msg(empty)),)
    heading = N_("escalation.queue.overdue") if overdue_only else N_("escalation.queue")
    lines: list[Msg | Raw] = [Msg(heading)]
    choices: list[Choice] = []
    for case in rows[:20]:
        lines.append(
            msg(
                N_("escalation.queue.line"),
                case=case.label,
                tier=Msg(TIER_LABELS[case.tier]),
                waited=max(now - case.opened_at, timedelta(seconds=1)),
                state=Raw(case.holder.alias if case.held and case.holder else "—"),
            )
        )
        if case.state == "open":
            choices.append(
                Choice(
                    msg(N_("escalation.claim_numbered"), id=case.id), f"/claim {case.id} {case.ref}"
                )
            )
    return (Say(Lines(tuple(lines)), tuple(choices), 2),)
