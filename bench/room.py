"""A group room under load: a room of 30 members receiving a message a second while other
clients answer check-in questions at 100 a second, over real HTTP.

The bot runs as its own process (``bench.live``) against the sandbox Bot API in this
process (Telegram's limits off, as in the latency measurement: what is measured is the
bot's own cost). The room's rows are made directly: a weekly room open now, its members
past the group alias and the rules and in the room (``flow_states``: the ``room`` flow).
Every second the next member writes "room #n"; the other 29 get a copy each. At the same
time ``bench.latency.Load`` drives the check-in clients at a steady rate.

Bot-side times, taken at the sandbox as in ``bench.latency``: a room message is *handed*
when ``getUpdates`` returns it to the bot; each copy's delivery is the arrival of its
``sendMessage`` − handed, and the message is delivered to the room when its last copy
arrived. Checked: every member but the writer got every message exactly once, every member
got them in the same order (messages of different members written at nearly the same
moment may be numbered either way, by the order their transactions took the room's lock),
and each writer's messages in the order they were written. ``TONGBAN_ROOM_COPIES_PER_SECOND`` is set
high (the copies' budget would otherwise be Telegram's, below what the room needs).

Also kept, being less sensitive to a shared machine than the times: the bot process's CPU
time from the first message to the last copy, per room message (the check-in answers' CPU
included), and the load average (1 min) at the start and the end.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bench.databases import fresh_database
from bench.latency import LatencyRun, Load
from bench.live import LiveBot
from bench.population import FIRST_USER_ID, Population, insert
from bench.results import quantile
from bench.throughput import bench_settings
from bench.timed_sandbox import TimedSandbox, update_chat
from bot.storage.db import Database
from bot.storage.models import FlowState, Person, Room, RoomMember, utcnow
from flows import rooms

ZONE = "Asia/Shanghai"
MARK = re.compile(r"room #(\d+)")
LOST_AFTER = 10.0
COPIES_PER_SECOND = 1000  # Telegram's limits are off in the benchmark


@dataclass
class Post:
    number: int
    chat_id: int
    sent: float
    measured: bool
    handed: float | None = None
    arrivals: dict[int, float] = field(default_factory=dict)


@dataclass
class RoomRun:
    posts: list[Post] = field(default_factory=list)
    received: dict[int, list[int]] = field(default_factory=dict)
    members: int = 0
    checkins: LatencyRun | None = None
    log_errors: list[str] = field(default_factory=list)
    bot_cpu: float | None = None  # seconds, while the room ran
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average at the start and the end

    def measured(self) -> list[Post]:
        return [p for p in self.posts if p.measured and p.handed is not None]

    def copy_ms(self) -> list[float]:
        return [
            1000 * (at - p.handed)
            for p in self.measured()
            for at in p.arrivals.values()
            if p.handed
        ]

    def delivered_ms(self) -> list[float]:
        """Per message: until its last copy arrived (only messages every member got)."""
        return [
            1000 * (max(p.arrivals.values()) - p.handed)
            for p in self.measured()
            if p.handed and len(p.arrivals) == self.members - 1
        ]

    @property
    def lost(self) -> int:
        return sum(self.members - 1 - len(p.arrivals) for p in self.posts)

    @property
    def duplicated(self) -> int:
        return sum(len(got) - len(set(got)) for got in self.received.values())

    @property
    def out_of_order(self) -> int:
        """Pairs of messages two members got in opposite orders, plus one writer's messages
        a member got out of the order written. Messages of different members written at
        nearly the same moment may be numbered either way by the bot (the room's order is
        the order their transactions took the room's lock), but every member must see that
        same order."""
        writer = {p.number: p.chat_id for p in self.posts}
        before: set[tuple[int, int]] = set()
        wrong = 0
        for got in self.received.values():
            for i, first in enumerate(got):
                for second in got[i + 1 :]:
                    before.add((first, second))
                    same = writer.get(first) == writer.get(second)
                    if same and first > second:
                        wrong += 1
        return wrong + sum(1 for a, b in before if a < b and (b, a) in before)


class RoomLoad:
    """Plays the room's members: one message a second, each member in turn."""

    def __init__(self, sandbox: TimedSandbox, members: list[int]) -> None:
        self.sandbox = sandbox
        self.members = members
        self.run = RoomRun(received={m: [] for m in members}, members=len(members))
        self.by_number: dict[int, Post] = {}
        self.waiting: dict[int, Post] = {}  # chat → its post not yet handed to the bot

    def on_handed(self, chat_id: int, at: float) -> None:
        post = self.waiting.pop(chat_id, None)
        if post is not None:
            post.handed = at

    def on_call(self, method: str, values: dict[str, Any], chat_id: int, at: float) -> None:
        if method != "sendMessage":
            return
        found = MARK.search(str(values.get("text", "")))
        if found is None:
            return
        number = int(found.group(1))
        self.run.received[chat_id].append(number)
        post = self.by_number.get(number)
        if post is not None:
            post.arrivals.setdefault(chat_id, at)

    async def drive(self, rate: float, warmup: float, seconds: float) -> None:
        started = time.perf_counter()
        number = 0
        while True:
            due = started + number / rate
            if due > started + warmup + seconds:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            chat_id = self.members[number % len(self.members)]
            post = Post(number, chat_id, time.perf_counter(), due >= started + warmup)
            self.run.posts.append(post)
            self.by_number[number] = post
            self.waiting[chat_id] = post
            await self.sandbox.user_send_text(chat_id, f"room #{number}")
            number += 1
        last, got = time.perf_counter(), -1
        while time.perf_counter() - last < LOST_AFTER:
            now_got = sum(len(p.arrivals) for p in self.run.posts)
            if now_got == len(self.run.posts) * (len(self.members) - 1):
                break
            if now_got > got:
                last, got = time.perf_counter(), now_got
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)  # late duplicates would arrive now


async def make_room(database_url: str, members: list[int]) -> None:
    """A weekly room open now (for eight hours from an hour ago), everyone in it."""
    db = Database(database_url)
    try:
        now = utcnow()
        local = (now - timedelta(hours=1)).astimezone(ZoneInfo(ZONE))
        async with db.transaction() as session:
            room = Room(
                title="Bench group",
                weekday=local.weekday(),
                opens=local.time().replace(second=0, microsecond=0),
                minutes=480,
                zone=ZONE,
                last_seq=0,
                created_at=now,
            )
            session.add(room)
            await session.flush()
            people = (
                await session.scalars(
                    select(Person.id)
                    .where(Person.telegram_user_id.in_(members))
                    .order_by(Person.telegram_user_id)
                )
            ).all()
            for index, person_id in enumerate(people):
                session.add(
                    RoomMember(
                        room_id=room.id,
                        person_id=person_id,
                        alias=f"M{index}",
                        leader=index == 0,
                        state=rooms.MEMBER,
                        rules_at=now,
                        muted=False,
                        invited_at=now,
                        invite_sent=True,
                    )
                )
            await session.execute(
                update(FlowState)
                .where(FlowState.person_id.in_(people))
                .values(flow=rooms.NAME, state="inside", context={"room": room.id})
            )
    finally:
        await db.dispose()


async def run_room(
    database_url: str, members: int, clients: int, rate: float, seconds: float, warmup: float
) -> RoomRun:
    settings = bench_settings(database_url)
    now = utcnow()
    population = Population(
        clients=members + clients,
        now=now,
        zone=ZONE,
        first_user_id=FIRST_USER_ID,
        schedules_after=now + timedelta(minutes=30),
    )
    await insert(database_url, population, settings)
    ids = [FIRST_USER_ID + i for i in range(members + clients)]
    await make_room(database_url, ids[:members])
    sandbox = TimedSandbox(rate_limits=False)
    await sandbox.start()
    bot = LiveBot(
        sandbox,
        database_url,
        rate_limiter=False,
        env={"TONGBAN_ROOM_COPIES_PER_SECOND": str(COPIES_PER_SECOND)},
    )
    try:
        assert sandbox.add_people(members + clients) == ids
        room_chats = set(ids[:members])
        checkins = Load(sandbox, ids[members:])
        room = RoomLoad(sandbox, ids[:members])
        to_load_call, to_load_handed = sandbox.on_call, sandbox.on_handed
        assert to_load_call is not None and to_load_handed is not None

        def on_call(method: str, values: dict[str, Any], status: int, at: float) -> None:
            chat = sandbox.chat_of(method, values) if method != "getUpdates" else None
            if chat in room_chats:
                room.on_call(method, values, chat, at)
            else:
                to_load_call(method, values, status, at)

        def on_handed(update_: dict[str, Any], at: float) -> None:
            chat = update_chat(update_)
            if chat in room_chats:
                room.on_handed(chat, at)
            else:
                to_load_handed(update_, at)

        sandbox.on_call, sandbox.on_handed = on_call, on_handed
        await bot.start()
        cpu, load = bot.cpu_seconds(), os.getloadavg()[0]
        await asyncio.gather(
            checkins.drive(rate, warmup, seconds), room.drive(1.0, warmup, seconds)
        )
        cpu_after = bot.cpu_seconds()
        if cpu is not None and cpu_after is not None:
            room.run.bot_cpu = cpu_after - cpu
        room.run.load = (load, os.getloadavg()[0])
        room.run.checkins = checkins.run
        room.run.log_errors = bot.log_errors()
        return room.run
    finally:
        await bot.stop()
        await sandbox.stop()
        bot.cleanup()


def measure(
    kind: str, members: int, clients: int, rate: float, seconds: float, warmup: float
) -> RoomRun:
    with fresh_database(kind, "room") as url:
        return asyncio.run(run_room(url, members, clients, rate, seconds, warmup))


def summary(run: RoomRun) -> dict[str, Any]:
    assert run.checkins is not None
    checkin = run.checkins.bot_side()
    return {
        "room_p50": quantile(run.delivered_ms(), 0.5),
        "room_p99": quantile(run.delivered_ms(), 0.99),
        "copy_p99": quantile(run.copy_ms(), 0.99),
        "checkin_p50": quantile(checkin, 0.5),
        "checkin_p99": quantile(checkin, 0.99),
        "messages": len(run.measured()),
        "copies": len(run.copy_ms()),
        "lost": run.lost,
        "duplicated": run.duplicated,
        "out_of_order": run.out_of_order,
        "checkins_lost": run.checkins.lost,
        "errors": len(run.log_errors) + sum(run.checkins.errors.values()),
        "cpu_per_message": (
            None if run.bot_cpu is None or not run.posts else 1000 * run.bot_cpu / len(run.posts)
        ),
        "load": run.load,
    }
