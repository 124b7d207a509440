"""Family links and invites as rows: who is linked to which client, and what they share."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.invites import hash_code
from bot.storage.db import Database
from bot.storage.models import FamilyLink, Invite, Person, utcnow
from flows.roles import Role

INVITE_DAYS = 7


async def active_links(
    session: AsyncSession,
    *,
    client_id: int | None = None,
    family_id: int | None = None,
    family_ids: Collection[int] | None = None,
) -> list[FamilyLink]:
    query = select(FamilyLink).where(FamilyLink.revoked_at.is_(None)).order_by(FamilyLink.id)
    if client_id is not None:
        query = query.where(FamilyLink.client_id == client_id)
    if family_id is not None:
        query = query.where(FamilyLink.family_id == family_id)
    if family_ids is not None:
        query = query.where(FamilyLink.family_id.in_(family_ids))
    return list((await session.scalars(query)).all())


async def links_data(session: AsyncSession, client_id: int, now: datetime) -> list[dict[str, Any]]:
    """What the /family flow shows: joined links, and pending invites that can still be used."""
    rows = []
    for link in await active_links(session, client_id=client_id):
        if link.family_id is None and link.invite_id is not None:
            invite = await session.get(Invite, link.invite_id)
            if (
                invite is None
                or invite.revoked_at
                or invite.uses >= invite.max_uses
                or invite.expires_at <= now
            ):
                continue
        rows.append(
            {
                "id": link.id,
                "joined": link.family_id is not None,
                "summary": link.share_summary,
                "alerts": link.share_alerts,
            }
        )
    return rows


async def create_link_invite(
    session: AsyncSession, client: Person, summary: bool, alerts: bool, now: datetime
) -> str:
    """A single-use invite for one relative, valid for seven days; returns the code."""
    code = secrets.token_urlsafe(18)
    invite = Invite(
        code_hash=hash_code(code),
        role=Role.FAMILY.value,
        max_uses=1,
        uses=0,
        expires_at=now + timedelta(days=INVITE_DAYS),
        created_by=f"client:{client.id}",
    )
    session.add(invite)
    await session.flush()
    session.add(
        FamilyLink(
            client_id=client.id,
            invite_id=invite.id,
            share_summary=summary,
            share_alerts=alerts,
            created_at=now,
        )
    )
    return code


async def joined(session: AsyncSession, invite_id: int, family: Person) -> FamilyLink | None:
    """A relative redeemed a client's invite: the link now points at them."""
    link = await session.scalar(
        select(FamilyLink).where(FamilyLink.invite_id == invite_id, FamilyLink.revoked_at.is_(None))
    )
    if link is not None:
        link.family_id = family.id
    return link


async def demo_link_invite(db: Database, client_telegram_id: int) -> str | None:
    """For the sandbox's demo cast: a linked invite as if the client had sent /family."""
    async with db.transaction() as session:
        client = await session.scalar(
            select(Person).where(Person.telegram_user_id == client_telegram_id)
        )
        if client is None:
            return None
        return await create_link_invite(session, client, summary=True, alerts=True, now=utcnow())
