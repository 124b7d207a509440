"""Reading a message together with what the same person said just before it.

People split one thought across messages ("i want to" / "die", "我不想" / "活了"). A
message that is not crisis on its own is read again joined, by a line break, to the
person's previous screened messages still in the window (at most ``EARLIER_MESSAGES`` of
them, and only the last ``EARLIER_CHARACTERS`` of their text). If that reading is crisis,
the message is handled as crisis, found by the "context" layer.

Only crisis is raised this way: a joined concern leaves the message at its own level (the
measured reasons are in docs/risk-lexicon.md, "Context across messages"). After a crisis,
what came before is forgotten, so one crisis is not found again in every message after it.

The bot (bot/telegram/dispatch.py) and the measurement on multi-message sequences
(bot/safety/risk_corpus.py) both use these functions, so they measure the rule that runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from flows.risk.assessment import Assessment, assess
from flows.risk.levels import Level
from flows.risk.lexicon import Lexicon
from flows.risk.model import NgramModel

EARLIER_MESSAGES = 2
EARLIER_CHARACTERS = 1000
LAYER = "context"


def joined(earlier: Sequence[str], text: str) -> str:
    """The message after the last ``EARLIER_MESSAGES`` earlier ones, a line break between
    each, the earlier text cut to its last ``EARLIER_CHARACTERS`` characters."""
    before = "\n".join(earlier[-EARLIER_MESSAGES:])[-EARLIER_CHARACTERS:]
    return f"{before}\n{text}" if before else text


def in_context(
    alone: Assessment,
    earlier: Sequence[str],
    text: str,
    lexicon: Lexicon | None = None,
    model: NgramModel | bool | None = True,
    concern: bool = False,
) -> Assessment:
    """The level a message is handled at: its own (``alone``), or crisis found by the
    "context" layer when it is below crisis and, joined with ``earlier``, reads as crisis.
    ``concern`` (only to measure the rule not chosen): a joined concern raises a message
    found none to concern."""
    if alone.level is Level.CRISIS or not earlier:
        return alone
    together = assess(joined(earlier, text), lexicon, model)
    if together.level is Level.CRISIS:
        return replace(together, layers=(LAYER,))
    if concern and together.level is Level.CONCERN and alone.level is Level.NONE:
        return replace(together, layers=(LAYER,))
    return alone


def kept(earlier: Sequence[str], text: str, level: Level) -> list[str]:
    """What is kept for reading the next message: this one and the one before it, each cut
    to ``EARLIER_CHARACTERS``; nothing after a crisis."""
    if level is Level.CRISIS:
        return []
    return [*earlier, text[-EARLIER_CHARACTERS:]][-EARLIER_MESSAGES:]


def recent(
    said: Sequence[tuple[datetime, str]], now: datetime, window: timedelta
) -> list[tuple[datetime, str]]:
    """The earlier messages (when, what) said within ``window`` before ``now``."""
    return [(at, text) for at, text in said if now - at <= window]
