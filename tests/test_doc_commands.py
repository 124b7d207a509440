"""Every command line the README and docs/ show is run, and must succeed.

Commands that would change something real, run for a long time or need an id that only
exists on a real installation run with ``--help`` instead (which still fails on a command
or option that does not exist). ``bash scripts/run.sh`` is run for real: it must build its
environment and serve the sandbox page. ``bash scripts/test.sh`` is what runs this file
(and CI runs it); its ``--update-transcripts`` form has its own test in test_docs.py.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from bot.crypto import new_key

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "bench" / "README.md"]
PROGRAMS = (
    "bash scripts/",
    ".venv/bin/tongban",
    "tongban ",
    "python -m ",
    ".venv-test/bin/python scripts/",  # the risk model's training script: run as --help
)
# tongban subcommands that change a real installation, run forever, or take a real id
AS_HELP = (
    "run",
    "sandbox",
    "invite revoke",
    "users set-role",
    "users delete",
    "flags close",
    "risk-check --report-into",  # rewrites a doc that test_risk_corpus.py checks
    "risk-check --lexicon",  # a program's own lexicon file, which exists only there
)


def shown_commands() -> list[tuple[str, str]]:
    """(page, command) for each command line in a fenced block or an inline code span."""
    found: list[tuple[str, str]] = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        # every fence is paired first, so a block in another language cannot shift them
        fenced = re.findall(r"^```(\w*)\n(.*?)^```", text, re.S | re.M)
        blocks = [block for lang, block in fenced if lang in ("bash", "sh", "console", "")]
        lines = [line for block in blocks for line in block.splitlines()]
        spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
        for raw in [*lines, *spans]:
            command = raw.split(" #", 1)[0].strip().rstrip("&").strip()
            body = re.sub(r"^(?:[A-Z_]+=\S+\s+)+", "", command)
            if body.startswith(PROGRAMS) and "..." not in command:
                found.append((page.name, command))
    return sorted(set(found))


COMMANDS = shown_commands()


def test_the_documents_show_commands() -> None:
    names = {c for _, c in COMMANDS}
    assert "bash scripts/run.sh" in names and ".venv/bin/tongban db new-key" in names


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _argv(command: str) -> tuple[dict[str, str], list[str]]:
    """The environment assignments and the argument list, as this test runs them."""
    words = shlex.split(re.sub(r"\[([^\]]*)\]", r"\1", command))
    env: dict[str, str] = {}
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    if words[0] in (".venv/bin/tongban", "tongban"):
        words = [str(Path(sys.executable).parent / "tongban"), *words[1:]]
        rest = " ".join(words[1:])
        if rest.startswith(AS_HELP) or any("<" in w or w == "PATH" for w in words):
            words = [words[0], *[w for w in words[1:3] if not w.startswith("-")][:2], "--help"]
            if words[1] in ("run", "sandbox"):
                words = [words[0], words[1], "--help"]
    elif words[:2] == ["python", "-m"]:
        words = [sys.executable, "-m", words[2], "--help"]
    elif words[0] == ".venv-test/bin/python":
        # training takes minutes and needs the [train] extra; --help still fails on a
        # script or an option that does not exist
        options = [w for w in words[2:] if w.startswith("--")]
        words = [sys.executable, str(ROOT / words[1]), *options, "--help"]
    return env, words


@pytest.mark.parametrize(
    ("page", "command"),
    [
        c
        for c in COMMANDS
        if not c[1].endswith(("scripts/test.sh", "run.sh")) and "test.sh" not in c[1]
    ],
    ids=[
        c[1]
        for c in COMMANDS
        if not c[1].endswith(("scripts/test.sh", "run.sh")) and "test.sh" not in c[1]
    ],
)
def test_each_command_runs(page: str, command: str, tmp_path: Path) -> None:
    env, argv = _argv(command)
    environment = {
        **os.environ,
        "TONGBAN_DATABASE_URL": f"sqlite:///{tmp_path}/docs.db",
        "TONGBAN_ENCRYPTION_KEYS": new_key(),
        **{k: v for k, v in env.items() if "WEBHOOK" not in k},
    }
    environment.pop("TELEGRAM_BOT_TOKEN", None)
    done = subprocess.run(
        argv, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{page}: {command}\n{done.stdout[-1500:]}\n{done.stderr[-1500:]}"


def test_the_run_command_starts_the_sandbox_without_a_token(tmp_path: Path) -> None:
    """The README's first command on a machine with no token: its own environment, the
    database upgraded, and the sandbox's web chat answering."""
    port = _free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"},
        "TONGBAN_SANDBOX_PORT": str(port),
        "TONGBAN_DATABASE_URL": f"sqlite:///{tmp_path}/run.db",
        "TONGBAN_SANDBOX_DATABASE": str(tmp_path / "sandbox.db"),
    }
    process = subprocess.Popen(
        ["bash", "scripts/run.sh"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as page:
                    assert page.status == 200
                    assert "Sandbox" in page.read().decode()
                    return
            except OSError:
                time.sleep(1)
        pytest.fail("the sandbox page did not answer within 10 minutes")
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
