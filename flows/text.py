"""User-visible text, named by message id. Rendering into a language happens in the shell."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeAlias

# The languages the bot speaks, and each one's name as its readers write it.
LOCALES = ("en", "zh_Hans", "zh_Hant")
LANGUAGE_NAMES = {"en": "English", "zh_Hans": "简体中文", "zh_Hant": "繁體中文"}


def N_(message_id: str) -> str:
    """Mark a message id for Babel extraction; returns it unchanged."""
    return message_id


@dataclass(frozen=True, slots=True)
class Raw:
    """Text that is the same in every language (a time, a language's own name)."""

    text: str


@dataclass(frozen=True, slots=True)
class Localised:
    """Text written in each locale as data, not in the catalogs (a crisis line's name from the
    lines table a program edits). The reader's locale is chosen when rendering; English when
    the data lacks it."""

    texts: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, texts: Mapping[str, str]) -> Localised:
        return cls(tuple(sorted(texts.items())))

    def get(self, locale: str) -> str:
        by_locale = dict(self.texts)
        return by_locale.get(locale) or by_locale.get("en", "")


@dataclass(frozen=True, slots=True)
class Msg:
    """A message id plus its parameters; parameters may themselves be messages."""

    id: str
    params: tuple[tuple[str, Param], ...] = ()


@dataclass(frozen=True, slots=True)
class Lines:
    """Several texts shown one per line in a single message (or joined by ``sep`` on one
    line: a day's answers, "sleep: Less · contact: A little")."""

    parts: tuple[Msg | Raw | Localised, ...]
    sep: str = "\n"


@dataclass(frozen=True, slots=True)
class ZonedTime:
    """A moment shown on a given clock rather than the reader's: the program's, to staff who
    typed it there. Labelled with the zone when the reader's own clock reads differently."""

    at: datetime
    zone: str


# Times and datetimes are formatted by the shell with Babel, in the reader's locale and zone.
Param: TypeAlias = (
    "str | int | date | time | datetime | timedelta | ZonedTime | Msg | Raw | Lines | Localised"
)
Text: TypeAlias = "Msg | Raw | Lines | Localised"


def msg(message_id: str, **params: Param) -> Msg:
    return Msg(message_id, tuple(sorted(params.items())))
