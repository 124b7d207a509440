"""The table of crisis lines by region: read and checked at start (a program can ship its own
with TONGBAN_CRISIS_LINES_FILE). The reply itself is composed in ``flows.crisis``."""

from __future__ import annotations

import json
from pathlib import Path

from flows.crisis import Line, Region

DEFAULT_LINES = Path(__file__).with_name("crisis_lines.json")
LOCALES = ("en", "zh_Hans", "zh_Hant")


class CrisisLinesError(ValueError):
    """The crisis line table cannot be used; the message names the file and entry."""


def _per_locale(value: object) -> dict[str, str]:
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def load_lines(path: Path = DEFAULT_LINES) -> dict[str, Region]:
    """Read and check the region table."""
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
                Line(
                    str(line["number"]),
                    {k: str(v) for k, v in line["name"].items()},
                    _per_locale(line.get("hours")),
                )
                for line in entry["lines"]
            )
            regions[code] = Region(
                str(entry["emergency"]), lines, _per_locale(entry.get("emergency_names"))
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise CrisisLinesError(
                f"{path}: region {code!r} needs 'emergency' and 'lines' with 'number' and 'name'"
            ) from exc
        for line in lines:
            for locale in LOCALES:
                if locale not in line.names:
                    raise CrisisLinesError(
                        f"{path}: {code} line {line.number} has no name in {locale}"
                    )
    return regions
