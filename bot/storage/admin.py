"""Queries behind the admin command line."""

from __future__ import annotations

from sqlalchemy import select, update

from bot.storage.db import Database
from bot.storage.models import FlowState, Person
from flows.people import Role


async def list_people(db: Database, role: str | None = None) -> list[Person]:
    async with db.sessions() as session:
        query = select(Person).order_by(Person.id)
        if role is not None:
            query = query.where(Person.role == role)
        return list((await session.scalars(query)).all())


async def set_role(db: Database, person_id: int, role: Role) -> bool:
    """Change a role. The person finishes the new role's setup (alias, duty...) next time they write."""
    async with db.transaction() as session:
        result = await session.execute(
            update(Person)
            .where(Person.id == person_id)
            .values(role=role.value, onboarded_at=None)
            .returning(Person.id)
        )
        if result.scalar_one_or_none() is None:
            return False
        await session.execute(
            update(FlowState)
            .where(FlowState.person_id == person_id)
            .values(flow="onboarding", state="language", context={}, step=FlowState.step + 1)
        )
        return True


async def rotate_encryption(db: Database, keys: list[str]) -> int:
    """Re-encrypt every stored free text with the newest key; returns how many changed."""
    from bot.crypto import Cipher
    from bot.storage.models import CheckIn, Escalation, SafetyPlanItem, WarningSign

    cipher = Cipher(keys)
    changed = 0
    async with db.transaction() as session:
        for model, column in (
            (CheckIn, "note"),
            (Escalation, "note"),
            (SafetyPlanItem, "text"),
            (WarningSign, "text"),
        ):
            for row in (await session.scalars(select(model))).all():
                value = getattr(row, column)
                if value:
                    rotated = cipher.rotate(value)
                    if rotated != value:
                        setattr(row, column, rotated)
                        changed += 1
    return changed


async def erase_person(db: Database, person_id: int) -> bool:
    """The command-line twin of /deleteme, for staff records (held chats go back to the queue)."""
    from bot import data_rights
    from bot.storage.models import Escalation, utcnow

    async with db.transaction() as session:
        person = await session.get(Person, person_id)
        if person is None:
            return False
        now = utcnow()
        held = (
            await session.scalars(
                select(Escalation).where(
                    Escalation.claimed_by == person.id, Escalation.state.in_(("claimed", "active"))
                )
            )
        ).all()
        for esc in held:
            esc.state, esc.claimed_by, esc.reply_due_at, esc.claim_due_at = "open", None, None, now
        await data_rights.erase(session, person, now)
    return True
