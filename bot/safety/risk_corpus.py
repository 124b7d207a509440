"""The labelled risk corpus and how the screen does on it: ``tongban risk-check --report``.

The corpus lives in ``tests/risk_corpus``: the first files (``en.tsv``, ``zh_Hans.tsv``,
``zh_Hant.tsv``, ``label<TAB>text``), the training files (``train/*.tsv``; a later batch
in one language is ``train/<language>.<batch>.tsv``) and nine held-out sets
(``heldout/*.tsv`` and ``heldout_b`` to ``heldout_i``, ``label<TAB>category<TAB>text``). Each
held-out set was written by someone who had not seen the lexicon and is never used to
tune the lexicon or to train the model (``scripts/train_risk_model.py`` does not read
them); they are only measured.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flows.risk import Level, assess
from flows.risk.context import in_context, kept

CORPUS = Path(__file__).resolve().parents[2] / "tests" / "risk_corpus"
# Multi-message sequences from one person, labelled as a whole: measured for the crisis
# screen's "context" layer, never trained or tuned on (no glob above reaches this folder).
SEQUENCES = CORPUS / "sequences" / "sequences.tsv"
LABELS = (Level.CRISIS, Level.CONCERN, Level.NONE)
START = "<!-- corpus report: written by tongban risk-check --report-into; do not edit -->"
END = "<!-- end of corpus report -->"


@dataclass(frozen=True, slots=True)
class Row:
    label: Level
    category: str  # "" in the first files, which have no category column
    text: str
    source: str  # "path:line"


@dataclass(frozen=True, slots=True)
class Part:
    """Rows of one part of the corpus (training or held-out) for one language."""

    name: str
    language: str
    rows: tuple[Row, ...]


def read_file(path: Path, language: str | None = None) -> Part:
    """One corpus file. Lines starting with '#' are comments; the header is skipped."""
    rows = []
    header_seen = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if not header_seen:
            header_seen = True
            if fields[0] == "label":
                continue
        if len(fields) not in (2, 3) or not fields[-1].strip():
            raise ValueError(f"{path}:{number}: expected label<TAB>[category<TAB>]text")
        try:
            label = Level(fields[0])
        except ValueError:
            raise ValueError(f"{path}:{number}: unknown label {fields[0]!r}") from None
        category = fields[1] if len(fields) == 3 else ""
        rows.append(Row(label, category, fields[-1], f"{path.name}:{number}"))
    return Part(path.parent.name, language or path.name.split(".")[0], tuple(rows))


def training(corpus: Path = CORPUS) -> list[Part]:
    """Every file the lexicon was written against and the model is trained on."""
    paths = sorted(corpus.glob("*.tsv")) + sorted((corpus / "train").glob("*.tsv"))
    return [read_file(path) for path in paths]


# Held-out folders and their titles in the report. B was written later, by a writer who
# saw nothing of the screen; docs/risk-lexicon.md tells when each set was measured.
HELD_OUT_SETS = {
    "heldout": "Held-out set A",
    "heldout_b": "Held-out set B",
    "heldout_c": "Held-out set C",
    "heldout_d": "Held-out set D",
    "heldout_e": "Held-out set E",
    "heldout_f": "Held-out set F",
    "heldout_g": "Held-out set G",
    "heldout_h": "Held-out set H",
    "heldout_i": "Held-out set I",
}


def heldout(corpus: Path = CORPUS, folder: str = "heldout") -> list[Part]:
    """The files of one held-out set (a key of HELD_OUT_SETS): measured, never tuned on."""
    return [read_file(path) for path in sorted((corpus / folder).glob("*.tsv"))]


@dataclass(frozen=True, slots=True)
class Score:
    """How the screen did on some rows."""

    matrix: Counter[tuple[Level, Level]]
    misses: tuple[tuple[Row, Level], ...]  # crisis rows not found, everyday rows flagged

    @property
    def crisis(self) -> int:
        return sum(self.matrix[(Level.CRISIS, got)] for got in LABELS)

    @property
    def everyday(self) -> int:
        return sum(self.matrix[(Level.NONE, got)] for got in LABELS)

    @property
    def recall(self) -> float:
        return self.matrix[(Level.CRISIS, Level.CRISIS)] / self.crisis if self.crisis else 1.0

    @property
    def asked(self) -> float:
        """Share of crisis messages read as crisis or concern: a concern-level message gets
        the direct question about suicide, or the offer of a person, instead of nothing."""
        if not self.crisis:
            return 1.0
        noticed = (
            self.matrix[(Level.CRISIS, Level.CRISIS)] + self.matrix[(Level.CRISIS, Level.CONCERN)]
        )
        return noticed / self.crisis

    @property
    def flagged(self) -> float:
        """Share of everyday messages that got any flag (concern or crisis)."""
        if not self.everyday:
            return 0.0
        return (self.everyday - self.matrix[(Level.NONE, Level.NONE)]) / self.everyday


def score(rows: Iterable[Row]) -> Score:
    matrix: Counter[tuple[Level, Level]] = Counter()
    misses = []
    for row in rows:
        got = assess(row.text).level
        matrix[(row.label, got)] += 1
        missed = row.label is Level.CRISIS and got is not Level.CRISIS
        if missed or (row.label is Level.NONE and got is not Level.NONE):
            misses.append((row, got))
    return Score(matrix, tuple(misses))


def _line(name: str, result: Score, size: int) -> str:
    return (
        f"| {name} | {size} | {result.crisis} | {result.recall:.1%} | {result.asked:.1%} "
        f"| {result.everyday} | {result.flagged:.1%} |"
    )


def report(
    train: list[Part],
    held: dict[str, list[Part]],
    list_misses: bool = True,
    second: dict[str, dict[str, Reading]] | None = None,
) -> str:
    """The Markdown report written into docs/risk-lexicon.md: the training corpus, then
    each held-out set (by title) with its misses listed, the sets together, and how the
    screen does where a second reader agrees with the writer (``second``: by title)."""
    out = []
    sections = {"Training corpus (in-sample: the model was trained on it)": train, **held}
    for title, parts in sections.items():
        out += [
            f"### {title}",
            "",
            "| language | messages | crisis | crisis found | found or asked | everyday "
            "| everyday flagged |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        by_language: dict[str, list[Row]] = {}
        for part in parts:
            by_language.setdefault(part.language, []).extend(part.rows)
        everything: list[Row] = []
        for language, rows in sorted(by_language.items()):
            out.append(_line(language, score(rows), len(rows)))
            everything += rows
        total = score(everything)
        out += [_line("**all**", total, len(everything)), ""]
        categories = sorted({r.category for r in everything if r.category})
        if categories:
            out += [
                "| category | crisis | crisis found | everyday | everyday flagged |",
                "| --- | ---: | ---: | ---: | ---: |",
            ]
            for category in categories:
                result = score(r for r in everything if r.category == category)
                if not result.crisis and not result.everyday:
                    continue  # concern-only categories: their figure is not a target
                crisis = f"{result.crisis} | {result.recall:.1%}" if result.crisis else "0 | –"
                everyday = (
                    f"{result.everyday} | {result.flagged:.1%}" if result.everyday else "0 | –"
                )
                out.append(f"| {category} | {crisis} | {everyday} |")
            out.append("")
        if list_misses and parts is not train:
            out += ["Missed crisis messages and flagged everyday messages:", ""]
            out += [
                f"- `{row.label.value}` → `{got.value}` ({row.source}): {row.text}"
                for row, got in total.misses
            ]
            out.append("")
    if len(held) > 1:
        out += _together(held)
    if second:
        out += _two_readers(held, second)
    return "\n".join(out)


def _together(held: dict[str, list[Part]]) -> list[str]:
    """One line per held-out set and one for all of them pooled."""
    out = [
        "### Held-out sets together",
        "",
        "| set | messages | crisis | crisis found | found or asked | everyday | everyday flagged |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    pooled: list[Row] = []
    for title, parts in held.items():
        rows = [row for part in parts for row in part.rows]
        out.append(_line(title, score(rows), len(rows)))
        pooled += rows
    return [*out, _line("**pooled**", score(pooled), len(pooled)), ""]


def full_report() -> str:
    """The report on the built-in corpus: training, every held-out set, two readers."""
    held = {title: heldout(folder=f) for f, title in HELD_OUT_SETS.items()}
    second = {
        HELD_OUT_SETS[path.stem]: read_second(path) for path in sorted(SECOND_READER.glob("*.tsv"))
    }
    return report(training(), held, second=second)


# -- a second reader ------------------------------------------------------------------------

# Some held-out sets were labelled again, blind, by a second reader of the level policy:
# ``<held-out folder>.tsv`` with ``source<TAB>label<TAB>sure`` (source as in Row.source).
SECOND_READER = CORPUS / "second_reader"


@dataclass(frozen=True, slots=True)
class Reading:
    """A second reader's level for one held-out message, and whether they were sure."""

    label: Level
    sure: bool


def read_second(path: Path) -> dict[str, Reading]:
    """One second reader's labels, by the source of the row they label."""
    readings = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith(("#", "source\t")):
            continue
        fields = line.split("\t")
        labels = {level.value for level in LABELS}
        if len(fields) != 3 or fields[1] not in labels or fields[2] not in ("yes", "no"):
            raise ValueError(f"{path}:{number}: expected source<TAB>level<TAB>yes or no")
        source, label, sure = fields
        if source in readings:
            raise ValueError(f"{path}:{number}: {source} is labelled twice")
        readings[source] = Reading(Level(label), sure == "yes")
    return readings


def kappa(pairs: list[tuple[Level, Level]]) -> float:
    """Cohen's kappa of two readers over the three levels: agreement beyond chance."""
    observed = sum(a is b for a, b in pairs) / len(pairs)
    first, second = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    chance = sum(first[level] * second[level] for level in LABELS) / len(pairs) ** 2
    return (observed - chance) / (1 - chance)


def _two_readers(held: dict[str, list[Part]], second: dict[str, dict[str, Reading]]) -> list[str]:
    """Agreement between each set's writer and its second reader, and the screen's figures
    on the messages both readers gave the same level; then all those sets pooled."""
    out = [
        "### Two readers",
        "",
        "| set | messages | same level | kappa | crisis to the writer only | second reader unsure "
        "| crisis to both | found | none to both | flagged |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    sets: dict[str, list[tuple[Row, Reading]]] = {}
    for title, readings in second.items():
        rows = [row for part in held[title] for row in part.rows]
        if {row.source for row in rows} != set(readings):
            raise ValueError(f"{title}: the second reader's sources are not the set's")
        sets[title] = [(row, readings[row.source]) for row in rows]
    if len(sets) > 1:
        sets["**pooled**"] = [pair for read in sets.values() for pair in read]
    out += [_agreement(name, read) for name, read in sets.items()]
    out += [
        "",
        "Where both readers gave the same level, by whether the second reader was sure:",
        "",
        "| set | crisis, sure | found | crisis, unsure | found | none, sure | flagged "
        "| none, unsure | flagged |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, read in sets.items():
        cells = []
        for label in (Level.CRISIS, Level.NONE):
            for sure in (True, False):
                agreed = score(
                    row
                    for row, reading in read
                    if row.label is reading.label is label and reading.sure is sure
                )
                figure = agreed.recall if label is Level.CRISIS else agreed.flagged
                count = agreed.crisis if label is Level.CRISIS else agreed.everyday
                cells.append(f"{count} | {figure:.1%}" if count else "0 | –")
        out.append(f"| {name} | {' | '.join(cells)} |")
    return [*out, ""]


def _agreement(name: str, read: list[tuple[Row, Reading]]) -> str:
    pairs = [(row.label, reading.label) for row, reading in read]
    both = score(row for row, reading in read if row.label is reading.label)
    return (
        f"| {name} | {len(read)} | {sum(a is b for a, b in pairs) / len(read):.1%} "
        f"| {kappa(pairs):.2f} | {sum(a is Level.CRISIS and b is not Level.CRISIS for a, b in pairs)} "
        f"| {sum(not reading.sure for _, reading in read)} "
        f"| {both.crisis} | {both.recall:.1%} | {both.everyday} | {both.flagged:.1%} |"
    )


def write_into(path: Path, text: str) -> None:
    """Replace the report between START and END in a Markdown file."""
    document = path.read_text(encoding="utf-8")
    if START not in document or END not in document:
        raise ValueError(f"{path}: no report markers")
    before, rest = document.split(START, 1)
    _, after = rest.split(END, 1)
    path.write_text(f"{before}{START}\n\n{text}\n{END}{after}", encoding="utf-8")


def report_in(path: Path) -> str:
    """The report currently written in a Markdown file."""
    document = path.read_text(encoding="utf-8")
    return document.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"


# -- context across messages -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sequence:
    """Messages one person sent in a row (within the bot's window), labelled as a whole."""

    label: Level
    category: str
    language: str
    messages: tuple[str, ...]


def read_sequences(path: Path = SEQUENCES) -> list[Sequence]:
    """``label<TAB>category<TAB>language<TAB>msg1 ||| msg2 ...``; '#' lines are comments."""
    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith(("#", "label\t")):
            continue
        fields = line.split("\t")
        if len(fields) != 4:
            raise ValueError(f"{path}:{number}: expected label, category, language, messages")
        messages = tuple(m.strip() for m in fields[3].split("|||"))
        found.append(Sequence(Level(fields[0]), fields[1], fields[2], messages))
    return found


def read_in_turn(messages: Iterable[str], context: bool, concern: bool = False) -> list[Level]:
    """The level the bot handles each message at, read one after another as it reads a
    person's messages (``context``: with the ones before, by the bot's own rule)."""
    levels = []
    earlier: list[str] = []
    for text in messages:
        risk = assess(text)
        if context:
            risk = in_context(risk, earlier, text, concern=concern)
        levels.append(risk.level)
        earlier = kept(earlier, text, risk.level)
    return levels


@dataclass(frozen=True, slots=True)
class SequenceScore:
    """Sequences of one label, and how many the screen noticed, message by message."""

    label: Level
    total: int
    alone: int  # noticed with each message read alone
    with_context: int  # noticed with the bot's rule (a joined crisis)
    with_concern: int  # noticed if a joined concern also raised a message (not the rule)


def sequence_scores(sequences: Iterable[Sequence]) -> dict[Level, SequenceScore]:
    """Crisis sequences are noticed when a message is crisis; concern and none sequences
    when a message is concern or crisis (for none: flagged)."""
    counts: dict[Level, list[int]] = {level: [0, 0, 0, 0] for level in LABELS}
    for sequence in sequences:
        wanted = {Level.CRISIS} if sequence.label is Level.CRISIS else {Level.CRISIS, Level.CONCERN}
        count = counts[sequence.label]
        count[0] += 1
        for index, (context, concern) in enumerate(((False, False), (True, False), (True, True))):
            levels = read_in_turn(sequence.messages, context, concern)
            count[index + 1] += any(level in wanted for level in levels)
    return {level: SequenceScore(level, *count) for level, count in counts.items()}
