"""Onboarding: the bot introduces itself, asks consent, then the profile questions by role."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from typing import Any, ClassVar

from flows import crisis, questions
from flows.effects import Choice, ForgetPerson, RefreshCommands, Say, UpdatePerson
from flows.engine import chose, move
from flows.facts import Fact, Need
from flows.profile import ProfileQuestions
from flows.roles import Role
from flows.schedule import local_date, next_daily
from flows.text import N_, Msg, msg

# Whether the alias someone types is taken: only the database knows.
NEEDS = (Need(Fact.ALIAS_TAKEN, flow="onboarding", states={"alias"}, kinds={"text"}),)

CONSENT_CHOICES = (
    Choice(Msg(N_("onboarding.consent.agree")), "consent:yes"),
    Choice(Msg(N_("onboarding.consent.decline")), "consent:no"),
)

INTRO = {
    Role.CLIENT: N_("onboarding.intro.client"),
    Role.FAMILY: N_("onboarding.intro.family"),
    Role.PEER_WORKER: N_("onboarding.intro.peer_worker"),
    Role.SUPERVISOR: N_("onboarding.intro.supervisor"),
    Role.ADMIN: N_("onboarding.intro.admin"),
}


class Onboarding(ProfileQuestions):
    name = "onboarding"
    initial = "consent"
    states: ClassVar[list[str]] = [
        "consent",
        "language",
        "region",
        "timezone",
        "checkin_time",
        "alias",
        "duty",
        "done",
        "declined",
    ]
    final = frozenset({"done", "declined"})
    transitions: ClassVar[list[dict[str, Any]]] = [
        move("consent", "declined", "declines"),
        move("consent", "language", "agrees"),
        move("language", "region", "is_valid", "asks_region", before="record_language"),
        move("language", "timezone", "is_valid", before="record_language"),
        move("region", "timezone", "is_valid", before="record_region"),
        move("timezone", "checkin_time", "is_valid", "is_client", before="record_zone"),
        move("timezone", "alias", "is_valid", "needs_alias", before="record_zone"),
        move("timezone", "done", "is_valid", before="record_zone"),
        move("checkin_time", "done", "is_valid", "time_allowed", before="record_checkin_time"),
        move("alias", "duty", "is_valid", "alias_free", before="record_alias"),
        move("duty", "done", "is_valid", before="record_duty"),
    ]

    # -- consent -------------------------------------------------------------------

    def on_enter_consent(self) -> None:
        self.ask(Msg(INTRO[self.person.role]))
        self.ask(
            Msg(N_("onboarding.consent.ask")),
            CONSENT_CHOICES + questions.language_choices(),
            columns=2,
        )

    def parse_consent(self) -> str | None:
        if self.event.kind == "choice" and self.event.value in ("consent:yes", "consent:no"):
            return self.event.value
        return None

    agrees = chose("consent:yes")
    declines = chose("consent:no")

    def reask_consent(self) -> None:
        chosen = questions.parse_language(self.event)
        if chosen is not None:
            # The intro came in a language the person does not read: show it again in theirs.
            self.emit(UpdatePerson(locale=chosen))
            self.person = replace(self.person, locale=chosen)
            self.on_enter_consent()
            return
        self.ask(Msg(N_("onboarding.consent.please_choose")), CONSENT_CHOICES, columns=2)

    def on_enter_declined(self) -> None:
        self.show_choice(Msg(N_("onboarding.consent.decline")))
        emergency = crisis.emergency_inline(self.person.numbers)
        self.emit(ForgetPerson(), Say(msg(N_("onboarding.declined"), emergency=emergency)))

    # -- language --------------------------------------------------------------------

    def on_enter_language(self) -> None:
        if self.event.kind == "choice" and self.event.value == "consent:yes":
            self.show_choice(Msg(N_("onboarding.consent.agree")))
            self.emit(UpdatePerson(consented=True))
        self.ask_language(N_("onboarding.language.ask"))

    def record_language(self) -> None:
        self.store_locale()
        self.person = replace(self.person, locale=self.value)

    def asks_region(self) -> bool:
        return self.person.role in (Role.CLIENT, Role.FAMILY)

    # -- region ----------------------------------------------------------------------

    def on_enter_region(self) -> None:
        self.ask_region()

    def record_region(self) -> None:
        self.store_region()
        self.ctx["region"] = self.value

    # -- time zone -------------------------------------------------------------------

    def on_enter_timezone(self) -> None:
        region = self.ctx.get("region", self.person.region)
        self.ask(
            Msg(N_("onboarding.timezone.ask")),
            questions.zone_choices(region if isinstance(region, str) else None, self.person.locale),
        )

    def record_zone(self) -> None:
        self.store_zone()
        self.ctx["timezone"] = self.value

    def is_client(self) -> bool:
        return self.person.role is Role.CLIENT

    def needs_alias(self) -> bool:
        return self.person.role.has_alias

    # -- check-in time ---------------------------------------------------------------

    def on_enter_checkin_time(self) -> None:
        self.ask_time(N_("onboarding.checkin_time.ask"))

    def record_checkin_time(self) -> None:
        self.store_time()
        self.ctx["checkin_time"] = self.value.strftime("%H:%M")

    # -- alias and duty (peer workers and supervisors) -------------------------------

    def on_enter_alias(self) -> None:
        self.ask(Msg(N_("onboarding.alias.ask")))

    def alias_free(self) -> bool:
        return not self.event.data.get(Fact.ALIAS_TAKEN, False)

    def reask_alias(self) -> None:
        if self.value is not None:
            self.ask(msg("onboarding.alias.taken", alias=self.value))
        else:
            self.ask(Msg(N_("onboarding.alias.invalid")))

    def record_alias(self) -> None:
        self.emit(UpdatePerson(alias=self.value))

    def on_enter_duty(self) -> None:
        self.ask(Msg(N_("onboarding.duty.ask")), questions.duty_choices(), columns=2)

    def record_duty(self) -> None:
        self.show_choice(
            Msg(N_("onboarding.duty.on")) if self.value else Msg(N_("onboarding.duty.off"))
        )
        self.emit(UpdatePerson(on_duty=self.value))

    # -- done ------------------------------------------------------------------------

    def on_enter_done(self) -> None:
        self.emit(UpdatePerson(onboarded=True), RefreshCommands())
        done = {
            Role.CLIENT: N_("onboarding.done.client"),
            Role.FAMILY: N_("onboarding.done.family"),
            Role.PEER_WORKER: N_("onboarding.done.peer_worker"),
            Role.SUPERVISOR: N_("onboarding.done.supervisor"),
            Role.ADMIN: N_("onboarding.done.admin"),
        }[self.person.role]
        checkin = self.ctx.get("checkin_time")
        text = (
            msg(done, time=time.fromisoformat(checkin)) if isinstance(checkin, str) else Msg(done)
        )
        if isinstance(checkin, str) and self.event.now is not None:
            text = self._first_checkin(time.fromisoformat(checkin), self.event.now)
        self.emit(Say(text, menu=True))

    def _first_checkin(self, clock: time, now: datetime) -> Msg:
        """ "Your first check-in will come today / tomorrow at 9:00", as the clock will place it
        (``flows.timers.plan``: the first such time after now, in their zone)."""
        zone = str(self.ctx.get("timezone") or self.person.timezone)
        first = next_daily(clock, zone, now)
        today = local_date(first, zone) == local_date(now, zone)
        done = (
            N_("onboarding.done.client_today") if today else N_("onboarding.done.client_tomorrow")
        )
        return msg(done, time=clock)
