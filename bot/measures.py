"""The shell's side of the measures (``flows.measures``): opt-in rows, finished
questionnaires, and the tick that finds who is due through the partial index on
``measure_schedule.due_at`` (no job per person)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from bot.applying import Acting, Appliers
from bot.escalations import party
from bot.host import Host
from bot.storage.models import (
    Escalation,
    EscalationEvent,
    MeasureAnswer,
    MeasureSchedule,
    Person,
    RiskEvent,
)
from bot.storage.people import view_of
from bot.telegram.render import Outgoing
from flows import measures
from flows.effects import RecordMeasure, SetMeasure
from flows.escalation import HELD, Party

BATCH = 200


class Measures:
    def __init__(self, host: Host, appliers: Appliers) -> None:
        self.host = host
        self.appliers = appliers
        appliers.register({SetMeasure: self._set, RecordMeasure: self._record})

    async def _set(
        self, session: AsyncSession, effect: SetMeasure, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        due = acting.now + effect.due_in if effect.due_in is not None else None
        values: dict[str, Any] = {
            "person_id": acting.person.id,
            "measure": effect.measure,
            "status": effect.status,
            "due_at": due,
            "changed_at": acting.now,
        }
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        await session.execute(
            insert(MeasureSchedule)
            .values(**values)
            .on_conflict_do_update(
                index_elements=[MeasureSchedule.person_id, MeasureSchedule.measure],
                set_={"status": effect.status, "due_at": due, "changed_at": acting.now},
            )
        )
        return []

    async def _record(
        self, session: AsyncSession, effect: RecordMeasure, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        session.add(
            MeasureAnswer(
                person_id=acting.person.id,
                measure=effect.measure,
                worker_id=effect.worker_id,
                answers=list(effect.answers),
                score=measures.score(effect.measure, effect.answers),
                at=acting.now,
            )
        )
        return []

    # -- the clock ---------------------------------------------------------------------------------

    async def tick(self, session: AsyncSession, now: datetime) -> list[Outgoing]:
        """Due rows, oldest first, one batch: each person's facts are loaded, the core decides
        to ask or when to look again, and the row moves on."""
        query = (
            select(MeasureSchedule, Person)
            .join(Person, Person.id == MeasureSchedule.person_id)
            .where(MeasureSchedule.status == "on", MeasureSchedule.due_at <= now)
            .order_by(MeasureSchedule.due_at)
            .limit(BATCH)
        )
        if self.host.db.is_postgres:
            query = query.with_for_update(of=MeasureSchedule, skip_locked=True)
        rows = (await session.execute(query)).all()
        out: list[Outgoing] = []
        for row, person in rows:
            due = measures.MeasureDue(
                row.measure,
                view_of(person),
                now,
                last_crisis=await self._last_crisis(session, person.id),
                held=await self._held(session, person.id),
                blocked=person.blocked_at is not None,
                partner=(
                    await self._partner(session, person.id, now)
                    if row.measure == measures.ALLIANCE
                    else None
                ),
            )
            timed = measures.decide(due, self.host.rules)
            row.due_at = timed.due
            out += await self.appliers.apply(session, timed.effects, Acting(person, now))
        return out

    @staticmethod
    async def _last_crisis(session: AsyncSession, person_id: int) -> datetime | None:
        found: datetime | None = await session.scalar(
            select(func.max(RiskEvent.at)).where(
                RiskEvent.person_id == person_id, RiskEvent.level == "crisis"
            )
        )
        return found

    @staticmethod
    async def _held(session: AsyncSession, person_id: int) -> bool:
        found = await session.scalar(
            select(Escalation.id).where(
                Escalation.subject_id == person_id,
                Escalation.resolved_at.is_(None),
                Escalation.state.in_(HELD),
            )
        )
        return found is not None

    @staticmethod
    async def _partner(session: AsyncSession, person_id: int, now: datetime) -> Party | None:
        """The worker who replied in the most of this client's chats in the last eight weeks,
        if that is two chats or more (the lowest id when tied: never a guess between two)."""
        chats = func.count(func.distinct(EscalationEvent.escalation_id))
        found = (
            await session.execute(
                select(EscalationEvent.actor_id, chats)
                .join(Escalation, Escalation.id == EscalationEvent.escalation_id)
                .where(
                    Escalation.subject_id == person_id,
                    EscalationEvent.kind == "first_reply",
                    EscalationEvent.actor_id.is_not(None),
                    EscalationEvent.at >= now - measures.ALLIANCE_WINDOW,
                )
                .group_by(EscalationEvent.actor_id)
                .order_by(chats.desc(), EscalationEvent.actor_id)
            )
        ).all()
        if not found or found[0][1] < measures.ALLIANCE_MIN_CHATS:
            return None
        if len(found) > 1 and found[1][1] == found[0][1]:
            return None  # two workers equally: whom the questions are about would be a guess
        worker = await session.get(Person, found[0][0])
        return party(worker) if worker is not None else None


__all__ = ["Measures"]
