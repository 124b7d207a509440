"""The daily check-in: one short question per message, buttons first, every answer saved at once.

Questions: mood, sleep, medication (and side effects when taken), unusual experiences (and
how distressing), contact with people, stress, the client's own warning signs, then an
optional note. "Not now" stops at any point and keeps what was answered; /checkin later
the same local day resumes at the first unanswered question. After local midnight the
check-in is closed and kept as partial.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from flows.effects import Choice, FinishCheckin, RecordAnswer, RefreshChoices, Say
from flows.engine import FlowModel, move
from flows.facts import Fact, Need
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

MOOD = (
    (1, N_("checkin.mood.1")),
    (2, N_("checkin.mood.2")),
    (3, N_("checkin.mood.3")),
    (4, N_("checkin.mood.4")),
    (5, N_("checkin.mood.5")),
)
SLEEP = (
    (-2, N_("checkin.sleep.much_less")),
    (-1, N_("checkin.sleep.less")),
    (0, N_("checkin.sleep.usual")),
    (1, N_("checkin.sleep.more")),
    (2, N_("checkin.sleep.much_more")),
)
MEDICATION = (
    ("taken", N_("checkin.medication.taken")),
    ("partly", N_("checkin.medication.partly")),
    ("not_taken", N_("checkin.medication.not_taken")),
    ("not_prescribed", N_("checkin.medication.not_prescribed")),
)
SIDE_EFFECTS = (
    (0, N_("checkin.side_effects.no")),
    (1, N_("checkin.side_effects.a_little")),
    (2, N_("checkin.side_effects.a_lot")),
)
UNUSUAL = (
    ("voices", N_("checkin.unusual.voices")),
    ("watched", N_("checkin.unusual.watched")),
    ("racing", N_("checkin.unusual.racing")),
    ("other", N_("checkin.unusual.other")),
)
DISTRESS = (
    (0, N_("checkin.distress.0")),
    (1, N_("checkin.distress.1")),
    (2, N_("checkin.distress.2")),
    (3, N_("checkin.distress.3")),
)
CONTACT = (
    (0, N_("checkin.contact.0")),
    (1, N_("checkin.contact.1")),
    (2, N_("checkin.contact.2")),
)
STRESS = (
    (0, N_("checkin.stress.0")),
    (1, N_("checkin.stress.1")),
    (2, N_("checkin.stress.2")),
    (3, N_("checkin.stress.3")),
)
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


def _choices(field: str, options: tuple[tuple[Any, str], ...]) -> tuple[Choice, ...]:
    return tuple(Choice(Msg(label), f"ci:{field}:{value}") for value, label in options)


def _parse(value: str, field: str, options: tuple[tuple[Any, str], ...]) -> Any:
    prefix = f"ci:{field}:"
    if not value.startswith(prefix):
        return None
    raw = value.removeprefix(prefix)
    for option, _ in options:
        if str(option) == raw:
            return option
    return None


def _label(options: tuple[tuple[Any, str], ...], value: Any) -> Msg:
    return Msg(dict(options)[value])


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
        _step("mood", "sleep", record="record_mood"),
        _step("sleep", "medication", record="record_sleep"),
        _step("medication", "side_effects", "takes_medication", record="record_medication"),
        _step("medication", "unusual", record="record_medication"),
        _step("side_effects", "unusual", record="record_side_effects"),
        move("unusual", None, "is_valid", "is_toggle", after="toggle_unusual"),
        _step("unusual", "distress", "any_unusual", record="record_unusual"),
        _step("unusual", "contact", record="record_unusual"),
        _step("distress", "contact", record="record_distress"),
        _step("contact", "stress", record="record_contact"),
        _step("stress", "signs", "has_pending_signs", record="record_stress"),
        _step("stress", "note", record="record_stress"),
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

    def wants_to_stop(self) -> bool:
        return self.event.kind == "choice" and self.event.value == "ci:stop"

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

    def on_enter_mood(self) -> None:
        self.question(Msg(N_("checkin.mood.ask")), _choices("mood", MOOD))

    def parse_mood(self) -> Any:
        return _parse(self.event.value, "mood", MOOD) if self.event.kind == "choice" else None

    def record_mood(self) -> None:
        self.record("mood", self.value, _label(MOOD, self.value))

    def on_enter_sleep(self) -> None:
        self.question(Msg(N_("checkin.sleep.ask")), _choices("sleep", SLEEP))

    def parse_sleep(self) -> Any:
        return _parse(self.event.value, "sleep", SLEEP) if self.event.kind == "choice" else None

    def record_sleep(self) -> None:
        self.record("sleep", self.value, _label(SLEEP, self.value))

    def on_enter_medication(self) -> None:
        self.question(Msg(N_("checkin.medication.ask")), _choices("medication", MEDICATION), 2)

    def parse_medication(self) -> Any:
        if self.event.kind != "choice":
            return None
        return _parse(self.event.value, "medication", MEDICATION)

    def takes_medication(self) -> bool:
        return self.value in ("taken", "partly")

    def record_medication(self) -> None:
        self.record("medication", self.value, _label(MEDICATION, self.value))

    def on_enter_side_effects(self) -> None:
        self.question(Msg(N_("checkin.side_effects.ask")), _choices("side_effects", SIDE_EFFECTS))

    def parse_side_effects(self) -> Any:
        if self.event.kind != "choice":
            return None
        return _parse(self.event.value, "side_effects", SIDE_EFFECTS)

    def record_side_effects(self) -> None:
        self.record("side_effects", self.value, _label(SIDE_EFFECTS, self.value))

    # unusual experiences: a multi-select; each tap toggles, "Done" or "None" moves on
    def _unusual_choices(self) -> tuple[Choice, ...]:
        selected = set(self.ctx.get("unusual", []))
        toggles = tuple(
            Choice(
                msg(N_("checkin.unusual.selected"), item=Msg(label))
                if key in selected
                else Msg(label),
                f"ci:u:{key}",
            )
            for key, label in UNUSUAL
        )
        finish = (
            Choice(Msg(N_("checkin.unusual.done")), "ci:u:done")
            if selected
            else Choice(Msg(N_("checkin.unusual.none")), "ci:u:none")
        )
        return (*toggles, finish, STOP, TALK)

    def on_enter_unusual(self) -> None:
        self.ask(Msg(N_("checkin.unusual.ask")), self._unusual_choices())

    def parse_unusual(self) -> Any:
        if self.event.kind != "choice" or not self.event.value.startswith("ci:u:"):
            return None
        key = self.event.value.removeprefix("ci:u:")
        if key in dict(UNUSUAL):
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
            self.show_choice(Lines(tuple(Msg(dict(UNUSUAL)[key]) for key in chosen)))
        else:
            self.show_choice(Msg(N_("checkin.unusual.none")))

    def on_enter_distress(self) -> None:
        self.question(Msg(N_("checkin.distress.ask")), _choices("distress", DISTRESS))

    def parse_distress(self) -> Any:
        return (
            _parse(self.event.value, "distress", DISTRESS) if self.event.kind == "choice" else None
        )

    def record_distress(self) -> None:
        self.record("distress", self.value, _label(DISTRESS, self.value))

    def on_enter_contact(self) -> None:
        self.question(Msg(N_("checkin.contact.ask")), _choices("contact", CONTACT))

    def parse_contact(self) -> Any:
        return _parse(self.event.value, "contact", CONTACT) if self.event.kind == "choice" else None

    def record_contact(self) -> None:
        self.record("contact", self.value, _label(CONTACT, self.value))

    def on_enter_stress(self) -> None:
        self.question(Msg(N_("checkin.stress.ask")), _choices("stress", STRESS))

    def parse_stress(self) -> Any:
        return _parse(self.event.value, "stress", STRESS) if self.event.kind == "choice" else None

    def record_stress(self) -> None:
        self.record("stress", self.value, _label(STRESS, self.value))

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
        if self.event.kind == "choice" and self.event.value == "ci:note:skip":
            return ""
        if self.event.kind == "text" and self.event.value.strip():
            return self.event.value.strip()
        return None

    def record_note(self) -> None:
        if self.value:
            self.emit(RecordAnswer(self.day, "note", self.value))
        else:
            self.show_choice(Msg(N_("checkin.note.skip")))

    def on_enter_done(self) -> None:
        self.emit(FinishCheckin(self.day))
        thanks = THANKS[date.fromisoformat(self.day).toordinal() % len(THANKS)]
        self.emit(Say(Msg(thanks), menu=True))
        if not _signs(self.ctx):
            self.emit(Say(Msg(N_("checkin.tip.warning_signs"))))
