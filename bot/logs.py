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


def configure(level: str) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    numeric = logging.getLevelName(level)
    for name, floor in QUIET.items():
        logger = logging.getLogger(name)
        logger.setLevel(max(floor, numeric if isinstance(numeric, int) else logging.INFO))
