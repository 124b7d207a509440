"""The flow engine: one shared ``transitions`` machine per flow, a throwaway model per event.

A machine is built once per flow class (``model=None``); for each event the saved state is
attached with ``add_model(model, initial=saved_state)``, the trigger runs, and the model is
removed again, so no per-person object outlives the event.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from itertools import pairwise
from typing import Any, ClassVar

from transitions import EventData, Machine, State

from flows.effects import Choice, Effect, FlowSnapshot, Say, ShowAnswer
from flows.people import Event, PersonView, Rules
from flows.text import Msg, Raw, Text


@dataclass(frozen=True, slots=True)
class Outcome:
    """What running a flow produced: the state to save and the effects to apply."""

    snapshot: FlowSnapshot
    effects: tuple[Effect, ...]
    handled: bool = True


class _Step(State):
    """A flow's state: a transition enters it through ``FlowModel.enter``, as starting and
    resuming a flow do. One way in, which a flow may override."""

    def enter(self, event_data: EventData) -> None:
        model = event_data.model
        assert isinstance(model, FlowModel)
        model.enter()


class _Machine(Machine):
    state_cls = _Step


class FlowModel:
    """The per-event model. Subclasses define states, transitions and their callbacks.

    Conventions used by ``Flow.handle``:
    - ``parse_<state>()`` turns ``self.event`` into ``self.value`` (``None`` when invalid);
    - the ``answer`` trigger moves on; transitions choose by conditions on ``self.value``;
    - ``on_enter_<state>`` callbacks ask the next question through ``self.ask``;
    - ``reask_<state>`` (optional) says what to do when no transition accepted the answer.
    A flow whose states share one way of asking and reading (a table of questions)
    overrides ``enter`` and ``parse`` instead of writing those methods for each state.
    """

    name: ClassVar[str]
    states: ClassVar[list[str]]
    transitions: ClassVar[list[dict[str, Any]]]
    initial: ClassVar[str]
    final: ClassVar[frozenset[str]] = frozenset()
    machine: ClassVar[Machine]

    state: str

    def __init__(self, person: PersonView, context: dict[str, object], event: Event, rules: Rules):
        self.person = person
        self.ctx: dict[str, Any] = dict(context)
        self.event = event
        self.rules = rules
        self.effects: list[Effect] = []
        self.value: Any = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "states" in cls.__dict__:
            cls.machine = _Machine(
                model=None,
                states=cls.states,
                transitions=cls.transitions,
                initial=cls.initial,
                auto_transitions=False,
                ignore_invalid_triggers=True,
                model_override=False,
            )

    # -- helpers for callbacks -------------------------------------------------------

    def emit(self, *effects: Effect) -> None:
        self.effects.extend(effects)

    def ask(self, text: Text, choices: tuple[Choice, ...] = (), columns: int = 1) -> None:
        self.effects.append(Say(text, choices, columns))

    def show_choice(self, label: Text) -> None:
        """Show the chosen answer in place of the buttons, when the answer was a button."""
        if self.event.kind == "choice":
            self.effects.append(ShowAnswer(label))

    def shown_answer(self) -> Text | None:
        """The answer as shown in place of the buttons it was chosen with (None: not shown)."""
        return None

    def keep_answer(self, key: str) -> None:
        """Store the parsed answer under ``key`` and show it in place of its buttons."""
        self.ctx[key] = self.value
        shown = self.shown_answer()
        if shown is not None:
            self.show_choice(shown)

    def is_valid(self) -> bool:
        return self.value is not None

    def update_data(self, key: str, value: Any) -> None:
        """Keep what the shell loaded in step with a change this event just made, so the
        next question shown already reflects it (the shell reloads it next time anyway)."""
        self.event = replace(self.event, data={**self.event.data, key: value})

    def enter(self) -> None:
        """Entering the current state: ask its question (``on_enter_<state>``)."""
        callback = getattr(self, f"on_enter_{self.state}", None)
        if callback is not None:
            callback()

    def parse(self) -> Any:
        """Read ``self.event`` as an answer to the current state's question (``parse_<state>``)."""
        parse = getattr(self, f"parse_{self.state}", None)
        return parse() if parse is not None else None

    def reask(self) -> None:
        """No transition accepted the answer: ask the current question again."""
        self.enter()

    @classmethod
    def entry_state(cls, context: dict[str, object]) -> str:
        """Where a flow starts; a flow that can be resumed picks its first unanswered step."""
        return cls.initial


class OneField(FlowModel):
    """A flow that changes one field of something: it starts at the field the context names
    (one of ``fields``; otherwise ``initial``) and keeps the answer as ``value``."""

    fields: ClassVar[Collection[str]] = ()

    @classmethod
    def entry_state(cls, context: dict[str, object]) -> str:
        field = context.get("field")
        return field if isinstance(field, str) and field in cls.fields else cls.initial

    def keep(self) -> None:
        self.keep_answer("value")


def move(
    source: str | list[str],
    dest: str | None,
    *conditions: str,
    before: str | None = None,
    after: str | None = None,
) -> dict[str, Any]:
    """A row of a flow's transition table: on an answer in ``source``, go to ``dest`` (``None``:
    stay, without entering the state again) when every condition holds, calling ``before``
    on the way and ``after`` on arrival. Rows are tried in order; the first that holds wins."""
    row: dict[str, Any] = {
        "trigger": "answer",
        "source": source,
        "dest": dest,
        "conditions": list(conditions),
    }
    if before is not None:
        row["before"] = before
    if after is not None:
        row["after"] = after
    return row


def in_order(*states: str, before: str = "keep") -> list[dict[str, Any]]:
    """Rows for questions asked one after another: a valid answer in each state moves to the
    next, calling ``before`` (which keeps the answer) on the way."""
    return [
        move(step, following, "is_valid", before=before) for step, following in pairwise(states)
    ]


def chose(value: str) -> Callable[[FlowModel], bool]:
    """A condition for a transition table: the answer is ``value`` (a menu's button)."""

    def condition(model: FlowModel) -> bool:
        return bool(model.value == value)

    return condition


def pressed(value: str) -> Callable[[FlowModel], bool]:
    """A condition for a transition table: the button carrying ``value`` was pressed (checked
    on the event itself, so it holds in any state: a cancel or back button)."""

    def condition(model: FlowModel) -> bool:
        return model.event.kind == "choice" and model.event.value == value

    return condition


def _enter(model: FlowModel) -> None:
    model.enter()


def _label_of(choices: tuple[Choice, ...], value: str) -> Text | None:
    for choice in choices:
        if choice.value == value:
            return choice.label
    return None


class Flow:
    """Runs one ``FlowModel`` subclass as a pure function of (state, context, event)."""

    def __init__(self, model_class: type[FlowModel]) -> None:
        self.model_class = model_class
        self.name = model_class.name

    def _with_model(
        self,
        state: str,
        person: PersonView,
        context: dict[str, object],
        event: Event,
        rules: Rules,
        act: Callable[[FlowModel], None],
    ) -> FlowModel:
        model = self.model_class(person, context, event, rules)
        machine = self.model_class.machine
        machine.add_model(model, initial=state)
        try:
            act(model)
        finally:
            machine.remove_model(model)
        return model

    def _outcome(self, model: FlowModel, handled: bool = True) -> Outcome:
        finished = model.state in self.model_class.final
        snapshot = FlowSnapshot() if finished else FlowSnapshot(self.name, model.state, model.ctx)
        return Outcome(snapshot, tuple(model.effects), handled)

    def start(
        self,
        person: PersonView,
        event: Event,
        rules: Rules,
        context: dict[str, object] | None = None,
    ) -> Outcome:
        """Enter the flow's first state and ask its question."""
        initial = self.model_class.entry_state(context or {})
        model = self._with_model(initial, person, context or {}, event, rules, _enter)
        return self._outcome(model)

    def handle(
        self, snapshot: FlowSnapshot, person: PersonView, event: Event, rules: Rules
    ) -> Outcome:
        """Feed one event to the flow at its saved state."""
        assert snapshot.state is not None
        state = snapshot.state

        def step(model: FlowModel) -> None:
            model.value = model.parse()
            moved = model.trigger("answer")  # type: ignore[attr-defined]
            if not moved:
                reask = getattr(model, f"reask_{state}", None)
                if reask is not None:
                    reask()
                else:
                    model.reask()

        return self._outcome(self._with_model(state, person, snapshot.context, event, rules, step))

    def resume(
        self, snapshot: FlowSnapshot, person: PersonView, event: Event, rules: Rules
    ) -> Outcome:
        """Ask the current question again (after /start, or when the person asks where they were)."""
        assert snapshot.state is not None
        model = self._with_model(snapshot.state, person, snapshot.context, event, rules, _enter)
        return self._outcome(model)


def choice_label(choices: tuple[Choice, ...], value: str) -> Text:
    """The label the person saw for ``value`` (for showing the answer in place)."""
    label = _label_of(choices, value)
    return label if label is not None else Raw(value)


__all__ = ["Flow", "FlowModel", "Msg", "Outcome", "choice_label", "chose", "move", "pressed"]
