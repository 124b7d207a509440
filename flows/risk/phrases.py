"""The lexicon's phrase language, compiled to regular expressions.

Program teams write phrases, not regular expressions. A phrase is literal text with a
few marks (documented in docs/risk-lexicon.md):

``(a|b|c)``  one of the alternatives; an empty alternative makes the group optional
``*``        up to four whole words
``~``        up to eight characters (spaces not counted) in the same clause (for Chinese)
``#``        one digit
``^``        the start of a clause: the start of the message, after punctuation or
             after a space between Chinese words
``$``        the end of a clause: punctuation, the end of the message or a space
             between Chinese words
``\\x``      the character x itself

(``{name}`` references to a language's named sets are expanded by the lexicon loader
before a phrase reaches this module.)

Literal pieces go through the same normalisation as messages, so they may be written in
Traditional or Simplified characters, with capitals or doubled letters. A space between
words matches one optional space, so "kill myself" also matches "killmyself". A phrase
that starts or ends with a Latin letter or digit matches only at a word edge ("od" does
not match inside "god").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypeAlias

from flows.risk.normalise import CJK, Normaliser

_WORD_GAP_MAX = 4
_CHAR_GAP_MAX = 8
CLAUSE_BREAKS = ".,!?;:。，！？；：\n…"  # punctuation that ends a clause
_NOT_WORD = r"[^ " + CLAUSE_BREAKS + "]"
_START_EDGE = r"(?:(?<![a-z0-9])|(?![a-z0-9]))"
_END_EDGE = r"(?:(?![a-z0-9])|(?<![a-z0-9]))"
# Each word follows a space and is followed by one; the last space is taken if nothing
# after the gap needs it, so that a second gap can start there ("* *": eight words).
_WORD_GAP = rf"(?: {_NOT_WORD}++(?= )){{0,{_WORD_GAP_MAX}}} ?"
# The character gap does not count spaces: a space between Chinese words is kept (see
# normalise.py), and "~" reaches as far as in the same words written without one.
_CHAR_GAP = rf"(?: ?[^ {CLAUSE_BREAKS}]){{0,{_CHAR_GAP_MAX}}}? ?"
# A space before a Chinese character also ends and starts a clause: the normaliser keeps
# one only where Chinese chat uses it as punctuation, between words ("我很累 不想活了").
_CLAUSE_END = rf"(?:(?= ?(?:$|[{CLAUSE_BREAKS}]))|(?<=[{CJK}])(?= [{CJK}]))"
_CLAUSE_START = rf"(?:(?:^|(?<=[{CLAUSE_BREAKS}])) ?|(?<= )(?=[{CJK}]))"
# Regex habits that would silently match nothing in a phrase; rejected with advice.
_REGEX_HABITS = "?+[]"


class PhraseSyntaxError(ValueError):
    """A phrase could not be parsed; the message says where and why."""


@dataclass(frozen=True, slots=True)
class CompiledPhrase:
    """One lexicon phrase ready to match normalised text.

    ``requires`` are sets of literal strings (squeezed, see ``normalise.squeeze``) of each
    of which any text the phrase matches holds at least one, the most selective first;
    they let the matcher skip the regex for most messages. ``within_clause`` says that no
    match holds a clause break (punctuation), so the phrase can be run clause by clause.
    """

    source: str
    pattern: re.Pattern[str]
    requires: tuple[frozenset[str], ...]
    within_clause: bool

    @property
    def anchors(self) -> frozenset[str] | None:
        """The most selective of ``requires``; ``None`` means the phrase has no usable
        anchor and is always tried."""
        return self.requires[0] if self.requires else None


@dataclass(frozen=True, slots=True)
class _Literal:
    text: str


@dataclass(frozen=True, slots=True)
class _Group:
    alternatives: tuple[tuple[_Node, ...], ...]


@dataclass(frozen=True, slots=True)
class _Mark:
    kind: str  # "*", "~", "#", "^", "$"


_Node: TypeAlias = "_Literal | _Group | _Mark"


def compile_phrase(source: str, normaliser: Normaliser) -> CompiledPhrase:
    """Compile one phrase; raise PhraseSyntaxError if it is malformed or empty."""
    nodes = parse_phrase(source, normaliser)
    return CompiledPhrase(
        source=source,
        pattern=re.compile(phrase_regex(source, normaliser)),
        # Stable: of equally selective sets, the first in the phrase comes first.
        requires=tuple(sorted(_requirements(nodes), key=_selectivity, reverse=True)),
        within_clause=not _holds_clause_break(nodes),
    )


def phrase_regex(source: str, normaliser: Normaliser) -> str:
    """Return the regular-expression source for a phrase, including its word edges."""
    return _edged_regex(parse_phrase(source, normaliser)) + _END_EDGE


def alternation(sources: list[str], normaliser: Normaliser) -> str | None:
    """Regex source matching any of several phrases, or None for an empty list.

    Longer phrases are tried first, so that scanning for cues finds "no longer" rather
    than stopping at "no".
    """
    if not sources:
        return None
    ordered = sorted(sources, key=len, reverse=True)
    group = _Group(tuple(parse_phrase(s, normaliser) for s in ordered))
    return _edged_regex((group,)) + _END_EDGE


def sample(source: str, normaliser: Normaliser) -> str:
    """A short text the phrase matches: the first alternative of each group, empty gaps.

    Lets a lexicon author (and the tests) check that a phrase can match at all.
    """
    return _sample_of_sequence(parse_phrase(source, normaliser)).strip()


def _sample_of_sequence(nodes: tuple[_Node, ...]) -> str:
    parts = []
    for node in nodes:
        if isinstance(node, _Literal):
            parts.append(node.text)
        elif isinstance(node, _Group):
            parts.append(_sample_of_sequence(node.alternatives[0]))
        elif node.kind == "#":
            parts.append("1")
        elif node.kind in "*~":
            parts.append(" ")
    return "".join(parts)


def parse_phrase(source: str, normaliser: Normaliser) -> tuple[_Node, ...]:
    """Parse a phrase into literal pieces (already normalised), groups and marks."""
    if not isinstance(source, str) or not source.strip():
        raise PhraseSyntaxError("a phrase must be a non-empty string")
    parser = _Parser(source, normaliser)
    nodes = parser.sequence()
    if parser.pos != len(source):
        raise PhraseSyntaxError(f"unexpected {source[parser.pos]!r} at position {parser.pos}")
    nodes = _trim_spaces_near_marks(nodes)
    if not _has_text(nodes):
        raise PhraseSyntaxError("a phrase needs some literal text, not only marks")
    return nodes


class _Parser:
    def __init__(self, source: str, normaliser: Normaliser) -> None:
        self.source = source
        self.pos = 0
        self.normaliser = normaliser

    def sequence(self) -> tuple[_Node, ...]:
        nodes: list[_Node] = []
        buffer: list[str] = []

        def flush() -> None:
            if buffer:
                text = self.normaliser.normalise_fragment("".join(buffer))
                if text:
                    nodes.append(_Literal(text))
                buffer.clear()

        while self.pos < len(self.source):
            char = self.source[self.pos]
            if char in ")|":
                break
            if char == "\\":
                if self.pos + 1 >= len(self.source):
                    raise PhraseSyntaxError("a phrase cannot end with a backslash")
                buffer.append(self.source[self.pos + 1])
                self.pos += 2
            elif char == "(":
                flush()
                self.pos += 1
                nodes.append(self.group())
            elif char in _REGEX_HABITS:
                raise PhraseSyntaxError(
                    f"{char!r} at position {self.pos} is not phrase syntax: a space between words "
                    "is already optional, and word forms are written out as (a|b); "
                    f"write \\{char} for a literal {char!r}"
                )
            elif char in "*~#$^":
                flush()
                nodes.append(_Mark(char))
                self.pos += 1
            else:
                buffer.append(char)
                self.pos += 1
        flush()
        return tuple(nodes)

    def group(self) -> _Group:
        start = self.pos - 1
        alternatives = [self.sequence()]
        while self.pos < len(self.source) and self.source[self.pos] == "|":
            self.pos += 1
            alternatives.append(self.sequence())
        if self.pos >= len(self.source) or self.source[self.pos] != ")":
            raise PhraseSyntaxError(f"the group opened at position {start} is not closed")
        self.pos += 1
        if len(alternatives) == 1 and not alternatives[0]:
            raise PhraseSyntaxError(f"empty group at position {start}")
        return _Group(tuple(alternatives))


def _trim_spaces_near_marks(nodes: tuple[_Node, ...]) -> tuple[_Node, ...]:
    """Drop spaces next to word and character gaps: the gap itself decides spacing."""
    out: list[_Node] = []
    for index, node in enumerate(nodes):
        if isinstance(node, _Literal):
            text = node.text
            before = nodes[index - 1] if index > 0 else None
            after = nodes[index + 1] if index + 1 < len(nodes) else None
            if isinstance(before, _Mark) and before.kind in "*~^":
                text = text.lstrip(" ")
            if isinstance(after, _Mark) and after.kind in "*~$":
                text = text.rstrip(" ")
            if text:
                out.append(_Literal(text))
        elif isinstance(node, _Group):
            out.append(_Group(tuple(_trim_spaces_near_marks(alt) for alt in node.alternatives)))
        else:
            out.append(node)
    return tuple(out)


def _has_text(nodes: tuple[_Node, ...]) -> bool:
    for node in nodes:
        if isinstance(node, _Literal) and node.text.strip():
            return True
        if isinstance(node, _Group) and any(_has_text(alt) for alt in node.alternatives):
            return True
    return False


def _regex_of_sequence(nodes: tuple[_Node, ...]) -> str:
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, _Literal):
            parts.append(_literal_regex(node.text))
        elif isinstance(node, _Group):
            parts.append("(?:" + "|".join(_regex_of_sequence(a) for a in node.alternatives) + ")")
        elif node.kind == "*":
            parts.append(_WORD_GAP)
        elif node.kind == "~":
            parts.append(_CHAR_GAP)
        elif node.kind == "#":
            parts.append("[0-9]")
        elif node.kind == "^":
            parts.append(_CLAUSE_START)
        else:
            parts.append(_CLAUSE_END)
    return "".join(parts)


def _edged_regex(nodes: tuple[_Node, ...]) -> str:
    """The regex of a sequence that starts at a word edge (``_START_EDGE``).

    Where every way the sequence can start is with a known character, the edge is checked
    just after that character instead ("k(?<![a-z0-9]k)k*i...": the k is not preceded by
    a letter or digit; no check after a character that is not one, since the edge always
    holds before it): the same matches, but the regex then starts with that character or a
    group of alternatives that each start with one, and ``re`` jumps straight to the
    places that hold one instead of trying the edge at every position of the text.
    """
    edged = _edged(nodes)
    return _START_EDGE + _regex_of_sequence(nodes) if edged is None else edged


def _edged(nodes: tuple[_Node, ...]) -> str | None:
    if not nodes:
        return None
    first, rest = nodes[0], _regex_of_sequence(nodes[1:])
    if isinstance(first, _Group):
        alternatives = []
        for alternative in first.alternatives:
            edged = _edged(alternative)
            if edged is None:
                return None
            alternatives.append(edged)
        return "(?:" + "|".join(alternatives) + ")" + rest
    if not isinstance(first, _Literal) or first.text[0] == " ":
        return None  # a mark, or an optional space: no known first character
    char = first.text[0]
    head = re.escape(char)
    if "a" <= char <= "z" or "0" <= char <= "9":
        head += f"(?<![a-z0-9]{head})"
    if "a" <= char <= "z":
        head += char + "*"  # the rest of a stretched letter ("kk*")
    return head + _literal_regex(first.text[1:]) + rest


def _literal_regex(text: str) -> str:
    """A space may be absent; a Latin letter may be stretched ("kiiill", "dieeee").

    A stretched letter is written ``kk*`` rather than ``k+`` (the same matches): ``re``
    then skips an alternative of a group at once when its first letter is not there.
    """
    out = []
    for char in text:
        if char == " ":
            out.append(" ?")
        elif "a" <= char <= "z":
            out.append(char + char + "*")
        else:
            out.append(re.escape(char))
    return "".join(out)


def _anchors(nodes: tuple[_Node, ...]) -> frozenset[str] | None:
    """Pick the most selective set of literal strings that every match must contain."""
    return max(_requirements(nodes), key=_selectivity, default=None)


def _requirements(nodes: tuple[_Node, ...]) -> list[frozenset[str]]:
    """Sets of literal strings (squeezed) of each of which every match holds one: each
    word of a literal piece, and the anchors of a group none of whose alternatives is
    empty or only marks."""
    found: list[frozenset[str]] = []
    for node in nodes:
        if isinstance(node, _Literal):
            found.extend(frozenset([chunk]) for chunk in node.text.split(" ") if chunk)
        elif isinstance(node, _Group):
            union = _union_of_alternatives(node.alternatives)
            if union:
                found.append(union)
    return found


def _holds_clause_break(nodes: tuple[_Node, ...]) -> bool:
    """Some literal of the phrase holds a clause break ("再见(,|)世界"); the marks and
    gaps never match one."""
    for node in nodes:
        if isinstance(node, _Literal) and not set(CLAUSE_BREAKS).isdisjoint(node.text):
            return True
        if isinstance(node, _Group) and any(_holds_clause_break(a) for a in node.alternatives):
            return True
    return False


def _union_of_alternatives(alternatives: tuple[tuple[_Node, ...], ...]) -> frozenset[str] | None:
    union: set[str] = set()
    for alternative in alternatives:
        anchors = _anchors(alternative)
        if anchors is None:
            return None  # an optional or gap-only alternative guarantees no literal
        union |= anchors
    return frozenset(union)


def _selectivity(anchors: frozenset[str]) -> tuple[int, int]:
    return (min(len(a) for a in anchors), -len(anchors))
