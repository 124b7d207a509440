"""The crisis path, in memory (``bot.safety.crisis_path``): the crisis reply that goes out
before anything else, and crisis language bringing a person in. What the reply rests on is
looked up in memory; ``known_facts`` and ``reply_to`` (the shell's) and ``flows`` decide and
render."""

from __future__ import annotations

from bot.i18n import locale_for_language_code, region_for_language_code
from bot.safety.crisis_path import known_facts, reply_to
from bot.storage.models import Person as PersonRow
from bot.telegram import replies
from bot.telegram.incoming import Incoming
from bot.telegram.render import Outgoing
from flows import crisis, escalation
from flows.crisis import Audience, CrisisFacts
from flows.effects import Effect, Say, ShowCrisisReply
from flows.risk import Assessment, Level
from flows.roles import Role
from tests.core_player.checkins import CheckIns
from tests.core_player.escalations import Escalations
from tests.core_player.family import Family
from tests.core_player.host import Feature, Host, Turn


class Crisis:
    def __init__(
        self, host: Host, checkins: CheckIns, escalations: Escalations, family: Family
    ) -> None:
        self.host = host
        self.memory = host.memory
        self.checkins = checkins
        self.escalations = escalations
        self.family = family
        self.feature = Feature(
            facts={}, appliers={ShowCrisisReply: self._show_crisis_reply}, expanders={}
        )

    def reply(self, incoming: Incoming, about_others: bool) -> list[Outgoing]:
        """The crisis reply, sent before the update is handled (``CrisisPath.first_reply``)."""
        settings = self.host.settings
        locale = locale_for_language_code(incoming.language_code, settings.default_locale)
        facts = self._facts(locale, region_for_language_code(incoming.language_code))
        person = self.memory.people.get(incoming.user_id)
        if person is not None:
            facts = self._facts_of(person, facts, about_others)
        return reply_to(self.host.renderer, incoming, facts)

    def _facts(self, locale: str, region: str | None) -> CrisisFacts:
        return CrisisFacts(
            Audience.AT_RISK,
            locale,
            self.host.lines.numbers_for(region),
            after_hours_note=self.host.settings.after_hours(),
            now=self.host.clock(),
        )

    def _facts_of(self, person: PersonRow, facts: CrisisFacts, about_others: bool) -> CrisisFacts:
        staff = crisis.audience(Role(person.role), about_others) is Audience.STAFF
        return known_facts(
            facts,
            person,
            about_others,
            self.host.lines,
            {} if staff else self.checkins.plan(person.id),
            self.escalations.holder_alias(person.id),
            bool(self.escalations.roster().on_duty),
            self.memory.crisis_at.get(person.id),
            self.escalations.waiting_since(person.id),
        )

    def risk(self, person: PersonRow, risk: Assessment, text: str) -> tuple[Effect, ...]:
        """Crisis language is remembered (the next crisis reply looks at when) and brings a
        person in (``CrisisPath.record``): about the person, or about the client a relative
        reporting danger is linked to."""
        now = self.host.clock()
        if risk.level is not Level.CRISIS:
            return ()
        self.memory.crisis_at[person.id] = now
        subject, about_others = person, "third_party" in risk.categories
        if crisis.audience(Role(person.role), about_others) is Audience.RELATIVE:
            subject = self.family.linked_client(person) or person
        relative = person.id if subject is not person else None
        reason = escalation.crisis_reason(risk.categories, risk.layers, relative, text)
        return self.escalations.raise_for(subject, reason, now)[1]

    def _show_crisis_reply(self, effect: ShowCrisisReply, turn: Turn) -> list[Outgoing]:
        """Someone said yes when asked, or a relative ticked "talking about death"."""
        person = turn.acting
        base = self._facts(person.locale, person.region)
        reply = crisis.first_reply(self._facts_of(person, base, effect.about_others))
        if reply is None:
            return []
        text, choices = reply
        return [replies.say(self.host.renderer, person, turn.step, Say(text, choices))]
