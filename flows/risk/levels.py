"""Risk levels and category names shared by the lexicon and the assessment."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    """How urgently a human should look at a message.

    ``crisis`` gets the crisis reply and an immediate hand-over; ``concern`` is shown to a
    peer worker; ``none`` means no risk language was found (not that the person is fine).
    """

    NONE = "none"
    CONCERN = "concern"
    CRISIS = "crisis"

    @property
    def rank(self) -> int:
        """Order of severity: none < concern < crisis."""
        return _RANK[self]


_RANK = {Level.NONE: 0, Level.CONCERN: 1, Level.CRISIS: 2}

CATEGORIES: frozenset[str] = frozenset(
    {
        "suicidal",
        "self_harm",
        "plan_or_means",
        "overdose",
        "harm_to_others",
        "command_voices",
        "third_party",
    }
)
"""Every category an entry may carry; ``third_party`` is also added by context."""
