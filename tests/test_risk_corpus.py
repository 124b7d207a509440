"""The labelled corpus behind the crisis screen, and the figures the docs give for it.

The held-out sets are the honest measure: each written by someone who had not seen the
lexicon, never tuned on, never trained on. These tests keep it apart and keep the documented
figures equal to what the screen does today.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from bot.safety import risk_corpus
from bot.safety.risk_check import run
from flows.risk import Level
from flows.risk.model import MODEL_FILE

DOC = Path(__file__).resolve().parents[1] / "docs" / "risk-lexicon.md"
LANGUAGES = {"en", "zh_Hans", "zh_Hant", "yue", "mixed"}


def _texts(parts: list[risk_corpus.Part]) -> Counter[str]:
    return Counter(row.text.strip().casefold() for part in parts for row in part.rows)


def _held_out() -> list[risk_corpus.Part]:
    return [
        part for folder in risk_corpus.HELD_OUT_SETS for part in risk_corpus.heldout(folder=folder)
    ]


def test_the_corpus_has_at_least_2000_messages_in_every_language_and_label() -> None:
    train = risk_corpus.training()
    held = [risk_corpus.heldout(folder=folder) for folder in risk_corpus.HELD_OUT_SETS]
    assert sum(len(p.rows) for p in train + _held_out()) >= 2000
    for parts in (train, *held):
        assert {p.language for p in parts} == LANGUAGES
        labels = Counter(row.label for p in parts for row in p.rows)
        assert labels[Level.CRISIS] >= 250 and labels[Level.NONE] >= 250, labels
        assert labels[Level.CONCERN] >= 75, labels  # set F: 76 after dropping repeats


def test_no_held_out_message_is_in_the_training_corpus() -> None:
    training, held = _texts(risk_corpus.training()), _texts(_held_out())
    assert set(training) & set(held) == set()


def test_the_model_was_trained_on_the_corpus_as_it_is() -> None:
    """A change to the training files needs a retrain (scripts/train_risk_model.py)."""
    trained_on = json.loads(MODEL_FILE.read_text(encoding="utf-8"))["trained_on"]
    assert trained_on == sum(len(p.rows) for p in risk_corpus.training())


def test_the_documented_figures_are_what_the_screen_does_today() -> None:
    """docs/risk-lexicon.md holds the report; regenerate it with the command it names."""
    expected = risk_corpus.full_report()
    assert risk_corpus.report_in(DOC) == expected.strip("\n") + "\n", (
        "run: tongban risk-check --report-into docs/risk-lexicon.md"
    )


@pytest.mark.parametrize(
    ("folder", "found", "flagged"),
    [
        ("heldout", (267, 272), (6, 290)),
        ("heldout_b", (278, 294), (3, 260)),
        ("heldout_c", (271, 279), (1, 292)),
        ("heldout_d", (265, 284), (13, 285)),
        ("heldout_e", (290, 316), (11, 290)),
        ("heldout_f", (283, 292), (4, 282)),
        ("heldout_g", (302, 320), (7, 277)),
        ("heldout_h", (286, 301), (11, 267)),
        ("heldout_i", (288, 300), (10, 307)),
    ],
)
def test_held_out_figures_do_not_fall_below_what_was_measured(
    folder: str, found: tuple[int, int], flagged: tuple[int, int]
) -> None:
    """Floors at the figures last measured (see docs/risk-lexicon.md): a lexicon or model
    change that loses ground on unseen wording fails here."""
    result = risk_corpus.score(row for p in risk_corpus.heldout(folder=folder) for row in p.rows)
    assert result.matrix[(Level.CRISIS, Level.CRISIS)] >= found[0]
    assert result.crisis == found[1] and result.everyday == flagged[1]
    assert result.everyday - result.matrix[(Level.NONE, Level.NONE)] <= flagged[0]


def test_report_command_prints_both_parts(tmp_path: Path) -> None:
    import io

    out = io.StringIO()
    assert run(["--report"], io.StringIO(""), out, None) == 0
    assert "### Held-out set" in out.getvalue()
    assert "### Training corpus" in out.getvalue()
    doc = tmp_path / "doc.md"
    doc.write_text(f"intro\n{risk_corpus.START}\nSTALE REPORT\n{risk_corpus.END}\nrest\n", "utf-8")
    assert run(["--report-into", str(doc)], io.StringIO(""), io.StringIO(), None) == 0
    written = doc.read_text("utf-8")
    assert written.startswith("intro\n") and written.endswith("rest\n")
    assert "STALE REPORT" not in written and "### Held-out set" in written


def test_kappa_is_agreement_beyond_chance() -> None:
    """Worked by hand: 8 of 10 the same; the writer says crisis 5 times and none 5 times, the
    second reader crisis 4, concern 1, none 5: chance agreement (5·4 + 5·5) / 100 = 0.45,
    so kappa = (0.8 − 0.45) / 0.55."""
    crisis, concern, none = Level.CRISIS, Level.CONCERN, Level.NONE
    pairs = [(crisis, crisis)] * 4 + [(crisis, concern)] + [(none, none)] * 4 + [(none, crisis)]
    assert risk_corpus.kappa(pairs) == pytest.approx(0.35 / 0.55)
    assert risk_corpus.kappa([(crisis, crisis), (none, none)]) == 1.0


def test_a_second_reading_must_cover_its_set_exactly(tmp_path: Path) -> None:
    """Every message of the set labelled once, by its source: a reading that misses one,
    repeats one or names one the set does not have is an error, not a smaller figure."""
    part = risk_corpus.Part(
        "heldout_x",
        "en",
        (
            risk_corpus.Row(Level.CRISIS, "suicidal", "i want to die", "en.tsv:3"),
            risk_corpus.Row(Level.NONE, "everyday", "nice weather", "en.tsv:4"),
        ),
    )
    reading = tmp_path / "heldout_x.tsv"
    reading.write_text("source\tlabel\tsure\nen.tsv:3\tcrisis\tyes\nen.tsv:4\tnone\tno\n", "utf-8")
    second = risk_corpus.read_second(reading)
    assert second == {
        "en.tsv:3": risk_corpus.Reading(Level.CRISIS, True),
        "en.tsv:4": risk_corpus.Reading(Level.NONE, False),
    }
    text = risk_corpus.report([], {"Set X": [part]}, list_misses=False, second={"Set X": second})
    assert "| Set X | 2 | 100.0% | 1.00 | 0 | 1 | 1 | 100.0% | 1 | 0.0% |" in text
    assert "| Set X | 1 | 100.0% | 0 | – | 0 | – | 1 | 0.0% |" in text  # by sureness
    with pytest.raises(ValueError, match="sources"):
        risk_corpus.report(
            [], {"Set X": [part]}, second={"Set X": {"en.tsv:3": second["en.tsv:3"]}}
        )
    reading.write_text("source\tlabel\tsure\nen.tsv:3\tcrisis\tyes\nen.tsv:3\tnone\tno\n", "utf-8")
    with pytest.raises(ValueError, match=r"en\.tsv:3 is labelled twice"):
        risk_corpus.read_second(reading)
    for bad in ("en.tsv:3\tcrisis", "en.tsv:3\tsevere\tyes", "en.tsv:3\tcrisis\tmaybe"):
        reading.write_text(f"source\tlabel\tsure\n{bad}\n", "utf-8")
        with pytest.raises(ValueError, match=r"heldout_x\.tsv:2: expected source<TAB>level"):
            risk_corpus.read_second(reading)


def test_a_malformed_corpus_file_is_named_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    (tmp_path / "heldout_e.tsv").write_text("source\tlabel\tsure\nen.tsv:3\tcrisis\n", "utf-8")
    monkeypatch.setattr(risk_corpus, "SECOND_READER", tmp_path)
    out = io.StringIO()
    assert run(["--report"], io.StringIO(""), out, None) == 2
    assert out.getvalue() == ""
    assert capsys.readouterr().err == (
        f"tongban risk-check: {tmp_path / 'heldout_e.tsv'}:2: "
        "expected source<TAB>level<TAB>yes or no\n"
    )


def test_every_second_reading_is_of_a_held_out_set() -> None:
    folders = {path.stem for path in risk_corpus.SECOND_READER.glob("*.tsv")}
    assert folders and folders <= set(risk_corpus.HELD_OUT_SETS)
