"""The table of crisis lines by region: read and checked at start (a program can ship its own
with TONGBAN_CRISIS_LINES_FILE). The replies themselves are composed in ``flows.crisis``."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from flows import questions
from flows.crisis import Line, Numbers, Region

DEFAULT_LINES = Path(__file__).with_name("crisis_lines.json")
LOCALES = ("en", "zh_Hans", "zh_Hant")
ALWAYS_OPEN = "24h"

log = logging.getLogger(__name__)


class CrisisLinesError(ValueError):
    """The crisis line table cannot be used; the message names the file and entry."""


def _per_locale(value: object, where: str, required: bool = True) -> dict[str, str]:
    """A text in every locale; ``{}`` for an optional one that is absent."""
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise CrisisLinesError(f"{where}: needs a text for each of {', '.join(LOCALES)}")
    texts = {str(k): str(v) for k, v in value.items()}
    missing = [locale for locale in LOCALES if not texts.get(locale, "").strip()]
    if missing:
        raise CrisisLinesError(f"{where}: has no text in {', '.join(missing)}")
    return texts


def _line(raw: dict[str, Any], where: str) -> Line:
    number = str(raw["number"])
    where = f"{where} line {number}"
    hours = raw.get("hours")
    free = raw.get("free")
    if free is not None and not isinstance(free, bool):
        raise CrisisLinesError(f"{where}: 'free' is true, false or left out")
    return Line(
        number,
        _per_locale(raw["name"], f"{where} 'name'"),
        hours={} if hours == ALWAYS_OPEN else _per_locale(hours, f"{where} 'hours'", False),
        always_open=hours == ALWAYS_OPEN,
        free=free,
        note=_per_locale(raw.get("note"), f"{where} 'note'", False),
    )


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
        where = f"{path}: region {code}"
        try:
            regions[code] = Region(
                str(entry["emergency"]),
                tuple(_line(line, where) for line in entry["lines"]),
                _per_locale(entry.get("emergency_names"), f"{where} 'emergency_names'"),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise CrisisLinesError(
                f"{where} needs 'emergency', 'emergency_names' and 'lines' with 'number' and 'name'"
            ) from exc
    return regions


class CrisisLines:
    """The region table and the program's own region: which numbers a person is shown."""

    def __init__(self, regions: dict[str, Region], default_region: str) -> None:
        self.regions = regions
        self.default_region = default_region
        unlisted = sorted(set(questions.REGIONS) - {questions.ELSEWHERE} - set(regions))
        if unlisted:
            # people who choose one of these get the default region's numbers, with a note
            log.warning("the crisis lines table has no entry for regions %s", ", ".join(unlisted))

    @classmethod
    def load(cls, path: Path | None, default_region: str) -> CrisisLines:
        return cls(load_lines(path or DEFAULT_LINES), default_region)

    def numbers_for(self, region: str | None) -> Numbers:
        """The numbers for a region code: the program's region's while it is not known, and
        only "your local emergency number" for somewhere the table does not cover."""
        if region == questions.ELSEWHERE:
            return Numbers(None)
        known = self.regions.get(region or "")
        if known is not None:
            return Numbers(known)
        return Numbers(self.regions.get(self.default_region), known=False)
