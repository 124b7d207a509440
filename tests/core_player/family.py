"""Family links, lessons and a relative's concern, in memory (``bot.family``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.invites import deep_link
from bot.storage.family_links import INVITE_DAYS
from bot.storage.models import Person as PersonRow
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
from flows.facts import Fact
from flows.family import concern_raised, scope_line
from flows.people import Event
from flows.roles import Role
from flows.text import N_, Msg, Text, msg
from tests.core_player.escalations import Escalations
from tests.core_player.host import Feature, Host, Turn
from tests.core_player.memory import Link


class Family:
    def __init__(self, host: Host, escalations: Escalations) -> None:
        self.host = host
        self.memory = host.memory
        self.escalations = escalations
        self.feature = Feature(
            facts={Fact.LINKS: self._links_fact, Fact.PROGRESS: self._progress_fact},
            appliers={
                CreateFamilyInvite: self._create_family_invite,
                UpdateFamilyLink: self._update_family_link,
                RevokeFamilyLink: self._revoke_family_link,
                LessonProgressed: self._lesson_progressed,
                PracticeAnswer: self._practice_answer,
                CourseFeedbackGiven: self._course_feedback,
            },
            expanders={RaiseConcern: self._concern},
        )

    def link(self, client: PersonRow, relative: PersonRow) -> None:
        """Linked by hand, support alerts shared (``tests.harness.Harness.link``)."""
        link_id = next(self.memory.ids)
        self.memory.links[link_id] = Link(link_id, client.id, None, False, True, relative.id)

    def linked_client(self, member: PersonRow) -> PersonRow | None:
        """The client a relative is linked to with alerts shared (``Family.linked_client``)."""
        links = [link for link in self.memory.active_links(family_id=member.id) if link.alerts]
        return self.memory.person(links[0].client_id) if links else None

    # -- facts --------------------------------------------------------------------------

    def _progress_fact(self, person: PersonRow, event: Event, now: datetime) -> dict[str, str]:
        return {
            slug: how for (owner, slug), how in self.memory.lessons.items() if owner == person.id
        }

    def _links_fact(self, person: PersonRow, event: Event, now: datetime) -> list[dict[str, Any]]:
        """Joined links and pending invites that can still be used (``links_data``)."""
        return [
            {
                "id": link.id,
                "joined": link.family_id is not None,
                "summary": link.summary,
                "alerts": link.alerts,
            }
            for link in self.memory.active_links(client_id=person.id)
            if link.family_id is not None
            or self.memory.usable(self.memory.invite_of(link.invite_id), now)
        ]

    # -- appliers: lessons --------------------------------------------------------------

    def _lesson_progressed(self, effect: LessonProgressed, turn: Turn) -> list[Outgoing]:
        key = (turn.acting.id, effect.slug)
        if effect.finished or key not in self.memory.lessons:
            self.memory.lessons[key] = "done" if effect.finished else "started"
        return []

    def _practice_answer(self, effect: PracticeAnswer, turn: Turn) -> list[Outgoing]:
        """Kept once the lesson was started, as the whole bot keeps it."""
        key = (turn.acting.id, effect.slug)
        if key in self.memory.lessons:
            answers = {"tried": effect.tried, "helped": effect.helped}
            self.memory.practice.setdefault(key, {}).update(
                (name, value) for name, value in answers.items() if value is not None
            )
        return []

    def _course_feedback(self, effect: CourseFeedbackGiven, turn: Turn) -> list[Outgoing]:
        self.memory.course_feedback.append((turn.acting.id, effect.useful))
        return []

    # -- appliers: links ----------------------------------------------------------------

    def _create_family_invite(self, effect: CreateFamilyInvite, turn: Turn) -> list[Outgoing]:
        client = turn.acting
        code, invite = self.memory.new_invite(Role.FAMILY, turn.now + timedelta(days=INVITE_DAYS))
        link_id = next(self.memory.ids)
        link = Link(link_id, client.id, invite.id, effect.share_summary, effect.share_alerts)
        self.memory.links[link_id] = link
        where = deep_link(self.host.bot_username, code)
        text = msg(N_("family.invite_created"), link=where, days=INVITE_DAYS)
        return [self.host.renderer.message(client, text)]

    def _update_family_link(self, effect: UpdateFamilyLink, turn: Turn) -> list[Outgoing]:
        link = self._own_link(effect.link_id, turn)
        if link is None:
            return []
        link.summary, link.alerts = effect.share_summary, effect.share_alerts
        return self._tell_relative(
            link, msg(N_("family.access_changed"), scope=scope_line(link.summary, link.alerts))
        )

    def _revoke_family_link(self, effect: RevokeFamilyLink, turn: Turn) -> list[Outgoing]:
        link = self._own_link(effect.link_id, turn)
        if link is None:
            return []
        link.revoked = True
        invite = self.memory.invite_of(link.invite_id)
        if invite is not None:
            invite.revoked = True
        return self._tell_relative(link, Msg(N_("family.access_removed")))

    def _own_link(self, link_id: int, turn: Turn) -> Link | None:
        link = self.memory.links.get(link_id)
        if link is None or link.client_id != turn.acting.id or link.revoked:
            return None
        return link

    def _tell_relative(self, link: Link, text: Text) -> list[Outgoing]:
        relative = self.memory.person(link.family_id)
        return [] if relative is None else [self.host.renderer.message(relative, text)]

    # -- a concern ----------------------------------------------------------------------

    def _concern(self, effect: RaiseConcern, turn: Turn) -> tuple[Effect, ...]:
        """About the relative when linked with alerts allowed; otherwise about the caregiver."""
        member = turn.acting
        subject = self.linked_client(member)
        emergency = crisis.emergency_inline(self.host.lines.numbers_for(member.region))
        reason, shown = concern_raised(effect, member.id, subject is not None, emergency)
        _, effects = self.escalations.raise_for(subject or member, reason, turn.now)
        return (*shown, *effects)
