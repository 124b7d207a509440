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


def test_ci_runs_the_readmes_test_command() -> None:
    """The README's commands themselves are run by tests/test_doc_commands.py."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash scripts/test.sh" in ci, "CI runs the README's test command"


ONE_TRANSCRIPT = "sqlite and escalation_en"


def test_the_readme_command_that_rewrites_exact_transcripts() -> None:
    """Run as the README shows it (on one transcript: test_transcripts.py compares every
    one on both databases): it passes, and rewriting the reviewed transcript from what the
    bot does changes nothing (a change is a diff someone reviews)."""
    import subprocess

    command = "bash scripts/test.sh tests/test_transcripts.py --update-transcripts"
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    assert command in readme
    folder = ROOT / "tests" / "transcripts"
    before = {path: path.read_bytes() for path in folder.glob("*.txt")}
    try:
        done = subprocess.run(
            [*command.split(), "-q", "-p", "no:cacheprovider", "-n", "0", "-k", ONE_TRANSCRIPT],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
        changed = sorted(p.name for p, content in before.items() if p.read_bytes() != content)
        assert not changed, f"the bot no longer does what these transcripts say: {changed}"
    finally:
        for path, content in before.items():
            path.write_bytes(content)


def test_document_links_point_inside_the_repository() -> None:
    """A user who clones the repository gets every page the documents link to."""
    broken = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            if (
                not (page.parent / target).resolve().is_relative_to(ROOT)
                or not (page.parent / target).exists()
            ):
                broken.append(f"{page.name}: {target}")
    assert not broken, broken


def test_the_feature_map_names_every_module_and_only_files_that_exist() -> None:
    """docs/features.md answers "where is X?": a module it does not name, or a path that is
    gone, sends a newcomer to the wrong place."""
    text = (ROOT / "docs" / "features.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:bot|flows|tests)/[\w/.]+)`", text))
    assert not [path for path in named if not (ROOT / path).exists()]
    folders = tuple(path for path in named if path.endswith("/"))
    modules = [
        str(path.relative_to(ROOT))
        for folder in ("bot", "flows")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if path.name != "__init__.py"
    ]
    unnamed = [
        module for module in modules if module not in named and not module.startswith(folders)
    ]
    assert unnamed == []
