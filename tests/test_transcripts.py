"""Every transcript in tests/transcripts/ is played against the real bot on each database."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import Harness
from tests.transcript import Transcript

TRANSCRIPTS = sorted((Path(__file__).parent / "transcripts").glob("*.txt"))


@pytest.mark.parametrize("path", TRANSCRIPTS, ids=[p.stem for p in TRANSCRIPTS])
async def test_transcript(path: Path, harness: Harness) -> None:
    await Transcript.load(path).play(harness)
