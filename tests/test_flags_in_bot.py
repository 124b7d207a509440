"""Early-warning flags raised from real check-ins, once per episode, and listed for staff."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.storage.models import Flag
from flows.roles import Role
from tests.harness import Harness
from tests.harness import Person as Chat


async def _checkin(person: Chat, mood: str) -> None:
    await person.send("/checkin")
    await person.answer_checkin(mood)


async def _flags(harness: Harness) -> list[tuple[str, bool]]:
    async with harness.db.sessions() as session:
        rows = (await session.scalars(select(Flag).order_by(Flag.id))).all()
    return [(f.rule, f.cleared_at is None) for f in rows]


async def test_three_low_days_raise_one_flag_and_a_good_day_closes_it(harness: Harness) -> None:
    start = datetime(2026, 3, 2, 12, tzinfo=UTC)
    harness.set_now(start)
    person = await harness.onboard(Role.CLIENT)
    for day in range(3):
        harness.set_now(start + timedelta(days=day))
        await _checkin(person, "😞 Very low")
    assert await _flags(harness) == [("low_mood", True)]
    harness.set_now(start + timedelta(days=3))
    await _checkin(person, "🙁 Low")
    assert await _flags(harness) == [("low_mood", True)], "still the same episode: not raised again"
    harness.set_now(start + timedelta(days=4))
    await _checkin(person, "🙂 Good")
    assert await _flags(harness) == [("low_mood", False)], "the episode closes when mood recovers"


async def test_a_drop_from_the_persons_own_baseline_raises_a_flag(harness: Harness) -> None:
    start = datetime(2026, 3, 10, 12, tzinfo=UTC)
    harness.set_now(start)
    person = await harness.onboard(Role.CLIENT)
    await harness.add_checkins(person, {date(2026, 3, day): 5 for day in range(1, 9)}, start)
    await _checkin(person, "😐 Okay")  # 3, two steps below an average of 5
    assert await _flags(harness) == [("mood_drop", True)]


@pytest.fixture
def captured(capsys: pytest.CaptureFixture[str]) -> pytest.CaptureFixture[str]:
    return capsys


async def test_flags_are_listed_on_the_command_line(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, captured: pytest.CaptureFixture[str]
) -> None:
    start = datetime(2026, 3, 2, 12, tzinfo=UTC)
    person = await harness.onboard(Role.CLIENT)
    for day in range(3):
        harness.set_now(start + timedelta(days=day))
        await _checkin(person, "🙁 Low")
    monkeypatch.setenv("TONGBAN_DATABASE_URL", harness.database_url)
    import asyncio

    code = await asyncio.to_thread(main, ["flags", "list"])
    out = captured.readouterr().out
    assert code == 0
    assert "low_mood" in out
    assert "2026-03-04" in out, "evidence names the days"


async def _medication_day(person: Chat, answer: str) -> None:
    await person.send("/checkin")
    for label in ("😐 Okay", "As usual", answer):
        await person.press(label)
    if answer in ("💊 Yes", "Some of it"):
        await person.press("No")  # side effects
    for label in ("None of these", "A little", "None", "Skip"):
        await person.press(label)


async def test_a_stopped_medication_stays_open_past_14_days_until_taken_or_closed(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, captured: pytest.CaptureFixture[str]
) -> None:
    start = datetime(2026, 3, 2, 12, tzinfo=UTC)
    harness.set_now(start)
    person = await harness.onboard(Role.CLIENT)
    await _medication_day(person, "💊 Yes")
    for day in range(1, 18):
        harness.set_now(start + timedelta(days=day))
        await _medication_day(person, "I don't take any")
    assert await _flags(harness) == [("stopped_medication", True)], "17 days on: still open"
    harness.set_now(start + timedelta(days=18))
    await _medication_day(person, "💊 Yes")
    assert await _flags(harness) == [("stopped_medication", False)], "taking it again closes it"

    # A new stop, closed by hand (say the doctor stopped it): the same stop is not raised again.
    harness.set_now(start + timedelta(days=19))
    await _medication_day(person, "I don't take any")
    assert await _flags(harness) == [("stopped_medication", False), ("stopped_medication", True)]
    async with harness.db.sessions() as session:
        second = max((await session.scalars(select(Flag.id))).all())
    monkeypatch.setenv("TONGBAN_DATABASE_URL", harness.database_url)
    import asyncio

    assert await asyncio.to_thread(main, ["flags", "close", str(second)]) == 0
    assert f"flag {second} closed" in captured.readouterr().out
    harness.set_now(start + timedelta(days=20))
    await _medication_day(person, "I don't take any")
    assert await _flags(harness) == [("stopped_medication", False), ("stopped_medication", False)]
    assert await asyncio.to_thread(main, ["flags", "close", str(second)]) == 1
    assert "no open flag" in captured.readouterr().err
