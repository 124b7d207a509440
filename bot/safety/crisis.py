"""The crisis reply: sent first, before anything else, even when the database is failing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from flows.effects import Choice
from flows.text import N_, Lines, Msg, Raw, msg

DEFAULT_LINES = Path(__file__).with_name("crisis_lines.json")
TALK_NOW = Choice(Msg(N_("crisis.talk_now")), "/talk")


class CrisisLinesError(ValueError):
    """The crisis line table cannot be used; the message names the file and entry."""


@dataclass(frozen=True, slots=True)
class Line:
    number: str
    names: dict[str, str]


@dataclass(frozen=True, slots=True)
class Region:
    emergency: str
    lines: tuple[Line, ...]


def load_lines(path: Path = DEFAULT_LINES) -> dict[str, Region]:
    """Read and check the region table (a program can ship its own with TONGBAN_CRISIS_LINES_FILE)."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CrisisLinesError(f"{path}: {exc}") from exc
    regions: dict[str, Region] = {}
    for code, entry in raw.items():
        if code.startswith("_"):
            continue
        try:
            lines = tuple(
                Line(str(line["number"]), {k: str(v) for k, v in line["name"].items()})
                for line in entry["lines"]
            )
            regions[code] = Region(str(entry["emergency"]), lines)
        except (KeyError, TypeError, AttributeError) as exc:
            raise CrisisLinesError(
                f"{path}: region {code!r} needs 'emergency' and 'lines' with 'number' and 'name'"
            ) from exc
        for line in lines:
            for locale in ("en", "zh_Hans", "zh_Hant"):
                if locale not in line.names:
                    raise CrisisLinesError(
                        f"{path}: {code} line {line.number} has no name in {locale}"
                    )
    return regions


def crisis_text(
    regions: dict[str, Region],
    region: str | None,
    fallback_region: str,
    locale: str,
    plan_helpers: str | None = None,
    plan_professionals: str | None = None,
) -> Lines:
    """Calm and direct: a bot, not an emergency service; who to call now; their own plan; a person."""
    known = regions.get(region or "")
    table = known or regions.get(fallback_region)
    parts: list[Msg | Raw] = [Msg(N_("crisis.intro"))]
    if table is not None:
        if known is None:
            parts.append(Msg(N_("crisis.region_unknown")))
        for line in table.lines:
            parts.append(Raw(f"📞 {line.names.get(locale, line.names['en'])}: {line.number}"))
        parts.append(msg(N_("crisis.emergency"), number=Raw(table.emergency)))
    else:
        parts.append(Msg(N_("crisis.emergency_generic")))
    if plan_helpers:
        parts.append(msg(N_("crisis.plan_helpers"), people=Raw(plan_helpers)))
    if plan_professionals:
        parts.append(msg(N_("crisis.plan_professionals"), services=Raw(plan_professionals)))
    parts.append(Msg(N_("crisis.person_coming")))
    return Lines(tuple(parts))
