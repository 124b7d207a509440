"""A person's data rights: everything stored about them as JSON (/mydata), and erasure (/deleteme)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from bot.crypto import Cipher
from bot.storage import checkins
from bot.storage.encrypted import FREE_TEXT
from bot.storage.models import (
    Activity,
    ActivityAnswer,
    ActivityFeedback,
    ActivityOptOut,
    AuditEvent,
    Base,
    CheckIn,
    CopingCard,
    CourseFeedback,
    Debrief,
    Escalation,
    EscalationNote,
    EscalationReason,
    FamilyLink,
    Flag,
    FlowState,
    Invite,
    LessonProgress,
    MeasureAnswer,
    Person,
    QueuedMessage,
    RecentWords,
    ReviewRequest,
    RiskEvent,
    Room,
    RoomAttendance,
    RoomCopy,
    RoomMember,
    RoomMessage,
    SafetyPlanItem,
    Schedule,
    SignAnswer,
    SupervisionNote,
    TrainingProgress,
    WarningSign,
)
from bot.storage.people import SETTINGS

PROFILE = ("role", *SETTINGS, "consented_at", "onboarded_at", "created_at")

Model = TypeVar("Model", bound=Base)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


async def _rows(
    session: AsyncSession,
    model: type[Model],
    *where: ColumnElement[bool],
    order_by: QueryableAttribute[Any] | None = None,
) -> Sequence[Model]:
    """The rows of ``model`` that match ``where``, as objects."""
    statement = select(model).where(*where)
    if order_by is not None:
        statement = statement.order_by(order_by)
    return (await session.scalars(statement)).all()


async def export(session: AsyncSession, person: Person, cipher: Cipher) -> dict[str, Any]:
    """Everything stored about ``person``, readable (free text decrypted)."""
    data: dict[str, Any] = {
        "telegram_user_id": person.telegram_user_id,
        "profile": {field: _plain(getattr(person, field)) for field in PROFILE},
    }
    signs = await _rows(session, WarningSign, WarningSign.person_id == person.id)
    data["warning_signs"] = [
        {
            "text": cipher.decrypt(s.text),
            "added": _plain(s.created_at),
            "removed": _plain(s.removed_at),
        }
        for s in signs
    ]
    days = await _rows(
        session, CheckIn, CheckIn.person_id == person.id, order_by=CheckIn.local_date
    )
    answers = (
        {
            (a.checkin_id, a.sign_id): a.present
            for a in await _rows(
                session, SignAnswer, SignAnswer.checkin_id.in_([c.id for c in days])
            )
        }
        if days
        else {}
    )
    sign_text = {s.id: cipher.decrypt(s.text) for s in signs}
    data["checkins"] = [
        {
            "day": c.local_date.isoformat(),
            "completed": _plain(c.completed_at),
            **{f: getattr(c, f) for f in checkins.FIELDS},
            "note": cipher.decrypt(c.note) if c.note else None,
            "warning_signs": {
                sign_text.get(sid, str(sid)): present
                for (cid, sid), present in answers.items()
                if cid == c.id
            },
        }
        for c in days
    ]
    plan = await _rows(session, SafetyPlanItem, SafetyPlanItem.person_id == person.id)
    data["safety_plan"] = {item.section: cipher.decrypt(item.text) for item in plan}
    data["early_warning_flags"] = [
        {
            "rule": f.rule,
            "evidence": f.evidence,
            "raised": _plain(f.raised_at),
            "closed": _plain(f.cleared_at),
        }
        for f in await _rows(session, Flag, Flag.person_id == person.id)
    ]
    data["risk_assessments"] = [
        {
            "level": r.level,
            "categories": r.categories,
            "words_found": [cipher.decrypt(str(m)) for m in r.matched or []],
            "at": _plain(r.at),
        }
        for r in await _rows(session, RiskEvent, RiskEvent.person_id == person.id)
    ]
    # Kept only minutes, for the crisis screen to read the next message with them.
    data["recent_messages"] = [
        {"text": cipher.decrypt(text), "at": at}
        for row in await _rows(session, RecentWords, RecentWords.person_id == person.id)
        for text, at in zip(row.texts, row.said_at, strict=True)
    ]
    escalations = await _rows(session, Escalation, Escalation.subject_id == person.id)
    data["requests_for_a_person"] = [
        {
            "opened": _plain(e.opened_at),
            "tier": e.tier,
            "state": e.state,
            "outcome": e.outcome,
            "resolved": _plain(e.resolved_at),
            "your_rating": e.rating,
            # What the team wrote about you is yours to read (right of access).
            "team_notes": [
                {"at": _plain(n.at), "by": n.author_alias, "text": cipher.decrypt(n.text)}
                for n in await _rows(
                    session,
                    EscalationNote,
                    EscalationNote.escalation_id == e.id,
                    order_by=EscalationNote.id,
                )
            ],
            # Why a person was asked to look, never who else raised a concern.
            "reasons": [
                "someone_close_to_you_or_the_team_raised_a_concern"
                if r.source in ("family", "family_danger")
                else r.source
                for r in await _rows(
                    session, EscalationReason, EscalationReason.escalation_id == e.id
                )
            ],
        }
        for e in escalations
    ]
    data["concerns_you_raised"] = [
        {
            "at": _plain(r.at),
            "about": "your relative" if r.detail.get("about") == "relative" else "you",
            "signs": r.detail.get("signs", []),
            "your_words": cipher.decrypt(r.note) if r.note else None,
        }
        for r in await _rows(
            session,
            EscalationReason,
            EscalationReason.from_person_id == person.id,
            order_by=EscalationReason.id,
        )
    ]
    data["messages_kept_for_a_peer_worker"] = [
        {"at": _plain(q.at), "text": cipher.decrypt(q.text) if q.text else None}
        for q in await _rows(
            session,
            QueuedMessage,
            QueuedMessage.sender_id == person.id,
            QueuedMessage.purpose == "waiting",
            order_by=QueuedMessage.id,
        )
    ]
    # A peer worker's own: supervision notes about them, reviews and debriefs they asked for.
    data["supervision_notes_about_you"] = [
        {"at": _plain(n.at), "by": n.author_alias, "text": cipher.decrypt(n.text)}
        for n in await _rows(
            session,
            SupervisionNote,
            SupervisionNote.worker_id == person.id,
            order_by=SupervisionNote.id,
        )
    ]
    data["reviews_you_asked_for"] = [
        {
            "at": _plain(r.requested_at),
            "chat": r.escalation_id,
            "your_note": cipher.decrypt(r.note) if r.note else None,
        }
        for r in await _rows(
            session, ReviewRequest, ReviewRequest.worker_id == person.id, order_by=ReviewRequest.id
        )
    ]
    data["debriefs"] = [
        {"at": _plain(d.at), "chat": d.escalation_id, "answer": d.answer}
        for d in await _rows(session, Debrief, Debrief.worker_id == person.id, order_by=Debrief.id)
    ]
    data["questionnaires"] = [
        {"at": _plain(m.at), "measure": m.measure, "answers": m.answers, "score": m.score}
        for m in await _rows(
            session, MeasureAnswer, MeasureAnswer.person_id == person.id, order_by=MeasureAnswer.id
        )
    ]
    data["family_links"] = [
        {
            "as": "client" if link.client_id == person.id else "relative",
            "weekly_summary": link.share_summary,
            "alerts": link.share_alerts,
            "created": _plain(link.created_at),
            "revoked": _plain(link.revoked_at),
        }
        for link in await _rows(
            session,
            FamilyLink,
            (FamilyLink.client_id == person.id) | (FamilyLink.family_id == person.id),
        )
    ]
    data["lessons"] = [
        {
            "lesson": p.lesson,
            "started": _plain(p.started_at),
            "finished": _plain(p.completed_at),
            "practice_tried": p.practice_tried,
            "practice_helped": p.practice_helped,
        }
        for p in await _rows(session, LessonProgress, LessonProgress.person_id == person.id)
    ]
    data["training"] = [
        {
            "lesson": t.lesson,
            "started": _plain(t.started_at),
            "finished": _plain(t.completed_at),
        }
        for t in await _rows(session, TrainingProgress, TrainingProgress.person_id == person.id)
    ]
    titles = {
        a.id: a.title
        for a in await _rows(
            session,
            Activity,
            Activity.id.in_(
                select(ActivityAnswer.activity_id).where(ActivityAnswer.person_id == person.id)
            )
            | Activity.id.in_(
                select(ActivityFeedback.activity_id).where(ActivityFeedback.person_id == person.id)
            ),
        )
    }
    data["activities"] = {
        "invitations": await session.get(ActivityOptOut, person.id) is None,
        "answers": [
            {
                "activity": titles.get(a.activity_id, str(a.activity_id)),
                "answer": a.answer,
                "at": _plain(a.answered_at),
            }
            for a in await _rows(session, ActivityAnswer, ActivityAnswer.person_id == person.id)
        ],
        "feedback": [
            {
                "activity": titles.get(f.activity_id, str(f.activity_id)),
                "satisfied": f.satisfaction,
                "helped": f.helped,
                "come_again": f.again,
                "comment": cipher.decrypt(f.comment) if f.comment else None,
                "at": _plain(f.at),
            }
            for f in await _rows(session, ActivityFeedback, ActivityFeedback.person_id == person.id)
        ],
    }

    # Their own place in each group room; nothing about the other members, and no words
    # (a room's messages are never stored).
    data["group_rooms"] = [
        {
            "room": title,
            "your_group_name": member.alias,
            "as_leader": member.leader,
            "state": member.state,
            "invited": _plain(member.invited_at),
            "agreed_to_the_rules": _plain(member.rules_at),
            "muted": member.muted,
        }
        for member, title in (
            await session.execute(
                select(RoomMember, Room.title)
                .join(Room, Room.id == RoomMember.room_id)
                .where(RoomMember.person_id == person.id)
                .order_by(Room.id)
            )
        ).all()
    ]
    data["coping_cards"] = [
        {
            "card": c.card,
            "from": c.source,
            "shown": _plain(c.shown_at),
            "helped": c.helped,
        }
        for c in await _rows(session, CopingCard, CopingCard.person_id == person.id)
    ]
    data["course_feedback"] = [
        {"course": f.course, "useful": f.useful, "given": _plain(f.given_at)}
        for f in await _rows(session, CourseFeedback, CourseFeedback.person_id == person.id)
    ]
    return data


def export_json(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


async def erase(session: AsyncSession, person: Person, now: datetime) -> list[int]:
    """Erase the person. Returns the relatives (person ids) whose link was dissolved.

    Everything about them is deleted. Records the program keeps for response-time reports
    lose the link to them: escalations they handled as staff keep no worker id, and audit
    entries keep only a number that no longer points to anyone.
    """
    relatives = [
        link.family_id
        for link in await _rows(
            session, FamilyLink, FamilyLink.client_id == person.id, FamilyLink.revoked_at.is_(None)
        )
        if link.family_id is not None
    ]
    # Invites the person made for relatives are revoked with them.
    await session.execute(
        delete(Invite).where(Invite.created_by == f"client:{person.id}", Invite.uses == 0)
    )
    await session.execute(delete(Schedule).where(Schedule.person_id == person.id))
    await session.execute(delete(RecentWords).where(RecentWords.person_id == person.id))
    # Escalations about them first: deleting the person would reach the same rows twice
    # (their reasons and events by cascade, and by SET NULL where they were the actor),
    # which PostgreSQL refuses.
    await session.execute(delete(Escalation).where(Escalation.subject_id == person.id))
    # Their own words in records about someone else (a concern about a relative) go too.
    for free in FREE_TEXT:
        if free.written_by is not None:
            await session.execute(
                update(free.column.class_)
                .where(free.written_by == person.id)
                .values({free.column.key: None})
            )
    # A worker's alias kept on the reviews they asked for goes with them.
    await session.execute(
        update(ReviewRequest).where(ReviewRequest.worker_id == person.id).values(worker_alias=None)
    )
    # Group rooms: their memberships and every copy in their chat go; the messages they
    # wrote and their presence in a session stay counted, pointing to nobody. The other
    # members' copies of their messages stay, so a reply to one still finds its thread.
    await session.execute(delete(RoomCopy).where(RoomCopy.person_id == person.id))
    await session.execute(delete(RoomMember).where(RoomMember.person_id == person.id))
    await session.execute(
        update(RoomMessage).where(RoomMessage.sender_id == person.id).values(sender_id=None)
    )
    await session.execute(
        update(RoomAttendance).where(RoomAttendance.person_id == person.id).values(person_id=None)
    )
    await session.execute(delete(FlowState).where(FlowState.person_id == person.id))
    await session.execute(delete(AuditEvent).where(AuditEvent.subject_id == person.id))
    await session.delete(person)
    await session.flush()
    return [r for r in relatives if r is not None]
