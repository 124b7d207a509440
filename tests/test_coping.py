"""Coping cards: which answer calls for which card, and what is kept for the reports."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.storage.models import CopingCard
from flows.coping import CARDS, card_for_day, skills
from flows.effects import CopingHelped, Notice, Say, ShowCopingCard
from flows.roles import Role
from tests.harness import Harness


@pytest.mark.parametrize(
    ("answers", "card"),
    [
        ({"unusual": ["voices"], "distress": 2}, "voices"),
        ({"unusual": ["voices"], "distress": 1}, None),  # a little upset: no card
        ({"unusual": ["watched"], "distress": 1}, "watched"),
        ({"unusual": ["watched"], "distress": 0}, None),
        ({"unusual": ["voices", "watched"], "distress": 3, "mood": 1}, "voices"),
        ({"medication": "partly"}, "missed_doses"),
        ({"medication": "not_taken", "mood": 1}, "missed_doses"),
        ({"medication": "not_prescribed"}, None),
        ({"side_effects": 2}, "side_effects"),
        ({"side_effects": 1}, None),
        ({"mood": 2}, "low_mood"),
        ({"mood": 3}, None),
        ({"stress": 2}, "stress"),
        ({"stress": 1}, None),
        ({"sleep": -2}, "sleep"),
        ({"sleep": -1}, None),
        ({"mood": 4, "sleep": 0, "medication": "taken", "unusual": [], "stress": 0}, None),
    ],
)
def test_the_answer_that_calls_for_a_card(answers: dict[str, Any], card: str | None) -> None:
    assert card_for_day(answers) == card


def test_every_card_has_two_to_four_lines_and_medication_cards_send_to_the_doctor() -> None:
    for key, card in CARDS.items():
        assert 2 <= len(card.lines) <= 4, key
    for key in ("missed_doses", "side_effects"):
        assert CARDS[key].lines[-1] == "coping.doctor"


def test_a_card_is_recorded_as_shown_and_its_answer_as_given() -> None:
    assert isinstance(skills("")[0], Say)
    shown = skills("sleep checkin")
    assert ShowCopingCard("sleep", "checkin") in shown
    assert ShowCopingCard("sleep", "library") in skills("sleep")
    assert CopingHelped("sleep", "some") in skills("sleep helped some")
    for stale in ("ghosts", "sleep helped maybe", "sleep checkin extra"):
        assert [type(effect) for effect in skills(stale)] == [Notice]


async def test_did_this_help_is_kept_on_the_card_shown(harness: Harness) -> None:
    harness.set_now(datetime(2026, 12, 1, 12, tzinfo=UTC))
    client = await harness.onboard(Role.CLIENT)
    await client.send("/skills")
    await client.press("🌙 For better sleep")
    await client.press("A little")
    await client.send("/skills")
    await client.press("🌬 When stress builds up")
    await client.send("/skills")
    await client.press("🌙 For better sleep")
    async with harness.db.sessions() as session:
        rows = (await session.scalars(select(CopingCard).order_by(CopingCard.id))).all()
    assert [(r.card, r.source, r.helped) for r in rows] == [
        ("sleep", "library", "some"),
        ("stress", "library", None),
        ("sleep", "library", None),
    ]
