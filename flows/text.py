"""User-visible text, named by message id. Rendering into a language happens in the shell."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TypeAlias


def N_(message_id: str) -> str:
    """Mark a message id for Babel extraction; returns it unchanged."""
    return message_id


@dataclass(frozen=True, slots=True)
class Raw:
    """Text that is the same in every language (a time, a language's own name)."""

    text: str


@dataclass(frozen=True, slots=True)
class Msg:
    """A message id plus its parameters; parameters may themselves be messages."""

    id: str
    params: tuple[tuple[str, Param], ...] = ()


@dataclass(frozen=True, slots=True)
class Lines:
    """Several texts shown one per line in a single message."""

    parts: tuple[Msg | Raw, ...]


# Times and datetimes are formatted by the shell with Babel, in the reader's locale and zone.
Param: TypeAlias = "str | int | date | time | datetime | timedelta | Msg | Raw | Lines"
Text: TypeAlias = "Msg | Raw | Lines"


def msg(message_id: str, **params: Param) -> Msg:
    return Msg(message_id, tuple(sorted(params.items())))
