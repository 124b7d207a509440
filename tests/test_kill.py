"""Kill test: the bot process is killed with SIGKILL at random moments while simulated clients
are mid-check-in, and started again. No acknowledged answer is lost and every check-in can be
finished afterwards.

The suite runs a few kills; `python -m tests.test_kill 50` runs the full 50 and prints figures.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from bot.invites import create_invite
from bot.sandbox.botapi import SandboxBotAPI
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.models import CheckIn, Person
from flows.roles import Role
from tests.bot_process import find_button, sandbox_env, start_bot

KILLS_IN_SUITE = int(os.environ.get("TONGBAN_KILLS", "6"))

# (question, label to press, field it answers, stored value) in the order the check-in asks.
SCRIPT = [
    ("How has your mood been today?", "🙂 Good", "mood", 4),
    ("How did you sleep last night", "Less", "sleep", -1),
    ("Did you take your medication today?", "💊 Yes", "medication", "taken"),
    ("Are side effects bothering you?", "No", "side_effects", 0),
    ("Have you had any unusual experiences today?", "None of these", "unusual", []),
    ("Did you spend time with or talk to other people today?", "A little", "contact", 1),
    ("How much stress or worry have you had today?", "None", "stress", 0),
]
NOTE_QUESTION = "Anything you'd like to share about today?"  # asked once the seven are saved

TOKEN = "123456789:SANDBOX-tongban-local-only"


@dataclass
class Figures:
    kills: int = 0
    presses: int = 0
    acknowledged: list[tuple[int, str, object]] = field(default_factory=list)
    lost: list[tuple[int, str, object]] = field(default_factory=list)
    finished: int = 0
    clients: int = 0
    seconds: float = 0.0


async def _start(api: SandboxBotAPI, url: str) -> asyncio.subprocess.Process:
    return await start_bot(sandbox_env(api, url, "ERROR"))


def _latest_question(api: SandboxBotAPI, uid: int) -> tuple[int, str, dict[str, str]] | None:
    """The newest bot message with buttons: its id, text, and button data by label."""
    for entry in reversed(api.bot_messages(uid)):
        if entry.inline_keyboard:
            buttons = {
                str(b.get("text")): str(b.get("callback_data"))
                for row in entry.inline_keyboard
                for b in row
            }
            return entry.message_id, entry.text or "", buttons
    return None


async def _onboard(api: SandboxBotAPI, uid: int, code: str) -> None:
    await api.user_send_text(uid, f"/start {code}")
    questions = (
        "Is that OK",
        "Which language",
        "Where do you live",
        "Which time zone",
        "What time suits",
    )
    answers = ("✅ I agree", "English", "Mainland China", "Beijing / Shanghai", "20:00")
    for question, label in zip(questions, answers, strict=True):
        await api.wait_until(
            lambda q=question: any(q in (e.text or "") for e in api.bot_messages(uid)), 60
        )
        found = find_button(api, uid, label)
        assert found is not None, f"no {label!r} for {uid}"
        await api.user_press_button(uid, *found)
    await api.wait_until(
        lambda: any("All set" in (e.text or "") for e in api.bot_messages(uid)), 30
    )


async def run(kills: int, clients: int = 12, seed: int = 7) -> Figures:
    figures = Figures(clients=clients)
    rng = random.Random(seed)
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{folder}/kill.db"
        await asyncio.to_thread(upgrade, url)
        db = Database(url)
        codes = [
            (await create_invite(db, Role.CLIENT, timedelta(days=1))).code for _ in range(clients)
        ]
        async with SandboxBotAPI(token=TOKEN, rate_limits=False) as api:
            users = [(await api.create_user(f"C{n}", "en"))["id"] for n in range(clients)]
            process = await _start(api, url)
            await asyncio.gather(
                *(_onboard(api, uid, code) for uid, code in zip(users, codes, strict=True))
            )
            done = dict.fromkeys(users, False)

            async def client_loop(uid: int, deadline: float) -> None:
                # As a person does: answer the newest question on screen; with none, ask
                # to go on. A tap whose reply was lost in a kill brings the current
                # question back ("That button is from an earlier question...").
                while time.monotonic() < deadline and not done[uid]:
                    latest = _latest_question(api, uid)
                    if latest is not None and NOTE_QUESTION in latest[1]:
                        done[uid] = True
                        return
                    step = next((s for s in SCRIPT if latest and s[0] in latest[1]), None)
                    if latest is None or step is None:
                        await api.user_send_text(uid, "/checkin")
                        await asyncio.sleep(0.3)
                        continue
                    message_id, _text, buttons = latest
                    _question, label, name, value = step
                    figures.presses += 1
                    await api.user_press_button(uid, message_id, buttons[label])

                    def shown(message_id: int = message_id, label: str = label) -> bool:
                        # The bot acknowledges an answer by showing it under the question.
                        return any(
                            e.message_id == message_id and f"→ {label}" in (e.text or "")
                            for e in api.bot_messages(uid)
                        )

                    try:
                        await api.wait_until(shown, 1.5)
                    except TimeoutError:
                        continue  # not acknowledged: look at the screen again
                    figures.acknowledged.append((uid, name, value))

            for _ in range(kills):
                deadline = time.monotonic() + rng.uniform(0.3, 1.5)
                await asyncio.gather(*(client_loop(uid, deadline) for uid in users))
                process.send_signal(signal.SIGKILL)
                await process.wait()
                figures.kills += 1
                process = await _start(api, url)
            await asyncio.gather(*(client_loop(uid, time.monotonic() + 60) for uid in users))
            process.terminate()
            await process.wait()
        async with db.sessions() as session:
            rows = (
                await session.execute(
                    select(Person.telegram_user_id, CheckIn).join(
                        CheckIn, CheckIn.person_id == Person.id
                    )
                )
            ).all()
        await db.dispose()
    stored = {uid: row for uid, row in rows}
    for uid, name, value in figures.acknowledged:
        row = stored.get(uid)
        if row is None or getattr(row, name) != value:
            figures.lost.append((uid, name, value))
    figures.finished = sum(
        1
        for uid in users
        if stored.get(uid) is not None
        and all(getattr(stored[uid], name) == value for _, _, name, value in SCRIPT)
    )
    figures.seconds = time.monotonic() - started
    return figures


async def test_killing_the_bot_loses_no_acknowledged_answer() -> None:
    figures = await run(KILLS_IN_SUITE, clients=8)
    assert figures.kills == KILLS_IN_SUITE
    assert figures.acknowledged, "the clients made progress"
    assert figures.lost == []
    assert figures.finished == figures.clients, "every check-in could be finished after the kills"


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m tests.test_kill",
        description="Kill the real bot process while clients check in; report what was lost.",
    )
    parser.add_argument("kills", nargs="?", type=int, default=50, help="how many kills (50)")
    result = asyncio.run(run(parser.parse_args().kills))
    print(
        f"kills: {result.kills}, clients: {result.clients}, button presses: {result.presses}, "
        f"acknowledged answers: {len(result.acknowledged)}, lost: {len(result.lost)}, "
        f"check-ins finished: {result.finished}/{result.clients}, time: {result.seconds:.0f} s"
    )
