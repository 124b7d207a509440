"""The profile questions that onboarding and /settings both ask: language, region, time zone
and check-in time (and, at onboarding only, a staff member's alias and duty). Each flow words
the questions its own way and does its own thing once an answer is saved; reading an answer,
asking again, and saving it to the person are shared."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flows import questions
from flows.effects import UpdatePerson
from flows.engine import FlowModel
from flows.people import Event
from flows.text import LANGUAGE_NAMES, N_, Msg, Raw

# How the answer to each profile question is read, by the state that asks it (/settings
# asks for the time of a relative's lessons as the check-in time is asked).
PARSERS: dict[str, Callable[[Event], Any]] = {
    "language": questions.parse_language,
    "region": questions.parse_region,
    "timezone": questions.parse_zone,
    "checkin_time": questions.parse_clock,
    "lesson_time": questions.parse_clock,
    "alias": questions.parse_alias,
    "duty": questions.parse_duty,
}


class ProfileQuestions(FlowModel):
    """The shared answer handling; a flow asking these questions subclasses it."""

    def parse(self) -> Any:
        parser = PARSERS.get(self.state)
        return super().parse() if parser is None else parser(self.event)

    # -- language ----------------------------------------------------------------------

    def ask_language(self, question: str) -> None:
        self.ask(Msg(question), questions.language_choices())

    def store_locale(self) -> None:
        self.show_choice(Raw(LANGUAGE_NAMES[self.value]))
        self.emit(UpdatePerson(locale=self.value))

    # -- region ------------------------------------------------------------------------

    def ask_region(self) -> None:
        self.ask(Msg(N_("onboarding.region.ask")), questions.region_choices(), columns=2)

    def store_region(self) -> None:
        self.show_choice(Msg(questions.REGIONS[self.value]))
        self.emit(UpdatePerson(region=self.value))

    # -- time zone ---------------------------------------------------------------------

    def reask_timezone(self) -> None:
        self.ask(
            Msg(N_("onboarding.timezone.unknown")),
            questions.zone_choices(self.person.region, self.person.locale),
        )

    def store_zone(self) -> None:
        self.show_choice(questions.zone_label(self.value))
        self.emit(UpdatePerson(timezone=self.value))

    # -- check-in time (for a relative: the time of their lessons) ---------------------

    def ask_time(self, question: str) -> None:
        self.ask(Msg(question), questions.checkin_time_choices(), columns=3)

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
