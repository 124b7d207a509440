"""Escalations, the desk and the relay, in memory (``bot.escalations``, ``bot.telegram.sending``).

The facts are loaded here as the shell's queries load them (a case, a desk, the roster, what
a staff request names); every decision is the core's (``flows.escalation``, ``flows.desk``);
the effects are applied to memory and rendered with the shell's own functions
(``case_of``, ``case_values``, ``next_clock``, ``relayed``, ``bot.context_card``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

from bot.context_card import NOTES_SHOWN, ClientRecord, Context, NoteSeen, ReasonSeen, card_for
from bot.escalations import (
    RECENT_CRISIS,
    STAFF_ROLES,
    Unchanged,
    case_of,
    case_values,
    next_clock,
    party,
    relayed,
)
from bot.storage.models import Escalation
from bot.storage.models import Person as PersonRow
from bot.telegram.render import CardTag, EditText, Outgoing, SendPhoto
from bot.telegram.sending import Belongs, CardLanded
from bot.weekly import chart_words
from flows import desk as desks
from flows import escalation
from flows.effects import (
    AddNote,
    AddReason,
    AskForPerson,
    ChangeCase,
    DropQueued,
    EditCards,
    Effect,
    PostCard,
    QueueMessage,
    RateChat,
    RelayTo,
    SetSelection,
    ShowContext,
    StaffRequest,
    Tell,
)
from flows.escalation import HELD, Case, Party, Reason, Roster, Tier
from flows.roles import Role
from flows.schedule import local_date
from tests.core_player.checkins import CheckIns
from tests.core_player.host import Feature, Host, Turn, Unplayable
from tests.core_player.memory import NoteRow, ReasonRow

# The chart itself is not drawn (matplotlib takes a fifth of a second); its caption is the
# whole bot's, and test_charts draws charts.
UNDRAWN_CHART = b"\x89PNG\r\n\x1a\n"


class Escalations:
    def __init__(self, host: Host, checkins: CheckIns) -> None:
        self.host = host
        self.memory = host.memory
        self.checkins = checkins
        self.feature = Feature(
            facts={},
            appliers={
                Tell: self._tell,
                PostCard: self._post_card,
                EditCards: self._edit_cards,
                ChangeCase: self._change,
                AddReason: self._add_reason,
                AddNote: self._add_note,
                SetSelection: self._set_selection,
                ShowContext: self._show_context,
                RelayTo: self._relay,
                QueueMessage: self._queue_message,
                DropQueued: self._drop_queued,
                RateChat: self._rate,
            },
            expanders={StaffRequest: self._decide, AskForPerson: self._ask_for_person},
        )

    # -- loading facts (as the shell's queries) ----------------------------------------------

    def _case(self, esc: Escalation, reasons: bool = False) -> Case:
        subject = self.memory.person(esc.subject_id)
        assert subject is not None
        due = self.memory.clocks.get(esc.subject_id) if esc.resolved_at is None else None
        sources = tuple(r.source for r in self.memory.reasons if r.escalation_id == esc.id)
        holder = self.memory.person(esc.claimed_by)
        return case_of(esc, subject, holder, due, sources if reasons else (), self.host.lines)

    def case(self, escalation_id: int | None, reasons: bool = False) -> Case | None:
        """One escalation, whatever its state."""
        esc = self.memory.escalations.get(escalation_id or 0)
        return None if esc is None else self._case(esc, reasons)

    def case_about(self, subject_id: int) -> Case | None:
        """The unresolved escalation about a person."""
        esc = self.memory.unresolved_about(subject_id)
        return None if esc is None else self._case(esc)

    def desk(self, person: PersonRow) -> desks.Desk:
        """A staff member's held chats, oldest claim first, and their chosen one."""
        held = sorted(
            (
                esc
                for esc in self.memory.escalations.values()
                if esc.claimed_by == person.id and esc.state in HELD
            ),
            key=lambda esc: (esc.claimed_at or esc.opened_at, esc.id),
        )
        return desks.Desk(
            party(person), tuple(self._case(esc) for esc in held), person.selected_escalation_id
        )

    def roster(self) -> Roster:
        staff = sorted(
            (
                p
                for p in self.memory.people.values()
                if p.role in STAFF_ROLES and p.onboarded_at is not None and p.blocked_at is None
            ),
            key=lambda p: p.id,
        )
        return Roster(
            on_duty=tuple(party(p) for p in staff if p.on_duty),
            supervisors=tuple(party(p) for p in staff if p.role == Role.SUPERVISOR.value),
        )

    def holder_alias(self, subject_id: int) -> str | None:
        """The alias of the worker who holds the chat about this person, if one does."""
        esc = self.memory.unresolved_about(subject_id)
        holder = self.memory.person(esc.claimed_by) if esc and esc.state in HELD else None
        return holder.alias if holder is not None and holder.alias else None

    def waiting_since(self, subject_id: int) -> datetime | None:
        """When the open chat about this person that no worker holds was opened, if any."""
        esc = self.memory.unresolved_about(subject_id)
        return esc.opened_at if esc is not None and esc.state not in HELD else None

    def reply_case(self, chat_id: int, message_id: int) -> int | None:
        """The escalation a message in a worker's chat belongs to, if any."""
        return next(
            (
                b.case_id
                for b in self.memory.belongs
                if b.chat_id == chat_id and b.message_id == message_id
            ),
            None,
        )

    def _queued(
        self, sender_id: int | None = None, case_id: int | None = None
    ) -> list[desks.Queued]:
        return [
            q
            for q in self.memory.queued.values()
            if (sender_id is None or q.sender_id == sender_id)
            and (case_id is None or q.case_id == case_id)
        ]

    def facts(self, actor: PersonRow, request: StaffRequest) -> desks.DeskFacts:
        """Exactly what ``request`` names (``Escalations.facts``)."""
        desk = self.desk(actor)
        case = self.case(request.case_id, reasons=request.action in ("release", "resolve"))
        targets: tuple[Party, ...] = ()
        target_desk = holder_desk = None
        if request.alias is not None:
            found = [
                p
                for p in self.memory.people.values()
                if (p.alias or "").lower() == request.alias.lower() and p.onboarded_at is not None
            ]
            targets = tuple(party(p) for p in found)
            if len(found) == 1:
                target_desk = self.desk(found[0])
        if case is not None and case.held and case.holder is not None:
            holder = self.memory.person(case.holder.id)
            if holder is not None and holder.id != actor.id:
                holder_desk = self.desk(holder)
        waiting: tuple[desks.Queued, ...] = ()
        if case is not None and request.action in ("claim", "assign") and case.state == "open":
            waiting = tuple(q for q in self._queued(case_id=case.id) if q.purpose == "waiting")
        kept = None
        if request.action == "sendto" and request.message_id is not None:
            kept = next(
                (
                    q
                    for q in self._queued(sender_id=actor.id)
                    if q.message_id == request.message_id and q.purpose in ("unaddressed", "note")
                ),
                None,
            )
        queue: tuple[Case, ...] = ()
        if request.action in ("queue", "overdue"):
            queue = tuple(
                self._case(esc)
                for esc in sorted(self.memory.escalations.values(), key=lambda e: e.opened_at)
                if esc.resolved_at is None
                and (
                    actor.role == Role.SUPERVISOR.value
                    or esc.state == "open"
                    or esc.claimed_by == actor.id
                )
            )
        roster = self.roster() if request.action == "release" else Roster()
        return desks.DeskFacts(
            desk, case, targets, target_desk, holder_desk, waiting, kept, queue, roster
        )

    # -- opening ------------------------------------------------------------------------------

    def raise_for(
        self, subject: PersonRow, reason: Reason, now: datetime, tell_subject: bool = False
    ) -> tuple[int, tuple[Effect, ...]]:
        """Make sure an escalation is open about ``subject`` and add ``reason`` to it."""
        escalation_id, new = self._ensure_open(subject.id, reason.tier, now)
        case = self.case(escalation_id, reasons=True)
        assert case is not None
        relatives: tuple[int, ...] = ()
        if new and subject.role == Role.CLIENT.value:
            relatives = self._relatives_to_alert(subject.id)
        urgent = [
            r.at
            for r in self.memory.reasons
            if r.escalation_id == escalation_id and r.tier == Tier.URGENT.value
        ]
        recent = max(urgent, default=None)
        opening = escalation.Opening(
            case, new, recent_crisis=recent is not None and now - recent < RECENT_CRISIS
        )
        effects = escalation.add_reason(
            opening, reason, self.roster(), relatives, self.host.case_rules, now, tell_subject
        )
        return escalation_id, effects

    def _ensure_open(self, subject_id: int, tier: Tier, now: datetime) -> tuple[int, bool]:
        found = self.memory.unresolved_about(subject_id)
        if found is not None:
            return found.id, False
        esc = Escalation(
            id=next(self.memory.escalation_ids),
            subject_id=subject_id,
            ref=secrets.token_hex(3),
            tier=tier.value,
            state="open",
            opened_at=now,
            reminders=0,
        )
        self.memory.escalations[esc.id] = esc
        self.memory.clocks[subject_id] = self.host.case_rules.claim_due(tier, now)
        return esc.id, True

    def _relatives_to_alert(self, client_id: int) -> tuple[int, ...]:
        """Relatives the client allowed to hear that the team is following up."""
        relatives = (
            self.memory.person(link.family_id)
            for link in self.memory.active_links(client_id=client_id)
            if link.alerts and link.family_id is not None
        )
        return tuple(
            r.id for r in relatives if r is not None and r.blocked_at is None and not r.paused
        )

    # -- expanders ----------------------------------------------------------------------------

    def _decide(self, request: StaffRequest, turn: Turn) -> tuple[Effect, ...]:
        facts = self.facts(turn.acting, request)
        return desks.decide(request, facts, self.host.case_rules, turn.now)

    def _ask_for_person(self, effect: AskForPerson, turn: Turn) -> tuple[Effect, ...]:
        reason = Reason(effect.source)
        return self.raise_for(turn.acting, reason, turn.now, tell_subject=effect.tell)[1]

    # -- appliers: messages -------------------------------------------------------------------

    def _tell(self, effect: Tell, turn: Turn) -> list[Outgoing]:
        person = self.memory.person(effect.to)
        if person is None:
            return []
        return [self.host.renderer.message(person, effect.text, effect.choices, effect.columns)]

    def _post_card(self, effect: PostCard, turn: Turn) -> list[Outgoing]:
        staff = self.memory.person(effect.to)
        if staff is None:
            return []
        tag = CardTag(effect.case_id, staff.id)
        return [self.host.renderer.message(staff, effect.text, effect.choices, tag=tag)]

    def _edit_cards(self, effect: EditCards, turn: Turn) -> list[Outgoing]:
        cards = [c for c in self.memory.cards if c.case_id == effect.case_id]
        out: list[Outgoing] = []
        for card in cards:
            staff = self.memory.person(card.staff_id)
            if staff is not None:
                text = self.host.renderer.text(staff, effect.text)
                out.append(EditText(card.chat_id, card.message_id, text))
            self.memory.cards.remove(card)
        return out

    def _relay(self, effect: RelayTo, turn: Turn) -> list[Outgoing]:
        recipient = self.memory.person(effect.to)
        sender = self.memory.person(effect.sender_id)
        if recipient is None or sender is None:
            return []
        return relayed(self.host.renderer, effect, recipient, sender)

    def _show_context(self, effect: ShowContext, turn: Turn) -> list[Outgoing]:
        """The context card (``bot.context_card``), and a client's chart (its caption)."""
        worker = self.memory.person(effect.to)
        esc = self.memory.escalations.get(effect.case_id)
        subject = self.memory.person(esc.subject_id) if esc is not None else None
        if worker is None or esc is None or subject is None:
            return []
        client = subject.role == Role.CLIENT.value
        context = Context(
            Case(esc.id, esc.ref, party(subject), esc.state, Tier(esc.tier), esc.opened_at),
            [
                ReasonSeen(r.source, r.detail, r.note)
                for r in self.memory.reasons
                if r.escalation_id == esc.id
            ],
            self._client_record(subject, turn.now) if client else None,
            self._notes(subject.id, esc.id),
            effect.chosen,
            effect.review,
        )
        out: list[Outgoing] = [card_for(self.host.renderer, worker, context)]
        if client:
            _, caption = chart_words(self.host.translator, worker.locale, subject)
            out.append(SendPhoto(worker.chat_id, UNDRAWN_CHART, caption))
        return out

    def _client_record(self, client: PersonRow, now: datetime) -> ClientRecord:
        today = local_date(now, client.timezone)
        return ClientRecord(
            self.memory.records(client.id, today - timedelta(days=7)),
            [sign.text for sign in self.memory.active_signs(client.id)],
            self.checkins.plan(client.id),
        )

    def _notes(self, subject_id: int, current: int) -> list[NoteSeen]:
        """The newest notes on escalations about this person, oldest first."""
        about = {i for i, esc in self.memory.escalations.items() if esc.subject_id == subject_id}
        numbered = [(n, i) for i, n in enumerate(self.memory.notes) if n.escalation_id in about]
        newest = sorted(numbered, key=lambda pair: (pair[0].at, pair[1]))[-NOTES_SHOWN:]
        return [
            NoteSeen(note.at, note.author_alias, note.text, note.escalation_id == current)
            for note, _ in newest
        ]

    def _rate(self, effect: RateChat, turn: Turn) -> list[Outgoing]:
        person = turn.acting
        esc = self.memory.escalations.get(effect.escalation_id)
        counts, answer = escalation.rated(
            person.id, esc.subject_id if esc else None, esc.state if esc else None
        )
        if esc is not None and counts:
            esc.rating = effect.rating
        return [self.host.renderer.message(person, answer)]

    # -- appliers: what is stored -------------------------------------------------------------

    def _change(self, effect: ChangeCase, turn: Turn) -> list[Outgoing]:
        """The shell's conditional UPDATE: only from a state the lifecycle allows, and only
        while the holder is still the one the core saw."""
        if effect.change == "overdue":
            raise Unplayable("the escalation clocks: the scheduler (whole bot)")
        esc = self.memory.escalations.get(effect.case_id)
        allowed = escalation.Lifecycle.sources(effect.change)
        if esc is None or esc.state not in allowed or esc.claimed_by != effect.expect_holder:
            raise Unplayable(f"escalation {effect.case_id} changed meanwhile (a retry)")
        for column, value in case_values(effect).items():
            setattr(esc, column, value)
        clock = next_clock(effect)
        if clock is None:
            self.memory.clocks.pop(esc.subject_id, None)
        elif not isinstance(clock, Unchanged):
            self.memory.clocks[esc.subject_id] = clock
        if effect.change == "resolve":  # kept messages of a closed escalation are dropped
            self._drop(q.id for q in self._queued(case_id=esc.id))
        return []

    def _add_reason(self, effect: AddReason, turn: Turn) -> list[Outgoing]:
        reason = effect.reason
        self.memory.reasons.append(
            ReasonRow(
                effect.case_id,
                reason.source,
                reason.tier.value,
                dict(reason.detail),
                reason.note,
                reason.from_id,
                turn.now,
            )
        )
        return []

    def _add_note(self, effect: AddNote, turn: Turn) -> list[Outgoing]:
        self.memory.notes.append(
            NoteRow(
                effect.case_id,
                effect.author_id,
                effect.author_alias,
                effect.text,
                effect.closing,
                turn.now,
            )
        )
        return []

    def _set_selection(self, effect: SetSelection, turn: Turn) -> list[Outgoing]:
        worker = self.memory.person(effect.worker_id)
        if worker is not None:
            worker.selected_escalation_id = effect.case_id
        return []

    def _queue_message(self, effect: QueueMessage, turn: Turn) -> list[Outgoing]:
        kept = desks.Queued(
            next(self.memory.ids),
            effect.sender_id,
            effect.case_id,
            effect.purpose,
            effect.message_id,
            effect.kind,
            effect.text,
            turn.now,
        )
        self.memory.queued[kept.id] = kept
        return []

    def _drop_queued(self, effect: DropQueued, turn: Turn) -> list[Outgoing]:
        self._drop(effect.ids)
        return []

    def _drop(self, ids: Iterable[int]) -> None:
        for kept_id in list(ids):
            self.memory.queued.pop(kept_id, None)

    # -- after delivery -----------------------------------------------------------------------

    def landed(self, where: Iterable[CardLanded | Belongs]) -> None:
        """Where cards and escalation messages landed (``bot.telegram.sending.after_delivery``)."""
        for each in where:
            if isinstance(each, CardLanded):
                self.memory.cards.append(each)
            else:
                self.memory.belongs.append(each)
