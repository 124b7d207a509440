"""The crisis path in the shell: the first reply (sent before anything is stored or
decided), what is recorded when risk language is found, and the escalation it opens.

What the reply says is decided in ``flows.crisis``; this module gathers its facts: the
person's region, role and safety plan, whether a worker holds their chat or anyone is on
duty. If the database does not answer within two seconds, the reply is built from the
language code alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.applying import Acting, Appliers
from bot.escalations import SUBJECT_ROLES, Escalations
from bot.family import Family
from bot.host import Host
from bot.i18n import locale_for_language_code, region_for_language_code
from bot.safety.crisis import CrisisLines
from bot.storage import safety_plans
from bot.storage.encrypted import encrypt_many
from bot.storage.models import Person, RiskEvent
from bot.telegram import replies
from bot.telegram.incoming import Incoming
from bot.telegram.render import Outgoing, Renderer, SendText
from flows import crisis, escalation
from flows.effects import Say, ShowCrisisReply
from flows.risk import Assessment, Level
from flows.roles import Role

log = logging.getLogger(__name__)

CRISIS_LOOKUP_SECONDS = 2.0
ASSESSED_ROLES = SUBJECT_ROLES


class CrisisPath:
    """The crisis reply and what follows risk language; registers ``ShowCrisisReply``."""

    def __init__(
        self, host: Host, appliers: Appliers, escalations: Escalations, family: Family
    ) -> None:
        self.host = host
        self.appliers = appliers
        self.escalations = escalations
        self.family = family
        appliers.register({ShowCrisisReply: self._show_crisis_reply})

    def sos_without_a_person(self, incoming: Incoming) -> list[Outgoing]:
        """/sos from someone without a role, or while the database is failing: the numbers
        for their language code's region."""
        locale, region = self._by_language(incoming)
        numbers = self.host.lines.numbers_for(region)
        text, _ = crisis.sos(numbers, crisis.Audience.AT_RISK)
        return [SendText(incoming.chat_id, self.host.translator.render(text, locale))]

    async def first_reply(self, incoming: Incoming, about_others: bool) -> list[Outgoing]:
        """Built from what can be read in a moment; from the language code alone if not."""
        facts = await self._facts(incoming.user_id, *self._by_language(incoming), about_others)
        return reply_to(self.host.renderer, incoming, facts)

    async def first_reply_locked(
        self, session: AsyncSession, person: Person, incoming: Incoming, about_others: bool
    ) -> list[Outgoing]:
        """The first reply when the crisis was found only once the person's row was locked
        (the dispatcher's reading again): as ``first_reply``, built in the update's own
        transaction."""
        base = await self._facts(None, *self._by_language(incoming), about_others)
        facts = await self._facts_of(session, person, base, about_others)
        return reply_to(self.host.renderer, incoming, facts)

    def _by_language(self, incoming: Incoming) -> tuple[str, str | None]:
        """The locale and region the sender's language code suggests."""
        settings = self.host.settings
        return (
            locale_for_language_code(incoming.language_code, settings.default_locale),
            region_for_language_code(incoming.language_code),
        )

    async def _facts(
        self, user_id: int | None, locale: str, region: str | None, about_others: bool
    ) -> crisis.CrisisFacts:
        """Who wrote (their region, role, safety plan), whether a worker holds their chat or
        anyone is on duty — or, if the database does not answer within two seconds, only
        what the language code says (and no promise of a person)."""
        facts = crisis.CrisisFacts(
            crisis.Audience.AT_RISK,
            locale,
            self.host.lines.numbers_for(region),
            after_hours_note=self.host.settings.after_hours(),
            now=self.host.clock(),
        )
        if user_id is None:
            return facts
        try:
            async with asyncio.timeout(CRISIS_LOOKUP_SECONDS), self.host.db.sessions() as session:
                person = await session.scalar(
                    select(Person).where(Person.telegram_user_id == user_id)
                )
                if person is None:
                    return facts
                return await self._facts_of(session, person, facts, about_others)
        except Exception as exc:  # any failure here must not delay the reply
            log.warning("crisis reply without stored details: %s", type(exc).__name__)
            return facts

    async def _facts_of(
        self,
        session: AsyncSession,
        person: Person,
        facts: crisis.CrisisFacts,
        about_others: bool,
    ) -> crisis.CrisisFacts:
        audience = crisis.audience(Role(person.role), about_others)
        # Staff are not sent the crisis reply, so their own safety plan is not read for it.
        plan = (
            {}
            if audience is crisis.Audience.STAFF
            else await safety_plans.load(session, person.id, self.host.cipher)
        )
        last_alert = await session.scalar(
            select(func.max(RiskEvent.at)).where(
                RiskEvent.person_id == person.id, RiskEvent.level == "crisis"
            )
        )
        return known_facts(
            facts,
            person,
            about_others,
            self.host.lines,
            plan,
            await self.escalations.holder_alias(session, person.id),
            bool((await self.escalations.roster(session)).on_duty),
            last_alert,
            await self.escalations.waiting_since(session, person.id),
        )

    async def record(
        self, session: AsyncSession, person: Person, risk: Assessment, now: datetime, text: str
    ) -> list[Outgoing]:
        """Record what was found (never the message itself) and bring a person in."""
        session.add(
            RiskEvent(
                person_id=person.id,
                level=risk.level.value,
                categories=list(risk.categories),
                matched=encrypt_many(self.host.cipher, list(risk.matched)),
                at=now,
            )
        )
        log.info(
            "person %s: %s language (%s; found by %s)",
            person.id,
            risk.level.value,
            ",".join(risk.categories),
            "+".join(risk.layers) or "lexicon",
        )
        if risk.level is not Level.CRISIS:
            return []
        subject, about_others = person, "third_party" in risk.categories
        if crisis.audience(Role(person.role), about_others) is crisis.Audience.RELATIVE:
            # A relative reporting danger now: the escalation is about the relative they are
            # linked to (when that client shares alerts), urgent, and says who raised it;
            # their words go with it (encrypted; gone when they erase their data).
            subject = await self.family.linked_client(session, person) or person
        relative = person.id if subject is not person else None
        reason = escalation.crisis_reason(risk.categories, risk.layers, relative, text)
        _, effects = await self.escalations.raise_for(session, subject, reason, now)
        return await self.appliers.apply(session, effects, Acting(person, now))

    async def _show_crisis_reply(
        self, session: AsyncSession, effect: ShowCrisisReply, acting: Acting
    ) -> list[Outgoing]:
        assert acting.person is not None
        person = acting.person
        base = await self._facts(None, person.locale, person.region, effect.about_others)
        reply = crisis.first_reply(await self._facts_of(session, person, base, effect.about_others))
        if reply is None:
            return []
        text, choices = reply
        return [replies.say(self.host.renderer, person, acting.step, Say(text, choices))]


def known_facts(
    facts: crisis.CrisisFacts,
    person: Person,
    about_others: bool,
    lines: CrisisLines,
    plan: Mapping[str, str],
    holder: str | None,
    anyone_on_duty: bool,
    last_alert: datetime | None,
    waiting_since: datetime | None = None,
) -> crisis.CrisisFacts:
    """What the crisis reply rests on for someone known, from what was looked up: whom it
    is written for, their region's numbers (else the language code's), their safety plan's
    people and services, what can be promised about a human answering, and whether they had
    the reply already while their chat waits (``last_alert``, ``waiting_since``)."""
    role = Role(person.role)
    return replace(
        facts,
        audience=crisis.audience(role, about_others),
        locale=person.locale,
        numbers=facts.numbers if person.region is None else lines.numbers_for(person.region),
        helpers=plan.get("helpers"),
        professionals=plan.get("professionals"),
        help=crisis.who_answers(role, holder, anyone_on_duty),
        worker=holder,
        last_alert=last_alert,
        waiting_since=waiting_since,
    )


def reply_to(renderer: Renderer, incoming: Incoming, facts: crisis.CrisisFacts) -> list[Outgoing]:
    """The crisis reply to what ``incoming`` said (none for staff, or when a worker holding
    the chat was alerted minutes ago), in the language the facts say."""
    reply = crisis.first_reply(facts)
    if reply is None:
        return []
    text, choices = reply
    markup = (
        renderer.inline_keyboard(incoming.user_id, 0, choices, 1, facts.locale) if choices else None
    )
    return [SendText(incoming.chat_id, renderer.translator.render(text, facts.locale), markup)]
