"""The check-in time question's answers, shared by onboarding and /settings."""

from __future__ import annotations

from datetime import time

from flows import questions
from flows.engine import FlowModel
from flows.text import N_, Msg


class CheckinTimeQuestion(FlowModel):
    """The check-in time question's answer handling, shared by onboarding and /settings
    (each asks it in words of its own and saves it its own way)."""

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
