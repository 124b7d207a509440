"""Latency over real HTTP: the bot process polling the sandbox Bot API at a steady rate.

500 onboarded clients (rows made by ``bench.population``; nothing of theirs falls due
during the run) are played by the sandbox in this process. Every ``1/rate`` seconds the
next idle client acts, so the rate is steady and each person has at most one update in
flight, as a person waiting for the bot's answer would: ``/checkin``, then the seven
button presses of a whole check-in (each button read from the bot's last message, as a
Telegram app would show it), then free-text messages ("I'm okay today, thanks"), which
the risk assessment reads and the bot answers.

Timing is taken on the sandbox side (``bench.timed_sandbox``): an update is *handed* when
``getUpdates`` returns it to the bot; its *reply* is the arrival of the ``sendMessage``
the person sees next (the next question, or the answer to their text). Bot-side latency
is reply − handed: the bot's processing plus one HTTP response and one HTTP request on
loopback. End-to-end adds the time the update waited in the queue for the bot's next
``getUpdates``. An update is *lost* when its reply had not come 5 s after the last reply
of the run (an overloaded bot is given time to catch up), *duplicated* when more
messages came to that chat than the action asks for; errors are non-2xx answers to the
bot's calls and ERROR lines in the bot's log.

The run is cut into five equal windows after a warm-up; each window's p50 and p99 are one
"run" of the table (median and range over the windows), and the p99 over the whole run is
shown beside them.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from bench.databases import fresh_database
from bench.live import LiveBot
from bench.population import FIRST_USER_ID, Population, insert
from bench.results import quantile
from bench.throughput import ANSWERS, bench_settings
from bench.timed_sandbox import TimedSandbox, update_chat
from bot.storage.models import utcnow

SENDS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "copyMessage"})
FREE_TEXT = "I'm okay today, thanks"
LOST_AFTER = 5.0
WINDOWS = 5


def answer_button(sandbox: TimedSandbox, chat_id: int) -> tuple[int, str, str] | None:
    """The check-in answer on the bot's latest message with buttons: (message, data, value)."""
    chat = sandbox.chats.chat(chat_id)
    for message_id in sorted(chat.messages, reverse=True):
        stored = chat.messages[message_id]
        if not stored.from_bot:
            continue
        keyboard = (stored.reply_markup or {}).get("inline_keyboard")
        if not keyboard:
            continue
        for row in keyboard:
            for button in row:
                data = str(button.get("callback_data", ""))
                value = data.split(":", 1)[-1].rsplit("~", 1)[0]
                if value in ANSWERS.values():
                    return message_id, data, value
        return None
    return None


@dataclass
class Action:
    chat_id: int
    kind: Literal["/checkin", "press", "text"]
    expected: int
    sent: float
    measured: bool
    handed: float | None = None
    reply: float | None = None
    messages: int = 0


@dataclass
class Client:
    chat_id: int
    stage: str = "start"  # start → checkin → chatting


@dataclass
class LatencyRun:
    actions: list[Action] = field(default_factory=list)
    lost: int = 0
    duplicated: int = 0
    stray: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    log_errors: list[str] = field(default_factory=list)
    skipped: int = 0
    seconds: float = 0.0  # measured part only (after the warm-up)
    window: tuple[float, float] = (0.0, 0.0)  # its start and end (perf_counter)

    def measured(self) -> list[Action]:
        return [a for a in self.actions if a.measured and a.reply is not None]

    def bot_side(self, actions: list[Action] | None = None) -> list[float]:
        chosen = self.measured() if actions is None else actions
        return [1000 * (a.reply - a.handed) for a in chosen if a.reply and a.handed]

    def end_to_end(self) -> list[float]:
        return [1000 * (a.reply - a.sent) for a in self.measured() if a.reply]

    def windows(self) -> list[list[Action]]:
        measured = sorted(self.measured(), key=lambda a: a.sent)
        if not measured:
            return []
        start, stop = measured[0].sent, measured[-1].sent + 1e-9
        width = (stop - start) / WINDOWS
        return [
            [a for a in measured if start + i * width <= a.sent < start + (i + 1) * width]
            for i in range(WINDOWS)
        ]


class Load:
    """Plays the clients: one action per tick of the rate, only from clients not waiting."""

    def __init__(self, sandbox: TimedSandbox, chat_ids: list[int]) -> None:
        self.sandbox = sandbox
        self.clients = {chat_id: Client(chat_id) for chat_id in chat_ids}
        self.idle: deque[int] = deque(chat_ids)
        self.pending: dict[int, Action] = {}
        self.run = LatencyRun()
        sandbox.on_call = self._on_call
        sandbox.on_handed = self._on_handed

    def _on_handed(self, update: dict[str, Any], at: float) -> None:
        chat_id = update_chat(update)
        action = self.pending.get(chat_id) if chat_id is not None else None
        if action is not None and action.handed is None:
            action.handed = at

    def _on_call(self, method: str, values: dict[str, Any], status: int, at: float) -> None:
        if method == "getUpdates":
            # A 409 here is PTB's last getUpdates at shutdown (it confirms the offset)
            # ending the long poll still waiting, as Telegram would; not an error.
            return
        if status != 200:
            self.run.errors[f"{method} {status}"] += 1
        chat_id = self.sandbox.chat_of(method, values)
        if chat_id is None:
            return
        action = self.pending.get(chat_id)
        if action is None:
            if method in SENDS:
                self.run.stray += 1
            return
        if method in SENDS:
            action.messages += 1
            if action.messages == 1:
                action.reply = at
            if action.messages >= action.expected:
                del self.pending[chat_id]
                self.idle.append(chat_id)

    def _button(self, chat_id: int) -> tuple[int, str, str] | None:
        return answer_button(self.sandbox, chat_id)

    async def act(self, measured: bool) -> bool:
        if not self.idle:
            self.run.skipped += 1
            return False
        chat_id = self.idle.popleft()
        client = self.clients[chat_id]
        now = time.perf_counter()
        if client.stage == "checkin":
            found = self._button(chat_id)
            if found is not None:
                message_id, data, value = found
                final = value == ANSWERS["note"]
                action = Action(chat_id, "press", 2 if final else 1, now, measured)
                self.pending[chat_id] = action
                self.run.actions.append(action)
                if final:
                    client.stage = "chatting"
                await self.sandbox.user_press_button(chat_id, message_id, data)
                return True
            client.stage = "chatting"
        if client.stage == "start":
            client.stage = "checkin"
            action = Action(chat_id, "/checkin", 1, now, measured)
            text = "/checkin"
        else:
            action = Action(chat_id, "text", 1, now, measured)
            text = FREE_TEXT
        self.pending[chat_id] = action
        self.run.actions.append(action)
        await self.sandbox.user_send_text(chat_id, text)
        return True

    async def drive(self, rate: float, warmup: float, seconds: float) -> None:
        interval = 1.0 / rate
        started = time.perf_counter()
        tick = 0
        while True:
            due = started + tick * interval
            if due > started + warmup + seconds:
                break
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            await self.act(measured=due >= started + warmup)
            tick += 1
        self.run.seconds = seconds
        self.run.window = (started + warmup, started + warmup + seconds)
        # An overloaded bot still owes replies: wait while they keep coming, and call
        # lost only what has not come LOST_AFTER seconds after the last reply.
        last_progress, waiting = time.perf_counter(), len(self.pending)
        while self.pending and time.perf_counter() - last_progress < LOST_AFTER:
            await asyncio.sleep(0.05)
            if len(self.pending) < waiting:
                last_progress, waiting = time.perf_counter(), len(self.pending)
        await asyncio.sleep(0.5)  # late duplicates would arrive now
        self.run.lost = len(self.pending)
        self.run.duplicated = sum(max(0, a.messages - a.expected) for a in self.run.actions)


async def run_latency(
    database_url: str, clients: int, rate: float, seconds: float, warmup: float
) -> LatencyRun:
    settings = bench_settings(database_url)
    now = utcnow()
    population = Population(
        clients=clients,
        now=now,
        zone="Asia/Shanghai",
        first_user_id=FIRST_USER_ID,
        schedules_after=now + timedelta(minutes=30),
    )
    await insert(database_url, population, settings)
    sandbox = TimedSandbox(rate_limits=False)
    await sandbox.start()
    bot = LiveBot(sandbox, database_url, rate_limiter=False)
    try:
        ids = sandbox.add_people(clients)
        assert ids[0] == FIRST_USER_ID
        await bot.start()
        load = Load(sandbox, ids)
        await load.drive(rate, warmup, seconds)
        load.run.log_errors = bot.log_errors()
        return load.run
    finally:
        await bot.stop()
        await sandbox.stop()
        bot.cleanup()


def measure(kind: str, clients: int, rate: float, seconds: float, warmup: float) -> LatencyRun:
    with fresh_database(kind, "latency") as url:
        return asyncio.run(run_latency(url, clients, rate, seconds, warmup))


def summary(run: LatencyRun) -> dict[str, Any]:
    windows = run.windows()
    bot_side = run.bot_side()
    start, stop = run.window
    return {
        "p50": [quantile(run.bot_side(w), 0.5) for w in windows],
        "p99": [quantile(run.bot_side(w), 0.99) for w in windows],
        "p99_all": quantile(bot_side, 0.99),
        "p50_all": quantile(bot_side, 0.5),
        "max": max(bot_side, default=float("nan")),
        "e2e_p99": quantile(run.end_to_end(), 0.99),
        "updates": len(run.measured()),
        "sent_rate": len([a for a in run.actions if a.measured]) / max(run.seconds, 1e-9),
        # replies that arrived inside the measured window, per second: what the bot managed
        "handled_rate": sum(
            1 for a in run.actions if a.reply is not None and start <= a.reply < stop
        )
        / max(run.seconds, 1e-9),
        "skipped": run.skipped,
    }
