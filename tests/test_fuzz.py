"""Thousands of random updates — any text, media, edits, forged or foreign buttons, other roles'
commands, in every state — and afterwards: no unhandled error, no corrupt state, and every client
can still finish a check-in."""

from __future__ import annotations

import logging
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.storage.models import FlowState
from flows.commands import COMMANDS
from flows.conversation import FLOWS
from flows.roles import Role
from tests.harness import Harness
from tests.harness import Person as Chat

COMMAND_NAMES = [f"/{c.name}" for c in COMMANDS] + [
    "/nonsense",
    "/start garbage",
    "/claim 99",
    "/rate 1 9",
    # Unicode digits and numbers too large for any column, for every command that takes one
    "/rate ² 5",
    "/rate 1 ٥",
    "/claim ²",
    "/claim 99999999999999999999999",
    "/assign ² Lin",
    "/assign 99999999999999999999999 Lin",
    "/switch ²",
    "/release #99999999999999999999999",
    "/done ²",
    "/note #² hello",
    "/transfer #² Lin",
    "/sendto ² 1",
    "/sendto 1 99999999999999999999999",
]

texts = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
    st.sampled_from(
        ["i want to die", "我想自殺", "20:00", "Asia/Shanghai", "  ", "\u200b", "\x00\x01"]
    ),
    st.integers(min_value=2500, max_value=5000).map(lambda n: "字" * n),
)
actions = st.tuples(
    st.integers(min_value=0, max_value=5),
    st.sampled_from(["text", "command", "media", "edit", "press", "foreign", "forged"]),
    texts,
    st.sampled_from(COMMAND_NAMES),
    st.integers(min_value=0, max_value=1_000_000),
)


class Problems(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if (
            "unhandled" in message
            or "storage unavailable" in message
            or "unexpected failure" in message
        ):
            self.seen.append(f"{record.name}: {message}")


async def _buttons(harness: Harness, person: Chat) -> list[tuple[dict[str, Any], str]]:
    found = []
    for (chat_id, _), message in harness.api.messages.items():
        if chat_id == person.user_id:
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                for button in row:
                    found.append((message, button["callback_data"]))
    return found


@pytest.fixture
async def cast(harness: Harness) -> list[Chat]:
    client = await harness.onboard(Role.CLIENT)
    other = await harness.onboard(Role.CLIENT, "zh-TW")
    newcomer = harness.person("zh-CN")
    await newcomer.send(f"/start {await harness.invite(Role.CLIENT)}")
    family = await harness.onboard(Role.FAMILY)
    worker = await harness.onboard(Role.PEER_WORKER, "en", "Lin")
    stranger = harness.person("en")
    await other.send("/talk")
    await worker.press("Claim")
    return [client, other, newcomer, family, worker, stranger]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(steps=st.lists(actions, min_size=20, max_size=60))
async def test_random_updates_break_nothing(
    harness: Harness, cast: list[Chat], steps: list[Any]
) -> None:
    await play(harness, cast, steps)


async def play(harness: Harness, cast: list[Chat], steps: list[Any]) -> None:
    problems = Problems()
    logging.getLogger().addHandler(problems)
    try:
        for who, kind, text, command, seed in steps:
            person = cast[who]
            rng = random.Random(seed)
            if kind == "text":
                await person.send(text if not text.startswith("/") else " " + text)
            elif kind == "command":
                await person.send(command)
            elif kind == "media":
                await person.send_media(rng.choice(["sticker", "photo", "voice"]))
            elif kind == "edit":
                await person.edit(text or "x")
            elif kind == "press":
                buttons = await _buttons(harness, person)
                if buttons:
                    await person.press_data(*rng.choice(buttons))
            elif kind == "foreign":
                other = cast[(who + 1 + seed % 5) % len(cast)]
                buttons = await _buttons(harness, other)
                if buttons:
                    message, data = rng.choice(buttons)
                    await person.press_data(message, data)
            else:
                await person.press_data(
                    {"message_id": 1, "date": 0, "chat": {"id": person.user_id, "type": "private"}},
                    text[:64] or "~",
                )
    finally:
        logging.getLogger().removeHandler(problems)
    assert problems.seen == []
    async with harness.db.sessions() as session:
        rows = (await session.scalars(select(FlowState))).all()
    for row in rows:
        if row.flow is None:
            assert row.state is None
            continue
        assert row.flow in FLOWS or row.flow == "deleteme", row.flow
        if row.flow in FLOWS:
            assert row.state in FLOWS[row.flow].model_class.states, (row.flow, row.state)


SAMPLES = ["i want to die", "我想自殺", "20:00", "hello", "", "\u200b", "字" * 3000, "💊", "/"]


async def test_everyone_can_still_check_in_after_fuzzing(
    harness: Harness, cast: list[Chat]
) -> None:
    rng = random.Random(20261122)
    kinds = ["text", "command", "media", "edit", "press", "foreign", "forged"]
    steps = [
        (
            rng.randrange(6),
            rng.choice(kinds),
            rng.choice(SAMPLES),
            rng.choice(COMMAND_NAMES),
            rng.randrange(10**6),
        )
        for _ in range(400)
    ]
    await play(harness, cast, steps)
    for client in cast[:2]:
        replies = await client.send("/checkin")
        said = "\n".join(r.text for r in replies)
        if "already checked in" in said or "已經回答過了" in said:
            continue
        async with harness.db.sessions() as session:
            from bot.storage.models import Person

            still_here = await session.scalar(
                select(Person.id).where(Person.telegram_user_id == client.user_id)
            )
        if still_here is None:
            # The fuzz can erase someone (/deleteme, then a press on its confirmation):
            # they are told they need an invite again, and nothing of them is left.
            assert "invite" in said or "邀請" in said, said
            continue
        finishing = ("Done", "None of these", "Skip", "好了", "都沒有", "略過")
        skip = ("⏸ Not now", "🙋 Talk to a person", "⏸ 先不要", "🙋 找人談談")
        for _ in range(20):
            message = client.last_buttons_message()
            labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
            choice = next((label for label in labels if label in finishing), None)
            choice = choice or next(label for label in labels if label not in skip)
            replies = await client.press(choice, message=message)
            if any("Thank" in r.text or "謝謝" in r.text for r in replies):
                break
        async with harness.db.sessions() as session:
            from bot.storage.models import CheckIn, Person

            done = await session.scalar(
                select(CheckIn.completed_at)
                .join(Person, Person.id == CheckIn.person_id)
                .where(Person.telegram_user_id == client.user_id)
                .order_by(CheckIn.local_date.desc())
                .limit(1)
            )
        assert done is not None, "the check-in could be finished"
