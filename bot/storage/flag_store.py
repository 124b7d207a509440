"""Early-warning flags as rows: raised once per episode, closed when the rule stops holding."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import Flag, Person
from flows.flags import FlagHit, episodes

# Built once: it runs at the end of every check-in.
_OPEN_FLAGS = select(Flag).where(Flag.person_id == bindparam("person"), Flag.cleared_at.is_(None))


async def open_flags(session: AsyncSession, person_id: int) -> list[Flag]:
    return list((await session.scalars(_OPEN_FLAGS, {"person": person_id})).all())


async def apply(
    session: AsyncSession,
    person: Person,
    hits: Sequence[FlagHit],
    now: datetime,
    rules: Collection[str],
) -> list[Flag]:
    """Raise new episodes among ``hits`` and close open ones (of ``rules``) that no longer hold.

    Returns the flags raised now; the caller hands them to the escalation module.
    """
    current = [flag for flag in await open_flags(session, person.id) if flag.rule in rules]
    change = episodes(hits, {flag.rule for flag in current})
    for flag in current:
        if flag.rule in change.clear_rules:
            flag.cleared_at = now
    raised = []
    for hit in change.raise_rules:
        if await _closed_by_hand(session, person.id, hit):
            continue
        flag = Flag(
            person_id=person.id,
            rule=hit.rule,
            evidence=list(hit.evidence),
            summary=dict(hit.summary),
            raised_at=now,
        )
        session.add(flag)
        raised.append(flag)
    if raised:  # new flags need their ids; anything else goes out with the commit
        await session.flush()
    return raised


async def _closed_by_hand(session: AsyncSession, person_id: int, hit: FlagHit) -> bool:
    """A stop of medication that a worker closed (``close_flag``) is not raised again: the
    rule would find the same stop, with the same last day taken, for ``stopped_days``."""
    if hit.rule != "stopped_medication":
        return False
    closed = await session.scalars(
        select(Flag.summary).where(
            Flag.person_id == person_id,
            Flag.rule == hit.rule,
            Flag.cleared_at.is_not(None),
        )
    )
    return any(summary.get("last_taken") == hit.summary["last_taken"] for summary in closed)


async def close_flag(session: AsyncSession, flag_id: int, now: datetime) -> Flag | None:
    """A person closes an open flag by hand; ``None`` when there is no open flag of that id."""
    flag = await session.get(Flag, flag_id)
    if flag is None or flag.cleared_at is not None:
        return None
    flag.cleared_at = now
    return flag


async def list_flags(session: AsyncSession, include_cleared: bool = False) -> list[Flag]:
    query = select(Flag).order_by(Flag.raised_at.desc())
    if not include_cleared:
        query = query.where(Flag.cleared_at.is_(None))
    return list((await session.scalars(query)).all())
