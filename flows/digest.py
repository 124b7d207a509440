"""The supervisors' weekly digest: when it is due, and what it says (a few numbers from the
program report of the last seven days, cells under five people already suppressed)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

from flows.schedule import next_weekly
from flows.text import N_, Lines, Msg, Raw, msg

DIGEST_DAY = 0  # Monday
DIGEST_TIME = time(9, 0)


def next_digest(zone: str, after: datetime) -> datetime:
    """The next Monday 09:00 in the program's time zone, strictly after ``after``."""
    return next_weekly(DIGEST_DAY, DIGEST_TIME, zone, after)


@dataclass(frozen=True, slots=True)
class WeekNumbers:
    """The figures the digest shows, as the report shows them (a number or "<5")."""

    start: date
    end: date
    chats: Mapping[str, str]  # tier -> chats
    urgent_claim_median: str
    crisis_share: str
    debriefs: str
    calls: str
    reviews_waiting: int


def digest_text(week: WeekNumbers) -> Lines:
    return Lines(
        (
            msg(N_("digest.heading"), start=week.start, end=week.end),
            msg(
                N_("digest.chats"),
                urgent=Raw(week.chats.get("urgent", "0")),
                same_day=Raw(week.chats.get("same_day", "0")),
                routine=Raw(week.chats.get("routine", "0")),
            ),
            msg(N_("digest.claim"), minutes=Raw(week.urgent_claim_median)),
            msg(N_("digest.crisis"), share=Raw(week.crisis_share)),
            msg(N_("digest.debriefs"), total=Raw(week.debriefs), calls=Raw(week.calls)),
            msg(N_("digest.reviews"), waiting=week.reviews_waiting),
            Msg(N_("digest.footer")),
        )
    )


__all__ = ["WeekNumbers", "digest_text", "next_digest"]
