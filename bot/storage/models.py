"""Typed SQLAlchemy models. Alembic migrations in ``migrations/`` are the only way the schema is made."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    Time,
    TypeDecorator,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index over only the rows where ``where`` holds, on PostgreSQL and SQLite alike."""
    return Index(
        name,
        *columns,
        unique=unique,
        postgresql_where=text(where),
        sqlite_where=text(where),
    )


class _OfEscalation:
    """A row that belongs to one escalation and is deleted with it."""

    # sort_order: these come first in the table, as in the migrations that made them
    id: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-1)
    escalation_id: Mapped[int] = mapped_column(
        ForeignKey("escalations.id", ondelete="CASCADE"), index=True, sort_order=-1
    )


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class Person(Base):
    """Someone who redeemed an invite. Nobody without an invite has a row."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_user_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    role: Mapped[str] = mapped_column(String(16))
    locale: Mapped[str] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(8))
    checkin_time: Mapped[time | None] = mapped_column(Time)
    alias: Mapped[str | None] = mapped_column(String(32), unique=True)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    # Family members' lesson days (0 = Monday), e.g. "1,4"; the time is ``checkin_time``.
    lesson_days: Mapped[str | None] = mapped_column(String(20))
    # The chat a worker's plain messages go to: only ever set by the worker's own choice
    # (/switch, a claim, a "who is this for?" answer) and cleared by any change they did not
    # make to the chats they hold (flows/desk.py).
    selected_escalation_id: Mapped[int | None] = mapped_column(Integer)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    consented_at: Mapped[datetime | None]
    onboarded_at: Mapped[datetime | None]
    blocked_at: Mapped[datetime | None]
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invites.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_people_role", "role"),
        # "Lin" and "LIN" are the same alias to a person reading it
        Index("uq_people_alias_lower", func.lower(alias), unique=True),
        # ids are never reused (SQLite would reuse the largest after a deletion)
        {"sqlite_autoincrement": True},
    )


class FlowState(Base):
    """A person's place in a conversation. This row is also the person's lock across processes."""

    __tablename__ = "flow_states"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    flow: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str | None] = mapped_column(String(64))
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    step: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Invite(Base):
    """A way in. Only the SHA-256 of the code is stored, so a leaked table reveals no codes."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    max_uses: Mapped[int] = mapped_column(Integer, default=1)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    created_by: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AppSetting(Base):
    """Values the program keeps about itself (the callback signing key, the bot's username)."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class WarningSign(Base):
    """One of a client's own early warning signs, in their words."""

    __tablename__ = "warning_signs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]


class CheckIn(Base):
    """One client's check-in for one local day; complete when ``completed_at`` is set.

    A row whose day has passed without completion is a partial check-in.
    """

    __tablename__ = "checkins"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    local_date: Mapped[date] = mapped_column(Date)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    mood: Mapped[int | None] = mapped_column(SmallInteger)
    sleep: Mapped[int | None] = mapped_column(SmallInteger)
    medication: Mapped[str | None] = mapped_column(String(16))
    side_effects: Mapped[int | None] = mapped_column(SmallInteger)
    unusual: Mapped[list[str] | None] = mapped_column(JSON)
    distress: Mapped[int | None] = mapped_column(SmallInteger)
    contact: Mapped[int | None] = mapped_column(SmallInteger)
    stress: Mapped[int | None] = mapped_column(SmallInteger)
    note: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("person_id", "local_date"),
        # the hourly retention purge looks only for old rows that still hold a note
        _partial_index("ix_checkins_note_started_at", "started_at", where="note IS NOT NULL"),
    )


class SignAnswer(Base):
    """Whether a warning sign was present on a check-in's day."""

    __tablename__ = "checkin_signs"

    checkin_id: Mapped[int] = mapped_column(
        ForeignKey("checkins.id", ondelete="CASCADE"), primary_key=True
    )
    sign_id: Mapped[int] = mapped_column(
        ForeignKey("warning_signs.id", ondelete="CASCADE"), primary_key=True
    )
    present: Mapped[bool] = mapped_column(Boolean)


class Schedule(Base):
    """Work that is due for a person, as data: one row per person and kind.

    The scheduler tick claims rows with ``due_at <= now`` through the ``due_at`` index,
    in batches (``FOR UPDATE SKIP LOCKED`` on PostgreSQL), and moves ``due_at`` on.
    """

    __tablename__ = "schedules"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(index=True)
    last_local_date: Mapped[date | None] = mapped_column(Date)


class Flag(Base):
    """An early-warning flag: raised once per episode, with the answers that triggered it."""

    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    rule: Mapped[str] = mapped_column(String(24))
    evidence: Mapped[list[str]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    cleared_at: Mapped[datetime | None]
    escalation_id: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (Index("ix_flags_person_open", "person_id", "cleared_at"),)


class Escalation(Base):
    """A person's chat brought to a human: open → claimed → active → resolved.

    The subject is the person it is about and the one the peer worker talks to: a client,
    or a relative who needs support themselves. At most one unresolved escalation per
    subject (a partial unique index); new reasons are added to it. Its clock (claim, or
    reply while a worker holds it) is its subject's ``escalation`` row in ``schedules``,
    which the tick watches. ``ref`` is random and travels on buttons, so a card can only
    ever act on the escalation it was made for.
    """

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    ref: Mapped[str] = mapped_column(String(8))
    tier: Mapped[str] = mapped_column(String(12))
    state: Mapped[str] = mapped_column(String(12), default="open")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    claimed_at: Mapped[datetime | None]
    reminders: Mapped[int] = mapped_column(Integer, default=0)
    resolved_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(24))
    rating: Mapped[int | None] = mapped_column(SmallInteger)

    __table_args__ = (
        _partial_index(
            "uq_escalations_one_open_per_subject",
            "subject_id",
            where="resolved_at IS NULL",
            unique=True,
        ),
        Index("ix_escalations_claimed_by", "claimed_by", "state"),
        {"sqlite_autoincrement": True},
    )


class EscalationNote(_OfEscalation, Base):
    """A peer worker's note on an escalation: appended, never overwritten; shown to the next
    worker. ``author_alias`` keeps who wrote it after the author's erasure."""

    __tablename__ = "escalation_notes"

    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    author_alias: Mapped[str | None] = mapped_column(String(32))
    closing: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)  # the retention purge


class QueuedMessage(Base):
    """A message kept until someone can act on it: what a person wrote while waiting for a
    peer worker (``waiting``), or what a worker wrote before choosing whom it is for
    (``unaddressed``, ``note``). Free text is encrypted; rows go when used or purged."""

    __tablename__ = "queued_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sender_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    escalation_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalations.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(12))
    message_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(8))  # text | media
    text: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (Index("ix_queued_messages_sender", "sender_id", "message_id"),)


class EscalationReason(_OfEscalation, Base):
    """Why an escalation is open: a request, crisis language, a flag, silence, family."""

    __tablename__ = "escalation_reasons"

    source: Mapped[str] = mapped_column(String(16))
    tier: Mapped[str] = mapped_column(String(12))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)  # structured: signs, rule, categories
    # A relative's own words with a concern: encrypted; removed when they erase their data.
    note: Mapped[str | None] = mapped_column(Text)
    from_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # the hourly retention purge looks only for old reasons that still hold a note
        _partial_index("ix_escalation_reasons_note_at", "at", where="note IS NOT NULL"),
    )


class EscalationEvent(_OfEscalation, Base):
    """Every change of an escalation, when and by whom: the source of response-time reports."""

    __tablename__ = "escalation_events"

    kind: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class EscalationCard(_OfEscalation, Base):
    """A card about an escalation in a staff member's chat, so it can be updated later."""

    __tablename__ = "escalation_cards"

    staff_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)


class RelayMessage(_OfEscalation, Base):
    """A message in a worker's chat that belongs to one escalation (a relayed message, the
    confirmation of one the worker sent, the context card), so a Telegram reply to it can
    only go to that escalation's person."""

    __tablename__ = "relay_messages"

    direction: Mapped[str] = mapped_column(String(12))  # to_worker | to_subject | context
    worker_chat_id: Mapped[int] = mapped_column(BigInteger)
    worker_message_id: Mapped[int | None] = mapped_column(BigInteger)
    client_message_id: Mapped[int | None] = mapped_column(BigInteger)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_relay_worker_message", "worker_chat_id", "worker_message_id"),
        Index("ix_relay_messages_at", "at"),  # the retention purge
    )


class RiskEvent(Base):
    """A message assessed as concern or crisis: level and categories, for the peer worker.
    ``matched`` holds the phrases found, each encrypted (they are the person's words)."""

    __tablename__ = "risk_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(8))
    categories: Mapped[list[str]] = mapped_column(JSON)
    matched: Mapped[list[str]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class RecentWords(Base):
    """A person's last screened messages (at most two, each encrypted), kept only for the
    minutes in which the crisis screen reads a new message together with them; the
    scheduler's sweep deletes the row once ``expires_at`` has passed."""

    __tablename__ = "recent_words"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    texts: Mapped[list[str]] = mapped_column(JSON)
    said_at: Mapped[list[str]] = mapped_column(JSON)  # ISO times, one per text
    expires_at: Mapped[datetime] = mapped_column(index=True)


class SafetyPlanItem(Base):
    """One section of a client's safety plan (Stanley–Brown), in their own words."""

    __tablename__ = "safety_plan_items"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    section: Mapped[str] = mapped_column(String(24), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class FamilyLink(Base):
    """A relative invited by a client, and what the client lets them see (revocable)."""

    __tablename__ = "family_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), index=True
    )
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invites.id", ondelete="SET NULL"))
    share_summary: Mapped[bool] = mapped_column(Boolean, default=False)
    share_alerts: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class LessonProgress(Base):
    """How far a family member is in one lesson, and what they said about its practice task."""

    __tablename__ = "lesson_progress"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    lesson: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]
    answered_correctly: Mapped[bool | None] = mapped_column(Boolean)
    practice_asked_at: Mapped[datetime | None]
    practice_tried: Mapped[bool | None] = mapped_column(Boolean)
    practice_helped: Mapped[str | None] = mapped_column(String(8))


class TrainingProgress(Base):
    """How far a peer worker or supervisor is in one lesson of the training course (/team
    shows it; ``tongban report`` counts it)."""

    __tablename__ = "training_progress"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    lesson: Mapped[str] = mapped_column(String(32), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(index=True)
    answered_correctly: Mapped[bool | None] = mapped_column(Boolean)


# -- peer activities (docs/activities.md describes these tables for reports) ------------------


class Activity(Base):
    """An activity led by peer workers, in a community centre or online: the service's
    register. Times are UTC; ``zone`` is the program zone it was entered in."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(24))  # one of flows.activities.KINDS
    starts_at: Mapped[datetime] = mapped_column(index=True)
    minutes: Mapped[int] = mapped_column(Integer)
    place: Mapped[str] = mapped_column(String(200))  # "" when online
    online: Mapped[bool] = mapped_column(Boolean)
    capacity: Mapped[int] = mapped_column(Integer)
    audience: Mapped[str] = mapped_column(String(12))  # clients | relatives | both
    language: Mapped[str] = mapped_column(String(16))  # en | zh_Hans | zh_Hant
    zone: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    cancelled_at: Mapped[datetime | None]

    __table_args__ = ({"sqlite_autoincrement": True},)


class ActivityLeader(Base):
    """A peer worker or supervisor who leads an activity."""

    __tablename__ = "activity_leaders"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ActivityAnswer(Base):
    """A client's or relative's answer: going, maybe, cant, or waiting (for a place; the
    earliest ``answered_at`` moves up first)."""

    __tablename__ = "activity_answers"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    answer: Mapped[str] = mapped_column(String(8))
    answered_at: Mapped[datetime] = mapped_column(default=utcnow)


class ActivityNotice(Base):
    """A message about an activity due for one person (an invitation, a reminder, a place
    that came free, a change, a cancellation), as data: the scheduler's tick claims due rows
    through the ``due_at`` index and sends them; nothing waits in memory."""

    __tablename__ = "activity_notices"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(index=True)


class ActivityOptOut(Base):
    """Someone who does not want invitations to new activities (``/activities`` still lists
    them)."""

    __tablename__ = "activity_opt_outs"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ActivityAttendance(Base):
    """Someone a leader marked as present. Erasing them keeps the row without them, so the
    register's head count stays true."""

    __tablename__ = "activity_attendance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # client | family, when they came
    marked_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    marked_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("activity_id", "person_id"),)


class ActivityRecord(Base):
    """A leader's record of an activity that took place: how long it ran, what was done,
    and anything that went wrong (``problem``: none | adverse | other; an adverse event
    alerted the supervisors). Each answer is stored as it is given (a draft until
    ``filed_at``), so no flow holds the words; free text is encrypted at rest."""

    __tablename__ = "activity_records"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), primary_key=True
    )
    filed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    filed_at: Mapped[datetime | None]
    minutes: Mapped[int | None] = mapped_column(Integer)
    attended: Mapped[int | None] = mapped_column(Integer)  # head count when filed
    what_was_done: Mapped[str | None] = mapped_column(Text)
    problem: Mapped[str | None] = mapped_column(String(8))
    problem_note: Mapped[str | None] = mapped_column(Text)


class ActivityFeedback(Base):
    """Three taps after an activity (satisfaction and help 1-5, come again yes | maybe |
    no) and an optional comment (encrypted). Erasing the person keeps the numbers without
    them and removes the comment."""

    __tablename__ = "activity_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))  # client | family
    satisfaction: Mapped[int] = mapped_column(SmallInteger)
    helped: Mapped[int] = mapped_column(SmallInteger)
    again: Mapped[str] = mapped_column(String(8))
    comment: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("activity_id", "person_id"),)


class CopingCard(Base):
    """A coping card a client was shown, and whether they said it helped.

    For the program's reports (read by them, documented in docs/lessons.md): one row per card
    shown, from the offer after a check-in (``source`` "checkin") or from /skills
    ("library"); ``helped`` is "yes", "some" or "no" once the person tapped an answer (the
    latest unanswered row of that card), else NULL.
    """

    __tablename__ = "coping_cards"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    card: Mapped[str] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(String(16))
    shown_at: Mapped[datetime] = mapped_column(default=utcnow)
    helped: Mapped[str | None] = mapped_column(String(8))
    answered_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_coping_cards_person_id_card", "person_id", "card"),)


class CourseFeedback(Base):
    """An answer to the question at the end of a course: how useful it was ("very",
    "somewhat", "not"); ``course`` "family" (a relative) or "training" (a peer worker). For the
    program's reports; each person's latest answer counts."""

    __tablename__ = "course_feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    useful: Mapped[str] = mapped_column(String(12))
    given_at: Mapped[datetime] = mapped_column(default=utcnow)
    course: Mapped[str] = mapped_column(String(16), default="family", server_default="family")


class StaffDuty(Base):
    """A staff member's duty clock (``flows.supervision.Duty``): the stretch on duty now,
    the shift it belongs to, when they last went off duty, and whether they were reminded
    to take a break during this stretch. The tick finds those due a reminder through the
    partial index, without a schedule row per worker."""

    __tablename__ = "staff_duty"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    since: Mapped[datetime | None]
    shift_started_at: Mapped[datetime | None]
    off_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]

    __table_args__ = (
        _partial_index(
            "ix_staff_duty_to_remind",
            "since",
            where="since IS NOT NULL AND reminded_at IS NULL",
        ),
    )


class Debrief(Base):
    """A worker's answer to "how are you after that one?" after a crisis chat: ok, shaken,
    or call (a supervisor was alerted). One per worker and chat."""

    __tablename__ = "debriefs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escalation_id: Mapped[int | None] = mapped_column(
        ForeignKey("escalations.id", ondelete="SET NULL")
    )
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    answer: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    __table_args__ = (UniqueConstraint("escalation_id", "worker_id"),)


class ReviewRequest(Base):
    """A chat a worker asked a supervisor to look at with them. Open until a supervisor
    opens it; the worker's note is encrypted."""

    __tablename__ = "review_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    escalation_id: Mapped[int] = mapped_column(ForeignKey("escalations.id", ondelete="CASCADE"))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    worker_alias: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    taken_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    taken_at: Mapped[datetime | None]


class SupervisionNote(Base):
    """A supervisor's note about a worker: only supervisors and that worker read it.
    Encrypted; erased with the worker."""

    __tablename__ = "supervision_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    author_alias: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class MeasureSchedule(Base):
    """A person's place in one measure (``flows.measures``): opted in (``on``) or declined,
    and when it is next asked. The tick finds due rows through the partial index on
    ``due_at`` (only rows that are on), as it finds schedule rows."""

    __tablename__ = "measure_schedule"

    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    )
    measure: Mapped[str] = mapped_column(String(12), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    due_at: Mapped[datetime | None]
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (_partial_index("ix_measure_schedule_due", "due_at", where="status = 'on'"),)


class MeasureAnswer(Base):
    """One finished questionnaire: the answers and the score (WHO-5 0–100; alliance 20–100),
    and for the alliance the worker it was about (reported only in aggregate)."""

    __tablename__ = "measure_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    measure: Mapped[str] = mapped_column(String(12))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    answers: Mapped[list[int]] = mapped_column(JSON)
    score: Mapped[int] = mapped_column(SmallInteger)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_measure_answers_measure_at", "measure", "at"),
        Index("ix_measure_answers_person", "person_id", "measure", "at"),
    )


class ProcessedUpdate(Base):
    """Telegram may deliver an update twice; each update_id is handled once."""

    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class AuditEvent(Base):
    """Who looked at or acted on whose data (staff access to client records)."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(Integer)
    # Who it was, kept as it was then: the actor may later be erased (ids are never reused).
    actor_role: Mapped[str | None] = mapped_column(String(16))
    actor_alias: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(Integer, index=True)


class Room(Base):
    """A group room (``flows/rooms.py``): of an online activity (open while it runs) or a
    standing group meeting every ``weekday`` (0 Monday) at ``opens`` in ``zone``.
    ``last_seq`` numbers the room's messages in the order every member receives them."""

    __tablename__ = "rooms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    activity_id: Mapped[int | None] = mapped_column(
        ForeignKey("activities.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int | None] = mapped_column(SmallInteger)
    opens: Mapped[time | None] = mapped_column(Time)
    minutes: Mapped[int] = mapped_column(Integer)
    zone: Mapped[str] = mapped_column(String(64))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    __table_args__ = ({"sqlite_autoincrement": True},)


class RoomMember(Base):
    """A person's membership of a room: invited (``invite_sent`` once the tick sent the
    invitation), member, left or removed; their alias there, chosen on first join (unique
    in the room); whether they lead it, accepted its rules, or were muted. ``notice_due``:
    the one message the tick owes them about a change to a standing group (``time``: its
    new day, time or length; ``unled``: they no longer lead it), however much changed."""

    __tablename__ = "room_members"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("rooms.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("people.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    alias: Mapped[str | None] = mapped_column(String(24))
    leader: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(10))  # invited | member | left | removed
    rules_at: Mapped[datetime | None]
    muted: Mapped[bool] = mapped_column(Boolean, default=False)
    invited_at: Mapped[datetime] = mapped_column(default=utcnow)
    invite_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    notice_due: Mapped[str | None] = mapped_column(String(8))

    __table_args__ = (
        UniqueConstraint("room_id", "alias"),
        _partial_index("ix_room_members_unsent", "invited_at", where="invite_sent = false"),
        _partial_index("ix_room_members_notice_due", "room_id", where="notice_due IS NOT NULL"),
    )


class RoomMessage(Base):
    """One message said in a room, numbered in the room's order. Its words are not stored:
    they live only in the members' chats (``room_copies`` says where, so a leader can
    remove a message everywhere and a reply finds each member's copy)."""

    __tablename__ = "room_messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(8))  # text | media
    at: Mapped[datetime] = mapped_column(default=utcnow)
    removed_at: Mapped[datetime | None]
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("room_sessions.id", ondelete="CASCADE"), index=True
    )

    __table_args__ = (
        UniqueConstraint("room_id", "seq"),
        # the retention purge looks only for old messages that still name their sender
        _partial_index("ix_room_messages_sender_at", "at", where="sender_id IS NOT NULL"),
        {"sqlite_autoincrement": True},
    )


class RoomCopy(Base):
    """Where one room message landed in one member's chat (the sender's own message too):
    looked up by chat and message id for a reply or a removal."""

    __tablename__ = "room_copies"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    room_message_id: Mapped[int] = mapped_column(
        ForeignKey("room_messages.id", ondelete="CASCADE"), index=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime | None] = mapped_column(index=True)  # the retention purge


class RoomSession(Base):
    """One session of a room that happened (at least one message written in it, a message
    held back for crisis language included): the register's row for it. Messages and
    removals are counted from ``room_messages``, people present from ``room_attendance``."""

    __tablename__ = "room_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]  # the session's start (UTC), by the room's times
    held_back: Mapped[int] = mapped_column(Integer, default=0)  # crisis messages not passed on

    __table_args__ = (UniqueConstraint("room_id", "starts_at"), {"sqlite_autoincrement": True})


class RoomAttendance(Base):
    """Someone present in a room's session while a message was said there (a leader
    flagged). ``person_id`` goes empty when they erase their data, and for members after
    the retention period, so the register's head count stays true without them."""

    __tablename__ = "room_attendance"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("room_sessions.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), index=True
    )
    leader: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("session_id", "person_id"),
        _partial_index(
            "ix_room_attendance_member_at",
            "at",
            where="person_id IS NOT NULL AND leader = false",
        ),
        {"sqlite_autoincrement": True},
    )
