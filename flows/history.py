"""/history: the last seven days at a glance, one line a day, in the client's language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from flows.checkin import SCALES
from flows.facts import Fact, Need
from flows.roles import Role
from flows.text import N_, Lines, Msg, Param, Raw, msg

NEEDS = (
    Need(Fact.HISTORY, commands={"history"}, roles={Role.CLIENT}),
    Need(Fact.TODAY, commands={"history"}, roles={Role.CLIENT}),
)

DAYS = 7


def history(records: Sequence[Mapping[str, Any]], today: date) -> Lines:
    """``records``: dicts with ``day`` (ISO), ``mood``, ``sleep``, ``medication``, ``signs_yes``, ``complete``."""
    by_day = {str(r["day"]): r for r in records}
    lines: list[Msg | Raw] = [Msg(N_("history.title"))]
    for offset in range(DAYS - 1, -1, -1):
        day = today - timedelta(days=offset)
        record = by_day.get(day.isoformat())
        if record is None:
            lines.append(msg(N_("history.missing"), day=day))
            continue
        parts: dict[str, Param] = {
            "day": day,
            "mood": SCALES["mood"].label(record["mood"]) if record.get("mood") else Raw("—"),
            "sleep": SCALES["sleep"].label(record["sleep"])
            if record.get("sleep") is not None
            else Raw("—"),
            "medication": (
                SCALES["medication"].label(record["medication"])
                if record.get("medication")
                else Raw("—")
            ),
            "signs": record["signs_yes"] if record.get("signs_yes") is not None else Raw("—"),
        }
        line_id = N_("history.line") if record.get("complete") else N_("history.line_partial")
        lines.append(msg(line_id, **parts))
    lines.append(Msg(N_("history.footer")))
    return Lines(tuple(lines))
