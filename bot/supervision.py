"""The shell's side of looking after peer workers: load what a ``SupervisionRequest`` names,
hand it to ``flows.supervision.decide``, store debriefs, reviews and supervision notes, and
remind workers on duty too long (one indexed query per tick, no job per worker)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.applying import Acting, Appliers
from bot.digest import Digest
from bot.escalations import STAFF_ROLES, Escalations, party
from bot.host import Host
from bot.storage import audit
from bot.storage.duty import duty_of
from bot.storage.models import (
    Debrief,
    Escalation,
    EscalationEvent,
    Person,
    ReviewRequest,
    StaffDuty,
    SupervisionNote,
    TrainingProgress,
)
from bot.telegram.render import Outgoing
from flows import supervision
from flows.effects import (
    AddSupervisionNote,
    Effect,
    OpenReview,
    RecordDebrief,
    SupervisionRequest,
    TakeReview,
)
from flows.escalation import HELD, Case, Party, Roster
from flows.lessons.training import TRAINING
from flows.roles import Role

NOTES_SHOWN = 20


class Supervision:
    def __init__(self, host: Host, appliers: Appliers, escalations: Escalations) -> None:
        self.host = host
        self.escalations = escalations
        self.appliers = appliers
        appliers.register(
            {
                RecordDebrief: self._record_debrief,
                OpenReview: self._open_review,
                TakeReview: self._take_review,
                AddSupervisionNote: self._add_note,
            }
        )
        appliers.register_expanders({SupervisionRequest: self._decide})
        self.digest = Digest(host, appliers)

    # -- deciding ------------------------------------------------------------------------------

    async def _decide(
        self, session: AsyncSession, request: SupervisionRequest, acting: Acting
    ) -> tuple[Effect, ...]:
        assert acting.person is not None
        facts = await self.facts(session, acting.person, request, acting.now)
        return supervision.decide(request, facts, self.escalations.rules, acting.now)

    async def facts(
        self, session: AsyncSession, actor: Person, request: SupervisionRequest, now: datetime
    ) -> supervision.TeamFacts:
        """Exactly what ``request`` names."""
        me = party(actor)
        action = request.action
        case = None
        if action in ("debrief", "review") and request.case_id is not None:
            case = await self.escalations.case(session, request.case_id)
        debriefed = False
        if action == "debrief" and case is not None:
            debriefed = (
                await session.scalar(
                    select(Debrief.id).where(
                        Debrief.escalation_id == case.id, Debrief.worker_id == actor.id
                    )
                )
            ) is not None
        held: tuple[Case, ...] = ()
        if action in ("handback", "review"):
            desk = await self.escalations.desk(session, actor, reasons=True)
            if action == "handback":  # each chat locked, as a worker leaving does
                locked = [await self.escalations.case(session, c.id, True) for c in desk.held]
                held = tuple(c for c in locked if c is not None and c.held_by(actor.id))
            else:
                held = desk.held
        roster = (
            await self.escalations.roster(session)
            if action in ("debrief", "handback", "review")
            else Roster()
        )
        members: tuple[supervision.Member, ...] = ()
        if action == "team":
            audit.record(session, actor, "view_team", None)
            members = await self._members(session, now)
        reviews: tuple[supervision.Review, ...] = ()
        review = None
        if action == "reviews":
            if request.case_id is None:
                reviews = await self._reviews(session, ReviewRequest.taken_at.is_(None))
            else:
                found = await self._reviews(session, ReviewRequest.id == request.case_id)
                review = found[0] if found else None
                if review is not None:
                    audit.record(session, actor, "view_review", review.case.subject.id)
        targets: tuple[Party, ...] = ()
        notes: tuple[supervision.Note, ...] = ()
        if action in ("supnote", "supnotes") and request.alias is not None:
            people = (
                await session.scalars(
                    select(Person).where(
                        func.lower(Person.alias) == request.alias.lower(),
                        Person.role.in_(STAFF_ROLES),
                        Person.onboarded_at.is_not(None),
                    )
                )
            ).all()
            targets = tuple(party(p) for p in people)
        if action == "supnotes":
            about = actor.id
            if request.alias is not None and request.alias.lower() != (actor.alias or "").lower():
                about = targets[0].id if len(targets) == 1 else 0
                if actor.role != Role.SUPERVISOR.value:
                    about = 0
            if about:
                audit.record(session, actor, "view_supervision_notes", about)
                notes = await self._notes(session, about)
        return supervision.TeamFacts(
            me,
            case,
            debriefed,
            held,
            actor.selected_escalation_id,
            roster,
            members,
            reviews,
            review,
            targets,
            notes,
        )

    async def _members(
        self, session: AsyncSession, now: datetime
    ) -> tuple[supervision.Member, ...]:
        """Every staff member with their duty clock, chats held now, chats closed in the last
        seven days, and training lessons finished: four queries for the whole team."""
        staff = (
            await session.execute(
                select(Person, StaffDuty)
                .outerjoin(StaffDuty, StaffDuty.person_id == Person.id)
                .where(
                    Person.role.in_(STAFF_ROLES),
                    Person.onboarded_at.is_not(None),
                    Person.blocked_at.is_(None),
                )
                .order_by(Person.alias)
            )
        ).all()
        holding = dict(
            (
                await session.execute(
                    select(Escalation.claimed_by, func.count())
                    .where(Escalation.state.in_(HELD), Escalation.resolved_at.is_(None))
                    .group_by(Escalation.claimed_by)
                )
            ).all()
        )
        closed = dict(
            (
                await session.execute(
                    select(EscalationEvent.actor_id, func.count())
                    .where(
                        EscalationEvent.kind == "resolved",
                        EscalationEvent.at >= now - timedelta(days=7),
                    )
                    .group_by(EscalationEvent.actor_id)
                )
            ).all()
        )
        trained = dict(
            (
                await session.execute(
                    select(TrainingProgress.person_id, func.count())
                    .where(
                        TrainingProgress.completed_at.is_not(None),
                        TrainingProgress.lesson.in_([x.slug for x in TRAINING.lessons]),
                    )
                    .group_by(TrainingProgress.person_id)
                )
            ).all()
        )
        return tuple(
            supervision.Member(
                party(person),
                person.on_duty,
                duty_of(duty),
                int(holding.get(person.id, 0)),
                int(closed.get(person.id, 0)),
                int(trained.get(person.id, 0)),
            )
            for person, duty in staff
        )

    async def _reviews(
        self, session: AsyncSession, *where: ColumnElement[bool]
    ) -> tuple[supervision.Review, ...]:
        rows = (
            await session.execute(
                select(ReviewRequest, Person.alias)
                .outerjoin(Person, Person.id == ReviewRequest.taken_by)
                .where(*where)
                .order_by(ReviewRequest.requested_at, ReviewRequest.id)
                .limit(20)
            )
        ).all()
        cases = await self.escalations.cases_by_id(session, [r.escalation_id for r, _ in rows])
        out = []
        for row, taken_by in rows:
            case = cases.get(row.escalation_id)
            if case is None:
                continue
            worker = Party(row.worker_id or 0, Role.PEER_WORKER, row.worker_alias or "?")
            note = self.host.cipher.decrypt(row.note) if row.note else ""
            out.append(supervision.Review(row.id, case, worker, note, row.requested_at, taken_by))
        return tuple(out)

    async def _notes(self, session: AsyncSession, worker_id: int) -> tuple[supervision.Note, ...]:
        rows = (
            await session.scalars(
                select(SupervisionNote)
                .where(SupervisionNote.worker_id == worker_id)
                .order_by(SupervisionNote.at.desc(), SupervisionNote.id.desc())
                .limit(NOTES_SHOWN)
            )
        ).all()
        return tuple(
            supervision.Note(n.at, n.author_alias or "?", self.host.cipher.decrypt(n.text))
            for n in reversed(rows)
        )

    # -- appliers ----------------------------------------------------------------------------------

    async def _record_debrief(
        self, session: AsyncSession, effect: RecordDebrief, acting: Acting
    ) -> list[Outgoing]:
        session.add(
            Debrief(
                escalation_id=effect.case_id,
                worker_id=effect.worker_id,
                answer=effect.answer,
                at=acting.now,
            )
        )
        return []

    async def _open_review(
        self, session: AsyncSession, effect: OpenReview, acting: Acting
    ) -> list[Outgoing]:
        worker = await session.get(Person, effect.worker_id)
        session.add(
            ReviewRequest(
                escalation_id=effect.case_id,
                worker_id=effect.worker_id,
                worker_alias=worker.alias if worker is not None else None,
                note=self.host.cipher.encrypt(effect.note) if effect.note else None,
                requested_at=acting.now,
            )
        )
        return []

    async def _take_review(
        self, session: AsyncSession, effect: TakeReview, acting: Acting
    ) -> list[Outgoing]:
        await session.execute(
            update(ReviewRequest)
            .where(ReviewRequest.id == effect.review_id, ReviewRequest.taken_at.is_(None))
            .values(taken_by=effect.supervisor_id, taken_at=acting.now)
        )
        return []

    async def _add_note(
        self, session: AsyncSession, effect: AddSupervisionNote, acting: Acting
    ) -> list[Outgoing]:
        session.add(
            SupervisionNote(
                worker_id=effect.worker_id,
                author_id=effect.author_id,
                author_alias=effect.author_alias,
                text=self.host.cipher.encrypt(effect.text),
                at=acting.now,
            )
        )
        return []

    # -- the clock -----------------------------------------------------------------------------------

    async def tick(self, session: AsyncSession, now: datetime) -> list[Outgoing]:
        """Workers on duty longer than the limit without a break, not yet reminded during this
        stretch: found through the partial index, reminded once."""
        limit = timedelta(minutes=self.host.settings.duty_reminder_minutes)
        query = (
            select(StaffDuty, Person)
            .join(Person, Person.id == StaffDuty.person_id)
            .where(
                StaffDuty.since.is_not(None),
                StaffDuty.reminded_at.is_(None),
                StaffDuty.since <= now - limit,
                Person.on_duty.is_(True),
            )
            .order_by(StaffDuty.since)
            .limit(200)
        )
        if self.host.db.is_postgres:
            query = query.with_for_update(of=StaffDuty, skip_locked=True)
        rows = (await session.execute(query)).all()
        digest = await self.digest.tick(session, now)
        effects: list[Effect] = []
        for duty, person in rows:
            duty.reminded_at = now
            assert duty.since is not None
            effects.append(supervision.duty_reminder(party(person), duty.since, now))
        return [*await self.appliers.apply(session, effects, Acting(None, now)), *digest]
