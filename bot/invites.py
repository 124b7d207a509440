"""Invites: the only way anyone gets a role. Codes are random and stored only as hashes."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.db import Database
from bot.storage.models import Invite, utcnow
from flows.roles import Role

_DURATION = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class InviteError(ValueError):
    """An invite request that cannot be carried out; the message says why."""


def parse_duration(text: str) -> timedelta:
    """``30m``, ``12h``, ``7d`` or ``2w``."""
    match = _DURATION.match(text)
    if match is None or int(match.group(1)) == 0:
        raise InviteError(f"{text!r} is not a duration like 30m, 12h, 7d or 2w")
    return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def deep_link(bot_username: str | None, code: str) -> str:
    name = bot_username or "<your_bot_username>"
    return f"https://t.me/{name}?start={code}"


@dataclass(frozen=True, slots=True)
class NewInvite:
    id: int
    code: str
    role: Role
    expires_at: datetime
    max_uses: int


async def create_invite(
    db: Database,
    role: Role,
    expires_in: timedelta = timedelta(days=7),
    uses: int = 1,
    created_by: str = "cli",
    note: str | None = None,
) -> NewInvite:
    if uses < 1 or uses > 10_000:
        raise InviteError("--uses must be between 1 and 10000")
    code = secrets.token_urlsafe(18)  # 144 bits, 24 characters, fits Telegram's start parameter
    expires_at = utcnow() + expires_in
    async with db.transaction() as session:
        invite = Invite(
            code_hash=hash_code(code),
            role=role.value,
            max_uses=uses,
            uses=0,
            expires_at=expires_at,
            created_by=created_by,
            note=note,
        )
        session.add(invite)
        await session.flush()
        return NewInvite(invite.id, code, role, expires_at, uses)


async def redeem(session: AsyncSession, code: str, now: datetime) -> Invite | None:
    """Use one place on a valid invite, atomically; None when the code is wrong, spent or expired."""
    if not CODE_PATTERN.match(code):
        return None
    invite_id = await session.scalar(
        update(Invite)
        .where(
            Invite.code_hash == hash_code(code),
            Invite.uses < Invite.max_uses,
            Invite.revoked_at.is_(None),
            Invite.expires_at > now,
        )
        .values(uses=Invite.uses + 1)
        .returning(Invite.id)
    )
    if invite_id is None:
        return None
    return await session.get(Invite, invite_id)


async def ever_made(session: AsyncSession, code: str) -> bool:
    """Whether an invite with this code was ever made (spent, expired or withdrawn since),
    as against a code nobody made: a mistyped or half-copied link deserves its own answer."""
    if not CODE_PATTERN.match(code):
        return False
    found = await session.scalar(select(Invite.id).where(Invite.code_hash == hash_code(code)))
    return found is not None


async def list_invites(db: Database, include_inactive: bool = False) -> list[Invite]:
    async with db.sessions() as session:
        query = select(Invite).order_by(Invite.id)
        if not include_inactive:
            query = query.where(
                Invite.revoked_at.is_(None),
                Invite.uses < Invite.max_uses,
                Invite.expires_at > utcnow(),
            )
        return list((await session.scalars(query)).all())


async def revoke(db: Database, invite_id: int) -> bool:
    async with db.transaction() as session:
        result = await session.execute(
            update(Invite)
            .where(Invite.id == invite_id, Invite.revoked_at.is_(None))
            .values(revoked_at=utcnow())
            .returning(Invite.id)
        )
        return result.scalar_one_or_none() is not None
