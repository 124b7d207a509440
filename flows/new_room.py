"""Standing groups made and looked after in the chat (what ``tongban room create --weekly``,
``room invite`` and ``room close`` do on the command line).

``/newgroup``: a peer worker or supervisor gives the title, the weekday, the time (on the
program's clock), how long, and the leaders (themselves by default); a preview, then
✅ Create. ``/groups``: the rooms they lead (a supervisor: every open one), each with
➕ Invite and ✖ Close. Inviting asks for aliases of clients or relatives; an alias that
names nobody, several people or a staff member is an error that says so, and nobody is
invited (never a guess). Closing asks first. Only a room's leaders and supervisors may
invite or close; the shell checks this again on the room, locked, when it acts.

✏ Edit (a standing group only: an activity's room follows its activity) changes one thing
at a time with the same questions as ``/newgroup``; what a change does (members told of a
new time once, leaders moved) is the shell's, shared with ``tongban room edit``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time
from typing import Any, ClassVar

from flows.commands import parse_number
from flows.effects import (
    ChangeRoom,
    Choice,
    CreateRoom,
    Effect,
    InviteToRoom,
    Notice,
    RoomManagement,
    Say,
    ShowAnswer,
    Tell,
)
from flows.engine import FlowModel, OneField, in_order, move, pressed
from flows.facts import Fact, Need
from flows.new_activity import (
    MINUTE_BUTTONS,
    leaders_problem,
    read_aliases,
    read_leaders,
    read_minutes,
)
from flows.people import PersonView
from flows.roles import Role
from flows.rooms import Room
from flows.text import N_, Lines, Msg, Raw, msg

NAME = "newgroup"
INVITE = "groupinvite"
EDIT = "editgroup"
NEEDS = (
    Need(Fact.STAFF_ALIASES, flow=NAME, states=("leaders",)),
    Need(Fact.STAFF_ALIASES, flow=EDIT, states=("leaders",)),
)

STOP = Choice(Msg(N_("newroom.stop")), "group:stop")
STOP_INVITING = Choice(Msg(N_("newroom.invite.stop")), "group:stop")
CREATE = Choice(Msg(N_("newroom.create")), "group:create")
JUST_ME = Choice(Msg(N_("activity.new.just_me")), "lead:me")
KEEP_AS_IS = Choice(Msg(N_("newroom.edit.stop")), "group:stop")
# What ✏ Edit can change, in the order of its buttons: the question and its button's label.
FIELDS = {
    "title": N_("newroom.edit.title"),
    "day": N_("newroom.edit.day"),
    "time": N_("newroom.edit.time"),
    "minutes": N_("newroom.edit.minutes"),
    "leaders": N_("newroom.edit.leaders"),
}
DAYS = (
    N_("newroom.day.mon"),
    N_("newroom.day.tue"),
    N_("newroom.day.wed"),
    N_("newroom.day.thu"),
    N_("newroom.day.fri"),
    N_("newroom.day.sat"),
    N_("newroom.day.sun"),
)
CLOCK = re.compile(r"\s*(\d{1,2})[:：.](\d{2})\s*")
MAX_TITLE = 120
MAX_INVITED = 30  # aliases in one message


def read_clock(text: str) -> str | None:
    """``19:30`` (or ``19：30``, ``19.30``) as ``HH:MM``."""
    found = CLOCK.fullmatch(text)
    if found is None:
        return None
    hour, minute = int(found.group(1)), int(found.group(2))
    return f"{hour:02d}:{minute:02d}" if hour <= 23 and minute <= 59 else None


def meets(room: Room) -> Msg:
    """ "Every Tuesday at 7:30 PM (Asia/Shanghai), 90 minutes", or the activity's time."""
    if room.weekday is None or room.opens is None:
        assert room.starts_at is not None
        return msg(N_("newroom.meets_once"), when=room.starts_at, minutes=room.minutes)
    return msg(
        N_("newroom.meets_weekly"),
        day=Msg(DAYS[room.weekday]),
        time=room.opens,
        zone=Raw(room.zone),
        minutes=room.minutes,
    )


def leads(room: Room, person: PersonView) -> bool:
    return person.role == Role.SUPERVISOR or any(i == person.id for i, _ in room.leaders)


@dataclass(frozen=True, slots=True)
class Counts:
    """How many of a room's people are members (entered) and invited (not yet entered),
    leaders aside."""

    members: int = 0
    invited: int = 0


def standing(room: Room) -> bool:
    """A weekly group, not an online activity's room (which follows its activity)."""
    return room.weekday is not None and room.opens is not None


def card(room: Room, counts: Counts) -> Say:
    """A room's management message: what it is, who leads, how many are in; ➕ Invite,
    ✖ Close the group and, for a standing group, ✏ Edit."""
    leaders = " · ".join(alias for _, alias in room.leaders) or "—"
    text = Lines(
        (
            msg(N_("newroom.card"), title=Raw(room.title)),
            meets(room),
            msg(N_("newroom.card.leaders"), leaders=Raw(leaders)),
            msg(N_("newroom.card.people"), members=counts.members, invited=counts.invited),
        )
    )
    return Say(text, buttons(room), columns=2)


def buttons(room: Room) -> tuple[Choice, ...]:
    edit = (Choice(Msg(N_("newroom.edit")), f"/group {room.id} edit"),) if standing(room) else ()
    return (
        Choice(Msg(N_("newroom.invite")), f"/group {room.id} invite"),
        Choice(Msg(N_("newroom.close")), f"/group {room.id} close"),
        *edit,
    )


def listing(found: Sequence[tuple[Room, Counts]]) -> Say:
    """``/groups``: each open room the person leads (a supervisor: every one), numbered,
    with ➕ and ✖ buttons by number, a row each; then ✏ Edit by number for the standing
    groups."""
    if not found:
        return Say(Msg(N_("newroom.groups.none")), menu=True)
    lines: list[Msg] = [Msg(N_("newroom.groups.title"))]
    choices: list[Choice] = []
    edits: list[Choice] = []
    for number, (room, counts) in enumerate(found, 1):
        lines.append(
            msg(
                N_("newroom.groups.line"),
                number=number,
                title=Raw(room.title),
                members=counts.members,
                invited=counts.invited,
            )
        )
        lines.append(meets(room))
        choices.append(
            Choice(msg(N_("newroom.groups.invite"), number=number), f"/group {room.id} invite")
        )
        choices.append(
            Choice(msg(N_("newroom.groups.close"), number=number), f"/group {room.id} close")
        )
        if standing(room):
            label = msg(N_("newroom.groups.edit"), number=number)
            edits.append(Choice(label, f"/group {room.id} edit"))
    return Say(Lines(tuple(lines)), (*choices, *edits), columns=2)


def command(argument: str, via_button: bool) -> tuple[Effect, ...] | dict[str, object]:
    """``/group <id>`` (its management message), ``/group <id> close`` (asked first),
    ``closenow``, ``keep``, ``edit`` (what can change); ``/group <id> invite`` or
    ``/group <id> <field>`` starts a question (returned: the flow's context, with the
    ``field`` when it is a change)."""
    parts = argument.split()
    room_id = parse_number(parts[0]) if parts else None
    action = parts[1] if len(parts) == 2 else "show" if len(parts) == 1 else ""
    actions = ("show", "invite", "close", "closenow", "keep", "edit", *FIELDS)
    if room_id is None or action not in actions:
        return (Notice(Msg(N_("input.stale_button"))),)
    if action == "invite":
        return {"room": room_id}
    if action in FIELDS:
        return {"room": room_id, "field": action}
    if action == "keep":
        shown = (ShowAnswer(Msg(N_("newroom.close.no"))),) if via_button else ()
        return (*shown, Say(Msg(N_("newroom.close.kept"))))
    shown = (
        (ShowAnswer(Msg(N_("newroom.close.yes"))),) if via_button and action == "closenow" else ()
    )
    return (*shown, RoomManagement(action, room_id))


def refusal(room: Room | None, person: PersonView, editing: bool = False) -> Say | None:
    """Why this person cannot look after this room (``None``: they can); ``editing``: nor
    change it (an activity's room changes with its activity, /myactivities)."""
    if room is None:
        return Say(Msg(N_("newroom.gone")))
    if not leads(room, person):
        return Say(Msg(N_("room.leader.only")))
    if room.closed:
        return Say(msg(N_("newroom.closed_already"), title=Raw(room.title)))
    if editing and not standing(room):
        return Say(msg(N_("newroom.edit.activity"), title=Raw(room.title)))
    return None


def decide(
    action: str,
    room: Room | None,
    counts: Counts,
    person: PersonView,
    told: Sequence[int] = (),
) -> tuple[Effect, ...]:
    """A leader's tap on a room's button, on the room as the shell loaded it (locked):
    the management message, the question before closing, or what closing tells
    (``told``: the members and other leaders the shell closed it for)."""
    refused = refusal(room, person, editing=action == "edit")
    if refused is not None or room is None:
        return (refused or Say(Msg(N_("newroom.gone"))),)
    if action == "edit":
        return (editing(room),)
    if action == "close":
        ask = msg(N_("newroom.close.ask"), title=Raw(room.title))
        return (
            Say(
                ask,
                (
                    Choice(Msg(N_("newroom.close.yes")), f"/group {room.id} closenow"),
                    Choice(Msg(N_("newroom.close.no")), f"/group {room.id} keep"),
                ),
                columns=1,
            ),
        )
    if action == "closenow":
        bye = msg(N_("newroom.closed.told"), title=Raw(room.title))
        done = Say(msg(N_("newroom.closed.done"), title=Raw(room.title)), menu=True)
        return (*(Tell(to, bye) for to in told if to != person.id), done)
    return (card(room, counts),)


def editing(room: Room) -> Say:
    """✏ Edit: what the group is now, a button for each thing that can change."""
    leaders = " · ".join(alias for _, alias in room.leaders) or "—"
    text = Lines(
        (
            msg(N_("newroom.edit.ask"), title=Raw(room.title)),
            meets(room),
            msg(N_("newroom.card.leaders"), leaders=Raw(leaders)),
        )
    )
    choices = tuple(Choice(Msg(label), f"/group {room.id} {key}") for key, label in FIELDS.items())
    return Say(text, choices, columns=2)


def changed(room: Room, counts: Counts, told: int) -> tuple[Effect, ...]:
    """The leader's answer once a change is saved (``told``: members who will hear of a
    new time), then the management message as it now is."""
    saved = (
        msg(N_("newroom.edit.saved_told"), count=told) if told else Msg(N_("newroom.edit.saved"))
    )
    return (Say(saved), card(room, counts))


def leader_gone(room_id: int, alias: str) -> Say:
    """A leader typed stopped being a peer worker or supervisor (role or alias changed)
    after the answer was read and before it was saved: nothing changed; which alias it was,
    and the question again (never saved with a leader dropped or guessed)."""
    again = Choice(Msg(FIELDS["leaders"]), f"/group {room_id} leaders")
    return Say(msg(N_("newroom.edit.leader_gone"), alias=Raw(alias)), (again,))


def new_time(room: Room) -> Lines:
    """What a member is told, once, when their group's day, time or length changed."""
    return Lines((msg(N_("newroom.changed.told"), title=Raw(room.title)), meets(room)))


def no_longer_leading(room: Room) -> Msg:
    """What a leader taken off a standing group is told (they are out of its room)."""
    return msg(N_("newroom.leader.removed"), title=Raw(room.title))


def invited(
    room: Room, matches: Sequence[tuple[str, Sequence[Role]]], counts: Counts
) -> tuple[Effect, ...] | None:
    """What was wrong with the aliases typed (each with the roles of everyone it names),
    then the management message again; ``None``: each names one client or relative."""
    problems: list[Msg] = []
    for alias, roles in matches:
        if not roles:
            problems.append(msg(N_("newroom.invite.nobody"), alias=Raw(alias)))
        elif len(roles) > 1:
            problems.append(msg(N_("newroom.invite.several"), alias=Raw(alias)))
        elif roles[0] not in (Role.CLIENT, Role.FAMILY):
            problems.append(msg(N_("newroom.invite.not_client"), alias=Raw(alias)))
    if not problems:
        return None
    text = Lines((*problems, Msg(N_("newroom.invite.none_invited"))))
    return (Say(text), card(room, counts))


def invitations_sent(room: Room, new: int, counts: Counts) -> tuple[Effect, ...]:
    said = msg(N_("newroom.invite.sent"), count=new, title=Raw(room.title))
    return (Say(said), card(room, counts))


class GroupQuestions(FlowModel):
    """The questions making a group and changing one share: asked and read alike, each flow
    with its own stop button (``stop``) and its own title question."""

    stop: ClassVar[Choice]

    def shown_answer(self) -> Msg | Raw | None:
        """The answer in place of the buttons it was chosen with."""
        if self.state == "day":
            return Msg(DAYS[self.value])
        if self.state == "minutes":
            return Raw(str(self.value))
        if self.state == "leaders":
            return Raw(" · ".join(self.value))
        return None

    def parse_title(self) -> str | None:
        text = self.event.value.strip() if self.event.kind == "text" else ""
        return text if 0 < len(text) <= MAX_TITLE else None

    def on_enter_day(self) -> None:
        days = tuple(Choice(Msg(day), f"day:{number}") for number, day in enumerate(DAYS))
        self.ask(Msg(N_("newroom.day")), (*days, self.stop), 4)

    def parse_day(self) -> int | None:
        number = parse_number(self.event.value.removeprefix("day:"))
        is_day = self.event.kind == "choice" and number is not None and number < len(DAYS)
        return number if is_day else None

    def on_enter_time(self) -> None:
        self.ask(msg(N_("newroom.time"), zone=Raw(self.rules.program_zone)), (self.stop,))

    def parse_time(self) -> str | None:
        return read_clock(self.event.value) if self.event.kind == "text" else None

    def reask_time(self) -> None:
        if self.event.kind == "text":
            self.emit(Say(Msg(N_("newroom.time_invalid"))))
        self.enter()

    def on_enter_minutes(self) -> None:
        self.ask(Msg(N_("newroom.minutes")), (*MINUTE_BUTTONS, self.stop), 3)

    def parse_minutes(self) -> int | None:
        return read_minutes(self.event)

    def on_enter_leaders(self) -> None:
        self.ask(Msg(N_("newroom.leaders")), (JUST_ME, self.stop))

    def parse_leaders(self) -> list[str] | None:
        return read_leaders(self.event, self.person)

    def reask_leaders(self) -> None:
        if self.event.kind == "text":
            self.emit(Say(leaders_problem(self.event)))
        self.enter()


# The questions of /newgroup, in the order asked (the last shows the group to create).
QUESTIONS = ("title", "day", "time", "minutes", "leaders", "confirm")


class NewRoom(GroupQuestions):
    """``/newgroup``: title, weekday, time, length, leaders, then a preview to create."""

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

    stops = pressed("group:stop")

    def keep(self) -> None:
        self.keep_answer(self.state)

    def on_enter_title(self) -> None:
        self.ask(Msg(N_("newroom.title")), (STOP,))

    def _preview(self) -> Room:
        hour, minute = (int(part) for part in str(self.ctx["time"]).split(":"))
        return Room(
            id=0,
            title=str(self.ctx["title"]),
            zone=self.rules.program_zone,
            minutes=int(self.ctx["minutes"]),
            weekday=int(self.ctx["day"]),
            opens=time(hour, minute),
            leaders=tuple((0, alias) for alias in self.ctx["leaders"]),
        )

    def on_enter_confirm(self) -> None:
        room = self._preview()
        leaders = " · ".join(alias for _, alias in room.leaders)
        text = Lines(
            (
                Msg(N_("newroom.confirm")),
                msg(N_("newroom.card"), title=Raw(room.title)),
                meets(room),
                msg(N_("newroom.card.leaders"), leaders=Raw(leaders)),
            )
        )
        self.ask(text, (CREATE, STOP), 2)

    def parse_confirm(self) -> bool | None:
        return True if self.event.kind == "choice" and self.event.value == CREATE.value else None

    def on_enter_done(self) -> None:
        self.show_choice(CREATE.label)
        room = self._preview()
        assert room.weekday is not None and room.opens is not None
        self.emit(
            CreateRoom(
                room.title,
                room.weekday,
                f"{room.opens:%H:%M}",
                room.minutes,
                tuple(alias for _, alias in room.leaders),
            )
        )

    def on_enter_stopped(self) -> None:
        self.show_choice(STOP.label)
        self.emit(Say(Msg(N_("newroom.stopped")), menu=True))


class EditGroup(OneField, GroupQuestions):
    """``/group <id> <field>`` (✏ Edit's buttons): the new value, then saved, or nothing
    changes; the shell checks again, on the room locked, that the person may."""

    name = EDIT
    stop = KEEP_AS_IS
    initial = "title"
    fields = FIELDS
    states: ClassVar[list[str]] = [*FIELDS, "saved", "stopped"]
    final = frozenset({"saved", "stopped"})
    transitions: ClassVar[list[dict[str, Any]]] = [
        move("*", "stopped", "stops"),
        *(move(field, "saved", "is_valid", before="keep") for field in FIELDS),
    ]

    stops = pressed("group:stop")

    def on_enter_title(self) -> None:
        self.ask(Msg(N_("newroom.edit.title_ask")), (KEEP_AS_IS,))

    def on_enter_saved(self) -> None:
        room, value = int(self.ctx["room"]), self.ctx["value"]
        match self.ctx["field"]:
            case "title":
                change = ChangeRoom(room, title=str(value))
            case "day":
                change = ChangeRoom(room, weekday=int(value))
            case "time":
                change = ChangeRoom(room, opens=str(value))
            case "minutes":
                change = ChangeRoom(room, minutes=int(value))
            case _:
                change = ChangeRoom(room, leaders=tuple(value))
        self.emit(change)

    def on_enter_stopped(self) -> None:
        self.show_choice(KEEP_AS_IS.label)
        self.emit(Say(Msg(N_("newroom.edit.stopped")), menu=True))


class InviteToGroup(FlowModel):
    """➕ Invite: the aliases of the clients or relatives to invite, in one message."""

    name = INVITE
    initial = "aliases"
    states: ClassVar[list[str]] = ["aliases", "done", "stopped"]
    final = frozenset({"done", "stopped"})
    transitions: ClassVar[list[dict[str, Any]]] = [
        move("*", "stopped", "stops"),
        move("aliases", "done", "is_valid"),
    ]

    stops = pressed("group:stop")

    def on_enter_aliases(self) -> None:
        self.ask(Msg(N_("newroom.invite.ask")), (STOP_INVITING,))

    def parse_aliases(self) -> list[str] | None:
        typed = read_aliases(self.event)
        return typed if 0 < len(typed) <= MAX_INVITED else None

    def reask_aliases(self) -> None:
        if self.event.kind == "text":
            self.emit(Say(msg(N_("newroom.invite.invalid"), most=MAX_INVITED)))
        self.enter()

    def on_enter_done(self) -> None:
        self.emit(InviteToRoom(int(self.ctx["room"]), tuple(self.value)))

    def on_enter_stopped(self) -> None:
        self.show_choice(STOP_INVITING.label)
        self.emit(Say(Msg(N_("newroom.invite.stopped")), menu=True))


__all__ = [
    "EDIT",
    "FIELDS",
    "INVITE",
    "NAME",
    "Counts",
    "EditGroup",
    "GroupQuestions",
    "InviteToGroup",
    "NewRoom",
    "card",
    "changed",
    "command",
    "decide",
    "editing",
    "invitations_sent",
    "invited",
    "leader_gone",
    "listing",
    "new_time",
    "no_longer_leading",
    "standing",
]
