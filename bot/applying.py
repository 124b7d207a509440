"""The one registry of effect appliers: each effect type the core returns has exactly one
function that carries it out, registered by the module that owns its tables.

An *expander* turns an effect into more effects, decided by the core on facts the effect
names (a staff request, a reason to bring a person in); its effects take its place.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.models import FlowState, Person
from bot.telegram.incoming import Incoming
from bot.telegram.render import Outgoing
from flows.effects import Effect
from flows.timers import TimerEffect


@dataclass
class Acting:
    """Who the effects are applied for (the person acting, or the person a due timer is
    about; ``None``: an escalation's clock), and when.

    ``step`` is the number new buttons carry; ``forgotten`` is set once an effect erased the
    person (nothing more is saved for them); ``deferred`` holds messages too slow to make
    while rows are locked (a chart to draw): the scheduler makes them once its transaction
    is over."""

    person: Person | None
    now: datetime
    step: int = 0
    forgotten: bool = False
    deferred: list[Callable[[], Awaitable[Outgoing]]] = field(default_factory=list)

    async def make_deferred(self) -> list[Outgoing]:
        made = [await make() for make in self.deferred]
        self.deferred.clear()
        return made


@dataclass
class Applying(Acting):
    """Applying one update's effects: the person, their flow row and what they did; whether
    their tap was answered (a toast) and whether their schedule must be placed again."""

    flow_row: FlowState | None = None
    incoming: Incoming | None = None
    answered: bool = False
    reschedule: bool = False


Applier = Callable[[AsyncSession, Any, Any], Awaitable[list[Outgoing]]]
Expander = Callable[[AsyncSession, Any, Any], Awaitable[tuple[Effect, ...]]]


class Appliers:
    """Effect type → its applier (or expander). Registering a type twice is an error."""

    def __init__(self) -> None:
        self._appliers: dict[type, Applier] = {}
        self._expanders: dict[type, Expander] = {}

    def register(self, appliers: dict[type, Applier]) -> None:
        self._add(self._appliers, appliers)

    def register_expanders(self, expanders: dict[type, Expander]) -> None:
        self._add(self._expanders, expanders)

    def _add(self, table: dict[type, Any], entries: dict[type, Any]) -> None:
        for effect_type, function in entries.items():
            if effect_type in self._appliers or effect_type in self._expanders:
                raise ValueError(f"{effect_type.__name__} already has an applier")
            table[effect_type] = function

    async def apply(
        self, session: AsyncSession, effects: Sequence[Effect | TimerEffect], acting: Acting
    ) -> list[Outgoing]:
        """Each effect by its one applier, in order; an expander's effects take its place."""
        outgoing: list[Outgoing] = []
        pending: deque[Effect | TimerEffect] = deque(effects)
        while pending:
            effect = pending.popleft()
            expand = self._expanders.get(type(effect))
            if expand is not None:
                pending.extendleft(reversed(await expand(session, effect, acting)))
                continue
            outgoing += await self._appliers[type(effect)](session, effect, acting)
        return outgoing
