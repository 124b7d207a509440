"""Group rooms: online peer-support groups held through the bot, the bot being the room.

A Telegram group would show members' names and accounts to one another; here each member
talks to the bot in their own chat, and what they write in the room is copied to every
other member present, under their group alias (Fan et al. 2018's groups, online). A room
belongs to an online activity (open while it runs) or is a standing group that meets every
week (open then, in the program's zone).

Everything here is pure. The shell loads the person's rooms (``Fact.ROOMS``: one
:class:`Membership` each) and, for a message to the room, who is present
(:func:`copies`); it applies what these functions return. Being *present* means being in
the ``room`` flow of that room (``/room``); a member busy with a check-in is not sent the
room's messages, and their own messages go to the bot, never to the room by surprise.

Safety first: crisis language written in the room is not passed on. The crisis reply has
already gone to the writer (the dispatcher sends it before anything else), an urgent
escalation is open, and each leader is told that the member needs support.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from flows import desk
from flows.commands import parse_number
from flows.effects import (
    Choice,
    EditInRoom,
    Effect,
    FlowSnapshot,
    PostToRoom,
    RoomHeldBack,
    RoomRequest,
    Say,
    Tell,
    UpdateMembership,
    WithdrawFromRoom,
)
from flows.engine import Flow, FlowModel, Outcome, move, pressed
from flows.facts import Fact, Need
from flows.people import Event, PersonView, Rules
from flows.questions import parse_alias
from flows.roles import STAFF
from flows.schedule import at_local, local_date
from flows.text import N_, Lines, Msg, Raw, Text, msg

NAME = "room"
NEEDS = (
    Need(Fact.ROOMS, commands=("room", "help")),
    Need(Fact.ROOMS, flow=NAME),
    Need(Fact.EDITED_ROOM, kinds=("edited",), anywhere=True),
)

INVITED, MEMBER, LEFT, REMOVED = "invited", "member", "left", "removed"
STATES = (INVITED, MEMBER, LEFT, REMOVED)
KINDS = ("text", "photo", "sticker", "voice")
# A room's copies to its members go out at most this fast, below Telegram's 30 messages a
# second in all, so crisis replies and one-to-one chats always find room (``bot/rooms.py``).
COPIES_PER_SECOND = 20


@dataclass(frozen=True, slots=True)
class Room:
    """A room as the core sees it. A standing group meets every ``weekday`` (0 Monday) at
    ``opens`` in ``zone`` for ``minutes``; a room of an online activity is open from its
    start (``starts_at``) for its ``minutes``. ``leaders`` are ids and aliases; ``aliases``
    every alias already chosen in the room (one member's alias is theirs alone)."""

    id: int
    title: str
    zone: str
    minutes: int
    weekday: int | None = None
    opens: time | None = None
    starts_at: datetime | None = None
    closed: bool = False
    leaders: tuple[tuple[int, str], ...] = ()
    aliases: frozenset[str] = frozenset()

    def sessions(self, now: datetime) -> Iterable[datetime]:
        """Session starts around ``now``: the last week's and the coming week's."""
        if self.starts_at is not None:
            yield self.starts_at
            return
        if self.weekday is None or self.opens is None:
            return
        today = local_date(now, self.zone)
        for offset in range(-7, 8):
            day = today + timedelta(days=offset)
            if day.weekday() == self.weekday:
                yield at_local(day, self.opens, self.zone)

    def is_open(self, now: datetime) -> bool:
        return self.session_at(now) is not None

    def session_at(self, now: datetime) -> datetime | None:
        """The start of the session running at ``now`` (``None``: the room is closed now)."""
        if self.closed:
            return None
        span = timedelta(minutes=self.minutes)
        return next((s for s in self.sessions(now) if s <= now < s + span), None)

    def next_opening(self, now: datetime) -> datetime | None:
        """When the room opens next (``None``: never again)."""
        if self.closed:
            return None
        return min((s for s in self.sessions(now) if s > now), default=None)


@dataclass(frozen=True, slots=True)
class Membership:
    """The person's place in one room: their alias there (``None`` until chosen), whether
    they lead it, their state (invited, member, left, removed), whether they accepted the
    rules and whether a leader muted them."""

    room: Room
    alias: str | None
    leader: bool
    state: str
    rules: bool
    muted: bool = False

    @property
    def can_enter(self) -> bool:
        return self.state in (INVITED, MEMBER) and not self.room.closed


@dataclass(frozen=True, slots=True)
class Present:
    """A member present in the room when a message arrives: who, with which alias."""

    person_id: int
    alias: str
    leader: bool


@dataclass(frozen=True, slots=True)
class Copy:
    """One member's copy of a room message: the line they read (the alias and, for text,
    the text), whether the sender's photo, sticker or voice note follows it, and the
    message in their own chat it answers (``reply_to``)."""

    to: int
    text: Text
    media: bool
    reply_to: int | None = None


def rooms_of(data: Mapping[str, Any]) -> tuple[Membership, ...]:
    return tuple(data.get(Fact.ROOMS, ()))


def find(data: Mapping[str, Any], room_id: int) -> Membership | None:
    return next((m for m in rooms_of(data) if m.room.id == room_id), None)


def opens_text(room: Room, now: datetime, person: PersonView) -> Msg:
    """The kind line for outside session times: when the room opens next (or that it will
    not open again), in the reader's zone."""
    opening = room.next_opening(now)
    if opening is None:
        return Msg(N_("room.closed_for_good"))
    return msg(N_("room.opens"), **_when(opening, person))


def _when(moment: datetime, person: PersonView) -> dict[str, Any]:
    """A moment as the ``day`` and ``time`` of a line, in the reader's zone."""
    local = moment.astimezone(ZoneInfo(person.timezone))
    return {"day": local.date(), "time": local.time().replace(tzinfo=None)}


def help_lines(data: Mapping[str, Any]) -> tuple[Msg, ...]:
    """``/help``'s lines about rooms: only for someone with a room they can enter now or at
    its next session (invited or a member, the room not closed); a leader's commands only
    for a leader of one. Nobody else hears of rooms they could not use."""
    usable = [m for m in rooms_of(data) if m.can_enter]
    if not usable:
        return ()
    lines = [Msg(N_("room.help"))]
    if any(m.leader for m in usable):
        lines.append(Msg(N_("room.help.leader")))
    return tuple(lines)


# -- entering: /room ----------------------------------------------------------------------


def enter(event: Event, person: PersonView, rules: Rules) -> Outcome | Say:
    """``/room`` (or its button, ``/room ID``): the room to enter, or the list to choose
    from when the person belongs to several. Never a guess: with several, they choose."""
    usable = [m for m in rooms_of(event.data) if m.can_enter]
    argument = event.argument.strip()
    number = parse_number(argument) if argument else None
    if number is not None:
        chosen = next((m for m in usable if m.room.id == number), None)
        if chosen is None:
            return Say(Msg(N_("room.not_a_member")))
    elif len(usable) == 1:
        chosen = usable[0]
    elif not usable:
        return Say(Msg(N_("room.none")))
    else:
        return Say(
            Msg(N_("room.choose")),
            tuple(Choice(Raw(m.room.title), f"/room {m.room.id}") for m in usable),
        )
    return start(person, event, rules, chosen)


# -- the room flow -------------------------------------------------------------------------

STOP = Choice(Msg(N_("room.not_now")), "room:stop")
AGREE = Choice(Msg(N_("room.rules.agree")), "room:agree")


def leave_choice(room_id: int) -> Choice:
    return Choice(Msg(N_("room.leave")), f"/room leave {room_id}")


class RoomFlow(FlowModel):
    """Choosing a group alias (first join, clients and relatives), accepting the rules
    (first join), then being in the room: each message goes to the room."""

    name = NAME
    initial = "inside"
    states: ClassVar[list[str]] = ["alias", "rules", "inside", "out"]
    final = frozenset({"out"})
    transitions: ClassVar[list[dict[str, Any]]] = [
        move(["alias", "rules"], "out", "stops"),
        move("*", "out", "gone"),
        move("alias", "rules", "is_valid", "needs_rules", before="keep_alias"),
        move("alias", "inside", "is_valid", before="keep_alias"),
        move("rules", "inside", "agrees", before="accept_rules"),
        move("inside", None, "is_valid", before="post"),
    ]

    stops = pressed("room:stop")
    agrees = pressed("room:agree")

    @classmethod
    def entry_state(cls, context: dict[str, object]) -> str:
        return str(context.get("entry", cls.initial))

    @property
    def membership(self) -> Membership | None:
        room_id = self.ctx.get("room")
        return find(self.event.data, room_id) if isinstance(room_id, int) else None

    def gone(self) -> bool:
        """No longer a member (left, removed) or the room closed: out, and told so (an edit
        of a room message: why the edit did not reach its room)."""
        membership = self.membership
        if membership is not None and membership.can_enter:
            return False
        refused = _refused_out_of_rooms(self.event, self.person)
        self.ask(refused or Msg(N_("room.no_longer")))
        if self.event.risk == "crisis" and self.event.kind in ("text", "media", "edited"):
            self._keep_for_worker()  # as anywhere out of a room
        return True

    def needs_rules(self) -> bool:
        membership = self.membership
        return membership is not None and not membership.rules

    # -- alias

    def on_enter_alias(self) -> None:
        self.ask(Msg(N_("room.alias.ask")), (STOP,))

    def parse_alias(self) -> str | None:
        alias = parse_alias(self.event)
        membership = self.membership
        if alias is None or membership is None:
            return None
        if alias.casefold() in {a.casefold() for a in membership.room.aliases}:
            self.taken = alias
            return None
        return alias

    def reask_alias(self) -> None:
        taken = getattr(self, "taken", None)
        text = msg(N_("room.alias.taken"), alias=taken) if taken else Msg(N_("room.alias.invalid"))
        self.ask(text, (STOP,))

    def keep_alias(self) -> None:
        self.chosen = self.value  # for this event's welcome; the membership keeps it
        self.emit(UpdateMembership(int(self.ctx["room"]), self.person.id, alias=self.value))

    # -- rules

    def on_enter_rules(self) -> None:
        membership = self.membership
        title = membership.room.title if membership else ""
        self.ask(msg(N_("room.rules"), title=Raw(title)), (AGREE, STOP), 2)

    def parse_rules(self) -> str | None:
        return None

    def accept_rules(self) -> None:
        self.show_choice(AGREE.label)
        self.emit(UpdateMembership(int(self.ctx["room"]), self.person.id, rules=True))

    # -- inside

    def on_enter_inside(self) -> None:
        membership = self.membership
        if membership is None:
            return
        room = membership.room
        alias = getattr(self, "chosen", None) or membership.alias or self.person.alias or ""
        if membership.state == INVITED:
            self.emit(UpdateMembership(room.id, self.person.id, state=MEMBER))
        lines = [msg(N_("room.welcome"), title=Raw(room.title), alias=Raw(str(alias)))]
        now = self.event.now
        if now is not None and not room.is_open(now):
            lines.append(opens_text(room, now, self.person))
        self.ask(Lines(tuple(lines)), (leave_choice(room.id),))

    def parse_inside(self) -> Event | None:
        if self.event.kind in ("text", "media", "edited"):
            return self.event
        return None

    def reask_inside(self) -> None:
        if self.event.kind == "choice":
            return  # a stale button of an earlier question: nothing for the room
        self.ask(Msg(N_("room.only_messages")))

    def post(self) -> None:
        membership = self.membership
        assert membership is not None  # ``gone`` checked
        room, now = membership.room, self.event.now
        alias = membership.alias or self.person.alias or ""
        if self.event.kind == "edited":
            self._edited(membership, alias)
            return
        if self.event.risk == "crisis":
            self._held_back(room, alias)
            return
        if membership.muted:
            self.ask(Msg(N_("room.muted")))
            return
        if now is not None and not room.is_open(now):
            self.ask(opens_text(room, now, self.person))
            return
        self.emit(
            PostToRoom(
                room_id=room.id,
                sender_id=self.person.id,
                kind=self.event.argument if self.event.kind == "media" else "text",
                text=self.event.value if self.event.kind == "text" else "",
                message_id=self.event.message_id or 0,
            )
        )

    def _edited(self, membership: Membership, alias: str) -> None:
        """A member edited a message: screened like a new one (crisis language takes every
        copy in this room back and is held back); otherwise each copy is edited in place,
        when the room would take a new message from them now, and if not they hear why
        (:func:`edit_refused`). An edit of a message sent outside any room, or of one a
        leader removed, changes nothing."""
        room, message_id = membership.room, self.event.message_id
        if message_id is None:
            return
        written = edited_in(self.event)
        if self.event.risk == "crisis":
            if written is not None and written.room.id == room.id:
                self.emit(WithdrawFromRoom(room.id, self.person.id, message_id))
            self._held_back(room, alias)
            return
        if written is None:
            return
        refused = edit_refused(written, room.id, self.event.now, self.person)
        if refused is not None:
            self.ask(refused)
            return
        self.emit(EditInRoom(room.id, self.person.id, message_id, self.event.value))

    def _held_back(self, room: Room, alias: str) -> None:
        """Crisis language is not passed to the group: the writer hears so privately, each
        leader is told, and a worker who holds their chat gets their words."""
        self.emit(RoomHeldBack(room.id))
        if self.person.role in STAFF:
            self.ask(Msg(N_("room.crisis.held_staff")))
            return
        self.ask(Msg(N_("room.crisis.held")))
        for leader_id, _ in room.leaders:
            if leader_id != self.person.id:
                self.emit(Tell(leader_id, msg(N_("room.crisis.leader"), alias=Raw(alias))))
        self._keep_for_worker()

    def _keep_for_worker(self) -> None:
        """Crisis language goes to the peer worker who holds the person's chat, or is kept for
        the one who will (staff have no escalation)."""
        case = self.person.case
        if case is not None:
            message = desk.Message(
                "media" if self.event.kind == "media" else "text",
                self.event.value,
                self.event.message_id or 0,
            )
            self.emit(*desk.from_subject(case, message))


def _start_context(membership: Membership, person: PersonView) -> str:
    if membership.alias is None and person.role not in STAFF:
        return "alias"
    if not membership.rules and not membership.leader:
        return "rules"
    return "inside"


def start(person: PersonView, event: Event, rules: Rules, membership: Membership) -> Outcome:
    """Into the room flow at the first step this member still needs (alias, rules, inside)."""
    entry = _start_context(membership, person)
    context: dict[str, object] = {"room": membership.room.id, "entry": entry}
    return FLOW.start(person, event, rules, context)


def edited_in(event: Event) -> Membership | None:
    """The person's place in the room the message they edited was written in (``None``: not
    a message of theirs standing in a room)."""
    written = event.data.get(Fact.EDITED_ROOM.value) if event.kind == "edited" else None
    return written if isinstance(written, Membership) else None


def edit_refused(
    written: Membership, here: int | None, now: datetime | None, person: PersonView
) -> Text | None:
    """Why an edit of a message written in ``written``'s room does not reach it, said to its
    writer, who is in room ``here`` now (``None``: in none); ``None``: it does. An edit
    reaches the room when a new message from them would: the room still there, they in it
    (not left, removed, stepped out or in another room), not muted, the room open. The most
    lasting reason is given, and only reasons about the writer and the room: nothing about
    any other member. Either way the others' copies stay as they were."""
    room = written.room
    title = Raw(room.title)
    shut = now is not None and not room.is_open(now)
    opening = room.next_opening(now) if now is not None and shut else None
    if room.closed or (shut and opening is None):
        return msg(N_("room.edit.closed"), title=title)
    if not written.can_enter or here != room.id:
        return msg(N_("room.edit.not_in_room"), title=title)
    if written.muted:
        return msg(N_("room.edit.muted"), title=title)
    if opening is None:
        return None
    return msg(N_("room.edit.not_open"), title=title, **_when(opening, person))


def edited_out_of_the_room(event: Event, person: PersonView) -> Say | None:
    """An edit of a message the person wrote in a room, made while they are out of every
    room (stepped out to the bot, left, or the room closed): the others' copies stay as
    they were, and the writer is told why, rather than the bot's general line about edits
    (sending it again would not reach the room either). ``None``: not a room message of
    theirs."""
    refused = _refused_out_of_rooms(event, person)
    return Say(refused) if refused is not None else None


def _refused_out_of_rooms(event: Event, person: PersonView) -> Text | None:
    """Why an edit made while its writer is in no room does not reach the message's room."""
    written = edited_in(event)
    return edit_refused(written, None, event.now, person) if written is not None else None


# -- what a message to the room becomes ----------------------------------------------------


def copies(
    kind: str,
    text: str,
    sender: Present,
    present: Sequence[Present],
    reply_to: Mapping[int, int] | None = None,
) -> tuple[Copy, ...]:
    """Every other member present gets one copy, marked with the sender's alias (a leader's
    as the leader's), in the order the members are given; a reply answers each member's own
    copy of the message replied to (``reply_to``: person id → message id in their chat)."""
    replies = reply_to or {}
    said = N_("room.leader_says") if sender.leader else N_("room.says")
    sent = N_("room.leader_sent") if sender.leader else N_("room.sent")
    line = (
        msg(said, alias=Raw(sender.alias), text=Raw(text))
        if kind == "text"
        else msg(sent, alias=Raw(sender.alias))
    )
    return tuple(
        Copy(member.person_id, line, kind != "text", replies.get(member.person_id))
        for member in present
        if member.person_id != sender.person_id
    )


# -- a leader's and a member's commands ----------------------------------------------------


def command(
    name: str, argument: str, person: PersonView, snapshot: FlowSnapshot, reply_to: bool
) -> tuple[Effect, ...]:
    """``/room leave ID`` (a member's one tap), and a leader's ``/unsay`` (as a reply to a
    message of the room), ``/mute``, ``/unmute`` and ``/removemember`` (with an alias), for
    the room they are in. Each becomes a request the shell loads the room for
    (:func:`decide`)."""
    room_id = snapshot.context.get("room") if snapshot.flow == NAME else None
    if name == "unsay":
        if not isinstance(room_id, int):
            return (Say(Msg(N_("room.leader.enter_first"))),)
        if not reply_to:
            return (Say(Msg(N_("room.leader.unsay_how"))),)
        return (RoomRequest("unsay", room_id),)
    if name in ("mute", "unmute", "removemember"):
        if not isinstance(room_id, int):
            return (Say(Msg(N_("room.leader.enter_first"))),)
        alias = " ".join(argument.split())
        if not alias:
            return (Say(Msg(N_("room.leader.which"))),)
        return (RoomRequest(name, room_id, alias=alias),)
    raise AssertionError(f"{name} is not a room command")


def decide(
    request: RoomRequest,
    leader: Membership | None,
    target: Membership | None,
    target_id: int | None,
) -> tuple[Effect, ...]:
    """A leader's request about a member, on the memberships the shell loaded (locked):
    only a leader of the room may; the member is named by their alias in the room."""
    if leader is None or not leader.leader:
        return (Say(Msg(N_("room.leader.only"))),)
    if target is None or target_id is None or target.state not in (INVITED, MEMBER):
        return (Say(msg(N_("room.leader.no_such"), alias=Raw(request.alias or ""))),)
    alias = Raw(request.alias or "")
    room = Raw(leader.room.title)
    if target.leader:
        return (Say(Msg(N_("room.leader.not_a_leader"))),)
    if request.action == "mute":
        return (
            UpdateMembership(leader.room.id, target_id, muted=True),
            Tell(target_id, msg(N_("room.muted.told"), title=room)),
            Say(msg(N_("room.leader.muted"), alias=alias)),
        )
    if request.action == "unmute":
        return (
            UpdateMembership(leader.room.id, target_id, muted=False),
            Tell(target_id, msg(N_("room.unmuted.told"), title=room)),
            Say(msg(N_("room.leader.unmuted"), alias=alias)),
        )
    return (
        UpdateMembership(leader.room.id, target_id, state=REMOVED),
        Tell(target_id, msg(N_("room.removed.told"), title=room)),
        Say(msg(N_("room.leader.removed"), alias=alias)),
    )


def unsaid(room: Room, sender_id: int | None, leader_id: int) -> tuple[Effect, ...]:
    """A leader took a message back: they hear it is gone; its writer hears why it vanished."""
    effects: list[Effect] = [Say(Msg(N_("room.leader.unsaid")))]
    if sender_id is not None and sender_id != leader_id:
        effects.append(Tell(sender_id, msg(N_("room.unsaid.told"), title=Raw(room.title))))
    return tuple(effects)


def leave(
    argument: str, person: PersonView, snapshot: FlowSnapshot, data: Mapping[str, Any]
) -> Outcome:
    """One tap: the member leaves the room (for good; an invitation brings them back), and
    each leader hears it."""
    parts = argument.split()
    room_id = parse_number(parts[1]) if len(parts) == 2 and parts[0] == "leave" else None
    membership = find(data, room_id) if room_id is not None else None
    if membership is None or membership.state not in (INVITED, MEMBER):
        return Outcome(snapshot, (Say(Msg(N_("room.not_a_member"))),))
    alias = membership.alias or person.alias or ""
    effects: list[Effect] = [
        UpdateMembership(membership.room.id, person.id, state=LEFT),
        Say(msg(N_("room.left"), title=Raw(membership.room.title)), menu=True),
    ]
    effects += [
        Tell(leader_id, msg(N_("room.leader.left"), alias=Raw(alias)))
        for leader_id, _ in membership.room.leaders
        if leader_id != person.id
    ]
    in_it = snapshot.flow == NAME and snapshot.context.get("room") == membership.room.id
    return Outcome(FlowSnapshot() if in_it else snapshot, tuple(effects))


def invitation(room: Room, now: datetime, person: PersonView) -> Say:
    """What an invited person receives (sent by the tick)."""
    return Say(
        _invitation_text(room, now, person),
        (Choice(Msg(N_("room.invitation.join")), f"/room {room.id}"),),
    )


def _invitation_text(room: Room, now: datetime, person: PersonView) -> Text:
    return Lines((msg(N_("room.invitation"), title=Raw(room.title)), opens_text(room, now, person)))


FLOW = Flow(RoomFlow)
