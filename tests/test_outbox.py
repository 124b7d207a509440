"""How the bot's answers go out: the next question does not wait for Telegram to confirm the
tap and the edit of the answered question, and new messages keep their order."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.sandbox.in_memory import InMemoryBotAPI
from flows.roles import Role
from tests.harness import Harness

# Long enough that handling the tap itself (its transaction, on a busy CI machine) cannot
# take as long: at 0.4 s one loaded CI run's PostgreSQL case took 0.51 s to send the next
# question, though it came before the confirmations.
SLOW_SECONDS = 2.0


class SlowConfirmations(InMemoryBotAPI):
    """A Telegram that is slow to confirm button taps and edits (a congested moment)."""

    finished: list[tuple[str, float]]

    async def do_request(self, url: str, method: str, *args: Any, **kwargs: Any) -> Any:
        name = url.rsplit("/", 1)[-1]
        if name in ("answerCallbackQuery", "editMessageText"):
            await asyncio.sleep(SLOW_SECONDS)
        answer = await super().do_request(url, method, *args, **kwargs)
        self.finished.append((name, time.monotonic()))
        return answer


async def test_the_next_question_does_not_wait_for_confirmations(database_url: str) -> None:
    harness = Harness(database_url)
    api = SlowConfirmations()
    api.finished = []
    harness.api = api
    await harness.start()
    try:
        client = await harness.onboard(Role.CLIENT)
        await client.send("/checkin")
        api.finished.clear()
        started = time.monotonic()
        replies = await client.press("🙂 Good")
        sends = [at for name, at in api.finished if name == "sendMessage"]
        confirmations = [at for name, at in api.finished if name != "sendMessage"]
        assert len(sends) == 1 and len(confirmations) == 2
        assert sends[0] < min(confirmations), "the next question came after the confirmations"
        waited = sends[0] - started
        assert waited < SLOW_SECONDS, f"the next question came after {waited:.2f} s"
        # and the person still sees their answer in place, then the next question
        by_method = {r.method: r for r in replies}
        assert sorted(by_method) == ["answerCallbackQuery", "editMessageText", "sendMessage"]
        assert "→ 🙂 Good" in by_method["editMessageText"].text
        assert "How did you sleep" in by_method["sendMessage"].text
    finally:
        await harness.stop()
