"""A client's safety plan: seven sections in their own words, encrypted at rest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.crypto import Cipher
from bot.storage.models import SafetyPlanItem
from flows.safety_plan import SECTIONS


async def load(session: AsyncSession, person_id: int, cipher: Cipher) -> dict[str, str]:
    """Sections in plan order; missing sections are absent."""
    rows = (
        await session.scalars(select(SafetyPlanItem).where(SafetyPlanItem.person_id == person_id))
    ).all()
    stored = {row.section: cipher.decrypt(row.text) for row in rows}
    return {section: stored[section] for section in SECTIONS if section in stored}


async def save(
    session: AsyncSession, person_id: int, section: str, text: str, cipher: Cipher, now: datetime
) -> None:
    row = await session.get(SafetyPlanItem, (person_id, section))
    if not text:
        if row is not None:
            await session.delete(row)
        return
    if row is None:
        session.add(
            SafetyPlanItem(
                person_id=person_id, section=section, text=cipher.encrypt(text), updated_at=now
            )
        )
    else:
        row.text = cipher.encrypt(text)
        row.updated_at = now
