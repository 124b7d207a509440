"""Where a set of compiled phrases matches in a normalised text, with little regex work.

Every match of a phrase holds one of its anchors and a string of each of its other
required sets (see ``CompiledPhrase.requires``), and a phrase whose own words hold no
punctuation matches inside one clause: its gaps and marks never cross a clause break. So
a text is squeezed and cut into clauses once, the required strings of all the lexicon's
phrases, idioms and exceptions are found in one pass (an Aho-Corasick automaton, the
``Vocabulary``), and a phrase's regular expression runs only on the clauses that hold its
anchor and its other required strings. A phrase whose words hold punctuation ("再见(,|)世界")
runs on the whole piece of text asked about, if the piece holds them.

Running a phrase on the part of a clause inside a piece gives exactly the matches that
running it on the whole piece gives there: its lookbehinds read one character back, and
its lookaheads take a clause break, like the end of the piece, as an end. The matches of a
phrase in a stretch of text depend only on that stretch and the character before it, so
they are cached by that wording: a sentence repeated in a message is matched once.
"""

from __future__ import annotations

import bisect
import itertools
import operator
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from collections.abc import Set as AbstractSet

from ahocorasick_rs import AhoCorasick

from flows.risk.normalise import squeeze
from flows.risk.phrases import CLAUSE_BREAKS, CompiledPhrase

CLAUSE_BREAK = re.compile(f"[{CLAUSE_BREAKS}]")

Span = tuple[int, int]
Match = tuple[int, int, Span, list[Span]]
_Found = dict[int, list[Span]]
_Candidates = tuple[tuple[int, ...], tuple[int, ...]]  # kept inside a clause, crossing
_NO_CANDIDATES: _Candidates = ((), ())
_PLACE = operator.itemgetter(0, 1)
_LITERAL = operator.itemgetter(0)
_START = operator.itemgetter(1)
_CLAUSE = operator.itemgetter(0)
_LITERAL_OF_PAIR = operator.itemgetter(1)


class Vocabulary:
    """The literal strings that some phrase sets look for, found in a text in one pass."""

    __slots__ = ("_automaton", "ids")

    def __init__(self, groups: Iterable[Sequence[CompiledPhrase]]) -> None:
        self.ids: dict[str, int] = {}
        for phrases in groups:
            for phrase in phrases:
                for strings in _wanted(phrase):
                    for string in sorted(strings):
                        self.ids.setdefault(string, len(self.ids))
        self._automaton = AhoCorasick(list(self.ids)) if self.ids else None

    def find(self, squeezed: str, breaks: list[int]) -> dict[int, set[int]]:
        """Clause number -> the strings (ids) that start in that clause of a squeezed text
        (``breaks``: its clause breaks)."""
        present: dict[int, set[int]] = {}
        if self._automaton is None:
            return present
        matches = self._automaton.find_matches_as_indexes(squeezed, overlapping=True)
        # Position -> clause number, for every position (a break ends its clause).
        clause_at: list[int] = []
        for clause, (before, end) in enumerate(itertools.pairwise([-1, *breaks, len(squeezed)])):
            clause_at.extend(itertools.repeat(clause, end - before))
        clauses = map(clause_at.__getitem__, map(_START, matches))
        # Matches come by where they end, so nearly always clause by clause.
        pairs = zip(clauses, map(_LITERAL, matches), strict=True)
        for clause, group in itertools.groupby(pairs, _CLAUSE):
            literals = set(map(_LITERAL_OF_PAIR, group))
            if clause in present:
                present[clause] |= literals
            else:
                present[clause] = literals
        return present


class PhraseSet:
    """Compiled phrases of one kind (the lexicon's, the idioms, the exceptions), numbered
    by their position, with the strings they require in a shared vocabulary."""

    __slots__ = ("_owners", "always", "anchor_ids", "needs", "phrases", "within_clause")

    def __init__(self, phrases: Sequence[CompiledPhrase], vocabulary: Vocabulary) -> None:
        self.phrases = tuple(phrases)
        self.within_clause = tuple(phrase.within_clause for phrase in self.phrases)
        ids = vocabulary.ids
        owners: list[list[int]] = [[] for _ in ids]
        for number, phrase in enumerate(self.phrases):
            for string in phrase.anchors or ():
                owners[ids[string]].append(number)
        self._owners = tuple(tuple(numbers) for numbers in owners)
        self.anchor_ids = frozenset(i for i, numbers in enumerate(owners) if numbers)
        # What a clause must hold besides the anchor: one string of each other set (for a
        # phrase that may cross a clause break, the piece it is run on must hold them).
        self.needs = tuple(
            tuple(frozenset(ids[s] for s in strings) for strings in _wanted(phrase)[1:])
            for phrase in self.phrases
        )
        self.always = tuple(n for n, phrase in enumerate(self.phrases) if phrase.anchors is None)

    def anchored(self, literals: AbstractSet[int]) -> _Candidates:
        """The phrases that may match in a clause that holds these strings (an anchor and,
        for a phrase kept inside a clause, a string of each of its other required sets):
        the numbers of those kept inside a clause, and of those that may cross a break."""
        owners, needs, within = self._owners, self.needs, self.within_clause
        numbers = set().union(*map(owners.__getitem__, literals))
        if not numbers:
            return _NO_CANDIDATES
        inside = tuple(
            n for n in numbers if within[n] and not any(map(literals.isdisjoint, needs[n]))
        )
        crossing = tuple(n for n in numbers if not within[n])
        return (inside, crossing) if inside or crossing else _NO_CANDIDATES


class Text:
    """One normalised text: its clauses, and the phrases that can match where in it."""

    __slots__ = (
        "_anchored",
        "_clauses",
        "_cut",
        "_held_in",
        "_present",
        "_vocabulary",
        "_wordings",
        "breaks",
        "squeezed",
        "text",
    )

    def __init__(self, text: str, vocabulary: Vocabulary) -> None:
        self.text = text
        self._vocabulary = vocabulary
        self.breaks = [m.start() for m in CLAUSE_BREAK.finditer(text)]
        self._clauses = list(
            zip([0, *(b + 1 for b in self.breaks)], [*self.breaks, len(text)], strict=True)
        )
        self.squeezed = squeeze(text)  # the model reads it too
        self._present: dict[int, set[int]] | None = None
        self._anchored: dict[int, dict[int, _Candidates]] = {}
        self._wordings: dict[tuple[int, bool, str], _Found] = {}
        self._cut: dict[tuple[int, int, int], set[int]] = {}
        self._held_in: dict[Span, set[int]] = {}

    @property
    def present(self) -> dict[int, set[int]]:
        """Clause number -> the vocabulary's strings (ids) that start in it (found once)."""
        if self._present is None:
            # Squeezing keeps every clause break, so clause k is the same in both texts.
            breaks = self.breaks
            if len(self.squeezed) != len(self.text):
                breaks = [m.start() for m in CLAUSE_BREAK.finditer(self.squeezed)]
            self._present = self._vocabulary.find(self.squeezed, breaks)
        return self._present

    def _anchored_in(self, phrases: PhraseSet) -> dict[int, _Candidates]:
        """Clause number -> the set's phrases that may match in it (see
        ``PhraseSet.anchored``), for the clauses that hold one of the set's anchors."""
        anchored = self._anchored.get(id(phrases))
        if anchored is None:
            anchored = self._anchored[id(phrases)] = {}
            anchors = phrases.anchor_ids
            # Clauses of a message often hold the same strings: each set is judged once.
            kept: dict[frozenset[int], _Candidates] = {}
            for clause, literals in self.present.items():
                if anchors.isdisjoint(literals):
                    continue
                key = frozenset(literals)
                candidates = kept.get(key)
                if candidates is None:
                    candidates = kept[key] = phrases.anchored(literals)
                if candidates is not _NO_CANDIDATES:
                    anchored[clause] = candidates
        return anchored

    def work(
        self, phrases: PhraseSet, pieces: list[Span], only: Collection[int] | None = None
    ) -> Iterator[Match]:
        """Where the phrases of the set (or those of them numbered in ``only``) match in
        the given pieces of the text: (phrase, piece number, region, match spans) for each
        region of a piece that holds a match, in the order phrase, piece, region, found as
        they are asked for. The spans are those that running the phrase's pattern over the
        whole piece finds in the region. A region is read at the first piece that holds it
        only: a later window would find the same matches again."""
        breaks = self.breaks
        anchored = self._anchored_in(phrases)
        overlapping: dict[int, list[int]] = {}  # clause with anchors -> pieces overlapping it
        for index, (start, end) in enumerate(pieces):
            first = bisect.bisect_left(breaks, start)
            for clause in range(first, bisect.bisect_left(breaks, end - 1) + 1):
                if clause in anchored:
                    overlapping.setdefault(clause, []).append(index)
        by_phrase: dict[int, list[tuple[int, Span, _Found, bool]]] = {}  # ..., cut
        whole: dict[int, set[int]] = {}  # piece -> phrases to run on all of it
        regions: set[Span] = set()
        for clause, indexes in overlapping.items():
            inside, crossing = anchored[clause]
            if only is not None:
                inside = tuple(n for n in inside if n in only)
                crossing = tuple(n for n in crossing if n in only)
            low, high = self._clauses[clause]
            for index in indexes:  # in piece order
                start, end = pieces[index]
                region = (max(low, start), min(high, end))
                if region[0] >= region[1]:
                    continue
                # Phrases that may cross a clause break run on every piece holding anchors.
                if crossing:
                    whole.setdefault(index, set()).update(crossing)
                if not inside or region in regions:
                    continue
                regions.add(region)
                found, again = self._found(phrases, region)
                cut = region != (low, high)  # a window cuts the clause
                entry = (index, region, found, cut)
                for number in inside:
                    # A wording met before is matched now (once): most phrases are not in it.
                    if again:
                        spans = found.get(number)
                        if spans is None:
                            spans = self._spans(phrases, number, region, found, cut)
                        if not spans:
                            continue
                    by_phrase.setdefault(number, []).append(entry)
        for number in phrases.always:
            if only is not None and number not in only:
                continue
            for index in range(len(pieces)):
                whole.setdefault(index, set()).add(number)
        for index, wholly in whole.items():
            found, _ = self._found(phrases, pieces[index])
            held = self._held(*pieces[index])
            for number in wholly:
                if not any(map(held.isdisjoint, phrases.needs[number])):
                    entry = (index, pieces[index], found, False)
                    by_phrase.setdefault(number, []).append(entry)
        for number in sorted(by_phrase):
            for index, region, found, cut in sorted(by_phrase[number], key=_PLACE):
                if spans := self._spans(phrases, number, region, found, cut):
                    low = region[0]
                    yield number, index, region, [(s + low, e + low) for s, e in spans]

    def _candidates(self, phrases: PhraseSet, region: Span) -> set[int]:
        """The phrases that may match in a stretch of one clause, from its own strings."""
        key = (id(phrases), *region)
        found = self._cut.get(key)
        if found is None:
            present = self._vocabulary.find(squeeze(self.text[region[0] : region[1]]), [])
            found = self._cut[key] = set(phrases.anchored(present[0])[0] if present else ())
        return found

    def _held(self, start: int, end: int) -> set[int]:
        """The strings (ids) that start in the clauses overlapping text[start:end] (kept:
        the phrases, the idioms and the exceptions of a piece all ask)."""
        held = self._held_in.get((start, end))
        if held is None:
            present = self.present
            first = bisect.bisect_left(self.breaks, start)
            last = bisect.bisect_left(self.breaks, end - 1)
            held = set().union(*(present.get(clause, ()) for clause in range(first, last + 1)))
            self._held_in[(start, end)] = held
        return held

    def _found(self, phrases: PhraseSet, region: Span) -> tuple[_Found, bool]:
        """The matches (relative to its start) of the set's phrases in a region, by phrase
        number, as far as found, and whether that wording was met before: shared by every
        region of the same wording, which with the character before it decides them."""
        low, high = region
        key = (id(phrases), low == 0, self.text[max(low - 1, 0) : high])
        found = self._wordings.get(key)
        if found is None:
            found = self._wordings[key] = {}
            return found, False
        return found, True

    def _spans(
        self, phrases: PhraseSet, number: int, region: Span, found: _Found, cut: bool
    ) -> list[Span]:
        """A phrase's matches in a region, relative to its start (``found`` keeps them).
        A window that cuts a long clause may not hold the anchor that the clause holds:
        such a region is looked up on its own first."""
        spans = found.get(number)
        if spans is None and cut and number not in self._candidates(phrases, region):
            spans = found[number] = []
        if spans is None:
            low, high = region
            pattern = phrases.phrases[number].pattern
            spans = found[number] = [
                (m.start() - low, m.end() - low) for m in pattern.finditer(self.text, low, high)
            ]
        return spans


def _wanted(phrase: CompiledPhrase) -> list[frozenset[str]]:
    """The phrase's anchors, then its other required sets worth looking for."""
    return [s for i, s in enumerate(phrase.requires) if not i or _worth_finding(s)]


def _worth_finding(strings: frozenset[str]) -> bool:
    """A required set with a Latin string of one or two characters ("i", "my", "to") is in
    nearly every clause: finding it would cost more than the regexes it saves."""
    return not any(len(string) < 3 and string.isascii() for string in strings)
