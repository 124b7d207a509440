"""Logging set-up: our own loggers at the configured level; libraries that could log message
text (python-telegram-bot payloads, aiosqlite and SQLAlchemy parameters at DEBUG) or the token
(httpx logs URLs at INFO) are held back, whatever the level."""

from __future__ import annotations

import logging

# Loggers that would write message text, SQL parameters or the bot token at lower levels.
QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,
    "apscheduler": logging.WARNING,
    "aiohttp.access": logging.WARNING,
    "aiosqlite": logging.WARNING,
    "sqlalchemy": logging.WARNING,
    "asyncpg": logging.WARNING,
}


# python-telegram-bot logs an update it could not read in full, message text included, at
# CRITICAL (a malformed webhook body, a bad getUpdates answer): no level holds that back.
PAYLOAD_LOGGERS = ("telegram.ext.Updater", "telegram.Bot")


class WithoutPayloads(logging.Filter):
    """Keeps the event, drops the update's content (and the traceback that may repeat it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "Received data was" in str(record.msg):
            error = record.exc_info[1] if record.exc_info else None
            record.msg = "could not read an update from Telegram (%s); its content is not logged"
            record.args = (type(error).__name__ if error is not None else "no error",)
            record.exc_info = None
            record.exc_text = None
        return True


def configure(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    numeric = logging.getLevelName(level)
    for name, floor in QUIET.items():
        logger = logging.getLogger(name)
        logger.setLevel(max(floor, numeric if isinstance(numeric, int) else logging.INFO))
    for name in PAYLOAD_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, WithoutPayloads) for f in logger.filters):
            logger.addFilter(WithoutPayloads())
