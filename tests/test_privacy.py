"""Data rights, encryption at rest, nothing private in logs, updates handled once, who may do what."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text

from bot.cli import main
from bot.crypto import new_key
from bot.logs import configure
from bot.storage.models import AuditEvent, Base, Person, SafetyPlanItem
from flows.commands import COMMANDS
from flows.roles import Role
from tests.bot_process import free_port
from tests.harness import NOT_AVAILABLE, Harness, texts


async def test_mydata_sends_everything_readable(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT)
    await client.send("/checkin")
    for label in ("🙂 Good", "As usual", "💊 Yes", "No", "None of these", "A little", "None"):
        await client.press(label)
    await client.send("a calm day, walked by the river")
    replies = await client.send("/mydata")
    assert "3 check-ins" not in texts(replies)
    assert "1 check-ins" in texts(replies) or "1 check-in" in texts(replies)
    document = [c for c in harness.api.calls if c.method == "sendDocument"][-1]
    data = json.loads(document.params["document"])
    assert data["checkins"][0]["note"] == "a calm day, walked by the river"
    assert data["checkins"][0]["mood"] == 4
    assert data["profile"]["role"] == "client"


async def test_deleteme_leaves_nothing_identifying(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT)
    lin = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    await client.does("/warningsigns", "[➕ Add]", "not sleeping", "/talk")
    await lin.press("Claim")
    await client.send("thanks for joining")
    replies = await client.does("/deleteme", "[Yes, delete everything]")
    assert "Everything about you has been deleted" in texts(replies)
    async with harness.db.sessions() as session:
        person_ids = (
            await session.scalars(
                select(Person.id).where(Person.telegram_user_id == client.user_id)
            )
        ).all()
        assert person_ids == []

        def scan(sync_session: object) -> list[str]:
            found = []
            connection = sync_session.connection()  # type: ignore[attr-defined]
            for table in Base.metadata.sorted_tables:
                for row in connection.execute(table.select()).mappings():
                    for value in row.values():
                        if (
                            str(client.user_id) in str(value)
                            or "not sleeping" in str(value)
                            or "thanks for joining" in str(value)
                        ):
                            found.append(table.name)
            return found

        leftovers = await session.run_sync(scan)
    assert leftovers == [], f"identifying data left in {leftovers}"
    replies = await client.send("hello")
    assert "invite link" in texts(replies), "they are a stranger now"


async def test_no_then_nothing_is_deleted(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT)
    await client.send("/deleteme")
    assert "nothing was deleted" in texts(await client.press("No, keep it"))
    assert "Here's what I can do" in texts(await client.send("/help"))


async def test_users_delete_command(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    import asyncio

    worker = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    async with harness.db.sessions() as session:
        person_id = await session.scalar(
            select(Person.id).where(Person.telegram_user_id == worker.user_id)
        )
    monkeypatch.setenv("TONGBAN_DATABASE_URL", harness.database_url)
    assert await asyncio.to_thread(main, ["users", "delete", str(person_id), "--yes"]) == 0
    async with harness.db.sessions() as session:
        assert await session.get(Person, person_id) is None


async def test_free_text_is_encrypted_at_rest(database_url: str) -> None:
    harness = Harness(database_url, encryption_keys=new_key())
    await harness.start()
    try:
        client = await harness.onboard(Role.CLIENT)
        await client.send("/safetyplan")
        await client.press("Change one part")
        await client.press("7. My reasons for living")
        await client.send("my daughter Lily")
        async with harness.db.sessions() as session:
            stored = (await session.scalars(select(SafetyPlanItem.text))).all()
            raw = (
                (await session.execute(text("SELECT text FROM safety_plan_items"))).scalars().all()
            )
        assert stored == raw
        assert all("Lily" not in value and value.startswith("f1:") for value in raw)
        replies = await client.send("/safetyplan")
        assert "my daughter Lily" in texts(replies), "and the client still reads it"
    finally:
        await harness.stop()


def test_without_a_key_the_bot_warns_loudly(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    from bot.app import build
    from bot.config import load_settings
    from tests.harness import TEST_TOKEN

    with caplog.at_level(logging.WARNING):
        build(
            load_settings(
                telegram_bot_token=TEST_TOKEN, database_url=f"sqlite+aiosqlite:///{tmp_path}/x.db"
            )
        )
    assert any("NO ENCRYPTION KEY" in r.getMessage() for r in caplog.records)


async def test_a_redelivered_update_is_handled_once(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT)
    message = client._message("/help")
    first = await harness.feed(client, {"message": message}, update_id=777_777)
    second = await harness.feed(client, {"message": message}, update_id=777_777)
    assert "Here's what I can do" in texts(first)
    assert second == []


async def test_a_strangers_redelivered_message_is_answered_once(harness: Harness) -> None:
    """Someone without an account gets the kind "you need an invite" answer once, even
    when Telegram delivers their message twice."""
    stranger = harness.person("en")
    message = stranger._message("hello?")
    first = await harness.feed(stranger, {"message": message}, update_id=888_888)
    second = await harness.feed(stranger, {"message": message}, update_id=888_888)
    assert "invite link" in texts(first)
    assert second == []


ALLOWED_FOR = {c.name: {r.value for r in c.roles} for c in COMMANDS}


@pytest.mark.parametrize("role", [*Role, None], ids=lambda r: r.value if r else "unknown")
async def test_permission_matrix(harness: Harness, role: Role | None) -> None:
    person = await harness.onboard(role) if role else harness.person("en")
    for command in COMMANDS:
        if command.name == "start":
            continue
        replies = await person.send(f"/{command.name}")
        said = texts(replies)
        if role is None and command.name == "sos":
            assert "📞 120 Ambulance / 110 Police" in said, "the numbers need no role"
        elif role is None:
            assert "invite link" in said, command.name
        elif role.value in ALLOWED_FOR[command.name]:
            assert said != NOT_AVAILABLE, f"{role.value} should be able to use /{command.name}"
        else:
            assert said == NOT_AVAILABLE, f"{role.value} must not use /{command.name}: got {said!r}"
        if command.name == "deleteme" and role is not None:
            await person.press({"en": "No, keep it"}["en"])


async def test_supervisor_access_is_audited(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT)
    boss = await harness.onboard(Role.SUPERVISOR, "en", "Mei")
    await client.send("/talk")
    await boss.does("/queue", "[Claim #1]")
    async with harness.db.sessions() as session:
        events = (await session.execute(select(AuditEvent.action, AuditEvent.subject_id))).all()
        client_id = await session.scalar(
            select(Person.id).where(Person.telegram_user_id == client.user_id)
        )
    assert ("view_queue", None) in events
    assert ("view_context", client_id) in events


def test_every_table_is_known() -> None:
    assert {t.name for t in Base.metadata.sorted_tables} >= {"people", "checkins", "audit_events"}
    assert inspect(Person).primary_key


async def test_a_persons_copy_holds_notes_about_them_never_who_raised_a_concern(
    database_url: str,
) -> None:
    """With keys set, what a person wrote while waiting and the team's notes are encrypted at
    rest; their /mydata holds both (right of access) and says a concern was raised, not by whom."""
    from datetime import UTC, datetime

    harness = Harness(database_url, encryption_keys=new_key())
    await harness.start()
    try:
        now = datetime(2026, 12, 1, 12, tzinfo=UTC)
        harness.set_now(now)
        client, mum, lin = await harness.client_family_and_worker(now)
        await mum.does("/worried", "[Next ›]", "please don't tell her it was me")
        await client.send("is anyone there")
        replies = await client.send("/mydata")
        document = [c for c in harness.api.calls if c.method == "sendDocument"][-1]
        waiting = json.loads(document.params["document"])["messages_kept_for_a_peer_worker"]
        assert [m["text"] for m in waiting] == ["is anyone there"], texts(replies)
        await lin.send("/claim 1")
        await lin.send("/note calm now, sister nearby")
        async with harness.db.sessions() as session:
            raw = (await session.execute(text("SELECT text FROM escalation_notes"))).scalars().all()
        assert raw and all(value.startswith("f1:") and "calm" not in value for value in raw)
        await client.send("/mydata")
        document = [c for c in harness.api.calls if c.method == "sendDocument"][-1]
        data = json.loads(document.params["document"])
        request = data["requests_for_a_person"][0]
        assert [n["text"] for n in request["team_notes"]] == ["calm now, sister nearby"]
        assert request["reasons"] == ["someone_close_to_you_or_the_team_raised_a_concern"]
        assert "don't tell her" not in document.params["document"].decode()
        assert data["messages_kept_for_a_peer_worker"] == [], "handed to Lin when she claimed"
    finally:
        await harness.stop()


async def test_a_malformed_webhook_body_is_not_logged(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """PTB logs an update it cannot read, text and all, at CRITICAL; only the event remains."""
    import aiohttp
    from telegram.ext import ApplicationBuilder

    from bot.sandbox.in_memory import InMemoryBotAPI
    from tests.harness import TEST_TOKEN

    configure("DEBUG")
    port = free_port()
    fake = InMemoryBotAPI()
    application = (
        ApplicationBuilder().token(TEST_TOKEN).request(fake).get_updates_request(fake).build()
    )
    await application.initialize()
    assert application.updater is not None
    await application.updater.start_webhook(listen="127.0.0.1", port=port, url_path="hook")
    try:
        body = {"update_id": 1, "message": {"message_id": "not a number", "text": "my secret plan"}}
        with caplog.at_level(logging.DEBUG):
            async with (
                aiohttp.ClientSession() as session,
                session.post(f"http://127.0.0.1:{port}/hook", json=body) as answer,
            ):
                assert answer.status == 400
    finally:
        await application.updater.stop()
        await application.shutdown()
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "could not read an update from Telegram" in logged
    assert "my secret plan" not in logged


async def test_the_audit_trail_keeps_who_looked_after_they_are_erased(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT)
    boss = await harness.onboard(Role.SUPERVISOR, "en", "Mei")
    await client.send("/talk")
    await boss.does(
        "/claim 1", "/done", "[Resolved]", "[Skip]", "/deleteme", "[Yes, delete everything]"
    )
    newcomer = await harness.onboard(Role.PEER_WORKER, "en", "Sam")
    async with harness.db.sessions() as session:
        rows = (
            await session.execute(
                select(AuditEvent.actor_id, AuditEvent.actor_role, AuditEvent.actor_alias).where(
                    AuditEvent.action == "view_context"
                )
            )
        ).all()
        sam_id = await session.scalar(
            select(Person.id).where(Person.telegram_user_id == newcomer.user_id)
        )
    assert [(role, alias) for _, role, alias in rows] == [("supervisor", "Mei")]
    assert rows[0][0] != sam_id, "the erased supervisor's id is never given to someone new"
