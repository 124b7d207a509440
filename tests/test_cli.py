"""The admin command line, as an admin would use it."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from bot.cli import main
from tests.bot_process import free_port, start_bot

COMMANDS = [
    ["run"],
    ["db", "upgrade"],
    ["db", "backup"],
    ["db", "restore"],
    ["invite", "create"],
    ["invite", "list"],
    ["invite", "revoke"],
    ["users", "list"],
    ["users", "set-role"],
]


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("TONGBAN_DATABASE_URL", database_url)
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", *command, "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "usage: tongban" in result.stdout


async def test_run_without_token_starts_the_sandbox_and_says_how_to_connect(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import asyncio
    import os

    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env["TONGBAN_SANDBOX_PORT"] = str(port)
    env["TONGBAN_SANDBOX_DATABASE"] = str(tmp_path / "sandbox.db")
    process = await start_bot(env, asyncio.subprocess.PIPE, asyncio.subprocess.PIPE)
    try:
        banner = b""
        while b"Stop with Ctrl+C" not in banner:
            line = await asyncio.wait_for(process.stdout.readline(), 60)  # type: ignore[union-attr]
            assert line, "the process ended before printing its banner"
            banner += line
    finally:
        process.terminate()
        err = await asyncio.wait_for(process.stderr.read(), 30)  # type: ignore[union-attr]
        await process.wait()
    assert b"TELEGRAM_BOT_TOKEN" in err and b"@BotFather" in err
    assert b"TONGBAN SANDBOX" in banner
    assert f"http://127.0.0.1:{port}/".encode() in banner


def test_invite_lifecycle(cli) -> None:  # type: ignore[no-untyped-def]
    code, out, _ = cli("invite", "create", "--role", "client", "--expires", "2d", "--uses", "3")
    assert code == 0
    link = re.search(r"https://t\.me/\S+\?start=([A-Za-z0-9_-]+)", out)
    assert link is not None
    assert f"code: {link.group(1)}" in out
    code, out, _ = cli("invite", "list")
    assert re.search(r"\b1\s+client\s+0/3\s+.*open", out)
    assert link.group(1) not in out, "codes are never shown again (only their hash is stored)"
    code, out, _ = cli("invite", "revoke", "1")
    assert code == 0 and "revoked" in out
    _, out, _ = cli("invite", "list")
    assert "(no invites)" in out
    _, out, _ = cli("invite", "list", "--all")
    assert "revoked" in out
    code, _, err = cli("invite", "revoke", "1")
    assert code == 1 and "no active invite" in err


def test_bad_arguments_get_clear_errors(cli) -> None:  # type: ignore[no-untyped-def]
    code, _, err = cli("invite", "create", "--role", "client", "--expires", "forever")
    assert code == 2 and "not a duration" in err
    with pytest.raises(SystemExit):
        main(["invite", "create", "--role", "king"])


def test_bad_configuration_is_reported(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TONGBAN_DEFAULT_TIMEZONE", "Mars/Olympus")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "not-a-token")
    assert main(["db", "upgrade"]) == 2
    err = capsys.readouterr().err
    assert "TONGBAN_DEFAULT_TIMEZONE" in err and "TELEGRAM_BOT_TOKEN" in err


async def test_users_list_and_set_role(database_url: str) -> None:
    """Through the harness (a real onboarding), then the CLI functions on the same database."""
    from bot.operations import Told, set_role
    from bot.storage.admin import list_people
    from flows.roles import Role
    from tests.harness import Harness, texts

    harness = Harness(database_url)
    await harness.start()
    try:
        person = await harness.onboard(Role.CLIENT)
        people = await list_people(harness.db)
        assert [(p.role, p.locale) for p in people] == [("client", "en")]
        assert harness.services is not None
        dispatcher, bot = harness.services.dispatcher, harness.services.application.bot
        assert await set_role(dispatcher, bot, people[0].id, Role.PEER_WORKER) == Told(0, 0)
        assert await set_role(dispatcher, bot, 999, Role.PEER_WORKER) is None
        replies = await person.send("/help")
        assert "Peer worker commands" in texts(replies), "help now follows the new role"
        assert "Which language" in texts(replies), "and the new role's setup starts"
    finally:
        await harness.stop()
