"""A leader changes or cancels an activity in the chat: ``/myactivities`` lists the ones they
lead (a supervisor or admin: every one) that have not started, a page at a time; a number opens one with a button for
each thing that can change; a new value is shown before it is saved; cancelling asks first.

What a change or a cancellation does is the command line's (``tongban activity edit`` and
``cancel``: everyone who answered is told); this module only decides who may, on the
activity as the shell loaded and locked it, and asks for the new value.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from flows.activities import AUDIENCE_TEXT, CANT, GOING, KINDS, MAYBE, WAITING, Found, card
from flows.commands import parse_number
from flows.effects import (
    ActivityRequest,
    CancelActivity,
    ChangeActivity,
    Choice,
    Effect,
    ListLedActivities,
    Notice,
    Say,
    ShowAnswer,
)
from flows.engine import OneField, move, pressed
from flows.facts import Fact, Need
from flows.new_activity import (
    ActivityQuestions,
)
from flows.people import PersonView
from flows.roles import Role
from flows.text import LANGUAGE_NAMES, N_, Lines, Msg, Raw, Text, ZonedTime, msg

NAME = "editactivity"
NEEDS = (Need(Fact.STAFF_ALIASES, flow=NAME, states=("leaders",)),)
# Who may change or cancel any activity, not only the ones they lead.
OVERSEERS = frozenset({Role.SUPERVISOR, Role.ADMIN})
PAGE = 10  # activities listed at a time by /myactivities

# What can change, in the order of the buttons: the field and its button's label.
FIELDS = {
    "time": N_("activity.manage.time"),
    "minutes": N_("activity.manage.minutes"),
    "place": N_("activity.manage.place"),
    "capacity": N_("activity.manage.capacity"),
    "title": N_("activity.manage.title"),
    "kind": N_("activity.manage.kind"),
    "audience": N_("activity.manage.audience"),
    "language": N_("activity.manage.language"),
    "leaders": N_("activity.manage.leaders"),
}
ACTIONS = ("manage", "cancel", "cancelnow")
CANCEL = N_("activity.manage.cancel")
CANCEL_YES = N_("activity.cancel.yes")
CANCEL_NO = N_("activity.cancel.no")


def manages(found: Found, person: PersonView) -> bool:
    """Its leaders change it; supervisors and admins may change any activity."""
    return person.role in OVERSEERS or any(
        leader == person.id for leader, _ in found.activity.leaders
    )


def listing(argument: str) -> ListLedActivities:
    """``/myactivities`` (the first page) or ``/myactivities <page>`` (the More button)."""
    page = parse_number(argument.strip()) if argument.strip() else 1
    return ListLedActivities(max(page or 1, 1) - 1)


def led(
    found: Sequence[Found], zone: str, page: int = 0, more: bool = False, every: bool = False
) -> Say:
    """``/myactivities``: a page of the activities not yet started that the person may
    change (``every``: all of the program's, for a supervisor or admin), times on the
    program's clock (``zone``); ``more``: a button for the next page."""
    if not found:
        none = Msg(N_("activity.led.none_all")) if every else Msg(N_("activity.led.none"))
        return Say(none, menu=True)
    first = page * PAGE + 1
    lines: list[Msg] = [Msg(N_("activity.led.title"))]
    numbered = list(enumerate(found, first))
    for number, item in numbered:
        activity = item.activity
        lines.append(
            msg(
                N_("activity.led.line"),
                number=number,
                title=activity.title,
                when=ZonedTime(activity.starts_at, zone),
                going=item.going,
                capacity=activity.capacity,
            )
        )
    lines.append(Msg(N_("activity.led.tap")))
    choices = tuple(
        Choice(Raw(str(number)), f"/manage {item.activity.id}") for number, item in numbered
    )
    if more:
        choices += (Choice(Msg(N_("activity.led.more")), f"/myactivities {page + 2}"),)
    return Say(Lines(tuple(lines)), choices, columns=5)


def command(argument: str, via_button: bool) -> tuple[Effect, ...] | dict[str, object]:
    """``/manage <id>`` (the activity and its buttons), ``/manage <id> cancel`` (asked
    first), ``/manage <id> cancelnow``, ``/manage <id> keep``; or the field a leader wants to
    change (``/manage <id> time``), which starts the flow (returned: the flow's context)."""
    parts = argument.split()
    activity_id = parse_number(parts[0]) if parts else None
    if activity_id is None:
        return (Notice(Msg(N_("input.stale_button"))),)
    action = parts[1] if len(parts) == 2 else "manage" if len(parts) == 1 else ""
    if action in FIELDS:
        return {"activity": activity_id, "field": action}
    if action == "keep":
        shown = (ShowAnswer(Msg(CANCEL_NO)),) if via_button else ()
        return (*shown, Say(Msg(N_("activity.cancel.kept"))))
    if action in ACTIONS:
        shown = (ShowAnswer(Msg(CANCEL_YES)),) if via_button and action == "cancelnow" else ()
        return (*shown, ActivityRequest(action, activity_id))
    return (Notice(Msg(N_("input.stale_button"))),)


def refusal(found: Found | None, person: PersonView, now: datetime) -> Say | None:
    """Why this person cannot change or cancel it now (``None``: they can): only its leaders,
    supervisors and admins; not once it is cancelled or has started."""
    if found is None:
        return Say(Msg(N_("activity.gone")))
    activity = found.activity
    if not manages(found, person):
        return Say(Msg(N_("activity.manage.not_yours")))
    if activity.cancelled:
        return Say(msg(N_("activity.was_cancelled"), title=activity.title))
    if now >= activity.starts_at:
        return Say(msg(N_("activity.manage.started"), title=activity.title))
    return None


def decide(
    request: ActivityRequest, found: Found | None, person: PersonView, now: datetime, zone: str
) -> tuple[Effect, ...]:
    """A leader's tap, on the activity as loaded and locked; times on the program's clock."""
    refused = refusal(found, person, now)
    if refused is not None or found is None:
        return (refused or Say(Msg(N_("activity.gone"))),)
    activity = found.activity
    if request.action == "cancelnow":
        return (CancelActivity(activity.id),)
    if request.action == "cancel":
        when = ZonedTime(activity.starts_at, zone)
        ask = msg(N_("activity.cancel.ask"), title=activity.title, when=when)
        choices = (
            Choice(Msg(CANCEL_YES), f"/manage {activity.id} cancelnow"),
            Choice(Msg(CANCEL_NO), f"/manage {activity.id} keep"),
        )
        return (Say(ask, choices, columns=1),)
    counts = {answer: 0 for answer in (GOING, WAITING, MAYBE, CANT)}
    for answer in found.answers:
        counts[answer.answer] = counts.get(answer.answer, 0) + 1
    text = Lines(
        (
            Msg(N_("activity.manage.ask")),
            *card(activity, zone=zone).parts,
            msg(
                N_("activity.manage.answers"),
                going=counts[GOING],
                capacity=activity.capacity,
                waiting=counts[WAITING],
                maybe=counts[MAYBE],
                cant=counts[CANT],
            ),
        )
    )
    buttons = tuple(
        Choice(Msg(label), f"/manage {activity.id} {key}") for key, label in FIELDS.items()
    )
    cancel = Choice(Msg(CANCEL), f"/manage {activity.id} cancel")
    return (Say(text, (*buttons, cancel), columns=2),)


STOP = Choice(Msg(N_("activity.edit.stop")), "edit:stop")
SAVE = Choice(Msg(N_("activity.edit.save")), "edit:save")


class EditActivity(OneField, ActivityQuestions):
    """``/manage <id> <field>``: the new value, shown, then saved (or nothing changes)."""

    name = NAME
    stop = STOP
    initial = "time"
    fields = FIELDS
    states: ClassVar[list[str]] = [*FIELDS, "confirm", "saved", "stopped"]
    final = frozenset({"saved", "stopped"})
    transitions: ClassVar[list[dict[str, Any]]] = [
        move("*", "stopped", "stops"),
        *(move(field, "confirm", "is_valid", before="keep") for field in FIELDS),
        move("confirm", "saved", "is_valid"),
    ]

    stops = pressed("edit:stop")

    # -- the questions: as when announcing (flows.new_activity) -----------------------------

    # The time is the "when" question of announcing, under the field's name.
    on_enter_time = ActivityQuestions.on_enter_when
    parse_time = ActivityQuestions.parse_when
    reask_time = ActivityQuestions.reask_when

    def on_enter_title(self) -> None:
        self.ask(Msg(N_("activity.edit.title")), (STOP,))

    def on_enter_confirm(self) -> None:
        self.ask(
            Lines(
                (
                    _new_value(str(self.ctx["field"]), self.ctx["value"], self.rules.program_zone),
                    Msg(N_("activity.edit.confirm")),
                )
            ),
            (SAVE, STOP),
            1,
        )

    def parse_confirm(self) -> bool | None:
        return True if self.event.kind == "choice" and self.event.value == "edit:save" else None

    def on_enter_saved(self) -> None:
        self.show_choice(Msg(N_("activity.edit.save")))
        value = self.ctx["value"]
        if isinstance(value, list):  # the leaders' aliases
            value = ",".join(value)
        self.emit(
            ChangeActivity(
                int(self.ctx["activity"]),
                str(self.ctx["field"]),
                value if isinstance(value, int) else str(value),
            )
        )

    def on_enter_stopped(self) -> None:
        self.show_choice(Msg(N_("activity.edit.stop")))
        self.emit(Say(Msg(N_("activity.edit.stopped"))))


def _new_value(field: str, value: object, zone: str) -> Msg:
    if field == "time":
        when = ZonedTime(datetime.fromisoformat(str(value)), zone)
        return msg(N_("activity.edit.new.time"), when=when)
    if field == "minutes":
        return msg(N_("activity.edit.new.minutes"), minutes=int(str(value)))
    if field == "capacity":
        return msg(N_("activity.edit.new.capacity"), capacity=int(str(value)))
    if field == "place":
        place: Text = Msg(N_("activity.online")) if value == "" else Raw(str(value))
        return msg(N_("activity.edit.new.place"), place=place)
    if field == "kind":
        return msg(N_("activity.edit.new.kind"), kind=Msg(KINDS[str(value)]))
    if field == "audience":
        return msg(N_("activity.edit.new.audience"), audience=Msg(AUDIENCE_TEXT[str(value)]))
    if field == "language":
        return msg(N_("activity.edit.new.language"), language=LANGUAGE_NAMES[str(value)])
    if field == "leaders" and isinstance(value, list):
        return msg(N_("activity.edit.new.leaders"), leaders=" · ".join(value))
    return msg(N_("activity.edit.new.title"), title=str(value))


__all__ = [
    "FIELDS",
    "NAME",
    "NEEDS",
    "OVERSEERS",
    "EditActivity",
    "command",
    "decide",
    "led",
    "listing",
    "manages",
    "refusal",
]
