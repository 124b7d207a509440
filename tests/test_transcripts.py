"""Every transcript in tests/transcripts/ is played against the real bot on each database,
with the bot's own logging at its most talkative: nothing a person typed may reach a log."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.logs import configure
from bot.storage.migrate import upgrade
from tests.exact import ExactTranscript
from tests.harness import TEST_TOKEN, Harness

EXACT = sorted((Path(__file__).parent / "transcripts").glob("*.txt"))


def test_every_transcript_is_exact() -> None:
    """No transcript matches fragments: each one compares every message in full."""
    loose = [p.name for p in EXACT if "exact: yes" not in p.read_text("utf-8").splitlines()]
    assert loose == []


@pytest.mark.parametrize("path", EXACT, ids=[p.stem for p in EXACT])
async def test_exact_transcript(
    path: Path,
    harness: Harness,
    request: pytest.FixtureRequest,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Every message to every participant, in order; ``--update-transcripts`` rewrites them
    (from the SQLite run; the PostgreSQL run must then agree)."""
    update = bool(request.config.getoption("--update-transcripts")) and database_url.startswith(
        "sqlite"
    )
    exact = ExactTranscript.load(path)
    configure("DEBUG")
    with caplog.at_level(logging.DEBUG):
        problems = await exact.play(harness, update)
    assert not problems, "\n\n".join(problems)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    leaks = sorted(secret for secret in exact.typed_and_aliases() if secret in logged)
    assert not leaks, f"logs contain what people typed: {leaks}"
    assert TEST_TOKEN not in logged


async def test_exact_transcripts_are_regenerated_as_reviewed(tmp_path: Path) -> None:
    """``--update-transcripts`` writes back exactly the file a reviewer approved: strip one
    transcript's expected lines, regenerate it (from SQLite, as the option does), and it is
    the same file again."""
    url = f"sqlite+aiosqlite:///{tmp_path}/regenerate.db"
    await asyncio.to_thread(upgrade, url)
    harness = Harness(url)
    await harness.start()
    original = next(p for p in EXACT if p.name == "relay_after_done_en.txt")
    copy = tmp_path / original.name
    lines = original.read_text(encoding="utf-8").splitlines()
    copy.write_text("\n".join(line for line in lines if not line.startswith("  ")) + "\n")
    try:
        assert await ExactTranscript.load(copy).play(harness, rewrite=True) == []
    finally:
        await harness.stop()
    assert copy.read_text(encoding="utf-8") == original.read_text(encoding="utf-8")
