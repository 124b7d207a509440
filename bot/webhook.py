"""Webhook mode's HTTP server: Telegram's calls, ``/healthz`` and ``/metrics``.

python-telegram-bot's own webhook server serves only Telegram's path, so the bot runs its
Application without an updater and serves this aiohttp application instead (the pattern
of PTB's ``customwebhookbot`` example). Three routes:

- the path of ``TONGBAN_WEBHOOK_URL``: an update from Telegram, checked against
  ``TONGBAN_WEBHOOK_SECRET`` (403 otherwise). It is answered **after** it was handled
  (stored and its replies sent), not when it was queued: a worker that dies mid-update
  leaves Telegram without an answer, so Telegram delivers it again (to any worker, behind
  the proxy) and ``processed_updates`` makes sure it is handled once. Per-person order and
  the concurrency limit are ``PerPersonOrder``'s, as in polling mode.
- ``GET /healthz``: 200 ``ok`` while the process runs and the database answers within 2 s,
  503 otherwise (for a container's health check or a load balancer).
- ``GET /metrics``: Prometheus metrics (``bot.metrics``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update

from bot.app import ALLOWED_UPDATES, Services
from bot.metrics import CONTENT_TYPE

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"


def web_app(services: Services) -> web.Application:
    """The routes; ``services`` must be initialised and started before the first call."""
    settings = services.settings
    assert settings.webhook_url is not None
    hook_path = urlparse(settings.webhook_url).path or "/"
    application = services.application
    processor = application.update_processor

    async def telegram_update(request: web.Request) -> web.Response:
        if request.headers.get(SECRET_HEADER) != settings.webhook_secret:
            return web.Response(status=403)
        try:
            data = await request.json()
        except (ValueError, json.JSONDecodeError):
            return web.Response(status=400)
        update = Update.de_json(data, application.bot)
        if update is None:
            return web.Response(status=400)
        await processor.process_update(update, application.process_update(update))
        return web.Response()

    async def health(_request: web.Request) -> web.Response:
        if await services.db.reachable():
            return web.Response(text="ok\n")
        return web.Response(status=503, text="database unreachable\n")

    async def metrics(_request: web.Request) -> web.Response:
        try:
            async with services.db.sessions() as session:
                await services.host.metrics.read_database(session, services.host.clock())
        except Exception as exc:  # the process's own metrics are still worth serving
            log.warning("metrics: database not read (%s)", type(exc).__name__, exc_info=True)
        return web.Response(
            body=services.host.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE}
        )

    app = web.Application()
    app.router.add_post(hook_path, telegram_update)
    app.router.add_get(HEALTH_PATH, health)
    app.router.add_get(METRICS_PATH, metrics)
    return app


async def serve(services: Services, stop: asyncio.Event | None = None) -> None:
    """Start the bot, register the webhook, serve until SIGTERM/SIGINT (or ``stop``), stop."""
    settings = services.settings
    application = services.application
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.bot.set_webhook(
            url=str(settings.webhook_url),
            secret_token=settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
        )
        await application.start()
        runner = web.AppRunner(web_app(services), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, settings.webhook_listen, settings.webhook_port).start()
            log.info("webhook server on %s:%d", settings.webhook_listen, settings.webhook_port)
            await stop.wait()
        finally:
            await runner.cleanup()  # in-flight updates finish first
            await application.stop()
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
