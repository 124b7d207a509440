"""The bot as its own process (``python -m bot.cli run`` from the project root), for the tests
that run it over real HTTP: against the sandbox Bot API, killed mid-conversation, or with no
token at all."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

from bot.sandbox import SandboxBotAPI

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sandbox_env(api: SandboxBotAPI, database_url: str, log_level: str) -> dict[str, str]:
    """This environment, with the bot pointed at the sandbox ``api`` and at the database."""
    return {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": api.token,
        "TONGBAN_BOT_API_BASE_URL": api.base_url,
        "TONGBAN_BOT_API_FILE_URL": api.base_file_url,
        "TONGBAN_DATABASE_URL": database_url,
        "TONGBAN_LOG_LEVEL": log_level,
    }


async def start_bot(
    env: dict[str, str],
    stdout: int = asyncio.subprocess.DEVNULL,
    stderr: int = asyncio.subprocess.DEVNULL,
) -> asyncio.subprocess.Process:
    """``tongban run`` with these settings; it does not wait for the bot to be ready."""
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=env, stdout=stdout, stderr=stderr
    )


def find_button(api: SandboxBotAPI, user_id: int, label: str) -> tuple[int, str] | None:
    """The newest message in the person's chat with a button ``label``: its id and the
    button's data, as the person would press it."""
    for entry in reversed(api.bot_messages(user_id)):
        for row in entry.inline_keyboard or []:
            for button in row:
                if button.get("text") == label:
                    return entry.message_id, str(button["callback_data"])
    return None
