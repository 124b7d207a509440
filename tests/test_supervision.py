"""Looking after peer workers (flows/supervision.py): the duty clock as a state machine
(Hypothesis), who may answer a debrief and who hears "call me", who reads supervision
notes, and that handing chats back never leaves a chat with nobody told."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from flows.effects import (
    AddSupervisionNote,
    PostCard,
    RecordDebrief,
    Say,
    SupervisionRequest,
    Tell,
)
from flows.escalation import Case, CaseRules, Party, Roster, Tier
from flows.roles import Role
from flows.supervision import (
    Duty,
    Note,
    TeamFacts,
    debrief_prompt,
    decide,
    duty_after,
)
from flows.text import Msg

NOW = datetime(2026, 12, 1, 20, tzinfo=UTC)
GAP = timedelta(hours=3)
RULES = CaseRules()
LIN = Party(1, Role.PEER_WORKER, "Lin")
SAM = Party(2, Role.PEER_WORKER, "Sam")
MEI = Party(3, Role.SUPERVISOR, "Mei")
ANNA = Party(9, Role.CLIENT, "AN7KQ")
TEAM = Roster((LIN,), (MEI,))


def case(reasons: tuple[str, ...], state: str = "resolved", holder: Party = LIN) -> Case:
    return Case(1, "abc123", ANNA, state, Tier.URGENT, NOW, holder, reasons=reasons)


class DutyClock(RuleBasedStateMachine):
    """Going on and off duty in any order at any pace: the stretch starts at the last
    "on", the shift survives only breaks shorter than the long gap."""

    def __init__(self) -> None:
        super().__init__()
        self.now = NOW
        self.duty = Duty()
        self.on = False
        self.shift: datetime | None = None
        self.last_on: datetime | None = None
        self.last_off: datetime | None = None

    @rule(minutes=st.integers(0, 600), on=st.booleans())
    def change(self, minutes: int, on: bool) -> None:
        self.now += timedelta(minutes=minutes)
        self.duty = duty_after(self.duty, on, self.now, GAP)
        if on and not self.on:
            if self.shift is None or self.last_off is None or self.now - self.last_off >= GAP:
                self.shift = self.now
            self.last_on = self.now
        if not on and self.on:
            self.last_off = self.now
        self.on = on

    @invariant()
    def agrees(self) -> None:
        assert (self.duty.since is not None) == self.on
        if self.on:
            assert self.duty.since == self.last_on
            assert self.duty.shift_started == self.shift
            assert self.duty.shift_started is not None
            assert self.duty.shift_started <= self.duty.since
        assert self.duty.off_at == self.last_off


TestDutyClock = DutyClock.TestCase


@given(st.lists(st.sampled_from(["crisis", "family_danger", "request", "flag", "silence"])))
def test_the_debrief_is_asked_after_a_chat_with_a_crisis_reason_only(reasons: list[str]) -> None:
    asked = debrief_prompt(case(tuple(reasons)), LIN)
    crisis = {"crisis", "family_danger"} & set(reasons)
    assert len(asked) == (1 if crisis else 0)
    assert all(isinstance(e, Tell) and e.to == LIN.id for e in asked)


def _debrief(
    answer: str,
    me: Party = LIN,
    roster: Roster = TEAM,
    debriefed: bool = False,
    closed: Case | None = None,
) -> tuple[object, ...]:
    request = SupervisionRequest("debrief", 1, answer=answer, via_button=True)
    facts = TeamFacts(me, closed or case(("crisis",)), debriefed, roster=roster)
    return decide(request, facts, RULES, NOW)


def test_call_me_alerts_every_supervisor_and_is_recorded() -> None:
    effects = _debrief("call")
    assert RecordDebrief(1, LIN.id, "call") in effects
    assert [e.to for e in effects if isinstance(e, Tell)] == [MEI.id]
    assert Say(Msg("debrief.call_sent")) in effects


def test_call_me_with_no_supervisor_says_nobody_was_told() -> None:
    effects = _debrief("call", roster=Roster((LIN,), ()))
    assert not [e for e in effects if isinstance(e, Tell)]
    assert Say(Msg("debrief.call_nobody")) in effects


def test_only_the_worker_who_closed_it_answers_and_only_once() -> None:
    assert not any(isinstance(e, RecordDebrief) for e in _debrief("ok", me=SAM))
    assert not any(isinstance(e, RecordDebrief) for e in _debrief("ok", debriefed=True))
    still_open = _debrief("ok", closed=case(("crisis",), state="active"))
    assert not any(isinstance(e, RecordDebrief) for e in still_open)


def test_a_worker_reads_only_their_own_supervision_notes() -> None:
    notes = (Note(NOW, "Mei", "practise the first question"),)
    own = decide(SupervisionRequest("supnotes"), TeamFacts(LIN, notes=notes), RULES, NOW)
    assert "practise the first question" in repr(own)
    other = decide(
        SupervisionRequest("supnotes", alias="Sam"),
        TeamFacts(LIN, targets=(SAM,), notes=()),
        RULES,
        NOW,
    )
    assert other == (Say(Msg("supnotes.own_only")),)


def test_a_supervision_note_is_about_one_staff_member_named_exactly() -> None:
    request = SupervisionRequest("supnote", alias="lin", text="well done")
    saved = decide(request, TeamFacts(MEI, targets=(LIN,)), RULES, NOW)
    assert AddSupervisionNote(LIN.id, MEI.id, "Mei", "well done") in saved
    ambiguous = decide(request, TeamFacts(MEI, targets=(LIN, SAM)), RULES, NOW)
    assert not any(isinstance(e, AddSupervisionNote) for e in ambiguous)
    client = decide(request, TeamFacts(MEI, targets=(ANNA,)), RULES, NOW)
    assert not any(isinstance(e, AddSupervisionNote) for e in client)


def test_handing_back_as_the_only_worker_on_duty_sends_the_cards_to_the_supervisors() -> None:
    held = (case(("request",), state="active"),)
    effects = decide(
        SupervisionRequest("handback"),
        TeamFacts(LIN, held=held, roster=Roster((LIN,), (MEI,))),
        RULES,
        NOW,
    )
    assert [e.to for e in effects if isinstance(e, PostCard)] == [MEI.id]


def test_asking_which_chat_to_review_keeps_each_button_within_telegrams_64_bytes() -> None:
    held = (
        case(("request",), state="active"),
        Case(2, "def456", ANNA, "active", Tier.ROUTINE, NOW, LIN),
    )
    long_note = "我说不出话来，" * 40
    (asked,) = decide(
        SupervisionRequest("review", text=long_note), TeamFacts(LIN, held=held), RULES, NOW
    )
    assert isinstance(asked, Say)
    assert [c.value for c in asked.choices] == ["/review #1", "/review #2"]
