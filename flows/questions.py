"""Questions asked by more than one flow: their buttons and their parsers (the profile
questions of onboarding and settings, a multi-select, an optional note)."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Container, Mapping
from datetime import time
from functools import cache

from flows.effects import Choice
from flows.people import Event, Rules
from flows.text import LANGUAGE_NAMES, LOCALES, N_, Msg, Raw, msg

# "Somewhere else": the crisis replies then say "call your local emergency number" and list
# no short code that works in one country only.
ELSEWHERE = "XX"
REGIONS: dict[str, str] = {
    "CN": N_("region.CN"),
    "HK": N_("region.HK"),
    "MO": N_("region.MO"),
    "TW": N_("region.TW"),
    "SG": N_("region.SG"),
    "MY": N_("region.MY"),
    "US": N_("region.US"),
    "CA": N_("region.CA"),
    "GB": N_("region.GB"),
    "IE": N_("region.IE"),
    "AU": N_("region.AU"),
    "NZ": N_("region.NZ"),
    ELSEWHERE: N_("region.XX"),
}

ZONES: dict[str, str] = {
    "Asia/Shanghai": N_("zone.Asia/Shanghai"),
    "Asia/Hong_Kong": N_("zone.Asia/Hong_Kong"),
    "Asia/Taipei": N_("zone.Asia/Taipei"),
    "Asia/Macau": N_("zone.Asia/Macau"),
    "Asia/Singapore": N_("zone.Asia/Singapore"),
    "Asia/Kuala_Lumpur": N_("zone.Asia/Kuala_Lumpur"),
    "America/New_York": N_("zone.America/New_York"),
    "America/Chicago": N_("zone.America/Chicago"),
    "America/Denver": N_("zone.America/Denver"),
    "America/Los_Angeles": N_("zone.America/Los_Angeles"),
    "America/Toronto": N_("zone.America/Toronto"),
    "America/Vancouver": N_("zone.America/Vancouver"),
    "Europe/London": N_("zone.Europe/London"),
    "Europe/Dublin": N_("zone.Europe/Dublin"),
    "Australia/Sydney": N_("zone.Australia/Sydney"),
    "Australia/Perth": N_("zone.Australia/Perth"),
    "Pacific/Auckland": N_("zone.Pacific/Auckland"),
}

ZONES_BY_REGION: dict[str, tuple[str, ...]] = {
    "CN": ("Asia/Shanghai",),
    "HK": ("Asia/Hong_Kong",),
    "MO": ("Asia/Macau",),
    "TW": ("Asia/Taipei",),
    "SG": ("Asia/Singapore",),
    "MY": ("Asia/Kuala_Lumpur",),
    "US": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
    "CA": ("America/Toronto", "America/Vancouver"),
    "GB": ("Europe/London",),
    "IE": ("Europe/Dublin",),
    "AU": ("Australia/Sydney", "Australia/Perth"),
    "NZ": ("Pacific/Auckland",),
}
# Without a region on the list (staff are not asked one; "elsewhere"): the zones most
# readers of each language live in, theirs first.
ZONES_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    "en": (
        "Europe/London",
        "America/New_York",
        "America/Los_Angeles",
        "America/Toronto",
        "Australia/Sydney",
        "Asia/Singapore",
    ),
    "zh_Hans": ("Asia/Shanghai", "Asia/Singapore", "Asia/Kuala_Lumpur", "Asia/Hong_Kong"),
    "zh_Hant": ("Asia/Taipei", "Asia/Hong_Kong", "Asia/Macau", "Asia/Shanghai"),
}

CHECKIN_TIMES = ("09:00", "12:00", "15:00", "18:00", "20:00", "21:00")


def parse_choice(event: Event, prefix: str, keys: Container[str]) -> str | None:
    """The key a button carries after ``prefix``, when it is one of ``keys``."""
    if event.kind == "choice" and event.value.startswith(prefix):
        key = event.value.removeprefix(prefix)
        return key if key in keys else None
    return None


def language_choices() -> tuple[Choice, ...]:
    return tuple(Choice(Raw(LANGUAGE_NAMES[code]), f"lang:{code}") for code in LOCALES)


def parse_language(event: Event) -> str | None:
    if event.kind == "choice" and event.value.startswith("lang:"):
        code = event.value.removeprefix("lang:")
        return code if code in LOCALES else None
    if event.kind == "text":
        wanted = event.value.strip().casefold()
        for code, name in LANGUAGE_NAMES.items():
            if wanted in (code.casefold(), name.casefold()):
                return code
    return None


def region_choices() -> tuple[Choice, ...]:
    return tuple(Choice(Msg(label), f"region:{code}") for code, label in REGIONS.items())


def parse_region(event: Event) -> str | None:
    return parse_choice(event, "region:", REGIONS)


def zone_choices(region: str | None, locale: str) -> tuple[Choice, ...]:
    """The zones of the person's region, or else of their language (typing one stays open)."""
    zones = ZONES_BY_REGION.get(region or "") or ZONES_BY_LANGUAGE.get(
        locale, ZONES_BY_LANGUAGE["en"]
    )
    return tuple(Choice(Msg(ZONES[zone]), f"tz:{zone}") for zone in zones)


@cache
def _zones_by_folded_name() -> dict[str, str]:
    return {name.casefold(): name for name in zoneinfo.available_timezones()}


def parse_zone(event: Event) -> str | None:
    """A zone from a button, or a typed IANA name (any case, spaces allowed for underscores)."""
    if event.kind == "choice" and event.value.startswith("tz:"):
        candidate = event.value.removeprefix("tz:")
    elif event.kind == "text":
        candidate = event.value.strip().replace(" ", "_")
    else:
        return None
    return _zones_by_folded_name().get(candidate.casefold())


def zone_label(zone: str) -> Msg | Raw:
    label = ZONES.get(zone)
    return Msg(label) if label else Raw(zone)


def checkin_time_choices() -> tuple[Choice, ...]:
    return tuple(Choice(Raw(slot), f"time:{slot}") for slot in CHECKIN_TIMES)


_CLOCK = re.compile(r"^\s*(\d{1,2})\s*[:：.点點时時]\s*(\d{2})?\s*分?\s*$")


def parse_clock(event: Event) -> time | None:
    """``time:HH:MM`` from a button, or a typed time such as 8:30, 20.15, 19点, 7點30."""
    if event.kind == "choice" and event.value.startswith("time:"):
        raw = event.value.removeprefix("time:")
    elif event.kind == "text":
        raw = event.value
    else:
        return None
    match = _CLOCK.match(raw)
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def checkin_time_problem(at: time, rules: Rules) -> Msg | None:
    """Why a check-in time cannot be used, or None when it can."""
    if rules.is_quiet(at):
        return msg(
            "settings.checkin_time.in_quiet_hours",
            start=rules.quiet_start.strftime("%H:%M"),
            end=rules.quiet_end.strftime("%H:%M"),
        )
    return None


_ALIAS = re.compile(r"^[\w\u3400-\u9fff][\w\u3400-\u9fff .'-]{0,22}[\w\u3400-\u9fff.]$")


def parse_alias(event: Event) -> str | None:
    """A display alias: 2-24 letters, digits, spaces, dots, apostrophes or dashes."""
    if event.kind != "text":
        return None
    alias = " ".join(event.value.split())
    if alias.startswith("/") or not _ALIAS.match(alias):
        return None
    return alias


def duty_choices() -> tuple[Choice, ...]:
    return (
        Choice(Msg(N_("onboarding.duty.on")), "duty:on"),
        Choice(Msg(N_("onboarding.duty.off")), "duty:off"),
    )


def parse_duty(event: Event) -> bool | None:
    if event.kind == "choice" and event.value in ("duty:on", "duty:off"):
        return event.value == "duty:on"
    return None


def ticked_choices(options: Mapping[str, str], ticked: set[str], prefix: str) -> tuple[Choice, ...]:
    """A multi-select's buttons, one per option (``prefix`` + key), the ticked ones marked."""
    return tuple(
        Choice(
            msg(N_("checkin.unusual.selected"), item=Msg(label)) if key in ticked else Msg(label),
            f"{prefix}{key}",
        )
        for key, label in options.items()
    )


def parse_note(event: Event, skip: str, limit: int | None = None) -> str | None:
    """An optional note: the words typed (trimmed, at most ``limit`` characters), or "" when
    the ``skip`` button was pressed."""
    if event.kind == "choice" and event.value == skip:
        return ""
    if event.kind == "text" and event.value.strip():
        return event.value.strip()[:limit]
    return None
