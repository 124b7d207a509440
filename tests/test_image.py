"""The container image, built and run here (issue 22): what compose.yaml's services do, one
at a time, on this machine's PostgreSQL and against the sandbox as Telegram.

``bash deploy/build-image.sh`` builds the image (with a base made from Debian's packages
where Docker Hub is out of reach, as on CI). The tests are skipped, with the reason, on a
machine without a running Docker daemon; ``.ci/run`` starts one.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.invites import create_invite
from bot.sandbox import SandboxBotAPI
from bot.storage.db import Database
from flows.roles import Role
from tests.bot_process import find_button, free_port

ROOT = Path(__file__).resolve().parent.parent
TAG = "tongban:test"
TOKEN = "123456789:SANDBOX-tongban-image"
POSTGRES_ENV = "TONGBAN_TEST_POSTGRES_URL"


def _docker_runs() -> bool:
    if shutil.which("docker") is None:
        return False
    done = subprocess.run(["docker", "info"], capture_output=True, check=False, timeout=30)
    return done.returncode == 0


pytestmark = pytest.mark.skipif(
    not _docker_runs(), reason="no running Docker daemon on this machine (.ci/run starts one)"
)


def _docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, check=False, timeout=timeout
    )


@pytest.fixture(scope="module")
def image() -> str:
    """The image, built by the documented script (Docker's cache makes a rebuild quick)."""
    done = subprocess.run(
        ["bash", "deploy/build-image.sh", TAG],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return TAG


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A new, empty PostgreSQL database: the image's migration must build the schema."""
    admin = os.environ.get(POSTGRES_ENV)
    if not admin:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    name = f"tongban_image_{uuid.uuid4().hex[:10]}"
    admin_url = "postgresql+asyncpg://" + admin.split("://", 1)[1]

    async def execute(sql: str) -> None:
        engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(sql))
        await engine.dispose()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    try:
        yield admin.rsplit("/", 1)[0] + "/" + name
    finally:
        asyncio.run(execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _in_image(image: str, shell: str) -> str:
    """What ``shell`` prints in a fresh container of the image, with no network."""
    done = _docker("run", "--rm", "--network", "none", "--entrypoint", "sh", image, "-c", shell)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_the_image_runs_as_its_own_user_without_a_compiler_and_draws_chinese(image: str) -> None:
    assert _in_image(image, "id -u") == "10001", "not root: the image's own user"
    assert _in_image(image, "command -v gcc cc || echo none") == "none", "no build tools"
    draw = "python -c \"from bot.charts import drawable; print(drawable('睡眠 服药 💊'))\""
    assert _in_image(image, draw) == "睡眠 服药", "the CJK font is there: Chinese is drawn"
    assert "db" in _in_image(image, "tongban --help"), "tongban is the entry point's program"


@asynccontextmanager
async def _worker(
    image: str, api: SandboxBotAPI, database_url: str, port: int
) -> AsyncIterator[str]:
    """One bot worker as compose.yaml runs it: the image's own command, webhook mode."""
    name = f"tongban-test-{uuid.uuid4().hex[:8]}"
    env = {
        "TELEGRAM_BOT_TOKEN": api.token,
        "TONGBAN_BOT_API_BASE_URL": api.base_url,
        "TONGBAN_BOT_API_FILE_URL": api.base_file_url,
        "TONGBAN_DATABASE_URL": database_url,
        "TONGBAN_MODE": "webhook",
        "TONGBAN_WEBHOOK_LISTEN": "127.0.0.1",
        "TONGBAN_WEBHOOK_PORT": str(port),
        "TONGBAN_WEBHOOK_URL": f"http://127.0.0.1:{port}/tg/hook",
        "TONGBAN_WEBHOOK_SECRET": "image-test-secret-0123456789",
        "TONGBAN_LOG_LEVEL": "WARNING",
    }
    flags = [arg for key, value in env.items() for arg in ("-e", f"{key}={value}")]
    started = await asyncio.to_thread(
        _docker, "run", "-d", "--init", "--name", name, "--network", "host", *flags, image
    )
    assert started.returncode == 0, started.stderr
    try:
        yield name
    finally:
        stopped = await asyncio.to_thread(_docker, "stop", "--time", "20", name)
        logs = await asyncio.to_thread(_docker, "logs", name)
        state = await asyncio.to_thread(_docker, "inspect", "--format", "{{.State.ExitCode}}", name)
        await asyncio.to_thread(_docker, "rm", "-f", name)
        assert stopped.returncode == 0
        assert state.stdout.strip() == "0", (
            f"the worker did not stop cleanly:\n{logs.stderr[-2000:]}"
        )
        assert "Traceback" not in logs.stderr, logs.stderr[-2000:]


async def _healthz(port: int, wait: float = 60) -> int:
    async def ask() -> int:
        async with aiohttp.ClientSession() as session:
            while True:
                try:
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        return response.status
                except aiohttp.ClientError:
                    await asyncio.sleep(0.5)

    return await asyncio.wait_for(ask(), wait)


async def test_the_migration_then_a_webhook_worker_serve_a_new_client(
    image: str, empty_database: str
) -> None:
    """compose.yaml's `migrate` (`db upgrade`) on an empty database, then a worker (the
    image's default command) in webhook mode: healthy, and a client invited on the host
    gets the consent question, agrees, and is asked for their language."""
    migrate = await asyncio.to_thread(
        _docker,
        "run",
        "--rm",
        "--network",
        "host",
        "-e",
        f"TONGBAN_DATABASE_URL={empty_database}",
        image,
        "db",
        "upgrade",
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]

    db = Database("postgresql+asyncpg://" + empty_database.split("://", 1)[1])
    try:
        code = (await create_invite(db, Role.CLIENT, timedelta(days=1))).code
    finally:
        await db.dispose()
    port = free_port()
    async with (
        SandboxBotAPI(token=TOKEN, rate_limits=False) as api,
        _worker(image, api, empty_database, port),
    ):
        assert await _healthz(port) == 200
        user = await api.create_user("Ming", "zh-CN")
        await api.user_send_text(user["id"], f"/start {code}")
        await api.wait_until(
            lambda: any("你同意吗？" in (e.text or "") for e in api.bot_messages(user["id"])), 60
        )
        found = find_button(api, user["id"], "✅ 我同意")
        assert found is not None
        await api.user_press_button(user["id"], *found)
        await api.wait_until(
            lambda: any(
                "你想让我用哪种语言？" in (e.text or "") for e in api.bot_messages(user["id"])
            ),
            30,
        )
        texts = [e.text or "" for e in api.bot_messages(user["id"])]
        assert sum("你同意吗？" in t for t in texts) == 1
        assert sum("你想让我用哪种语言？" in t for t in texts) == 1
