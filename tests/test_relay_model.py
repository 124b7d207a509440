"""Model-based test of escalations and the relay (Hypothesis stateful testing).

Random interleavings of what three peer workers, a supervisor, three clients and a relative
do — asking for a person, crisis language, a relative's concern, claim, release, transfer,
assign, switch, a Telegram reply, writing, answering "who is this for?", closing, notes,
erasure, a role change — against the real bot (fake Telegram) on SQLite and PostgreSQL.
A small model of the rules predicts, after every step:

- whom each worker's message reaches: exactly the chat they addressed (a reply to its
  message, or the chat they chose themselves with nothing changed since), or nobody yet
  (kept until they say whom it is for) — never anyone else;
- whom each client's or relative's message reaches: only the worker who holds their chat,
  or nobody yet (kept, and handed to the worker who claims it next);
- every escalation's holder and state, every worker's chosen chat, and how many reasons,
  notes and risk events each escalation has (none is ever lost); at most one open
  escalation per person.

Every message of every step is checked, so an extra or misrouted one fails.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    initialize,
    invariant,
    precondition,
    rule,
)
from sqlalchemy import func, select

from bot import operations
from bot.storage.models import (
    Escalation,
    EscalationNote,
    EscalationReason,
    FamilyLink,
    Person,
    RiskEvent,
)
from flows.roles import Role
from tests.harness import Person as Chat
from tests.stateful import OnTheBot, run_on_database

WORKERS = ("lin", "sam")
SUBJECTS = ("anna", "bo", "mum")  # mum is anna's mother, linked with alerts on
CLIENTS = ("anna", "bo")
NOW = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
MARK = re.compile(r"\[[wc]\d+\]")  # notes ([n…]) are meant to reach the next worker


@dataclass
class Case:
    id: int = 0  # learnt from the database once made (ids may skip numbers)
    holder: str | None = None
    reasons: int = 0
    notes: int = 0
    waiting: list[str] = field(default_factory=list)  # markers kept until someone claims


class RelayModel(OnTheBot):
    def __init__(self) -> None:
        super().__init__()
        self.harness.set_now(NOW)
        self.chats: dict[str, Chat] = {}
        self.ids: dict[str, int] = {}
        self.cases: dict[str, Case] = {}  # subject → their unresolved escalation
        self.chosen: dict[str, str | None] = dict.fromkeys(WORKERS)  # worker → subject
        self.kept: dict[str, list[tuple[int, str]]] = {w: [] for w in WORKERS}
        self.relayed: dict[str, dict[str, int]] = {w: {} for w in WORKERS}  # → case id
        self.staff = set(WORKERS)
        self.gone: set[str] = set()
        self.risk: dict[str, int] = dict.fromkeys(SUBJECTS, 0)
        self.marks = itertools.count(1)
        self.expected: dict[str, set[str]] = {}

    # -- people, made directly in the database (onboarding has its own tests) -------------

    @initialize()
    def people(self) -> None:
        cast = [(w, Role.PEER_WORKER, w.capitalize()) for w in WORKERS]
        cast += [("mei", Role.SUPERVISOR, "Mei")]
        cast += [(c, Role.CLIENT, f"{c.upper()}7") for c in CLIENTS]
        cast += [("mum", Role.FAMILY, "MUM7")]

        async def make() -> None:
            for name, role, alias in cast:
                self.chats[name], self.ids[name] = await self.harness.make_person(role, alias, NOW)
            async with self.harness.db.transaction() as session:
                session.add(
                    FamilyLink(
                        client_id=self.ids["anna"],
                        family_id=self.ids["mum"],
                        share_summary=False,
                        share_alerts=True,
                        created_at=NOW,
                    )
                )

        self.run(make())

    # -- doing things, and what the model expects of each ------------------------------------

    def _act(self, expected: dict[str, set[str]], action: Any) -> None:
        """Run one action; ``expected`` maps each marker it sends to the names receiving it."""
        before = len(self.harness.api.calls)
        self.run(action)
        received: dict[str, set[str]] = {}
        names = {chat.user_id: name for name, chat in self.chats.items()}
        for call in self.harness.api.calls[before:]:
            if call.method not in ("sendMessage", "copyMessage"):
                continue
            for marker in MARK.findall(str(call.params.get("text", ""))):
                received.setdefault(marker, set()).add(names[int(call.params["chat_id"])])
        assert received == {m: r for m, r in expected.items() if r}, (
            f"messages reached {received}, the rules say {expected}"
        )
        if any(case.id == 0 for case in self.cases.values()):
            self.run(self._learn_ids())

    async def _learn_ids(self) -> None:
        async with self.harness.db.sessions() as session:
            rows = (
                await session.execute(
                    select(Escalation.subject_id, Escalation.id).where(
                        Escalation.resolved_at.is_(None)
                    )
                )
            ).all()
        found = dict(rows)
        for subject, case in self.cases.items():
            if case.id == 0:
                case.id = found.get(self.ids[subject], 0)

    def _mark(self, kind: str) -> str:
        return f"[{kind}{next(self.marks)}]"

    def _reason(self, subject: str) -> None:
        case = self.cases.get(subject)
        if case is None:
            case = self.cases[subject] = Case()
        case.reasons += 1

    def _subject_writes(self, subject: str, marker: str) -> dict[str, set[str]]:
        case = self.cases.get(subject)
        if case is not None and case.holder is not None:
            self.relayed[case.holder][subject] = case.id
            return {marker: {case.holder}}
        if case is not None:
            case.waiting.append(marker)
        return {marker: set()}

    def _changed_for(self, worker: str | None) -> None:
        """A change the worker did not make to the chats they hold: their choice goes."""
        if worker is not None:
            self.chosen[worker] = None

    def _holding(self, worker: str) -> list[str]:
        return [s for s, c in self.cases.items() if c.holder == worker]

    def _hand_waiting(self, subject: str, worker: str) -> dict[str, set[str]]:
        case = self.cases[subject]
        markers, case.waiting = case.waiting, []
        if markers:
            self.relayed[worker][subject] = case.id
        return {m: {worker} for m in markers}

    def _id_of(self, subject: str) -> int:
        case = self.cases.get(subject)
        return case.id if case is not None else 999

    @rule(subject=st.sampled_from(SUBJECTS))
    def ask_for_a_person(self, subject: str) -> None:
        if subject in self.gone:
            return
        self._reason(subject)
        self._act({}, self.chats[subject].send("/talk"))

    @rule(subject=st.sampled_from(SUBJECTS))
    def crisis_language(self, subject: str) -> None:
        if subject in self.gone:
            return
        marker = self._mark("c")
        self._reason(subject)
        self.risk[subject] += 1
        expected = self._subject_writes(subject, marker)
        self._act(expected, self.chats[subject].send(f"I want to kill myself tonight {marker}"))

    @rule()
    def relative_raises_a_concern(self) -> None:
        if "mum" in self.gone:
            return
        subject = "anna" if "anna" not in self.gone else "mum"
        self._reason(subject)

        async def concern() -> None:
            mum = self.chats["mum"]
            await mum.send("/worried")
            await mum.press("Next ›")
            await mum.press("Skip")

        self._act({}, concern())

    @rule(subject=st.sampled_from(SUBJECTS))
    def subject_writes(self, subject: str) -> None:
        if subject in self.gone:
            return
        marker = self._mark("c")
        self._act(self._subject_writes(subject, marker), self.chats[subject].send(f"hi {marker}"))

    @rule(worker=st.sampled_from(WORKERS), subject=st.sampled_from(SUBJECTS))
    def claim(self, worker: str, subject: str) -> None:
        case = self.cases.get(subject)
        expected: dict[str, set[str]] = {}
        if worker in self.staff and case is not None and case.holder is None:
            case.holder = worker
            self.chosen[worker] = subject
            expected = self._hand_waiting(subject, worker)
        elif worker in self.staff and case is not None and case.holder == worker:
            self.chosen[worker] = subject  # tapping Claim on a chat one holds chooses it
        self._act(expected, self.chats[worker].send(f"/claim {self._id_of(subject)}"))

    @rule(worker=st.sampled_from(WORKERS), subject=st.sampled_from(SUBJECTS))
    def release(self, worker: str, subject: str) -> None:
        case = self.cases.get(subject)
        if worker in self.staff and case is not None and case.holder == worker:
            case.holder = None
            if self.chosen[worker] == subject:
                self.chosen[worker] = None
        self._act({}, self.chats[worker].send(f"/release {self._id_of(subject)}"))

    @rule(
        worker=st.sampled_from(WORKERS),
        to=st.sampled_from(WORKERS),
        subject=st.sampled_from(SUBJECTS),
    )
    def transfer(self, worker: str, to: str, subject: str) -> None:
        target = to
        case = self.cases.get(subject)
        if (
            worker in self.staff
            and target in self.staff
            and target != worker
            and case is not None
            and case.holder == worker
        ):
            case.holder = target
            if self.chosen[worker] == subject:
                self.chosen[worker] = None
            self._changed_for(target)
        self._act({}, self.chats[worker].send(f"/transfer #{self._id_of(subject)} {target}"))

    @rule(to=st.sampled_from(WORKERS), subject=st.sampled_from(SUBJECTS))
    def supervisor_assigns(self, to: str, subject: str) -> None:
        target = to
        case = self.cases.get(subject)
        expected: dict[str, set[str]] = {}
        if target in self.staff and case is not None and case.holder != target:
            self._changed_for(case.holder)
            self._changed_for(target)
            if case.holder is None:
                expected = self._hand_waiting(subject, target)
            case.holder = target
        self._act(expected, self.chats["mei"].send(f"/assign {self._id_of(subject)} {target}"))

    @rule(worker=st.sampled_from(WORKERS), subject=st.sampled_from(SUBJECTS))
    def switch(self, worker: str, subject: str) -> None:
        case = self.cases.get(subject)
        if worker in self.staff and case is not None and case.holder == worker:
            self.chosen[worker] = subject
        self._act({}, self.chats[worker].send(f"/switch {self._id_of(subject)}"))

    @rule(worker=st.sampled_from(WORKERS))
    def worker_writes(self, worker: str) -> None:
        marker = self._mark("w")
        expected: dict[str, set[str]] = {marker: set()}
        if worker in self.staff:
            chosen = self.chosen[worker]
            if chosen is not None and self.cases.get(chosen, Case(0)).holder == worker:
                expected = {marker: {chosen}}
            elif self._holding(worker):
                number = next(self.chats[worker]._message_ids)
                self.chats[worker]._message_ids = itertools.count(number)
                self.kept[worker].append((number, marker))
        self._act(expected, self.chats[worker].send(f"note this {marker}"))

    @rule(worker=st.sampled_from(WORKERS), subject=st.sampled_from(SUBJECTS))
    def worker_replies(self, worker: str, subject: str) -> None:
        """A Telegram reply to the newest message relayed from ``subject`` in the worker's chat."""
        if worker not in self.staff or subject not in self.relayed[worker]:
            return
        alias = f"{subject.upper()}7" if subject != "mum" else "MUM7"
        chat = self.chats[worker]
        quoted = next(
            (
                m
                for (c, _), m in reversed(list(self.harness.api.messages.items()))
                if c == chat.user_id and m.get("text", "").startswith(f"💬 {alias}")
            ),
            None,
        )
        if quoted is None:
            return
        marker = self._mark("w")
        case = self.cases.get(subject)
        replied_case = self.relayed[worker][subject]
        ok = case is not None and case.id == replied_case and case.holder == worker
        expected = {marker: {subject} if ok else set()}
        message = {**chat._message(f"about that {marker}"), "reply_to_message": quoted}
        self._act(expected, self.harness.feed(chat, {"message": message}))

    @rule(worker=st.sampled_from(WORKERS), pick=st.integers(0, 9), decline=st.booleans())
    def answer_who_is_it_for(self, worker: str, pick: int, decline: bool) -> None:
        if not self.kept[worker]:
            return
        number, marker = self.kept[worker].pop(0)
        chat = self.chats[worker]
        buttons = [
            (message, button["callback_data"])
            for (c, _), message in self.harness.api.messages.items()
            if c == chat.user_id
            for row in message.get("reply_markup", {}).get("inline_keyboard", [])
            for button in row
            if button["callback_data"].startswith(f"c:sendto {number} ")
        ]
        if not buttons:
            return
        message, data = buttons[-1] if decline else buttons[pick % len(buttons)]
        case_id = int(data.split("~")[0].split()[-1])
        subject = next((s for s, c in self.cases.items() if c.id == case_id), None)
        expected: dict[str, set[str]] = {marker: set()}
        if worker in self.staff and subject is not None and self.cases[subject].holder == worker:
            expected = {marker: {subject}}
            self.chosen[worker] = subject
        self._act(expected, chat.press_data(message, data))

    @rule(worker=st.sampled_from(WORKERS), subject=st.sampled_from(SUBJECTS), note=st.booleans())
    def close(self, worker: str, subject: str, note: bool) -> None:
        case = self.cases.get(subject)
        if worker not in self.staff or case is None or case.holder != worker:
            self._act({}, self.chats[worker].send(f"/done {self._id_of(subject)}"))
            return
        del self.cases[subject]
        if self.chosen[worker] == subject:
            self.chosen[worker] = None

        async def close() -> None:
            chat = self.chats[worker]
            await chat.send(f"/done {case.id}")
            await chat.press("Resolved")
            if note:
                await chat.send(f"closing {self._mark('n')}")
            else:
                await chat.press("Skip")

        self._act({}, close())

    @rule(worker=st.sampled_from(WORKERS), subject=st.sampled_from(SUBJECTS))
    def note(self, worker: str, subject: str) -> None:
        case = self.cases.get(subject)
        if worker in self.staff and case is not None and case.holder == worker:
            case.notes += 1
        marker = self._mark("n")
        self._act({}, self.chats[worker].send(f"/note #{self._id_of(subject)} {marker}"))

    @rule(subject=st.sampled_from(SUBJECTS))
    def erase(self, subject: str) -> None:
        if subject in self.gone:
            return
        case = self.cases.pop(subject, None)
        if case is not None and case.holder is not None:
            self._changed_for(case.holder)
        self.gone.add(subject)

        async def erase() -> None:
            await self.chats[subject].send("/deleteme")
            await self.chats[subject].press("Yes, delete everything")

        self._act({}, erase())

    @rule(worker=st.sampled_from(WORKERS))
    def role_change(self, worker: str) -> None:
        if worker not in self.staff or len(self.staff) == 1:
            return
        self.staff.discard(worker)
        for subject in self._holding(worker):
            self.cases[subject].holder = None
        self.chosen[worker] = None
        self.kept[worker] = []
        services = self.harness.services
        assert services is not None
        self._act(
            {},
            operations.set_role(
                services.dispatcher, services.application.bot, self.ids[worker], Role.FAMILY
            ),
        )

    # -- the same actions, drawn among those that change something (denser runs) ---------------

    def _held(self) -> list[tuple[str, str]]:
        return sorted((s, c.holder) for s, c in self.cases.items() if c.holder is not None)

    @precondition(lambda self: any(c.holder is None for c in self.cases.values()))
    @rule(data=st.data())
    def claim_an_open_chat(self, data: st.DataObject) -> None:
        open_ = sorted(s for s, c in self.cases.items() if c.holder is None)
        self.claim(
            data.draw(st.sampled_from(sorted(self.staff))), data.draw(st.sampled_from(open_))
        )

    @precondition(lambda self: bool(self.cases))
    @rule(data=st.data())
    def assign_a_chat(self, data: st.DataObject) -> None:
        subject = data.draw(st.sampled_from(sorted(self.cases)))
        self.supervisor_assigns(data.draw(st.sampled_from(sorted(self.staff))), subject)

    @precondition(lambda self: any(c.holder is not None for c in self.cases.values()))
    @rule(data=st.data())
    def holder_acts(self, data: st.DataObject) -> None:
        subject, worker = data.draw(st.sampled_from(self._held()))
        action = data.draw(
            st.sampled_from(["release", "transfer", "switch", "close", "note", "reply"])
        )
        if action == "release":
            self.release(worker, subject)
        elif action == "transfer":
            self.transfer(worker, data.draw(st.sampled_from(WORKERS)), subject)
        elif action == "switch":
            self.switch(worker, subject)
        elif action == "close":
            self.close(worker, subject, data.draw(st.booleans()))
        elif action == "note":
            self.note(worker, subject)
        else:
            self.worker_replies(worker, subject)

    @precondition(lambda self: any(c.holder is not None for c in self.cases.values()))
    @rule(data=st.data())
    def holder_writes(self, data: st.DataObject) -> None:
        self.worker_writes(data.draw(st.sampled_from(sorted({w for _, w in self._held()}))))

    @precondition(lambda self: bool(self.cases))
    @rule(data=st.data())
    def subject_with_a_chat_writes(self, data: st.DataObject) -> None:
        self.subject_writes(data.draw(st.sampled_from(sorted(self.cases))))

    @precondition(lambda self: any(self.kept.values()))
    @rule(data=st.data())
    def answer_a_kept_message(self, data: st.DataObject) -> None:
        worker = data.draw(st.sampled_from(sorted(w for w, k in self.kept.items() if k)))
        self.answer_who_is_it_for(worker, data.draw(st.integers(0, 9)), data.draw(st.booleans()))

    # -- after every step: the database agrees with the model -------------------------------------

    @invariant()
    def the_database_agrees(self) -> None:
        if not self.ids:
            return

        async def read() -> tuple[
            list[Any], dict[int, int], dict[int, int], dict[int, int], dict[int, Any]
        ]:
            async with self.harness.db.sessions() as session:
                open_rows = (
                    await session.execute(
                        select(
                            Escalation.id,
                            Escalation.subject_id,
                            Escalation.state,
                            Escalation.claimed_by,
                        ).where(Escalation.resolved_at.is_(None))
                    )
                ).all()
                reasons = dict(
                    (
                        await session.execute(
                            select(EscalationReason.escalation_id, func.count()).group_by(
                                EscalationReason.escalation_id
                            )
                        )
                    ).all()
                )
                notes = dict(
                    (
                        await session.execute(
                            select(EscalationNote.escalation_id, func.count())
                            .where(EscalationNote.closing.is_(False))
                            .group_by(EscalationNote.escalation_id)
                        )
                    ).all()
                )
                risks = dict(
                    (
                        await session.execute(
                            select(RiskEvent.person_id, func.count()).group_by(RiskEvent.person_id)
                        )
                    ).all()
                )
                chosen = dict(
                    (await session.execute(select(Person.id, Person.selected_escalation_id))).all()
                )
            return open_rows, reasons, notes, risks, chosen

        open_rows, reasons, notes, risks, chosen = self.run(read())
        name_of = {person_id: name for name, person_id in self.ids.items()}
        subjects = [name_of[row.subject_id] for row in open_rows]
        assert len(subjects) == len(set(subjects)), "at most one open escalation per person"
        assert sorted(subjects) == sorted(self.cases), "open escalations are the model's"
        for row in open_rows:
            case = self.cases[name_of[row.subject_id]]
            assert row.id == case.id
            holder = name_of.get(row.claimed_by) if row.claimed_by else None
            assert holder == case.holder, f"#{row.id} is held by {holder}, not {case.holder}"
            assert (row.state == "open") == (case.holder is None), row.state
            assert row.state in ("open", "claimed", "active")
            assert reasons.get(row.id, 0) == case.reasons, "no reason is lost"
            assert notes.get(row.id, 0) == case.notes, "no note is lost"
        for subject in SUBJECTS:
            if subject not in self.gone:
                assert risks.get(self.ids[subject], 0) == self.risk[subject], "no risk event lost"
        for worker in WORKERS:
            subject = self.chosen[worker]
            expected = self.cases[subject].id if subject is not None else None
            assert chosen[self.ids[worker]] == expected, f"{worker}'s chosen chat"


@pytest.mark.parametrize("examples", [25])
def test_relay_and_escalations_follow_the_rules(
    database_url: str, tmp_path: Path, examples: int
) -> None:
    run_on_database(RelayModel, database_url, tmp_path, examples, steps=40)
