"""The crisis path, in memory: the crisis reply that goes out before anything else, and
crisis language bringing a person in (``bot.telegram.dispatch``).

The dispatcher keeps two rules of its own that the core player takes from ``flows`` instead
(``flows.crisis.audience`` and ``who_answers``, ``flows.escalation.crisis_reason``): whom the
crisis reply is written for and what it promises, and what a relative's crisis language is a
reason about. The lookups around them are the dispatcher's, done in memory.
"""

from __future__ import annotations

from dataclasses import replace

from bot.i18n import locale_for_language_code, region_for_language_code
from bot.storage.models import Person as PersonRow
from bot.telegram import replies
from bot.telegram.incoming import Incoming
from bot.telegram.render import Outgoing, SendText
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
        """The crisis reply, sent before the update is handled (``Dispatcher._crisis_reply``)."""
        settings = self.host.settings
        locale = locale_for_language_code(incoming.language_code, settings.default_locale)
        region = region_for_language_code(incoming.language_code)
        facts = self._facts(locale, region)
        person = self.memory.people.get(incoming.user_id)
        if person is not None:
            facts = self._facts_of(person, facts, about_others)
        reply = crisis.first_reply(facts)
        if reply is None:
            return []
        text, choices = reply
        markup = (
            self.host.renderer.inline_keyboard(incoming.user_id, 0, choices, 1, facts.locale)
            if choices
            else None
        )
        rendered = self.host.translator.render(text, facts.locale)
        return [SendText(incoming.chat_id, rendered, markup)]

    def _facts(self, locale: str, region: str | None) -> CrisisFacts:
        return CrisisFacts(
            Audience.AT_RISK,
            locale,
            self.host.lines.numbers_for(region),
            after_hours_note=self.host.settings.after_hours_note,
            now=self.host.clock(),
        )

    def _facts_of(self, person: PersonRow, facts: CrisisFacts, about_others: bool) -> CrisisFacts:
        role = Role(person.role)
        audience = crisis.audience(role, about_others)
        plan = {} if audience is Audience.STAFF else self.checkins.plan(person.id)
        numbers = facts.numbers
        if person.region is not None:
            numbers = self.host.lines.numbers_for(person.region)
        worker = self.escalations.holder_alias(person.id)
        on_duty = bool(self.escalations.roster().on_duty)
        return replace(
            facts,
            audience=audience,
            locale=person.locale,
            numbers=numbers,
            helpers=plan.get("helpers"),
            professionals=plan.get("professionals"),
            help=crisis.who_answers(role, worker, on_duty),
            worker=worker,
            last_alert=self.memory.crisis_at.get(person.id),
        )

    def risk(self, person: PersonRow, risk: Assessment, text: str) -> tuple[Effect, ...]:
        """Crisis language is remembered (the next crisis reply looks at when) and brings a
        person in (``Dispatcher._risk``): about the person, or about the client a relative
        is linked to."""
        now = self.host.clock()
        if risk.level is not Level.CRISIS:
            return ()
        self.memory.crisis_at[person.id] = now
        subject = None
        if person.role == Role.FAMILY.value and "third_party" in risk.categories:
            subject = self.family.linked_client(person)
        relative = person.id if subject is not None else None
        reason = escalation.crisis_reason(risk.categories, risk.layers, relative, text)
        return self.escalations.raise_for(subject or person, reason, now)[1]

    def _show_crisis_reply(self, effect: ShowCrisisReply, turn: Turn) -> list[Outgoing]:
        """Someone said yes when asked, or a relative ticked "talking about death"."""
        person = turn.acting
        base = self._facts(person.locale, person.region)
        reply = crisis.first_reply(self._facts_of(person, base, effect.about_others))
        if reply is None:
            return []
        text, choices = reply
        return [replies.say(self.host.renderer, person, turn.step, Say(text, choices))]
