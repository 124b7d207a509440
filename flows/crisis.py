"""The numbers people can find, and the crisis reply.

The crisis reply is what someone who writes crisis language is told first, and only once
while a person is already with them or their chat waits for one (then a short line, at most
once in ten minutes). ``/sos``, ``/help``, the safety plan's step 5 and the
lessons show the same numbers, laid out the same way: the emergency number first, labelled,
then each crisis line as its number, name, hours and cost where known. Pure: the shell reads
the facts in a moment (or none, if the database is failing) and sends what this returns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from flows.effects import Choice
from flows.roles import STAFF, Role
from flows.text import N_, Lines, Localised, Msg, Raw, Text, msg

TALK_NOW = Choice(Msg(N_("crisis.talk_now")), "/talk")
# While a worker holds the chat, or it waits for one after the whole reply, the short line is
# repeated at most this often.
ALERT_AGAIN_AFTER = timedelta(minutes=10)

Part = Msg | Raw | Localised


@dataclass(frozen=True, slots=True)
class Line:
    """A crisis line: its number and name, and what is known of it. Hours are said only where
    given (``always_open``: 24 h; else ``hours`` per locale); the cost only where known."""

    number: str
    names: Mapping[str, str]
    hours: Mapping[str, str] = field(default_factory=dict)
    always_open: bool = False
    free: bool | None = None  # None: not known, so not said
    note: Mapping[str, str] = field(default_factory=dict)  # "call or text", "multilingual"

    def text(self) -> Msg:
        """📞 number — name (note, hours, cost), in the reader's locale."""
        details: list[Part] = []
        if self.note:
            details.append(Localised.of(self.note))
        if self.always_open:
            details.append(Msg(N_("crisis.line.always_open")))
        elif self.hours:
            details.append(Localised.of(self.hours))
        if self.free is not None:
            details.append(Msg(N_("crisis.line.free") if self.free else N_("crisis.line.charged")))
        number, name = Raw(self.number), Localised.of(self.names)
        if not details:
            return msg(N_("crisis.line"), number=number, name=name)
        joined: Part = details[0]
        for detail in details[1:]:
            joined = msg(N_("crisis.line.and"), first=joined, then=detail)
        return msg(N_("crisis.line.details"), number=number, name=name, details=joined)


@dataclass(frozen=True, slots=True)
class Region:
    """A region's emergency number(s), labelled per locale, and its crisis lines."""

    emergency: str  # e.g. "120 / 110"
    lines: tuple[Line, ...]
    emergency_names: Mapping[str, str] = field(default_factory=dict)  # "120 急救 / 110 报警"

    @property
    def emergency_label(self) -> Localised | Raw:
        if self.emergency_names:
            return Localised.of(self.emergency_names)
        return Raw(self.emergency)


@dataclass(frozen=True, slots=True)
class Numbers:
    """The numbers a person is shown: their region's; the program's while theirs is not known
    (``known`` False); only "your local emergency number" when they live somewhere the table
    does not cover (``region`` None), since a short code works in one country only."""

    region: Region | None = None
    known: bool = True


def emergency(numbers: Numbers) -> Msg:
    """The emergency number, as a line of its own: 📞 120 急救 / 110 报警."""
    if numbers.region is None:
        return Msg(N_("crisis.call_local_emergency"))
    return msg(N_("crisis.call"), number=numbers.region.emergency_label)


def crisis_lines(numbers: Numbers) -> tuple[Msg, ...]:
    """The crisis lines under their heading (nothing where the table has none)."""
    region = numbers.region
    if region is None or not region.lines:
        return ()
    return (Msg(N_("crisis.lines_heading")), *(line.text() for line in region.lines))


def block(numbers: Numbers) -> Lines:
    """The emergency number, then the crisis lines: what /help, the safety plan and the
    lessons show under a sentence of their own that ends in a colon."""
    return Lines((emergency(numbers), *crisis_lines(numbers)))


def emergency_inline(numbers: Numbers) -> Part:
    """The emergency number inside a sentence ("… call 999 Emergency.")."""
    if numbers.region is None:
        return Msg(N_("crisis.local_emergency"))
    return numbers.region.emergency_label


class Audience(StrEnum):
    AT_RISK = "at_risk"  # a client, someone without a role, anyone not known
    RELATIVE = "relative"  # a family member: told what to do for the person in danger
    STAFF = "staff"  # peer workers and supervisors are not sent the crisis reply


class Help(StrEnum):
    """What the person can honestly be told about a human answering."""

    ASKING = "asking"  # someone is on duty: a peer worker is being asked now
    NOBODY_ON_DUTY = "nobody_on_duty"
    WITH_WORKER = "with_worker"  # a worker already holds the chat
    UNKNOWN = "unknown"  # the database could not be read: promise nothing


def audience(role: Role | None, about_others: bool) -> Audience:
    """Whom the crisis reply is written for (``role`` None: someone not known)."""
    if role in STAFF:
        return Audience.STAFF
    if role is Role.FAMILY and about_others:
        return Audience.RELATIVE
    return Audience.AT_RISK


def who_answers(role: Role, holder: str | None, anyone_on_duty: bool) -> Help:
    """What a person who wrote crisis language can be told about a human answering
    (``holder``: the alias of the worker who holds their chat)."""
    if holder:
        return Help.WITH_WORKER
    if role not in (Role.CLIENT, Role.FAMILY):
        return Help.UNKNOWN  # nothing is opened for staff
    return Help.ASKING if anyone_on_duty else Help.NOBODY_ON_DUTY


@dataclass(frozen=True, slots=True)
class CrisisFacts:
    audience: Audience
    locale: str
    numbers: Numbers  # the person's region's, else the program's
    help: Help = Help.UNKNOWN
    worker: str | None = None  # the holder's alias
    last_alert: datetime | None = None  # the last crisis language they wrote (its reply)
    waiting_since: datetime | None = None  # their open chat, not yet claimed, opened then
    now: datetime | None = None
    helpers: str | None = None  # from their safety plan
    professionals: str | None = None
    after_hours_note: Localised | None = None  # when the team is back, per locale


def _numbers_section(numbers: Numbers, audience: Audience) -> list[Part]:
    """Who to call, the emergency number first: what the crisis reply and /sos share. A
    relative is told what to do for the person in danger before the lines."""
    lead = {
        Audience.AT_RISK: N_("crisis.emergency"),
        Audience.RELATIVE: N_("crisis.emergency_relative"),
        Audience.STAFF: N_("crisis.emergency_anyone"),
    }[audience]
    parts: list[Part] = [Msg(lead), emergency(numbers)]
    if audience is Audience.RELATIVE:
        parts.append(Msg(N_("crisis.relative_steps")))
    parts += crisis_lines(numbers)
    if numbers.region is not None and not numbers.known:
        parts.append(Msg(N_("crisis.region_unknown")))
    return parts


def _plan(helpers: str | None, professionals: str | None) -> list[Part]:
    parts: list[Part] = []
    if helpers:
        parts.append(msg(N_("crisis.plan_helpers"), people=Raw(helpers)))
    if professionals:
        parts.append(msg(N_("crisis.plan_professionals"), services=Raw(professionals)))
    return parts


def first_reply(facts: CrisisFacts) -> tuple[Text, tuple[Choice, ...]] | None:
    """The crisis reply; a short line when a worker holds their chat, or when it waits for
    one and they had the whole reply already; None for staff, and when that short line (or
    the reply) went out minutes ago."""
    if facts.audience is Audience.STAFF:
        return None
    relative = facts.audience is Audience.RELATIVE  # told about anyone in danger, not "you"
    if facts.help is Help.WITH_WORKER:
        if _alerted_recently(facts):
            return None
        return msg(
            N_("crisis.worker_alerted_relative") if relative else N_("crisis.worker_alerted"),
            worker=Raw(facts.worker or "?"),
            number=emergency_inline(facts.numbers),
        ), ()
    if _told_while_waiting(facts):
        # they have had the whole reply since their chat opened: one short line at most
        # once in ten minutes, as while a worker holds it
        if _alerted_recently(facts):
            return None
        number = emergency_inline(facts.numbers)
        if facts.help is Help.ASKING:
            alerted = (
                N_("crisis.worker_being_alerted_relative")
                if relative
                else N_("crisis.worker_being_alerted")
            )
            return msg(alerted, number=number), ()
        nobody = msg(
            N_("crisis.nobody_on_duty_again_relative")
            if relative
            else N_("crisis.nobody_on_duty_again"),
            number=number,
        )
        if facts.after_hours_note:
            return Lines((nobody, facts.after_hours_note)), ()
        return nobody, ()
    parts: list[Part] = [Msg(N_("crisis.intro_relative") if relative else N_("crisis.intro"))]
    parts += _numbers_section(facts.numbers, facts.audience)
    if not relative:
        parts += _plan(facts.helpers, facts.professionals)
    if facts.help is Help.ASKING:
        parts.append(
            Msg(N_("crisis.person_coming_relative") if relative else N_("crisis.person_coming"))
        )
    elif facts.help is Help.NOBODY_ON_DUTY:
        parts.append(Msg(N_("crisis.nobody_on_duty")))
        if facts.after_hours_note:
            parts.append(facts.after_hours_note)
    return Lines(tuple(parts)), (TALK_NOW,)


def _alerted_recently(facts: CrisisFacts) -> bool:
    return (
        facts.last_alert is not None
        and facts.now is not None
        and facts.now - facts.last_alert < ALERT_AGAIN_AFTER
    )


def _told_while_waiting(facts: CrisisFacts) -> bool:
    """Whether they wrote crisis language (and so had the whole reply) since their chat,
    still waiting for a worker, was opened."""
    return (
        facts.help in (Help.ASKING, Help.NOBODY_ON_DUTY)
        and facts.waiting_since is not None
        and facts.last_alert is not None
        and facts.last_alert >= facts.waiting_since
    )


def sos(
    numbers: Numbers,
    audience: Audience,
    plan: Mapping[str, str] | None = None,
    can_talk: bool = False,
) -> tuple[Text, tuple[Choice, ...]]:
    """/sos: where to get help now, for anyone at any moment. Asks nothing and opens nothing;
    a client's safety plan adds their people and services, and someone who can ask for a
    person gets the button for it."""
    parts: list[Part] = [Msg(N_("sos.heading")), *_numbers_section(numbers, audience)]
    if plan:
        parts += _plan(plan.get("helpers"), plan.get("professionals"))
    return Lines(tuple(parts)), ((TALK_NOW,) if can_talk else ())


__all__ = [
    "TALK_NOW",
    "Audience",
    "CrisisFacts",
    "Help",
    "Line",
    "Numbers",
    "Region",
    "audience",
    "block",
    "crisis_lines",
    "emergency",
    "emergency_inline",
    "first_reply",
    "sos",
    "who_answers",
]
