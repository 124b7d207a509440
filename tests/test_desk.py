"""The escalation core without a database: routing, the lifecycle and every staff decision.

These run in milliseconds; the same rules are exercised end to end in
``tests/test_relay_model.py`` (random interleavings on both databases) and in the exact
transcripts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows import desk, escalation
from flows.commands import parse_number
from flows.desk import Desk, DeskFacts, Message, Queued
from flows.effects import (
    AddNote,
    AddReason,
    ChangeCase,
    DropQueued,
    EditCards,
    Notice,
    PostCard,
    QueueMessage,
    RelayTo,
    Say,
    SetSelection,
    ShowAnswer,
    ShowContext,
    StaffRequest,
    Tell,
)
from flows.escalation import Case, CaseRules, Lifecycle, Opening, Party, Reason, Roster, Tier
from flows.roles import Role
from flows.text import Msg

NOW = datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
RULES = CaseRules(max_active=2)
LIN = Party(10, Role.PEER_WORKER, "Lin")
SAM = Party(11, Role.PEER_WORKER, "Sam")
MEI = Party(12, Role.SUPERVISOR, "Mei")
ANNA = Party(1, Role.CLIENT, "AN7KQ")
BO = Party(2, Role.CLIENT, "BO3MX")
MUM = Party(3, Role.FAMILY, "M3P9Q")


def case(
    number: int, subject: Party, holder: Party | None = None, state: str | None = None
) -> Case:
    return Case(
        number,
        f"r{number}",
        subject,
        state or ("claimed" if holder else "open"),
        Tier.SAME_DAY,
        NOW - timedelta(minutes=3),
        holder,
        reasons=("request",),
    )


def text(number: int, body: str = "hello", reply_case: int | None = None) -> Message:
    return Message("text", body, number, reply_case)


def relayed(effects: tuple[object, ...]) -> list[int]:
    return [e.to for e in effects if isinstance(e, RelayTo)]


# -- whom a worker's message goes to --------------------------------------------------------


def test_the_chosen_chat_gets_the_message_and_the_worker_sees_to_whom() -> None:
    a, b = case(1, ANNA, LIN), case(2, BO, LIN)
    effects = desk.from_worker(Desk(LIN, (a, b), selected=2), text(7), NOW)
    assert effects == (
        ChangeCase(2, "reply", LIN.id, LIN.id, NOW, "claimed"),
        RelayTo(
            BO.id,
            2,
            LIN.id,
            Msg("relay.from_worker", (("text", _raw("hello")), ("worker", _raw("Lin")))),
            None,
            Msg("relay.sent", (("who", BO.who),)),
        ),
    )


def test_with_no_choice_the_message_is_kept_and_the_worker_asked_even_with_one_chat() -> None:
    only = case(1, ANNA, LIN)
    effects = desk.from_worker(
        Desk(LIN, (only,), selected=None), text(7, "bring your pill box"), NOW
    )
    assert relayed(effects) == [], "never the only remaining chat by default"
    assert effects[0] == QueueMessage(LIN.id, None, "unaddressed", 7, "text", "bring your pill box")
    question = effects[1]
    assert isinstance(question, Say)
    assert [c.value for c in question.choices] == ["/sendto 7 1", "/sendto 7 0"]


def test_a_reply_goes_to_its_chat_whatever_is_chosen_and_nowhere_once_it_is_gone() -> None:
    a, b = case(1, ANNA, LIN), case(2, BO, LIN)
    assert relayed(desk.from_worker(Desk(LIN, (a, b), selected=1), text(7, reply_case=2), NOW)) == [
        BO.id
    ]
    gone = desk.from_worker(Desk(LIN, (a,), selected=1), text(8, reply_case=2), NOW)
    assert gone == (Say(Msg("relay.reply_to_closed_chat")),)


def test_a_reply_to_a_message_of_a_chat_that_is_gone_is_never_sent_to_the_chosen_one() -> None:
    """The chat a quoted message belonged to was erased (or its records purged): the reply
    was meant for that person, so it is kept and the worker asked, not sent to Anna."""
    anna = case(1, ANNA, LIN)
    reply = Message("text", "see you then", 7, reply_unknown=True)
    effects = desk.from_worker(Desk(LIN, (anna,), selected=1), reply, NOW)
    assert relayed(effects) == []
    assert effects[0] == QueueMessage(LIN.id, None, "unaddressed", 7, "text", "see you then")
    question = effects[1]
    assert isinstance(question, Say)
    assert [c.value for c in question.choices] == ["/sendto 7 1", "/sendto 7 0"]


def test_a_worker_holding_nothing_is_told_their_message_went_nowhere() -> None:
    assert desk.from_worker(Desk(LIN), text(7), NOW) == (Say(Msg("relay.no_chat_not_sent")),)


def test_a_stale_choice_of_a_chat_no_longer_held_is_not_used() -> None:
    only = case(1, ANNA, LIN)
    effects = desk.from_worker(Desk(LIN, (only,), selected=5), text(7), NOW)
    assert relayed(effects) == []


@given(
    held=st.lists(st.sampled_from([1, 2, 3, 4]), unique=True, max_size=4),
    selected=st.one_of(st.none(), st.integers(0, 5)),
    reply=st.one_of(st.none(), st.integers(0, 5)),
    unknown=st.booleans(),
)
def test_a_worker_message_reaches_only_a_chat_they_hold_and_chose(
    held: list[int], selected: int | None, reply: int | None, unknown: bool
) -> None:
    """``unknown``: a reply to a message whose chat is no longer known (never with a case)."""
    subjects = {n: Party(n, Role.CLIENT, f"C{n}") for n in range(6)}
    cases = tuple(case(n, subjects[n], LIN) for n in held)
    unknown = unknown and reply is None
    message = Message("text", "hello", 9, reply, reply_unknown=unknown)
    effects = desk.from_worker(Desk(LIN, cases, selected), message, NOW)
    targets = relayed(effects)
    assert len(targets) <= 1
    if targets:
        assert not unknown, "a reply meant for a chat that is gone goes to no other chat"
        chosen = reply if reply is not None else selected
        assert targets == [chosen] and chosen in held
    elif held and reply is None and (unknown or selected not in held):
        assert isinstance(effects[0], QueueMessage), "kept for an answer, never dropped silently"


def test_a_subject_writes_to_the_holder_or_is_kept_for_the_next_one() -> None:
    held = case(1, MUM, LIN)
    assert relayed(desk.from_subject(held, text(3, "no. I'm on the balcony"))) == [LIN.id]
    waiting = desk.from_subject(case(1, MUM), text(3, "hello?"))
    assert waiting == (
        QueueMessage(MUM.id, 1, "waiting", 3, "text", "hello?"),
        Say(Msg("relay.kept_for_worker")),
    )


def test_switch_by_number_or_alias_ignoring_case() -> None:
    d = Desk(LIN, (case(1, ANNA, LIN), case(2, BO, LIN)))
    assert desk.switch(d, "#2")[0] == SetSelection(LIN.id, 2)
    assert desk.switch(d, "an7kq")[0] == SetSelection(LIN.id, 1)
    unknown = desk.switch(d, "9")
    assert not any(isinstance(e, SetSelection) for e in unknown)


def test_sendto_sends_the_kept_message_where_the_worker_taps_or_drops_it() -> None:
    d = Desk(LIN, (case(1, ANNA, LIN),))
    kept = Queued(40, LIN.id, None, "unaddressed", 7, "text", "bring your pill box", NOW)
    sent = desk.decide(StaffRequest("sendto", 1, message_id=7), DeskFacts(d, kept=kept), RULES, NOW)
    assert relayed(sent) == [ANNA.id] and SetSelection(LIN.id, 1) in sent
    assert DropQueued((40,)) in sent
    dropped = desk.decide(
        StaffRequest("sendto", 0, message_id=7), DeskFacts(d, kept=kept), RULES, NOW
    )
    assert dropped == (DropQueued((40,)), ShowAnswer(Msg("relay.dont_send")))
    gone = desk.decide(StaffRequest("sendto", 2, message_id=7), DeskFacts(d, kept=kept), RULES, NOW)
    assert relayed(gone) == [] and DropQueued((40,)) in gone


# -- claiming, assigning, transferring, releasing, closing -------------------------------------


def test_claiming_chooses_the_chat_and_hands_over_what_was_written_while_waiting() -> None:
    open_case = case(1, ANNA)
    waiting = (Queued(5, ANNA.id, 1, "waiting", 3, "text", "are you there", NOW),)
    effects = desk.decide(
        StaffRequest("claim", 1, "r1"), DeskFacts(Desk(LIN), open_case, waiting=waiting), RULES, NOW
    )
    assert effects[0] == ChangeCase(
        1,
        "claim",
        LIN.id,
        None,
        NOW,
        "open",
        holder_id=LIN.id,
        reply_due_at=NOW + RULES.reply_within,
    )
    assert SetSelection(LIN.id, 1) in effects
    assert ShowContext(LIN.id, 1, chosen=True) in effects
    assert relayed(effects) == [LIN.id] and DropQueued((5,)) in effects
    assert isinstance(effects[-1], Tell) and effects[-1].to == ANNA.id


@pytest.mark.parametrize(
    ("facts", "request_", "answer"),
    [
        (DeskFacts(Desk(LIN)), StaffRequest("claim", 1, via_button=True), "escalation.not_found"),
        (
            DeskFacts(Desk(LIN), case(1, ANNA)),
            StaffRequest("claim", 1, "stale", via_button=True),
            "escalation.not_found",
        ),
        (
            DeskFacts(Desk(LIN), case(1, ANNA, state="resolved")),
            StaffRequest("claim", 1, "r1", via_button=True),
            "escalation.closed",
        ),
        (
            DeskFacts(Desk(LIN), case(1, ANNA, SAM)),
            StaffRequest("claim", 1, "r1", via_button=True),
            "escalation.already_taken",
        ),
        (
            DeskFacts(Desk(LIN, (case(2, BO, LIN), case(3, MUM, LIN))), case(1, ANNA)),
            StaffRequest("claim", 1, "r1", via_button=True),
            "escalation.limit",
        ),
    ],
)
def test_a_claim_that_cannot_happen_changes_nothing_and_says_why(
    facts: DeskFacts, request_: StaffRequest, answer: str
) -> None:
    effects = desk.decide(request_, facts, RULES, NOW)
    assert len(effects) == 1 and isinstance(effects[0], Notice)
    assert isinstance(effects[0].text, Msg) and effects[0].text.id == answer


def test_an_assignment_clears_both_workers_choices_and_tells_them() -> None:
    a = case(1, ANNA, LIN)
    facts = DeskFacts(
        Desk(MEI),
        a,
        targets=(SAM,),
        target_desk=Desk(SAM, (case(2, BO, SAM),), selected=2),
        holder_desk=Desk(LIN, (a, case(3, MUM, LIN)), selected=1),
    )
    effects = desk.decide(StaffRequest("assign", 1, alias="sam"), facts, RULES, NOW)
    assert effects[0] == ChangeCase(
        1,
        "assign",
        MEI.id,
        LIN.id,
        NOW,
        "claimed",
        holder_id=SAM.id,
        reply_due_at=NOW + RULES.reply_within,
    )
    assert SetSelection(LIN.id, None) in effects and SetSelection(SAM.id, None) in effects
    told = {e.to for e in effects if isinstance(e, Tell)}
    assert told == {LIN.id, SAM.id, ANNA.id}
    assert ShowContext(SAM.id, 1, chosen=False) in effects
    assert isinstance(effects[-1], Say), "the supervisor hears it was done"


@pytest.mark.parametrize(
    ("facts", "answer"),
    [
        (DeskFacts(Desk(MEI), None, targets=(SAM,)), "escalation.not_found"),
        (DeskFacts(Desk(MEI), case(1, ANNA)), "escalation.no_such_worker"),
        (DeskFacts(Desk(MEI), case(1, ANNA), targets=(MUM,)), "escalation.no_such_worker"),
        (DeskFacts(Desk(MEI), case(1, ANNA), targets=(SAM, LIN)), "escalation.alias_ambiguous"),
        (DeskFacts(Desk(MEI), case(1, ANNA, SAM), targets=(SAM,)), "escalation.already_with"),
        (
            DeskFacts(
                Desk(MEI),
                case(1, ANNA),
                targets=(SAM,),
                target_desk=Desk(SAM, (case(2, BO, SAM), case(3, MUM, SAM))),
            ),
            "escalation.assign_full",
        ),
    ],
)
def test_an_assignment_that_fails_is_reported_and_changes_nothing(
    facts: DeskFacts, answer: str
) -> None:
    effects = desk.decide(StaffRequest("assign", 1, alias="x"), facts, RULES, NOW)
    assert len(effects) == 1 and isinstance(effects[0], Say)
    assert isinstance(effects[0].text, Msg) and effects[0].text.id == answer


def test_a_transfer_keeps_the_givers_other_choice_and_clears_the_receivers() -> None:
    a, b = case(1, ANNA, LIN), case(2, BO, LIN)
    keeps = desk.decide(
        StaffRequest("transfer", 1, alias="Sam"),
        DeskFacts(Desk(LIN, (a, b), selected=2), a, targets=(SAM,), target_desk=Desk(SAM)),
        RULES,
        NOW,
    )
    assert SetSelection(LIN.id, None) not in keeps and SetSelection(SAM.id, None) in keeps
    clears = desk.decide(
        StaffRequest("transfer", 1, alias="Sam"),
        DeskFacts(Desk(LIN, (a, b), selected=1), a, targets=(SAM,), target_desk=Desk(SAM)),
        RULES,
        NOW,
    )
    assert SetSelection(LIN.id, None) in clears


def test_releasing_sends_the_cards_again_to_everyone_else_on_duty() -> None:
    a = case(1, ANNA, LIN)
    roster = Roster(on_duty=(LIN, SAM), supervisors=(MEI,))
    effects = desk.decide(
        StaffRequest("release", 1), DeskFacts(Desk(LIN, (a,), 1), a, roster=roster), RULES, NOW
    )
    assert SetSelection(LIN.id, None) in effects
    assert [e.to for e in effects if isinstance(e, PostCard)] == [SAM.id]
    assert Tell(ANNA.id, Msg("escalation.released_client")) in effects


def test_closing_appends_the_note_and_asks_the_person_for_a_rating() -> None:
    a = case(1, ANNA, LIN, "active")
    effects = desk.decide(
        StaffRequest("resolve", 1, outcome="referred", text="booked GP"),
        DeskFacts(Desk(LIN, (a,), 1), a),
        RULES,
        NOW,
    )
    assert effects[0] == ChangeCase(1, "resolve", LIN.id, LIN.id, NOW, "active", outcome="referred")
    assert AddNote(1, LIN.id, "Lin", "booked GP", closing=True) in effects
    rating = effects[-1]
    assert isinstance(rating, Tell)
    assert [c.value for c in rating.choices] == [f"/rate 1 {n}" for n in range(1, 6)]


def test_only_the_person_a_closed_chat_was_about_rates_it() -> None:
    """Anyone else's tap, or one before the chat closed, is a stale button: nothing is kept."""
    thanks, stale = Msg("escalation.thanks_for_rating"), Msg("input.stale_button")
    assert escalation.rated(ANNA.id, ANNA.id, "resolved") == (True, thanks)
    assert escalation.rated(LIN.id, ANNA.id, "resolved") == (False, stale)
    assert escalation.rated(ANNA.id, ANNA.id, "active") == (False, stale)
    assert escalation.rated(ANNA.id, None, None) == (False, stale)


def test_a_worker_cannot_act_on_a_chat_someone_else_holds() -> None:
    theirs = case(1, ANNA, SAM)
    for action in ("release", "resolve", "note", "transfer"):
        effects = desk.decide(
            StaffRequest(action, 1, alias="Mei", text="x"), DeskFacts(Desk(LIN), theirs), RULES, NOW
        )
        assert not any(isinstance(e, ChangeCase | AddNote) for e in effects), action


# -- opening, the clocks, people leaving ---------------------------------------------------------


def test_a_new_escalation_sends_cards_and_alerts_only_relatives_of_a_client() -> None:
    roster = Roster(on_duty=(LIN,), supervisors=(MEI,))
    new = escalation.add_reason(
        Opening(case(1, ANNA), True), Reason("request"), roster, (7,), RULES, NOW, True
    )
    assert [e.to for e in new if isinstance(e, PostCard)] == [LIN.id]
    assert Tell(7, Msg("family.alert")) in new
    urgent = Case(1, "r1", MUM, "open", Tier.URGENT, NOW)  # opened with the crisis's tier
    about_relative = escalation.add_reason(
        Opening(urgent, True), Reason("crisis"), roster, (7,), RULES, NOW, False
    )
    assert [e.to for e in about_relative if isinstance(e, PostCard)] == [LIN.id, MEI.id]
    assert not any(isinstance(e, Tell) for e in about_relative)


def test_a_crisis_added_to_an_open_escalation_raises_its_tier_and_sends_cards_again() -> None:
    routine = Case(1, "r1", ANNA, "open", Tier.ROUTINE, NOW, claim_due_at=NOW + timedelta(days=1))
    effects = escalation.add_reason(
        Opening(routine, False), Reason("crisis"), Roster(on_duty=(LIN,)), (), RULES, NOW, False
    )
    assert effects[0] == ChangeCase(
        1,
        "add_reason",
        None,
        None,
        NOW,
        "open",
        tier="urgent",
        claim_due_at=NOW + timedelta(minutes=5),
    )
    assert effects[1] == AddReason(1, Reason("crisis"))
    assert [e.to for e in effects if isinstance(e, PostCard)] == [LIN.id]


def test_a_new_reason_on_a_held_escalation_tells_its_worker() -> None:
    effects = escalation.add_reason(
        Opening(case(1, ANNA, LIN), False), Reason("family", (), 3), Roster(), (), RULES, NOW, False
    )
    assert [e.to for e in effects if isinstance(e, Tell)] == [LIN.id]


def test_the_clocks_remind_the_worker_once_then_the_supervisors() -> None:
    roster = Roster(on_duty=(LIN,), supervisors=(MEI,))
    first = escalation.overdue(case(1, ANNA, LIN), roster, RULES, NOW)
    assert [e.to for e in first if isinstance(e, Tell)] == [LIN.id]
    later = escalation.overdue(
        Case(1, "r1", ANNA, "claimed", Tier.SAME_DAY, NOW, LIN, reminders=1), roster, RULES, NOW
    )
    assert [e.to for e in later if isinstance(e, Tell)] == [MEI.id]


def test_when_the_person_leaves_the_chat_closes_and_its_worker_is_told() -> None:
    effects = escalation.subject_left(case(1, BO, LIN), "subject_erased", NOW)
    assert effects[0] == ChangeCase(
        1, "resolve", None, LIN.id, NOW, "claimed", outcome="subject_erased"
    )
    assert isinstance(effects[1], EditCards)
    assert SetSelection(LIN.id, None) in effects
    assert [e.to for e in effects if isinstance(e, Tell)] == [LIN.id]


def test_a_worker_leaving_gives_every_chat_back() -> None:
    held = (case(1, ANNA, LIN), case(2, BO, LIN, "active"))
    effects = escalation.worker_left(
        LIN, held, Roster(on_duty=(SAM,)), RULES, NOW, Msg("desk.role_changed")
    )
    assert [e.case_id for e in effects if isinstance(e, ChangeCase)] == [1, 2]
    assert all(e.change == "release" for e in effects if isinstance(e, ChangeCase))
    assert {e.to for e in effects if isinstance(e, Tell)} == {ANNA.id, BO.id, LIN.id}


def test_the_machine_is_the_one_authority_on_changes() -> None:
    assert Lifecycle.sources("claim") == ("open",)
    assert escalation.HELD == ("claimed", "active")
    assert Lifecycle.dest("add_reason") is None and Lifecycle.dest("release") == "open"
    with pytest.raises(escalation.InvalidChange):
        escalation.change(case(1, ANNA, state="resolved"), "release", LIN.id, NOW)


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("12", 12),
        ("0", 0),
        ("²", None),
        ("١٢", None),
        ("99999999999999999999999", None),
        ("-3", None),
        ("", None),
        ("2147483647", 2147483647),
        ("2147483648", None),
    ],
)
def test_numbers_are_plain_ascii_digits_and_bounded(typed: str, number: int | None) -> None:
    assert parse_number(typed) == number


def _raw(text: str) -> object:
    from flows.text import Raw

    return Raw(text)
