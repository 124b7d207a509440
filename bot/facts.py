"""The one registry of fact loaders: for each ``flows.facts.Fact`` the query that answers
it. The dispatcher asks the core which facts an event needs (``flows.conversation
.facts_for``) and loads exactly those, per event; nothing here decides what is needed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import Cipher
from bot.storage import activities, checkins, people, rooms, safety_plans
from bot.storage.family_links import links_data
from bot.storage.models import LessonProgress, MeasureSchedule, Person, TrainingProgress
from flows import questions
from flows.activities import Found
from flows.facts import Fact
from flows.flags import DayRecord
from flows.history import record_answers
from flows.people import Event
from flows.roles import Role
from flows.rooms import Membership
from flows.schedule import local_date

HISTORY_DAYS = 7


@dataclass(frozen=True, slots=True)
class Asking:
    """Whose facts are loaded, for which event, at what moment."""

    person: Person
    event: Event
    now: datetime

    @property
    def today(self) -> date:
        return local_date(self.now, self.person.timezone)


Loader = Callable[[AsyncSession, Asking], Awaitable[Any]]


class FactLoaders:
    """Fact → its loader; every fact the core can ask for has one (a test checks)."""

    def __init__(self, cipher: Cipher) -> None:
        self.cipher = cipher
        self.loaders: dict[Fact, Loader] = {
            Fact.CHECKIN: _checkin,
            Fact.HISTORY: _history,
            Fact.TODAY: _today,
            Fact.JOINED: _joined,
            Fact.SIGNS: self._signs,
            Fact.LINKS: _links,
            Fact.PROGRESS: _progress,
            Fact.TRAINING: _training,
            Fact.PLAN: self._plan,
            Fact.ALIAS_TAKEN: _alias_taken,
            Fact.ACTIVITIES: _activities,
            Fact.STAFF_ALIASES: _staff_aliases,
            Fact.MEASURES: _measures,
            Fact.ROOMS: _rooms,
            Fact.EDITED_ROOM: _edited_room,
        }

    async def load(
        self, session: AsyncSession, facts: tuple[Fact, ...], asking: Asking
    ) -> dict[str, Any]:
        return {fact.value: await self.loaders[fact](session, asking) for fact in facts}

    async def _signs(self, session: AsyncSession, asking: Asking) -> list[list[Any]]:
        return [
            [s.id, self.cipher.decrypt(s.text)]
            for s in await checkins.active_signs(session, asking.person.id)
        ]

    async def _plan(self, session: AsyncSession, asking: Asking) -> dict[str, str]:
        return await safety_plans.load(session, asking.person.id, self.cipher)


async def _checkin(session: AsyncSession, asking: Asking) -> dict[str, Any]:
    return await checkins.open_today(session, asking.person, asking.today, asking.now)


async def _history(session: AsyncSession, asking: Asking) -> list[dict[str, Any]]:
    person, since = asking.person, asking.today - timedelta(days=HISTORY_DAYS)
    rows = (await checkins.records(session, [person.id], since))[person.id]
    return history_days(rows, await checkins.completed_days(session, person.id, since))


def history_days(rows: Iterable[DayRecord], complete: Collection[date]) -> list[dict[str, Any]]:
    """``Fact.HISTORY``: one dict per day with a check-in, and whether it was completed."""
    return [
        {
            "day": r.day.isoformat(),
            **record_answers(r),
            "unusual": list(r.unusual) if r.unusual is not None else None,
            "complete": r.day in complete,
        }
        for r in rows
    ]


async def _today(session: AsyncSession, asking: Asking) -> date:
    return asking.today


async def _joined(session: AsyncSession, asking: Asking) -> date | None:
    return joined_day(asking.person)


def joined_day(person: Person) -> date | None:
    """``Fact.JOINED``: the person's local date when they finished joining (or were added)."""
    joined = person.onboarded_at or person.created_at
    return local_date(joined, person.timezone) if joined is not None else None


async def _links(session: AsyncSession, asking: Asking) -> list[dict[str, Any]]:
    return await links_data(session, asking.person.id, asking.now)


async def _progress(session: AsyncSession, asking: Asking) -> dict[str, str]:
    """How far a relative is in the course: lesson slug → "started" or "done"."""
    rows = await session.scalars(
        select(LessonProgress).where(LessonProgress.person_id == asking.person.id)
    )
    return {row.lesson: "done" if row.completed_at else "started" for row in rows}


async def _training(session: AsyncSession, asking: Asking) -> dict[str, str]:
    """How far a peer worker is in the training course: lesson slug → "started" or "done"."""
    rows = await session.scalars(
        select(TrainingProgress).where(TrainingProgress.person_id == asking.person.id)
    )
    return {row.lesson: "done" if row.completed_at else "started" for row in rows}


async def _alias_taken(session: AsyncSession, asking: Asking) -> bool:
    alias = questions.parse_alias(asking.event)
    return alias is not None and await people.alias_taken(session, alias, asking.person.id)


async def _activities(session: AsyncSession, asking: Asking) -> list[Found]:
    """The upcoming activities for the person's role, with every answer to each."""
    return await activities.upcoming(session, Role(asking.person.role), asking.now)


async def _staff_aliases(session: AsyncSession, asking: Asking) -> list[str]:
    """Every peer worker's and supervisor's alias: who can lead an activity."""
    return await activities.staff_aliases(session)


async def _measures(session: AsyncSession, asking: Asking) -> dict[str, str]:
    """Which measures the person opted in to or declined."""
    rows = await session.scalars(
        select(MeasureSchedule).where(MeasureSchedule.person_id == asking.person.id)
    )
    return {row.measure: row.status for row in rows}


async def _rooms(session: AsyncSession, asking: Asking) -> list[Any]:
    """The person's group rooms, each with its times, leaders and the aliases taken."""
    return await rooms.memberships(session, asking.person.id)


async def _edited_room(session: AsyncSession, asking: Asking) -> Membership | None:
    """The person's place in the room the edited message was written in, if it was."""
    message_id = asking.event.message_id
    if message_id is None:
        return None
    person = asking.person
    return await rooms.written_in(session, person.id, person.chat_id, message_id)
