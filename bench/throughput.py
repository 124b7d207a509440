"""Cost per update in one process: check-in answers per second, against a bare PTB echo bot.

The real Application (``bot.app.build``) runs in-process on the lean fake transport, without
the rate limiter (it paces sending to Telegram's 30 messages/s; this measures CPU and
database cost). N onboarded clients stand at the first check-in question; each run feeds
every client's whole check-in (mood, sleep, medication, unusual experiences, contact,
stress, note: seven button presses, the last one finishing the check-in and evaluating the
early-warning rules) as ``callback_query`` updates, JSON-decoded with ``Update.de_json``
inside the timed part, through ``application.update_processor.process_update(update,
application.process_update(update))`` in batches gathered concurrently. Updates are
ordered by question, so a batch holds many different clients, and each client's next
answer (signed with the step it will have by then) can share a batch with the previous
one: per-person ordering is exercised and any answer handled out of order would be
refused as a stale button and show up in the checks after the run.

The echo bot is ``ApplicationBuilder`` with the same transport and concurrency and one
handler that answers a text message with ``reply_text``; "PTB floor" is the same bare
Application doing what Tongban's answer does on the wire (answer the button, edit the
message, send the next question), so the difference is Tongban's own work.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text, update
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bench.population import Population, checkin_context, insert
from bot.app import Services, build
from bot.config import Settings, load_settings
from bot.sandbox.in_memory import InMemoryBotAPI
from bot.storage.db import Database
from bot.storage.models import CheckIn, FlowState
from bot.telegram.callbacks import ButtonData

TOKEN = "123456789:BENCH_token_for_tongban_benchmarks"
SECRET = "bench-signing-key-not-a-secret"
ZONE = "Asia/Shanghai"
# What each client presses at each question; "not prescribed" skips side effects and
# "none of these" skips distress, so a check-in without warning signs is seven presses.
ANSWERS = {
    "mood": "ci:mood:4",
    "sleep": "ci:sleep:0",
    "medication": "ci:medication:not_prescribed",
    "unusual": "ci:u:none",
    "contact": "ci:contact:1",
    "stress": "ci:stress:1",
    "note": "ci:note:skip",
}
QUESTIONS = tuple(ANSWERS)


def bench_settings(database_url: str, **overrides: Any) -> Settings:
    return load_settings(
        telegram_bot_token=TOKEN,
        database_url=database_url,
        secret_key=SECRET,
        **overrides,
    )


async def in_process_bot(settings: Settings, api: InMemoryBotAPI) -> Services:
    """The real bot (``bot.app.build``) on the lean fake transport, started as
    ``run_polling`` starts it (``initialize``, then the application's ``post_init``, which
    also moves start-up objects out of the garbage collector's reach), without the
    updater, the periodic job or the rate limiter; stop it with ``stop_bot``."""
    services = build(
        settings, request=api, get_updates_request=api, with_updater=False, rate_limited=False
    )
    await services.application.initialize()
    assert services.application.post_init is not None
    await services.application.post_init(services.application)
    return services


async def stop_bot(services: Services | None) -> None:
    if services is not None:
        await services.application.shutdown()
        await services.db.dispose()
        gc.unfreeze()  # the next measurement in this process starts from a normal collector


def _user(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": "Client", "language_code": "en"}


def callback_payload(update_id: int, user_id: int, data: str, message_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": str(update_id),
            "from": _user(user_id),
            "chat_instance": str(user_id),
            "data": data,
            "message": {
                "message_id": message_id,
                "date": 1_700_000_000,
                "chat": {"id": user_id, "type": "private"},
                "from": {"id": 7000001, "is_bot": True, "first_name": "Tongban"},
                "text": "How has your mood been today?",
            },
        },
    }


def text_payload(update_id: int, user_id: int, text_: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private"},
            "from": _user(user_id),
            "text": text_,
        },
    }


async def feed(
    application: Application,  # type: ignore[type-arg]
    payloads: list[dict[str, Any]],
    batch: int,
) -> float:
    """Decode and process ``payloads`` in concurrent batches; returns the seconds taken."""
    processor = application.update_processor
    bot = application.bot
    started = time.perf_counter()
    for start in range(0, len(payloads), batch):
        updates = [Update.de_json(p, bot) for p in payloads[start : start + batch]]
        await asyncio.gather(
            *(processor.process_update(u, application.process_update(u)) for u in updates)
        )
    return time.perf_counter() - started


@dataclass
class CheckinRun:
    answers: int
    seconds: float
    cpu_seconds: float  # this process's CPU time (SQLite's included; PostgreSQL's not)

    @property
    def rate(self) -> float:
        return self.answers / self.seconds


class CheckinBench:
    """N clients, each run a new local day on which every client does a whole check-in."""

    def __init__(self, database_url: str, clients: int, batch: int) -> None:
        self.url = database_url
        self.clients = clients
        self.batch = batch
        self.api = InMemoryBotAPI(record=False)
        self.settings = bench_settings(database_url, log_level="WARNING")
        self.population = Population(clients=clients, zone=ZONE, signs_every=0)
        self.services: Services | None = None
        self.update_ids = itertools.count(1)
        self.day = date(2026, 12, 1)

    async def start(self) -> float:
        seconds = await insert(self.url, self.population, self.settings)
        self.services = await in_process_bot(self.settings, self.api)
        return seconds

    async def stop(self) -> None:
        await stop_bot(self.services)

    async def _new_day(self) -> tuple[date, dict[int, int]]:
        """Put every client at the first question of a new day's check-in; their steps."""
        assert self.services is not None
        self.day += timedelta(days=1)
        day = self.day
        now = datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
        self.services.host.clock = lambda: now
        async with self.services.db.transaction() as session:
            await session.execute(
                update(FlowState).values(flow="checkin", state="mood", context=checkin_context(day))
            )
            session.add_all(
                CheckIn(person_id=pid, local_date=day, started_at=now)
                for pid in range(1, self.clients + 1)
            )
        async with self.services.db.transaction() as session:
            steps = dict((await session.execute(select(FlowState.person_id, FlowState.step))).all())
        return day, steps

    async def run(self) -> CheckinRun:
        """One whole check-in for every client; checks that every answer was taken."""
        assert self.services is not None
        day, steps = await self._new_day()
        signer = self.services.host.renderer.signer
        payloads = []
        for offset, question in enumerate(QUESTIONS):
            for index in range(self.clients):
                user_id = self.population.user_id(index)
                data = signer.sign(
                    user_id, ButtonData("flow", ANSWERS[question], steps[index + 1] + offset)
                )
                payloads.append(callback_payload(next(self.update_ids), user_id, data, 100))
        self.api.clear()
        cpu = time.process_time()
        seconds = await feed(self.services.application, payloads, self.batch)
        cpu = time.process_time() - cpu
        await self._check(day, len(payloads))
        return CheckinRun(len(payloads), seconds, cpu)

    async def _check(self, day: date, answers: int) -> None:
        assert self.services is not None
        async with self.services.db.transaction() as session:
            done = await session.scalar(
                select(func.count())
                .select_from(CheckIn)
                .where(
                    CheckIn.local_date == day,
                    CheckIn.completed_at.is_not(None),
                    CheckIn.mood == 4,
                    CheckIn.stress == 1,
                )
            )
            idle = await session.scalar(
                select(func.count()).select_from(FlowState).where(FlowState.flow.is_(None))
            )
        calls = self.api.methods
        problems = []
        if done != self.clients or idle != self.clients:
            problems.append(f"{done} of {self.clients} check-ins complete, {idle} flows ended")
        # Each press is answered, shown in place and followed by the next question; the
        # last one also brings a tip about warning signs (these clients have none).
        expected = {
            "answerCallbackQuery": answers,
            "editMessageText": answers,
            "sendMessage": answers + self.clients,
        }
        for method, count in expected.items():
            if calls[method] != count:
                problems.append(f"{calls[method]} {method} for {answers} answers")
        if problems:
            raise AssertionError("check-in run went wrong: " + "; ".join(problems))


# -- the bare python-telegram-bot baselines ---------------------------------------------


async def _echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.message is not None and update.message.text is not None
    await update.message.reply_text(update.message.text)


async def _answer_edit_send(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.message is not None
    await query.answer()
    await query.edit_message_text("How has your mood been today?\n\n→ 🙂 Good")
    await context.bot.send_message(query.message.chat.id, "How did you sleep last night?")


def bare_application(
    api: InMemoryBotAPI,
    concurrency: int,
    handler: Callable[[Update, ContextTypes.DEFAULT_TYPE], Any],
    callback: bool,
) -> Application:  # type: ignore[type-arg]
    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .request(api)
        .get_updates_request(api)
        .updater(None)
        .concurrent_updates(concurrency)
        .build()
    )
    if callback:
        application.add_handler(CallbackQueryHandler(handler))
    else:
        application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, handler))
    return application


async def bare_rate(
    kind: str, updates: int, clients: int, batch: int, concurrency: int, runs: int
) -> tuple[list[float], float]:
    """Updates per second of a bare PTB Application, "echo" or "floor" (answer, edit, send),
    and the median CPU milliseconds per update."""
    api = InMemoryBotAPI(record=False)
    callback = kind == "floor"
    application = bare_application(
        api, concurrency, _answer_edit_send if callback else _echo, callback
    )
    await application.initialize()
    ids = itertools.count(1)
    rates, cpu_ms = [], []
    try:
        for _ in range(runs + 1):  # the first is a warm-up
            payloads = [
                callback_payload(next(ids), 1_000_001 + n % clients, "x", 100)
                if callback
                else text_payload(next(ids), 1_000_001 + n % clients, "hello, how are you")
                for n in range(updates)
            ]
            api.clear()
            cpu = time.process_time()
            seconds = await feed(application, payloads, batch)
            cpu_ms.append(1000 * (time.process_time() - cpu) / updates)
            expected = 3 * updates if callback else updates
            got = sum(api.methods.values())
            if got != expected:
                raise AssertionError(f"{kind} bot made {got} calls for {updates} updates")
            rates.append(updates / seconds)
    finally:
        await application.shutdown()
    return rates[1:], statistics.median(cpu_ms[1:])


async def measure(
    database_url: str, clients: int, runs: int, batch: int
) -> tuple[list[float], dict[str, str]]:
    """Check-in answers per second over ``runs`` runs (after one warm-up run)."""
    bench = CheckinBench(database_url, clients, batch)
    setup = await bench.start()
    try:
        await bench.run()  # warm-up: caches, prepared statements, first-day rows
        results = [await bench.run() for _ in range(runs)]
    finally:
        await bench.stop()
    cpu_ms = statistics.median(1000 * r.cpu_seconds / r.answers for r in results)
    info = {
        "cpu ms per answer": f"{cpu_ms:.2f}",
        "clients": str(clients),
        "answers per run": str(results[0].answers),
        "batch": str(batch),
        "set-up seconds": f"{setup:.1f}",
    }
    return [r.rate for r in results], info


def describe_sql(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


async def database_floor(
    database_url: str, statements: int, transactions: int, runs: int
) -> list[float]:
    """Transactions per second, one at a time, each ``statements`` primary-key SELECTs.

    The least a check-in answer could cost in this process with the project's engine
    settings (``bot.storage.db.Database``), before any of Tongban's own work.
    """
    db = Database(database_url)
    try:
        rates = []
        for _ in range(runs + 1):
            started = time.perf_counter()
            for n in range(transactions):
                async with db.transaction() as session:
                    for _ in range(statements):
                        await session.execute(
                            text("SELECT step FROM flow_states WHERE person_id = :id"),
                            {"id": n % 10 + 1},
                        )
            rates.append(transactions / (time.perf_counter() - started))
        return rates[1:]
    finally:
        await db.dispose()
