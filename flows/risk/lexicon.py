"""Loading, validating and precompiling a risk lexicon (a JSON data file).

The format is documented in docs/risk-lexicon.md. Everything that can be done once is
done here, at load time: phrases become regular expressions, cue lists become one
pattern per language, and the phrases are gathered into sets (``PhraseSet``) that find
all their anchors in a message in one pass, so that assessing a message runs only the
few regexes whose anchor occurs in it, and only on the clauses that hold it.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from flows.risk.levels import CATEGORIES, Level
from flows.risk.matching import PhraseSet, Vocabulary
from flows.risk.normalise import Normaliser
from flows.risk.phrases import (
    CompiledPhrase,
    PhraseSyntaxError,
    alternation,
    compile_phrase,
)

FORMAT = "tongban-risk-lexicon/1"
BUILTIN_PATH = Path(__file__).with_name("lexicon.json")
FOLD_PATH = Path(__file__).with_name("hanzi_fold.json")

_TOP_KEYS = {"format", "name", "description", "extends", "disable", "fold", "languages", "entries"}
_LANGUAGE_KEYS = {
    "sets",
    "hyperbole",
    "negation",
    "past",
    "present",
    "recurrence",
    "clause_breaks",
    "third_party",
}
_ENTRY_KEYS = {"id", "lang", "category", "level", "phrases", "except", "note"}
_ENTRY_LEVELS = {Level.CRISIS.value, Level.CONCERN.value}
_SET_REFERENCE = re.compile(r"(?<!\\)\{([a-z_][a-z0-9_]*)\}")
_SET_NAME = re.compile(r"[a-z_][a-z0-9_]*")


class LexiconError(ValueError):
    """A lexicon file is unreadable or invalid; the message names the file and entry."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon entry: phrases of one language that signal one category at one level."""

    id: str
    lang: str
    category: str
    level: Level
    phrases: tuple[CompiledPhrase, ...]
    exceptions: tuple[CompiledPhrase, ...]


@dataclass(frozen=True, slots=True)
class LanguageRules:
    """Compiled context cues of one language (see docs/risk-lexicon.md, "Context")."""

    negation: re.Pattern[str] | None
    past_before: re.Pattern[str] | None
    past_after: re.Pattern[str] | None
    past_right_after: tuple[str, ...]
    present: re.Pattern[str] | None
    recurrence: re.Pattern[str] | None
    clause_breaks: re.Pattern[str] | None
    third_party: re.Pattern[str] | None
    third_party_reflexive: re.Pattern[str] | None
    first_person: re.Pattern[str] | None
    # No past or third-party cue holds punctuation, so a cue in a clause is found by
    # reading that clause (or sentence) alone, not the whole message.
    cues_within_clause: bool


@dataclass(frozen=True, slots=True)
class Lexicon:
    """A loaded, validated and precompiled lexicon. Build it with load_lexicon()."""

    name: str
    sources: tuple[str, ...]
    normaliser: Normaliser
    entries: tuple[Entry, ...]
    languages: Mapping[str, LanguageRules]
    hyperbole: tuple[CompiledPhrase, ...]
    # The strings that the phrase sets below look for in a message, in one pass.
    vocabulary: Vocabulary = field(repr=False)
    # Every entry's phrases, crisis entries first, and the entry each belongs to.
    phrases: PhraseSet = field(repr=False)
    phrase_owners: tuple[int, ...] = field(repr=False)
    idioms: PhraseSet = field(repr=False)
    # Every entry's exceptions, and the numbers (in that set) of each entry's own.
    exceptions: PhraseSet = field(repr=False)
    exceptions_of: tuple[tuple[int, ...], ...] = field(repr=False)


def load_lexicon(path: str | os.PathLike[str]) -> Lexicon:
    """Load, validate and compile the lexicon file at ``path``.

    A file with ``"extends": "builtin"`` is layered over the built-in lexicon; any other
    file replaces it. Raises LexiconError naming the file and the bad entry.
    """
    raw = _read_raw(Path(path))
    if raw.extends is not None:
        raw = _merge(_read_raw(BUILTIN_PATH), raw)
    return _compile(raw)


@cache
def default_lexicon() -> Lexicon:
    """The built-in lexicon, loaded once per process."""
    return load_lexicon(BUILTIN_PATH)


# --- reading and validating -------------------------------------------------------------


@dataclass(slots=True)
class _RawEntry:
    origin: str
    position: int
    data: dict[str, Any]

    def where(self) -> str:
        return f"{self.origin}: entries[{self.position}] (id {self.data.get('id')!r})"


@dataclass(slots=True)
class _RawLexicon:
    origin: str
    name: str
    extends: str | None
    disable: list[str]
    fold: dict[str, str]
    languages: dict[str, dict[str, Any]]
    entries: list[_RawEntry]
    sources: list[str]


def _read_raw(path: Path) -> _RawLexicon:
    origin = str(path)
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        raise LexiconError(f"{origin}: file not found") from None
    except json.JSONDecodeError as error:
        raise LexiconError(
            f"{origin}: not valid JSON (line {error.lineno}, column {error.colno}: {error.msg})"
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise LexiconError(f"{origin}: cannot be read ({error})") from None
    if not isinstance(data, dict):
        raise LexiconError(f"{origin}: the top level must be a JSON object")
    _check_keys(origin, data, _TOP_KEYS)
    if data.get("format") != FORMAT:
        raise LexiconError(f"{origin}: 'format' must be {FORMAT!r}, found {data.get('format')!r}")
    extends = data.get("extends")
    if extends not in (None, "builtin"):
        raise LexiconError(f"{origin}: 'extends' may only be \"builtin\", found {extends!r}")
    disable = data.get("disable", [])
    if not _is_str_list(disable):
        raise LexiconError(f"{origin}: 'disable' must be a list of entry ids")
    if disable and extends is None:
        raise LexiconError(f'{origin}: \'disable\' only makes sense with "extends": "builtin"')
    fold = data.get("fold", {})
    if not isinstance(fold, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and len(k) == 1 and len(v) == 1
        for k, v in fold.items()
    ):
        raise LexiconError(f"{origin}: 'fold' must map single characters to single characters")
    languages = data.get("languages", {})
    if not isinstance(languages, dict):
        raise LexiconError(f"{origin}: 'languages' must be an object keyed by language code")
    for code, rules in languages.items():
        _check_language(origin, code, rules)
    entries = data.get("entries", [])
    if not isinstance(entries, list):
        raise LexiconError(f"{origin}: 'entries' must be a list")
    raw_entries = []
    for position, entry in enumerate(entries):
        raw = _RawEntry(origin, position, entry if isinstance(entry, dict) else {})
        if not isinstance(entry, dict):
            raise LexiconError(f"{raw.where()}: an entry must be a JSON object")
        _check_entry_shape(raw)
        raw_entries.append(raw)
    name = data.get("name", path.stem)
    return _RawLexicon(
        origin=origin,
        name=name if isinstance(name, str) else path.stem,
        extends=extends,
        disable=list(disable),
        fold=dict(fold),
        languages={code: dict(rules) for code, rules in languages.items()},
        entries=raw_entries,
        sources=[origin],
    )


def _check_keys(where: str, data: dict[str, object], allowed: set[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise LexiconError(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(allowed)}")


def _check_language(origin: str, code: str, rules: object) -> None:
    where = f"{origin}: languages.{code}"
    if not isinstance(rules, dict):
        raise LexiconError(f"{where} must be an object")
    _check_keys(where, rules, _LANGUAGE_KEYS)
    sets = rules.get("sets", {})
    if not isinstance(sets, dict) or not all(
        isinstance(name, str) and _SET_NAME.fullmatch(name) and _is_str_list(items) and items
        for name, items in sets.items()
    ):
        raise LexiconError(
            f"{where}.sets must map lowercase names (a-z, 0-9, _) to non-empty lists of phrases"
        )
    for key in ("hyperbole", "present", "recurrence", "clause_breaks"):
        if key in rules and not _is_str_list(rules[key]):
            raise LexiconError(f"{where}.{key} must be a list of phrases")
    shapes: dict[str, dict[str, type]] = {
        "negation": {"cues": list, "fillers": list, "max_fillers": int},
        "past": {"before": list, "after": list, "right_after": list},
        "third_party": {"cues": list, "reflexive": list, "first_person": list},
    }
    for key, shape in shapes.items():
        if key not in rules:
            continue
        value = rules[key]
        if not isinstance(value, dict):
            raise LexiconError(f"{where}.{key} must be an object with keys {sorted(shape)}")
        for sub, sub_value in value.items():
            expected = shape.get(sub)
            if expected is None:
                raise LexiconError(f"{where}.{key}: unknown key {sub!r}; allowed: {sorted(shape)}")
            if expected is list and not _is_str_list(sub_value):
                raise LexiconError(f"{where}.{key}.{sub} must be a list of phrases")
            if expected is int and (
                not isinstance(sub_value, int) or isinstance(sub_value, bool) or sub_value < 0
            ):
                raise LexiconError(f"{where}.{key}.{sub} must be a non-negative integer")


def _check_entry_shape(raw: _RawEntry) -> None:
    data = raw.data
    _check_keys(raw.where(), data, _ENTRY_KEYS)
    for key in ("id", "lang", "category", "level"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise LexiconError(f"{raw.where()}: '{key}' is required and must be a string")
    if data["category"] not in CATEGORIES:
        raise LexiconError(
            f"{raw.where()}: unknown category {data['category']!r}; "
            f"expected one of {sorted(CATEGORIES)}"
        )
    if data["level"] not in _ENTRY_LEVELS:
        raise LexiconError(
            f'{raw.where()}: level must be "crisis" or "concern", found {data["level"]!r}'
        )
    phrases = data.get("phrases")
    if not _is_str_list(phrases) or not phrases:
        raise LexiconError(f"{raw.where()}: 'phrases' must be a non-empty list of strings")
    if "except" in data and not _is_str_list(data["except"]):
        raise LexiconError(f"{raw.where()}: 'except' must be a list of strings")


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


# --- layering a program's file over the built-in one ------------------------------------


def _merge(base: _RawLexicon, overlay: _RawLexicon) -> _RawLexicon:
    """Layer ``overlay`` over ``base``: lists are extended, same-id entries replaced."""
    known_ids = {entry.data["id"] for entry in base.entries}
    for entry_id in overlay.disable:
        if entry_id not in known_ids:
            raise LexiconError(
                f"{overlay.origin}: 'disable' names {entry_id!r}, which is not a built-in entry"
            )
    replaced = {entry.data["id"] for entry in overlay.entries}
    dropped = set(overlay.disable) | replaced
    entries = [entry for entry in base.entries if entry.data["id"] not in dropped]
    entries.extend(overlay.entries)
    languages = {code: dict(rules) for code, rules in base.languages.items()}
    for code, rules in overlay.languages.items():
        languages[code] = _merge_rules(languages.get(code, {}), rules)
    return _RawLexicon(
        origin=overlay.origin,
        name=overlay.name,
        extends=None,
        disable=[],
        fold={**base.fold, **overlay.fold},
        languages=languages,
        entries=entries,
        sources=base.sources + overlay.sources,
    )


def _merge_rules(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overlay.items():
        if isinstance(value, list):
            merged[key] = list(base.get(key, [])) + value
        elif isinstance(value, dict):
            merged[key] = _merge_rules(base.get(key, {}), value)
        else:
            merged[key] = value
    return merged


# --- compiling ----------------------------------------------------------------------------


@cache
def _builtin_fold() -> Mapping[str, str]:
    with FOLD_PATH.open(encoding="utf-8") as handle:
        data = json.load(handle)
    fold: dict[str, str] = data["map"]
    return fold


class _Compiler:
    """Compiles the phrases of one language: expands ``{set}`` references, then parses."""

    def __init__(self, sets: Mapping[str, list[str]], normaliser: Normaliser) -> None:
        self._sets = sets
        self.normaliser = normaliser

    def expand(self, source: str, seen: frozenset[str] = frozenset()) -> str:
        """Replace each ``{name}`` with ``(item|item|...)`` from the language's sets."""

        def replace(reference: re.Match[str]) -> str:
            name = reference.group(1)
            if name not in self._sets:
                raise PhraseSyntaxError(
                    f"unknown set {{{name}}}; defined sets: {sorted(self._sets) or 'none'}"
                )
            if name in seen:
                raise PhraseSyntaxError(f"set {{{name}}} refers to itself")
            items = [self.expand(item, seen | {name}) for item in self._sets[name]]
            return "(" + "|".join(items) + ")"

        return _SET_REFERENCE.sub(replace, source)

    def phrase(self, where: str, source: str) -> CompiledPhrase:
        try:
            return compile_phrase(self.expand(source), self.normaliser)
        except (PhraseSyntaxError, re.error) as error:
            raise LexiconError(f"{where}: bad phrase {source!r}: {error}") from None

    def pattern(self, where: str, sources: Iterable[str]) -> re.Pattern[str] | None:
        regex = self.alternation(where, sources)
        return None if regex is None else re.compile(regex)

    def alternation(self, where: str, sources: Iterable[str]) -> str | None:
        listed = list(sources)
        try:
            return alternation([self.expand(s) for s in listed], self.normaliser)
        except (PhraseSyntaxError, re.error) as error:
            raise LexiconError(f"{where}: bad phrase in {listed!r}: {error}") from None


def _compile(raw: _RawLexicon) -> Lexicon:
    normaliser = Normaliser({**_builtin_fold(), **raw.fold})
    compilers = {
        code: _Compiler(rules.get("sets", {}), normaliser) for code, rules in raw.languages.items()
    }
    seen: dict[str, _RawEntry] = {}
    entries: list[Entry] = []
    for entry in raw.entries:
        entry_id = entry.data["id"]
        if entry_id in seen:
            raise LexiconError(
                f"{entry.where()}: duplicate id, already used by {seen[entry_id].where()}"
            )
        seen[entry_id] = entry
        if entry.data["lang"] not in raw.languages:
            raise LexiconError(
                f"{entry.where()}: language {entry.data['lang']!r} has no 'languages' "
                f"section; defined: {sorted(raw.languages)}"
            )
        entries.append(_compile_entry(entry, compilers[entry.data["lang"]]))

    languages: dict[str, LanguageRules] = {}
    hyperbole: list[CompiledPhrase] = []
    for code, rules in raw.languages.items():
        where = f"{raw.origin}: languages.{code}"
        languages[code] = _compile_rules(where, rules, compilers[code])
        for source in rules.get("hyperbole", []):
            hyperbole.append(compilers[code].phrase(f"{where}.hyperbole", source))

    owners: list[int] = []
    phrase_list: list[CompiledPhrase] = []
    # Crisis phrases get the lowest numbers, so they are tried first (see assessment).
    by_level = sorted(enumerate(entries), key=lambda item: item[1].level is not Level.CRISIS)
    for number, compiled in by_level:
        for phrase in compiled.phrases:
            owners.append(number)
            phrase_list.append(phrase)
    exceptions: list[CompiledPhrase] = []
    exceptions_of: list[tuple[int, ...]] = []
    for compiled in entries:
        exceptions_of.append(
            tuple(range(len(exceptions), len(exceptions) + len(compiled.exceptions)))
        )
        exceptions.extend(compiled.exceptions)
    vocabulary = Vocabulary([phrase_list, hyperbole, exceptions])
    return Lexicon(
        name=raw.name,
        sources=tuple(raw.sources),
        normaliser=normaliser,
        entries=tuple(entries),
        languages=languages,
        hyperbole=tuple(hyperbole),
        vocabulary=vocabulary,
        phrases=PhraseSet(phrase_list, vocabulary),
        phrase_owners=tuple(owners),
        idioms=PhraseSet(hyperbole, vocabulary),
        exceptions=PhraseSet(exceptions, vocabulary),
        exceptions_of=tuple(exceptions_of),
    )


def _compile_entry(raw: _RawEntry, compiler: _Compiler) -> Entry:
    data = raw.data
    where = raw.where()
    return Entry(
        id=data["id"],
        lang=data["lang"],
        category=data["category"],
        level=Level(data["level"]),
        phrases=tuple(compiler.phrase(where, s) for s in data["phrases"]),
        exceptions=tuple(compiler.phrase(where, s) for s in data.get("except", [])),
    )


def _compile_rules(where: str, rules: Mapping[str, Any], compiler: _Compiler) -> LanguageRules:
    negation = rules.get("negation", {})
    past = rules.get("past", {})
    third = rules.get("third_party", {})
    return LanguageRules(
        negation=_negation_pattern(f"{where}.negation", negation, compiler),
        past_before=compiler.pattern(f"{where}.past.before", past.get("before", [])),
        past_after=compiler.pattern(f"{where}.past.after", past.get("after", [])),
        past_right_after=tuple(
            compiler.normaliser.normalise(s) for s in past.get("right_after", []) if s.strip()
        ),
        present=compiler.pattern(f"{where}.present", rules.get("present", [])),
        recurrence=compiler.pattern(f"{where}.recurrence", rules.get("recurrence", [])),
        clause_breaks=compiler.pattern(f"{where}.clause_breaks", rules.get("clause_breaks", [])),
        third_party=compiler.pattern(f"{where}.third_party.cues", third.get("cues", [])),
        third_party_reflexive=compiler.pattern(
            f"{where}.third_party.reflexive", third.get("reflexive", [])
        ),
        first_person=compiler.pattern(
            f"{where}.third_party.first_person", third.get("first_person", [])
        ),
        cues_within_clause=all(
            compiler.phrase(where, source).within_clause
            for source in [*past.get("before", []), *past.get("after", []), *third.get("cues", [])]
        ),
    )


def _negation_pattern(
    where: str, negation: Mapping[str, Any], compiler: _Compiler
) -> re.Pattern[str] | None:
    """A cue, then at most ``max_fillers`` filler words, then the end (where the hit starts).

    Searched in the text just before each hit, so that a short cue inside a longer one
    ("不" in "不会自杀", where "会自杀" is the hit) is still found.
    """
    cues = compiler.alternation(f"{where}.cues", negation.get("cues", []))
    if cues is None:
        return None
    fillers = compiler.alternation(f"{where}.fillers", negation.get("fillers", []))
    limit = int(negation.get("max_fillers", 3))
    tail = f"(?: ?{fillers}){{0,{limit}}}" if fillers and limit else ""
    return re.compile(f"{cues}{tail} ?$")


__all__ = [
    "BUILTIN_PATH",
    "FORMAT",
    "Entry",
    "LanguageRules",
    "Lexicon",
    "LexiconError",
    "default_lexicon",
    "load_lexicon",
]
