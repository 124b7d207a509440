"""Every message the code uses exists in all three locales, with the same placeholders."""

from __future__ import annotations

import string
from datetime import datetime, time
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog

from bot.catalog_ids import used_message_ids
from bot.i18n import LOCALES_DIR, Translator, load_catalog, locale_for_language_code
from flows.text import LOCALES, msg


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


CATALOGS = {locale: load_catalog(LOCALES_DIR / locale / "LC_MESSAGES") for locale in LOCALES}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_used_message_is_translated(locale: str) -> None:
    catalog = CATALOGS[locale]
    missing = sorted(i for i in used_message_ids() if i not in catalog or not catalog[i].string)
    assert not missing, f"{locale} lacks {len(missing)} messages: {missing[:20]}"
    fuzzy = sorted(m.id for m in catalog if m.id and m.fuzzy)
    assert not fuzzy, f"{locale} has fuzzy (unreviewed) messages: {fuzzy[:20]}"


@pytest.mark.parametrize("locale", ["zh_Hans", "zh_Hant"])
def test_placeholders_match_english(locale: str) -> None:
    english = CATALOGS["en"]
    wrong = []
    for message in CATALOGS[locale]:
        if not message.id or message.id not in english:
            continue
        if _placeholders(str(message.string)) != _placeholders(str(english[message.id].string)):
            wrong.append(message.id)
    assert not wrong, f"{locale}: placeholders differ from English in {wrong}"


def test_catalogs_hold_no_stray_ids() -> None:
    used = used_message_ids()
    for locale in LOCALES:
        stray = sorted(m.id for m in CATALOGS[locale] if m.id and m.id not in used)
        assert not stray, f"{locale} has messages no code uses: {stray[:20]}"


def _has_words(text: str) -> bool:
    """Text beyond placeholders, numbers and punctuation (which may be the same everywhere)."""
    import re

    return bool(re.search(r"[A-Za-z]{3,}", re.sub(r"\{\w+\}", "", text)))


def test_chinese_is_not_english(tmp_path: Path) -> None:
    """A translation identical to English (outside names and codes) was not translated."""
    english = CATALOGS["en"]
    for locale in ("zh_Hans", "zh_Hant"):
        same = [
            m.id
            for m in CATALOGS[locale]
            if m.id and m.string == english[m.id].string and _has_words(str(m.string))
        ]
        assert not same, f"{locale} copies English in {same}"


@pytest.mark.parametrize(
    ("code", "locale"),
    [
        ("zh-TW", "zh_Hant"),
        ("zh-HK", "zh_Hant"),
        ("zh-MO", "zh_Hant"),
        ("zh-hant", "zh_Hant"),
        ("zh", "zh_Hans"),
        ("zh-CN", "zh_Hans"),
        ("zh-SG", "zh_Hans"),
        ("zh-hans", "zh_Hans"),
        ("en", "en"),
        ("en-GB", "en"),
        ("de", "en"),
        (None, "en"),
        ("", "en"),
    ],
)
def test_locale_from_telegram_language_code(code: str | None, locale: str) -> None:
    assert locale_for_language_code(code) == locale


def test_times_are_formatted_for_the_reader() -> None:
    translator = Translator()
    saved = msg("settings.saved.checkin_time", time=time(20, 0))
    assert "8:00" in translator.render(saved, "en") and "PM" in translator.render(saved, "en")
    assert "20:00" in translator.render(saved, "zh_Hans")
    moment = datetime(2026, 3, 8, 12, 0, tzinfo=ZoneInfo("UTC"))
    rendered = translator._param(moment, "en", "America/New_York")
    assert "8:00" in rendered, "UTC noon is 8 AM in New York after the DST change"


def test_a_catalog_being_compiled_is_never_seen_half_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes starting together (two test or bot workers) compile the catalogs at the
    same moment: while one writes, the other must find no file or a whole one, never the
    empty file it would read as a broken catalog."""
    import shutil

    from bot import i18n

    for locale in LOCALES:
        folder = tmp_path / locale / "LC_MESSAGES"
        folder.mkdir(parents=True)
        for source in (LOCALES_DIR / locale / "LC_MESSAGES").glob("*.po"):
            shutil.copy(source, folder)
    seen_while_writing: list[int] = []
    write_mo = i18n.write_mo

    def watched(out: BinaryIO, catalog: Catalog) -> None:
        target = Path(out.name).parent / f"{i18n.DOMAIN}.mo"
        seen_while_writing.append(target.stat().st_size if target.exists() else -1)
        write_mo(out, catalog)

    monkeypatch.setattr(i18n, "write_mo", watched)
    i18n.compile_catalogs(tmp_path)
    assert seen_while_writing == [-1, -1, -1]
    assert all(
        (tmp_path / loc / "LC_MESSAGES" / f"{i18n.DOMAIN}.mo").stat().st_size for loc in LOCALES
    )
    assert not list(tmp_path.glob("*/LC_MESSAGES/*.tmp"))
