"""/newactivity: a peer worker or supervisor announces an activity in the chat, one short
question at a time (what ``tongban activity create`` does on the command line)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

from flows.activities import (
    AUDIENCE_TEXT,
    KINDS,
    MAX_CAPACITY,
    MAX_PLACE,
    MAX_TITLE,
    MINUTES,
    Activity,
    Draft,
    card,
)
from flows.commands import parse_number
from flows.effects import Choice, CreateActivity, Say
from flows.engine import FlowModel, in_order, move, pressed
from flows.facts import Fact, Need
from flows.people import Event, PersonView
from flows.roles import STAFF
from flows.schedule import at_local
from flows.text import LANGUAGE_NAMES, N_, Lines, Msg, Raw, msg

NAME = "newactivity"
NEEDS = (Need(Fact.STAFF_ALIASES, flow=NAME, states=("leaders",)),)

STOP = Choice(Msg(N_("activity.new.stop")), "new:stop")
MINUTE_CHOICES = (60, 90, 120)
CAPACITY_CHOICES = (8, 12, 20)
MOMENT = re.compile(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})\s+(\d{1,2})[:：](\d{2})\s*")
MINUTE_BUTTONS = tuple(Choice(Raw(str(m)), f"min:{m}") for m in MINUTE_CHOICES)
CAPACITY_BUTTONS = tuple(Choice(Raw(str(n)), f"cap:{n}") for n in CAPACITY_CHOICES)
ONLINE = Choice(Msg(N_("activity.online")), "place:online")


# -- reading an answer (shared with changing an activity, flows.activity_changes) ------------


def read_title(event: Event) -> str | None:
    text = event.value.strip() if event.kind == "text" else ""
    return text if 0 < len(text) <= MAX_TITLE else None


def read_when(event: Event, zone: str) -> str | None:
    """``YYYY-MM-DD HH:MM`` on the program's clock, still ahead: the moment in ISO form."""
    found = MOMENT.fullmatch(event.value) if event.kind == "text" else None
    if found is None:
        return None
    year, month, day, hour, minute = (int(part) for part in found.groups())
    try:
        local = datetime(year, month, day, hour, minute)
    except ValueError:
        return None
    moment = at_local(local.date(), local.time(), zone)
    assert event.now is not None
    return moment.isoformat() if moment > event.now else None


def read_minutes(event: Event) -> int | None:
    number = parse_number(event.value.removeprefix("min:").strip())
    return number if number is not None and number in MINUTES else None


def read_place(event: Event) -> str | None:
    """An address, or "" for online."""
    if event.kind == "choice" and event.value == "place:online":
        return ""
    text = event.value.strip() if event.kind == "text" else ""
    return text if 0 < len(text) <= MAX_PLACE else None


def match_leaders(typed: str, staff_aliases: Iterable[str]) -> list[str] | Msg:
    """The aliases typed (separated by commas or spaces), as the staff spell them; never a
    guess: an alias that is nobody's, or that could be more than one person's (they differ
    only in case or width), is an explicit error."""
    known: dict[str, list[str]] = {}
    for alias in staff_aliases:
        known.setdefault(alias.casefold(), []).append(alias)
    parts = [part for part in re.split(r"[\s,，、;；]+", typed) if part]
    if not parts:
        return Msg(N_("activity.new.unknown_leaders"))
    chosen: list[str] = []
    for part in parts:
        matches = known.get(part.casefold(), [])
        if part in matches:
            matches = [part]
        if not matches:
            return msg(N_("activity.leaders.nobody"), alias=part)
        if len(matches) > 1:
            return msg(N_("activity.leaders.several"), alias=part)
        chosen.append(matches[0])
    return list(dict.fromkeys(chosen))


def read_capacity(event: Event) -> int | None:
    number = parse_number(event.value.removeprefix("cap:").strip())
    return number if number is not None and 1 <= number <= MAX_CAPACITY else None


def read_aliases(event: Event) -> list[str]:
    """Aliases typed in one message, separated by spaces or commas (any script's)."""
    text = event.value if event.kind == "text" else ""
    return list(dict.fromkeys(part for part in re.split(r"[\s,，、;；]+", text) if part))


def read_leaders(event: Event, person: PersonView) -> list[str] | None:
    """Aliases of peer workers or supervisors, as they are spelt (the shell looked up every
    staff alias; :func:`match_leaders` says why not), or the person's own (``lead:me``)."""
    if event.kind == "choice" and event.value == "lead:me":
        return [person.alias or "?"] if person.role in STAFF else None
    if event.kind != "text":
        return None
    found = match_leaders(event.value, event.data.get("staff_aliases", ()))
    return found if isinstance(found, list) else None


def leaders_problem(event: Event) -> Msg:
    """Why the leaders typed could not be read (an alias that is nobody's or several's)."""
    found = match_leaders(event.value, event.data.get("staff_aliases", ()))
    return found if isinstance(found, Msg) else Msg(N_("activity.new.unknown_leaders"))


class ActivityQuestions(FlowModel):
    """The questions announcing an activity and changing one share: asked and read alike,
    each flow with its own stop button (``stop``)."""

    stop: ClassVar[Choice]

    def parse_title(self) -> str | None:
        return read_title(self.event)

    def on_enter_when(self) -> None:
        self.ask(msg(N_("activity.new.when"), zone=self.rules.program_zone), (self.stop,))

    def parse_when(self) -> str | None:
        return read_when(self.event, self.rules.program_zone)

    def reask_when(self) -> None:
        self.emit(Say(Msg(N_("activity.new.when_invalid"))))
        self.enter()

    def on_enter_minutes(self) -> None:
        self.ask(Msg(N_("activity.new.minutes")), (*MINUTE_BUTTONS, self.stop), 3)

    def parse_minutes(self) -> int | None:
        return read_minutes(self.event)

    def on_enter_place(self) -> None:
        self.ask(Msg(N_("activity.new.place")), (ONLINE, self.stop))

    def parse_place(self) -> str | None:
        return read_place(self.event)

    def on_enter_capacity(self) -> None:
        self.ask(Msg(N_("activity.new.capacity")), (*CAPACITY_BUTTONS, self.stop), 3)

    def parse_capacity(self) -> int | None:
        return read_capacity(self.event)

    def shown_answer(self) -> Msg | Raw | None:
        """The answer in place of the buttons it was chosen with."""
        if self.state == "kind":
            return Msg(KINDS[self.value])
        if self.state == "audience":
            return Msg(AUDIENCE_TEXT[self.value])
        if self.state == "language":
            return Raw(LANGUAGE_NAMES[self.value])
        if self.state == "place" and self.value == "":
            return Msg(N_("activity.online"))
        if self.state == "leaders":
            return Raw(" · ".join(self.value))
        if self.state in ("minutes", "capacity"):
            return Raw(str(self.value))
        return None

    def on_enter_kind(self) -> None:
        choices = tuple(Choice(Msg(label), f"kind:{key}") for key, label in KINDS.items())
        self.ask(Msg(N_("activity.new.kind")), (*choices, self.stop), 2)

    def parse_kind(self) -> str | None:
        key = self.event.value.removeprefix("kind:") if self.event.kind == "choice" else ""
        return key if key in KINDS else None

    def on_enter_audience(self) -> None:
        choices = tuple(Choice(Msg(label), f"aud:{key}") for key, label in AUDIENCE_TEXT.items())
        self.ask(Msg(N_("activity.new.audience")), (*choices, self.stop))

    def parse_audience(self) -> str | None:
        key = self.event.value.removeprefix("aud:") if self.event.kind == "choice" else ""
        return key if key in AUDIENCE_TEXT else None

    def on_enter_language(self) -> None:
        choices = tuple(Choice(Raw(name), f"lang:{key}") for key, name in LANGUAGE_NAMES.items())
        self.ask(Msg(N_("activity.new.language")), (*choices, self.stop), 3)

    def parse_language(self) -> str | None:
        key = self.event.value.removeprefix("lang:") if self.event.kind == "choice" else ""
        return key if key in LANGUAGE_NAMES else None

    def on_enter_leaders(self) -> None:
        """ "Just me" only for someone who can lead (an admin changing one cannot)."""
        just_me = Choice(Msg(N_("activity.new.just_me")), "lead:me")
        if self.person.role in STAFF:
            self.ask(Msg(N_("activity.new.leaders")), (just_me, self.stop))
        else:
            self.ask(Msg(N_("activity.leaders.ask")), (self.stop,))

    def parse_leaders(self) -> list[str] | None:
        return read_leaders(self.event, self.person)

    def reask_leaders(self) -> None:
        if self.event.kind == "text":
            self.emit(Say(leaders_problem(self.event)))
        self.enter()


# The questions of /newactivity, in the order asked (the last shows what will be announced).
QUESTIONS = (
    "title",
    "kind",
    "when",
    "minutes",
    "place",
    "capacity",
    "audience",
    "language",
    "leaders",
    "confirm",
)


class NewActivity(ActivityQuestions):
    name = NAME
    stop = STOP
    initial = "title"
    states: ClassVar[list[str]] = [*QUESTIONS, "done", "stopped"]
    final = frozenset({"done", "stopped"})
    transitions: ClassVar[list[dict[str, Any]]] = [
        move("*", "stopped", "stops"),
        *in_order(*QUESTIONS),
        move("confirm", "done", "is_valid"),
    ]

    stops = pressed("new:stop")

    def keep(self) -> None:
        self.keep_answer(self.state)

    # -- the questions --------------------------------------------------------------------

    def on_enter_title(self) -> None:
        self.ask(Msg(N_("activity.new.title")), (STOP,))

    def on_enter_confirm(self) -> None:
        self.ask(
            Lines(
                (
                    Msg(N_("activity.new.confirm")),
                    *card(self._preview(), zone=self.rules.program_zone).parts,
                )
            ),
            (Choice(Msg(N_("activity.new.announce")), "new:announce"), STOP),
            2,
        )

    def parse_confirm(self) -> bool | None:
        return True if self.event.kind == "choice" and self.event.value == "new:announce" else None

    def _draft(self) -> Draft:
        return Draft(
            title=str(self.ctx["title"]),
            kind=str(self.ctx["kind"]),
            starts_at=datetime.fromisoformat(str(self.ctx["when"])),
            minutes=int(self.ctx["minutes"]),
            place=str(self.ctx["place"]),
            online=self.ctx["place"] == "",
            capacity=int(self.ctx["capacity"]),
            audience=str(self.ctx["audience"]),
            language=str(self.ctx["language"]),
            leaders=tuple(self.ctx["leaders"]),
        )

    def _preview(self) -> Activity:
        draft = self._draft()
        return Activity(
            id=0,
            title=draft.title,
            kind=draft.kind,
            starts_at=draft.starts_at,
            minutes=draft.minutes,
            place=draft.place,
            online=draft.online,
            capacity=draft.capacity,
            audience=draft.audience,
            language=draft.language,
            leaders=tuple((0, alias) for alias in draft.leaders),
        )

    def on_enter_done(self) -> None:
        self.show_choice(Msg(N_("activity.new.announce")))
        self.emit(CreateActivity(self._draft()))

    def on_enter_stopped(self) -> None:
        self.show_choice(Msg(N_("activity.new.stop")))
        self.emit(Say(Msg(N_("activity.new.stopped"))))
