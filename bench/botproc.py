"""The bot as its own process, polling a sandbox Bot API: ``python -m bench.botproc``.

With ``TONGBAN_MODE=webhook`` it serves webhooks instead, exactly as ``tongban run`` does
(``bot.webhook.serve``; ``--stats-every`` is not used then).

Settings come from the environment exactly as for ``tongban run`` (``TELEGRAM_BOT_TOKEN``,
``TONGBAN_DATABASE_URL``, ``TONGBAN_BOT_API_BASE_URL`` ...). The Application is the one
``bot.app.build`` makes, polling with the scheduler's periodic tick; ``--no-rate-limiter``
leaves out PTB's AIORateLimiter (for measuring processing latency rather than pacing).
``--stats-every S`` logs, every S seconds, what is in flight: updates being handled, the
people they belong to, database connections checked out, event-loop tasks and the
process's CPU seconds. The schema must already be upgraded. Stop it with SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import time

from telegram.ext import Application

from bot.app import ALLOWED_UPDATES, Services, build
from bot.config import Mode, load_settings

log = logging.getLogger("bench.botproc")


async def _stats(services: Services, every: float) -> None:
    processor = services.application.update_processor
    pool = services.db.engine.pool
    while True:
        await asyncio.sleep(every)
        log.warning(
            "stats updates=%d people=%d db=%s tasks=%d cpu=%.2f",
            processor.current_concurrent_updates,
            getattr(processor, "people_in_flight", -1),
            pool.status(),
            len(asyncio.all_tasks()),
            time.process_time(),
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-rate-limiter", action="store_true")
    parser.add_argument("--stats-every", type=float, default=0.0)
    args = parser.parse_args()
    settings = load_settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if settings.mode is Mode.WEBHOOK:
        # ``tongban run``'s webhook server (bot.webhook), this rate limiter choice aside
        from bot.webhook import serve

        webhook = build(
            settings, with_updater=False, ticking=True, rate_limited=not args.no_rate_limiter
        )
        asyncio.run(serve(webhook))
        return 0
    services = build(settings, rate_limited=not args.no_rate_limiter)
    if args.stats_every:
        every, prepare = args.stats_every, services.application.post_init
        running: list[asyncio.Task[None]] = []

        async def post_init(application: Application) -> None:  # type: ignore[type-arg]
            if prepare is not None:
                await prepare(application)
            running.append(asyncio.get_running_loop().create_task(_stats(services, every)))

        async def post_stop(_application: Application) -> None:  # type: ignore[type-arg]
            for task in running:
                task.cancel()

        services.application.post_init = post_init
        services.application.post_stop = post_stop
    services.application.run_polling(allowed_updates=ALLOWED_UPDATES, close_loop=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
