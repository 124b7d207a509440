"""The documents that describe behaviour stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from bot.config import Settings
from flows.commands import COMMANDS

ROOT = Path(__file__).resolve().parent.parent


def test_permission_table_matches_the_code() -> None:
    text = (ROOT / "docs" / "permissions.md").read_text(encoding="utf-8")
    header = next(line for line in text.splitlines() if line.startswith("| command |"))
    roles = [cell.strip() for cell in header.strip("|").split("|")][1:]
    documented = {}
    for line in text.splitlines():
        match = re.match(r"\| /(\w+) \|(.*)\|$", line)
        if match:
            cells = [cell.strip() for cell in match.group(2).split("|")]
            documented[match.group(1)] = {
                role for role, cell in zip(roles, cells, strict=True) if cell == "yes"
            }
    assert documented == {c.name: {r.value for r in c.roles} for c in COMMANDS}


def test_readme_lists_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in Settings.model_fields:
        variable = (
            "TELEGRAM_BOT_TOKEN" if name == "telegram_bot_token" else f"TONGBAN_{name.upper()}"
        )
        assert f"`{variable}`" in readme, f"README's settings table lacks {variable}"


def test_readme_commands_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "bash scripts/run.sh" in readme
    assert "bash scripts/test.sh" in readme
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash scripts/test.sh" in ci, "CI runs the README's test command"
