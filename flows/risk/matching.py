"""Where a set of compiled phrases matches in a normalised text, with little regex work.

Every match of a phrase holds one of its anchors (see ``CompiledPhrase``), and a phrase
whose own words hold no punctuation matches inside one clause: its gaps and marks never
cross a clause break. So a text is squeezed and cut into clauses once, the anchors of all
the phrases of a set are found in one pass (an Aho-Corasick automaton), and a phrase's
regular expression runs only on the clauses that hold one of its anchors. A phrase whose
words hold punctuation ("再见(,|)世界") runs on the whole piece of text asked about.

Running a phrase on the part of a clause inside a piece gives exactly the matches that
running it on the whole piece gives there: its lookbehinds read one character back, and
its lookaheads take a clause break, like the end of the piece, as an end. The matches of a
phrase in a stretch of text depend only on that stretch and the character before it, so
they are cached by that wording: a sentence repeated in a message is matched once.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from ahocorasick_rs import AhoCorasick

from flows.risk.normalise import squeeze
from flows.risk.phrases import CLAUSE_BREAKS, CompiledPhrase

CLAUSE_BREAK = re.compile(f"[{CLAUSE_BREAKS}]")

Span = tuple[int, int]


class PhraseSet:
    """Compiled phrases of one kind (the lexicon's, the idioms, the exceptions), numbered
    by their position, with all their anchors in one automaton."""

    __slots__ = ("_automaton", "_checks", "_owners", "always", "phrases", "within_clause")

    def __init__(self, phrases: Sequence[CompiledPhrase]) -> None:
        self.phrases = tuple(phrases)
        self.within_clause = tuple(phrase.within_clause for phrase in self.phrases)
        self._checks = tuple(
            _requirements_check(phrase.requires[1:]) if phrase.within_clause else None
            for phrase in self.phrases
        )
        by_anchor: dict[str, list[int]] = {}
        always: list[int] = []
        for number, phrase in enumerate(self.phrases):
            if phrase.anchors is None:
                always.append(number)
            for anchor in phrase.anchors or ():
                by_anchor.setdefault(anchor, []).append(number)
        self._owners = tuple(tuple(numbers) for numbers in by_anchor.values())
        self._automaton = AhoCorasick(list(by_anchor)) if by_anchor else None
        self.always = tuple(always)

    def anchored(self, squeezed: str, breaks: list[int]) -> dict[int, list[int]]:
        """Clause number -> numbers of the phrases that may match in that clause of a
        squeezed text (``breaks``: its clause breaks): an anchor starts in the clause and,
        for a phrase kept inside a clause, its other required words are there too."""
        if self._automaton is None:
            return {}
        matches = self._automaton.find_matches_as_indexes(squeezed, overlapping=True)
        owners = self._owners
        anchored: dict[int, set[int]] = {}
        for clause, anchor in {(bisect.bisect_left(breaks, s), a) for a, s, _ in matches}:
            anchored.setdefault(clause, set()).update(owners[anchor])
        checks = self._checks
        found: dict[int, list[int]] = {}
        for clause, numbers in anchored.items():
            low = breaks[clause - 1] + 1 if clause else 0
            high = breaks[clause] if clause < len(breaks) else len(squeezed)
            kept = [
                number
                for number in numbers
                if (check := checks[number]) is None or check.match(squeezed, low, high)
            ]
            if kept:
                found[clause] = kept
        return found


class Text:
    """One normalised text: its clauses, and the phrases that can match where in it."""

    __slots__ = ("_anchored", "_spans", "_squeezed", "_squeezed_breaks", "breaks", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.breaks = [m.start() for m in CLAUSE_BREAK.finditer(text)]
        # Squeezing keeps every clause break, so clause k is the same in both texts.
        self._squeezed = squeeze(text)
        self._squeezed_breaks = [m.start() for m in CLAUSE_BREAK.finditer(self._squeezed)]
        self._anchored: dict[int, dict[int, list[int]]] = {}
        self._spans: dict[tuple[int, int, bool, str], list[Span]] = {}

    def regions(self, phrases: PhraseSet, start: int, end: int) -> dict[int, list[Span]]:
        """For each phrase of the set that may match in text[start:end], the stretches of
        it to run the phrase on (in order): the clauses holding an anchor, or all of it."""
        anchored = self._anchored.get(id(phrases))
        if anchored is None:
            anchored = self._anchored[id(phrases)] = phrases.anchored(
                self._squeezed, self._squeezed_breaks
            )
        breaks = self.breaks
        within = phrases.within_clause
        found: dict[int, list[Span]] = {}
        first = bisect.bisect_left(breaks, start)
        last = bisect.bisect_left(breaks, end - 1)
        for clause in range(first, last + 1):
            numbers = anchored.get(clause)
            if not numbers:
                continue
            low = max(start, breaks[clause - 1] + 1 if clause else 0)
            high = min(end, breaks[clause] if clause < len(breaks) else len(self.text))
            if low >= high:
                continue
            for number in numbers:
                if within[number]:
                    found.setdefault(number, []).append((low, high))
                else:
                    found[number] = [(start, end)]
        for number in phrases.always:
            found[number] = [(start, end)]
        return found

    def spans(self, phrases: PhraseSet, number: int, region: Span) -> list[Span]:
        """Spans of the matches of one phrase in one stretch of the text, in order: those
        that ``pattern.finditer(text, start, end)`` finds there over the piece it is cut
        from."""
        low, high = region
        text = self.text
        key = (id(phrases), number, low == 0, text[max(low - 1, 0) : high])
        found = self._spans.get(key)
        if found is None:
            pattern = phrases.phrases[number].pattern
            found = self._spans[key] = [
                (m.start() - low, m.end() - low) for m in pattern.finditer(text, low, high)
            ]
        return [(start + low, end + low) for start, end in found]


def _requirements_check(requires: Sequence[frozenset[str]]) -> re.Pattern[str] | None:
    """A pattern that matches at the start of a squeezed clause holding one string of each
    set (None when there is nothing more to check)."""
    if not requires:
        return None
    lookaheads = (
        "(?=.*?(?:" + "|".join(re.escape(s) for s in sorted(strings, key=len, reverse=True)) + "))"
        for strings in requires
    )
    return re.compile("".join(lookaheads), re.DOTALL)
