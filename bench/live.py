"""The bot as a separate process against the sandbox Bot API in this process.

``LiveBot`` makes the database (``bench.databases``), the clients (``bench.population``)
and the simulated people with the same ids, starts ``python -m bench.botproc`` pointed at
the sandbox, waits until it polls, and stops it (SIGTERM) at the end, keeping what it logged.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.timed_sandbox import TOKEN, TimedSandbox
from bot.config import PROJECT_ROOT

SECRET = "bench-signing-key-not-a-secret"


async def stop_process(process: subprocess.Popen[bytes], seconds: float) -> None:
    """SIGTERM, then SIGKILL if the process has not ended after ``seconds``."""
    process.send_signal(signal.SIGTERM)
    for _ in range(int(seconds / 0.05)):
        if process.poll() is not None:
            return
        await asyncio.sleep(0.05)
    process.kill()
    process.wait()


def error_lines(log: str) -> list[str]:
    """Lines a bot logged at ERROR (or tracebacks)."""
    return [line for line in log.splitlines() if " ERROR " in line or line.startswith("Traceback")]


class LiveBot:
    def __init__(
        self,
        sandbox: TimedSandbox,
        database_url: str,
        *,
        rate_limiter: bool,
        env: dict[str, str] | None = None,
    ) -> None:
        self.sandbox = sandbox
        self.database_url = database_url
        self.rate_limiter = rate_limiter
        self.extra_env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = Path(tempfile.mkstemp(prefix="tongban_bench_bot_", suffix=".log")[1])

    def environment(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("TONGBAN_") and key != "TELEGRAM_BOT_TOKEN"
        }
        env.update(
            {
                "PYTHONPATH": str(PROJECT_ROOT),
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TONGBAN_DATABASE_URL": self.database_url,
                "TONGBAN_BOT_API_BASE_URL": self.sandbox.base_url,
                "TONGBAN_BOT_API_FILE_URL": self.sandbox.base_file_url,
                "TONGBAN_SECRET_KEY": SECRET,
                "TONGBAN_LOG_LEVEL": "WARNING",
                **self.extra_env,
            }
        )
        return env

    def launch(self) -> subprocess.Popen[bytes]:
        """Start the bot process (spawning does not wait for it to be ready)."""
        command = [sys.executable, "-m", "bench.botproc", "--stats-every", "1"]
        if not self.rate_limiter:
            command.append("--no-rate-limiter")
        with self.log_path.open("wb") as log:
            return subprocess.Popen(
                command,
                cwd=str(PROJECT_ROOT),
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def start(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Launch, then wait until the bot polls the sandbox."""
        self.process = self.launch()
        deadline = time.monotonic() + timeout
        while not self.sandbox.calls_to("getUpdates"):
            if self.process.poll() is not None:
                raise RuntimeError(f"the bot process ended at start:\n{self.log()[-2000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError("the bot process did not start polling")
            await asyncio.sleep(0.05)

    async def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        await stop_process(self.process, seconds=10)

    def cpu_seconds(self) -> float | None:
        """The bot process's CPU time so far (user + system), where ``/proc`` tells it."""
        if self.process is None:
            return None
        try:
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return None
        fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def log_errors(self) -> list[str]:
        """Lines the bot logged at ERROR (or tracebacks)."""
        return error_lines(self.log())

    def cleanup(self) -> None:
        self.log_path.unlink(missing_ok=True)
