"""Assessing one message against a lexicon.

The steps, each explained in docs/risk-lexicon.md:

1. normalise the message (and, if letters are hidden behind asterisks, a few variants);
2. find lexicon phrases whose anchor occurs, and run their patterns;
3. drop hits covered by a hyperbole/idiom pattern or by the entry's own exceptions;
4. read each hit's context: negated ("I'm not going to …"), reported past ("I used to …"),
   or about someone else ("my son said he …");
5. a crisis hit that is negated or past counts as concern, never as none; the message's
   level is the highest remaining level.
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, replace

from flows.risk.levels import Level
from flows.risk.lexicon import Entry, LanguageRules, Lexicon, default_lexicon
from flows.risk.matching import PhraseSet, Span, Text
from flows.risk.model import NgramModel, default_model
from flows.risk.normalise import CJK, censored_variants

_SENTENCE_BREAK = re.compile(r"[.!?。！？\n…]")
# Chinese chat writes a space where a comma would go ("冇諗過會咁辛苦 我想死"); the
# normaliser keeps one only there, and the phrases already end a clause at it, so a past
# cue before it does not reach a hit after it. (A negation cue must stand right before
# its hit anyway, so "我没有 想死" stays denied.)
_CHINESE_SPACE = re.compile(f"(?<=[{CJK}]) (?=[{CJK}])")
_NEGATION_WINDOW = 80
_LONG_TEXT = 400  # characters
_WINDOW = 240  # a long sentence is read in windows this long,
_OVERLAP = 120  # overlapping by this much: longer than any phrase match


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the lexicon found in one message.

    ``categories`` is sorted and unique. ``matched`` lists the normalised text spans that
    matched, in the order they occur, so a reviewer can see why a message was flagged. A
    crisis found by the model alone has ``layers == ("model",)`` and may match no phrase.
    """

    level: Level
    categories: tuple[str, ...]
    matched: tuple[str, ...]
    # Which layer found crisis: "lexicon" (a phrase), "model" (the n-gram model), both.
    layers: tuple[str, ...] = ()
    # A crisis phrase was there but denied or reported as past (so concern, by policy).
    softened: bool = False

    def to_json_dict(self) -> dict[str, object]:
        """The shape printed by ``tongban risk-check`` and stored with an escalation."""
        return {
            "level": self.level.value,
            "categories": list(self.categories),
            "matched": list(self.matched),
            "layers": list(self.layers),
        }


NO_RISK = Assessment(Level.NONE, (), ())


@dataclass(frozen=True, slots=True)
class _Finding:
    position: int
    level: Level
    categories: tuple[str, ...]
    span: str
    softened: bool = False


def assess(
    text: str, lexicon: Lexicon | None = None, model: NgramModel | bool | None = True
) -> Assessment:
    """Assess one message: the lexicon's phrases, then the n-gram model for what they
    missed. ``lexicon`` None means the built-in lexicon; ``model`` True the shipped model
    (False or None: the lexicon alone)."""
    lex = default_lexicon() if lexicon is None else lexicon
    normalised = lex.normaliser.normalise(text)
    if not normalised:
        return NO_RISK
    scan = Text(normalised, lex.vocabulary)
    findings, explained = _assess_text(lex, scan, normalised)
    shown, variants = censored_variants(normalised)
    for variant in variants:
        more, also_explained = _assess_text(lex, Text(variant, lex.vocabulary), shown)
        findings.extend(more)
        explained = explained or also_explained
    found = _combine(findings) if findings else NO_RISK
    screen = default_model() if model is True else (model or None)
    if found.level is Level.CRISIS:
        return replace(found, layers=("lexicon",))
    # The model is not asked when a phrase was there but denied, past, or explained away
    # as an idiom or one of its exceptions ("dying my hair"): the lexicon's reading wins.
    if screen is None or found.softened or explained:
        return found
    if not screen.is_crisis(scan.squeezed):
        return found
    # What the phrases missed: crisis by the model (a denied or past phrase stays concern).
    return Assessment(Level.CRISIS, found.categories, found.matched, ("model",))


def _combine(findings: list[_Finding]) -> Assessment:
    level = max((f.level for f in findings), key=lambda lvl: lvl.rank)
    categories = sorted({c for f in findings for c in f.categories})
    matched: dict[str, None] = {}
    for finding in sorted(findings, key=lambda f: f.position):
        matched.setdefault(finding.span, None)
    softened = any(f.softened for f in findings)
    return Assessment(level, tuple(categories), tuple(matched), (), softened)


def _assess_text(lex: Lexicon, scan: Text, shown: str) -> tuple[list[_Finding], bool]:
    """Findings in one normalised text, and whether a hit was explained away (an idiom or
    an entry's exception); spans are reported from ``shown`` (same length).

    Crisis phrases are tried first. A long message is read sentence by sentence (no phrase
    crosses a sentence break), each sentence against only the phrases whose anchors it
    holds, and its first crisis finding ends the search: nothing later can raise the
    level. A short message is read whole, so that every category it shows is reported.
    """
    text = scan.text
    pieces = _pieces(text)
    long_text = len(pieces) > 1
    findings: list[_Finding] = []
    explained = False
    idioms: dict[int, _Spans] = {}
    context: _Context | None = None
    exceptions: dict[tuple[int, int], _Spans] = {}
    seen: set[tuple[int, int]] = set()  # (phrase, start): windows overlap
    judged: set[tuple[int, str, int]] = set()
    # Crisis phrases have the lowest numbers.
    for number, index, _, spans in scan.work(lex.phrases, pieces):
        owner = lex.phrase_owners[number]
        entry = lex.entries[owner]
        for match in spans:
            if match[1] == match[0]:
                continue
            if long_text:
                if (number, match[0]) in seen:
                    continue
                seen.add((number, match[0]))
            piece = pieces[index]
            spans_of_idioms = idioms.get(index)
            if spans_of_idioms is None:
                spans_of_idioms = idioms[index] = _Spans(_matches(scan, lex.idioms, piece))
            if spans_of_idioms.overlaps(match) or (
                lex.exceptions_of[owner]
                and _excepted(lex, owner, match, scan, (index, piece), exceptions)
            ):
                explained = True
                continue
            context = context or _Context(scan)
            if long_text:
                # The level of a hit depends on its clause (and cues the whole text
                # shares): the same phrase in the same clause wording is judged once.
                low, high = context.clause(*match)
                wording = (number, text[low:high], match[0] - low)
                if wording in judged:
                    continue
                judged.add(wording)
            span = shown[match[0] : match[1]].strip()
            finding = _judge(entry, match, span, context, lex.languages[entry.lang])
            findings.append(finding)
            if long_text and finding.level is Level.CRISIS:
                return findings, explained
    return findings, explained


def _matches(
    scan: Text, phrases: PhraseSet, piece: Span, numbers: Collection[int] | None = None
) -> Iterator[Span]:
    """Spans of the matches in one piece of text of the set's phrases (or of those of
    them numbered in ``numbers``)."""
    for _, _, _, spans in scan.work(phrases, [piece], numbers):
        yield from spans


def _pieces(text: str) -> list[tuple[int, int]]:
    """The whole of a short text; the sentences of a long one, a long sentence in
    overlapping windows (a phrase match is far shorter than the overlap)."""
    if len(text) <= _LONG_TEXT:
        return [(0, len(text))]
    bounds = [-1, *(m.start() for m in _SENTENCE_BREAK.finditer(text)), len(text)]
    pieces = []
    for before, after in itertools.pairwise(bounds):
        start = before + 1
        while after - start > _WINDOW:
            pieces.append((start, start + _WINDOW))
            start += _WINDOW - _OVERLAP
        if after > start:
            pieces.append((start, after))
    return pieces


class _Spans:
    """Text spans (of idioms or exceptions) with a fast "does this hit overlap one" test."""

    __slots__ = ("_max_end", "_starts")

    def __init__(self, spans: Iterable[Span]) -> None:
        ordered = sorted(spans)
        self._starts = [start for start, _ in ordered]
        self._max_end = list(itertools.accumulate((end for _, end in ordered), max))

    def overlaps(self, span: Span) -> bool:
        start, end = span
        before_end = bisect.bisect_left(self._starts, end)
        return before_end > 0 and self._max_end[before_end - 1] > start


def _excepted(
    lex: Lexicon,
    owner: int,
    match: Span,
    scan: Text,
    piece: tuple[int, Span],
    cache: dict[tuple[int, int], _Spans],
) -> bool:
    """The hit lies in one of its entry's exception phrases ("cut myself shaving")."""
    numbers = lex.exceptions_of[owner]
    if not numbers:
        return False
    index, bounds = piece
    spans = cache.get((owner, index))
    if spans is None:
        spans = cache[(owner, index)] = _Spans(_matches(scan, lex.exceptions, bounds, numbers))
    return spans.overlaps(match)


def _judge(
    entry: Entry, match: Span, span: str, context: _Context, rules: LanguageRules
) -> _Finding:
    """Level and categories of one hit, from its entry and its context."""
    level = entry.level
    softened = level is Level.CRISIS and (
        _negated(match, context, rules) or _reported_past(match, context, rules)
    )
    if softened:
        level = Level.CONCERN
    categories = [entry.category]
    if entry.category != "third_party" and _about_someone_else(match, context, rules):
        categories.append("third_party")
    return _Finding(match[0], level, tuple(categories), span, softened)


class _Context:
    """One normalised text's clause and sentence bounds and cue positions.

    Cue lists are scanned over the whole text once, on first use, and shared by all the
    hits in the text.
    """

    __slots__ = ("_clauses", "_cues", "_occurs", "_pauses", "_sentences", "text")

    def __init__(self, scan: Text) -> None:
        self.text = text = scan.text
        self._clauses = scan.breaks
        spaces = [m.start() for m in _CHINESE_SPACE.finditer(text)]
        self._pauses = sorted(scan.breaks + spaces) if spaces else scan.breaks
        self._sentences = [m.start() for m in _SENTENCE_BREAK.finditer(text)]
        self._cues: dict[tuple[int, int, int], _Cues] = {}
        self._occurs: dict[int, bool] = {}

    def clause(self, start: int, end: int) -> tuple[int, int]:
        """Bounds of the clause holding text[start:end] (a hit never spans a break)."""
        return _bounds(self._clauses, start, end, len(self.text))

    def spoken_clause(self, start: int, end: int) -> tuple[int, int]:
        """Bounds of the clause holding text[start:end], a Chinese space also ending one."""
        return _bounds(self._pauses, start, end, len(self.text))

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        """Bounds of the sentence holding text[start:end]."""
        return _bounds(self._sentences, start, end, len(self.text))

    def cues(self, pattern: re.Pattern[str] | None, bounds: Span) -> _Cues:
        """The matches of a cue pattern in text[low:high], found as far as read (cached)."""
        key = (id(pattern), *bounds)
        found = self._cues.get(key)
        if found is None:
            found = self._cues[key] = _Cues(pattern, self.text, bounds)
        return found

    def occurs(self, pattern: re.Pattern[str] | None) -> bool:
        """Whether a cue pattern matches anywhere in the text (cached)."""
        if pattern is None:
            return False
        found = self._occurs.get(id(pattern))
        if found is None:
            found = self._occurs[id(pattern)] = pattern.search(self.text) is not None
        return found


class _Cues:
    """The matches of one cue pattern in one stretch of a text, found only as far as they
    are read: in a long message most hits need the cues just before them."""

    __slots__ = ("_matches", "_read")

    def __init__(self, pattern: re.Pattern[str] | None, text: str, bounds: Span) -> None:
        self._matches = iter(()) if pattern is None else pattern.finditer(text, *bounds)
        self._read: list[Span] = []

    def __iter__(self) -> Iterator[Span]:
        index = 0
        while True:
            if index == len(self._read):
                match = next(self._matches, None)
                if match is None:
                    return
                self._read.append(match.span())
            yield self._read[index]
            index += 1


def _bounds(breaks: list[int], start: int, end: int, length: int) -> tuple[int, int]:
    before = bisect.bisect_left(breaks, start)
    low = breaks[before - 1] + 1 if before else 0
    after = bisect.bisect_left(breaks, end)
    high = breaks[after] if after < len(breaks) else length
    return low, high


def _negated(match: Span, context: _Context, rules: LanguageRules) -> bool:
    """A negation cue governs the hit: "not going to kill myself", "不会自杀".

    Only filler words ("really", "going to", "想", "会") may stand between the cue and
    the hit, so "I can't sleep and I want to die" is not read as negated.
    """
    if rules.negation is None:
        return False
    start, end = match
    clause_start, _ = context.clause(start, end)
    floor = max(clause_start, start - _NEGATION_WINDOW)
    return rules.negation.search(context.text, floor, start) is not None


def _reported_past(match: Span, context: _Context, rules: LanguageRules) -> bool:
    """The hit is reported as past ("used to", "以前…过") and not said to be back."""
    if context.occurs(rules.recurrence):
        return False
    text = context.text
    start, end = match
    if any(text.startswith(suffix, end) for suffix in rules.past_right_after):
        return True
    clause_start, clause_end = context.spoken_clause(start, end)
    # Only cues in the hit's clause count (when no cue can cross a clause, read only it).
    where = (clause_start, clause_end) if rules.cues_within_clause else (0, len(text))
    for cue_start, cue_end in context.cues(rules.past_before, where):
        if cue_start >= end:
            break
        if cue_start < clause_start:
            continue
        if cue_end > start or not _interrupted(text, cue_end, start, rules):
            return True
    for cue_start, _ in context.cues(rules.past_after, where):
        if cue_start >= clause_end:
            break
        if cue_start >= end and not _interrupted(text, end, cue_start, rules):
            return True
    return False


def _interrupted(text: str, start: int, end: int, rules: LanguageRules) -> bool:
    """Between a past cue and a hit, a move back to the present or into a new clause."""
    return any(
        pattern is not None and pattern.search(text, start, end)
        for pattern in (rules.present, rules.clause_breaks)
    )


def _about_someone_else(match: Span, context: _Context, rules: LanguageRules) -> bool:
    """The hit is about another person: "my son said he wants to die", "我妈说她不想活了".

    True when the hit itself names the person ("kill himself"), or when a third-person
    cue comes earlier in the sentence and no first-person word follows it before the hit
    or opens the hit ("他们说我是累赘" is about the writer; "他说要杀了我们" is not).
    """
    text = context.text
    start, end = match
    reflexive = rules.third_party_reflexive
    if reflexive is not None and reflexive.search(text, start, end):
        return True
    # Only a cue in the hit's sentence counts (when no cue can cross one, read only it).
    sentence = context.sentence(start, end)
    where = sentence if rules.cues_within_clause else (0, len(text))
    # The cues that start by the hit's start: the search below looks no further.
    found = context.cues(rules.third_party, where)
    cues = list(itertools.takewhile(lambda cue: cue[0] <= start, found))
    index = bisect.bisect_right(cues, (start, start)) - 1
    while index >= 0 and cues[index][1] > start:
        index -= 1
    if index < 0:
        return False
    sentence_start, _ = sentence
    cue_end = cues[index][1]
    if cue_end <= sentence_start:
        return False
    first_person = rules.first_person
    return first_person is None or not (
        first_person.search(text, cue_end, start) or first_person.match(text, start)
    )
