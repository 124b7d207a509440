"""Family links, lesson progress, concerns and what relatives are told (only what the client allowed)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.escalations import Escalations
from bot.host import Host
from bot.invites import deep_link
from bot.storage.family_links import INVITE_DAYS, active_links, create_link_invite
from bot.storage.models import FamilyLink, Invite, LessonProgress, Person
from bot.telegram.render import Outgoing, SendText
from flows import crisis, escalation
from flows.effects import Effect, Say, ShowCrisisReply
from flows.family import scope_line
from flows.text import N_, Msg, Text, msg


class Family:
    """The shell's side of family features: invites, what a link shares, lessons and concerns."""

    def __init__(self, host: Host, escalations: Escalations) -> None:
        self.host = host
        self.escalations = escalations

    def _send(self, person: Person, text: Text) -> SendText:
        return self.host.renderer.message(person, text)

    async def invite_created(
        self, session: AsyncSession, client: Person, summary: bool, alerts: bool, now: datetime
    ) -> list[Outgoing]:
        code = await create_link_invite(session, client, summary, alerts, now)
        username = self.host.bot_username
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
        _, effects = await self.escalations.raise_for(session, subject or member, reason, now)
        text = N_("concern.sent.relative") if subject else N_("concern.sent.self")
        first: tuple[Effect, ...] = (ShowCrisisReply(about_others=True),) if danger else ()
        numbers = crisis.emergency_inline(self.host.lines.numbers_for(member.region))
        return (*first, Say(msg(text, emergency=numbers)), *effects)

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
