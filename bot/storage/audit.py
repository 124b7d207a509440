"""The audit trail: who looked at whose data (staff views of client records, exports)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import AuditEvent, Person, utcnow


def record(session: AsyncSession, actor: Person, action: str, subject_id: int | None) -> None:
    """Add one audit event to the session's transaction (it lands with what it records)."""
    session.add(
        AuditEvent(
            actor_id=actor.id,
            actor_role=actor.role,
            actor_alias=actor.alias,
            action=action,
            subject_id=subject_id,
            at=utcnow(),
        )
    )
