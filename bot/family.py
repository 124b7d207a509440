"""Family links, lesson progress, concerns and what relatives are told (only what the client allowed)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.applying import Acting, Appliers
from bot.escalations import Escalations
from bot.host import Host
from bot.invites import deep_link
from bot.storage import coping
from bot.storage.family_links import INVITE_DAYS, active_links, create_link_invite
from bot.storage.models import FamilyLink, Invite, LessonProgress, Person, TrainingProgress
from bot.telegram.render import Outgoing
from flows import crisis
from flows.effects import (
    CourseFeedbackGiven,
    CreateFamilyInvite,
    Effect,
    LessonProgressed,
    PracticeAnswer,
    RaiseConcern,
    RevokeFamilyLink,
    UpdateFamilyLink,
)
from flows.family import concern_raised, scope_line
from flows.text import N_, Msg, Text, msg
from flows.timers import PracticeAsked


class Family:
    """The shell's side of family features: invites, what a link shares, lessons and concerns."""

    def __init__(self, host: Host, appliers: Appliers, escalations: Escalations) -> None:
        self.host = host
        self.escalations = escalations
        appliers.register(
            {
                CreateFamilyInvite: self._invite_created,
                UpdateFamilyLink: self._scope_changed,
                RevokeFamilyLink: self._revoked,
                LessonProgressed: self._lesson_progressed,
                PracticeAnswer: self._practice,
                CourseFeedbackGiven: self._course_feedback,
                PracticeAsked: self._practice_asked,
            }
        )
        appliers.register_expanders({RaiseConcern: self._concern})

    async def _course_feedback(
        self, session: AsyncSession, effect: CourseFeedbackGiven, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        await coping.course_feedback(
            session, acting.person.id, effect.useful, acting.now, effect.course
        )
        return []

    async def _invite_created(
        self, session: AsyncSession, effect: CreateFamilyInvite, acting: Acting
    ) -> list[Outgoing]:
        client = acting.person
        assert client is not None
        code = await create_link_invite(
            session, client, effect.share_summary, effect.share_alerts, acting.now
        )
        username = self.host.bot_username
        link = deep_link(username, code)
        return [
            self.host.renderer.message(
                client, msg(N_("family.invite_created"), link=link, days=INVITE_DAYS)
            )
        ]

    async def _scope_changed(
        self, session: AsyncSession, effect: UpdateFamilyLink, acting: Acting
    ) -> list[Outgoing]:
        link = await self._own_link(session, effect.link_id, acting)
        if link is None:
            return []
        link.share_summary, link.share_alerts = effect.share_summary, effect.share_alerts
        scope = scope_line(link.share_summary, link.share_alerts)
        return await self._tell_relative(
            session, link, msg(N_("family.access_changed"), scope=scope)
        )

    async def _revoked(
        self, session: AsyncSession, effect: RevokeFamilyLink, acting: Acting
    ) -> list[Outgoing]:
        link = await self._own_link(session, effect.link_id, acting)
        if link is None:
            return []
        link.revoked_at = acting.now
        if link.invite_id is not None:
            invite = await session.get(Invite, link.invite_id)
            if invite is not None and invite.revoked_at is None:
                invite.revoked_at = acting.now
        return await self._tell_relative(session, link, Msg(N_("family.access_removed")))

    async def _tell_relative(
        self, session: AsyncSession, link: FamilyLink, text: Text
    ) -> list[Outgoing]:
        """What changed, told to the relative on ``link`` (none yet: an unused invite)."""
        relative = await session.get(Person, link.family_id) if link.family_id else None
        return [] if relative is None else [self.host.renderer.message(relative, text)]

    @staticmethod
    async def _own_link(session: AsyncSession, link_id: int, acting: Acting) -> FamilyLink | None:
        """The acting client's live link ``link_id`` (a stale or forged button finds none)."""
        link = await session.get(FamilyLink, link_id)
        client = acting.person
        if link is None or client is None or link.client_id != client.id:
            return None
        return link if link.revoked_at is None else None

    async def linked_client(self, session: AsyncSession, member: Person) -> Person | None:
        """The client a relative is linked to with alerts shared (concerns are about them)."""
        links = [
            link for link in await active_links(session, family_id=member.id) if link.share_alerts
        ]
        return await session.get(Person, links[0].client_id) if links else None

    async def _concern(
        self, session: AsyncSession, effect: RaiseConcern, acting: Acting
    ) -> tuple[Effect, ...]:
        """About the relative when linked with alerts allowed; otherwise about the caregiver."""
        member = acting.person
        assert member is not None
        subject = await self.linked_client(session, member)
        emergency = crisis.emergency_inline(self.host.lines.numbers_for(member.region))
        reason, shown = concern_raised(effect, member.id, subject is not None, emergency)
        _, effects = await self.escalations.raise_for(
            session, subject or member, reason, acting.now
        )
        return (*shown, *effects)

    async def _lesson_progressed(
        self, session: AsyncSession, effect: LessonProgressed, acting: Acting
    ) -> list[Outgoing]:
        person = acting.person
        assert person is not None
        key = (person.id, effect.slug)
        row: LessonProgress | TrainingProgress | None
        if effect.course == "training":  # a peer worker's training course
            row = await session.get(TrainingProgress, key)
            if row is None:
                row = TrainingProgress(
                    person_id=person.id, lesson=effect.slug, started_at=acting.now
                )
                session.add(row)
        else:
            row = await session.get(LessonProgress, key)
            if row is None:
                row = LessonProgress(person_id=person.id, lesson=effect.slug, started_at=acting.now)
                session.add(row)
        if effect.finished and row.completed_at is None:
            row.completed_at = acting.now
            row.answered_correctly = effect.correct
        return []

    async def _practice(
        self, session: AsyncSession, effect: PracticeAnswer, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        row = await session.get(LessonProgress, (acting.person.id, effect.slug))
        if row is None:
            return []
        if effect.tried is not None:
            row.practice_tried = effect.tried
        if effect.helped is not None:
            row.practice_helped = effect.helped
        return []

    async def _practice_asked(
        self, session: AsyncSession, effect: PracticeAsked, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        row = await session.get(LessonProgress, (acting.person.id, effect.lesson))
        if row is not None:
            row.practice_asked_at = acting.now
        return []
