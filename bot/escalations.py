"""The shell's side of escalations: load the rows a decision rests on (locked where it
matters), hand them to ``flows.escalation`` / ``flows.desk``, and apply what comes back.

Nothing here decides who may do what or who receives a message: that is the core's. This
module turns rows into ``Case``/``Desk``/``Party`` facts, opens an escalation race-free,
carries out each escalation effect (one applier per effect type), and renders the context
card a worker reads when a chat reaches them.
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
from bot.host import Host
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
    CaseTag,
    CopyMessage,
    EditText,
    Outgoing,
    RelayTag,
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
from flows.escalation import HELD, LEFT, SOURCE_LABELS, TIER_LABELS, Case, Party, Tier
from flows.family import CONCERN_SIGNS
from flows.roles import STAFF, Role
from flows.schedule import local_date
from flows.text import LANGUAGE_NAMES, N_, Lines, Msg, Raw, Text, msg
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


class Escalations:
    def __init__(self, host: Host, appliers: Appliers) -> None:
        self.host = host
        self.settings = host.settings
        self.rules = escalation.CaseRules(
            claim_within={
                Tier.URGENT: timedelta(minutes=self.settings.sla_urgent_minutes),
                Tier.SAME_DAY: timedelta(minutes=self.settings.sla_same_day_minutes),
                Tier.ROUTINE: timedelta(minutes=self.settings.sla_routine_minutes),
            },
            reply_within=timedelta(minutes=self.settings.reply_reminder_minutes),
            max_active=self.settings.max_active_chats,
            after_hours_note=self.settings.after_hours_note,
        )
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

    @staticmethod
    def _cases_query() -> Select[Escalation, Person, Person, datetime | None]:
        """Escalations with their subject, their holder and when their clock next runs out
        (the subject's escalation row in the schedules table: unresolved cases only)."""
        subject, holder = aliased(Person), aliased(Person)
        return (
            select(Escalation, subject, holder, Schedule.due_at)
            .join(subject, subject.id == Escalation.subject_id)
            .outerjoin(holder, holder.id == Escalation.claimed_by)
            .outerjoin(
                Schedule,
                (Schedule.person_id == Escalation.subject_id)
                & (Schedule.kind == ESCALATION)
                & Escalation.resolved_at.is_(None),
            )
        )

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
            Case(
                id=esc.id,
                ref=esc.ref,
                subject=replace(
                    party(subject),
                    emergency=crisis.emergency_inline(self.host.lines.numbers_for(subject.region)),
                ),
                state=esc.state,
                tier=Tier(esc.tier),
                opened_at=esc.opened_at,
                holder=party(holder) if holder is not None else None,
                reminders=esc.reminders,
                claim_due_at=due if esc.state == "open" else None,
                reply_due_at=due if esc.state in HELD else None,
                reasons=tuple(sources.get(esc.id, ())),
            )
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
        found = await self._cases(
            session, self._cases_query().where(Escalation.id == escalation_id), reasons
        )
        return found[0] if found else None

    async def case_about(self, session: AsyncSession, subject_id: int) -> Case | None:
        """The unresolved escalation about a person, its row locked (a worker releasing it
        at the same moment waits, so their message is relayed or kept, never both)."""
        ids = await self._lock(
            session, Escalation.subject_id == subject_id, Escalation.resolved_at.is_(None)
        )
        if not ids:
            return None
        found = await self._cases(session, self._cases_query().where(Escalation.id == ids[0]))
        return found[0] if found else None

    async def desk(
        self, session: AsyncSession, person: Person, reasons: bool = False
    ) -> desks.Desk:
        """A staff member's held chats, oldest claim first, and their chosen one."""
        held = await self._cases(
            session,
            self._cases_query()
            .where(Escalation.claimed_by == person.id, Escalation.state.in_(HELD))
            .order_by(Escalation.claimed_at, Escalation.id),
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
        holder = aliased(Person)
        alias = await session.scalar(
            select(holder.alias)
            .join(Escalation, Escalation.claimed_by == holder.id)
            .where(
                Escalation.subject_id == subject_id,
                Escalation.resolved_at.is_(None),
                Escalation.state.in_(HELD),
            )
        )
        return str(alias) if alias else None

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
            await self.case(session, request.case_id, reasons=request.action == "release")
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
            query = self._cases_query().where(Escalation.resolved_at.is_(None))
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
                source, (("rule", flag.rule), ("evidence", list(flag.evidence)))
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
        query = (
            self._cases_query()
            .where(Escalation.subject_id.in_(subjects), Escalation.resolved_at.is_(None))
            .order_by(Schedule.due_at, Escalation.id)
        )
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
        values = self._values(effect)
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
        clock = _next_clock(effect)
        if not isinstance(clock, _Unchanged):
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

    @staticmethod
    def _values(effect: ChangeCase) -> dict[str, Any]:
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
        to_worker = recipient.role in STAFF_ROLES
        confirm = self._render(sender, effect.confirm) if effect.confirm is not None else None
        tag = RelayTag(effect.case_id, sender.chat_id, sender.locale, to_worker, confirm)
        text = self._render(recipient, effect.text)
        if effect.copy_of is None:
            return [SendText(recipient.chat_id, text, tag=tag)]
        header_tag = RelayTag(effect.case_id, sender.chat_id, sender.locale, to_worker)
        return [
            SendText(recipient.chat_id, text, tag=header_tag),
            CopyMessage(recipient.chat_id, sender.chat_id, effect.copy_of, tag=tag),
        ]

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
        """What the worker needs to start well: reasons, the last week, signs, plan, notes."""
        worker = await self._person(session, effect.to)
        esc = await session.get(Escalation, effect.case_id)
        subject = await self._person(session, esc.subject_id) if esc is not None else None
        if worker is None or esc is None or subject is None:
            return []
        now = acting.now
        audit.record(session, worker, "view_context", subject.id)
        case_label = Case(
            esc.id, esc.ref, party(subject), esc.state, Tier(esc.tier), esc.opened_at
        ).label
        reasons = (
            await session.scalars(
                select(EscalationReason)
                .where(EscalationReason.escalation_id == esc.id)
                .order_by(EscalationReason.id)
            )
        ).all()
        lines: list[Msg | Raw] = [
            msg(
                N_("context.header"),
                case=case_label,
                language=Raw(LANGUAGE_NAMES.get(subject.locale, subject.locale)),
                tier=Msg(TIER_LABELS[Tier(esc.tier)]),
            ),
        ]
        for reason in reasons:
            lines.append(
                msg(
                    N_("context.reason"),
                    reason=Msg(SOURCE_LABELS[reason.source]),
                    detail=Raw(self._reason_detail(reason, worker)[:600] or "—"),
                )
            )
        today = local_date(now, subject.timezone)
        out: list[Outgoing] = []
        if subject.role == Role.CLIENT.value:
            lines += await self._client_record(session, subject, today)
        lines += await self._notes(session, subject.id, esc.id)
        lines.append(
            msg(N_("context.how_to_reply"), who=party(subject).who)
            if effect.chosen
            else msg(N_("context.how_to_reply.ask"), who=party(subject).who)
        )
        out.append(self.host.renderer.message(worker, Lines(tuple(lines)), tag=CaseTag(esc.id)))
        if subject.role == Role.CLIENT.value:
            history = (await checkins.records(session, [subject.id], today - timedelta(days=29)))[
                subject.id
            ]
            out.append(
                await weekly_photo(self.host.translator, worker, history, today, about=subject)
            )
        return out

    async def _client_record(
        self, session: AsyncSession, client: Person, today: date
    ) -> list[Msg | Raw]:
        lines: list[Msg | Raw] = []
        week = (await checkins.records(session, [client.id], today - timedelta(days=7)))[client.id]
        lines.append(Msg(N_("context.week")))
        if not week:
            lines.append(Msg(N_("context.none")))
        for record in week:
            lines.append(
                Raw(
                    f"{record.day:%m-%d}: mood {record.mood or '—'}, sleep {record.sleep if record.sleep is not None else '—'}, "
                    f"meds {record.medication or '—'}, signs {record.signs_yes if record.signs_yes is not None else '—'}"
                )
            )
        signs = await checkins.active_signs(session, client.id)
        lines.append(Msg(N_("context.signs")))
        if signs:
            lines.extend(Raw(f"• {self.host.cipher.decrypt(s.text)}") for s in signs)
        else:
            lines.append(Msg(N_("context.none")))
        plan = await safety_plans.load(session, client.id, self.host.cipher)
        lines.append(Msg(N_("context.plan")))
        if plan:
            lines.extend(Raw(f"• {text}") for text in plan.values())
        else:
            lines.append(Msg(N_("context.none")))
        return lines

    async def _notes(self, session: AsyncSession, subject_id: int, current: int) -> list[Msg | Raw]:
        """Notes on this escalation so far (a transfer, a release) and on the last past ones."""
        notes = (
            await session.execute(
                select(EscalationNote, Escalation.id)
                .join(Escalation, Escalation.id == EscalationNote.escalation_id)
                .where(Escalation.subject_id == subject_id)
                .order_by(EscalationNote.at.desc(), EscalationNote.id.desc())
                .limit(8)
            )
        ).all()
        lines: list[Msg | Raw] = [Msg(N_("context.notes"))]
        if not notes:
            lines.append(Msg(N_("context.none")))
        for note, escalation_id in reversed(notes):
            text = self.host.cipher.decrypt(note.text)
            mark = "★ " if escalation_id == current else ""
            lines.append(
                Raw(f"• {mark}{note.at:%Y-%m-%d} {note.author_alias or '—'}: {text}"[:400])
            )
        return lines

    def _reason_detail(self, reason: EscalationReason, reader: Person) -> str:
        """Evidence a worker can act on: flag answers, crisis categories, a relative's account."""
        detail = reason.detail
        if reason.source in ("family", "family_danger"):
            signs = dict(CONCERN_SIGNS)
            parts = [
                self._render(reader, Msg(signs[s])) for s in detail.get("signs", []) if s in signs
            ]
            if reason.note:
                parts.append(f"“{self.host.cipher.decrypt(reason.note)}”")
            about = (
                N_("context.about_relative")
                if detail.get("about") == "relative"
                else N_("context.about_caregiver")
            )
            return self._render(reader, Msg(about)) + " " + "; ".join(parts)
        evidence = ", ".join(map(str, detail.get("evidence") or detail.get("categories") or []))
        layers = detail.get("layers") or []
        if not layers:
            return evidence
        # Which layer of the crisis screen fired: for the worker, never for the person.
        found_by = self._render(reader, Msg(LAYERS.get(str(layers[0]), LAYERS["lexicon"])))
        return f"{evidence} · {found_by}" if evidence else found_by

    # -- ratings ---------------------------------------------------------------------------------

    async def _rate(
        self, session: AsyncSession, effect: RateChat, acting: Acting
    ) -> list[Outgoing]:
        person = acting.person
        assert person is not None
        esc = await session.get(Escalation, effect.escalation_id)
        if esc is None or esc.subject_id != person.id or esc.state != "resolved":
            return [self.host.renderer.message(person, Msg(N_("input.stale_button")))]
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
        return [self.host.renderer.message(person, Msg(N_("escalation.thanks_for_rating")))]


LAYERS = {"lexicon": N_("context.found_by_lexicon"), "model": N_("context.found_by_model")}

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


class _Unchanged:
    """A change that leaves the escalation's clock as it is."""


_UNCHANGED = _Unchanged()


def _next_clock(effect: ChangeCase) -> datetime | _Unchanged | None:
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
        return _UNCHANGED if due is None else due
    return _UNCHANGED


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
