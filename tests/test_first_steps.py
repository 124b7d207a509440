"""Small things a new person notices: when the first check-in comes, the time zones offered
first, and the answer to an invite code nobody ever made."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from flows.questions import zone_choices
from flows.roles import Role
from flows.text import Msg
from tests.harness import Harness, texts


async def _client_at(harness: Harness, now: datetime, hour: str) -> str:
    harness.set_now(now)
    person = harness.person("en-US")
    await person.send(f"/start {await harness.invite(Role.CLIENT)}")
    for label in ("✅ I agree", "English", "United States", "US Eastern (New York)"):
        await person.press(label)
    return texts(await person.press(hour))


async def test_a_client_who_joins_after_the_time_is_told_tomorrow(harness: Harness) -> None:
    four_pm_in_new_york = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
    said = await _client_at(harness, four_pm_in_new_york, "09:00")
    assert "Your first check-in will come tomorrow at 9:00\u202fAM." in said


async def test_a_client_who_joins_before_the_time_is_told_today(harness: Harness) -> None:
    four_pm_in_new_york = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
    said = await _client_at(harness, four_pm_in_new_york, "20:00")
    assert "Your first check-in will come today at 8:00\u202fPM." in said


@pytest.mark.parametrize(
    ("region", "locale", "first"),
    [
        ("US", "en", "zone.America/New_York"),
        ("CA", "zh_Hans", "zone.America/Toronto"),
        (None, "en", "zone.Europe/London"),
        ("XX", "en", "zone.Europe/London"),
        (None, "zh_Hans", "zone.Asia/Shanghai"),
        (None, "zh_Hant", "zone.Asia/Taipei"),
    ],
)
def test_the_zones_of_the_region_or_else_the_language_come_first(
    region: str | None, locale: str, first: str
) -> None:
    assert zone_choices(region, locale)[0].label == Msg(first)


async def test_a_code_nobody_made_is_not_told_it_expired(harness: Harness) -> None:
    stranger = harness.person("en")
    said = texts(await stranger.send("/start AAAAAAAAAAAAAAAAAAAAAAAA"))
    assert "I can't find this invite code" in said
    assert "doesn't work any more" not in said
