"""/history: the last seven days at a glance, one line a day, in the client's language.

:func:`day_answers` is the one compact form of a day's check-in: the client reads it in
/history, the peer worker on the context card, each in their own language, in the words of
the check-in's own buttons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from flows.checkin import SCALES, UNUSUAL
from flows.facts import Fact, Need
from flows.flags import DayRecord
from flows.roles import Role
from flows.text import N_, Lines, Msg, Raw, msg

NEEDS = (
    Need(Fact.HISTORY, commands={"history"}, roles={Role.CLIENT}),
    Need(Fact.TODAY, commands={"history"}, roles={Role.CLIENT}),
    Need(Fact.JOINED, commands={"history"}, roles={Role.CLIENT}),
)

DAYS = 7
ANSWERS = (
    "mood",
    "sleep",
    "medication",
    "side_effects",
    "unusual",
    "distress",
    "contact",
    "stress",
    "signs_yes",
)
# How each answer is introduced on the line; mood needs no word (its button says it).
_PARTS = {
    "sleep": N_("day.sleep"),
    "medication": N_("day.medication"),
    "side_effects": N_("day.side_effects"),
    "contact": N_("day.contact"),
    "stress": N_("day.stress"),
}


def record_answers(record: DayRecord) -> dict[str, Any]:
    """A day record as the answers :func:`day_answers` reads."""
    return {name: getattr(record, name) for name in ANSWERS}


def day_answers(answers: Mapping[str, Any]) -> Lines:
    """Every answer of one day on one line, in check-in order; unanswered ones left out."""
    parts: list[Msg | Raw] = []
    for name in ANSWERS:
        value = answers.get(name)
        if value is None or name == "distress":
            continue
        if name == "mood":
            parts.append(SCALES["mood"].label(value))
        elif name == "unusual":
            parts += _unusual(value, answers.get("distress"))
        elif name == "signs_yes":
            parts.append(msg(N_("day.signs"), count=int(value)))
        else:
            parts.append(msg(_PARTS[name], answer=SCALES[name].label(value)))
    if not parts:
        parts.append(Raw("—"))
    return Lines(tuple(parts), sep=" · ")


def _unusual(chosen: Sequence[str], distress: int | None) -> list[Msg]:
    """The experiences ticked, with how upsetting they were when that was answered."""
    if not chosen:
        return [Msg(N_("day.unusual.none"))]
    named = [Msg(UNUSUAL[key]) for key in chosen if key in UNUSUAL]
    if distress is None or not named:
        return named
    listed = named[0]
    for more in named[1:]:  # "a, b" in English, "a、b" in Chinese
        listed = msg(N_("day.list"), first=listed, then=more)
    return [msg(N_("day.unusual"), experiences=listed, distress=SCALES["distress"].label(distress))]


def history(records: Sequence[Mapping[str, Any]], today: date, joined: date | None) -> Lines:
    """``records``: dicts with ``day`` (ISO), the answers named in ``ANSWERS`` and ``complete``.
    Days before ``joined`` are left out: nobody could have checked in then."""
    by_day = {str(r["day"]): r for r in records}
    first = today - timedelta(days=DAYS - 1)
    if joined is not None and joined > first:
        first = min(joined, today)
        lines: list[Msg | Raw] = [Msg(N_("history.title_since"))]
    else:
        lines = [Msg(N_("history.title"))]
    for offset in range((today - first).days, -1, -1):
        day = today - timedelta(days=offset)
        record = by_day.get(day.isoformat())
        if record is None:
            lines.append(msg(N_("history.missing"), day=day))
            continue
        line_id = N_("history.line") if record.get("complete") else N_("history.line_partial")
        lines.append(msg(line_id, day=day, answers=day_answers(record)))
    lines.append(Msg(N_("history.footer")))
    return Lines(tuple(lines))
