"""Model-based test of group rooms (Hypothesis stateful testing).

Random interleavings of what a leader and four members do in a weekly room that is open —
entering (a first entry chooses a group alias and accepts the rules), stepping out to the
bot (/settings), writing, writing crisis language, leaving with one tap, being muted,
unmuted or removed by the leader, blocking the bot — against the real bot (fake Telegram)
on SQLite and PostgreSQL. A small model says, after every step:

- whom each message reaches: every member present (in the room, not left, removed or
  blocked) but the writer — never anyone else, and nothing from a muted member;
- crisis language never reaches another member (its marker appears in no other chat);
- every member receives the room's messages in the order they were written.
"""

from __future__ import annotations

import asyncio
import itertools
import re
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from bot import rooms as room_shell
from flows.roles import Role
from tests.harness import Harness
from tests.harness import Person as Chat
from tests.stateful import run_on_database

NOW = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # Tuesday 21:00 in Shanghai: the room is open
MEMBERS = ("ann", "bo", "cy", "di")
EVERYONE = ("lin", *MEMBERS)
MARK = re.compile(r"\[m\d+\]")


class RoomModel(RuleBasedStateMachine):
    database_url = ""  # set by the test for each database

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.harness = Harness(self.database_url)
        self.loop.run_until_complete(self.harness.start())
        self.harness.set_now(NOW)
        self.chats: dict[str, Chat] = {}
        self.present: set[str] = set()
        self.joined: set[str] = set()  # chose an alias and accepted the rules
        self.out: set[str] = set()  # left or removed: never back in this run
        self.blocked: set[str] = set()
        self.blocked_from: dict[int, int] = {}  # chat → the first call it refused
        self.muted: set[str] = set()
        self.marks = itertools.count(1)
        self.crisis_marks: set[str] = set()
        self.expected: dict[str, list[str]] = {name: [] for name in EVERYONE}
        self.problems: list[str] = []

    def teardown(self) -> None:
        self.loop.run_until_complete(self.harness.stop())
        self.loop.close()

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    @initialize()
    def room(self) -> None:
        async def make() -> None:
            self.chats["lin"], _ = await self.harness.make_person(Role.PEER_WORKER, "Lin", NOW)
            for name in MEMBERS:
                self.chats[name], _ = await self.harness.make_person(
                    Role.CLIENT, name.upper() + "7", NOW
                )
            services = self.harness.services
            assert services is not None
            create = SimpleNamespace(
                room_command="create",
                title="Evening group",
                leader=["Lin"],
                activity=None,
                weekly="tue 20:00",
                minutes=480,
            )
            await room_shell.command_line(services.dispatcher.rooms, self.harness.db, create, NOW)
            invite = SimpleNamespace(
                room_command="invite", room_id=1, alias=[n.upper() + "7" for n in MEMBERS]
            )
            await room_shell.command_line(services.dispatcher.rooms, self.harness.db, invite, NOW)
            await self.harness.tick()
            await self.chats["lin"].send("/room")

        self.run(make())
        self.present.add("lin")
        self.joined.add("lin")

    # -- what the model checks after each action -------------------------------------------

    def _received(self, before: int) -> dict[str, list[str]]:
        """The room markers each chat was sent since ``before`` (refused sends excluded)."""
        names = {chat.user_id: name for name, chat in self.chats.items()}
        got: dict[str, list[str]] = {name: [] for name in EVERYONE}
        for index, call in enumerate(self.harness.api.calls[before:], before):
            if call.method != "sendMessage":
                continue
            chat = int(call.params["chat_id"])
            if index >= self.blocked_from.get(chat, index + 1):
                continue  # refused: the chat had blocked the bot
            got[names[chat]] += MARK.findall(str(call.params.get("text", "")))
        return got

    def _act(self, who: str, action: str, mark: str | None, reach: set[str]) -> None:
        before = len(self.harness.api.calls)
        self.run(self.chats[who].does(action))
        got = self._received(before)
        for name in EVERYONE:
            wanted = [mark] if mark is not None and name in reach else []
            if name == who and mark is not None:
                # the writer never gets their own message back (a crisis reply has no marker)
                wanted = []
            if got[name] != wanted:
                self.problems.append(f"{action!r} by {who}: {name} got {got[name]}, not {wanted}")
            self.expected[name] += wanted
        # anyone blocked whom the bot tried to write to was dropped from the room, quietly
        for name in sorted(self.blocked):
            chat = str(self.chats[name].user_id)
            if any(str(c.params.get("chat_id")) == chat for c in self.harness.api.calls[before:]):
                self.present.discard(name)
                self.out.add(name)

    # -- members ---------------------------------------------------------------------------

    @precondition(lambda self: any(m not in self.present | self.out for m in MEMBERS))
    @rule(data=st.data())
    def enter(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from([m for m in MEMBERS if m not in self.present | self.out]))
        self._act(name, "/room", None, set())
        if name in self.out:  # blocked: dropped at the first message to them
            return
        if name not in self.joined:
            self._act(name, f"Group {name}", None, set())
            self._act(name, "[✅ I agree]", None, set())
            self.joined.add(name)
        self.present.add(name)

    @precondition(lambda self: any(m in self.present for m in MEMBERS))
    @rule(data=st.data())
    def step_out(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(m for m in MEMBERS if m in self.present)))
        self._act(name, "/settings", None, set())
        self.present.discard(name)

    @precondition(lambda self: bool(self.present))
    @rule(data=st.data(), crisis=st.booleans())
    def write(self, data: st.DataObject, crisis: bool) -> None:
        name = data.draw(st.sampled_from(sorted(self.present)))
        mark = f"[m{next(self.marks)}]"
        words = f"I want to kill myself {mark}" if crisis else f"hello {mark}"
        speaks = not crisis and name not in self.muted
        reach = (self.present - self.blocked - {name}) if speaks else set()
        if crisis:
            self.crisis_marks.add(mark)
        self._act(name, words, mark, reach)

    @precondition(lambda self: any(m in self.present for m in MEMBERS))
    @rule(data=st.data())
    def leave(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(m for m in MEMBERS if m in self.present)))
        if name in self.blocked:
            return
        self._act(name, "/room leave 1", None, set())
        self.present.discard(name)
        self.out.add(name)

    @precondition(lambda self: any(m not in self.blocked for m in MEMBERS))
    @rule(data=st.data())
    def block(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from([m for m in MEMBERS if m not in self.blocked]))
        self.harness.api.blocked.add(self.chats[name].user_id)
        self.blocked_from[self.chats[name].user_id] = len(self.harness.api.calls)
        self.blocked.add(name)

    # -- the leader --------------------------------------------------------------------------

    @precondition(lambda self: any(m in self.joined and m not in self.out for m in MEMBERS))
    @rule(data=st.data(), action=st.sampled_from(["mute", "unmute", "removemember"]))
    def lead(self, data: st.DataObject, action: str) -> None:
        name = data.draw(
            st.sampled_from(sorted(m for m in MEMBERS if m in self.joined and m not in self.out))
        )
        self._act("lin", f"/{action} Group {name}", None, set())
        if name in self.out:  # blocked: dropped when told
            return
        if action == "mute":
            self.muted.add(name)
        elif action == "unmute":
            self.muted.discard(name)
        else:
            self.present.discard(name)
            self.out.add(name)

    @invariant()
    def nothing_misrouted(self) -> None:
        assert not self.problems, self.problems

    @invariant()
    def order_is_kept_and_crisis_text_reaches_nobody(self) -> None:
        everything = self._received(0)
        for name in EVERYONE:
            assert everything[name] == self.expected[name], name
            assert not self.crisis_marks & set(everything[name]), name


@pytest.mark.parametrize("examples", [10])
def test_room_membership_and_fan_out_follow_the_rules(
    database_url: str, tmp_path: Path, examples: int
) -> None:
    run_on_database(RoomModel, database_url, tmp_path, examples, steps=25)
