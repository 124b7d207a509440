"""Wording rules a native reader checked that a test can hold: the chart speaks the check-in's
words, one word for following a case, no roll-call, and a bot that never claims to understand."""

from __future__ import annotations

import re

import pytest

from bot.i18n import LOCALES_DIR, load_catalog
from flows.text import LOCALES

CATALOGS = {locale: load_catalog(LOCALES_DIR / locale / "LC_MESSAGES") for locale in LOCALES}


def _text(locale: str, message_id: str) -> str:
    return str(CATALOGS[locale][message_id].string)


def _without_emoji(label: str) -> str:
    """A button's words without the emoji in front (the chart has no room for them)."""
    return re.sub(r"^[^\w]+", "", label).strip()


@pytest.mark.parametrize("locale", LOCALES)
def test_the_chart_names_moods_as_the_check_in_buttons_do(locale: str) -> None:
    for level in range(1, 6):
        chart = _text(locale, f"chart.mood.{level}")
        button = _without_emoji(_text(locale, f"checkin.mood.{level}"))
        assert chart == button, (locale, level, chart, button)


@pytest.mark.parametrize("locale", LOCALES)
def test_the_chart_names_medication_as_the_check_in_buttons_do(locale: str) -> None:
    """ "Some of it" is the same words; "I don't take any" is not "none prescribed" (a client
    who stopped taking it was prescribed it): the chart drops the "I" and "today" only."""
    assert _text(locale, "chart.medication.partly") == _text(locale, "checkin.medication.partly")
    stopped = _text(locale, "chart.medication.not_prescribed")
    assert "prescribed" not in stopped
    button = _text(locale, "checkin.medication.not_prescribed")
    if locale != "en":
        assert button.endswith(stopped), (button, stopped)


def test_zh_hant_follows_a_case_with_one_word() -> None:
    """跟進, everywhere a worker follows a case; never 追蹤 (which reads as tracking a person)."""
    found = [m.id for m in CATALOGS["zh_Hant"] if m.id and "追蹤" in str(m.string)]
    assert found == []


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant"])
def test_the_check_in_is_never_a_roll_call(locale: str) -> None:
    """签到/簽到 is a roll-call: the daily check-in is 每日问候/每日問候. Only a peer activity's
    attendance sheet (签到表) is a roll-call, and says so."""
    found = [
        m.id
        for m in CATALOGS[locale]
        if m.id
        and re.search(r"[签簽]到", str(m.string))
        and not re.search(r"[签簽]到表", str(m.string))
    ]
    assert found == []


_ZH_CLAIM = re.compile(r"我(?:很|能|完全|非常|真的)(?:理解|明白|懂)|我(?:理解|明白|懂)你")
CLAIMS = {
    "en": re.compile(r"\bI (?:really |completely |totally )?(?:understand|know how you feel)\b"),
    "zh_Hans": _ZH_CLAIM,
    "zh_Hant": _ZH_CLAIM,
}


def test_the_claim_patterns_find_what_the_issue_found() -> None:
    assert CLAIMS["zh_Hans"].search("听到你在担心，我很理解")
    assert CLAIMS["zh_Hant"].search("我明白你的感受")
    assert CLAIMS["en"].search("I understand how hard this is")
    # A client's own words in a questionnaire are not the bot's claim.
    assert not CLAIMS["zh_Hans"].search("我觉得这位同伴支持员理解我、尊重我。")
    assert not CLAIMS["en"].search("I feel my peer worker understands and respects me.")


@pytest.mark.parametrize("locale", LOCALES)
def test_the_bot_never_claims_to_understand(locale: str) -> None:
    """A bot saying "I understand" claims a feeling it cannot have ("我很理解")."""
    found = [m.id for m in CATALOGS[locale] if m.id and CLAIMS[locale].search(str(m.string))]
    assert found == []
