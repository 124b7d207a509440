"""The webhook server an operator runs: Telegram's calls answered, ``/healthz`` saying
whether the worker can reach its database, ``/metrics`` for Prometheus without anyone's
id or words in it."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.app import Services, build
from bot.config import load_settings
from bot.sandbox import SandboxBotAPI
from bot.storage.db import Database
from bot.storage.models import Escalation, Person, Schedule, utcnow
from bot.webhook import serve
from tests.bot_process import free_port
from tests.test_outage import CuttableRelay

TOKEN = "123456789:SANDBOX-tongban-local-only"
SECRET = "webhook-secret-0123456789"
CRISIS = "I want to kill myself"


@asynccontextmanager
async def webhook_worker(api: SandboxBotAPI, database_url: str) -> AsyncIterator[str]:
    """``tongban run`` in webhook mode, in this process; yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = load_settings(
        telegram_bot_token=api.token,
        database_url=database_url,
        bot_api_base_url=api.base_url,
        bot_api_file_url=api.base_file_url,
        mode="webhook",
        webhook_listen="127.0.0.1",
        webhook_port=port,
        webhook_url=f"{base}/tg/hook",
        webhook_secret=SECRET,
    )
    services: Services = build(settings, with_updater=False, ticking=False, rate_limited=False)
    stop = asyncio.Event()
    running = asyncio.create_task(serve(services, stop))
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"{base}/healthz"):
                        break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
        yield base
    finally:
        stop.set()
        await running


async def _get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        return response.status, await response.text()


def _samples(exposition: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


async def _escalations_waiting(database_url: str) -> None:
    """An urgent case whose claim clock ran out a minute ago, a routine one not yet due,
    and a check-in prompt the scheduler is 90 seconds late with."""
    now = utcnow()
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            people = [
                Person(
                    telegram_user_id=9000 + n,
                    chat_id=9000 + n,
                    role="client",
                    locale="en",
                    timezone="UTC",
                    alias=f"Case{n}",
                )
                for n in range(2)
            ]
            session.add_all(people)
            await session.flush()
            session.add_all(
                [
                    Escalation(subject_id=people[0].id, ref="aaaa", tier="urgent", state="open"),
                    Escalation(subject_id=people[1].id, ref="bbbb", tier="routine", state="open"),
                    Schedule(
                        person_id=people[0].id, kind="escalation", due_at=now - timedelta(minutes=1)
                    ),
                    Schedule(
                        person_id=people[1].id, kind="escalation", due_at=now + timedelta(hours=1)
                    ),
                    Schedule(
                        person_id=people[1].id, kind="checkin", due_at=now - timedelta(seconds=90)
                    ),
                ]
            )
    finally:
        await db.dispose()


async def test_a_webhook_worker_serves_health_and_metrics(database_url: str) -> None:
    await _escalations_waiting(database_url)
    async with (
        SandboxBotAPI(token=TOKEN, rate_limits=False) as api,
        webhook_worker(api, database_url) as base,
    ):
        assert await _get(f"{base}/healthz") == (200, "ok\n")
        stranger = (await api.create_user("Lin", "en"))["id"]
        await api.user_send_text(stranger, "hello")
        await api.user_send_text(stranger, CRISIS)
        # Telegram's call is answered once the update was handled: then it leaves the queue
        for _ in range(750):
            if not api.updates.pending_count:
                break
            await asyncio.sleep(0.02)
        assert api.updates.pending_count == 0
        status, body = await _get(f"{base}/metrics")
        answers = [entry.text or "" for entry in api.bot_messages(stranger)]
    assert status == 200
    samples = _samples(body)
    assert samples[("tongban_updates_handled_total", (("kind", "message"),))] == 2
    assert samples[("tongban_update_handling_seconds_count", ())] == 2
    assert samples[("tongban_crisis_replies_sent_total", ())] == 1
    assert samples[("tongban_open_escalations", (("tier", "urgent"),))] == 1
    assert samples[("tongban_open_escalations", (("tier", "routine"),))] == 1
    assert samples[("tongban_open_escalations", (("tier", "same_day"),))] == 0
    assert samples[("tongban_overdue_escalations", ())] == 1
    # the oldest due row: the escalation clock a minute ago is younger than the prompt
    assert 90 <= samples[("tongban_scheduler_lag_seconds", ())] < 150
    assert samples[("tongban_telegram_429_total", ())] == 0
    assert "invite link" in answers[0] and "emergency" in answers[1], answers
    # an id as a number of its own (a float such as 0.0241261000001 may hold its digits)
    as_number = re.compile(rf"(?<![\d.e+-]){stranger}(?![\d.])")
    assert not as_number.search(body) and "kill" not in body, "no ids or words in the metrics"


async def test_healthz_says_503_while_the_database_is_unreachable(postgres_url: str) -> None:
    from tests.conftest import _truncate_postgres

    await asyncio.to_thread(_truncate_postgres, postgres_url)
    relay = CuttableRelay(5432)
    port = await relay.start()
    url = postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{port}")
    try:
        async with (
            SandboxBotAPI(token=TOKEN, rate_limits=False) as api,
            webhook_worker(api, url) as base,
        ):
            assert await _get(f"{base}/healthz") == (200, "ok\n")
            relay.sever()
            assert await _get(f"{base}/healthz") == (503, "database unreachable\n")
            status, body = await _get(f"{base}/metrics")
            assert status == 200 and "tongban_updates_handled" in body
            relay.restore()
            assert await _get(f"{base}/healthz") == (200, "ok\n")
    finally:
        await relay.stop()
