"""Escalations: atomic claims, never the wrong recipient, clocks that survive restarts, permissions."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from telegram import Update

from bot.storage.models import Escalation, EscalationEvent, Person, Schedule
from flows.roles import Role
from tests.harness import NOT_AVAILABLE, Harness, texts
from tests.harness import Person as Chat


async def _request(harness: Harness, client: Chat) -> int:
    await client.send("/talk")
    async with harness.db.sessions() as session:
        row = await session.scalar(
            select(Escalation.id)
            .join(Person, Person.id == Escalation.subject_id)
            .where(Person.telegram_user_id == client.user_id)
        )
    assert row is not None
    return int(row)


def _card(harness: Harness, worker: Chat, escalation_id: int) -> tuple[dict[str, object], str]:
    for (chat_id, _), message in harness.api.messages.items():
        if chat_id != worker.user_id:
            continue
        for row in message.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if button["callback_data"].startswith(f"c:claim {escalation_id} "):
                    return message, button["callback_data"]
    raise AssertionError("no card")


async def test_two_workers_claiming_at_once_exactly_one_wins(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT)
    lin = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    sam = await harness.onboard(Role.PEER_WORKER, "en", "Sam")
    escalation_id = await _request(harness, client)
    assert harness.services is not None
    application = harness.services.application
    updates = []
    for n, worker in enumerate((lin, sam)):
        message, data = _card(harness, worker, escalation_id)
        updates.append(
            Update.de_json(
                {
                    "update_id": 9000 + n,
                    "callback_query": {
                        "id": f"claim{n}",
                        "from": {"id": worker.user_id, "is_bot": False, "first_name": "W"},
                        "chat_instance": "x",
                        "data": data,
                        "message": message,
                    },
                },
                application.bot,
            )
        )
    before = len(harness.api.calls)
    processor = application.update_processor
    await asyncio.gather(
        *(processor.process_update(u, application.process_update(u)) for u in updates)
    )
    calls = harness.api.calls[before:]
    joined = [
        c for c in calls if c.method == "sendMessage" and "has joined the chat" in c.params["text"]
    ]
    assert len(joined) == 1, "the client hears from exactly one worker"
    toasts = [c.params.get("text") or "" for c in calls if c.method == "answerCallbackQuery"]
    assert any("Already taken by" in t for t in toasts)
    async with harness.db.sessions() as session:
        claims = (
            await session.scalars(
                select(EscalationEvent.kind).where(EscalationEvent.kind == "claimed")
            )
        ).all()
    assert len(claims) == 1


async def test_a_stale_card_changes_nothing(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT)
    lin = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    sam = await harness.onboard(Role.PEER_WORKER, "en", "Sam")
    escalation_id = await _request(harness, client)
    sam_card = _card(harness, sam, escalation_id)
    await lin.press("Claim")
    replies = await sam.press_data(*sam_card)
    assert texts(replies) == "Already taken by Lin."
    async with harness.db.sessions() as session:
        esc = await session.get(Escalation, escalation_id)
        lin_row = await session.scalar(select(Person).where(Person.alias == "Lin"))
    assert esc is not None and lin_row is not None
    assert esc.claimed_by == lin_row.id


async def test_a_worker_with_three_chats_never_writes_to_the_wrong_client(harness: Harness) -> None:
    clients = [await harness.onboard(Role.CLIENT) for _ in range(3)]
    lin = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    ids = [await _request(harness, c) for c in clients]
    for escalation_id in ids:
        await lin.press_data(*_card(harness, lin, escalation_id))
    # Claiming selects the newest chat; forget the selection to make plain text ambiguous.
    async with harness.db.transaction() as session:
        row = await session.scalar(select(Person).where(Person.alias == "Lin"))
        assert row is not None
        row.selected_escalation_id = None

    def received(client: Chat, since: int) -> list[str]:
        return [
            c.params["text"]
            for c in harness.api.calls[since:]
            if c.method == "sendMessage" and int(c.params["chat_id"]) == client.user_id
        ]

    start = len(harness.api.calls)
    replies = await lin.send("hello there")
    assert texts(replies).startswith("Who is this message for?")
    assert all(received(c, start) == [] for c in clients), "nothing goes out when it is ambiguous"
    aliases = [await _alias(harness, c) for c in clients]
    assert replies[0].buttons == [
        *(f"#{i} · client {a}" for i, a in zip(ids, aliases, strict=True)),
        "✖ Don't send it",
    ]
    await lin.press(f"#{ids[0]} · client {aliases[0]}")
    assert received(clients[0], start) == ["Lin: hello there"], "sent once its recipient is chosen"
    assert received(clients[1], start) == [] and received(clients[2], start) == []

    await lin.send(f"/switch {ids[1]}")
    start = len(harness.api.calls)
    await lin.send("this is for the second client")
    assert received(clients[1], start) == ["Lin: this is for the second client"]
    assert received(clients[0], start) == [] and received(clients[2], start) == []

    # Replying to a message relayed from the third client goes to the third, whatever is selected.
    await clients[2].send("are you there?")
    relayed = [
        m
        for (chat, _), m in harness.api.messages.items()
        if chat == lin.user_id and "are you there?" in m.get("text", "")
    ][-1]
    start = len(harness.api.calls)
    await harness.feed(
        lin, {"message": {**lin._message("yes, I'm here"), "reply_to_message": relayed}}
    )
    assert received(clients[2], start) == ["Lin: yes, I'm here"]
    assert received(clients[1], start) == []

    # After closing the third chat, a reply to its old message is refused, not misdirected.
    await lin.send(f"/switch {ids[2]}")
    await lin.send("/done")
    await lin.press("Resolved")
    await lin.press("Skip")
    start = len(harness.api.calls)
    replies = await harness.feed(
        lin, {"message": {**lin._message("one more thing"), "reply_to_message": relayed}}
    )
    assert "no longer hold" in texts(replies)
    assert all(received(c, start) == [] for c in clients)


async def test_each_worker_holds_at_most_five_chats(harness: Harness) -> None:
    lin = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    ids = []
    for _ in range(6):
        client = await harness.onboard(Role.CLIENT)
        ids.append(await _request(harness, client))
    for escalation_id in ids[:5]:
        await lin.press_data(*_card(harness, lin, escalation_id))
    replies = await lin.press_data(*_card(harness, lin, ids[5]))
    assert texts(replies) == (
        "You already hold as many chats as allowed (5). Close or release one first."
    )


async def _tick_at(harness: Harness, moment: datetime) -> list[tuple[int, str]]:
    """The scheduler runs once at ``moment``: the messages it sent, and to whom."""
    harness.set_now(moment)
    before = len(harness.api.calls)
    await harness.tick()
    return [
        (int(c.params["chat_id"]), c.params["text"])
        for c in harness.api.calls[before:]
        if c.method == "sendMessage"
    ]


async def test_unclaimed_and_unanswered_clocks_survive_a_restart(harness: Harness) -> None:
    start = datetime(2026, 3, 2, 2, tzinfo=UTC)
    harness.set_now(start)
    client = await harness.onboard(Role.CLIENT)
    lin = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    boss = await harness.onboard(Role.SUPERVISOR, "en", "Mei")
    await boss.send("/offduty")
    await _request(harness, client)
    await harness.restart()
    sent = await _tick_at(harness, start + timedelta(hours=2, minutes=1))
    assert any(chat == lin.user_id and "🔔" in text for chat, text in sent), (
        "workers get the card again"
    )
    assert any(chat == boss.user_id and "nobody has claimed it" in text for chat, text in sent)

    await lin.press("Claim")
    await harness.restart()
    sent = await _tick_at(harness, start + timedelta(hours=2, minutes=17))
    assert sent == [
        (
            lin.user_id,
            f"Reminder: #1 · client {await _alias(harness, client)} is waiting for your reply.",
        )
    ]
    sent = await _tick_at(harness, start + timedelta(hours=2, minutes=33))
    assert [chat for chat, _ in sent] == [boss.user_id]
    assert "has had no reply" in sent[0][1]


async def _clocks(harness: Harness) -> list[tuple[int, datetime]]:
    """Every escalation clock in the schedules table: whose, and when it runs out."""
    async with harness.db.sessions() as session:
        rows = (
            await session.execute(
                select(Person.telegram_user_id, Schedule.due_at)
                .join(Person, Person.id == Schedule.person_id)
                .where(Schedule.kind == "escalation")
            )
        ).all()
    return [(int(user), due.astimezone(UTC)) for user, due in rows]


async def test_an_escalations_clock_is_one_schedule_row_that_each_change_moves(
    harness: Harness,
) -> None:
    """Opened: the claim clock. Claimed: the reply clock. Answered: no clock. A reminder
    re-arms it; closing stops it. One row, read by the same tick as every prompt."""
    start = datetime(2026, 3, 2, 2, tzinfo=UTC)
    harness.set_now(start)
    client = await harness.onboard(Role.CLIENT)
    lin = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    assert await _clocks(harness) == []
    await _request(harness, client)
    assert await _clocks(harness) == [(client.user_id, start + timedelta(hours=2))]

    harness.set_now(start + timedelta(minutes=10))
    await lin.press("Claim")
    assert await _clocks(harness) == [(client.user_id, start + timedelta(minutes=25))]

    harness.set_now(start + timedelta(minutes=26))
    await harness.tick()  # the worker is reminded, and the clock runs again
    assert await _clocks(harness) == [(client.user_id, start + timedelta(minutes=41))]

    await lin.send("hello, I'm Lin")
    assert await _clocks(harness) == []

    await lin.send("/done")
    await lin.press("Resolved")
    assert await _clocks(harness) == []


async def test_a_clock_left_without_its_escalation_is_dropped_quietly(harness: Harness) -> None:
    start = datetime(2026, 3, 2, 2, tzinfo=UTC)
    harness.set_now(start)
    client = await harness.onboard(Role.CLIENT)
    await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    await _request(harness, client)
    async with harness.db.transaction() as session:
        escalation = await session.scalar(select(Escalation))
        assert escalation is not None
        escalation.resolved_at, escalation.state = start, "resolved"
    harness.set_now(start + timedelta(hours=3))
    before = len(harness.api.calls)
    await harness.tick()
    assert harness.api.calls[before:] == []
    assert await _clocks(harness) == []


async def _alias(harness: Harness, client: Chat) -> str:
    async with harness.db.sessions() as session:
        alias = await session.scalar(
            select(Person.alias).where(Person.telegram_user_id == client.user_id)
        )
    return str(alias)


async def test_staff_commands_are_not_available_to_clients_and_family(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT)
    family = await harness.onboard(Role.FAMILY)
    staff_only = (
        "/queue",
        "/mine",
        "/switch 1",
        "/release",
        "/transfer Lin",
        "/done",
        "/note hi",
        "/claim 1",
        "/assign 1 Lin",
        "/overdue",
        "/onduty",
        "/offduty",
    )
    for person in (client, family):
        assert await person.answers(staff_only) == dict.fromkeys(staff_only, NOT_AVAILABLE)


async def test_workers_see_open_and_their_own_supervisors_see_all(harness: Harness) -> None:
    first, second = await harness.onboard(Role.CLIENT), await harness.onboard(Role.CLIENT)
    lin = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    sam = await harness.onboard(Role.PEER_WORKER, "en", "Sam")
    boss = await harness.onboard(Role.SUPERVISOR, "en", "Mei")
    one = await _request(harness, first)
    two = await _request(harness, second)
    await lin.press_data(*_card(harness, lin, one))
    sam_queue = texts(await sam.send("/queue"))
    assert f"#{two}" in sam_queue and f"#{one}" not in sam_queue
    lin_queue = texts(await lin.send("/queue"))
    assert f"#{one}" in lin_queue and f"#{two}" in lin_queue
    boss_queue = texts(await boss.send("/queue"))
    assert f"#{one}" in boss_queue and f"#{two}" in boss_queue
    replies = await boss.send(f"/assign {two} Sam")
    label = f"#{two} · client {await _alias(harness, second)}"
    assert [(r.method, r.text) for r in replies] == [
        ("editMessageText", f"{label} — taken by Sam."),  # the supervisor's own card
        ("sendMessage", f"{label} is now with Sam."),
    ]


async def test_blocked_worker_gives_chats_back_and_blocked_client_closes(harness: Harness) -> None:
    client = await harness.onboard(Role.CLIENT)
    other = await harness.onboard(Role.CLIENT)
    lin = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    first = await _request(harness, client)
    await lin.press("Claim")
    harness.api.blocked.add(lin.user_id)
    await client.send("hello?")  # relaying to Lin fails with 403
    async with harness.db.sessions() as session:
        esc = await session.get(Escalation, first)
    assert esc is not None and esc.state == "open" and esc.claimed_by is None
    harness.api.blocked.clear()
    await lin.send("/onduty")
    second = await _request(harness, other)
    await lin.press_data(*_card(harness, lin, second))
    harness.api.blocked.add(other.user_id)
    await lin.send("how are you today?")
    async with harness.db.sessions() as session:
        esc = await session.get(Escalation, second)
    assert esc is not None and esc.outcome == "subject_blocked"


async def test_early_warning_flags_open_a_routine_escalation(harness: Harness) -> None:
    start = datetime(2026, 3, 2, 12, tzinfo=UTC)
    client = await harness.onboard(Role.CLIENT)
    lin = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    before = len(harness.api.calls)
    for day in range(3):
        harness.set_now(start + timedelta(days=day))
        await client.send("/checkin")
        await client.answer_checkin("😞 Very low")
    cards = [
        c.params["text"]
        for c in harness.api.calls[before:]
        if c.method == "sendMessage" and int(c.params["chat_id"]) == lin.user_id
    ]
    assert len(cards) == 1
    assert "Routine" in cards[0] and "check-in early-warning flag" in cards[0]


async def test_an_old_card_can_never_claim_a_new_escalation(harness: Harness) -> None:
    """Ids are never given twice, and a card's button carries its escalation's reference."""
    first = await harness.onboard(Role.CLIENT)
    second = await harness.onboard(Role.CLIENT)
    lin = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    old = await _request(harness, first)
    old_card = _card(harness, lin, old)
    await first.send("/deleteme")
    await first.press("Yes, delete everything")
    new = await _request(harness, second)
    assert new != old, "the erased escalation's id is not given to the next one"
    replies = await lin.press_data(*old_card)
    assert [(r.method, r.text) for r in replies] == [
        ("answerCallbackQuery", "That escalation isn't available to you (it may be closed).")
    ]
    replies = await lin.send(f"/claim {new} not-its-ref")
    assert texts(replies) == "That escalation isn't available to you (it may be closed)."
    async with harness.db.sessions() as session:
        esc = await session.get(Escalation, new)
    assert esc is not None and esc.state == "open" and esc.claimed_by is None


async def test_aliases_are_unique_ignoring_case(harness: Harness) -> None:
    await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    sam = harness.person("en")
    await sam.send(f"/start {await harness.invite(Role.PEER_WORKER)}")
    await sam.press("✅ I agree")
    await sam.press("English")
    await sam.press(sam.last_buttons_message()["reply_markup"]["inline_keyboard"][0][0]["text"])
    replies = await sam.send("LIN")
    assert texts(replies) == (
        'The alias "LIN" is already used by someone else. Please choose another one.'
    )
    async with harness.db.sessions() as session:
        aliases = (
            await session.scalars(select(Person.alias).where(Person.role == "peer_worker"))
        ).all()
    assert [a for a in aliases if a] == ["Lin"]


async def test_the_retention_purge_removes_old_notes_and_kept_messages(harness: Harness) -> None:
    from bot.scheduler import purge_old
    from bot.storage.models import EscalationNote, EscalationReason, QueuedMessage

    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    harness.set_now(now - timedelta(days=400))
    client = await harness.onboard(Role.CLIENT)
    lin = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    await client.send("/talk")
    await lin.press("Claim")
    await lin.send("/note old note")
    harness.set_now(now - timedelta(days=3))
    await client.send("/talk")  # a second reason; Lin still holds the chat
    await lin.send("/note recent note")
    async with harness.db.transaction() as session:
        lin_id = await session.scalar(select(Person.id).where(Person.alias == "Lin"))
        assert lin_id is not None
        for age, purpose in (
            (timedelta(days=3), "unaddressed"),
            (timedelta(hours=1), "unaddressed"),
        ):
            session.add(
                QueuedMessage(
                    sender_id=lin_id,
                    purpose=purpose,
                    message_id=1,
                    kind="text",
                    text="x",
                    at=now - age,
                )
            )
    async with harness.db.transaction() as session:
        old_reason = await session.scalar(select(EscalationReason).limit(1))
        assert old_reason is not None
        old_reason.note = "a relative's words, 400 days old"
        session.add(
            EscalationReason(
                escalation_id=old_reason.escalation_id,
                source="family",
                tier="same_day",
                detail={},
                note="a relative's words, 3 days old",
                at=now - timedelta(days=3),
            )
        )
    async with harness.db.transaction() as session:
        await purge_old(session, now, retention_days=365)
    async with harness.db.sessions() as session:
        notes = (await session.scalars(select(EscalationNote.text))).all()
        kept = (await session.scalars(select(QueuedMessage.at))).all()
        words = (await session.scalars(select(EscalationReason.note))).all()
    assert list(notes) == ["recent note"]
    assert [w for w in words if w] == ["a relative's words, 3 days old"]
    assert kept == [now - timedelta(hours=1)], "an unanswered kept message is not sent days later"
