"""The crisis reply: what someone who writes crisis language is told first, and only once
while a person is already with them. Pure: the shell reads the facts in a moment (or none,
if the database is failing) and sends what this returns before anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from flows.effects import Choice
from flows.text import N_, Lines, Msg, Raw, Text, msg

TALK_NOW = Choice(Msg(N_("crisis.talk_now")), "/talk")
# While a worker holds the chat, the short line is repeated at most this often.
ALERT_AGAIN_AFTER = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Line:
    """A crisis line: its number, its name and (where known) its hours, per locale."""

    number: str
    names: dict[str, str]
    hours: dict[str, str] = field(default_factory=dict)

    def text(self, locale: str) -> str:
        name = self.names.get(locale, self.names["en"])
        hours = self.hours.get(locale, self.hours.get("en", ""))
        return f"📞 {self.number} — {name}" + (f" ({hours})" if hours else "")


@dataclass(frozen=True, slots=True)
class Region:
    """A region's emergency number(s) and crisis lines."""

    emergency: str  # e.g. "120 / 110"
    lines: tuple[Line, ...]
    emergency_names: dict[str, str] = field(default_factory=dict)  # "120 急救 / 110 报警"

    def emergency_text(self, locale: str) -> str:
        return self.emergency_names.get(locale, self.emergency_names.get("en", self.emergency))


class Audience(StrEnum):
    AT_RISK = "at_risk"  # a client, someone without a role, anyone not known
    RELATIVE = "relative"  # a family member: told what to do for the person in danger
    STAFF = "staff"  # peer workers and supervisors are not sent the reply


class Help(StrEnum):
    """What the person can honestly be told about a human answering."""

    ASKING = "asking"  # someone is on duty: a peer worker is being asked now
    NOBODY_ON_DUTY = "nobody_on_duty"
    WITH_WORKER = "with_worker"  # a worker already holds the chat
    UNKNOWN = "unknown"  # the database could not be read: promise nothing


@dataclass(frozen=True, slots=True)
class CrisisFacts:
    audience: Audience
    locale: str
    region: Region | None  # the person's region, else the program's
    region_known: bool
    help: Help = Help.UNKNOWN
    worker: str | None = None  # the holder's alias
    last_alert: datetime | None = None  # the last crisis reply or line while held
    now: datetime | None = None
    helpers: str | None = None  # from their safety plan
    professionals: str | None = None
    after_hours_note: str | None = None


def first_reply(facts: CrisisFacts) -> tuple[Text, tuple[Choice, ...]] | None:
    """The crisis reply, or None (staff; or a worker with them was alerted minutes ago)."""
    if facts.audience is Audience.STAFF:
        return None
    if facts.help is Help.WITH_WORKER:
        recent = (
            facts.last_alert is not None
            and facts.now is not None
            and facts.now - facts.last_alert < ALERT_AGAIN_AFTER
        )
        if recent:
            return None
        return msg(
            N_("crisis.worker_alerted"),
            worker=Raw(facts.worker or "?"),
            number=(
                Raw(facts.region.emergency_text(facts.locale))
                if facts.region
                else Msg(N_("crisis.local_emergency"))
            ),
        ), ()
    relative = facts.audience is Audience.RELATIVE
    parts: list[Msg | Raw] = [Msg(N_("crisis.intro_relative") if relative else N_("crisis.intro"))]
    region = facts.region
    if region is None:
        parts.append(Msg(N_("crisis.emergency_generic")))
    else:
        number = Raw(region.emergency_text(facts.locale))
        parts.append(
            msg(N_("crisis.emergency_relative"), number=number)
            if relative
            else msg(N_("crisis.emergency"), number=number)
        )
        if not facts.region_known:
            parts.append(Msg(N_("crisis.region_unknown")))
        parts += [Raw(line.text(facts.locale)) for line in region.lines]
    if facts.helpers and not relative:
        parts.append(msg(N_("crisis.plan_helpers"), people=Raw(facts.helpers)))
    if facts.professionals and not relative:
        parts.append(msg(N_("crisis.plan_professionals"), services=Raw(facts.professionals)))
    if facts.help is Help.ASKING:
        parts.append(
            Msg(N_("crisis.person_coming_relative") if relative else N_("crisis.person_coming"))
        )
    elif facts.help is Help.NOBODY_ON_DUTY:
        parts.append(Msg(N_("crisis.nobody_on_duty")))
        if facts.after_hours_note:
            parts.append(Raw(facts.after_hours_note))
    return Lines(tuple(parts)), (TALK_NOW,)


__all__ = ["TALK_NOW", "Audience", "CrisisFacts", "Help", "Line", "Region", "first_reply"]
