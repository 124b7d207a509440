"""The daily check-in: one short question per message, buttons first, every answer saved at once.

Questions: mood, sleep, medication (and side effects when taken), unusual experiences (and
how distressing), contact with people, stress, the client's own warning signs, then an
optional note. "Not now" stops at any point and keeps what was answered; /checkin later
the same local day resumes at the first unanswered question. After local midnight the
check-in is closed and kept as partial.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from flows import coping, questions
from flows.effects import Choice, FinishCheckin, RecordAnswer, RefreshChoices, Say
from flows.engine import FlowModel, move, pressed
from flows.facts import Fact, Need
from flows.people import Event
from flows.roles import Role
from flows.schedule import local_date
from flows.text import N_, Lines, Msg, Raw, Text, msg

# Today's check-in for /checkin; the client's own warning signs for its questions about
# them (the one after stress shows a sign's words, and the signs step itself).
SIGN_STEPS = ("stress", "signs")
NEEDS = (
    Need(Fact.CHECKIN, commands={"checkin"}, roles={Role.CLIENT}),
    Need(Fact.SIGNS, commands={"checkin"}),
    Need(Fact.SIGNS, flow="checkin", states=SIGN_STEPS),
)

UNUSUAL = {
    "voices": N_("checkin.unusual.voices"),
    "watched": N_("checkin.unusual.watched"),
    "racing": N_("checkin.unusual.racing"),
    "other": N_("checkin.unusual.other"),
}
THANKS = (
    N_("checkin.thanks.1"),
    N_("checkin.thanks.2"),
    N_("checkin.thanks.3"),
    N_("checkin.thanks.4"),
    N_("checkin.thanks.5"),
)

STOP = Choice(Msg(N_("checkin.not_now")), "ci:stop")
TALK = Choice(Msg(N_("checkin.talk")), "/talk")
ORDER = ("mood", "sleep", "medication", "side_effects", "unusual", "distress", "contact", "stress")


@dataclass(frozen=True, slots=True)
class Scale:
    """A one-tap question: what it asks, and its answers (the value stored: the label)."""

    ask: str
    options: Mapping[Any, str]
    columns: int = 1

    def label(self, value: Any) -> Msg:
        return Msg(self.options[value])

    def choices(self, field: str) -> tuple[Choice, ...]:
        return tuple(
            Choice(Msg(label), f"ci:{field}:{value}") for value, label in self.options.items()
        )

    def parse(self, field: str, event: Event) -> Any:
        prefix = f"ci:{field}:"
        if event.kind != "choice" or not event.value.startswith(prefix):
            return None
        raw = event.value.removeprefix(prefix)
        for option in self.options:
            if str(option) == raw:
                return option
        return None


# The questions answered with one tap, by the field each answer is stored as.
SCALES = {
    "mood": Scale(
        N_("checkin.mood.ask"),
        {
            1: N_("checkin.mood.1"),
            2: N_("checkin.mood.2"),
            3: N_("checkin.mood.3"),
            4: N_("checkin.mood.4"),
            5: N_("checkin.mood.5"),
        },
    ),
    "sleep": Scale(
        N_("checkin.sleep.ask"),
        {
            -2: N_("checkin.sleep.much_less"),
            -1: N_("checkin.sleep.less"),
            0: N_("checkin.sleep.usual"),
            1: N_("checkin.sleep.more"),
            2: N_("checkin.sleep.much_more"),
        },
    ),
    "medication": Scale(
        N_("checkin.medication.ask"),
        {
            "taken": N_("checkin.medication.taken"),
            "partly": N_("checkin.medication.partly"),
            "not_taken": N_("checkin.medication.not_taken"),
            "not_prescribed": N_("checkin.medication.not_prescribed"),
        },
        columns=2,
    ),
    "side_effects": Scale(
        N_("checkin.side_effects.ask"),
        {
            0: N_("checkin.side_effects.no"),
            1: N_("checkin.side_effects.a_little"),
            2: N_("checkin.side_effects.a_lot"),
        },
    ),
    "distress": Scale(
        N_("checkin.distress.ask"),
        {
            0: N_("checkin.distress.0"),
            1: N_("checkin.distress.1"),
            2: N_("checkin.distress.2"),
            3: N_("checkin.distress.3"),
        },
    ),
    "contact": Scale(
        N_("checkin.contact.ask"),
        {
            0: N_("checkin.contact.0"),
            1: N_("checkin.contact.1"),
            2: N_("checkin.contact.2"),
        },
    ),
    "stress": Scale(
        N_("checkin.stress.ask"),
        {
            0: N_("checkin.stress.0"),
            1: N_("checkin.stress.1"),
            2: N_("checkin.stress.2"),
            3: N_("checkin.stress.3"),
        },
    ),
}


def _signs(ctx: dict[str, Any]) -> list[int]:
    """The ids of the client's signs asked today. The saved context holds ids only, never
    the signs' words: those are read for the question that shows them."""
    return [int(sign[0] if isinstance(sign, list) else sign) for sign in ctx.get("signs", [])]


def _pending_signs(ctx: dict[str, Any]) -> list[int]:
    done = {int(i) for i in ctx.get("signs_answered", [])}
    return [sign for sign in _signs(ctx) if sign not in done]


def _step(source: str, dest: str, *conditions: str, record: str) -> dict[str, Any]:
    """A move to the next question when the answer is valid, recording it on the way."""
    return move(source, dest, "is_valid", *conditions, before=record)


class CheckIn(FlowModel):
    name = "checkin"
    initial = "mood"
    states: ClassVar[list[str]] = [*ORDER, "signs", "note", "done", "stopped", "closed"]
    final = frozenset({"done", "stopped", "closed"})

    transitions: ClassVar[list[dict[str, Any]]] = [
        move("*", "closed", "day_has_ended"),
        move("*", "stopped", "wants_to_stop"),
        _step("mood", "sleep", record="record_scale"),
        _step("sleep", "medication", record="record_scale"),
        _step("medication", "side_effects", "takes_medication", record="record_scale"),
        _step("medication", "unusual", record="record_scale"),
        _step("side_effects", "unusual", record="record_scale"),
        move("unusual", None, "is_valid", "is_toggle", after="toggle_unusual"),
        _step("unusual", "distress", "any_unusual", record="record_unusual"),
        _step("unusual", "contact", record="record_unusual"),
        _step("distress", "contact", record="record_scale"),
        _step("contact", "stress", record="record_scale"),
        _step("stress", "signs", "has_pending_signs", record="record_scale"),
        _step("stress", "note", record="record_scale"),
        _step("signs", "signs", "more_signs_after_this", record="record_sign"),
        _step("signs", "note", record="record_sign"),
        _step("note", "done", record="record_note"),
    ]

    @classmethod
    def entry_state(cls, context: dict[str, object]) -> str:
        """The first question not answered yet today."""
        raw = context.get("answers")
        answers: dict[str, Any] = dict(raw) if isinstance(raw, dict) else {}
        for field in ORDER:
            if field in answers:
                continue
            if field == "side_effects" and answers.get("medication") not in ("taken", "partly"):
                continue
            if field == "distress" and not answers.get("unusual"):
                continue
            return field
        if _pending_signs(dict(context)):
            return "signs"
        return "note"

    # -- shared ---------------------------------------------------------------------

    @property
    def day(self) -> str:
        return str(self.ctx["day"])

    def day_has_ended(self) -> bool:
        if self.event.now is None:
            return False
        return local_date(self.event.now, self.person.timezone) != date.fromisoformat(self.day)

    wants_to_stop = pressed("ci:stop")

    def question(self, text: Msg, choices: tuple[Choice, ...], columns: int = 1) -> None:
        self.ask(text, (*choices, STOP, TALK), columns)

    def reask(self) -> None:
        if self.event.kind == "text" and self.state != "note":
            self.emit(Say(Msg(N_("checkin.use_buttons"))))
        super().reask()

    def record(self, field: str, value: object, label: Text | None = None) -> None:
        self.emit(RecordAnswer(self.day, field, value))
        answers = dict(self.ctx.get("answers", {}))
        answers[field] = value
        self.ctx["answers"] = answers
        if label is not None:
            self.show_choice(label)

    def on_enter_stopped(self) -> None:
        self.show_choice(Msg(N_("checkin.not_now")))
        self.emit(Say(Msg(N_("checkin.stopped")), menu=True))

    def on_enter_closed(self) -> None:
        self.emit(Say(Msg(N_("checkin.closed")), menu=True))

    # -- questions --------------------------------------------------------------------

    def enter(self) -> None:
        scale = SCALES.get(self.state)
        if scale is None:
            super().enter()
        else:
            self.question(Msg(scale.ask), scale.choices(self.state), scale.columns)

    def parse(self) -> Any:
        scale = SCALES.get(self.state)
        return super().parse() if scale is None else scale.parse(self.state, self.event)

    def record_scale(self) -> None:
        """Record the answer to the one-tap question just answered (the state being left)."""
        self.record(self.state, self.value, SCALES[self.state].label(self.value))

    def takes_medication(self) -> bool:
        return self.value in ("taken", "partly")

    # unusual experiences: a multi-select; each tap toggles, "Done" or "None" moves on
    def _unusual_choices(self) -> tuple[Choice, ...]:
        selected = set(self.ctx.get("unusual", []))
        finish = (
            Choice(Msg(N_("checkin.unusual.done")), "ci:u:done")
            if selected
            else Choice(Msg(N_("checkin.unusual.none")), "ci:u:none")
        )
        return (*questions.ticked_choices(UNUSUAL, selected, "ci:u:"), finish, STOP, TALK)

    def on_enter_unusual(self) -> None:
        self.ask(Msg(N_("checkin.unusual.ask")), self._unusual_choices())

    def parse_unusual(self) -> Any:
        if self.event.kind != "choice" or not self.event.value.startswith("ci:u:"):
            return None
        key = self.event.value.removeprefix("ci:u:")
        if key in UNUSUAL:
            return ("toggle", key)
        if key == "none":
            return ("done", [])
        if key == "done":
            return ("done", sorted(self.ctx.get("unusual", [])))
        return None

    def is_toggle(self) -> bool:
        return bool(self.value[0] == "toggle")

    def toggle_unusual(self) -> None:
        selected = set(self.ctx.get("unusual", []))
        selected ^= {self.value[1]}
        self.ctx["unusual"] = sorted(selected)
        self.emit(RefreshChoices(Msg(N_("checkin.unusual.ask")), self._unusual_choices()))

    def any_unusual(self) -> bool:
        return bool(self.value[1])

    def record_unusual(self) -> None:
        chosen = list(self.value[1])
        self.record("unusual", chosen)
        if chosen:
            self.show_choice(Lines(tuple(Msg(UNUSUAL[key]) for key in chosen)))
        else:
            self.show_choice(Msg(N_("checkin.unusual.none")))

    def has_pending_signs(self) -> bool:
        return bool(_pending_signs(self.ctx))

    # personal warning signs, one yes/no question each
    def on_enter_signs(self) -> None:
        sign_id = _pending_signs(self.ctx)[0]
        words = {int(i): str(t) for i, t in self.event.data.get("signs", [])}
        text = words.get(sign_id, "…")
        self.question(
            msg(N_("checkin.sign.ask"), sign=Raw(text)),
            (
                Choice(Msg(N_("checkin.sign.yes")), f"ci:sign:{sign_id}:1"),
                Choice(Msg(N_("checkin.sign.no")), f"ci:sign:{sign_id}:0"),
            ),
            2,
        )

    def parse_signs(self) -> Any:
        if self.event.kind != "choice" or not self.event.value.startswith("ci:sign:"):
            return None
        pending = _pending_signs(self.ctx)
        parts = self.event.value.split(":")
        if len(parts) != 4 or not pending or parts[2] != str(pending[0]) or parts[3] not in "01":
            return None
        return (int(parts[2]), parts[3] == "1")

    def more_signs_after_this(self) -> bool:
        return len(_pending_signs(self.ctx)) > 1

    def record_sign(self) -> None:
        sign_id, present = self.value
        self.emit(RecordAnswer(self.day, "sign", [sign_id, present]))
        self.ctx["signs_answered"] = [*self.ctx.get("signs_answered", []), sign_id]
        self.show_choice(Msg(N_("checkin.sign.yes")) if present else Msg(N_("checkin.sign.no")))

    # optional note
    def on_enter_note(self) -> None:
        self.ask(
            Msg(N_("checkin.note.ask")),
            (Choice(Msg(N_("checkin.note.skip")), "ci:note:skip"), TALK),
            2,
        )

    def parse_note(self) -> Any:
        return questions.parse_note(self.event, "ci:note:skip")

    def record_note(self) -> None:
        if self.value:
            self.emit(RecordAnswer(self.day, "note", self.value))
        else:
            self.show_choice(Msg(N_("checkin.note.skip")))

    def on_enter_done(self) -> None:
        self.emit(FinishCheckin(self.day))
        thanks = THANKS[date.fromisoformat(self.day).toordinal() % len(THANKS)]
        self.emit(Say(Msg(thanks), menu=True))
        card = coping.card_for_day(dict(self.ctx.get("answers", {})))
        if card is not None:  # one short, optional card; the tip can wait for another day
            self.emit(coping.offer(card))
        elif not _signs(self.ctx):
            self.emit(Say(Msg(N_("checkin.tip.warning_signs"))))
