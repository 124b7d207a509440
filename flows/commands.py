"""Which commands exist, who may use them, and the menus. Pure data plus tiny handlers."""

from __future__ import annotations

from dataclasses import dataclass

from flows.roles import STAFF, Role
from flows.text import N_

EVERYONE = frozenset(Role)


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    description: str  # message id, shown in Telegram's command menu
    roles: frozenset[Role]
    before_onboarding: bool = False  # usable while onboarding is not finished
    hidden: bool = False  # a button's command, not shown in the menu


COMMANDS: tuple[Command, ...] = (
    Command("start", N_("command.start"), EVERYONE, before_onboarding=True),
    Command("checkin", N_("command.checkin"), frozenset({Role.CLIENT})),
    Command("history", N_("command.history"), frozenset({Role.CLIENT})),
    Command("skills", N_("command.skills"), frozenset({Role.CLIENT})),
    Command("warningsigns", N_("command.warningsigns"), frozenset({Role.CLIENT})),
    Command("safetyplan", N_("command.safetyplan"), frozenset({Role.CLIENT})),
    Command("sos", N_("command.sos"), EVERYONE, before_onboarding=True),
    Command("help", N_("command.help"), EVERYONE, before_onboarding=True),
    Command("settings", N_("command.settings"), EVERYONE),
    Command("language", N_("command.language"), EVERYONE),
    Command("privacy", N_("command.privacy"), EVERYONE, before_onboarding=True),
    Command("mydata", N_("command.mydata"), EVERYONE),
    Command("deleteme", N_("command.deleteme"), EVERYONE),
    Command("pause", N_("command.pause"), frozenset({Role.CLIENT, Role.FAMILY})),
    Command("resume", N_("command.resume"), frozenset({Role.CLIENT, Role.FAMILY})),
    Command("later", N_("command.later"), frozenset({Role.CLIENT}), hidden=True),
    Command("talk", N_("command.talk"), frozenset({Role.CLIENT, Role.FAMILY})),
    Command("measures", N_("command.measures"), frozenset({Role.CLIENT, Role.FAMILY})),
    Command("measure", N_("command.measure"), frozenset({Role.CLIENT, Role.FAMILY}), hidden=True),
    Command("family", N_("command.family"), frozenset({Role.CLIENT})),
    Command("lessons", N_("command.lessons"), frozenset({Role.FAMILY})),
    Command("worried", N_("command.worried"), frozenset({Role.FAMILY})),
    Command("activities", N_("command.activities"), frozenset({Role.CLIENT, Role.FAMILY})),
    Command("invitations", N_("command.invitations"), frozenset({Role.CLIENT, Role.FAMILY})),
    Command("activity", N_("command.activity"), frozenset({Role.CLIENT, Role.FAMILY}), hidden=True),
    Command("rsvp", N_("command.rsvp"), frozenset({Role.CLIENT, Role.FAMILY}), hidden=True),
    Command("feedback", N_("command.feedback"), frozenset({Role.CLIENT, Role.FAMILY}), hidden=True),
    Command("lesson", N_("command.lesson"), frozenset({Role.FAMILY}), hidden=True),
    Command("practice", N_("command.practice"), frozenset({Role.FAMILY}), hidden=True),
    Command("course", N_("command.course"), frozenset({Role.FAMILY, *STAFF}), hidden=True),
    Command("rate", N_("command.rate"), frozenset({Role.CLIENT, Role.FAMILY}), hidden=True),
    Command(
        "thoughts",
        N_("command.thoughts"),
        frozenset({Role.CLIENT, Role.FAMILY}),
        before_onboarding=True,
        hidden=True,
    ),
    Command("onduty", N_("command.onduty"), STAFF),
    Command("offduty", N_("command.offduty"), STAFF),
    Command("queue", N_("command.queue"), STAFF),
    Command("mine", N_("command.mine"), STAFF),
    Command("switch", N_("command.switch"), STAFF),
    Command("release", N_("command.release"), STAFF),
    Command("transfer", N_("command.transfer"), STAFF),
    Command("done", N_("command.done"), STAFF),
    Command("note", N_("command.note"), STAFF),
    Command("claim", N_("command.claim"), STAFF, hidden=True),
    Command("sendto", N_("command.sendto"), STAFF, hidden=True),
    Command("newactivity", N_("command.newactivity"), STAFF),
    Command("myactivities", N_("command.myactivities"), STAFF | {Role.ADMIN}),
    Command("manage", N_("command.manage"), STAFF | {Role.ADMIN}, hidden=True),
    Command("room", N_("command.room"), EVERYONE),
    Command("newgroup", N_("command.newgroup"), STAFF),
    Command("groups", N_("command.groups"), STAFF),
    Command("group", N_("command.group"), STAFF, hidden=True),
    Command("unsay", N_("command.unsay"), STAFF, hidden=True),
    Command("mute", N_("command.mute"), STAFF, hidden=True),
    Command("unmute", N_("command.unmute"), STAFF, hidden=True),
    Command("removemember", N_("command.removemember"), STAFF, hidden=True),
    Command("attend", N_("command.attend"), STAFF, hidden=True),
    Command("record", N_("command.record"), STAFF, hidden=True),
    Command("handback", N_("command.handback"), STAFF),
    Command("review", N_("command.review"), STAFF),
    Command("supnotes", N_("command.supnotes"), STAFF),
    Command("training", N_("command.training"), STAFF),
    Command("debrief", N_("command.debrief"), STAFF, hidden=True),
    Command("assign", N_("command.assign"), frozenset({Role.SUPERVISOR})),
    Command("overdue", N_("command.overdue"), frozenset({Role.SUPERVISOR})),
    Command("team", N_("command.team"), frozenset({Role.SUPERVISOR})),
    Command("reviews", N_("command.reviews"), frozenset({Role.SUPERVISOR})),
    Command("supnote", N_("command.supnote"), frozenset({Role.SUPERVISOR})),
)

# Staff commands decided on facts only the database has (``flows.desk.decide``).
STAFF_REQUESTS = frozenset(
    {"claim", "assign", "transfer", "release", "note", "sendto", "queue", "overdue"}
)

# A room leader's commands about their room (``flows.rooms.decide``).
ROOM_REQUESTS = frozenset({"unsay", "mute", "unmute", "removemember"})

# Commands about looking after peer workers (``flows.supervision.decide``).
SUPERVISION_REQUESTS = frozenset(
    {"debrief", "team", "handback", "review", "reviews", "supnote", "supnotes"}
)

BY_NAME = {command.name: command for command in COMMANDS}

MAX_NUMBER = 2**31 - 1  # ids and counts fit a 32-bit column on every database


def parse_number(text: str) -> int | None:
    """A whole number typed or carried by a button: ASCII digits only ("²" and "١" are digits
    to ``str.isdigit`` but not numbers anyone meant), at most ``MAX_NUMBER``."""
    if not text or len(text) > 10 or not text.isascii() or not text.isdigit():
        return None
    number = int(text)
    return number if number <= MAX_NUMBER else None


def commands_for(role: Role) -> tuple[Command, ...]:
    """The commands shown in this role's menu, in menu order (``start`` is implied)."""
    return tuple(c for c in COMMANDS if role in c.roles and c.name != "start" and not c.hidden)


# The main menu keyboard, by role: the commands in order, each with its button's message id.
MENU: dict[Role, dict[str, str]] = {
    Role.CLIENT: {
        "checkin": N_("menu.checkin"),
        "talk": N_("menu.talk"),
        "sos": N_("menu.sos"),
        "history": N_("menu.history"),
        "settings": N_("menu.settings"),
        "help": N_("menu.help"),
    },
    Role.FAMILY: {
        "lessons": N_("menu.lessons"),
        "worried": N_("menu.worried"),
        "sos": N_("menu.sos"),
        "settings": N_("menu.settings"),
        "help": N_("menu.help"),
    },
    Role.PEER_WORKER: {
        "queue": N_("menu.queue"),
        "mine": N_("menu.mine"),
        "settings": N_("menu.settings"),
        "help": N_("menu.help"),
    },
    Role.SUPERVISOR: {
        "queue": N_("menu.queue"),
        "overdue": N_("menu.overdue"),
        "team": N_("menu.team"),
        "settings": N_("menu.settings"),
        "help": N_("menu.help"),
    },
    Role.ADMIN: {"settings": N_("menu.settings"), "help": N_("menu.help")},
}

HELP: dict[Role, str] = {
    Role.CLIENT: N_("help.client"),
    Role.FAMILY: N_("help.family"),
    Role.PEER_WORKER: N_("help.peer_worker"),
    Role.SUPERVISOR: N_("help.supervisor"),
    Role.ADMIN: N_("help.admin"),
}

PRIVACY: dict[Role, str] = {
    Role.CLIENT: N_("privacy.client"),
    Role.FAMILY: N_("privacy.family"),
    Role.PEER_WORKER: N_("privacy.staff"),
    Role.SUPERVISOR: N_("privacy.staff"),
    Role.ADMIN: N_("privacy.staff"),
}
