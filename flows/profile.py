"""The profile questions that onboarding and /settings both ask: language, region, time zone
and check-in time. Each flow words the questions its own way and does its own thing once an
answer is saved; reading an answer, asking again, and saving it to the person are shared."""

from __future__ import annotations

from datetime import time

from flows import questions
from flows.effects import UpdatePerson
from flows.engine import FlowModel
from flows.text import LANGUAGE_NAMES, N_, Msg, Raw


class ProfileQuestions(FlowModel):
    """The shared answer handling; a flow asking these questions subclasses it."""

    # -- language ----------------------------------------------------------------------

    def ask_language(self, question: str) -> None:
        self.ask(Msg(question), questions.language_choices())

    def parse_language(self) -> str | None:
        return questions.parse_language(self.event)

    def store_locale(self) -> None:
        self.show_choice(Raw(LANGUAGE_NAMES[self.value]))
        self.emit(UpdatePerson(locale=self.value))

    # -- region ------------------------------------------------------------------------

    def ask_region(self) -> None:
        self.ask(Msg(N_("onboarding.region.ask")), questions.region_choices(), columns=2)

    def parse_region(self) -> str | None:
        return questions.parse_region(self.event)

    def store_region(self) -> None:
        self.show_choice(Msg(questions.REGIONS[self.value]))
        self.emit(UpdatePerson(region=self.value))

    # -- time zone ---------------------------------------------------------------------

    def parse_timezone(self) -> str | None:
        return questions.parse_zone(self.event)

    def reask_timezone(self) -> None:
        self.ask(Msg(N_("onboarding.timezone.unknown")), questions.zone_choices(self.person.region))

    def store_zone(self) -> None:
        self.show_choice(questions.zone_label(self.value))
        self.emit(UpdatePerson(timezone=self.value))

    # -- check-in time (for a relative: the time of their lessons) ---------------------

    def ask_time(self, question: str) -> None:
        self.ask(Msg(question), questions.checkin_time_choices(), columns=3)

    def parse_checkin_time(self) -> time | None:
        return questions.parse_clock(self.event)

    def time_allowed(self) -> bool:
        return questions.checkin_time_problem(self.value, self.rules) is None

    def reask_checkin_time(self) -> None:
        problem = (
            None if self.value is None else questions.checkin_time_problem(self.value, self.rules)
        )
        self.ask(
            problem or Msg(N_("onboarding.checkin_time.unknown")),
            questions.checkin_time_choices(),
            columns=3,
        )

    def store_time(self) -> None:
        self.show_choice(Raw(self.value.strftime("%H:%M")))
        self.emit(UpdatePerson(checkin_time=self.value))
