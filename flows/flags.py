"""Noticing a sustained change from a client's own baseline, so that a human peer worker looks.

These rules never diagnose and never declare a relapse: early warning signs predict relapse
only modestly, so a rule that holds only means "a person should look at this". Everything
here is a pure function of the client's daily check-ins; the shell loads the check-ins,
calls :func:`evaluate` when a check-in is saved and :func:`silence` from its daily tick,
and keeps one open episode per rule with :func:`episodes`.

When a rule "holds as of today"
-------------------------------
``low_mood``, ``mood_drop`` and ``warning_signs`` are about *today's* answers: they hold only
when today's check-in has the answer they need (a low-mood streak that ended five days ago,
or that today's good mood broke, is not current). ``medication`` and ``sleep`` look at the
most recent answers on or before today, whether or not today has one. So evaluate when a
check-in is saved, with ``today`` the day of that check-in; a day without a check-in is the
business of :func:`silence`, and evaluating on it would close the today-based episodes
for lack of data rather than because things got better. ``mania`` is about today too (one
night of much less sleep with the top mood and racing thoughts, all today); the other rules
look at the latest answers to their question, as ``medication`` and ``sleep`` do.

Against the person's own baseline
---------------------------------
A hit's ``summary`` says what changed and what was usual: for the rules that count answers
in a window, ``usual`` and ``usual_of`` are the same count over the check-ins of the
``baseline_days`` before the window (``usual_of`` 0: nothing to compare with); the mood
rules carry the mean mood before. :mod:`flows.flag_reasons` turns a hit into a sentence a
peer worker reads in their own language.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta
from fractions import Fraction
from itertools import pairwise
from typing import Literal

RULE_NAMES = (
    "low_mood",
    "mood_drop",
    "medication",
    "stopped_medication",
    "side_effects",
    "warning_signs",
    "sleep",
    "mania",
    "oversleep",
    "experiences",
    "withdrawal",
    "stress",
    "silence",
)
MEDICATION_ANSWERS = ("taken", "partly", "not_taken", "not_prescribed")
UNUSUAL_ANSWERS = ("voices", "watched", "racing", "other")
# The unusual experiences that, with distress, are the suspiciousness and voices the relapse
# literature names; racing thoughts count towards the mania rule instead.
DISTRESSING_EXPERIENCES = frozenset({"voices", "watched"})

SilenceLevel = Literal["nudge", "flag"]


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class FlagRulesError(ValueError):
    """A flag rule setting is unknown, of the wrong type or out of range."""


@dataclass(frozen=True, slots=True)
class DayRecord:
    """One day's check-in answers; ``None`` where the question was skipped or not asked."""

    day: date  # the client's local date
    mood: int | None = None  # 1 (very low) .. 5 (very good)
    sleep: int | None = None  # -2 much less, -1 less, 0 usual, 1 more, 2 much more
    medication: str | None = None  # "taken" | "partly" | "not_taken" | "not_prescribed"
    signs_yes: int | None = None  # personal warning signs answered yes (None: not asked)
    side_effects: int | None = None  # 0 none, 1 a little, 2 a lot (asked when medication taken)
    unusual: tuple[str, ...] | None = None  # of UNUSUAL_ANSWERS; () answered "none of these"
    distress: int | None = None  # 0 not at all .. 3 very (asked after an unusual experience)
    contact: int | None = None  # 0 not really, 1 a little, 2 quite a lot
    stress: int | None = None  # 0 none .. 3 a lot

    def __post_init__(self) -> None:
        if self.mood is not None and not (_is_int(self.mood) and 1 <= self.mood <= 5):
            raise ValueError(f"{self.day}: mood must be 1..5, got {self.mood!r}")
        if self.sleep is not None and not (_is_int(self.sleep) and -2 <= self.sleep <= 2):
            raise ValueError(f"{self.day}: sleep must be -2..2, got {self.sleep!r}")
        if self.medication is not None and self.medication not in MEDICATION_ANSWERS:
            raise ValueError(f"{self.day}: unknown medication answer {self.medication!r}")
        if self.signs_yes is not None and not (_is_int(self.signs_yes) and self.signs_yes >= 0):
            raise ValueError(f"{self.day}: signs_yes must be 0 or more, got {self.signs_yes!r}")
        for name, top in (("side_effects", 2), ("distress", 3), ("contact", 2), ("stress", 3)):
            value = getattr(self, name)
            if value is not None and not (_is_int(value) and 0 <= value <= top):
                raise ValueError(f"{self.day}: {name} must be 0..{top}, got {value!r}")
        if self.unusual is not None:
            chosen = tuple(self.unusual)
            if any(answer not in UNUSUAL_ANSWERS for answer in chosen):
                raise ValueError(f"{self.day}: unknown unusual experience in {chosen!r}")
            object.__setattr__(self, "unusual", chosen)


# Settings that may be fractions, and settings with their own range (the rest: whole numbers
# from 1 up).
_FRACTIONAL = frozenset({"mood_drop", "meds_partly"})
_BOUNDED = frozenset(
    {
        "low_mood_max",
        "mood_drop",
        "meds_partly",
        "mania_mood",
        "experiences_distress",
        "stress_high",
    }
)


@dataclass(frozen=True, slots=True)
class FlagRules:
    """Thresholds of the rules; a program can change them (see :meth:`from_mapping`)."""

    low_mood_max: int = 2  # mood <= this counts as low
    low_mood_streak: int = 3  # ... on this many check-ins in a row
    mood_drop: float = 2.0  # or today's mood this far below the baseline average
    baseline_days: int = 14  # baseline = check-ins in the 14 days before today
    baseline_min_checkins: int = 4  # no baseline-drop rule with fewer check-ins than this
    meds_missed: int = 3  # "not_taken" on at least this many ...
    meds_window: int = 5  # ... of the last N check-ins that have a medication answer
    meds_partly: float = 0.5  # "partly" counts as this much of a missed dose
    stopped_days: int = 14  # "I don't take any" after "taken"/"partly" within these days
    side_effects_a_lot: int = 3  # side effects "a lot" on 3 ...
    side_effects_window: int = 5  # ... of the last 5 answers
    signs_same_day: int = 2  # 2+ warning signs on one day
    sign_streak: int = 3  # or any sign on this many consecutive days
    sleep_much_less: int = 3  # "much less" sleep on 3 ...
    sleep_window: int = 5  # ... of the last 5 nights
    sleep_short_run: int = 2  # or "much less" on this many nights running (calendar days)
    mania_mood: int = 5  # one "much less" night today with mood this high and racing thoughts
    sleep_much_more: int = 3  # "much more" sleep on 3 ...
    oversleep_window: int = 5  # ... of the last 5 nights
    experiences_distress: int = 2  # voices or feeling watched, upsetting at least this much
    experiences_days: int = 2  # ... on 2 ...
    experiences_window: int = 3  # ... of the last 3 check-ins that answered the question
    withdrawal_days: int = 4  # contact "not really" on 4 ...
    withdrawal_window: int = 7  # ... of the last 7 answers
    stress_high: int = 3  # stress at least this ("a lot") on 3 ...
    stress_days: int = 3
    stress_window: int = 5  # ... of the last 5 answers
    silence_nudge_days: int = 2  # no check-in for 2 full days -> gentle nudge
    silence_flag_days: int = 3  # no check-in for 3 full days -> flag

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _FRACTIONAL:
                if not (_is_number(value) and math.isfinite(value)):
                    raise FlagRulesError(f"{f.name} must be a number, got {value!r}")
                object.__setattr__(self, f.name, float(value))
            elif not _is_int(value):
                raise FlagRulesError(f"{f.name} must be a whole number, got {value!r}")
        self._check_range("low_mood_max", 1, 4)
        if not 0 < self.mood_drop <= 4:
            raise FlagRulesError(f"mood_drop must be above 0 and at most 4, got {self.mood_drop!r}")
        self._check_range("meds_partly", 0, 1)
        self._check_range("mania_mood", 4, 5)
        self._check_range("experiences_distress", 1, 3)
        self._check_range("stress_high", 1, 3)
        for f in fields(self):
            if f.name not in _BOUNDED:
                self._check_range(f.name, 1, None)
        for count, window in (
            ("baseline_min_checkins", "baseline_days"),
            ("meds_missed", "meds_window"),
            ("side_effects_a_lot", "side_effects_window"),
            ("sleep_much_less", "sleep_window"),
            ("sleep_much_more", "oversleep_window"),
            ("experiences_days", "experiences_window"),
            ("withdrawal_days", "withdrawal_window"),
            ("stress_days", "stress_window"),
            ("silence_nudge_days", "silence_flag_days"),
        ):
            self._check_not_above(count, window)

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> FlagRules:
        """Rules from configuration data; missing keys keep their defaults.

        Raises :class:`FlagRulesError` (a ``ValueError``) naming the offending key.
        """
        known = [f.name for f in fields(cls)]
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                raise FlagRulesError(f"unknown flag rule setting {key!r}{hint}")
        return cls(**data)  # type: ignore[arg-type]

    def _check_range(self, name: str, low: float, high: float | None) -> None:
        value = getattr(self, name)
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise FlagRulesError(f"{name} must be {bounds}, got {value!r}")

    def _check_not_above(self, name: str, limit: str) -> None:
        if getattr(self, name) > getattr(self, limit):
            raise FlagRulesError(f"{name} cannot be more than {limit}: the rule could never hold")


@dataclass(frozen=True, slots=True)
class FlagHit:
    """A rule that holds, with the answers that made it hold."""

    rule: str  # one of RULE_NAMES
    evidence: tuple[str, ...]  # e.g. "2026-11-20 mood=1"; dates and values, never free text
    summary: dict[str, object]  # small JSON-able detail, e.g. {"baseline": 4.1, "today": 2}

    def __post_init__(self) -> None:
        if self.rule not in RULE_NAMES:
            raise ValueError(f"unknown flag rule {self.rule!r}")


@dataclass(frozen=True, slots=True)
class EpisodeChange:
    """What to do with the stored episodes after an evaluation."""

    raise_rules: tuple[FlagHit, ...]  # hits whose rule has no open episode -> raise once
    clear_rules: tuple[str, ...]  # open episodes whose rule no longer holds -> close


def evaluate(
    records: Sequence[DayRecord],
    today: date,
    rules: FlagRules = FlagRules(),
    open_rules: Collection[str] = (),
) -> tuple[FlagHit, ...]:
    """Rules that hold as of ``today``, given the person's check-ins, in ``RULE_NAMES`` order.

    ``records`` may come in any order, at most one per day (two on one day is a ValueError);
    days without a check-in are simply absent. Records after ``today`` are ignored. Silence
    is not evaluated here (see :func:`silence`). ``open_rules`` are the rules with an open
    episode: an open ``stopped_medication`` keeps holding until the person says they take
    their medication again, however long ago they stopped (see :func:`_still_stopped`).
    """
    days = _in_order(records, today)
    checks = (
        _low_mood(days, today, rules),
        _mood_drop(days, today, rules),
        _medication(days, rules),
        _stopped_medication(days, rules)
        or (_still_stopped(days) if "stopped_medication" in open_rules else None),
        _side_effects(days, rules),
        _warning_signs(days, today, rules),
        _sleep(days, rules),
        _mania(days, today, rules),
        _oversleep(days, rules),
        _experiences(days, rules),
        _withdrawal(days, rules),
        _stress(days, rules),
    )
    return tuple(hit for hit in checks if hit is not None)


def silence(
    last_checkin: date | None,
    today: date,
    rules: FlagRules = FlagRules(),
    since: date | None = None,
) -> SilenceLevel | None:
    """``"flag"``, ``"nudge"`` or ``None``, by the number of *full* days without a check-in.

    Full days are the days strictly between the last check-in and today, because today is
    not over: last check-in on the 19th, today the 22nd -> the 20th and 21st -> 2 -> nudge;
    on the 23rd -> 3 -> flag. ``since`` (the onboarding day, or the day a pause ended)
    counts like a check-in, so a brand-new client is not flagged; the later of the two
    dates is used. With neither date there is nothing to measure from: ``None``.
    """
    missing = days_without_checkin(last_checkin, today, since)
    if missing is None:
        return None
    if missing >= rules.silence_flag_days:
        return "flag"
    if missing >= rules.silence_nudge_days:
        return "nudge"
    return None


def days_without_checkin(last_checkin: date | None, today: date, since: date | None) -> int | None:
    """Full days between the later of ``last_checkin`` and ``since`` and ``today``."""
    start = max((d for d in (last_checkin, since) if d is not None), default=None)
    if start is None:
        return None
    return max((today - start).days - 1, 0)


def silence_hit(
    last_checkin: date | None,
    today: date,
    rules: FlagRules = FlagRules(),
    since: date | None = None,
) -> FlagHit | None:
    """The ``silence`` rule as a :class:`FlagHit` when :func:`silence` says ``"flag"``."""
    if silence(last_checkin, today, rules, since) != "flag":
        return None
    missing = days_without_checkin(last_checkin, today, since)
    start = f"last_checkin={last_checkin}" if last_checkin else f"no_checkin_since={since}"
    return FlagHit(
        "silence",
        (start, f"{today} days_without_checkin={missing}"),
        {
            "last_checkin": last_checkin.isoformat() if last_checkin else None,
            "days_without": missing,
        },
    )


def episodes(
    hits: Sequence[FlagHit],
    open_rules: Collection[str],
    *,
    scope: Collection[str] = RULE_NAMES,
) -> EpisodeChange:
    """Raise a flag once per episode, not every day while it lasts; close it when it ends.

    ``hits`` come from one evaluation; ``open_rules`` are the rules with an open episode.
    Only rules in ``scope`` can be closed: after a check-in the default scope also closes
    an open ``silence`` episode (a check-in ends a silence, and :func:`evaluate` never
    reports one); the daily silence tick passes ``scope={"silence"}`` so that it leaves the
    other episodes alone.
    """
    for rule in (*open_rules, *scope):
        if rule not in RULE_NAMES:
            raise ValueError(f"unknown flag rule {rule!r}")
    holding: dict[str, FlagHit] = {}
    for hit in hits:
        holding.setdefault(hit.rule, hit)
    raised = tuple(hit for rule, hit in holding.items() if rule not in open_rules)
    cleared = tuple(
        rule for rule in RULE_NAMES if rule in open_rules and rule in scope and rule not in holding
    )
    return EpisodeChange(raise_rules=raised, clear_rules=cleared)


def _low_mood(days: list[DayRecord], today: date, rules: FlagRules) -> FlagHit | None:
    """Low mood on enough check-ins in a row, the last being today's (skipped days don't break)."""
    answered = [r for r in days if r.mood is not None]
    if not answered or answered[-1].day != today:
        return None
    streak: list[DayRecord] = []
    for record in reversed(answered):
        if record.mood is None or record.mood > rules.low_mood_max:
            break
        streak.append(record)
    if len(streak) < rules.low_mood_streak:
        return None
    streak.reverse()
    return FlagHit(
        "low_mood",
        tuple(_line(r, "mood") for r in streak),
        {
            "streak": len(streak),
            "since": streak[0].day.isoformat(),
            "today": answered[-1].mood,
            "usual_mood": _mean_mood_before(days, streak[0].day, rules),
        },
    )


def _mood_drop(days: list[DayRecord], today: date, rules: FlagRules) -> FlagHit | None:
    """Today's mood far enough below the mean of the previous ``baseline_days`` days."""
    if not days or days[-1].day != today or days[-1].mood is None:
        return None
    mood_today = days[-1].mood
    first = today - timedelta(days=rules.baseline_days)
    baseline = [r.mood for r in days if first <= r.day < today and r.mood is not None]
    if len(baseline) < rules.baseline_min_checkins:
        return None
    total, count = sum(baseline), len(baseline)
    # Exact decimal arithmetic: a drop of exactly mood_drop (as configured) must count.
    if (mood_today + Fraction(str(rules.mood_drop))) * count > total:
        return None
    mean = total / count
    last = today - timedelta(days=1)
    return FlagHit(
        "mood_drop",
        (f"{first}..{last} mood_mean={mean:.2f} checkins={count}", _line(days[-1], "mood")),
        {
            "baseline": round(mean, 2),
            "baseline_checkins": count,
            "today": mood_today,
            "drop": round(mean - mood_today, 2),
        },
    )


def _medication(days: list[DayRecord], rules: FlagRules) -> FlagHit | None:
    """Doses missed on enough of the latest answers (not counting "not prescribed"); a dose
    taken only in part counts as ``meds_partly`` of a missed one."""
    answered = [r for r in days if r.medication is not None and r.medication != "not_prescribed"]
    window = answered[-rules.meds_window :]
    not_taken = sum(r.medication == "not_taken" for r in window)
    partly = sum(r.medication == "partly" for r in window)
    # Exact decimal arithmetic: two half doses make one missed dose, not 0.999....
    if not_taken + partly * Fraction(str(rules.meds_partly)) < rules.meds_missed:
        return None
    usual, usual_of = _before(
        answered, window, rules, lambda r: r.medication in ("not_taken", "partly")
    )
    return FlagHit(
        "medication",
        tuple(_line(r, "medication") for r in window),
        {
            "not_taken": not_taken,
            "partly": partly,
            "of": len(window),
            "usual": usual,
            "usual_of": usual_of,
        },
    )


def _stopped_medication(days: list[DayRecord], rules: FlagRules) -> FlagHit | None:
    """The latest answer is "I don't take any", after "taken" or "partly" within
    ``stopped_days``: that is what stopping looks like from here."""
    answered = [r for r in days if r.medication is not None]
    if not answered or answered[-1].medication != "not_prescribed":
        return None
    latest = answered[-1].day
    took = [
        r
        for r in answered
        if r.medication in ("taken", "partly") and (latest - r.day).days <= rules.stopped_days
    ]
    if not took:
        return None
    last_taken = took[-1]
    since = next(r for r in answered if r.day > last_taken.day)
    return FlagHit(
        "stopped_medication",
        tuple(_line(r, "medication") for r in answered if r.day >= last_taken.day),
        {"last_taken": last_taken.day.isoformat(), "since": since.day.isoformat()},
    )


def _still_stopped(days: list[DayRecord]) -> FlagHit | None:
    """An open ``stopped_medication`` episode holds until a "taken" or "some of it" answer.

    Time alone never ends it: a person who stopped their medication three weeks ago has not
    started again because the rule's ``stopped_days`` went by (with a clock that closed it,
    the flag list, the program's report and the family's traffic light would say it ended
    while nothing changed). "Not today" does not end it either, nor a day that skipped the
    question; only the person saying they took it, or a person closing the flag by hand
    (``tongban flags close``). Its hit is never raised (the episode is open already).
    """
    answered = [r for r in days if r.medication is not None]
    if answered and answered[-1].medication in ("taken", "partly"):
        return None
    stopped = [r for r in answered if r.medication == "not_prescribed"]
    return FlagHit(
        "stopped_medication",
        tuple(_line(r, "medication") for r in answered[-1:]),
        {"last_taken": None, "since": stopped[0].day.isoformat() if stopped else None},
    )


def _side_effects(days: list[DayRecord], rules: FlagRules) -> FlagHit | None:
    """Side effects bothering "a lot" on enough of the latest answers."""
    return _often(
        "side_effects",
        days,
        "side_effects",
        lambda r: r.side_effects == 2,
        rules.side_effects_a_lot,
        rules.side_effects_window,
        rules,
    )


def _warning_signs(days: list[DayRecord], today: date, rules: FlagRules) -> FlagHit | None:
    """Several signs today, or at least one sign on enough calendar days in a row to today."""
    by_day = {r.day: r for r in days}
    current = by_day.get(today)
    if current is None or current.signs_yes is None:
        return None
    run: list[DayRecord] = []
    day = today
    while (r := by_day.get(day)) is not None and r.signs_yes is not None and r.signs_yes >= 1:
        run.append(r)
        day -= timedelta(days=1)
    same_day = current.signs_yes >= rules.signs_same_day
    in_a_row = len(run) >= rules.sign_streak
    if not (same_day or in_a_row):
        return None
    shown = list(reversed(run)) if in_a_row else [current]
    asked = [r for r in days if r.signs_yes is not None]
    usual, usual_of = _before(asked, shown, rules, lambda r: (r.signs_yes or 0) >= 1)
    return FlagHit(
        "warning_signs",
        tuple(_line(r, "signs_yes") for r in shown),
        {
            "today": current.signs_yes,
            "days_in_a_row": len(run),
            "usual": usual,
            "usual_of": usual_of,
        },
    )


def _sleep(days: list[DayRecord], rules: FlagRules) -> FlagHit | None:
    """Much less sleep than usual on enough of the latest nights answered, or on
    ``sleep_short_run`` nights running up to the latest answer."""
    answered = [r for r in days if r.sleep is not None]
    window = answered[-rules.sleep_window :]
    count = sum(r.sleep == -2 for r in window)
    running: list[DayRecord] = []
    for record in reversed(answered):
        if record.sleep != -2 or (running and (running[-1].day - record.day).days != 1):
            break
        running.append(record)
    if count < rules.sleep_much_less and len(running) < rules.sleep_short_run:
        return None
    usual, usual_of = _before(answered, window, rules, lambda r: r.sleep == -2)
    return FlagHit(
        "sleep",
        tuple(_line(r, "sleep") for r in window),
        {
            "much_less": count,
            "of": len(window),
            "running": len(running),
            "usual": usual,
            "usual_of": usual_of,
        },
    )


def _mania(days: list[DayRecord], today: date, rules: FlagRules) -> FlagHit | None:
    """Today: much less sleep, mood at the top and racing thoughts, all three together. One
    such night is enough to look: in bipolar disorder, that is how a high often begins."""
    if not days or days[-1].day != today:
        return None
    record = days[-1]
    if not (
        record.sleep == -2
        and record.mood is not None
        and record.mood >= rules.mania_mood
        and "racing" in (record.unusual or ())
    ):
        return None
    slept = [r for r in days if r.sleep is not None]
    usual, usual_of = _before(slept, [record], rules, lambda r: r.sleep == -2)
    return FlagHit(
        "mania",
        (f"{today.isoformat()} sleep=-2 mood={record.mood} unusual=racing",),
        {
            "mood": record.mood,
            "usual_mood": _mean_mood_before(days, today, rules),
            "usual": usual,
            "usual_of": usual_of,
        },
    )


def _oversleep(days: list[DayRecord], rules: FlagRules) -> FlagHit | None:
    """Much more sleep than usual on enough of the latest nights answered."""
    return _often(
        "oversleep",
        days,
        "sleep",
        lambda r: r.sleep == 2,
        rules.sleep_much_more,
        rules.oversleep_window,
        rules,
    )


def _experiences(days: list[DayRecord], rules: FlagRules) -> FlagHit | None:
    """Hearing voices or feeling watched, upsetting enough, on enough of the latest check-ins
    that answered the question about unusual experiences."""

    def upsetting(r: DayRecord) -> bool:
        return bool(DISTRESSING_EXPERIENCES & set(r.unusual or ())) and (
            (r.distress or 0) >= rules.experiences_distress
        )

    return _often(
        "experiences",
        days,
        "unusual",
        upsetting,
        rules.experiences_days,
        rules.experiences_window,
        rules,
    )


def _withdrawal(days: list[DayRecord], rules: FlagRules) -> FlagHit | None:
    """Hardly any time with other people ("not really") on enough of the latest answers."""
    return _often(
        "withdrawal",
        days,
        "contact",
        lambda r: r.contact == 0,
        rules.withdrawal_days,
        rules.withdrawal_window,
        rules,
    )


def _stress(days: list[DayRecord], rules: FlagRules) -> FlagHit | None:
    """High stress or worry on enough of the latest answers."""
    return _often(
        "stress",
        days,
        "stress",
        lambda r: (r.stress or 0) >= rules.stress_high,
        rules.stress_days,
        rules.stress_window,
        rules,
    )


def _often(
    rule: str,
    days: list[DayRecord],
    answer: str,
    marked: Callable[[DayRecord], bool],
    at_least: int,
    window_size: int,
    rules: FlagRules,
) -> FlagHit | None:
    """``rule`` holds when at least ``at_least`` of the latest ``window_size`` answers to
    ``answer`` are ``marked``; the evidence is the whole window, the summary says how many, and
    how many of the check-ins before the window were marked too."""
    answered = [r for r in days if getattr(r, answer) is not None]
    window = answered[-window_size:]
    count = sum(marked(r) for r in window)
    if count < at_least:
        return None
    usual, usual_of = _before(answered, window, rules, marked)
    return FlagHit(
        rule,
        tuple(_evidence(r, answer) for r in window),
        {"count": count, "of": len(window), "usual": usual, "usual_of": usual_of},
    )


def _before(
    answered: Sequence[DayRecord],
    window: Sequence[DayRecord],
    rules: FlagRules,
    marked: Callable[[DayRecord], bool],
) -> tuple[int, int]:
    """How many of the answers in the ``baseline_days`` before ``window`` were ``marked``, and
    of how many: the person's own usual, to say what changed."""
    if not window:
        return 0, 0
    first = window[0].day
    start = first - timedelta(days=rules.baseline_days)
    before = [r for r in answered if start <= r.day < first]
    return sum(marked(r) for r in before), len(before)


def _mean_mood_before(days: list[DayRecord], first: date, rules: FlagRules) -> float | None:
    """The mean mood over the ``baseline_days`` before ``first`` (None without a mood)."""
    start = first - timedelta(days=rules.baseline_days)
    moods = [r.mood for r in days if start <= r.day < first and r.mood is not None]
    return round(sum(moods) / len(moods), 1) if moods else None


def _evidence(record: DayRecord, answer: str) -> str:
    """One dated answer, as the evidence lists it; the answer to unusual experiences with how
    upsetting they were."""
    if answer != "unusual":
        return _line(record, answer)
    chosen = "+".join(record.unusual or ()) or "none"
    distress = f" distress={record.distress}" if record.distress is not None else ""
    return f"{record.day.isoformat()} unusual={chosen}{distress}"


def _in_order(records: Iterable[DayRecord], today: date) -> list[DayRecord]:
    days = sorted((r for r in records if r.day <= today), key=lambda r: r.day)
    for before, after in pairwise(days):
        if before.day == after.day:
            raise ValueError(f"two check-ins for {after.day}; expected at most one per day")
    return days


def _line(record: DayRecord, answer: str) -> str:
    return f"{record.day.isoformat()} {answer}={getattr(record, answer)}"
