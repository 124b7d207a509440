"""With encryption keys set, no free text anyone typed is stored readable: every scenario
of the transcripts is played (in one of its languages), and after every step every column
of every table — and, on SQLite, the database file and its write-ahead log byte for byte —
is searched for each text the transcript typed."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.crypto import new_key
from bot.storage.db import Database
from bot.storage.encrypted import FREE_TEXT
from bot.storage.models import Base
from flows.roles import STAFF, Role
from tests.conftest import _truncate_postgres
from tests.exact import ExactTranscript, FullStack, Step
from tests.harness import Harness, texts
from tests.harness import Person as Chat
from tests.test_transcripts import EXACT

# Aliases are the names people chose to be known by, stored as they are by design.
ALIASES = {
    ("people", "alias"),
    ("audit_events", "actor_alias"),
    ("escalation_notes", "author_alias"),
    ("room_members", "alias"),  # a group alias, chosen for one room (flows/rooms.py)
}
# Typed answers that are settings or names, stored as they are by design.
SETTINGS = re.compile(r"^\d{1,2}([:.]\d{2})?\s*(pm|am|点)?$|^[A-Za-z]+/[A-Za-z_ ]+$", re.I)


def typed_free_text(path: Path) -> set[str]:
    """What people typed in a transcript in their own words (not commands, buttons, menu
    taps, times, time zones or aliases)."""
    exact = ExactTranscript.load(path)
    typed = [s.text for s in exact.steps if s.kind == "send" and not _announcing(exact, s)]
    aliases = {alias for _, _, alias in exact.cast.values()}
    texts = set()
    for raw in typed:
        text = re.sub(r'^\(reply to ".*?"\) ', "", raw)
        if text.startswith("/note "):
            text = re.sub(r"^/note (#\d+ )?", "", text)
        elif text.startswith(("/", "[", "<")) or not text[:1].isalnum():
            continue  # a command, a button, a sticker, a menu button (they start with an emoji)
        long_enough = len(text) >= 4 or any("\u4e00" <= c <= "\u9fff" for c in text)
        if long_enough and len(text) >= 2 and not SETTINGS.match(text) and text not in aliases:
            texts.add(text)
    return texts


def _announcing(exact: ExactTranscript, step: Step) -> bool:
    """Whether a staff member typed this while announcing an activity (/newactivity),
    changing one (/myactivities, /manage), making a group (/newgroup) or changing one
    (/groups, ✏ Edit): its title and address are published to everyone invited, not
    anyone's own words."""
    role = exact.cast.get(step.who, (None, "", ""))[0]
    if role not in STAFF:
        return False
    mine = [s for s in exact.steps if s.who == step.who and s.kind == "send"]
    before = [s.text for s in mine[: mine.index(step)] if s.text.startswith("/")]
    return bool(before) and before[-1].split()[0] in (
        "/newactivity",
        "/myactivities",
        "/manage",
        "/newgroup",
        "/groups",
    )


def _readable(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)


async def _columns(harness: Harness) -> list[tuple[str, str, str]]:
    found = []
    async with harness.db.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                for column, value in row.items():
                    if value is not None and (table.name, column) not in ALIASES:
                        found.append((table.name, column, _readable(value)))
    return found


async def _aliases(harness: Harness) -> set[str]:
    from bot.storage.models import Person, RoomMember

    async with harness.db.sessions() as session:
        people = (await session.scalars(select(Person.alias))).all()
        groups = (await session.scalars(select(RoomMember.alias))).all()
        return {a for a in (*people, *groups) if a}


def _bytes(path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())


def one_locale_per_scenario(paths: list[Path]) -> list[Path]:
    """Each scenario once, its locale taken in turn (en, zh_Hans, zh_Hant, en, ...) so all
    three are searched for: what is stored, and how, does not depend on the language (the
    scenario's other locales store the same columns), but how a Chinese text looks in a JSON
    column or the SQLite file does."""
    scenarios: dict[str, list[Path]] = {}
    for path in paths:
        scenario = re.sub(r"_(en|zh_Hans|zh_Hant)$", "", path.stem)
        scenarios.setdefault(scenario, []).append(path)
    return [found[turn % len(found)] for turn, found in enumerate(scenarios.values())]


SCANNED = one_locale_per_scenario(EXACT)


def test_the_scan_covers_every_scenario_and_every_locale() -> None:
    scenarios = {re.sub(r"_(en|zh_Hans|zh_Hant)$", "", p.stem) for p in EXACT}
    assert len(SCANNED) == len(scenarios)
    assert {p.stem.rsplit("_", 1)[-1] for p in SCANNED} >= {"en", "Hans", "Hant"}


@pytest.mark.parametrize("path", SCANNED, ids=[p.stem for p in SCANNED])
async def test_nothing_typed_is_stored_readable(
    path: Path, database_url: str, tmp_path: Path
) -> None:
    secrets = typed_free_text(path)
    if database_url.startswith("sqlite"):
        file = tmp_path / "at_rest.db"
        shutil.copy(database_url.split("///", 1)[1], file)
        url = f"sqlite+aiosqlite:///{file}"
    else:
        await asyncio.to_thread(_truncate_postgres, database_url)
        url, file = database_url, None
    harness = Harness(url, encryption_keys=new_key())
    leaks: set[tuple[str, str, str]] = set()

    async def scan() -> None:
        """After every step: a flow in progress must not hold what people typed either."""
        for table, column, value in await _columns(harness):
            leaks.update((table, column, s) for s in secrets if s in value)
        async with harness.db.sessions() as session:
            for free in FREE_TEXT:
                for value in (await session.scalars(select(free.column))).all():
                    values = value if free.many else [value]
                    leaks.update(
                        (free.column.class_.__tablename__, free.column.key, str(v))
                        for v in values or []
                        if v and not str(v).startswith("f1:")
                    )
        if file is not None:
            raw = _bytes(file)
            for text in secrets - await _aliases(harness):
                if text.encode() in raw or json.dumps(text)[1:-1].encode() in raw:
                    leaks.add(("the database file", "", text))

    await harness.start()
    try:
        assert await ExactTranscript.load(path).play(FullStack(harness), False, scan) == []
    finally:
        await harness.stop()
    assert not leaks, f"readable at rest: {sorted(leaks)}"


def test_every_free_text_column_is_declared() -> None:
    """A Text column outside the declaration would be stored in the clear: each one is either
    declared free text or listed here with why it is not."""
    from sqlalchemy import Text

    not_free_text = {("app_settings", "value")}  # the button-signing key, made by the bot
    declared = {(f.column.class_.__tablename__, f.column.key) for f in FREE_TEXT}
    text_columns = {
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, Text)
    }
    assert text_columns - not_free_text <= declared, "a text column is not declared"
    lists = {(f.column.class_.__tablename__, f.column.key) for f in FREE_TEXT if f.many}
    assert declared - text_columns == lists, "declared columns exist (JSON lists of texts)"


async def test_rotating_the_key_keeps_everything_readable(database_url: str) -> None:
    """Put a new key first, rotate, drop the old one: every declared text still reads, a
    worker can still claim the chat whose reason holds a relative's note."""
    from bot.storage.admin import rotate_encryption
    from bot.storage.models import EscalationReason

    old = new_key()
    harness = Harness(database_url, encryption_keys=old)
    await harness.start()
    try:
        from datetime import UTC, datetime

        client, mum, _ = await harness.client_family_and_worker(
            datetime(2026, 12, 1, 12, tzinfo=UTC)
        )
        await mum.does("/worried", "[Next ›]", "please don't tell him it was me")
        await client.send("I want to die")
    finally:
        await harness.stop()
    new = new_key()
    db = Database(database_url)
    try:
        assert await rotate_encryption(db, [new, old]) > 0
    finally:
        await db.dispose()
    harness = Harness(database_url, encryption_keys=new)  # the old key is gone
    harness.update_ids = itertools.count(2_000_000)  # the first bot's ids were handled
    await harness.start()
    try:
        lin = Chat(harness, await _user_of(harness, "Lin"), "en")
        replies = await lin.send("/claim 1")
        assert "please don't tell him it was me" in texts(replies)
        async with harness.db.sessions() as session:
            note = await session.scalar(
                select(EscalationReason.note).where(EscalationReason.note.is_not(None))
            )
        assert note is not None and note.startswith("f1:")
    finally:
        await harness.stop()


async def _user_of(harness: Harness, alias: str) -> int:
    from bot.storage.models import Person

    async with harness.db.sessions() as session:
        user = await session.scalar(select(Person.telegram_user_id).where(Person.alias == alias))
    assert user is not None
    return int(user)


async def test_a_persons_copy_holds_each_kind_of_free_text_readable(harness: Harness) -> None:
    """Right of access: for every declared free-text column, what the person wrote there is
    in their /mydata, decrypted."""
    from datetime import UTC, datetime

    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    harness.set_now(now)
    client, mum, lin = await harness.client_family_and_worker(now)
    await client.does("/warningsigns", "[➕ Add]", "pacing at night")
    await client.does(
        "/safetyplan", "[Change one part]", "[7. My reasons for living]", "my cat Mochi"
    )
    await client.send("/checkin")
    for label in ("🙂 Good", "As usual", "💊 Yes", "No", "None of these", "A little", "None", "No"):
        await client.press(label)
    await client.send("walked to the market")
    await mum.does("/worried", "[Next ›]", "he stopped eating")
    await client.does("I want to die", "is someone there")
    await lin.does("/claim 1", "/note sister nearby", "/review #1 I froze")
    boss, _ = await harness.make_person(Role.SUPERVISOR, "Mei", now)
    await boss.send("/supnote Lin practise the first question")
    await lin.send("/mydata")
    worker = [c for c in harness.api.calls if c.method == "sendDocument"][-1].params["document"]
    await client.send("/mydata")
    mine = [c for c in harness.api.calls if c.method == "sendDocument"][-1].params["document"]
    await mum.send("/mydata")
    theirs = [c for c in harness.api.calls if c.method == "sendDocument"][-1].params["document"]
    exported = mine.decode() + theirs.decode() + worker.decode()
    written = {
        "checkins.note": "walked to the market",
        "warning_signs.text": "pacing at night",
        "safety_plan_items.text": "my cat Mochi",
        "escalation_notes.text": "sister nearby",
        "escalation_reasons.note": "he stopped eating",
        "risk_events.matched": "want to die",
        "review_requests.note": "I froze",
        "supervision_notes.text": "practise the first question",
        "recent_words.texts": "is someone there",  # kept minutes for the crisis screen
    }
    declared = {f"{f.column.class_.__tablename__}.{f.column.key}" for f in FREE_TEXT}
    # Queued messages were handed to Lin when she claimed; a leader's activity record is
    # about an activity, not a person; feedback comments are in tests/test_activities.py.
    assert declared - set(written) == {
        "queued_messages.text",
        "activity_records.what_was_done",
        "activity_records.problem_note",
        "activity_feedback.comment",
    }
    missing = [column for column, text in written.items() if text not in exported]
    assert not missing, f"not in the person's copy: {missing}"
