"""The labelled corpus behind the crisis screen, and the figures the docs give for it.

The held-out set is the honest measure: written by someone who had not seen the lexicon,
never tuned on, never trained on. These tests keep it apart and keep the documented
figures equal to what the screen does today.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from bot.safety import risk_corpus
from bot.safety.risk_check import run
from flows.risk import Level
from flows.risk.model import MODEL_FILE

DOC = Path(__file__).resolve().parents[1] / "docs" / "risk-lexicon.md"
LANGUAGES = {"en", "zh_Hans", "zh_Hant", "yue", "mixed"}


def _texts(parts: list[risk_corpus.Part]) -> Counter[str]:
    return Counter(row.text.strip().casefold() for part in parts for row in part.rows)


def test_the_corpus_has_at_least_2000_messages_in_every_language_and_label() -> None:
    train, held = risk_corpus.training(), risk_corpus.heldout()
    assert sum(len(p.rows) for p in train + held) >= 2000
    for parts in (train, held):
        assert {p.language for p in parts} == LANGUAGES
        labels = Counter(row.label for p in parts for row in p.rows)
        assert all(labels[level] >= 100 for level in Level), labels


def test_no_held_out_message_is_in_the_training_corpus() -> None:
    training, held = _texts(risk_corpus.training()), _texts(risk_corpus.heldout())
    assert set(training) & set(held) == set()


def test_the_model_was_trained_on_the_corpus_as_it_is() -> None:
    """A change to the training files needs a retrain (scripts/train_risk_model.py)."""
    trained_on = json.loads(MODEL_FILE.read_text(encoding="utf-8"))["trained_on"]
    assert trained_on == sum(len(p.rows) for p in risk_corpus.training())


def test_the_documented_figures_are_what_the_screen_does_today() -> None:
    """docs/risk-lexicon.md holds the report; regenerate it with the command it names."""
    expected = risk_corpus.report(risk_corpus.training(), risk_corpus.heldout())
    assert risk_corpus.report_in(DOC) == expected.strip("\n") + "\n", (
        "run: tongban risk-check --report-into docs/risk-lexicon.md"
    )


def test_held_out_figures_do_not_fall_below_what_was_measured() -> None:
    """Floors at the figures measured on 2026-12-05 (88.6% found, 2.1% flagged): a lexicon
    or model change that loses ground on unseen wording fails here."""
    result = risk_corpus.score(row for p in risk_corpus.heldout() for row in p.rows)
    assert result.recall >= 241 / 272
    assert result.flagged <= 6 / 290


def test_report_command_prints_both_parts(tmp_path: Path) -> None:
    import io

    out = io.StringIO()
    assert run(["--report"], io.StringIO(""), out, None) == 0
    assert "### Held-out set" in out.getvalue()
    assert "### Training corpus" in out.getvalue()
    doc = tmp_path / "doc.md"
    doc.write_text(f"intro\n{risk_corpus.START}\nold\n{risk_corpus.END}\nrest\n", "utf-8")
    assert run(["--report-into", str(doc)], io.StringIO(""), io.StringIO(), None) == 0
    written = doc.read_text("utf-8")
    assert written.startswith("intro\n") and written.endswith("rest\n")
    assert "old" not in written and "### Held-out set" in written
