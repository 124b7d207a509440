"""Family links, lesson progress, concerns and what relatives are told (only what the client allowed)."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.invites import deep_link, hash_code
from bot.storage.db import Database
from bot.storage.models import Escalation, FamilyLink, Invite, LessonProgress, Person, utcnow
from bot.telegram.render import Outgoing, SendText
from flows import crisis, escalation
from flows.effects import Effect, Say, ShowCrisisReply
from flows.family import scope_line
from flows.people import Role
from flows.text import N_, Msg, Text, msg

if TYPE_CHECKING:
    from bot.telegram.dispatch import Dispatcher

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


class Family:
    """The shell's side of family features, used by the dispatcher and the scheduler."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.d = dispatcher

    def _send(self, person: Person, text: Text) -> SendText:
        return self.d.renderer.message(person, text)

    async def invite_created(
        self, session: AsyncSession, client: Person, summary: bool, alerts: bool, now: datetime
    ) -> list[Outgoing]:
        code = await create_link_invite(session, client, summary, alerts, now)
        username = self.d.settings.bot_username or self.d.bot_username
        link = deep_link(username, code)
        return [self._send(client, msg(N_("family.invite_created"), link=link, days=INVITE_DAYS))]

    async def scope_changed(
        self, session: AsyncSession, client: Person, link_id: int, summary: bool, alerts: bool
    ) -> list[Outgoing]:
        link = await session.get(FamilyLink, link_id)
        if link is None or link.client_id != client.id or link.revoked_at is not None:
            return []
        link.share_summary, link.share_alerts = summary, alerts
        relative = await session.get(Person, link.family_id) if link.family_id else None
        if relative is None:
            return []
        return [
            self._send(
                relative,
                msg(
                    N_("family.access_changed"),
                    scope=scope_line(link.share_summary, link.share_alerts),
                ),
            )
        ]

    async def revoked(
        self, session: AsyncSession, client: Person, link_id: int, now: datetime
    ) -> list[Outgoing]:
        link = await session.get(FamilyLink, link_id)
        if link is None or link.client_id != client.id or link.revoked_at is not None:
            return []
        link.revoked_at = now
        if link.invite_id is not None:
            invite = await session.get(Invite, link.invite_id)
            if invite is not None and invite.revoked_at is None:
                invite.revoked_at = now
        relative = await session.get(Person, link.family_id) if link.family_id else None
        if relative is None:
            return []
        return [self._send(relative, Msg(N_("family.access_removed")))]

    async def linked_client(self, session: AsyncSession, member: Person) -> Person | None:
        """The client a relative is linked to with alerts shared (concerns are about them)."""
        links = [
            link for link in await active_links(session, family_id=member.id) if link.share_alerts
        ]
        return await session.get(Person, links[0].client_id) if links else None

    async def concern(
        self,
        session: AsyncSession,
        member: Person,
        signs: tuple[str, ...],
        note: str,
        now: datetime,
    ) -> tuple[Effect, ...]:
        """About the relative when linked with alerts allowed; otherwise about the caregiver."""
        subject = await self.linked_client(session, member)
        detail: tuple[tuple[str, object], ...] = (
            ("signs", list(signs)),
            ("about", "relative" if subject else "caregiver"),
        )
        # "Talking about death or not wanting to live" is urgent, and the relative gets the
        # crisis reply written for someone close to a person in danger.
        danger = "death" in signs
        reason = escalation.Reason(
            "family_danger" if danger else "family", detail, from_id=member.id, note=note
        )
        _, effects = await self.d.escalations.raise_for(session, subject or member, reason, now)
        text = N_("concern.sent.relative") if subject else N_("concern.sent.self")
        first: tuple[Effect, ...] = (ShowCrisisReply(about_others=True),) if danger else ()
        numbers = crisis.emergency_inline(self.d.lines.numbers_for(member.region))
        return (*first, Say(msg(text, emergency=numbers)), *effects)

    async def progress(self, session: AsyncSession, person_id: int) -> dict[str, str]:
        rows = (
            await session.scalars(
                select(LessonProgress).where(LessonProgress.person_id == person_id)
            )
        ).all()
        return {row.lesson: "done" if row.completed_at else "started" for row in rows}

    async def lesson_progressed(
        self,
        session: AsyncSession,
        person: Person,
        slug: str,
        finished: bool,
        correct: bool | None,
        now: datetime,
    ) -> None:
        row = await session.get(LessonProgress, (person.id, slug))
        if row is None:
            row = LessonProgress(person_id=person.id, lesson=slug, started_at=now)
            session.add(row)
        if finished and row.completed_at is None:
            row.completed_at = now
            row.answered_correctly = correct

    async def practice(
        self,
        session: AsyncSession,
        person: Person,
        slug: str,
        tried: bool | None,
        helped: str | None,
    ) -> None:
        row = await session.get(LessonProgress, (person.id, slug))
        if row is None:
            return
        if tried is not None:
            row.practice_tried = tried
        if helped is not None:
            row.practice_helped = helped


async def demo_link_invite(db: Database, client_telegram_id: int) -> str | None:
    """For the sandbox's demo cast: a linked invite as if the client had sent /family."""
    async with db.transaction() as session:
        client = await session.scalar(
            select(Person).where(Person.telegram_user_id == client_telegram_id)
        )
        if client is None:
            return None
        return await create_link_invite(session, client, summary=True, alerts=True, now=utcnow())


__all__ = ["Escalation", "Family", "demo_link_invite"]
