"""Coping cards: a few practical lines for what a client reported, offered after a check-in
and kept as a small library (/skills).

Drawn from Illness Management and Recovery and self-help in cognitive behavioural therapy
for psychosis (sources in docs/lessons.md). A card never diagnoses and gives no advice about
medication beyond talking to the doctor before changing anything; "Talk to a person" is
under every card. Whether a card helped is recorded for the program's reports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flows.effects import Choice, CopingHelped, Effect, Notice, Say, ShowAnswer, ShowCopingCard
from flows.text import N_, Lines, Msg, msg


@dataclass(frozen=True, slots=True)
class Card:
    title: str  # message id
    topic: str  # what the offer after a check-in names ("voices that upset you")
    lines: tuple[str, ...]  # 2-4 message ids, one practical idea each


CARDS: dict[str, Card] = {
    "voices": Card(
        N_("coping.voices.title"),
        N_("coping.voices.topic"),
        (
            N_("coping.voices.1"),
            N_("coping.voices.2"),
            N_("coping.voices.3"),
            N_("coping.voices.4"),
        ),
    ),
    "watched": Card(
        N_("coping.watched.title"),
        N_("coping.watched.topic"),
        (
            N_("coping.watched.1"),
            N_("coping.watched.2"),
            N_("coping.watched.3"),
            N_("coping.watched.4"),
        ),
    ),
    "missed_doses": Card(
        N_("coping.missed_doses.title"),
        N_("coping.missed_doses.topic"),
        (
            N_("coping.missed_doses.1"),
            N_("coping.missed_doses.2"),
            N_("coping.missed_doses.3"),
            N_("coping.doctor"),
        ),
    ),
    "side_effects": Card(
        N_("coping.side_effects.title"),
        N_("coping.side_effects.topic"),
        (N_("coping.side_effects.1"), N_("coping.side_effects.2"), N_("coping.doctor")),
    ),
    "low_mood": Card(
        N_("coping.low_mood.title"),
        N_("coping.low_mood.topic"),
        (
            N_("coping.low_mood.1"),
            N_("coping.low_mood.2"),
            N_("coping.low_mood.3"),
            N_("coping.low_mood.4"),
        ),
    ),
    "stress": Card(
        N_("coping.stress.title"),
        N_("coping.stress.topic"),
        (
            N_("coping.stress.1"),
            N_("coping.stress.2"),
            N_("coping.stress.3"),
            N_("coping.stress.4"),
        ),
    ),
    "sleep": Card(
        N_("coping.sleep.title"),
        N_("coping.sleep.topic"),
        (
            N_("coping.sleep.1"),
            N_("coping.sleep.2"),
            N_("coping.sleep.3"),
            N_("coping.sleep.4"),
        ),
    ),
}
HELPED = (
    ("yes", N_("coping.helped.yes")),
    ("some", N_("coping.helped.some")),
    ("no", N_("coping.helped.no")),
)
TALK = Choice(Msg(N_("checkin.talk")), "/talk")


def card_for_day(answers: Mapping[str, Any]) -> str | None:
    """The one card a day's answers call for, the most pressing first; None when none does.

    Voices that upset (distress "quite a bit" or more), feeling watched with any upset,
    doses missed or taken in part, side effects bothering a lot, a low mood, stress "quite
    a bit" or more, much less sleep than usual.
    """
    unusual = answers.get("unusual") or ()
    distress = answers.get("distress") or 0
    if "voices" in unusual and distress >= 2:
        return "voices"
    if "watched" in unusual and distress >= 1:
        return "watched"
    if answers.get("medication") in ("not_taken", "partly"):
        return "missed_doses"
    if answers.get("side_effects") == 2:
        return "side_effects"
    mood = answers.get("mood")
    if mood is not None and mood <= 2:
        return "low_mood"
    if (answers.get("stress") or 0) >= 2:
        return "stress"
    if answers.get("sleep") == -2:
        return "sleep"
    return None


def offer(card: str) -> Say:
    """After the check-in: would a few ideas help? Never more than one card is offered."""
    return Say(
        msg(N_("coping.offer"), topic=Msg(CARDS[card].topic)),
        (
            Choice(Msg(N_("coping.offer.show")), f"/skills {card} checkin"),
            Choice(Msg(N_("coping.offer.no")), "/skills later"),
            TALK,
        ),
    )


def library() -> Say:
    """/skills: every card by its title."""
    choices = tuple(Choice(Msg(card.title), f"/skills {key}") for key, card in CARDS.items())
    return Say(Msg(N_("skills.intro")), (*choices, TALK))


def skills(argument: str) -> tuple[Effect, ...]:
    """/skills and its buttons: the library, one card (recorded as shown, from the library or
    the offer after a check-in), the answer to "did this help?", or "not now"."""
    parts = argument.split()
    match parts:
        case []:
            return (library(),)
        case ["later"]:
            return (ShowAnswer(Msg(N_("coping.offer.no"))), Say(Msg(N_("coping.later"))))
        case [key] | [key, "checkin"] if key in CARDS:
            source = "checkin" if len(parts) == 2 else "library"
            shown: tuple[Effect, ...] = (
                (ShowAnswer(Msg(N_("coping.offer.show"))),) if source == "checkin" else ()
            )
            return (*shown, ShowCopingCard(key, source), _card(key))
        case [key, "helped", answer] if key in CARDS and answer in dict(HELPED):
            return (
                ShowAnswer(Msg(dict(HELPED)[answer])),
                CopingHelped(key, answer),
                Say(Msg(N_("coping.thanks"))),
            )
    return (Notice(Msg(N_("input.stale_button"))),)


def _card(key: str) -> Say:
    card = CARDS[key]
    lines = (
        Msg(card.title),
        *(msg(N_("coping.line"), text=Msg(line)) for line in card.lines),
        Msg(N_("coping.helped.ask")),
    )
    choices = tuple(Choice(Msg(label), f"/skills {key} helped {value}") for value, label in HELPED)
    return Say(Lines(lines), (*choices, TALK), 3)
