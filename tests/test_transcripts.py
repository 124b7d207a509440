"""Every transcript in tests/transcripts/ is played against the real bot on each database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.exact import ExactTranscript
from tests.harness import Harness
from tests.transcript import Transcript

ALL = sorted((Path(__file__).parent / "transcripts").glob("*.txt"))
EXACT = [p for p in ALL if "exact: yes" in p.read_text(encoding="utf-8").splitlines()]
TRANSCRIPTS = [p for p in ALL if p not in EXACT]


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
async def test_transcript(path: Path, harness: Harness) -> None:
    await Transcript.load(path).play(harness)


@pytest.mark.parametrize("path", EXACT, ids=[p.stem for p in EXACT])
async def test_exact_transcript(
    path: Path, harness: Harness, request: pytest.FixtureRequest, database_url: str
) -> None:
    """Every message to every participant, in order; ``--update-transcripts`` rewrites them
    (from the SQLite run; the PostgreSQL run must then agree)."""
    update = bool(request.config.getoption("--update-transcripts")) and database_url.startswith(
        "sqlite"
    )
    problems = await ExactTranscript.load(path).play(harness, update)
    assert not problems, "\n\n".join(problems)
