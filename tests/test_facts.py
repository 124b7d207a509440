"""Which facts an event makes the shell load: declared by each feature, decided in the core."""

from __future__ import annotations

import pytest

from bot.crypto import Cipher
from bot.facts import FactLoaders
from flows.conversation import facts_for
from flows.facts import Fact
from flows.people import Event
from flows.roles import Role

CLIENT, FAMILY, WORKER = Role.CLIENT, Role.FAMILY, Role.PEER_WORKER


@pytest.mark.parametrize(
    ("event", "role", "flow", "state", "facts"),
    [
        (Event("command", "checkin"), CLIENT, None, None, (Fact.CHECKIN, Fact.SIGNS)),
        (Event("command", "history"), CLIENT, None, None, (Fact.HISTORY, Fact.TODAY, Fact.JOINED)),
        (Event("command", "history"), FAMILY, None, None, ()),
        (Event("choice", "ci:stress:2"), CLIENT, "checkin", "stress", (Fact.SIGNS,)),
        (Event("choice", "ci:mood:4"), CLIENT, "checkin", "mood", ()),
        (Event("command", "warningsigns"), CLIENT, None, None, (Fact.SIGNS,)),
        (Event("text", "trouble sleeping"), CLIENT, "warningsigns", "add", (Fact.SIGNS,)),
        (Event("command", "sos"), CLIENT, None, None, (Fact.PLAN,)),
        (Event("command", "sos"), FAMILY, None, None, ()),
        (Event("choice", "plan:skip"), CLIENT, "safetyplan", "reasons", (Fact.PLAN,)),
        (Event("command", "family"), CLIENT, None, None, (Fact.LINKS,)),
        (Event("command", "lessons"), FAMILY, None, None, (Fact.PROGRESS,)),
        (Event("text", "Lin"), WORKER, "onboarding", "alias", (Fact.ALIAS_TAKEN,)),
        (Event("choice", "lang:en"), WORKER, "onboarding", "alias", ()),
        (Event("text", "Lin"), WORKER, "onboarding", "language", ()),
        # Ordinary chat outside a flow loads nothing: the common case stays one query lighter.
        (Event("text", "hello"), CLIENT, None, None, ()),
        # A command names its own needs, whatever flow the person was in.
        (Event("command", "help"), CLIENT, "checkin", "stress", (Fact.ROOMS,)),
    ],
)
def test_an_event_needs_exactly_what_its_feature_declared(
    event: Event, role: Role, flow: str | None, state: str | None, facts: tuple[Fact, ...]
) -> None:
    assert facts_for(event, role, flow, state) == facts


def test_every_fact_the_core_can_ask_for_has_one_loader() -> None:
    assert set(FactLoaders(Cipher([])).loaders) == set(Fact)
