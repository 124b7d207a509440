"""Every transcript in tests/transcripts/ is played, with the bot's own logging at its most
talkative: nothing a person typed may reach a log.

Most say ``runs: core`` and are played against the core with their facts in memory
(``tests/core_player/``), in milliseconds: the desk, the relay and the crisis path included.
The rest, at least one transcript of every feature and those that need the scheduler, a
role change or erasure, are played against the whole bot on each database; the core player
plays those too where it can, and must agree."""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path

import pytest

from bot.logs import configure
from bot.storage.migrate import upgrade
from tests.core_player import CoreStage, Unplayable
from tests.exact import ExactTranscript, FullStack, Stage
from tests.harness import TEST_TOKEN, Harness

EXACT = sorted((Path(__file__).parent / "transcripts").glob("*.txt"))
CORE = [p for p in EXACT if ExactTranscript.load(p).runs == "core"]
FULL = [p for p in EXACT if p not in CORE]


def feature(path: Path) -> str:
    """The feature a transcript is about: the first word of its name, the first two for the
    family features (checkin_en: checkin, onboarding_declined_en: onboarding,
    family_lesson_zh_Hant: family_lesson)."""
    found = re.match(r"(family_)?[a-z]+", path.stem)
    assert found is not None
    return found.group(0)


def test_every_transcript_is_exact() -> None:
    """No transcript matches fragments: each one compares every message in full."""
    loose = [p.name for p in EXACT if "exact: yes" not in p.read_text("utf-8").splitlines()]
    assert loose == []


def test_every_feature_keeps_a_transcript_on_the_whole_bot() -> None:
    """The core player stands in for the shell's storage and sending; each feature still has
    a transcript that runs through them on both databases."""
    assert {feature(p) for p in CORE} <= {feature(p) for p in FULL}


async def _play(
    exact: ExactTranscript, stage: Stage, rewrite: bool, caplog: pytest.LogCaptureFixture
) -> None:
    configure("DEBUG")
    with caplog.at_level(logging.DEBUG):
        problems = await exact.play(stage, rewrite)
    assert not problems, "\n\n".join(problems)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    leaks = sorted(secret for secret in exact.typed_and_aliases() if secret in logged)
    assert not leaks, f"logs contain what people typed: {leaks}"
    assert TEST_TOKEN not in logged


@pytest.mark.parametrize("path", FULL, ids=[p.stem for p in FULL])
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
    await _play(ExactTranscript.load(path), FullStack(harness), update, caplog)


@pytest.mark.parametrize("path", CORE, ids=[p.stem for p in CORE])
async def test_core_transcript(
    path: Path, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    """The same, against the core with its facts in memory; ``--update-transcripts``
    rewrites them from the core player."""
    stage = CoreStage()
    await stage.start()
    update = bool(request.config.getoption("--update-transcripts"))
    await _play(ExactTranscript.load(path), stage, update, caplog)


# What the core player leaves to the whole bot, by transcript: it must refuse, not skip.
WHOLE_BOT_ONLY = {
    "activity_en": "cli: the command line",
    "activity_zh_Hant": "cli: the command line",
    "activity_changes_zh_Hans": "cli: the command line",
    "activity_new_zh_Hans": "fact 'staff_aliases'",
    "activity_after_en": "cli: the command line",
    "activity_after_zh_Hant": "cli: the command line",
    "activity_manage_zh_Hans": "cli: the command line",
    "activity_new_en": "fact 'staff_aliases'",
    "activity_changes_en": "cli: the command line",
    "activity_zh_Hans": "cli: the command line",
    "activity_after_zh_Hans": "cli: the command line",
    "activity_changes_zh_Hant": "cli: the command line",
    "activity_new_zh_Hant": "fact 'staff_aliases'",
    "activity_edit_en": "cli: the command line",
    "activity_edit_zh_Hans": "cli: the command line",
    "activity_edit_zh_Hant": "cli: the command line",
    "room_en": "cli: the command line",
    "room_zh_Hans": "cli: the command line",
    "room_zh_Hant": "cli: the command line",
    "group_new_en": "fact 'staff_aliases'",
    "group_new_zh_Hans": "fact 'staff_aliases'",
    "group_new_zh_Hant": "fact 'staff_aliases'",
    "group_edit_en": "cli: the command line",
    "group_edit_zh_Hans": "cli: the command line",
    "group_edit_zh_Hant": "cli: the command line",
    "activity_room_en": "cli: the command line",
    "activity_room_zh_Hans": "cli: the command line",
    "activity_room_zh_Hant": "cli: the command line",
    "activity_room_cancelled_en": "cli: the command line",
    "activity_leader_gone_en": "cli: the command line",
    "activity_leader_gone_zh_Hans": "cli: the command line",
    "activity_leader_gone_zh_Hant": "cli: the command line",
    "activity_room_cancelled_zh_Hans": "cli: the command line",
    "activity_room_cancelled_zh_Hant": "cli: the command line",
    "room_edit_en": "cli: the command line",
    "room_edit_zh_Hans": "cli: the command line",
    "room_edit_zh_Hant": "cli: the command line",
    "checkin_zh_Hant": "tick: the scheduler",
    "checkin_flag_en": "early-warning flags",
    "checkin_flag_mania_en": "early-warning flags",
    "checkin_flag_stopped_zh_Hant": "early-warning flags",
    "checkin_flag_withdrawal_zh_Hans": "early-warning flags",
    "checkin_flag_zh_Hans": "early-warning flags",
    "checkin_flag_zh_Hant": "early-warning flags",
    "relay_subject_erased_zh_Hant": "EraseMe",
    "relay_worker_demoted_en": "role: a role change",
    "relay_worker_demoted_zh_Hant": "role: a role change",
    "digest_en": "tick: the scheduler",
    "digest_zh_Hans": "tick: the scheduler",
    "digest_zh_Hant": "tick: the scheduler",
    "measures_en": "fact 'measures'",
    "measures_zh_Hans": "fact 'measures'",
    "measures_zh_Hant": "fact 'measures'",
    "supervision_en": "SupervisionRequest",
    "supervision_zh_Hans": "SupervisionRequest",
    "supervision_zh_Hant": "SupervisionRequest",
    "training_en": "SupervisionRequest",
    "training_zh_Hans": "SupervisionRequest",
    "training_zh_Hant": "SupervisionRequest",
}


@pytest.mark.parametrize("path", FULL, ids=[p.stem for p in FULL])
async def test_the_core_player_agrees_with_the_whole_bot(path: Path) -> None:
    """A transcript kept on the whole bot is played by the core player too: the two agree,
    or the core player says why it cannot play it."""
    stage = CoreStage()
    await stage.start()
    exact = ExactTranscript.load(path)
    if path.stem in WHOLE_BOT_ONLY:
        with pytest.raises(Unplayable, match=WHOLE_BOT_ONLY[path.stem]):
            await exact.play(stage, rewrite=False)
        return
    assert await exact.play(stage, rewrite=False) == []


def _unreviewed_copy(original: Path, folder: Path) -> Path:
    """``original`` with its expected lines stripped."""
    copy = folder / original.name
    lines = original.read_text(encoding="utf-8").splitlines()
    copy.write_text("\n".join(line for line in lines if not line.startswith("  ")) + "\n")
    return copy


async def test_exact_transcripts_are_regenerated_as_reviewed(tmp_path: Path) -> None:
    """``--update-transcripts`` writes back exactly the file a reviewer approved: strip one
    transcript's expected lines, regenerate it (from SQLite, as the option does), and it is
    the same file again."""
    url = f"sqlite+aiosqlite:///{tmp_path}/regenerate.db"
    await asyncio.to_thread(upgrade, url)
    harness = Harness(url)
    await harness.start()
    original = next(p for p in FULL if p.name == "escalation_en.txt")
    copy = _unreviewed_copy(original, tmp_path)
    try:
        assert await ExactTranscript.load(copy).play(FullStack(harness), rewrite=True) == []
    finally:
        await harness.stop()
    assert copy.read_text(encoding="utf-8") == original.read_text(encoding="utf-8")


async def test_core_transcripts_are_regenerated_as_reviewed(tmp_path: Path) -> None:
    """The same for a transcript the core player plays."""
    stage = CoreStage()
    await stage.start()
    original = next(p for p in CORE if p.name == "checkin_en.txt")
    copy = _unreviewed_copy(original, tmp_path)
    assert await ExactTranscript.load(copy).play(stage, rewrite=True) == []
    assert copy.read_text(encoding="utf-8") == original.read_text(encoding="utf-8")
