"""What the database would hold, in memory: people (as unsaved ``bot.storage.models`` rows,
so the shell's own functions read and change them) and their place in a conversation,
check-ins, warning signs, safety plans, lessons, invites and family links, and
escalations with their reasons, notes, kept messages, cards and clocks."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from bot.storage.checkins import FIELDS, day_record
from bot.storage.models import CheckIn, Escalation, WarningSign
from bot.storage.models import Person as PersonRow
from bot.telegram.sending import Belongs, CardLanded
from flows.desk import Queued
from flows.effects import FlowSnapshot
from flows.flags import DayRecord
from flows.roles import Role


@dataclass
class Place:
    """Where a person is in their conversation, and the step their newest buttons carry."""

    snapshot: FlowSnapshot = field(default_factory=FlowSnapshot)
    step: int = 0


@dataclass
class Invite:
    """A way in: single use; a client's invite for a relative expires and can be revoked."""

    id: int
    role: Role
    expires_at: datetime | None = None
    used: bool = False
    revoked: bool = False


@dataclass
class Link:
    """A client's family link: pending (an invite) until the relative joins through it, or
    made by hand (no invite)."""

    id: int
    client_id: int
    invite_id: int | None
    summary: bool
    alerts: bool
    family_id: int | None = None
    revoked: bool = False


@dataclass
class ReasonRow:
    """A reason added to an escalation (``bot.storage.models.EscalationReason``)."""

    escalation_id: int
    source: str
    tier: str
    detail: dict[str, Any]
    note: str
    from_id: int | None
    at: datetime


@dataclass
class NoteRow:
    """A worker's note on an escalation (``bot.storage.models.EscalationNote``)."""

    escalation_id: int
    author_id: int
    author_alias: str
    text: str
    closing: bool
    at: datetime


class Memory:
    """The tables, each as the shell's queries read it."""

    def __init__(self) -> None:
        self.people: dict[int, PersonRow] = {}  # by Telegram user id
        self.places: dict[int, Place] = {}  # by person id
        self.checkins: dict[tuple[int, date], CheckIn] = {}
        self.sign_answers: dict[tuple[int, date], dict[int, bool]] = {}
        self.signs: dict[int, WarningSign] = {}  # by id, oldest first
        self.plans: dict[int, dict[str, str]] = {}
        self.lessons: dict[tuple[int, str], str] = {}  # (person, slug) → started | done
        self.practice: dict[tuple[int, str], dict[str, object]] = {}  # tried, helped
        # coping cards shown: [person, card, source, helped or None] (``coping_cards``)
        self.coping: list[list[Any]] = []
        self.course_feedback: list[tuple[int, str]] = []  # (person, useful)
        self.invites: dict[str, Invite] = {}  # by code
        self.links: dict[int, Link] = {}  # by id, oldest first
        self.escalations: dict[int, Escalation] = {}  # by id, oldest first
        self.reasons: list[ReasonRow] = []  # oldest first
        self.notes: list[NoteRow] = []  # oldest first
        self.queued: dict[int, Queued] = {}  # kept messages by id, oldest first
        self.cards: list[CardLanded] = []
        self.belongs: list[Belongs] = []  # messages in workers' chats, by escalation
        self.clocks: dict[int, datetime] = {}  # an escalation's clock, by its subject's id
        self.crisis_at: dict[int, datetime] = {}  # crisis language last seen, by person id
        self.ids = itertools.count(1)
        self.escalation_ids = itertools.count(1)  # "#1" is each transcript's first

    def person(self, person_id: int | None) -> PersonRow | None:
        return next((p for p in self.people.values() if p.id == person_id), None)

    # -- invites and links ------------------------------------------------------------------

    def new_invite(self, role: Role, expires_at: datetime | None = None) -> tuple[str, Invite]:
        invite = Invite(next(self.ids), role, expires_at)
        code = f"core{invite.id}"
        self.invites[code] = invite
        return code, invite

    def usable(self, invite: Invite | None, now: datetime) -> bool:
        expired = invite is not None and invite.expires_at is not None and invite.expires_at <= now
        return invite is not None and not (invite.used or invite.revoked or expired)

    def redeem(self, code: str, now: datetime) -> Invite | None:
        invite = self.invites.get(code)
        if invite is None or not self.usable(invite, now):
            return None
        invite.used = True
        return invite

    def invite_of(self, invite_id: int | None) -> Invite | None:
        return next((i for i in self.invites.values() if i.id == invite_id), None)

    def active_links(
        self, client_id: int | None = None, family_id: int | None = None
    ) -> list[Link]:
        """As ``bot.storage.family_links.active_links``: not revoked, oldest first."""
        return [
            link
            for link in self.links.values()
            if not link.revoked
            and (client_id is None or link.client_id == client_id)
            and (family_id is None or link.family_id == family_id)
        ]

    def forget(self, person: PersonRow) -> None:
        """Nothing about them is kept; their invite can be used again (as ``people.forget``)."""
        del self.people[person.telegram_user_id]
        self.places.pop(person.id, None)
        for key in [k for k in self.checkins if k[0] == person.id]:
            del self.checkins[key]
            self.sign_answers.pop(key, None)
        for sign_id in [i for i, s in self.signs.items() if s.person_id == person.id]:
            del self.signs[sign_id]
        self.plans.pop(person.id, None)
        self.coping = [row for row in self.coping if row[0] != person.id]
        self.course_feedback = [row for row in self.course_feedback if row[0] != person.id]
        for lesson in [k for k in self.lessons if k[0] == person.id]:
            del self.lessons[lesson]
            self.practice.pop(lesson, None)
        invite = self.invite_of(person.invite_id)
        if invite is not None:
            invite.used = False
        for link in self.links.values():  # a client's link stays open for a later try
            if link.family_id == person.id:
                link.family_id = None

    # -- check-ins ----------------------------------------------------------------------

    def checkin(self, person_id: int, day: date, now: datetime) -> CheckIn:
        row = self.checkins.get((person_id, day))
        if row is None:
            row = CheckIn(id=next(self.ids), person_id=person_id, local_date=day, started_at=now)
            self.checkins[(person_id, day)] = row
        return row

    def active_signs(self, person_id: int) -> list[WarningSign]:
        return [s for s in self.signs.values() if s.person_id == person_id and s.removed_at is None]

    def records(self, person_id: int, since: date) -> list[DayRecord]:
        """As ``bot.storage.checkins.records``: days with an answer, oldest first."""
        found = []
        for (owner, day), row in sorted(self.checkins.items(), key=lambda item: item[0][1]):
            answers = self.sign_answers.get((owner, day), {})
            if owner != person_id or day < since:
                continue
            stored = [getattr(row, field) for field in FIELDS]
            if all(answer is None for answer in stored) and not answers:
                continue
            yes = sum(answers.values()) if answers else None
            found.append(day_record(day, stored, yes))
        return found

    # -- escalations ------------------------------------------------------------------------

    def unresolved_about(self, subject_id: int) -> Escalation | None:
        return next(
            (
                esc
                for esc in self.escalations.values()
                if esc.subject_id == subject_id and esc.resolved_at is None
            ),
            None,
        )
