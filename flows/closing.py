"""/done: a peer worker closes a chat with an outcome and a private note."""

from __future__ import annotations

from typing import Any, ClassVar

from flows import questions
from flows.effects import Choice, Say, StaffRequest
from flows.engine import FlowModel, move, pressed
from flows.escalation import OUTCOMES
from flows.text import N_, Msg

MAX_NOTE = 2000


class Closing(FlowModel):
    name = "closing"
    initial = "outcome"
    states: ClassVar[list[str]] = ["outcome", "note", "done", "cancelled"]
    final = frozenset({"done", "cancelled"})
    transitions: ClassVar[list[dict[str, Any]]] = [
        move("*", "cancelled", "cancels"),
        move("outcome", "note", "is_valid", before="record_outcome"),
        move("note", "done", "is_valid"),
    ]

    cancels = pressed("close:cancel")

    def on_enter_outcome(self) -> None:
        self.ask(
            Msg(N_("closing.outcome.ask")),
            (
                *(Choice(Msg(label), f"close:{key}") for key, label in OUTCOMES.items()),
                Choice(Msg(N_("closing.cancel")), "close:cancel"),
            ),
            2,
        )

    def parse_outcome(self) -> str | None:
        if self.event.kind == "choice" and self.event.value.removeprefix("close:") in OUTCOMES:
            return self.event.value.removeprefix("close:")
        return None

    def record_outcome(self) -> None:
        self.ctx["outcome"] = self.value
        self.show_choice(Msg(OUTCOMES[self.value]))

    def on_enter_note(self) -> None:
        self.ask(Msg(N_("closing.note.ask")), (Choice(Msg(N_("closing.note.skip")), "close:skip"),))

    def parse_note(self) -> str | None:
        return questions.parse_note(self.event, "close:skip", limit=MAX_NOTE)

    def on_enter_done(self) -> None:
        if not self.value:
            self.show_choice(Msg(N_("closing.note.skip")))
        escalation_id = int(self.ctx["escalation"])
        self.emit(
            StaffRequest(
                "resolve", escalation_id, outcome=str(self.ctx["outcome"]), text=self.value
            )
        )

    def on_enter_cancelled(self) -> None:
        self.show_choice(Msg(N_("closing.cancel")))
        self.emit(Say(Msg(N_("closing.cancelled"))))
