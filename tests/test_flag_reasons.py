"""What a flag says to the peer worker: every rule's sentence, in each language, with what was
usual for the person before."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from bot.i18n import Translator
from flows.flag_reasons import describe
from flows.flags import RULE_NAMES, DayRecord, FlagHit, evaluate, silence_hit

TODAY = date(2026, 11, 20)


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator()


def said(translator: Translator, hit: FlagHit, locale: str = "en") -> str:
    text = describe(hit.rule, hit.summary)
    assert text is not None
    return translator.render(text, locale)


def days(*answers: dict[str, Any]) -> list[DayRecord]:
    """One record a day, the last one today."""
    return [
        DayRecord(TODAY - timedelta(days=len(answers) - 1 - i), **a) for i, a in enumerate(answers)
    ]


def hit(records: list[DayRecord], rule: str) -> FlagHit:
    return next(h for h in evaluate(records, TODAY) if h.rule == rule)


USUAL = [{"contact": 2, "mood": 4, "sleep": 0}] * 6


def test_withdrawal_says_what_changed_against_the_persons_usual(translator: Translator) -> None:
    records = days(*USUAL, *[{"contact": 0}] * 4)
    assert said(translator, hit(records, "withdrawal")) == (
        "hardly any time with other people on 4 of the last 7 check-ins; "
        "before that: 0 of 3 check-ins"
    )
    assert said(translator, hit(records, "withdrawal"), "zh_Hans") == (
        "最近 7 次里有 4 次基本没和别人来往；在这之前：3 次里有 0 次"
    )


def test_a_new_client_has_nothing_to_compare_with(translator: Translator) -> None:
    records = days(*[{"sleep": -2}] * 2)
    assert said(translator, hit(records, "sleep")) == (
        "much less sleep than usual 2 nights running; no earlier check-ins to compare with"
    )
    assert said(translator, hit(records, "sleep"), "zh_Hant") == (
        "連續 2 晚比平常睡得少很多；之前沒有紀錄可以比較"
    )


def test_the_mood_rules_name_the_usual_mood(translator: Translator) -> None:
    records = days(*USUAL, {"mood": 2}, {"mood": 2}, {"mood": 1})
    assert said(translator, hit(records, "low_mood")) == (
        "mood low on 3 check-ins in a row since Wed, Nov 18; their usual mood before: 4.0 of 5"
    )
    assert said(translator, hit(records, "mood_drop")) == (
        "mood 1 of 5 today; it averaged 3.5 over the 8 check-ins before"
    )


def test_mania_stopping_and_silence_read_plainly(translator: Translator) -> None:
    mania = days(*USUAL, {"mood": 5, "sleep": -2, "unusual": ("racing",)})
    assert said(translator, hit(mania, "mania")) == (
        "today all at once: much less sleep, the best mood on the scale and racing thoughts "
        "(this can come before a high); before that, much less sleep on 0 of 6 check-ins"
    )
    # The count before is of much-less-sleep nights, not of the three together: said so.
    assert said(translator, hit(mania, "mania"), "zh_Hant").endswith(
        "；在這之前：6 次裡有 0 次睡得少很多"
    )
    stopped = days({"medication": "taken"}, {"medication": "not_prescribed"})
    assert said(translator, hit(stopped, "stopped_medication"), "zh_Hans") == (
        "现在回答“我不用吃药”，而11月19日周四还在吃药"
    )
    quiet = silence_hit(date(2026, 11, 15), TODAY)
    assert quiet is not None
    assert said(translator, quiet) == "no check-in for 4 days; the last one was on Sun, Nov 15"


RICH = days(
    *[
        {
            "mood": 5,
            "sleep": 2,
            "medication": "not_taken",
            "side_effects": 2,
            "unusual": ("voices",),
            "distress": 3,
            "contact": 0,
            "stress": 3,
            "signs_yes": 2,
        }
    ]
    * 6,
    {"mood": 1, "sleep": -2, "medication": "not_taken", "signs_yes": 2},
)


@pytest.mark.parametrize("locale", ["en", "zh_Hans", "zh_Hant"])
def test_every_rule_has_a_sentence_in_every_language(translator: Translator, locale: str) -> None:
    found = {h.rule: h for h in evaluate(RICH, TODAY)}
    found["stopped_medication"] = hit(
        days({"medication": "taken"}, {"medication": "not_prescribed"}), "stopped_medication"
    )
    found["low_mood"] = hit(days(*[{"mood": 1}] * 3), "low_mood")
    found["sleep"] = hit(days(*[{"sleep": -2}] * 3), "sleep")
    found["mania"] = hit(days({"mood": 5, "sleep": -2, "unusual": ("racing",)}), "mania")
    quiet = silence_hit(None, TODAY, since=date(2026, 11, 1))
    assert quiet is not None
    found["silence"] = quiet
    assert set(found) == set(RULE_NAMES)
    for rule, flag in found.items():
        text = said(translator, flag, locale)
        assert "{" not in text and "None" not in text, (rule, text)


def test_a_summary_this_version_cannot_read_shows_the_evidence_instead() -> None:
    assert describe("sleep", {}) is None
    assert describe("low_mood", {"streak": "three"}) is None
