"""/history lists the last seven days, but never days before the person joined."""

from __future__ import annotations

from datetime import date

import pytest

from bot.i18n import Translator
from flows.history import history

TODAY = date(2026, 11, 22)  # a Sunday
GOOD_DAY = {"day": "2026-11-21", "mood": 4, "complete": True}


@pytest.fixture(scope="module")
def translator() -> Translator:
    return Translator()


def test_someone_who_joined_long_ago_sees_seven_days(translator: Translator) -> None:
    text = translator.render(history([GOOD_DAY], TODAY, date(2026, 1, 5)), "en")
    assert text.splitlines() == [
        "Your last 7 days:",
        "Mon, Nov 16: no check-in",
        "Tue, Nov 17: no check-in",
        "Wed, Nov 18: no check-in",
        "Thu, Nov 19: no check-in",
        "Fri, Nov 20: no check-in",
        "Sat, Nov 21: 🙂 Good",
        "Sun, Nov 22: no check-in",
        "Every day is different — this is just to help you see how things are going.",
    ]


def test_days_before_joining_are_not_shown_as_missed(translator: Translator) -> None:
    text = translator.render(history([GOOD_DAY], TODAY, date(2026, 11, 21)), "en")
    assert text.splitlines() == [
        "Your days since you joined:",
        "Sat, Nov 21: 🙂 Good",
        "Sun, Nov 22: no check-in",
        "Every day is different — this is just to help you see how things are going.",
    ]


@pytest.mark.parametrize(
    ("locale", "title"),
    [
        ("en", "Your days since you joined:"),
        ("zh_Hans", "你加入以来每天的情况："),
        ("zh_Hant", "你加入以來每天的狀況："),
    ],
)
def test_joined_today_shows_only_today(translator: Translator, locale: str, title: str) -> None:
    lines = translator.render(history([], TODAY, TODAY), locale).splitlines()
    assert lines[0] == title and len(lines) == 3  # the title, today, the footer


def test_joined_exactly_seven_days_ago_keeps_the_usual_title(translator: Translator) -> None:
    lines = translator.render(history([], TODAY, date(2026, 11, 16)), "en").splitlines()
    assert lines[0] == "Your last 7 days:" and len(lines) == 9
