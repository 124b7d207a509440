"""Flag rules: which check-in patterns make a peer worker look, and which must not."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flows.flags import (
    MEDICATION_ANSWERS,
    RULE_NAMES,
    UNUSUAL_ANSWERS,
    DayRecord,
    FlagHit,
    FlagRules,
    episodes,
    evaluate,
    silence,
    silence_hit,
)

TODAY = date(2026, 11, 20)


def day(offset: int) -> date:
    """``offset`` days before TODAY (0 is today)."""
    return TODAY - timedelta(days=offset)


def rec(offset: int, **answers: object) -> DayRecord:
    return DayRecord(day(offset), **answers)  # type: ignore[arg-type]


def rules_of(records: list[DayRecord], today: date = TODAY, **rules: object) -> set[str]:
    return {hit.rule for hit in evaluate(records, today, FlagRules.from_mapping(rules))}


def hit_of(records: list[DayRecord], rule: str, today: date = TODAY) -> FlagHit:
    hits = [h for h in evaluate(records, today) if h.rule == rule]
    assert hits, f"{rule} should hold"
    return hits[0]


# --- low mood --------------------------------------------------------------------------


def test_low_mood_on_three_check_ins_in_a_row_ending_today() -> None:
    records = [rec(2, mood=2), rec(1, mood=1), rec(0, mood=2)]
    hit = hit_of(records, "low_mood")
    assert hit.evidence == ("2026-11-18 mood=2", "2026-11-19 mood=1", "2026-11-20 mood=2")
    assert hit.summary == {"streak": 3, "since": "2026-11-18", "today": 2, "usual_mood": None}


def test_low_mood_says_what_the_usual_mood_was_before_the_streak() -> None:
    records = [rec(6, mood=4), rec(5, mood=5), rec(4, mood=4), rec(2, mood=2), rec(1, mood=1)]
    hit = hit_of([*records, rec(0, mood=2)], "low_mood")
    assert hit.summary["usual_mood"] == 4.3


def test_low_mood_streak_counts_check_ins_not_calendar_days() -> None:
    records = [rec(6, mood=2), rec(3, mood=1), rec(0, mood=1)]
    assert "low_mood" in rules_of(records)


def test_low_mood_two_check_ins_are_not_enough() -> None:
    assert "low_mood" not in rules_of([rec(1, mood=1), rec(0, mood=1)])


def test_low_mood_threshold_is_inclusive_and_one_above_is_not_low() -> None:
    assert "low_mood" in rules_of([rec(2, mood=2), rec(1, mood=2), rec(0, mood=2)])
    assert "low_mood" not in rules_of([rec(2, mood=3), rec(1, mood=2), rec(0, mood=2)])


def test_low_mood_streak_is_broken_by_a_better_mood() -> None:
    records = [rec(3, mood=1), rec(2, mood=1), rec(1, mood=4), rec(0, mood=1)]
    assert "low_mood" not in rules_of(records)


def test_low_mood_streak_that_ended_is_not_current() -> None:
    ended_by_good_day = [rec(4, mood=1), rec(3, mood=1), rec(2, mood=1), rec(0, mood=4)]
    assert "low_mood" not in rules_of(ended_by_good_day)
    # Today's check-in is what the rule is about: with no mood answer today it does not hold.
    no_mood_today = [rec(3, mood=1), rec(2, mood=1), rec(1, mood=1), rec(0, sleep=0)]
    assert "low_mood" not in rules_of(no_mood_today)
    assert "low_mood" not in rules_of([rec(7, mood=1), rec(6, mood=1), rec(5, mood=1)])


def test_low_mood_evidence_shows_the_whole_current_streak() -> None:
    records = [rec(5, mood=4), *(rec(n, mood=1) for n in range(4, -1, -1))]
    hit = hit_of(records, "low_mood")
    assert hit.summary["streak"] == 5
    assert hit.evidence[0] == "2026-11-16 mood=1"
    assert len(hit.evidence) == 5


def test_low_mood_thresholds_are_configurable() -> None:
    records = [rec(1, mood=3), rec(0, mood=3)]
    assert "low_mood" not in rules_of(records)
    assert "low_mood" in rules_of(records, low_mood_max=3, low_mood_streak=2)


# --- mood drop from the person's own baseline ---------------------------------------------


def baseline(*moods: int, start: int = 1) -> list[DayRecord]:
    return [rec(start + i, mood=m) for i, m in enumerate(moods)]


def test_mood_drop_of_exactly_two_below_baseline_holds() -> None:
    hit = hit_of([*baseline(4, 4, 4, 4), rec(0, mood=2)], "mood_drop")
    assert hit.summary == {"baseline": 4.0, "baseline_checkins": 4, "today": 2, "drop": 2.0}
    assert hit.evidence == ("2026-11-06..2026-11-19 mood_mean=4.00 checkins=4", "2026-11-20 mood=2")


def test_mood_drop_just_short_of_two_does_not_hold() -> None:
    assert "mood_drop" not in rules_of([*baseline(4, 4, 4, 4), rec(0, mood=3)])
    # mean 3.75: a mood of 2 is 1.75 below
    assert "mood_drop" not in rules_of([*baseline(4, 4, 3, 4), rec(0, mood=2)])
    # mean 4.25: a mood of 2 is 2.25 below
    assert "mood_drop" in rules_of([*baseline(4, 4, 5, 4), rec(0, mood=2)])


def test_mood_drop_of_exactly_the_configured_amount_holds_despite_decimals() -> None:
    # mean 4.6, today 2: a drop of exactly 2.6 (4.6 - 2.6 is 1.9999... in floating point)
    records = [*baseline(5, 5, 5, 4, 4), rec(0, mood=2)]
    assert "mood_drop" in rules_of(records, mood_drop=2.6)
    assert "mood_drop" not in rules_of(records, mood_drop=2.7)


def test_mood_drop_needs_enough_baseline_check_ins() -> None:
    too_few = [*baseline(5, 5, 5), rec(0, mood=1)]
    assert "mood_drop" not in rules_of(too_few)
    assert "mood_drop" in rules_of(too_few, baseline_min_checkins=3)


def test_mood_drop_baseline_is_the_fourteen_days_before_today() -> None:
    # day 14 is inside the window, day 15 outside: only three check-ins count here
    records = [rec(15, mood=5), rec(14, mood=5), rec(10, mood=5), rec(5, mood=5), rec(0, mood=2)]
    assert "mood_drop" not in rules_of(records)
    records.append(rec(3, mood=5))
    hit = hit_of(records, "mood_drop")
    assert hit.summary["baseline_checkins"] == 4


def test_mood_drop_check_ins_without_mood_do_not_count_towards_baseline() -> None:
    records = [*baseline(5, 5, 5), rec(4, sleep=0), rec(5, sleep=0), rec(0, mood=1)]
    assert "mood_drop" not in rules_of(records)


def test_mood_drop_is_about_today() -> None:
    records = [*baseline(5, 5, 5, 5, start=2), rec(1, mood=1)]
    assert "mood_drop" in rules_of(records, today=day(1))
    assert "mood_drop" not in rules_of(records)  # no check-in today
    assert "mood_drop" not in rules_of([*records, rec(0, sleep=-1)])


# --- medication -----------------------------------------------------------------------


def meds(*answers: str | None) -> list[DayRecord]:
    """Answers from oldest to today, one per day."""
    return [rec(len(answers) - 1 - i, medication=a) for i, a in enumerate(answers)]


def test_medication_not_taken_three_of_last_five_holds() -> None:
    records = meds("taken", "not_taken", "partly", "not_taken", "not_taken")
    hit = hit_of(records, "medication")
    assert hit.summary == {"not_taken": 3, "partly": 1, "of": 5, "usual": 0, "usual_of": 0}
    assert hit.evidence == (
        "2026-11-16 medication=taken",
        "2026-11-17 medication=not_taken",
        "2026-11-18 medication=partly",
        "2026-11-19 medication=not_taken",
        "2026-11-20 medication=not_taken",
    )


def test_medication_partly_counts_as_half_a_missed_dose() -> None:
    # 2 missed + 2 halves = 3: holds; 2 missed + 1 half = 2.5: does not.
    assert "medication" in rules_of(meds("taken", "partly", "partly", "not_taken", "not_taken"))
    assert "medication" not in rules_of(meds("taken", "taken", "partly", "not_taken", "not_taken"))
    assert "medication" in rules_of(meds(*["partly"] * 5), meds_missed=2)
    assert "medication" not in rules_of(meds(*["partly"] * 5), meds_missed=3)
    assert "medication" in rules_of(meds(*["partly"] * 5), meds_missed=3, meds_partly=0.6)
    assert "medication" not in rules_of(meds(*["partly"] * 5), meds_partly=0)


def test_medication_misses_older_than_the_window_do_not_count() -> None:
    records = meds("not_taken", "not_taken", "not_taken", "taken", "taken", "taken", "not_taken")
    assert "medication" not in rules_of(records)


def test_medication_not_prescribed_and_unanswered_days_are_skipped() -> None:
    records = meds(
        "taken", "not_taken", "not_prescribed", None, "not_prescribed", "not_taken", "not_taken"
    )
    hit = hit_of(records, "medication")
    assert hit.summary == {"not_taken": 3, "partly": 0, "of": 4, "usual": 0, "usual_of": 0}
    assert not any("not_prescribed" in line for line in hit.evidence)


def test_medication_counts_a_new_client_with_fewer_answers_than_the_window() -> None:
    assert "medication" in rules_of(meds("not_taken", "not_taken", "not_taken"))
    assert "medication" not in rules_of(meds("not_taken", "not_taken"))


def test_medication_never_holds_for_someone_not_prescribed() -> None:
    assert "medication" not in rules_of(meds(*["not_prescribed"] * 10))


# --- warning signs ----------------------------------------------------------------------


def test_two_warning_signs_today_hold() -> None:
    hit = hit_of([rec(0, signs_yes=2)], "warning_signs")
    assert hit.evidence == ("2026-11-20 signs_yes=2",)
    assert hit.summary == {"today": 2, "days_in_a_row": 1, "usual": 0, "usual_of": 0}


def test_one_warning_sign_today_alone_does_not_hold() -> None:
    assert "warning_signs" not in rules_of([rec(1, signs_yes=0), rec(0, signs_yes=1)])


def test_a_warning_sign_three_days_running_holds() -> None:
    records = [rec(2, signs_yes=1), rec(1, signs_yes=1), rec(0, signs_yes=1)]
    hit = hit_of(records, "warning_signs")
    assert hit.summary == {"today": 1, "days_in_a_row": 3, "usual": 0, "usual_of": 0}
    assert hit.evidence[0] == "2026-11-18 signs_yes=1"


@pytest.mark.parametrize(
    "middle",
    [None, DayRecord(day(1), signs_yes=0), DayRecord(day(1), mood=3)],
    ids=["missing day", "no sign that day", "signs not asked that day"],
)
def test_sign_streak_needs_consecutive_calendar_days(middle: DayRecord | None) -> None:
    records = [rec(2, signs_yes=1), rec(0, signs_yes=1)]
    if middle is not None:
        records.append(middle)
    assert "warning_signs" not in rules_of(records)


def test_sign_streak_must_reach_today() -> None:
    earlier = [rec(3, signs_yes=1), rec(2, signs_yes=1), rec(1, signs_yes=1)]
    assert "warning_signs" not in rules_of(earlier)
    assert "warning_signs" not in rules_of([*earlier, rec(0, signs_yes=0)])
    assert "warning_signs" in rules_of([*earlier, rec(0, signs_yes=1)])


# --- sleep ------------------------------------------------------------------------------


def nights(*answers: int | None) -> list[DayRecord]:
    return [rec(len(answers) - 1 - i, sleep=a) for i, a in enumerate(answers)]


def test_much_less_sleep_three_of_five_nights_holds() -> None:
    hit = hit_of(nights(0, -2, -1, -2, -2), "sleep")
    assert hit.summary == {"much_less": 3, "of": 5, "running": 2, "usual": 0, "usual_of": 0}
    assert "2026-11-17 sleep=-2" in hit.evidence


def test_less_sleep_is_not_much_less() -> None:
    assert "sleep" not in rules_of(nights(-1, -1, -2, -1, -2))


def test_much_less_sleep_outside_the_last_five_nights_does_not_count() -> None:
    assert "sleep" not in rules_of(nights(-2, -2, -2, 0, 0, 0, 0, 0))
    assert "sleep" not in rules_of(nights(-2, 0, -2, 0, 0, -2))
    assert "sleep" in rules_of(nights(-2, 0, -2, None, None, 0, -2))


def test_much_less_sleep_two_nights_running_holds() -> None:
    hit = hit_of(nights(0, 0, 0, -2, -2), "sleep")
    assert hit.summary["running"] == 2
    assert "sleep" not in rules_of(nights(0, 0, -2, 0, -2)), "not running"
    assert "sleep" not in rules_of(nights(0, 0, 0, 0, -2)), "one night"
    assert "sleep" not in rules_of(nights(0, 0, -2, -2, 0)), "the run must reach the latest night"


def test_much_less_sleep_running_means_calendar_nights_in_a_row() -> None:
    # Two answers in a row but a day apart without a check-in between: not "running".
    assert "sleep" not in rules_of([rec(2, sleep=-2), rec(0, sleep=-2)])
    assert "sleep" in rules_of([rec(1, sleep=-2), rec(0, sleep=-2)])
    assert "sleep" in rules_of([rec(1, sleep=-2), rec(0, sleep=-2)], sleep_short_run=2)
    assert "sleep" not in rules_of([rec(1, sleep=-2), rec(0, sleep=-2)], sleep_short_run=3)


def test_much_less_sleep_counts_against_the_usual_nights_before() -> None:
    before = [rec(n, sleep=0) for n in range(12, 5, -1)] + [rec(5, sleep=-2)]
    hit = hit_of([*before, *nights(0, -2, 0, -2, -2)], "sleep")
    assert (hit.summary["usual"], hit.summary["usual_of"]) == (1, 8)


def test_much_more_sleep_is_not_flagged_as_short_sleep() -> None:
    assert "sleep" not in rules_of(nights(2, 2, 2, 2, 2))


# --- much more sleep ----------------------------------------------------------------------


def test_much_more_sleep_three_of_five_nights_holds() -> None:
    hit = hit_of(nights(0, 2, 1, 2, 2), "oversleep")
    assert hit.summary == {"count": 3, "of": 5, "usual": 0, "usual_of": 0}
    assert "oversleep" not in rules_of(nights(0, 2, 1, 1, 2)), "more is not much more"
    assert "oversleep" not in rules_of(nights(2, 2, 0, 0, 0, 0, 2)), "outside the window"
    assert "oversleep" in rules_of(nights(2, 0, 2), sleep_much_more=2, oversleep_window=3)


# --- mania --------------------------------------------------------------------------------


def test_one_short_night_with_top_mood_and_racing_thoughts_is_the_mania_rule() -> None:
    records = [rec(n, mood=3, sleep=0, unusual=()) for n in range(5, 0, -1)]
    today = rec(0, mood=5, sleep=-2, unusual=("racing",))
    hit = hit_of([*records, today], "mania")
    assert hit.summary == {"mood": 5, "usual_mood": 3.0, "usual": 0, "usual_of": 5}
    assert "sleep" not in rules_of([*records, today]), "one short night alone is not the sleep rule"


@pytest.mark.parametrize(
    "today",
    [
        rec(0, mood=4, sleep=-2, unusual=("racing",)),
        rec(0, mood=5, sleep=-1, unusual=("racing",)),
        rec(0, mood=5, sleep=-2, unusual=("voices",)),
        rec(0, mood=5, sleep=-2, unusual=()),
        rec(0, mood=5, sleep=-2),
        rec(0, sleep=-2, unusual=("racing",)),
    ],
)
def test_the_mania_rule_needs_all_three_today(today: DayRecord) -> None:
    assert "mania" not in rules_of([today])


def test_the_mania_rule_is_about_today_and_its_mood_is_configurable() -> None:
    yesterday = rec(1, mood=5, sleep=-2, unusual=("racing",))
    assert "mania" not in rules_of([yesterday, rec(0, mood=3, sleep=0)])
    assert "mania" in rules_of([rec(0, mood=4, sleep=-2, unusual=("racing",))], mania_mood=4)


# --- stopping medication ----------------------------------------------------------------


def test_taken_then_i_dont_take_any_is_its_own_flag() -> None:
    hit = hit_of(meds("taken", "taken", "not_prescribed"), "stopped_medication")
    assert hit.summary == {"last_taken": "2026-11-19", "since": "2026-11-20"}
    assert "stopped_medication" in rules_of(meds("partly", "not_taken", "not_prescribed"))
    assert "stopped_medication" in rules_of(meds("taken", "not_prescribed", "not_prescribed"))


def test_someone_who_never_took_medication_or_takes_it_again_is_not_flagged() -> None:
    assert "stopped_medication" not in rules_of(meds(*["not_prescribed"] * 6))
    assert "stopped_medication" not in rules_of(meds("taken", "not_prescribed", "taken"))
    assert "stopped_medication" not in rules_of(meds("not_taken", "not_prescribed"))


def test_stopping_counts_taken_within_the_set_days_only() -> None:
    edge = [rec(14, medication="taken"), rec(0, medication="not_prescribed")]
    assert "stopped_medication" in rules_of(edge)
    older = [rec(15, medication="taken"), rec(0, medication="not_prescribed")]
    assert "stopped_medication" not in rules_of(older)
    assert "stopped_medication" in rules_of(older, stopped_days=15)


def stopped_replay(answers: list[str | None]) -> list[tuple[int, str]]:
    """One check-in a day with these medication answers (``None``: question skipped),
    evaluated as the shell does, with the open episodes; (day index, raise|clear) of
    ``stopped_medication``."""
    start = date(2026, 11, 1)
    daily = [DayRecord(start + timedelta(days=i), medication=m) for i, m in enumerate(answers)]
    open_rules: set[str] = set()
    log: list[tuple[int, str]] = []
    for i, record in enumerate(daily):
        change = episodes(evaluate(daily[: i + 1], record.day, open_rules=open_rules), open_rules)
        for hit in change.raise_rules:
            open_rules.add(hit.rule)
            log.append((i, "raise"))
        for rule in change.clear_rules:
            open_rules.discard(rule)
            log.append((i, "clear"))
    return log


def test_a_stopped_medication_does_not_clear_itself_when_the_days_go_by() -> None:
    # Taken, then "I don't take any" for 30 days: the stop is raised once and stays open,
    # although the last "taken" is more than stopped_days (14) behind after day 15.
    assert stopped_replay(["taken", *["not_prescribed"] * 30]) == [(1, "raise")]
    # The edge: on day 15 the last "taken" is exactly 15 days back; the rule on its own
    # would no longer hold there, the open episode does.
    records = [rec(15, medication="taken"), rec(0, medication="not_prescribed")]
    assert "stopped_medication" not in rules_of(records)
    kept = evaluate(records, TODAY, open_rules={"stopped_medication"})
    assert [hit.rule for hit in kept] == ["stopped_medication"]


def test_a_stopped_medication_clears_only_when_the_person_takes_it_again() -> None:
    stop = ["taken", "not_prescribed", *["not_prescribed"] * 16]
    # "Not today" and a skipped question are not taking it again.
    assert stopped_replay([*stop, "not_taken", None, "not_prescribed"]) == [(1, "raise")]
    assert stopped_replay([*stop, "partly"]) == [(1, "raise"), (18, "clear")]
    assert stopped_replay([*stop, None, "taken"]) == [(1, "raise"), (19, "clear")]
    # Taking it again and stopping again is a new episode.
    assert stopped_replay([*stop, "taken", "not_prescribed"]) == [
        (1, "raise"),
        (18, "clear"),
        (19, "raise"),
    ]


def test_an_open_stop_with_no_medication_answer_in_the_loaded_days_stays_open() -> None:
    # The shell loads the last 4 weeks; with no answer to the question in them, nothing
    # says the person takes it again.
    kept = evaluate([rec(0, mood=3)], TODAY, open_rules={"stopped_medication"})
    assert [hit.rule for hit in kept] == ["stopped_medication"]
    assert evaluate([rec(0, mood=3)], TODAY) == ()


# --- side effects -------------------------------------------------------------------------


def effects(*answers: int | None) -> list[DayRecord]:
    return [rec(len(answers) - 1 - i, side_effects=a) for i, a in enumerate(answers)]


def test_side_effects_a_lot_three_of_five_answers_holds() -> None:
    assert "side_effects" in rules_of(effects(2, 0, 2, 1, 2))
    assert "side_effects" not in rules_of(effects(2, 0, 1, 1, 2)), "two of five"
    assert "side_effects" not in rules_of(effects(1, 1, 1, 1, 1)), "a little is not a lot"
    assert "side_effects" not in rules_of(effects(2, 2, 0, 0, 0, 0, 2)), "outside the window"
    assert "side_effects" in rules_of(effects(2, None, 2, None, 2))


# --- unusual experiences with distress ---------------------------------------------------


def experiences(*days: tuple[tuple[str, ...], int | None] | None) -> list[DayRecord]:
    return [
        rec(len(days) - 1 - i, **({} if d is None else {"unusual": d[0], "distress": d[1]}))
        for i, d in enumerate(days)
    ]


VOICES_2 = (("voices",), 2)
WATCHED_3 = (("watched",), 3)


def test_voices_or_feeling_watched_with_distress_two_of_three_holds() -> None:
    hit = hit_of(experiences(VOICES_2, ((), None), WATCHED_3), "experiences")
    assert hit.summary == {"count": 2, "of": 3, "usual": 0, "usual_of": 0}
    assert hit.evidence == (
        "2026-11-18 unusual=voices distress=2",
        "2026-11-19 unusual=none",
        "2026-11-20 unusual=watched distress=3",
    )


@pytest.mark.parametrize(
    "days",
    [
        [(("voices",), 1), ((), None), (("watched",), 3)],  # distress 1 is below 2
        [(("racing",), 3), ((), None), (("watched",), 3)],  # racing thoughts are not counted
        [(("other",), 3), (("voices",), 2)],  # only one day counts
        [(("voices",), 3), ((), None), ((), None), (("voices",), 3)],  # outside the 3
    ],
)
def test_experiences_rule_edges_that_do_not_hold(
    days: list[tuple[tuple[str, ...], int | None]],
) -> None:
    assert "experiences" not in rules_of(experiences(*days))


def test_experiences_window_skips_check_ins_without_the_question() -> None:
    assert "experiences" in rules_of(experiences(VOICES_2, None, None, (("voices", "racing"), 2)))
    assert "experiences" in rules_of(experiences(VOICES_2, ((), None), WATCHED_3))
    assert "experiences" not in rules_of(
        experiences(VOICES_2, ((), None), WATCHED_3), experiences_distress=3
    )


# --- contact with people -----------------------------------------------------------------


def contact(*answers: int | None) -> list[DayRecord]:
    return [rec(len(answers) - 1 - i, contact=a) for i, a in enumerate(answers)]


def test_not_really_seeing_anyone_four_of_seven_holds_against_the_usual() -> None:
    before = contact(2, 1, 2, 0, 1)  # 5 usual days, one "not really"
    recent = [
        rec(n, contact=a) for n, a in zip(range(6, -1, -1), (1, 0, 2, 0, 0, 1, 0), strict=True)
    ]
    shifted = [DayRecord(r.day - timedelta(days=7), contact=r.contact) for r in before]
    hit = hit_of([*shifted, *recent], "withdrawal")
    assert hit.summary == {"count": 4, "of": 7, "usual": 1, "usual_of": 5}


def test_withdrawal_edges() -> None:
    assert "withdrawal" not in rules_of(contact(1, 0, 2, 0, 1, 1, 0)), "three of seven"
    assert "withdrawal" in rules_of(contact(0, 0, 0, 0)), "a new client: four of four"
    assert "withdrawal" not in rules_of(contact(0, 0, 0, 0, 1, 1, 1, 1)), "outside the seven"
    assert "withdrawal" not in rules_of(contact(1, 1, 1, 1, 1, 1, 1)), "a little is contact"


# --- stress -------------------------------------------------------------------------------


def test_a_lot_of_stress_three_of_five_holds() -> None:
    stress = [rec(4 - i, stress=a) for i, a in enumerate((3, 1, 3, 2, 3))]
    assert "stress" in rules_of(stress)
    assert "stress" not in rules_of(stress, stress_days=4)
    assert "stress" not in rules_of([rec(4 - i, stress=a) for i, a in enumerate((3, 2, 2, 2, 3))])
    assert "stress" in rules_of(
        [rec(4 - i, stress=a) for i, a in enumerate((3, 2, 2, 2, 3))], stress_high=2
    )


# --- silence ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 19), None),
        (date(2026, 11, 20), None),
        (date(2026, 11, 21), None),
        (date(2026, 11, 22), "nudge"),
        (date(2026, 11, 23), "flag"),
        (date(2026, 12, 30), "flag"),
    ],
)
def test_silence_counts_full_days_without_a_check_in(today: date, expected: str | None) -> None:
    assert silence(date(2026, 11, 19), today) == expected


def test_silence_does_not_flag_a_new_client_who_never_checked_in() -> None:
    onboarded = date(2026, 11, 19)
    assert silence(None, date(2026, 11, 20), since=onboarded) is None
    assert silence(None, date(2026, 11, 22), since=onboarded) == "nudge"
    assert silence(None, date(2026, 11, 23), since=onboarded) == "flag"
    assert silence(None, date(2026, 11, 23)) is None


def test_silence_measures_from_the_later_of_last_check_in_and_since() -> None:
    resumed = date(2026, 11, 20)  # e.g. the day a pause ended
    assert silence(date(2026, 11, 1), date(2026, 11, 22), since=resumed) is None
    assert silence(date(2026, 11, 21), date(2026, 11, 25), since=resumed) == "flag"


def test_silence_thresholds_are_configurable() -> None:
    rules = FlagRules(silence_nudge_days=1, silence_flag_days=5)
    assert silence(date(2026, 11, 19), date(2026, 11, 21), rules) == "nudge"
    assert silence(date(2026, 11, 19), date(2026, 11, 24), rules) == "nudge"
    assert silence(date(2026, 11, 19), date(2026, 11, 25), rules) == "flag"


def test_silence_hit_carries_the_last_check_in() -> None:
    assert silence_hit(date(2026, 11, 19), date(2026, 11, 22)) is None
    hit = silence_hit(date(2026, 11, 19), date(2026, 11, 23))
    assert hit is not None
    assert hit.rule == "silence"
    assert hit.summary == {"last_checkin": "2026-11-19", "days_without": 3}
    assert hit.evidence == ("last_checkin=2026-11-19", "2026-11-23 days_without_checkin=3")


# --- evaluate as a whole --------------------------------------------------------------------


def test_nothing_holds_without_check_ins() -> None:
    assert evaluate([], TODAY) == ()


def test_several_rules_come_back_in_rule_order() -> None:
    records = [
        *(rec(n, mood=5, sleep=0, medication="taken") for n in range(6, 2, -1)),
        rec(2, mood=1, sleep=-2, medication="not_taken", signs_yes=1),
        rec(1, mood=2, sleep=-2, medication="not_taken", signs_yes=1),
        rec(0, mood=1, sleep=-2, medication="not_taken", signs_yes=1),
    ]
    hits = evaluate(records, TODAY)
    assert [h.rule for h in hits] == [
        "low_mood",
        "mood_drop",
        "medication",
        "warning_signs",
        "sleep",
    ]
    everything = [
        rec(n, mood=3, sleep=2, medication="taken", side_effects=2, contact=0, stress=3)
        for n in range(6, 0, -1)
    ]
    today = rec(
        0,
        mood=5,
        sleep=-2,
        medication="not_prescribed",
        unusual=("voices", "racing"),
        distress=3,
        contact=0,
        stress=3,
    )
    hits = evaluate([*everything[:-1], rec(1, unusual=("watched",), distress=2), today], TODAY)
    assert [h.rule for h in hits] == [
        "stopped_medication",
        "side_effects",
        "mania",
        "oversleep",
        "experiences",
        "withdrawal",
        "stress",
    ]


def test_input_order_does_not_matter() -> None:
    records = [rec(2, mood=1, sleep=-2), rec(0, mood=1, sleep=-2), rec(1, mood=2, sleep=-2)]
    assert evaluate(records, TODAY) == evaluate(sorted(records, key=lambda r: r.day), TODAY)
    assert {h.rule for h in evaluate(records, TODAY)} == {"low_mood", "sleep"}


def test_records_after_today_are_ignored() -> None:
    records = [rec(2, mood=1), rec(1, mood=1), rec(0, mood=1)]
    future = [rec(-1, mood=5), rec(-2, mood=5, medication="not_taken")]
    hit = hit_of([*records, *future], "low_mood")
    assert hit.evidence[-1] == "2026-11-20 mood=1"
    # evaluated yesterday, today's check-in does not exist yet
    assert "low_mood" not in rules_of([*records, *future], today=day(1))


def test_two_check_ins_on_one_day_are_refused() -> None:
    with pytest.raises(ValueError, match="2026-11-20"):
        evaluate([rec(0, mood=1), rec(0, mood=5)], TODAY)


@pytest.mark.parametrize(
    "answers",
    [
        {"mood": 0},
        {"mood": 6},
        {"sleep": 3},
        {"medication": "yes"},
        {"signs_yes": -1},
        {"side_effects": 3},
        {"distress": 4},
        {"contact": -1},
        {"stress": True},
        {"unusual": ("voices", "ghosts")},
    ],
)
def test_impossible_answers_are_refused(answers: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="2026-11-20"):
        rec(0, **answers)


# --- episodes -----------------------------------------------------------------------------


def replay(daily: list[DayRecord]) -> list[tuple[date, str, str]]:
    """Evaluate after each day's check-in, as the shell does; return (day, raise|clear, rule)."""
    open_rules: set[str] = set()
    log: list[tuple[date, str, str]] = []
    for i, record in enumerate(daily):
        change = episodes(evaluate(daily[: i + 1], record.day), open_rules)
        for hit in change.raise_rules:
            open_rules.add(hit.rule)
            log.append((record.day, "raise", hit.rule))
        for rule in change.clear_rules:
            open_rules.discard(rule)
            log.append((record.day, "clear", rule))
    return log


def test_a_flag_is_raised_once_per_episode_and_cleared_when_it_ends() -> None:
    start = date(2026, 11, 1)
    moods = [4, 1, 2, 1, 1, 2, 4, 1, 1, 1]
    daily = [DayRecord(start + timedelta(days=i), mood=m) for i, m in enumerate(moods)]
    assert replay(daily) == [
        (date(2026, 11, 4), "raise", "low_mood"),
        (date(2026, 11, 7), "clear", "low_mood"),
        (date(2026, 11, 10), "raise", "low_mood"),
    ]


def test_episodes_keep_an_open_flag_without_raising_again() -> None:
    hit = FlagHit("sleep", ("2026-11-20 sleep=-2",), {"much_less": 3, "of": 5})
    change = episodes([hit], {"sleep"})
    assert change.raise_rules == ()
    assert change.clear_rules == ()


def test_a_check_in_ends_a_silence_episode() -> None:
    change = episodes(evaluate([rec(0, mood=4)], TODAY), {"silence", "sleep"})
    assert change.clear_rules == ("sleep", "silence")


def test_the_silence_tick_leaves_other_episodes_alone() -> None:
    flag = silence_hit(date(2026, 11, 16), TODAY)
    assert flag is not None
    change = episodes([flag], {"low_mood"}, scope={"silence"})
    assert change.raise_rules == (flag,)
    assert change.clear_rules == ()
    assert episodes([], {"low_mood", "silence"}, scope={"silence"}).clear_rules == ("silence",)


def test_episodes_refuse_unknown_rules() -> None:
    with pytest.raises(ValueError, match="low_mod"):
        episodes([], {"low_mod"})
    with pytest.raises(ValueError, match="sad"):
        FlagHit("sad", (), {})


# --- configuration ------------------------------------------------------------------------


def test_rules_from_mapping_override_defaults() -> None:
    rules = FlagRules.from_mapping({"low_mood_streak": 4, "mood_drop": 3})
    assert rules.low_mood_streak == 4
    assert rules.mood_drop == 3.0
    assert isinstance(rules.mood_drop, float)
    assert rules.meds_window == FlagRules().meds_window
    assert FlagRules.from_mapping({}) == FlagRules()


def test_unknown_setting_is_named_with_a_suggestion() -> None:
    with pytest.raises(ValueError, match=r"'low_mood_streek'.*'low_mood_streak'"):
        FlagRules.from_mapping({"low_mood_streek": 4})


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"low_mood_streak": "3"}, "low_mood_streak"),
        ({"low_mood_streak": 2.5}, "low_mood_streak"),
        ({"sleep_window": True}, "sleep_window"),
        ({"mood_drop": "2"}, "mood_drop"),
        ({"mood_drop": float("nan")}, "mood_drop"),
        ({"low_mood_max": 5}, "low_mood_max"),
        ({"low_mood_max": 0}, "low_mood_max"),
        ({"mood_drop": 0}, "mood_drop"),
        ({"mood_drop": 4.5}, "mood_drop"),
        ({"low_mood_streak": 0}, "low_mood_streak"),
        ({"sign_streak": -1}, "sign_streak"),
        ({"meds_missed": 6}, "meds_missed"),
        ({"sleep_much_less": 4, "sleep_window": 3}, "sleep_much_less"),
        ({"baseline_min_checkins": 15}, "baseline_min_checkins"),
        ({"silence_nudge_days": 4}, "silence_nudge_days"),
        ({"meds_partly": 1.5}, "meds_partly"),
        ({"meds_partly": "half"}, "meds_partly"),
        ({"mania_mood": 3}, "mania_mood"),
        ({"experiences_distress": 0}, "experiences_distress"),
        ({"experiences_days": 4}, "experiences_days"),
        ({"withdrawal_days": 8}, "withdrawal_days"),
        ({"stress_high": 4}, "stress_high"),
        ({"sleep_short_run": 0}, "sleep_short_run"),
        ({"stopped_days": 0}, "stopped_days"),
    ],
)
def test_bad_settings_are_refused_naming_the_key(data: dict[str, object], key: str) -> None:
    with pytest.raises(ValueError, match=key):
        FlagRules.from_mapping(data)


# --- properties ---------------------------------------------------------------------------

offsets = st.sets(st.integers(min_value=0, max_value=40), max_size=30)


@st.composite
def steady_person(draw: st.DrawFn) -> list[DayRecord]:
    """Check-ins of someone doing as usual: mood within one step, sleep not much less..."""
    low = draw(st.integers(min_value=3, max_value=4))
    # Someone takes medication, or does not have any: stopping is a change, not a steady state.
    medication = draw(st.sampled_from([["taken"], ["not_prescribed"]]))
    return [
        rec(
            n,
            mood=draw(st.none() | st.integers(min_value=low, max_value=low + 1)),
            sleep=draw(st.none() | st.integers(min_value=-1, max_value=1)),
            medication=draw(st.sampled_from([None, *medication])),
            signs_yes=draw(st.sampled_from([None, 0])),
            side_effects=draw(st.none() | st.integers(min_value=0, max_value=1)),
            unusual=draw(st.sampled_from([None, (), ("other",)])),
            distress=draw(st.none() | st.integers(min_value=0, max_value=1)),
            contact=draw(st.none() | st.integers(min_value=1, max_value=2)),
            stress=draw(st.none() | st.integers(min_value=0, max_value=2)),
        )
        for n in draw(offsets)
    ]


@st.composite
def anyone(draw: st.DrawFn) -> list[DayRecord]:
    return [
        rec(
            n,
            mood=draw(st.none() | st.integers(min_value=1, max_value=5)),
            sleep=draw(st.none() | st.integers(min_value=-2, max_value=2)),
            medication=draw(st.sampled_from([None, *MEDICATION_ANSWERS])),
            signs_yes=draw(st.none() | st.integers(min_value=0, max_value=3)),
            side_effects=draw(st.none() | st.integers(min_value=0, max_value=2)),
            unusual=draw(st.none() | st.lists(st.sampled_from(UNUSUAL_ANSWERS), unique=True)),
            distress=draw(st.none() | st.integers(min_value=0, max_value=3)),
            contact=draw(st.none() | st.integers(min_value=0, max_value=2)),
            stress=draw(st.none() | st.integers(min_value=0, max_value=3)),
        )
        for n in draw(offsets)
    ]


@given(steady_person())
def test_a_person_doing_as_usual_never_raises_a_flag(records: list[DayRecord]) -> None:
    assert evaluate(records, TODAY) == ()


@given(anyone(), st.randoms(use_true_random=False))
def test_evaluate_does_not_depend_on_input_order(records: list[DayRecord], rnd: object) -> None:
    shuffled = list(records)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert evaluate(shuffled, TODAY) == evaluate(records, TODAY)


@given(anyone(), st.integers(min_value=0, max_value=40))
def test_only_check_ins_up_to_today_count(records: list[DayRecord], back: int) -> None:
    today = day(back)
    assert evaluate(records, today) == evaluate([r for r in records if r.day <= today], today)


@given(anyone())
def test_every_hit_names_a_known_rule_and_dated_evidence(records: list[DayRecord]) -> None:
    for hit in evaluate(records, TODAY):
        assert hit.rule in RULE_NAMES
        assert hit.evidence
        assert all(line[:4].isdigit() for line in hit.evidence)


WORSE = {"taken": "partly", "partly": "not_taken"}


@given(anyone(), st.data())
def test_a_worse_medication_answer_never_clears_the_medication_flag(
    records: list[DayRecord], data: st.DataObject
) -> None:
    """Partly counts half a missed dose: moving one answer from taken to partly, or partly to
    not taken, can raise the flag but never lowers it."""
    before = "medication" in {h.rule for h in evaluate(records, TODAY)}
    changeable = [i for i, r in enumerate(records) if r.medication in WORSE]
    if not changeable:
        return
    i = data.draw(st.sampled_from(changeable))
    worse = list(records)
    worse[i] = replace(records[i], medication=WORSE[str(records[i].medication)])
    after = "medication" in {h.rule for h in evaluate(worse, TODAY)}
    assert after or not before
