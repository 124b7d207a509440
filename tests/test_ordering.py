"""One person's updates in order; different people in parallel; the flow row is the lock."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select
from telegram import Update

from bot.storage import people
from bot.storage.db import Database
from bot.storage.models import FlowState
from bot.telegram.callbacks import ButtonData
from bot.telegram.ordering import PerPersonOrder
from flows.roles import Role
from tests.harness import Harness


async def test_one_persons_updates_run_in_order_even_when_they_arrive_together(
    harness: Harness,
) -> None:
    person = harness.person("en")
    await person.send(f"/start {await harness.invite(Role.CLIENT)}")
    assert harness.services is not None
    application = harness.services.application
    signer = harness.services.host.renderer.signer
    message = person.last_buttons_message()
    # Three taps that are only valid one after the other (each step's buttons come from the last).
    taps = [("consent:yes", 1), ("lang:en", 2), ("region:GB", 3)]
    updates = []
    for n, (value, step) in enumerate(taps):
        data = signer.sign(person.user_id, ButtonData("flow", value, step))
        updates.append(
            Update.de_json(
                {
                    "update_id": 900 + n,
                    "callback_query": {
                        "id": f"q{n}",
                        "from": {"id": person.user_id, "is_bot": False, "first_name": "A"},
                        "chat_instance": "x",
                        "data": data,
                        "message": message,
                    },
                },
                application.bot,
            )
        )
    processor = application.update_processor
    assert isinstance(processor, PerPersonOrder)
    await asyncio.gather(
        *(processor.process_update(u, application.process_update(u)) for u in updates)
    )
    async with harness.db.sessions() as session:
        state = await session.scalar(select(FlowState.state))
    assert state == "timezone"
    assert processor.people_in_flight == 0, "no lock object outlives its person's updates"


async def test_different_people_run_concurrently() -> None:
    processor = PerPersonOrder(8)
    running = 0
    peak = 0

    async def work() -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1

    def update(user_id: int) -> Update:
        return Update.de_json(
            {
                "update_id": user_id,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": user_id, "type": "private"},
                    "from": {"id": user_id, "is_bot": False, "first_name": "A"},
                    "text": "hi",
                },
            },
            None,
        )

    await asyncio.gather(*(processor.process_update(update(u), work()) for u in range(5)))
    assert peak == 5
    peak = 0
    await asyncio.gather(*(processor.process_update(update(1), work()) for _ in range(5)))
    assert peak == 1


async def test_a_second_process_waits_for_the_persons_row(postgres_url: str) -> None:
    """Two engines stand for two bot processes on one PostgreSQL database."""
    harness = Harness(postgres_url)
    from tests.conftest import _truncate_postgres

    await asyncio.to_thread(_truncate_postgres, postgres_url)
    await harness.start()
    try:
        person = await harness.onboard(Role.CLIENT)
        first, second = Database(postgres_url), Database(postgres_url)
        order: list[str] = []
        async with first.transaction() as session_a:
            assert await people.load_for_update(session_a, person.user_id) is not None
            order.append("A locked")

            async def other_process() -> None:
                async with second.transaction() as session_b:
                    await people.load_for_update(session_b, person.user_id)
                    order.append("B locked")

            task = asyncio.create_task(other_process())
            await asyncio.sleep(0.5)
            assert not task.done(), "the second process must wait while the first holds the person"
            order.append("A done")
        await asyncio.wait_for(task, 5)
        assert order == ["A locked", "A done", "B locked"]
        await first.dispose()
        await second.dispose()
    finally:
        await harness.stop()


@pytest.mark.parametrize("value", ["x" * 60])
def test_button_values_that_do_not_fit_telegram_are_refused(value: str) -> None:
    from bot.telegram.callbacks import ButtonSigner

    with pytest.raises(ValueError, match="too long"):
        ButtonSigner(b"k").sign(1, ButtonData("flow", value, 1))
