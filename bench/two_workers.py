"""Two live webhook workers on PostgreSQL behind a round-robin proxy; one is killed and
restarted while the sandbox, as Telegram, delivers a steady load (issue 22).

- Two bot processes (``python -m bench.botproc`` with ``TONGBAN_MODE=webhook``: the server
  ``tongban run`` serves, ``bot.webhook``, without PTB's rate limiter, as in 2.) on two
  ports, both ticking the scheduler every second.
- A few lines of aiohttp in this process as the reverse proxy: round robin; a worker that
  refuses the connection (it is down) is skipped and the call goes to the other, as Caddy's
  ``lb_try_duration`` does; a call cut off in the middle (the worker died) is answered 502.
- The sandbox (``bench.timed_sandbox``) as Telegram: the clients of ``bench.latency``
  (``/checkin``, the seven button presses read from the screen, then free text; each waits
  for its answer), ``rate`` updates/s offered; webhooks with up to 40 calls at once, one
  person's next update only after the previous was answered, a failed call retried.
- The kill: SIGKILL of worker B at ``kill_at``, started again at ``restart_at``.
- The scheduler: ``scheduled`` more clients whose check-in prompts fall due one after
  another over the run, sent by whichever worker's tick claims them.

A client whose update was answered (Telegram's call got 200) without the reply coming is a
documented at-most-once case (the worker committed, then died before sending; the update
delivered again is recognised as handled): it is counted, and the client sends ``/checkin``
to see where it is, as a person would.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from bench.databases import fresh_database
from bench.latency import FREE_TEXT, SENDS, answer_button
from bench.live import SECRET as SIGNING_SECRET
from bench.live import error_lines, stop_process
from bench.population import FIRST_USER_ID, Population, insert
from bench.results import quantile
from bench.throughput import ANSWERS, bench_settings
from bench.timed_sandbox import TOKEN, TimedSandbox, update_chat
from bot.config import PROJECT_ROOT
from bot.storage.models import CheckIn, Person, ProcessedUpdate, Schedule
from flows.timers import CHECKIN

WEBHOOK_SECRET = "bench-webhook-secret-0123456789"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HOOK = "/tg/hook"
LOST_REPLY_AFTER = 3.0  # answered by the worker, yet no reply this long after: never coming
CLK_TCK = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Plan:
    clients: int = 300
    rate: float = 100.0
    seconds: float = 60.0
    kill_at: float = 20.0
    restart_at: float = 30.0
    scheduled: int = 1000
    warmup: float = 5.0  # the first seconds (fresh processes) are left out of "before"


QUICK = Plan(
    clients=60, rate=40.0, seconds=8.0, kill_at=3.0, restart_at=5.0, scheduled=100, warmup=1.0
)
FULL = Plan()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- Telegram: the sandbox, recording each update's creation and answer -----------------------


class Telegram(TimedSandbox):
    def __init__(self) -> None:
        super().__init__(rate_limits=False)
        self.created: dict[int, tuple[int, float]] = {}  # update id → (person, when)
        self.answered: dict[int, float] = {}  # update id → when a worker answered 2xx
        push, remove = self.updates.push, self.updates.remove

        def recording_push(kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
            made = push(kind, payload)
            if made is not None:
                self.created[made["update_id"]] = (update_chat(made) or 0, time.perf_counter())
            return made

        def recording_remove(update_id: int) -> None:
            self.answered.setdefault(update_id, time.perf_counter())
            remove(update_id)

        self.updates.push = recording_push  # type: ignore[method-assign]
        self.updates.remove = recording_remove  # type: ignore[method-assign]


# -- the proxy ---------------------------------------------------------------------------------


class RoundRobin:
    """Spreads the webhook calls over the workers in turn."""

    def __init__(self, upstreams: list[str]) -> None:
        self.upstreams = upstreams
        self.turn = 0
        self.answered: Counter[str] = Counter()  # 2xx per upstream
        self.refused: Counter[str] = Counter()  # connection refused: tried the other
        self.cut: Counter[str] = Counter()  # died mid-call: 502 to Telegram
        self.seconds: list[float] = []  # how long each answered call took the worker
        self._session: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=200),
            timeout=aiohttp.ClientTimeout(total=30),
        )
        app = web.Application()
        app.router.add_post(HOOK, self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        port = _free_port()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}{HOOK}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._session is not None
        body = await request.read()
        headers = {
            SECRET_HEADER: request.headers.get(SECRET_HEADER, ""),
            "Content-Type": "application/json",
        }
        for _ in range(len(self.upstreams)):
            upstream = self.upstreams[self.turn % len(self.upstreams)]
            self.turn += 1
            began = time.perf_counter()
            try:
                async with self._session.post(upstream, data=body, headers=headers) as answer:
                    payload = await answer.read()
                    if 200 <= answer.status < 300:
                        self.answered[upstream] += 1
                        self.seconds.append(time.perf_counter() - began)
                    return web.Response(status=answer.status, body=payload)
            except aiohttp.ClientConnectorError:
                self.refused[upstream] += 1  # nothing reached it: the other one may take it
            except (aiohttp.ClientError, TimeoutError):
                self.cut[upstream] += 1
                return web.Response(status=502)
        return web.Response(status=502)


# -- the workers -------------------------------------------------------------------------------


class Worker:
    """One ``tongban`` webhook process on its own port; its CPU time read from /proc."""

    def __init__(self, name: str, database_url: str, telegram: Telegram, proxy_url: str) -> None:
        self.name = name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}{HOOK}"
        self.database_url = database_url
        self.telegram = telegram
        self.proxy_url = proxy_url
        self.process: subprocess.Popen[bytes] | None = None
        self.cpu_done = 0.0  # CPU seconds of earlier (killed) incarnations
        self.cpu_last = 0.0  # of the current one, last read
        self.cpu_starting = 0.0  # spent starting up (imports, set-up), every incarnation
        self.ready_at = 0.0  # perf_counter when it last answered /healthz
        self.log_path = Path(tempfile.mkstemp(prefix=f"tongban_worker_{name}_", suffix=".log")[1])

    def environment(self) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("TONGBAN_") and k != "TELEGRAM_BOT_TOKEN"
        }
        env.update(
            {
                "PYTHONPATH": str(PROJECT_ROOT),
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TONGBAN_DATABASE_URL": self.database_url,
                "TONGBAN_BOT_API_BASE_URL": self.telegram.base_url,
                "TONGBAN_BOT_API_FILE_URL": self.telegram.base_file_url,
                "TONGBAN_SECRET_KEY": SIGNING_SECRET,
                "TONGBAN_LOG_LEVEL": "WARNING",
                "TONGBAN_MODE": "webhook",
                "TONGBAN_WEBHOOK_LISTEN": "127.0.0.1",
                "TONGBAN_WEBHOOK_PORT": str(self.port),
                "TONGBAN_WEBHOOK_URL": self.proxy_url,
                "TONGBAN_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "TONGBAN_TICK_SECONDS": "1",
                # nothing is quiet during the run, wherever it is
                "TONGBAN_QUIET_HOURS_START": _clock(datetime.now(UTC) + timedelta(hours=3)),
                "TONGBAN_QUIET_HOURS_END": _clock(datetime.now(UTC) + timedelta(hours=4)),
            }
        )
        return env

    def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bench.botproc", "--no-rate-limiter"],
                cwd=str(PROJECT_ROOT),
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.cpu_last = 0.0

    async def ready(self, timeout: float = 60.0) -> None:  # noqa: ASYNC109
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise RuntimeError(f"worker {self.name} ended:\n{self.log()[-2000:]}")
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}/healthz") as answer:
                        if answer.status == 200:
                            self.read_cpu()
                            self.cpu_starting += self.cpu_last
                            self.ready_at = time.perf_counter()
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise TimeoutError(f"worker {self.name} did not start")

    def read_cpu(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return
        self.cpu_last = (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    @property
    def cpu(self) -> float:
        """CPU seconds spent serving (starting up left out)."""
        return self.cpu_done + self.cpu_last - self.cpu_starting

    def kill(self) -> None:
        assert self.process is not None
        self.read_cpu()
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.cpu_done += self.cpu_last
        self.cpu_last = 0.0

    async def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.read_cpu()
        await stop_process(self.process, seconds=15)

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_errors(self) -> list[str]:
        return error_lines(self.log())


def _clock(moment: datetime) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}"


# -- the clients -------------------------------------------------------------------------------


@dataclass
class Action:
    chat_id: int
    kind: str
    expected: int
    sent: float
    value: str | None = None  # the answer a press gives
    update_id: int | None = None
    reply: float | None = None
    messages: int = 0
    reply_lost: bool = False


@dataclass
class Client:
    chat_id: int
    stage: str = "start"  # start → checkin → chatting; resync after a lost reply
    pressed: list[str] = field(default_factory=list)  # answers the bot acknowledged


class Load:
    def __init__(self, telegram: Telegram, chat_ids: list[int]) -> None:
        self.telegram = telegram
        self.clients = {chat_id: Client(chat_id) for chat_id in chat_ids}
        self.idle: deque[int] = deque(chat_ids)
        self.pending: dict[int, Action] = {}
        self.actions: list[Action] = []
        self.stray = 0
        self.errors: Counter[str] = Counter()
        self.skipped = 0
        telegram.on_call = self._on_call

    def _on_call(self, method: str, values: dict[str, Any], status: int, at: float) -> None:
        if method in ("setWebhook", "getUpdates"):
            return
        if status != 200:
            self.errors[f"{method} {status}"] += 1
        chat_id = self.telegram.chat_of(method, values)
        if chat_id is None or chat_id not in self.clients:
            return
        action = self.pending.get(chat_id)
        if action is None:
            if method in SENDS:
                self.stray += 1
            return
        if method in SENDS:
            action.messages += 1
            if action.messages == 1:
                action.reply = at
            if action.messages >= action.expected:
                self._done(action)

    def _done(self, action: Action) -> None:
        del self.pending[action.chat_id]
        client = self.clients[action.chat_id]
        if action.value is not None and not action.reply_lost:
            client.pressed.append(action.value)
        self.idle.append(action.chat_id)

    def watch(self) -> None:
        """An update its worker answered whose reply has not come within LOST_REPLY_AFTER
        seconds: the at-most-once case. The client looks again with /checkin."""
        now = time.perf_counter()
        for action in list(self.pending.values()):
            if action.update_id is None or action.messages:
                continue
            answered = self.telegram.answered.get(action.update_id)
            if answered is not None and now - answered > LOST_REPLY_AFTER:
                action.reply_lost = True
                self.clients[action.chat_id].stage = "resync"
                self._done(action)

    def _button(self, chat_id: int) -> tuple[int, str, str] | None:
        return answer_button(self.telegram, chat_id)

    async def act(self) -> None:
        if not self.idle:
            self.skipped += 1
            return
        chat_id = self.idle.popleft()
        client = self.clients[chat_id]
        now = time.perf_counter()
        before = set(self.telegram.created)
        if client.stage == "checkin":
            found = self._button(chat_id)
            if found is not None:
                message_id, data, value = found
                final = value == ANSWERS["note"]
                action = Action(chat_id, "press", 2 if final else 1, now, value)
                if final:
                    client.stage = "chatting"
                self.pending[chat_id] = action
                self.actions.append(action)
                await self.telegram.user_press_button(chat_id, message_id, data)
                action.update_id = _new(self.telegram, before)
                return
            client.stage = "chatting"
        if client.stage in ("start", "resync"):
            client.stage = "checkin"
            action = Action(chat_id, "/checkin", 1, now)
            text = "/checkin"
        else:
            action = Action(chat_id, "text", 1, now)
            text = FREE_TEXT
        self.pending[chat_id] = action
        self.actions.append(action)
        await self.telegram.user_send_text(chat_id, text)
        action.update_id = _new(self.telegram, before)


def _new(telegram: Telegram, before: set[int]) -> int | None:
    made = set(telegram.created) - before
    return max(made) if made else None


# -- the run -----------------------------------------------------------------------------------


@dataclass
class Result:
    plan: Plan
    actions: list[Action]
    load: Load
    proxy: RoundRobin
    workers: list[Worker]
    started: float
    updates_created: int = 0
    updates_unanswered: int = 0
    not_stored: int = 0
    out_of_order_clients: int = 0
    checkins_finished: int = 0
    checkins_wrong: int = 0
    checkin_rows_extra: int = 0
    prompts_once: int = 0
    prompts_twice: int = 0
    prompts_lost_after_claim: int = 0
    prompts_not_due_yet: int = 0
    log_errors: list[str] = field(default_factory=list)

    def window(self, start: float, stop: float) -> list[float]:
        return [
            1000 * (a.reply - a.sent)
            for a in self.actions
            if a.reply is not None and start <= a.sent - self.started < stop
        ]

    @property
    def unanswered(self) -> int:
        return sum(1 for a in self.actions if a.reply is None and not a.reply_lost)

    @property
    def lost_replies(self) -> int:
        return sum(1 for a in self.actions if a.reply_lost)

    @property
    def duplicated(self) -> int:
        return sum(max(0, a.messages - a.expected) for a in self.actions)

    def summary(self) -> dict[str, Any]:
        p = self.plan
        found: dict[str, Any] = {}
        for name, (start, stop) in {
            "before": (p.warmup, p.kill_at),
            "during": (p.kill_at, p.restart_at),
            "after": (p.restart_at, p.seconds),
        }.items():
            values = self.window(start, stop)
            found[name] = {
                "n": len(values),
                "p50": quantile(values, 0.5),
                "p99": quantile(values, 0.99),
                "max": max(values, default=float("nan")),
            }
        return found


async def run(database_url: str, plan: Plan) -> Result:
    settings = bench_settings(database_url)
    now = datetime.now(UTC)
    total = plan.clients + plan.scheduled
    population = Population(
        clients=total,
        now=now,
        zone="UTC",
        first_user_id=FIRST_USER_ID,
        schedules_after=now + timedelta(hours=1),
    )
    await insert(database_url, population, settings)
    telegram = Telegram()
    await telegram.start()
    ids = telegram.add_people(total)
    assert ids[0] == FIRST_USER_ID
    proxy = RoundRobin([])
    await proxy.start()
    workers = [Worker(name, database_url, telegram, proxy.url) for name in ("A", "B")]
    proxy.upstreams = [w.url for w in workers]
    engine = create_async_engine(database_url)
    load = Load(telegram, ids[: plan.clients])
    result = Result(plan, load.actions, load, proxy, workers, 0.0)
    try:
        for worker in workers:
            worker.start()
        await asyncio.gather(*(w.ready() for w in workers))
        scheduled = ids[plan.clients :]
        started = time.perf_counter()
        result.started = started
        due_start = datetime.now(UTC) + timedelta(seconds=1)
        spread = max(plan.seconds - 4, 1.0)
        async with AsyncSession(engine) as session, session.begin():
            person_ids = dict(
                (
                    await session.execute(
                        select(Person.telegram_user_id, Person.id).where(
                            Person.telegram_user_id.in_(scheduled)
                        )
                    )
                ).all()
            )
            await session.execute(
                update(Schedule),
                [
                    {
                        "person_id": person_ids[uid],
                        "kind": CHECKIN,
                        "due_at": due_start + timedelta(seconds=spread * i / len(scheduled)),
                    }
                    for i, uid in enumerate(scheduled)
                ],
            )
        await _drive(load, plan, workers, started)
        # the replies still owed, and the last prompts
        deadline = time.perf_counter() + 15
        while (load.pending or time.perf_counter() < started + plan.seconds + 4) and (
            time.perf_counter() < deadline
        ):
            load.watch()
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)
        for worker in workers:
            worker.read_cpu()
        await _check(result, engine, telegram, scheduled, person_ids)
    finally:
        for worker in workers:
            await worker.stop()
            result.log_errors += worker.log_errors()
        await proxy.stop()
        await telegram.stop()
        await engine.dispose()
        for worker in workers:
            worker.log_path.unlink(missing_ok=True)
    return result


async def _drive(load: Load, plan: Plan, workers: list[Worker], started: float) -> None:
    interval = 1.0 / plan.rate
    killed = restarted = False
    restarting: asyncio.Task[None] | None = None
    tick = 0
    while True:
        due = started + tick * interval
        if due > started + plan.seconds:
            if restarting is not None:
                await restarting
            return
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        elapsed = time.perf_counter() - started
        if not killed and elapsed >= plan.kill_at:
            workers[1].kill()
            killed = True
        if killed and not restarted and elapsed >= plan.restart_at:
            workers[1].start()
            restarting = asyncio.create_task(workers[1].ready())
            restarted = True
        if tick % max(int(plan.rate / 4), 1) == 0:
            load.watch()
            for worker in workers:
                worker.read_cpu()
        await load.act()
        tick += 1


async def _check(
    result: Result,
    engine: Any,
    telegram: Telegram,
    scheduled: list[int],
    person_ids: dict[int, int],
) -> None:
    load = result.load
    result.updates_created = len(telegram.created)
    result.updates_unanswered = len(set(telegram.created) - set(telegram.answered))
    async with engine.connect() as conn:
        handled = dict(
            (await conn.execute(select(ProcessedUpdate.update_id, ProcessedUpdate.at))).all()
        )
        checkins = (
            await conn.execute(
                select(
                    Person.telegram_user_id,
                    CheckIn.mood,
                    CheckIn.sleep,
                    CheckIn.medication,
                    CheckIn.contact,
                    CheckIn.stress,
                    CheckIn.completed_at,
                )
                .join(Person, Person.id == CheckIn.person_id)
                .where(
                    Person.telegram_user_id.in_(list(load.clients)),
                    CheckIn.started_at >= datetime.now(UTC) - timedelta(hours=1),
                )
            )
        ).all()
        moved = dict(
            (
                await conn.execute(
                    select(Schedule.person_id, Schedule.due_at).where(
                        Schedule.kind == CHECKIN, Schedule.person_id.in_(list(person_ids.values()))
                    )
                )
            ).all()
        )
    # every update a worker answered was stored as handled, once (its id is the key)
    result.not_stored = len(set(telegram.answered) - set(handled))
    # per client, the order the worker handled its updates in is the order they were sent
    by_client: dict[int, list[int]] = {}
    for update_id, (chat_id, _) in sorted(telegram.created.items()):
        if update_id in handled:
            by_client.setdefault(chat_id, []).append(update_id)
    result.out_of_order_clients = sum(
        1 for ids in by_client.values() if sorted(ids, key=lambda u: handled[u]) != ids
    )
    rows: Counter[int] = Counter(row[0] for row in checkins)
    result.checkin_rows_extra = sum(n - 1 for n in rows.values() if n > 1)
    expected = (4, 0, "not_prescribed", 1, 1)
    for row in checkins:
        if row[6] is None:
            continue
        result.checkins_finished += 1
        if tuple(row[1:6]) != expected:
            result.checkins_wrong += 1
    # the prompts: each scheduled client's chat got exactly one message
    sends: Counter[int] = Counter()
    for call in telegram.calls:
        if call.method in SENDS and call.status == 200:
            chat = telegram.chat_of(call.method, call.params)
            if chat is not None:
                sends[chat] += 1
    moved_on = datetime.now(UTC) + timedelta(minutes=1)  # a sent prompt's row: tomorrow
    for uid in scheduled:
        count = sends.get(uid, 0)
        if count == 1:
            result.prompts_once += 1
        elif count > 1:
            result.prompts_twice += 1
        elif moved[person_ids[uid]] > moved_on:
            result.prompts_lost_after_claim += 1  # claimed and moved on, never sent
        else:
            result.prompts_not_due_yet += 1


def measure(plan: Plan) -> Result:
    with fresh_database("postgres", "two_workers") as url:
        return asyncio.run(run(url, plan))
