"""Locales and rendering: the one place that turns a message id into text in a language."""

from __future__ import annotations

import gettext
import logging
import os
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime, format_skeleton, format_time, format_timedelta
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from bot.config import PROJECT_ROOT
from flows.text import LOCALES, N_, Lines, Localised, Msg, Param, Raw, Text, ZonedTime

log = logging.getLogger(__name__)

# A time on another clock than the reader's ("12/5/26, 2:00 PM Asia/Shanghai time").
ZONED = N_("time.zoned")

LOCALES_DIR = PROJECT_ROOT / "locales"
DOMAIN = "messages"

_HANT_REGIONS = ("tw", "hk", "mo")


def locale_for_language_code(code: str | None, missing: str = "en") -> str:
    """Telegram's ``language_code`` on first contact → one of our locales (``missing`` when absent)."""
    if not code:
        return missing
    parts = code.replace("_", "-").lower().split("-")
    if parts[0] != "zh":
        return "en"
    if "hant" in parts or any(region in parts for region in _HANT_REGIONS):
        return "zh_Hant"
    return "zh_Hans"


# A language code's region subtag → the crisis lines' region. Where the numbers differ, the
# region decides, not the script: zh-SG is Singapore (not mainland China), zh-MO is Macau
# (not Hong Kong).
_REGION_OF_SUBTAG = {
    "cn": "CN",
    "hk": "HK",
    "mo": "MO",
    "tw": "TW",
    "sg": "SG",
    "my": "MY",
    "us": "US",
    "ca": "CA",
    "gb": "GB",
    "ie": "IE",
    "au": "AU",
    "nz": "NZ",
}
# A language without a region subtag that is spoken in one region on our list.
_REGION_OF_LANGUAGE = {"ms": "MY"}


def region_for_language_code(code: str | None) -> str | None:
    """A first guess at the region for crisis numbers; the person confirms it at onboarding.

    ``zh`` and ``zh-hans`` alone mean mainland China; ``zh-hant`` alone says the script, not
    the place (Taiwan, Hong Kong or Macau), so it is not a guess at all.
    """
    if not code:
        return None
    parts = code.replace("_", "-").lower().split("-")
    for part in parts[1:]:
        if part in _REGION_OF_SUBTAG:
            return _REGION_OF_SUBTAG[part]
    if parts[0] == "zh":
        return None if "hant" in parts else "CN"
    return _REGION_OF_LANGUAGE.get(parts[0])


def compile_catalogs(locales_dir: Path = LOCALES_DIR) -> None:
    """Merge every ``.po`` of a locale into ``messages.mo`` when any source is newer.

    Each feature keeps its own ``.po`` file (``messages.po``, ``lessons.po`` ...); they share
    one id space, and duplicate ids are an error.
    """
    for locale in LOCALES:
        folder = locales_dir / locale / "LC_MESSAGES"
        sources = sorted(folder.glob("*.po"))
        target = folder / f"{DOMAIN}.mo"
        if not sources:
            raise FileNotFoundError(f"no .po files for locale {locale} in {folder}")
        newest = max(source.stat().st_mtime for source in sources)
        if target.exists() and target.stat().st_mtime >= newest:
            continue
        merged = load_catalog(folder)
        # Written beside it, then renamed over it: another process starting at the same
        # moment (two test workers, two bot workers) reads the old file or the new one,
        # never a half-written one.
        partial = folder / f"{DOMAIN}.{os.getpid()}.mo.tmp"
        with open(partial, "wb") as out:
            write_mo(out, merged)
        os.replace(partial, target)


def load_catalog(folder: Path) -> Catalog:
    """All ``.po`` files of one locale as one catalog."""
    merged: Catalog | None = None
    for source in sorted(folder.glob("*.po")):
        with open(source, "rb") as handle:
            catalog = read_po(handle)
        if merged is None:
            merged = catalog
            continue
        for message in catalog:
            if not message.id:
                continue
            if message.id in merged:
                raise ValueError(f"{source}: message id {message.id!r} is defined twice")
            merged[message.id] = message
    assert merged is not None
    return merged


class Translator:
    """Renders texts into one of the three locales, with Babel formatting for times."""

    def __init__(self, locales_dir: Path = LOCALES_DIR) -> None:
        compile_catalogs(locales_dir)
        self._catalogs = {
            locale: gettext.translation(DOMAIN, locales_dir, languages=[locale])
            for locale in LOCALES
        }
        self._babel = {locale: Locale.parse(locale) for locale in LOCALES}

    def text(self, locale: str, message_id: str) -> str:
        catalog = self._catalogs.get(locale) or self._catalogs["en"]
        return catalog.gettext(message_id)

    def render(self, text: Text, locale: str, zone: str = "UTC") -> str:
        if isinstance(text, Raw):
            return text.text
        if isinstance(text, Localised):
            return text.get(locale)
        if isinstance(text, Lines):
            return text.sep.join(self.render(part, locale, zone) for part in text.parts)
        return self._render_msg(text, locale, zone)

    def _render_msg(self, message: Msg, locale: str, zone: str) -> str:
        template = self.text(locale, message.id)
        if not message.params:
            return template
        values = {name: self._param(value, locale, zone) for name, value in message.params}
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):
            # A broken translation must not silence the bot; the completeness test catches it.
            log.error("placeholder mismatch in message %s for %s", message.id, locale)
            return self.text("en", message.id).format(**values)

    def _param(self, value: Param, locale: str, zone: str) -> str:
        if isinstance(value, Msg | Raw | Lines | Localised):
            return self.render(value, locale, zone)
        if isinstance(value, ZonedTime):
            clock = ZoneInfo(value.zone)
            shown = format_datetime(value.at, "short", tzinfo=clock, locale=self._babel[locale])
            if (
                value.at.astimezone(clock).utcoffset()
                == value.at.astimezone(ZoneInfo(zone)).utcoffset()
            ):
                return shown  # the reader's own clock reads the same
            return self.text(locale, ZONED).format(time=shown, zone=value.zone)
        if isinstance(value, datetime):
            return format_datetime(
                value, "short", tzinfo=ZoneInfo(zone), locale=self._babel[locale]
            )
        if isinstance(value, date):
            return str(format_skeleton("MMMEd", value, locale=self._babel[locale]))
        if isinstance(value, time):
            return format_time(value, "short", locale=self._babel[locale])
        if isinstance(value, timedelta):
            return str(format_timedelta(value, threshold=1.1, locale=self._babel[locale]))
        return str(value)
