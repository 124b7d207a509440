"""Peer activities: what is on, who is going, who is waiting, and who is told what.

The group side of the service (Fan et al. 2018): peer workers lead activities of eight
kinds for clients and relatives, in a community centre or online. Everything here is pure:
the shell loads an activity with its answers (locked) and applies what these functions
return. Whom a message reaches is always named (``Tell``) or is the person acting (``Say``).

Messages that are not an answer to the person acting (an invitation, a reminder, a seat that
came free, a change, a cancellation) are *notices*: rows with a due time that the
scheduler's tick sends (:func:`notice`), placed out of the reader's quiet hours by
:func:`notice_time`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flows.commands import parse_number
from flows.effects import (
    ActivityRequest,
    Choice,
    DropActivityAnswers,
    Effect,
    Notice,
    PlaceNotices,
    ReplaceReminders,
    Say,
    SetActivityAnswer,
    SetInvitations,
    Tell,
)
from flows.facts import Fact, Need
from flows.people import PersonView, Rules
from flows.roles import Role
from flows.schedule import at_local, local_date
from flows.text import LANGUAGE_NAMES, N_, Lines, Msg, Raw, Text, ZonedTime, msg

NEEDS = (Need(Fact.ACTIVITIES, commands=("activities",)),)

# The eight kinds of content of the original service, and "other".
KINDS = {
    "daily_life": N_("activity.kind.daily_life"),
    "social_skills": N_("activity.kind.social_skills"),
    "knowledge": N_("activity.kind.knowledge"),
    "entertainment": N_("activity.kind.entertainment"),
    "fine_motor": N_("activity.kind.fine_motor"),
    "sharing": N_("activity.kind.sharing"),
    "healthy_lifestyle": N_("activity.kind.healthy_lifestyle"),
    "emotional_support": N_("activity.kind.emotional_support"),
    "other": N_("activity.kind.other"),
}
# Who an activity is for.
AUDIENCES = {
    "clients": frozenset({Role.CLIENT}),
    "relatives": frozenset({Role.FAMILY}),
    "both": frozenset({Role.CLIENT, Role.FAMILY}),
}
AUDIENCE_TEXT = {
    "clients": N_("activity.audience.clients"),
    "relatives": N_("activity.audience.relatives"),
    "both": N_("activity.audience.both"),
}

GOING, MAYBE, CANT, WAITING = "going", "maybe", "cant", "waiting"
ANSWERS = (GOING, MAYBE, CANT)
ANSWER_TEXT = {
    GOING: N_("activity.answer.going"),
    MAYBE: N_("activity.answer.maybe"),
    CANT: N_("activity.answer.cant"),
    WAITING: N_("activity.answer.waiting"),
}

# Notices: what the tick sends, by kind.
INVITE, DAY_BEFORE, TWO_HOURS = "invite", "day_before", "two_hours"
PROMOTED, CHANGED, CANCELLED = "promoted", "changed", "cancelled"
# The cancellation to someone its room had invited: it says the room is closed too.
CANCELLED_ROOM = "cancel_room"
CANCELLATIONS = (CANCELLED, CANCELLED_ROOM)
# A change that also moved it to another language; one no longer open to them (audience).
LANGUAGE, CLOSED = "language", "closed"
# to each leader when it starts (the attendance sheet); to each attendee once it is recorded
ATTENDANCE, FEEDBACK = "attendance", "feedback"
NOTICE_KINDS = (
    INVITE,
    DAY_BEFORE,
    TWO_HOURS,
    PROMOTED,
    CHANGED,
    LANGUAGE,
    CLOSED,
    CANCELLED,
    CANCELLED_ROOM,
    ATTENDANCE,
    FEEDBACK,
)
REMINDERS = {DAY_BEFORE: timedelta(days=1), TWO_HOURS: timedelta(hours=2)}
REMINDER_TEXT = {
    DAY_BEFORE: N_("activity.reminder.day_before"),
    TWO_HOURS: N_("activity.reminder.soon"),
}

MAX_TITLE = 120
MAX_PLACE = 200
MAX_CAPACITY = 500
MINUTES = range(15, 8 * 60 + 1)


@dataclass(frozen=True, slots=True)
class Activity:
    """An activity as the core sees it. ``place`` is a street address, or empty when it
    meets online (``online``); ``leaders`` are the leaders' ids and aliases."""

    id: int
    title: str
    kind: str
    starts_at: datetime
    minutes: int
    place: str
    online: bool
    capacity: int
    audience: str
    language: str
    leaders: tuple[tuple[int, str], ...] = ()
    cancelled: bool = False
    room: int | None = None  # its group room (an online activity's, made when announced)

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.minutes)

    def is_for(self, role: Role) -> bool:
        return role in AUDIENCES.get(self.audience, frozenset())


@dataclass(frozen=True, slots=True)
class Answer:
    """One person's answer; ``at`` orders the waiting list (first come, first served)."""

    person_id: int
    answer: str
    at: datetime
    alias: str = ""


@dataclass(frozen=True, slots=True)
class Found:
    """An activity and every answer to it, as loaded (locked) by the shell."""

    activity: Activity
    answers: tuple[Answer, ...] = ()
    present: frozenset[int] = frozenset()  # marked present by a leader
    recorded: bool = False  # a leader filed its record

    def answer_of(self, person_id: int) -> str | None:
        for answer in self.answers:
            if answer.person_id == person_id:
                return answer.answer
        return None

    @property
    def going(self) -> int:
        return sum(1 for a in self.answers if a.answer == GOING)

    @property
    def waiting(self) -> tuple[Answer, ...]:
        return tuple(
            sorted(
                (a for a in self.answers if a.answer == WAITING),
                key=lambda a: (a.at, a.person_id),
            )
        )


@dataclass(frozen=True, slots=True)
class Draft:
    """What a peer worker or supervisor enters to create or change an activity."""

    title: str
    kind: str
    starts_at: datetime
    minutes: int
    place: str
    online: bool
    capacity: int
    audience: str
    language: str
    leaders: tuple[str, ...] = field(default=())


class InvalidActivity(ValueError):
    """A draft that cannot be announced; the message says which field and why."""


class TimePassed(InvalidActivity):
    """The time chosen is not in the future (any more: it may have passed while a leader
    was deciding)."""


class LeaderGone(InvalidActivity):
    """An alias given as a leader names no peer worker or supervisor (any more: between
    the question and the save the alias or the role may have changed, or the account been
    removed). The chat says which alias, never a guess at who was meant."""

    def __init__(self, alias: str) -> None:
        super().__init__(f"no peer worker or supervisor has the alias {alias!r}")
        self.alias = alias


def check(draft: Draft, now: datetime) -> None:
    """Raise :class:`InvalidActivity` unless the draft can be announced as it is."""
    if not draft.title.strip() or len(draft.title) > MAX_TITLE:
        raise InvalidActivity(f"the title must be 1 to {MAX_TITLE} characters")
    if draft.kind not in KINDS:
        raise InvalidActivity(f"the kind must be one of: {', '.join(KINDS)}")
    if draft.starts_at <= now:
        raise TimePassed("the activity must start in the future")
    if draft.minutes not in MINUTES:
        raise InvalidActivity(f"the duration must be {MINUTES.start} to {MINUTES.stop - 1} minutes")
    if not draft.online and not draft.place.strip():
        raise InvalidActivity('give a place (an address) or "online"')
    if len(draft.place) > MAX_PLACE:
        raise InvalidActivity(f"the place must be at most {MAX_PLACE} characters")
    if not 1 <= draft.capacity <= MAX_CAPACITY:
        raise InvalidActivity(f"the capacity must be 1 to {MAX_CAPACITY}")
    if draft.audience not in AUDIENCES:
        raise InvalidActivity(f"the audience must be one of: {', '.join(AUDIENCES)}")
    if draft.language not in LANGUAGE_NAMES:
        raise InvalidActivity(f"the language must be one of: {', '.join(LANGUAGE_NAMES)}")
    if not draft.leaders:
        raise InvalidActivity("name at least one leader by alias")


def place_text(activity: Activity) -> Text:
    return Msg(N_("activity.online")) if activity.online else Raw(activity.place)


def card(activity: Activity, going: int | None = None, zone: str | None = None) -> Lines:
    """The activity as its readers see it: what, when (in the reader's zone; ``zone``: on
    that clock, the program's for staff), how long, where, in which language, with whom,
    and how many places are left."""
    leaders = " · ".join(alias for _, alias in activity.leaders)
    parts: list[Msg | Raw] = [
        msg(N_("activity.card.title"), title=activity.title, kind=Msg(KINDS[activity.kind])),
        msg(
            N_("activity.card.when"),
            when=activity.starts_at if zone is None else ZonedTime(activity.starts_at, zone),
            minutes=activity.minutes,
        ),
        msg(N_("activity.card.where"), place=place_text(activity)),
        msg(
            N_("activity.card.who"),
            audience=Msg(AUDIENCE_TEXT[activity.audience]),
            language=LANGUAGE_NAMES[activity.language],
        ),
        msg(N_("activity.card.leaders"), leaders=leaders),
    ]
    if going is not None:
        left = max(activity.capacity - going, 0)
        parts.append(
            msg(N_("activity.card.places_left"), left=left, capacity=activity.capacity)
            if left
            else Msg(N_("activity.card.full"))
        )
    return Lines(tuple(parts))


def rsvp_choices(activity_id: int) -> tuple[Choice, ...]:
    return tuple(
        Choice(Msg(ANSWER_TEXT[answer]), f"/rsvp {activity_id} {answer}") for answer in ANSWERS
    )


def day_choices(activity_id: int) -> tuple[Choice, ...]:
    """Under a reminder: a leader hears at once when someone is late or cannot come."""
    return (
        Choice(Msg(N_("activity.late")), f"/rsvp {activity_id} late"),
        Choice(Msg(N_("activity.not_coming")), f"/rsvp {activity_id} notcoming"),
    )


STOP_INVITES = Choice(Msg(N_("activity.invitations.stop")), "/invitations off")
START_INVITES = Choice(Msg(N_("activity.invitations.start")), "/invitations on")


# -- what a person sees and does -------------------------------------------------------------


def listing(found: Sequence[Found], person: PersonView) -> Say:
    """``/activities``: the upcoming activities for this person, with their own answer."""
    if not found:
        return Say(Msg(N_("activity.list.none")), menu=True)
    lines: list[Msg] = [Msg(N_("activity.list.title"))]
    choices: list[Choice] = []
    for number, item in enumerate(found, 1):
        activity = item.activity
        mine = item.answer_of(person.id)
        line = msg(
            N_("activity.list.line"),
            number=number,
            title=activity.title,
            when=activity.starts_at,
        )
        lines.append(
            msg(N_("activity.list.line_answered"), line=line, answer=Msg(ANSWER_TEXT[mine]))
            if mine
            else line
        )
        choices.append(Choice(Raw(str(number)), f"/activity {activity.id}"))
    lines.append(Msg(N_("activity.list.tap")))
    return Say(Lines(tuple(lines)), tuple(choices), columns=5)


def command(
    name: str, argument: str, person: PersonView, data: dict[str, object]
) -> tuple[Effect, ...]:
    """``/activities``, ``/activity <id>``, ``/rsvp <id> <answer>`` and ``/invitations``."""
    parts = argument.split()
    if name == "activities":
        found = data.get(Fact.ACTIVITIES.value, ())
        assert isinstance(found, tuple | list)
        return (listing(tuple(found), person),)
    if name == "invitations":
        if parts in (["on"], ["off"]):
            return invitation_toggle(parts == ["on"])
        return (Say(Msg(N_("activity.invitations.ask")), (STOP_INVITES, START_INVITES)),)
    number = parse_number(parts[0]) if parts else None
    if name == "activity" and number is not None and len(parts) == 1:
        return (ActivityRequest("show", number),)
    actions = (*ANSWERS, "late", "notcoming")
    if name == "rsvp" and number is not None and len(parts) == 2 and parts[1] in actions:
        return (ActivityRequest(parts[1], number),)
    return (Notice(Msg(N_("input.stale_button"))),)


def invitation_toggle(on: bool) -> tuple[Effect, ...]:
    if on:
        return (SetInvitations(True), Say(Msg(N_("activity.invitations.on"))))
    return (SetInvitations(False), Say(Msg(N_("activity.invitations.off")), (START_INVITES,)))


def decide(
    request: ActivityRequest, found: Found | None, person: PersonView, now: datetime, rules: Rules
) -> tuple[Effect, ...]:
    """What a tap on an activity's button does, on the activity as loaded and locked."""
    if found is None or not found.activity.is_for(person.role):
        return (Say(Msg(N_("activity.gone"))),)
    activity = found.activity
    if activity.cancelled:
        return (Say(msg(N_("activity.was_cancelled"), title=activity.title)),)
    if request.action == "show":
        return (_shown(found, person, now),)
    if now >= activity.ends_at:
        return (Say(msg(N_("activity.over"), title=activity.title)),)
    mine = found.answer_of(person.id)
    if request.action in ("late", "notcoming"):
        if mine != GOING:
            return (Say(msg(N_("activity.not_going"), title=activity.title)),)
        if request.action == "late":
            return (
                Say(msg(N_("activity.late.told"), title=activity.title)),
                *_tell_leaders(activity, N_("activity.late.leader"), person),
            )
        return (
            *_answered(found, person, CANT, now, rules),
            *_tell_leaders(activity, N_("activity.not_coming.leader"), person),
        )
    if request.action not in ANSWERS:
        return (Say(Msg(N_("activity.gone"))),)
    if now >= activity.starts_at:
        return (Say(msg(N_("activity.started"), title=activity.title)),)
    return _answered(found, person, request.action, now, rules)


def _shown(found: Found, person: PersonView, now: datetime) -> Say:
    activity = found.activity
    mine = found.answer_of(person.id)
    started = now >= activity.starts_at
    text: list[Msg | Raw | Lines] = [card(activity, None if started else found.going)]
    if mine is not None:
        text.append(msg(N_("activity.your_answer"), answer=Msg(ANSWER_TEXT[mine])))
    if started:
        return Say(_joined(text))
    return Say(_joined(text), *answer_choices(activity.id, mine))


def answer_choices(activity_id: int, mine: str | None) -> tuple[tuple[Choice, ...], int]:
    """The answers someone can change to (not the one they gave), and how many a row;
    someone going can also say they are running late."""
    others = tuple(c for c in rsvp_choices(activity_id) if not c.value.endswith(f" {mine}"))
    if mine == GOING:
        return (*others, *day_choices(activity_id)[:1]), 1
    return others, 3


def _joined(parts: Sequence[Msg | Raw | Lines]) -> Lines:
    flat: list[Msg | Raw] = []
    for part in parts:
        if isinstance(part, Lines):
            flat += [p for p in part.parts if isinstance(p, Msg | Raw)]
        else:
            flat.append(part)
    return Lines(tuple(flat))


def _answered(
    found: Found, person: PersonView, choice: str, now: datetime, rules: Rules
) -> tuple[Effect, ...]:
    """Going (a place, or the waiting list when full), maybe, or can't; a place given up
    goes to the first on the waiting list, who is told."""
    activity = found.activity
    mine = found.answer_of(person.id)
    if choice == mine or (choice == GOING and mine == WAITING):
        already = WAITING if mine == WAITING else choice
        return (Say(msg(N_("activity.answer.same"), answer=Msg(ANSWER_TEXT[already]))),)
    effects: list[Effect] = []
    stored = choice
    if choice == GOING and found.going >= activity.capacity:
        stored = WAITING
    reminders = reminder_times(activity, now) if stored == GOING else ()
    effects.append(SetActivityAnswer(activity.id, person.id, stored, now, reminders))
    said = {
        GOING: msg(N_("activity.answer.going.said"), title=activity.title, when=activity.starts_at),
        WAITING: msg(N_("activity.answer.waiting.said"), title=activity.title),
        MAYBE: msg(N_("activity.answer.maybe.said"), title=activity.title),
        CANT: msg(N_("activity.answer.cant.said"), title=activity.title),
    }[stored]
    effects.append(Say(said, day_choices(activity.id)[:1] if stored == GOING else ()))
    if mine == GOING and stored != GOING and found.waiting:
        first = found.waiting[0]
        effects.append(
            SetActivityAnswer(
                activity.id, first.person_id, GOING, now, reminder_times(activity, now)
            )
        )
        effects.append(PlaceNotices(activity.id, (first.person_id,), PROMOTED, now))
    return tuple(effects)


def _tell_leaders(activity: Activity, message_id: str, person: PersonView) -> tuple[Tell, ...]:
    return tuple(
        Tell(leader, msg(message_id, alias=person.alias or "?", title=activity.title))
        for leader, _ in activity.leaders
    )


# -- notices: what the tick sends, and when ---------------------------------------------------


def reminder_times(activity: Activity, now: datetime) -> tuple[tuple[str, datetime], ...]:
    """The reminders still ahead for someone going: the day before and two hours before."""
    return tuple(
        (kind, activity.starts_at - before)
        for kind, before in REMINDERS.items()
        if activity.starts_at - before > now
    )


AFTERWARDS = timedelta(days=7)  # how long after the end a sheet or feedback may still come


def deadline(kind: str, activity: Activity) -> datetime:
    """The last moment a notice of ``kind`` is worth sending: before the start for what
    prepares people to come; before the end for a cancellation; a week after the end for
    the attendance sheet and the feedback questions."""
    if kind in CANCELLATIONS:
        return activity.ends_at
    if kind in (ATTENDANCE, FEEDBACK):
        return activity.ends_at + AFTERWARDS
    return activity.starts_at


def notice_time(
    kind: str, at: datetime, zone: str, rules: Rules, deadline: datetime
) -> datetime | None:
    """When a notice meant for ``at`` reaches someone: then, or when their quiet hours end;
    ``None`` when that would be after ``deadline`` (no reminder after the start). A
    cancellation that quiet hours would hold past the start goes at once: better woken than
    travelling to a room nobody will open."""
    wanted = at
    local = at.astimezone(ZoneInfo(zone))
    if rules.is_quiet(local.time().replace(tzinfo=None)):
        day = local_date(at, zone)
        end = at_local(day, rules.quiet_end, zone)
        if end < at:
            end = at_local(day + timedelta(days=1), rules.quiet_end, zone)
        at = end
    if at < deadline:
        return at
    return wanted if kind in CANCELLATIONS and wanted < deadline else None


def notice(kind: str, found: Found, person: PersonView, now: datetime) -> tuple[Say, ...]:
    """What one due notice says to the person it is for, decided when it is sent: an
    activity cancelled meanwhile sends no invitation, a person no longer going gets no
    reminder."""
    activity = found.activity
    mine = found.answer_of(person.id)
    if kind in CANCELLATIONS:
        said = msg(N_("activity.cancelled"), title=activity.title)
        closed = (Msg(N_("newroom.activity_room_closed")),) if kind == CANCELLED_ROOM else ()
        return (Say(Lines((said, *card(activity).parts, *closed))),)
    if kind == CLOSED:
        if activity.cancelled or now >= activity.starts_at or activity.is_for(person.role):
            return ()
        return (Say(msg(N_("activity.closed"), title=activity.title)),)
    if activity.cancelled or now >= activity.ends_at or not activity.is_for(person.role):
        return ()
    if kind == INVITE:
        if mine is not None or now >= activity.starts_at:
            return ()
        text = Lines((Msg(N_("activity.invitation")), *card(activity, found.going).parts))
        return (Say(text, (*rsvp_choices(activity.id), STOP_INVITES), columns=3),)
    if kind in REMINDERS:
        if mine != GOING or now >= activity.starts_at:
            return ()
        heading = REMINDER_TEXT[kind]
        text = Lines(
            (msg(heading, title=activity.title, when=activity.starts_at), *card(activity).parts)
        )
        room = enter_choice(activity) if kind == TWO_HOURS else ()
        return (Say(text, (*day_choices(activity.id), *room), columns=1),)
    if kind == PROMOTED:
        if mine != GOING:
            return ()
        text = Lines((msg(N_("activity.promoted"), title=activity.title), *card(activity).parts))
        return (Say(text, day_choices(activity.id)[1:]),)
    if kind in (CHANGED, LANGUAGE):
        if mine is None or now >= activity.starts_at:
            return ()
        said = (
            msg(N_("activity.changed"), title=activity.title)
            if kind == CHANGED
            else msg(
                N_("activity.changed.language"),
                title=activity.title,
                language=LANGUAGE_NAMES[activity.language],
            )
        )
        text = Lines(
            (
                said,
                *card(activity, found.going).parts,
                msg(N_("activity.your_answer"), answer=Msg(ANSWER_TEXT[mine])),
            )
        )
        return (Say(text, *answer_choices(activity.id, mine)),)
    return ()


def changed(
    before: Found, after: Activity, now: datetime, roles: Mapping[int, Role] | None = None
) -> tuple[Effect, ...]:
    """An activity was edited: everyone who answered is told, once; a larger capacity moves
    people up from the waiting list (they are told they have a place, not that it changed).
    ``roles`` (of everyone who answered): someone the new audience leaves out loses their
    answer, and its place, and is told it is no longer open to them; a new language is
    said. A new leader is told at once."""
    left = tuple(
        a.person_id
        for a in before.answers
        if roles is not None and a.person_id in roles and not after.is_for(roles[a.person_id])
    )
    staying = Found(before.activity, tuple(a for a in before.answers if a.person_id not in left))
    found = Found(after, staying.answers)
    effects: list[Effect] = []
    if left:
        effects += [DropActivityAnswers(after.id, left), PlaceNotices(after.id, left, CLOSED, now)]
    room = after.capacity - staying.going
    promoted = tuple(a.person_id for a in staying.waiting[: max(room, 0)])
    for person_id in promoted:
        effects.append(
            SetActivityAnswer(after.id, person_id, GOING, now, reminder_times(after, now))
        )
    effects.append(ReplaceReminders(after.id, reminder_times(after, now)))  # moved with the time
    told = tuple(a.person_id for a in found.answers if a.person_id not in promoted)
    if told:
        kind = LANGUAGE if after.language != before.activity.language else CHANGED
        effects.append(PlaceNotices(after.id, told, kind, now))
    if promoted:
        effects.append(PlaceNotices(after.id, promoted, PROMOTED, now))
    leading = {leader for leader, _ in before.activity.leaders}
    added = msg(N_("activity.leaders.added"), title=after.title)
    effects += [Tell(leader, added) for leader, _ in after.leaders if leader not in leading]
    return tuple(effects)


def enter_choice(activity: Activity) -> tuple[Choice, ...]:
    """🚪 Enter the room, under the reminder two hours before an online activity that has
    its room (the invitation came when they answered Going)."""
    if activity.room is None or not activity.online:
        return ()
    return (Choice(Msg(N_("room.invitation.join")), f"/room {activity.room}"),)


def cancelled(found: Found, now: datetime, members: Sequence[int] = ()) -> tuple[Effect, ...]:
    """Everyone who answered (going, maybe, can't or waiting) and everyone its room had
    invited (``members``) is told, one message each; only those the room had invited read
    that it is closed too (the others were never asked into it)."""
    invited = tuple(dict.fromkeys(members))
    answered = tuple(
        dict.fromkeys(a.person_id for a in found.answers if a.person_id not in invited)
    )
    activity_id = found.activity.id
    return tuple(
        PlaceNotices(activity_id, told, kind, now)
        for told, kind in ((answered, CANCELLED), (invited, CANCELLED_ROOM))
        if told
    )
