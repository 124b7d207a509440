"""What an early-warning flag says to the peer worker: what changed, against the person's
own usual, in the worker's language.

Built from a flag's rule and its ``summary`` (:mod:`flows.flags`); dates and counts only,
never a client's words. The card shows it after the reason ("check-in early-warning flag:
much less sleep on 3 of the last 5 nights; before that: 0 of 6 check-ins").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flows.text import N_, Msg, Raw, Text, msg

# The sentence of each rule; a rule whose summary has ``usual``/``usual_of`` is followed by
# the same count before the window.
SENTENCES = {
    "low_mood": N_("flag.low_mood"),
    "mood_drop": N_("flag.mood_drop"),
    "medication": N_("flag.medication"),
    "stopped_medication": N_("flag.stopped_medication"),
    "side_effects": N_("flag.side_effects"),
    "warning_signs": N_("flag.warning_signs"),
    "sleep": N_("flag.sleep"),
    "sleep_running": N_("flag.sleep_running"),
    "mania": N_("flag.mania"),
    "oversleep": N_("flag.oversleep"),
    "experiences": N_("flag.experiences"),
    "withdrawal": N_("flag.withdrawal"),
    "stress": N_("flag.stress"),
    "silence": N_("flag.silence"),
    "silence_never": N_("flag.silence_never"),
}


def describe(rule: str, summary: Mapping[str, object]) -> Text | None:
    """The worker's sentence for a flag, or None for a summary this version cannot read (a
    flag stored before summaries were kept: the card shows its evidence instead)."""
    try:
        return _describe(rule, summary)
    except (KeyError, TypeError, ValueError):
        return None


def _describe(rule: str, s: Mapping[str, object]) -> Text:
    usual = _usual(s)
    if rule == "low_mood":
        return msg(SENTENCES[rule], count=_int(s["streak"]), since=_day(s["since"]), usual=usual)
    if rule == "mood_drop":
        return msg(
            SENTENCES[rule],
            today=_int(s["today"]),
            mean=Raw(f"{float(str(s['baseline'])):.1f}"),
            checkins=_int(s["baseline_checkins"]),
        )
    if rule == "medication":
        return msg(
            SENTENCES[rule],
            not_taken=_int(s["not_taken"]),
            partly=_int(s["partly"]),
            of=_int(s["of"]),
            usual=usual,
        )
    if rule == "stopped_medication":
        return msg(SENTENCES[rule], last_taken=_day(s["last_taken"]))
    if rule == "warning_signs":
        return msg(
            SENTENCES[rule], today=_int(s["today"]), days=_int(s["days_in_a_row"]), usual=usual
        )
    if rule == "sleep":
        if _int(s["running"]) >= 2 and _int(s["running"]) == _int(s["much_less"]):
            return msg(SENTENCES["sleep_running"], nights=_int(s["running"]), usual=usual)
        return msg(SENTENCES[rule], count=_int(s["much_less"]), of=_int(s["of"]), usual=usual)
    if rule == "mania":
        # What is counted before is the much-less-sleep nights alone: the sentence says so.
        of = _int(s["usual_of"])
        before = (
            msg(N_("flag.usual.mania"), count=_int(s["usual"]), of=of)
            if of
            else Msg(N_("flag.usual.none"))
        )
        return msg(SENTENCES[rule], usual=before)
    if rule == "silence":
        days = _int(s["days_without"])
        if s.get("last_checkin"):
            return msg(SENTENCES[rule], days=days, last=_day(s["last_checkin"]))
        return msg(SENTENCES["silence_never"], days=days)
    return msg(SENTENCES[rule], count=_int(s["count"]), of=_int(s["of"]), usual=usual)


def _usual(s: Mapping[str, object]) -> Msg:
    """What was usual before: the same count over the check-ins before, the mean mood, or
    that there is nothing to compare with."""
    if "usual_of" in s:
        of = _int(s["usual_of"])
        if of == 0:
            return Msg(N_("flag.usual.none"))
        return msg(N_("flag.usual"), count=_int(s["usual"]), of=of)
    mood = s.get("usual_mood")
    if mood is None:
        return Msg(N_("flag.usual.none"))
    return msg(N_("flag.usual.mood"), mean=Raw(f"{float(str(mood)):.1f}"))


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"expected a number, got {value!r}")
    return int(value)


def _day(value: object) -> date:
    return date.fromisoformat(str(value))
