"""Measures people answer in the chat: WHO-5 wellbeing every four weeks (clients and
relatives who opted in) and a short working-alliance questionnaire every eight weeks (clients
who talked with the same peer worker at least twice in eight weeks). Buttons only, under a
minute. Each can be declined, snoozed and stopped; nothing is asked in quiet hours, within a
day of a crisis, while a worker holds the chat, or while the person paused the bot.

Which questionnaire and why: docs/measures.md (WHO-5 is free to use; the WAI-SR is
copyrighted and its terms do not clearly allow this use, so the alliance items are the
project's own, on Bordin's goal, task and bond).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from flows.effects import Choice, RecordMeasure, Say, SetMeasure
from flows.engine import FlowModel, move, pressed
from flows.escalation import Party
from flows.people import PersonView, Rules
from flows.roles import Role
from flows.schedule import next_daily
from flows.text import N_, Lines, Msg, Raw, msg

WHO5, ALLIANCE = "who5", "alliance"


@dataclass(frozen=True, slots=True)
class Measure:
    key: str
    title: str  # message id
    intro: str  # message id: what it is, how long, that it can be stopped
    items: tuple[str, ...]  # message ids
    scale: tuple[tuple[int, str], ...]  # (value, label id), in the order shown
    every: timedelta
    roles: frozenset[Role]


WHO5_MEASURE = Measure(
    WHO5,
    N_("measure.who5.title"),
    N_("measure.who5.intro"),
    (
        N_("measure.who5.item1"),
        N_("measure.who5.item2"),
        N_("measure.who5.item3"),
        N_("measure.who5.item4"),
        N_("measure.who5.item5"),
    ),
    (
        (5, N_("measure.who5.all")),
        (4, N_("measure.who5.most")),
        (3, N_("measure.who5.more_than_half")),
        (2, N_("measure.who5.less_than_half")),
        (1, N_("measure.who5.some")),
        (0, N_("measure.who5.none")),
    ),
    timedelta(weeks=4),
    frozenset({Role.CLIENT, Role.FAMILY}),
)
ALLIANCE_MEASURE = Measure(
    ALLIANCE,
    N_("measure.alliance.title"),
    N_("measure.alliance.intro"),
    (
        N_("measure.alliance.goal"),
        N_("measure.alliance.task"),
        N_("measure.alliance.bond"),
    ),
    (
        (1, N_("measure.alliance.never")),
        (2, N_("measure.alliance.rarely")),
        (3, N_("measure.alliance.sometimes")),
        (4, N_("measure.alliance.often")),
        (5, N_("measure.alliance.always")),
    ),
    timedelta(weeks=8),
    frozenset({Role.CLIENT}),
)
MEASURES = {m.key: m for m in (WHO5_MEASURE, ALLIANCE_MEASURE)}

ALLIANCE_WINDOW = timedelta(weeks=8)
ALLIANCE_MIN_CHATS = 2
AFTER_CRISIS = timedelta(days=1)
SNOOZE = timedelta(days=3)
# WHO-5 percentage at or under which a person is offered someone to talk to (the usual
# screening cut-off for likely depression: never a diagnosis, only an offer).
LOW_WELLBEING = 28


def score(measure: str, answers: tuple[int, ...]) -> int:
    """WHO-5: the raw sum times four (0–100). Alliance: the mean on 1–5, times 20 (20–100)."""
    if measure == WHO5:
        return sum(answers) * 4
    return round(sum(answers) * 20 / len(answers)) if answers else 0


def measures_for(role: Role) -> tuple[Measure, ...]:
    return tuple(m for m in MEASURES.values() if role in m.roles)


# -- the settings: /measures -------------------------------------------------------------------


def overview(person: PersonView, status: dict[str, str]) -> Say:
    """Each measure this person may answer, whether it is on, and a button to change it."""
    lines: list[Msg | Raw] = [Msg(N_("measures.heading"))]
    choices: list[Choice] = []
    for measure in measures_for(person.role):
        state = status.get(measure.key, "off")
        lines.append(
            msg(
                N_("measures.line"),
                title=Msg(measure.title),
                weeks=measure.every.days // 7,
                state=Msg(N_("measures.on") if state == "on" else N_("measures.off")),
            )
        )
        if state == "on":
            choices.append(
                Choice(
                    msg(N_("measures.stop"), title=Msg(measure.title)),
                    f"/measure {measure.key} stop",
                )
            )
        else:
            choices.append(
                Choice(
                    msg(N_("measures.start"), title=Msg(measure.title)),
                    f"/measure {measure.key} on",
                )
            )
    lines.append(Msg(N_("measures.privacy")))
    return Say(Lines(tuple(lines)), tuple(choices))


def command(person: PersonView, argument: str) -> tuple[Any, ...] | None:
    """``/measure <key> on|stop|later``: opt in (and offer the first one now), stop, snooze.
    ``/measure <key> start [worker]`` is answered by starting the questionnaire (the caller);
    None means "start it"."""
    parts = argument.split()
    measure = MEASURES.get(parts[0]) if parts else None
    if measure is None or person.role not in measure.roles or len(parts) < 2:
        return ()
    action = parts[1]
    if action == "on":
        return (
            SetMeasure(measure.key, "on", measure.every),
            Say(
                msg(
                    N_("measures.turned_on"),
                    title=Msg(measure.title),
                    weeks=measure.every.days // 7,
                ),
                (Choice(Msg(N_("measure.start_now")), f"/measure {measure.key} start"),)
                if measure.key == WHO5
                else (),
            ),
        )
    if action == "stop":
        return (
            SetMeasure(measure.key, "declined", None),
            Say(msg(N_("measures.turned_off"), title=Msg(measure.title))),
        )
    if action == "later":
        return (
            SetMeasure(measure.key, "on", SNOOZE),
            Say(Msg(N_("measure.later"))),
        )
    if action == "start":
        return None
    return ()


# -- the clock ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeasureDue:
    """A due row of ``measure_schedule`` with what deciding it needs."""

    measure: str
    person: PersonView
    now: datetime
    last_crisis: datetime | None = None
    held: bool = False
    blocked: bool = False
    partner: Party | None = None  # alliance: the worker they talked with most, twice or more


@dataclass(frozen=True, slots=True)
class MeasureTimed:
    effects: tuple[Say, ...]
    due: datetime


def decide(due: MeasureDue, rules: Rules) -> MeasureTimed:
    """Ask now, or say when to look again: after quiet hours, a day after a crisis, tomorrow
    while paused or talking with a worker, next week while no worker qualifies."""
    person, now = due.person, due.now
    measure = MEASURES[due.measure]
    local = now.astimezone(ZoneInfo(person.timezone)).time()
    if due.blocked or person.paused or due.held:
        return MeasureTimed((), now + timedelta(days=1))
    if due.last_crisis is not None and now - due.last_crisis < AFTER_CRISIS:
        return MeasureTimed((), due.last_crisis + AFTER_CRISIS)
    if rules.is_quiet(local):
        return MeasureTimed((), next_daily(rules.quiet_end, person.timezone, now))
    if measure.key == ALLIANCE:
        if due.partner is None:
            return MeasureTimed((), now + timedelta(weeks=1))
        start = f"/measure {measure.key} start {due.partner.id}"
        intro = msg(measure.intro, worker=Raw(due.partner.alias))
    else:
        start = f"/measure {measure.key} start"
        intro = Msg(measure.intro)
    return MeasureTimed(
        (
            Say(
                intro,
                (
                    Choice(Msg(N_("measure.start")), start),
                    Choice(Msg(N_("measure.not_now")), f"/measure {measure.key} later"),
                    Choice(Msg(N_("measure.stop_asking")), f"/measure {measure.key} stop"),
                ),
            ),
        ),
        now + measure.every,
    )


# -- the questionnaire ------------------------------------------------------------------------------


class Questionnaire(FlowModel):
    """One item a message, one tap an answer; "Stop" keeps nothing."""

    name = "measure"
    initial = "item"
    states: ClassVar[list[str]] = ["item", "done", "stopped"]
    final = frozenset({"done", "stopped"})
    transitions: ClassVar[list[dict[str, Any]]] = [
        move("*", "stopped", "stops"),
        move("item", "item", "is_valid", "more_items", before="record"),
        move("item", "done", "is_valid", before="record"),
    ]

    stops = pressed("ms:stop")

    @property
    def measure(self) -> Measure:
        return MEASURES[str(self.ctx["measure"])]

    def on_enter_item(self) -> None:
        measure = self.measure
        index = len(self.ctx.get("answers", []))
        header: list[Msg | Raw] = []
        if index == 0:
            header.append(
                Msg(
                    N_("measure.who5.frame")
                    if measure.key == WHO5
                    else N_("measure.alliance.frame")
                )
            )
        header.append(Raw(f"({index + 1}/{len(measure.items)})"))
        header.append(Msg(measure.items[index]))
        self.ask(
            Lines(tuple(header)),
            (
                *(Choice(Msg(label), f"ms:{value}") for value, label in measure.scale),
                Choice(Msg(N_("measure.stop_now")), "ms:stop"),
            ),
            2,
        )

    def parse_item(self) -> int | None:
        if self.event.kind != "choice" or not self.event.value.startswith("ms:"):
            return None
        raw = self.event.value.removeprefix("ms:")
        values = {str(value): value for value, _ in self.measure.scale}
        return values.get(raw)

    def more_items(self) -> bool:
        return len(self.ctx.get("answers", [])) + 1 < len(self.measure.items)

    def record(self) -> None:
        labels = dict(self.measure.scale)
        self.show_choice(Msg(labels[self.value]))
        self.ctx["answers"] = [*self.ctx.get("answers", []), self.value]

    def on_enter_done(self) -> None:
        measure = self.measure
        answers = tuple(int(a) for a in self.ctx.get("answers", []))
        worker = self.ctx.get("worker")
        self.emit(RecordMeasure(measure.key, answers, int(worker) if worker else None))
        if measure.key == WHO5:
            value = score(WHO5, answers)
            lines: list[Msg | Raw] = [msg(N_("measure.who5.thanks"), score=value)]
            if value <= LOW_WELLBEING:
                lines.append(Msg(N_("measure.who5.low")))
                self.emit(Say(Lines(tuple(lines)), (Choice(Msg(N_("menu.talk")), "/talk"),)))
            else:
                self.emit(Say(Lines(tuple(lines))))
        else:
            self.emit(Say(Msg(N_("measure.alliance.thanks"))))

    def on_enter_stopped(self) -> None:
        self.show_choice(Msg(N_("measure.stop_now")))
        self.emit(Say(Msg(N_("measure.stopped"))))


__all__ = [
    "ALLIANCE",
    "MEASURES",
    "WHO5",
    "MeasureDue",
    "MeasureTimed",
    "Questionnaire",
    "command",
    "decide",
    "measures_for",
    "overview",
    "score",
]
