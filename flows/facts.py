"""What a flow or command needs the shell to look up before it runs.

Each feature declares its needs next to its flow (``NEEDS`` in ``flows/checkin.py``,
``flows/family.py`` …); :func:`needed` says, for one event, which facts those declarations
ask for. The shell has one loader per :class:`Fact` and loads exactly those, per event,
into ``Event.data[fact]``; nothing loaded is saved in a flow's context.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import StrEnum

from flows.people import Event
from flows.roles import Role


class Fact(StrEnum):
    """A fact the shell can load, and the key it has in ``Event.data``."""

    CHECKIN = "checkin"  # today's check-in, opened if need be: {"id", "answers"}
    HISTORY = "history"  # the last week's check-ins, one dict per day
    TODAY = "today"  # the person's local date
    JOINED = "joined"  # the local date the person finished joining (None: not known)
    SIGNS = "signs"  # the client's own warning signs: [[id, text], ...]
    LINKS = "links"  # a client's family links and usable invites
    PROGRESS = "progress"  # lesson slug -> "started" | "done"
    TRAINING = "training"  # the peer workers' course: lesson slug -> "started" | "done"
    PLAN = "plan"  # the safety plan: {section: text}
    ALIAS_TAKEN = "alias_taken"  # the alias the person typed belongs to someone else
    STAFF_ALIASES = "staff_aliases"  # every peer worker's and supervisor's alias
    ACTIVITIES = "activities"  # upcoming activities for the person: [flows.activities.Found]
    MEASURES = "measures"  # measure key -> "on" | "declined" (absent: never asked)
    ROOMS = "rooms"  # the person's group rooms: [flows.rooms.Membership]
    # an edited message's room, when it is the person's own message copied to a room and
    # still standing there: their flows.rooms.Membership of it (None: not a room message)
    EDITED_ROOM = "edited_room"


@dataclass(frozen=True, slots=True)
class Need:
    """``fact`` is needed for the ``commands`` named, and for every other event while the
    person is in ``flow`` (in one of ``states``, when given), or wherever they are
    (``anywhere``); only for ``roles`` and event ``kinds`` when those are given."""

    fact: Fact
    commands: Collection[str] = ()
    flow: str | None = None
    states: Collection[str] = ()
    roles: Collection[Role] = ()
    kinds: Collection[str] = ()
    anywhere: bool = False

    def applies(self, event: Event, role: Role, flow: str | None, state: str | None) -> bool:
        if self.roles and role not in self.roles:
            return False
        if self.kinds and event.kind not in self.kinds:
            return False
        if event.kind == "command":
            return event.value in self.commands
        if self.anywhere:
            return True
        return (
            self.flow is not None
            and flow == self.flow
            and (not self.states or state in self.states)
        )


def needed(
    needs: Iterable[Need], event: Event, role: Role, flow: str | None, state: str | None
) -> tuple[Fact, ...]:
    """The facts to load for this event, each once, in declaration order."""
    found: dict[Fact, None] = {}
    for need in needs:
        if need.applies(event, role, flow, state):
            found[need.fact] = None
    return tuple(found)
