"""The shell's side of escalations: load the rows a decision rests on (locked where it
matters), hand them to ``flows.escalation`` / ``flows.desk``, and apply what comes back.

Nothing here decides who may do what or who receives a message: that is the core's. This
module turns rows into ``Case``/``Desk``/``Party`` facts, opens an escalation race-free,
and carries out each escalation effect (one applier per effect type). What an applier
renders or writes without a session (``case_of``, ``case_values``, ``next_clock``,
``relayed``; the context card, ``bot.context_card``) is a plain function the core player
shares.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from bot.applying import Acting, Appliers
from bot.context_card import NOTES_SHOWN, ClientRecord, Context, NoteSeen, ReasonSeen, card_for
from bot.host import Host
from bot.safety.crisis import CrisisLines
from bot.storage import audit, checkins, safety_plans
from bot.storage.family_links import active_links
from bot.storage.models import (
    Escalation,
    EscalationCard,
    EscalationEvent,
    EscalationNote,
    EscalationReason,
    Flag,
    Person,
    QueuedMessage,
    RelayMessage,
    Schedule,
)
from bot.telegram.render import (
    CardTag,
    CopyMessage,
    EditText,
    Outgoing,
    RelayTag,
    Renderer,
    SendText,
)
from bot.weekly import weekly_photo
from flows import crisis, escalation
from flows import desk as desks
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
from flows.escalation import HELD, LEFT, Case, Party, Tier
from flows.roles import STAFF, Role
from flows.schedule import local_date
from flows.text import Text
from flows.timers import ESCALATION

log = logging.getLogger(__name__)

STAFF_ROLES = tuple(role.value for role in STAFF)
SUBJECT_ROLES = (Role.CLIENT.value, Role.FAMILY.value)
RECENT_CRISIS = timedelta(minutes=10)  # the same crisis: nobody is alerted again meanwhile


class CaseChanged(Exception):
    """An escalation was changed by another transaction after it was read: the update is
    handled again on fresh rows (``Dispatcher``), never applied to a state nobody decided on."""


def party(person: Person) -> Party:
    return Party(person.id, Role(person.role), person.alias or "?", person.locale)


def case_of(
    esc: Escalation,
    subject: Person,
    holder: Person | None,
    due: datetime | None,
    reasons: tuple[str, ...],
    lines: CrisisLines,
) -> Case:
    """An escalation row as the core sees it: its people as parties, and its one clock as
    the claim clock while it is open or the reply clock while a worker holds it."""
    return Case(
        id=esc.id,
        ref=esc.ref,
        subject=replace(
            party(subject), emergency=crisis.emergency_inline(lines.numbers_for(subject.region))
        ),
        state=esc.state,
        tier=Tier(esc.tier),
        opened_at=esc.opened_at,
        holder=party(holder) if holder is not None else None,
        reminders=esc.reminders,
        claim_due_at=due if esc.state == "open" else None,
        reply_due_at=due if esc.state in HELD else None,
        reasons=reasons,
    )


def relayed(
    renderer: Renderer, effect: RelayTo, recipient: Person, sender: Person
) -> list[Outgoing]:
    """A message passed on within an escalation, in its recipient's language, tagged so its
    sender gets the confirmation (or hears it failed) and a worker's reply to it is routed:
    the text, or the line above a copied photo or voice note and then the copy."""
    to_worker = recipient.role in STAFF_ROLES
    confirm = renderer.text(sender, effect.confirm) if effect.confirm is not None else None
    tag = RelayTag(effect.case_id, sender.chat_id, sender.locale, to_worker, confirm)
    text = renderer.text(recipient, effect.text)
    if effect.copy_of is None:
        return [SendText(recipient.chat_id, text, tag=tag)]
    header_tag = RelayTag(effect.case_id, sender.chat_id, sender.locale, to_worker)
    return [
        SendText(recipient.chat_id, text, tag=header_tag),
        CopyMessage(recipient.chat_id, sender.chat_id, effect.copy_of, tag=tag),
    ]


# Built once: an aliased entity makes its column proxies on first use, which cost more CPU
# than running the query (a check-in that raises a flag reads its case this way).
_SUBJECT, _HOLDER = aliased(Person, name="subject"), aliased(Person, name="holder")

# Escalations with their subject, their holder and when their clock next runs out (the
# subject's escalation row in the schedules table: unresolved cases only).
CASES: Select[Escalation, Person, Person, datetime | None] = (
    select(Escalation, _SUBJECT, _HOLDER, Schedule.due_at)
    .join(_SUBJECT, _SUBJECT.id == Escalation.subject_id)
    .outerjoin(_HOLDER, _HOLDER.id == Escalation.claimed_by)
    .outerjoin(
        Schedule,
        (Schedule.person_id == Escalation.subject_id)
        & (Schedule.kind == ESCALATION)
        & Escalation.resolved_at.is_(None),
    )
)


class Escalations:
    def __init__(self, host: Host, appliers: Appliers) -> None:
        self.host = host
        self.settings = host.settings
        self.rules = self.settings.case_rules()
        appliers.register(
            {
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
            }
        )
        appliers.register_expanders(
            {StaffRequest: self._decide, AskForPerson: self._ask_for_person}
        )
        self.appliers = appliers

    # -- rendering ---------------------------------------------------------------------------

    def _render(self, person: Person, text: Text) -> str:
        return self.host.renderer.text(person, text)

    # -- loading facts -----------------------------------------------------------------------

    async def _cases(
        self,
        session: AsyncSession,
        query: Select[Escalation, Person, Person, datetime | None],
        reasons: bool = False,
    ) -> list[Case]:
        rows = (await session.execute(query)).all()
        sources: dict[int, list[str]] = {}
        if reasons and rows:
            for escalation_id, source in (
                await session.execute(
                    select(EscalationReason.escalation_id, EscalationReason.source)
                    .where(EscalationReason.escalation_id.in_([r[0].id for r in rows]))
                    .order_by(EscalationReason.id)
                )
            ).all():
                sources.setdefault(escalation_id, []).append(source)
        return [
            case_of(esc, subject, holder, due, tuple(sources.get(esc.id, ())), self.host.lines)
            for esc, subject, holder, due in rows
        ]

    async def _lock(self, session: AsyncSession, *where: Any) -> list[int]:
        """Lock the escalation rows first, then read them with their people (PostgreSQL:
        locking within a join would give the row's new state beside the old holder's)."""
        query = select(Escalation.id).where(*where)
        if self.host.db.is_postgres:
            query = query.with_for_update()
        return [int(i) for i in (await session.scalars(query)).all()]

    async def case(
        self, session: AsyncSession, escalation_id: int, reasons: bool = False
    ) -> Case | None:
        """One escalation, whatever its state, its row locked until the transaction ends."""
        if not await self._lock(session, Escalation.id == escalation_id):
            return None
        found = await self._cases(session, CASES.where(Escalation.id == escalation_id), reasons)
        return found[0] if found else None

    async def cases_by_id(self, session: AsyncSession, ids: list[int]) -> dict[int, Case]:
        """Escalations by id, whatever their state, unlocked (for reading only)."""
        if not ids:
            return {}
        found = await self._cases(session, CASES.where(Escalation.id.in_(ids)))
        return {case.id: case for case in found}

    async def case_about(self, session: AsyncSession, subject_id: int) -> Case | None:
        """The unresolved escalation about a person, its row locked (a worker releasing it
        at the same moment waits, so their message is relayed or kept, never both)."""
        ids = await self._lock(
            session, Escalation.subject_id == subject_id, Escalation.resolved_at.is_(None)
        )
        if not ids:
            return None
        found = await self._cases(session, CASES.where(Escalation.id == ids[0]))
        return found[0] if found else None

    async def desk(
        self, session: AsyncSession, person: Person, reasons: bool = False
    ) -> desks.Desk:
        """A staff member's held chats, oldest claim first, and their chosen one."""
        held = await self._cases(
            session,
            CASES.where(Escalation.claimed_by == person.id, Escalation.state.in_(HELD)).order_by(
                Escalation.claimed_at, Escalation.id
            ),
            reasons,
        )
        return desks.Desk(party(person), tuple(held), person.selected_escalation_id)

    async def roster(self, session: AsyncSession) -> escalation.Roster:
        staff = (
            await session.scalars(
                select(Person)
                .where(
                    Person.role.in_(STAFF_ROLES),
                    Person.onboarded_at.is_not(None),
                    Person.blocked_at.is_(None),
                )
                .order_by(Person.id)
            )
        ).all()
        return escalation.Roster(
            on_duty=tuple(party(p) for p in staff if p.on_duty),
            supervisors=tuple(party(p) for p in staff if p.role == Role.SUPERVISOR.value),
        )

    async def holder_alias(self, session: AsyncSession, subject_id: int) -> str | None:
        """The alias of the worker who holds the chat about this person, if one does."""
        alias = await session.scalar(
            select(_HOLDER.alias)
            .join(Escalation, Escalation.claimed_by == _HOLDER.id)
            .where(
                Escalation.subject_id == subject_id,
                Escalation.resolved_at.is_(None),
                Escalation.state.in_(HELD),
            )
        )
        return str(alias) if alias else None

    async def waiting_since(self, session: AsyncSession, subject_id: int) -> datetime | None:
        """When the open chat about this person that no worker holds was opened, if any."""
        return await session.scalar(
            select(Escalation.opened_at).where(
                Escalation.subject_id == subject_id,
                Escalation.resolved_at.is_(None),
                Escalation.state.not_in(HELD),
            )
        )

    async def reply_case(self, session: AsyncSession, chat_id: int, message_id: int) -> int | None:
        """The escalation a message in a worker's chat belongs to, if any."""
        found = await session.scalar(
            select(RelayMessage.escalation_id)
            .where(
                RelayMessage.worker_chat_id == chat_id, RelayMessage.worker_message_id == message_id
            )
            .limit(1)
        )
        return int(found) if found is not None else None

    async def _queued(self, session: AsyncSession, *where: Any) -> list[desks.Queued]:
        rows = (
            await session.scalars(select(QueuedMessage).where(*where).order_by(QueuedMessage.id))
        ).all()
        return [
            desks.Queued(
                q.id,
                q.sender_id,
                q.escalation_id,
                q.purpose,
                q.message_id,
                q.kind,
                self.host.cipher.decrypt(q.text) if q.text else "",
                q.at,
            )
            for q in rows
        ]

    async def facts(
        self, session: AsyncSession, actor: Person, request: StaffRequest
    ) -> desks.DeskFacts:
        """Exactly what ``request`` names: its case (locked), the staff its alias matches and
        their chats, the case's current holder's chats, what its person wrote while waiting,
        the worker's kept message, the queue."""
        desk = await self.desk(session, actor)
        case = (
            await self.case(
                session, request.case_id, reasons=request.action in ("release", "resolve")
            )
            if request.case_id is not None
            else None
        )
        targets: tuple[Party, ...] = ()
        target_desk = holder_desk = None
        if request.alias is not None:
            people = (
                await session.scalars(
                    select(Person).where(
                        func.lower(Person.alias) == request.alias.lower(),
                        Person.onboarded_at.is_not(None),
                    )
                )
            ).all()
            targets = tuple(party(p) for p in people)
            if len(people) == 1:
                target_desk = await self.desk(session, people[0])
        if (
            case is not None
            and case.held
            and case.holder is not None
            and case.holder.id != actor.id
        ):
            holder = await session.get(Person, case.holder.id)
            if holder is not None:
                holder_desk = await self.desk(session, holder)
        waiting: tuple[desks.Queued, ...] = ()
        if case is not None and request.action in ("claim", "assign") and case.state == "open":
            waiting = tuple(
                await self._queued(
                    session,
                    QueuedMessage.escalation_id == case.id,
                    QueuedMessage.purpose == "waiting",
                )
            )
        kept = None
        if request.action == "sendto" and request.message_id is not None:
            found = await self._queued(
                session,
                QueuedMessage.sender_id == actor.id,
                QueuedMessage.message_id == request.message_id,
                QueuedMessage.purpose.in_(("unaddressed", "note")),
            )
            kept = found[0] if found else None
        queue: tuple[Case, ...] = ()
        if request.action in ("queue", "overdue"):
            audit.record(
                session,
                actor,
                "view_overdue" if request.action == "overdue" else "view_queue",
                None,
            )
            query = CASES.where(Escalation.resolved_at.is_(None))
            if actor.role != Role.SUPERVISOR.value:
                query = query.where(
                    (Escalation.state == "open") | (Escalation.claimed_by == actor.id)
                )
            queue = tuple(await self._cases(session, query.order_by(Escalation.opened_at)))
        roster = await self.roster(session) if request.action == "release" else escalation.Roster()
        return desks.DeskFacts(
            desk, case, targets, target_desk, holder_desk, waiting, kept, queue, roster
        )

    async def _decide(
        self, session: AsyncSession, request: StaffRequest, acting: Acting
    ) -> tuple[Effect, ...]:
        assert acting.person is not None
        facts = await self.facts(session, acting.person, request)
        return desks.decide(request, facts, self.rules, acting.now)

    async def _ask_for_person(
        self, session: AsyncSession, effect: AskForPerson, acting: Acting
    ) -> tuple[Effect, ...]:
        assert acting.person is not None
        reason = escalation.Reason(effect.source)
        _, effects = await self.raise_for(
            session, acting.person, reason, acting.now, tell_subject=effect.tell
        )
        return effects

    # -- opening -------------------------------------------------------------------------------

    async def raise_for(
        self,
        session: AsyncSession,
        subject: Person,
        reason: escalation.Reason,
        now: datetime,
        tell_subject: bool = False,
    ) -> tuple[int, tuple[Effect, ...]]:
        """Make sure an escalation is open about ``subject`` and add ``reason`` to it; returns
        its id and the effects deciding that produced (cards, alerts, what the person is told)."""
        escalation_id, new = await self._ensure_open(session, subject.id, reason.tier, now)
        case = await self.case(session, escalation_id, reasons=True)
        if case is None:
            raise CaseChanged(escalation_id)
        relatives: tuple[int, ...] = ()
        if new and subject.role == Role.CLIENT.value:
            relatives = await self._relatives_to_alert(session, subject.id)
        recent = await session.scalar(
            select(func.max(EscalationReason.at)).where(
                EscalationReason.escalation_id == escalation_id,
                EscalationReason.tier == Tier.URGENT.value,
            )
        )
        effects = escalation.add_reason(
            escalation.Opening(
                case,
                new,
                recent_crisis=recent is not None and now - recent < RECENT_CRISIS,
            ),
            reason,
            await self.roster(session),
            relatives,
            self.rules,
            now,
            tell_subject,
        )
        return escalation_id, effects

    async def _ensure_open(
        self, session: AsyncSession, subject_id: int, tier: Tier, now: datetime
    ) -> tuple[int, bool]:
        """The open escalation about the person, made if there is none, in one statement that
        cannot lose a race: an INSERT that does nothing when the one-open-per-person index
        already holds a row (a concurrent transaction's included: it waits for that one).
        Returns its id and whether it is new."""
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        for _ in range(3):
            made = await session.scalar(
                insert(Escalation)
                .values(
                    subject_id=subject_id,
                    ref=secrets.token_hex(3),
                    tier=tier.value,
                    state="open",
                    opened_at=now,
                    reminders=0,
                )
                .on_conflict_do_nothing(
                    index_elements=[Escalation.subject_id],
                    index_where=Escalation.resolved_at.is_(None),
                )
                .returning(Escalation.id)
            )
            if made is not None:
                session.add(EscalationEvent(escalation_id=made, kind="opened", detail={}, at=now))
                await _set_clock(session, subject_id, self.rules.claim_due(tier, now))
                return int(made), True
            existing = await session.scalar(
                select(Escalation.id).where(
                    Escalation.subject_id == subject_id, Escalation.resolved_at.is_(None)
                )
            )
            if existing is not None:
                return int(existing), False
        raise CaseChanged(subject_id)

    async def _relatives_to_alert(self, session: AsyncSession, client_id: int) -> tuple[int, ...]:
        """Relatives the client allowed to hear that the team is following up."""
        ids = []
        for link in await active_links(session, client_id=client_id):
            if link.share_alerts and link.family_id is not None:
                relative = await session.get(Person, link.family_id)
                if relative is not None and relative.blocked_at is None and not relative.paused:
                    ids.append(relative.id)
        return tuple(ids)

    # -- people leaving, the clocks --------------------------------------------------------------

    async def leaving(
        self,
        session: AsyncSession,
        person: Person,
        outcome: str,
        tell_worker: Text | None,
        now: datetime,
    ) -> tuple[Effect, ...]:
        """Someone blocked the bot, was erased or changed role: the chats they hold go back to
        the queue, and an escalation about them closes (``outcome``, one of ``LEFT``)."""
        assert outcome in LEFT
        effects: tuple[Effect, ...] = ()
        if person.role in STAFF_ROLES:
            desk = await self.desk(session, person, reasons=True)
            locked = [await self.case(session, c.id, reasons=True) for c in desk.held]
            held = tuple(c for c in locked if c is not None and c.held_by(person.id))
            effects += escalation.worker_left(
                desk.worker, held, await self.roster(session), self.rules, now, tell_worker
            )
        case = await self.case_about(session, person.id)
        if case is not None:
            effects += escalation.subject_left(case, outcome, now)
        return effects

    async def flags_raised(
        self, session: AsyncSession, person: Person, raised: Sequence[Flag], now: datetime
    ) -> list[Outgoing]:
        """The one interface from early-warning flags to escalations: each flag is a reason,
        applied before the next is weighed."""
        out: list[Outgoing] = []
        for flag in raised:
            source = "silence" if flag.rule == "silence" else "flag"
            reason = escalation.Reason(
                source,
                (
                    ("rule", flag.rule),
                    ("evidence", list(flag.evidence)),
                    ("summary", dict(flag.summary)),
                ),
            )
            escalation_id, effects = await self.raise_for(session, person, reason, now)
            flag.escalation_id = escalation_id
            out += await self.appliers.apply(session, effects, Acting(person, now))
        return out

    async def tick(self, session: AsyncSession, now: datetime) -> list[Outgoing]:
        """The escalation clocks, for the scheduler's tick."""
        effects = await self.overdue(session, now)
        return await self.appliers.apply(session, effects, Acting(None, now))

    async def overdue(self, session: AsyncSession, now: datetime) -> tuple[Effect, ...]:
        """Escalations whose clock ran out: their rows in the schedules table, oldest first
        (claimed by one process: SKIP LOCKED). A row whose escalation is gone is dropped."""
        due = (
            select(Schedule.person_id)
            .where(Schedule.kind == ESCALATION, Schedule.due_at <= now)
            .order_by(Schedule.due_at)
            .limit(200)
        )
        if self.host.db.is_postgres:
            due = due.with_for_update(skip_locked=True)
        subjects = list((await session.scalars(due)).all())
        if not subjects:
            return ()
        query = CASES.where(
            Escalation.subject_id.in_(subjects), Escalation.resolved_at.is_(None)
        ).order_by(Schedule.due_at, Escalation.id)
        cases = await self._cases(session, query, reasons=True)
        if gone := set(subjects) - {case.subject.id for case in cases}:
            await session.execute(
                delete(Schedule).where(Schedule.kind == ESCALATION, Schedule.person_id.in_(gone))
            )
        if not cases:
            return ()
        roster = await self.roster(session)
        effects: tuple[Effect, ...] = ()
        for case in cases:
            effects += escalation.overdue(case, roster, self.rules, now)
        return effects

    # -- appliers ----------------------------------------------------------------------------------

    async def _person(self, session: AsyncSession, person_id: int) -> Person | None:
        return await session.get(Person, person_id)

    async def _tell(self, session: AsyncSession, effect: Tell, acting: Acting) -> list[Outgoing]:
        person = await self._person(session, effect.to)
        if person is None:
            return []
        return [self.host.renderer.message(person, effect.text, effect.choices, effect.columns)]

    async def _post_card(
        self, session: AsyncSession, effect: PostCard, acting: Acting
    ) -> list[Outgoing]:
        staff = await self._person(session, effect.to)
        if staff is None:
            return []
        return [
            self.host.renderer.message(
                staff, effect.text, effect.choices, tag=CardTag(effect.case_id, staff.id)
            )
        ]

    async def _edit_cards(
        self, session: AsyncSession, effect: EditCards, acting: Acting
    ) -> list[Outgoing]:
        cards = (
            await session.scalars(
                select(EscalationCard).where(EscalationCard.escalation_id == effect.case_id)
            )
        ).all()
        out: list[Outgoing] = []
        for card in cards:
            staff = await self._person(session, card.staff_id)
            if staff is not None:
                out.append(
                    EditText(card.chat_id, card.message_id, self._render(staff, effect.text))
                )
            await session.delete(card)
        return out

    async def _change(
        self, session: AsyncSession, effect: ChangeCase, acting: Acting
    ) -> list[Outgoing]:
        values = case_values(effect)
        holder = (
            Escalation.claimed_by.is_(None)
            if effect.expect_holder is None
            else Escalation.claimed_by == effect.expect_holder
        )
        changed = await session.scalar(
            update(Escalation)
            .where(
                Escalation.id == effect.case_id,
                Escalation.state.in_(escalation.Lifecycle.sources(effect.change)),
                holder,
            )
            .values(**values)
            .returning(Escalation.subject_id)
            .execution_options(synchronize_session=False)
        )
        if changed is None:
            log.info("escalation %s changed meanwhile; handling the update again", effect.case_id)
            raise CaseChanged(effect.case_id)
        clock = next_clock(effect)
        if not isinstance(clock, Unchanged):
            await _set_clock(session, int(changed), clock)
        # Every change is in the log, but of the worker's messages only the first reply.
        if effect.change != "reply" or effect.was == "claimed":
            kind = _EVENT_KINDS.get(effect.change, effect.change)
            detail: dict[str, Any] = {}
            if effect.holder_id is not None:
                detail["worker"] = effect.holder_id
            if effect.outcome is not None:
                detail["outcome"] = effect.outcome
            if effect.tier is not None:
                detail["tier"] = effect.tier
            session.add(
                EscalationEvent(
                    escalation_id=effect.case_id,
                    kind=kind,
                    actor_id=effect.actor_id,
                    detail=detail,
                    at=effect.at,
                )
            )
        if effect.change == "resolve":
            # Kept messages of a closed escalation can never be delivered.
            await session.execute(
                delete(QueuedMessage).where(QueuedMessage.escalation_id == effect.case_id)
            )
        return []

    async def _add_reason(
        self, session: AsyncSession, effect: AddReason, acting: Acting
    ) -> list[Outgoing]:
        reason = effect.reason
        session.add(
            EscalationReason(
                escalation_id=effect.case_id,
                source=reason.source,
                tier=reason.tier.value,
                detail=dict(reason.detail),
                note=self.host.cipher.encrypt(reason.note) if reason.note else None,
                from_person_id=reason.from_id,
                at=acting.now,
            )
        )
        session.add(
            EscalationEvent(
                escalation_id=effect.case_id,
                kind="reason_added",
                actor_id=reason.from_id,
                detail={"source": reason.source},
                at=acting.now,
            )
        )
        return []

    async def _add_note(
        self, session: AsyncSession, effect: AddNote, acting: Acting
    ) -> list[Outgoing]:
        session.add(
            EscalationNote(
                escalation_id=effect.case_id,
                author_id=effect.author_id,
                author_alias=effect.author_alias,
                closing=effect.closing,
                text=self.host.cipher.encrypt(effect.text),
                at=acting.now,
            )
        )
        session.add(
            EscalationEvent(
                escalation_id=effect.case_id,
                kind="note",
                actor_id=effect.author_id,
                detail={},
                at=acting.now,
            )
        )
        return []

    async def _set_selection(
        self, session: AsyncSession, effect: SetSelection, acting: Acting
    ) -> list[Outgoing]:
        worker = await self._person(session, effect.worker_id)
        if worker is not None and worker.selected_escalation_id != effect.case_id:
            worker.selected_escalation_id = effect.case_id
        return []

    async def _relay(
        self, session: AsyncSession, effect: RelayTo, acting: Acting
    ) -> list[Outgoing]:
        recipient = await self._person(session, effect.to)
        sender = await self._person(session, effect.sender_id)
        if recipient is None or sender is None:
            return []
        return relayed(self.host.renderer, effect, recipient, sender)

    async def _queue_message(
        self, session: AsyncSession, effect: QueueMessage, acting: Acting
    ) -> list[Outgoing]:
        session.add(
            QueuedMessage(
                sender_id=effect.sender_id,
                escalation_id=effect.case_id,
                purpose=effect.purpose,
                message_id=effect.message_id,
                kind=effect.kind,
                text=self.host.cipher.encrypt(effect.text) if effect.text else None,
                at=acting.now,
            )
        )
        return []

    async def _drop_queued(
        self, session: AsyncSession, effect: DropQueued, acting: Acting
    ) -> list[Outgoing]:
        await session.execute(delete(QueuedMessage).where(QueuedMessage.id.in_(effect.ids)))
        return []

    # -- the context card --------------------------------------------------------------------------

    async def _show_context(
        self, session: AsyncSession, effect: ShowContext, acting: Acting
    ) -> list[Outgoing]:
        """What the worker needs to start well (``bot.context_card``), and a client's chart."""
        worker = await self._person(session, effect.to)
        esc = await session.get(Escalation, effect.case_id)
        subject = await self._person(session, esc.subject_id) if esc is not None else None
        if worker is None or esc is None or subject is None:
            return []
        audit.record(session, worker, "view_context", subject.id)
        reasons = (
            await session.scalars(
                select(EscalationReason)
                .where(EscalationReason.escalation_id == esc.id)
                .order_by(EscalationReason.id)
            )
        ).all()
        today = local_date(acting.now, subject.timezone)
        client = subject.role == Role.CLIENT.value
        context = Context(
            Case(esc.id, esc.ref, party(subject), esc.state, Tier(esc.tier), esc.opened_at),
            [
                ReasonSeen(r.source, r.detail, self.host.cipher.decrypt(r.note) if r.note else "")
                for r in reasons
            ],
            await self._client_record(session, subject, today) if client else None,
            await self._notes(session, subject.id, esc.id),
            effect.chosen,
            effect.review,
        )
        out: list[Outgoing] = [card_for(self.host.renderer, worker, context)]
        if client:
            since = today - timedelta(days=29)
            history = (await checkins.records(session, [subject.id], since))[subject.id]
            out.append(
                await weekly_photo(self.host.translator, worker, history, today, about=subject)
            )
        return out

    async def _client_record(
        self, session: AsyncSession, client: Person, today: date
    ) -> ClientRecord:
        week = (await checkins.records(session, [client.id], today - timedelta(days=7)))[client.id]
        signs = await checkins.active_signs(session, client.id)
        return ClientRecord(
            week,
            [self.host.cipher.decrypt(s.text) for s in signs],
            await safety_plans.load(session, client.id, self.host.cipher),
        )

    async def _notes(self, session: AsyncSession, subject_id: int, current: int) -> list[NoteSeen]:
        """The newest notes on escalations about this person, oldest first."""
        notes = (
            await session.execute(
                select(EscalationNote, Escalation.id)
                .join(Escalation, Escalation.id == EscalationNote.escalation_id)
                .where(Escalation.subject_id == subject_id)
                .order_by(EscalationNote.at.desc(), EscalationNote.id.desc())
                .limit(NOTES_SHOWN)
            )
        ).all()
        return [
            NoteSeen(
                note.at,
                note.author_alias,
                self.host.cipher.decrypt(note.text),
                escalation_id == current,
            )
            for note, escalation_id in reversed(notes)
        ]

    # -- ratings ---------------------------------------------------------------------------------

    async def _rate(
        self, session: AsyncSession, effect: RateChat, acting: Acting
    ) -> list[Outgoing]:
        person = acting.person
        assert person is not None
        esc = await session.get(Escalation, effect.escalation_id)
        counts, answer = escalation.rated(
            person.id, esc.subject_id if esc else None, esc.state if esc else None
        )
        if esc is None or not counts:
            return [self.host.renderer.message(person, answer)]
        esc.rating = effect.rating
        session.add(
            EscalationEvent(
                escalation_id=esc.id,
                kind="rated",
                actor_id=person.id,
                detail={"rating": effect.rating},
                at=acting.now,
            )
        )
        return [self.host.renderer.message(person, answer)]


_EVENT_KINDS = {
    "claim": "claimed",
    "assign": "assigned",
    "transfer": "transferred",
    "reply": "first_reply",
    "release": "released",
    "resolve": "resolved",
    "add_reason": "tier_raised",
    "overdue": "overdue",
}


def case_values(effect: ChangeCase) -> dict[str, Any]:
    """The columns one lifecycle change writes (its new state from the machine)."""
    dest = escalation.Lifecycle.dest(effect.change)
    values: dict[str, Any] = {} if dest is None else {"state": dest}
    if effect.change in ("claim", "assign", "transfer"):
        values.update(claimed_by=effect.holder_id, claimed_at=effect.at, reminders=0)
    elif effect.change == "reply":
        values.update(reminders=0)
    elif effect.change == "release":
        values.update(claimed_by=None, reminders=0)
    elif effect.change == "resolve":
        values.update(resolved_at=effect.at, outcome=effect.outcome)
    elif effect.change == "add_reason":
        values["tier"] = effect.tier
    elif effect.change == "overdue":
        values["reminders"] = Escalation.reminders + 1
    return values


class Unchanged:
    """A change that leaves the escalation's clock as it is."""


UNCHANGED = Unchanged()


def next_clock(effect: ChangeCase) -> datetime | Unchanged | None:
    """When the escalation's clock runs out after this change: the claim clock while it is
    open, the reply clock while a worker holds it; None stops it."""
    if effect.change in ("claim", "assign", "transfer"):
        return effect.reply_due_at
    if effect.change in ("reply", "resolve"):
        return None
    if effect.change == "release":
        return effect.claim_due_at
    if effect.change in ("add_reason", "overdue"):
        due = effect.claim_due_at or effect.reply_due_at
        return UNCHANGED if due is None else due
    return UNCHANGED


async def _set_clock(session: AsyncSession, subject_id: int, due: datetime | None) -> None:
    """An escalation's clock is its subject's ``escalation`` row in the schedules table, the
    one table the scheduler's tick reads; None removes it."""
    row = await session.get(Schedule, (subject_id, ESCALATION))
    if due is None:
        if row is not None:
            await session.delete(row)
    elif row is None:
        session.add(Schedule(person_id=subject_id, kind=ESCALATION, due_at=due))
    else:
        row.due_at = due
