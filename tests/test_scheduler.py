"""Daily prompts, reminders and weekly summaries: on time, once a day, through DST and zone changes."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.app import build
from bot.config import load_settings
from bot.storage.models import CheckIn, Flag, FlowState, Person, Schedule
from bot.storage.schedules import reschedule
from flows.people import Rules
from flows.roles import Role
from flows.schedule import next_daily
from flows.timers import Timing
from tests.harness import TEST_TOKEN, Harness
from tests.harness import Person as Chat

NY = "America/New_York"
PROMPT = "time for today's check-in"


def _prompts(harness: Harness, since: int, chat_id: int | None = None) -> list[str]:
    return [
        c.params["text"]
        for c in harness.api.calls[since:]
        if c.method == "sendMessage"
        and ("check-in" in c.params["text"])
        and (chat_id is None or int(c.params["chat_id"]) == chat_id)
    ]


def _prompted(harness: Harness) -> Counter[int]:
    """How many check-in prompts each chat was sent."""
    return Counter(
        int(c.params["chat_id"])
        for c in harness.api.calls
        if c.method == "sendMessage" and PROMPT in c.params["text"]
    )


async def _client_with(harness: Harness, zone: str, clock: str = "20:00") -> Chat:
    """An onboarded client who chose ``zone`` and a check-in ``clock`` in their settings."""
    person = await harness.onboard(Role.CLIENT)
    await person.send("/settings")
    await person.press("Time zone")
    await person.send(zone)
    await person.send("/settings")
    await person.press("Check-in time")
    await person.send(clock)
    return person


async def _client_in(harness: Harness, zone: str, clock: str = "20:00") -> int:
    return (await _client_with(harness, zone, clock)).user_id


async def _simulate(
    harness: Harness, start: datetime, hours: int, step_minutes: int = 30
) -> list[datetime]:
    """Tick every ``step_minutes`` and return when each check-in prompt went out."""
    sent = []
    moment = start
    while moment < start + timedelta(hours=hours):
        harness.set_now(moment)
        before = len(harness.api.calls)
        await harness.tick()
        if any(PROMPT in t for t in _prompts(harness, before)):
            sent.append(moment)
        moment += timedelta(minutes=step_minutes)
    return sent


def test_daily_times_keep_the_wall_clock_across_dst() -> None:
    for start, expected_offsets in (
        (datetime(2026, 3, 6, 12, tzinfo=UTC), ["-05:00", "-05:00", "-04:00", "-04:00"]),
        (datetime(2026, 10, 30, 12, tzinfo=UTC), ["-04:00", "-04:00", "-05:00", "-05:00"]),
    ):
        moment, seen = start, []
        for _ in range(4):
            moment = next_daily(time(20), NY, moment)
            local = moment.astimezone(ZoneInfo(NY))
            assert local.time() == time(20)
            seen.append(local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:])
        assert seen == expected_offsets


async def test_one_prompt_a_day_through_the_spring_dst_change(harness: Harness) -> None:
    harness.set_now(datetime(2026, 3, 6, 12, tzinfo=UTC))
    await _client_in(harness, NY)
    sent = await _simulate(harness, datetime(2026, 3, 6, 12, tzinfo=UTC), hours=96)
    local = [s.astimezone(ZoneInfo(NY)) for s in sent]
    assert [d.date() for d in local] == [
        date(2026, 3, 6),
        date(2026, 3, 7),
        date(2026, 3, 8),
        date(2026, 3, 9),
    ]
    assert all(d.hour == 20 and d.minute < 30 for d in local), local


async def test_one_prompt_a_day_through_the_autumn_dst_change(harness: Harness) -> None:
    harness.set_now(datetime(2026, 10, 30, 12, tzinfo=UTC))
    await _client_in(harness, NY, "09:00")
    sent = await _simulate(harness, datetime(2026, 10, 30, 12, tzinfo=UTC), hours=96)
    local = [s.astimezone(ZoneInfo(NY)) for s in sent]
    assert Counter(d.date() for d in local) == Counter(
        {date(2026, 10, 30): 1, date(2026, 10, 31): 1, date(2026, 11, 1): 1, date(2026, 11, 2): 1}
    )
    assert all(d.hour == 9 for d in local), local


async def test_shanghai_has_no_dst_and_reminders_respect_quiet_hours(harness: Harness) -> None:
    harness.set_now(datetime(2026, 3, 6, 0, tzinfo=UTC))
    chat = await _client_in(harness, "Asia/Shanghai", "18:00")
    before = len(harness.api.calls)
    await _simulate(harness, datetime(2026, 3, 6, 0, tzinfo=UTC), hours=48)
    texts = _prompts(harness, before, chat)
    assert sum(PROMPT in t for t in texts) == 2
    assert sum("gentle reminder" in t for t in texts) == 2, (
        "18:00 + 3 h = 21:00, before quiet hours"
    )

    harness2_start = len(harness.api.calls)
    chat2 = await _client_in(harness, "Asia/Shanghai", "20:30")  # reminder would be 23:30: quiet
    await _simulate(harness, harness.now or datetime.now(UTC), hours=48)
    texts = _prompts(harness, harness2_start, chat2)
    assert sum(PROMPT in t for t in texts) == 2
    assert not any("gentle reminder" in t for t in texts)


async def _finish_checkin(person: Chat) -> None:
    await person.press("✅ Start check-in")
    await person.answer_checkin("😐 Okay")


@pytest.mark.parametrize(
    ("zone", "prompt_at"),
    [
        ("Asia/Shanghai", datetime(2026, 3, 6, 10, 1, tzinfo=UTC)),  # 18:01, same date as UTC
        ("Pacific/Kiritimati", datetime(2026, 3, 5, 18, 1, tzinfo=UTC)),  # 08:01 on 6 March
        ("Pacific/Pago_Pago", datetime(2026, 3, 7, 5, 1, tzinfo=UTC)),  # 18:01 on 6 March
    ],
)
async def test_no_reminder_once_the_checkin_is_done(
    harness: Harness, zone: str, prompt_at: datetime
) -> None:
    """Whether today's check-in is done is looked up for the client's own date, which can be
    a day before or after the server's (UTC+14, UTC-11)."""
    local = prompt_at.astimezone(ZoneInfo(zone))
    harness.set_now(prompt_at - timedelta(minutes=10))
    person = await _client_with(harness, zone, f"{local.hour:02d}:00")
    harness.set_now(prompt_at)
    before = len(harness.api.calls)
    await harness.tick()
    assert any(PROMPT in t for t in _prompts(harness, before, person.user_id))
    await _finish_checkin(person)
    before = len(harness.api.calls)
    await _simulate(harness, prompt_at + timedelta(minutes=29), hours=6)
    assert _prompts(harness, before, person.user_id) == []


async def test_paused_clients_get_nothing_until_they_resume(harness: Harness) -> None:
    harness.set_now(datetime(2026, 3, 6, 0, tzinfo=UTC))
    person = await harness.onboard(Role.CLIENT)
    await person.send("/pause")
    before = len(harness.api.calls)
    await _simulate(harness, datetime(2026, 3, 6, 0, tzinfo=UTC), hours=48)
    assert _prompts(harness, before, person.user_id) == []
    await person.send("/resume")
    await _simulate(harness, datetime(2026, 3, 8, 0, tzinfo=UTC), hours=24)
    assert sum(PROMPT in t for t in _prompts(harness, before, person.user_id)) == 1


async def test_changing_zone_after_the_prompt_brings_no_second_prompt_that_day(
    harness: Harness,
) -> None:
    harness.set_now(datetime(2026, 3, 6, 11, tzinfo=UTC))  # 19:00 in Shanghai
    person = await harness.onboard(Role.CLIENT)
    before = len(harness.api.calls)
    await _simulate(
        harness, datetime(2026, 3, 6, 11, tzinfo=UTC), hours=2
    )  # prompt at 20:00 Shanghai
    assert len(_prompts(harness, before, person.user_id)) == 1
    # Now the client flies to London, where it is still the morning of the same day.
    await person.send("/settings")
    await person.press("Time zone")
    await person.send("Europe/London")
    before = len(harness.api.calls)
    await _simulate(harness, datetime(2026, 3, 6, 13, tzinfo=UTC), hours=34)
    local = [c for c in _prompts(harness, before, person.user_id) if PROMPT in c]
    assert len(local) == 1, "6 March was already prompted; the next prompt is on 7 March"


async def _many_clients(harness: Harness, count: int, due: datetime) -> None:
    async with harness.db.transaction() as session:
        for n in range(count):
            person = Person(
                telegram_user_id=900_000 + n,
                chat_id=900_000 + n,
                role="client",
                locale="en",
                timezone="Asia/Shanghai",
                checkin_time=time(20),
                on_duty=False,
                paused=False,
                consented_at=due,
                onboarded_at=due - timedelta(days=1),
            )
            session.add(person)
            await session.flush()
            session.add(FlowState(person_id=person.id, context={}, step=0))
            session.add(Schedule(person_id=person.id, kind="checkin", due_at=due))


async def test_two_bot_processes_ticking_together_send_each_prompt_once(database_url: str) -> None:
    due = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)  # 20:00 Shanghai
    first = Harness(database_url, tick_batch=40)
    await first.start()
    second = build(
        load_settings(telegram_bot_token=TEST_TOKEN, database_url=database_url, tick_batch=40),
        request=first.api,
        get_updates_request=first.api,
        with_updater=False,
        rate_limited=False,
    )
    await second.application.initialize()
    await second.prepare()
    try:
        await _many_clients(first, 300, due)
        now = due + timedelta(seconds=5)
        assert first.services is not None
        for _ in range(10):
            await asyncio.gather(
                first.services.scheduler.tick(first.services.application.bot, now),
                second.scheduler.tick(second.application.bot, now),
            )
        chats = _prompted(first)
        assert len(chats) == 300
        assert set(chats.values()) == {1}
    finally:
        await second.application.shutdown()
        await second.db.dispose()
        await first.stop()


async def test_a_crowd_due_at_once_is_sent_by_one_periodic_run(database_url: str) -> None:
    """More prompts due than one batch: the periodic job keeps claiming until all are out,
    instead of one batch per interval (at 30 s a tick, 3,000 prompts would take minutes)."""
    due = datetime(2026, 3, 6, 12, 0, tzinfo=UTC)  # 20:00 Shanghai
    harness = Harness(database_url, tick_batch=40)
    await harness.start()
    try:
        await _many_clients(harness, 130, due)
        harness.set_now(due + timedelta(seconds=5))
        assert harness.services is not None
        context = SimpleNamespace(bot=harness.services.application.bot)
        await harness.services.scheduler.tick_job(context)  # type: ignore[arg-type]
        chats = _prompted(harness)
        assert len(chats) == 130
        assert set(chats.values()) == {1}
        async with harness.db.transaction() as session:
            still_due = await session.scalar(
                select(func.count()).select_from(Schedule).where(Schedule.due_at <= harness.now)
            )
        assert still_due == 0
    finally:
        await harness.stop()


async def test_weekly_summary_is_a_chart_in_the_clients_language(harness: Harness) -> None:
    harness.set_now(datetime(2026, 3, 2, 0, tzinfo=UTC))
    person = await harness.onboard(Role.CLIENT, "zh-TW")
    assert harness.now is not None
    moods = {date(2026, 3, day): 3 + day % 2 for day in range(1, 8)}
    await harness.add_checkins(person, moods, harness.now)
    before = len(harness.api.calls)
    await _simulate(harness, datetime(2026, 3, 7, 0, tzinfo=UTC), hours=24, step_minutes=60)
    photos = [c for c in harness.api.calls[before:] if c.method == "sendPhoto"]
    assert photos == [], "the summary comes on Sunday (8 March), not on Saturday"
    await _simulate(harness, datetime(2026, 3, 8, 0, tzinfo=UTC), hours=24, step_minutes=60)
    photos = [c for c in harness.api.calls[before:] if c.method == "sendPhoto"]
    assert len(photos) == 1
    assert "最近四週" in photos[0].params["caption"]
    png = photos[0].params["photo"]
    assert len(png) > 10_000


def test_quiet_hours_rules() -> None:
    rules = Rules()
    assert rules.is_quiet(time(23)) and not rules.is_quiet(time(21, 59))


async def test_reschedule_is_idempotent(harness: Harness) -> None:
    harness.set_now(datetime(2026, 3, 6, 0, tzinfo=UTC))
    person = await harness.onboard(Role.CLIENT)
    assert harness.now is not None
    async with harness.db.transaction() as session:
        row = await session.scalar(select(Person).where(Person.telegram_user_id == person.user_id))
        assert row is not None
        for _ in range(3):
            await reschedule(session, row, harness.now, Timing(reminder_after=timedelta(hours=3)))
        kinds = Counter((await session.scalars(select(Schedule.kind))).all())
    # 20:00 + 3 h falls in quiet hours, so there is no reminder row.
    assert kinds == Counter({"checkin": 1, "weekly": 1})


async def test_silence_nudges_then_flags(harness: Harness) -> None:
    harness.set_now(datetime(2026, 3, 1, 0, tzinfo=UTC))
    person = await harness.onboard(Role.CLIENT)
    async with harness.db.transaction() as session:
        row = await session.scalar(select(Person).where(Person.telegram_user_id == person.user_id))
        assert row is not None
        session.add(
            CheckIn(person_id=row.id, local_date=date(2026, 3, 1), mood=4, completed_at=harness.now)
        )
    before = len(harness.api.calls)
    await _simulate(harness, datetime(2026, 3, 2, 0, tzinfo=UTC), hours=24 * 4, step_minutes=60)
    texts = [t for t in _prompts(harness, before, person.user_id) if "reminder" not in t]
    assert "it's been a few days" in texts[2]
    async with harness.db.sessions() as session:
        rules = (await session.scalars(select(Flag.rule))).all()
    assert list(rules) == ["silence"], "raised once, not every silent day"


async def test_no_prompt_while_a_peer_worker_holds_the_chat(harness: Harness) -> None:
    harness.set_now(datetime(2026, 3, 6, 11, tzinfo=UTC))  # 19:00 in Shanghai
    client = await harness.onboard(Role.CLIENT)
    worker = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    await client.send("/talk")
    await worker.press("Claim")
    before = len(harness.api.calls)
    await _simulate(harness, datetime(2026, 3, 6, 11, tzinfo=UTC), hours=3)
    assert [t for t in _prompts(harness, before, client.user_id) if PROMPT in t] == []
    await worker.send("/done")
    await worker.press("Resolved")
    await worker.press("Skip")
    before = len(harness.api.calls)
    await _simulate(harness, datetime(2026, 3, 7, 11, tzinfo=UTC), hours=3)
    assert len([t for t in _prompts(harness, before, client.user_id) if PROMPT in t]) == 1


async def test_a_row_with_nothing_left_to_schedule_goes_and_the_rest_still_go_out(
    harness: Harness,
) -> None:
    """A family member left without a lesson time gets no lesson and their lesson row is
    dropped; a row of a kind this version does not know (left by another version) is dropped
    too; a client due in the same tick still gets their prompt."""
    harness.set_now(datetime(2026, 3, 6, 10, 50, tzinfo=UTC))  # 18:50 in Shanghai
    client = await _client_with(harness, "Asia/Shanghai", "19:00")
    relative = await harness.onboard(Role.FAMILY)
    harness.set_now(datetime(2026, 3, 6, 11, 1, tzinfo=UTC))
    async with harness.db.transaction() as session:
        member = await session.scalar(
            select(Person).where(Person.telegram_user_id == relative.user_id)
        )
        assert member is not None
        member.checkin_time = None  # their lesson time
        for kind in ("lesson", "retired_kind"):
            row = await session.get(Schedule, (member.id, kind))
            if row is None:
                session.add(Schedule(person_id=member.id, kind=kind, due_at=harness.now))
            else:
                row.due_at = harness.now
    before = len(harness.api.calls)
    await harness.tick()
    assert any(PROMPT in t for t in _prompts(harness, before, client.user_id))
    assert not any(
        c.method == "sendMessage" and int(c.params["chat_id"]) == relative.user_id
        for c in harness.api.calls[before:]
    )
    async with harness.db.sessions() as session:
        kinds = (
            await session.scalars(select(Schedule.kind).where(Schedule.person_id == member.id))
        ).all()
    assert "lesson" not in kinds and "retired_kind" not in kinds
