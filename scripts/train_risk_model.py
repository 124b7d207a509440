"""Train the crisis screen's n-gram model and write flows/risk/model.json.

Trained only on tests/risk_corpus/*.tsv and tests/risk_corpus/train/*.tsv; the held-out
sets (tests/risk_corpus/heldout*/) are never read here. Needs scikit-learn,
a development dependency: ``pip install -e ".[train]"`` then
``python scripts/train_risk_model.py``.
The bot itself only reads the weights (flows/risk/model.py).

``--evaluate-by-batch`` writes nothing: it holds out each training batch in turn (a batch
is one writer's files, ``train/<language>.<batch>.tsv``; the unsuffixed files are batch
"a"), trains on the others exactly as the default run does (threshold included) and
measures the screen on the batch it held out: how the screen does on a writer it never
saw, the figure to choose a model by (docs/risk-lexicon.md, "Choosing the model").
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flows.risk.model import NgramModel

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "risk_corpus"
OUT = ROOT / "flows" / "risk" / "model.json"
NGRAMS = (1, 4)
MAX_FEATURES = 40_000
# The threshold is the lowest at which the union of lexicon and model still flags at most
# this share of the training corpus's everyday messages (5-fold cross-validated): the
# issue's own bound, since batches f and g made those messages mostly hard negatives
# (docs/risk-lexicon.md, history).
EVERYDAY_BUDGET = 0.03
SEED = 20261205


@dataclass(frozen=True)
class Message:
    label: str  # "crisis", "concern" or "none"
    text: str  # as written
    batch: str  # "a" for the unsuffixed files, else the file name's batch letter


def training_messages() -> list[Message]:
    """Every training message with its batch; the held-out folders are not read."""
    from bot.safety.risk_corpus import training

    messages = []
    for part in training():
        for row in part.rows:
            name = row.source.rsplit(":", 1)[0].split(".")
            batch = name[1] if len(name) == 3 else "a"
            messages.append(Message(row.label.value, row.text, batch))
    return messages


def training_rows() -> list[tuple[str, str]]:
    """(label, text) from every training file; the held-out folder is not read."""
    return [(m.label, m.text) for m in training_messages()]


@dataclass(frozen=True, slots=True)
class _Asked(NgramModel):
    """Stands in for the model in ``assess`` to learn whether it is asked (never says yes)."""

    asked: list[str] = field(default_factory=list)

    def is_crisis(self, text: str) -> bool:
        self.asked.append(text)
        return False


@dataclass(frozen=True)
class Lexical:
    """What the lexicon alone says of each message, and whether the model is asked."""

    crisis: Any  # numpy bool arrays, one entry per message
    flagged: Any
    asked: Any


def lexical(messages: Sequence[Message]) -> Lexical:
    import numpy as np

    from flows.risk import Level, assess

    crisis, flagged, asked = [], [], []
    for message in messages:
        probe = _Asked({}, 0.0, 1.0, *NGRAMS)
        found = assess(message.text, model=probe)
        crisis.append(found.level is Level.CRISIS)
        flagged.append(found.level is not Level.NONE)
        asked.append(bool(probe.asked))
    return Lexical(np.array(crisis), np.array(flagged), np.array(asked))


@dataclass(frozen=True)
class Variant:
    """The model as shipped: character n-grams of the normalised text (what
    flows/risk/model.py reads back), logistic regression with ``c``. The other shapes tried
    are in docs/risk-lexicon.md ("Choosing the model"); none was kept."""

    c: float = 30.0

    def vectorizer(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer

        return TfidfVectorizer(
            analyzer="char",
            ngram_range=NGRAMS,
            lowercase=False,
            binary=True,
            use_idf=False,
            norm="l2",
            min_df=2,
            max_features=MAX_FEATURES,
        )

    def model(self) -> Any:
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=self.c, class_weight="balanced", max_iter=5000)


def model_texts(messages: Sequence[Message]) -> list[str]:
    from flows.risk import default_lexicon
    from flows.risk.normalise import squeeze

    normaliser = default_lexicon().normaliser
    return [f" {squeeze(normaliser.normalise(m.text))} " for m in messages]


def union(probability: Any, threshold: float, lex: Lexical, where: Any) -> tuple[Any, Any]:
    """(crisis, flagged) of lexicon and model together, for the messages ``where`` picks."""
    model_crisis = (probability >= threshold) & lex.asked[where]
    return lex.crisis[where] | model_crisis, lex.flagged[where] | model_crisis


def pick_threshold(
    probability: Any, lex: Lexical, crisis: Any, everyday: Any, where: Any
) -> tuple[float, float, float]:
    """The lowest threshold at which the union flags at most EVERYDAY_BUDGET of the
    everyday messages ``where`` picks, with the recall and flagged share it gives there."""
    import numpy as np

    threshold, recall, flagged_share = 1.0, 0.0, 0.0
    for candidate in np.unique(np.round(probability, 4))[::-1]:
        found, flagged = union(probability, float(candidate), lex, where)
        share = float(flagged[everyday[where]].mean())
        if share > EVERYDAY_BUDGET:
            break
        threshold, flagged_share = float(candidate), share
        recall = float(found[crisis[where]].mean())
    return threshold, recall, flagged_share


def cross_validated(variant: Variant, texts: list[str], crisis: Any) -> Any:
    """Each message's crisis probability from a model trained without its fold."""
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    features = variant.vectorizer().fit_transform(texts)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    predicted = cross_val_predict(
        variant.model(), features, crisis, cv=folds, method="predict_proba"
    )
    return predicted[:, 1]


@dataclass(frozen=True)
class BatchResult:
    batch: str
    threshold: float
    probability: Any  # the held batch's crisis probabilities
    crisis: int
    found: int
    everyday: int
    flagged: int


def evaluate_by_batch(
    variant: Variant, messages: Sequence[Message], lex: Lexical
) -> list[BatchResult]:
    """Leave one batch out: train on the other batches as the default run does (the
    threshold from their own 5-fold predictions), measure on the batch held out."""
    import numpy as np

    texts = model_texts(messages)
    crisis = np.array([m.label == "crisis" for m in messages])
    everyday = np.array([m.label == "none" for m in messages])
    batches = np.array([m.batch for m in messages])
    results = []
    for batch in sorted(set(batches)):
        train, held = batches != batch, batches == batch
        train_texts = [texts[i] for i in np.flatnonzero(train)]
        predicted = cross_validated(variant, train_texts, crisis[train])
        threshold, _, _ = pick_threshold(predicted, lex, crisis, everyday, train)
        vectorizer = variant.vectorizer()
        model = variant.model().fit(vectorizer.fit_transform(train_texts), crisis[train])
        held_texts = [texts[i] for i in np.flatnonzero(held)]
        probability = model.predict_proba(vectorizer.transform(held_texts))[:, 1]
        found, flagged = union(probability, threshold, lex, held)
        results.append(
            BatchResult(
                str(batch),
                threshold,
                probability,
                int(crisis[held].sum()),
                int(found[crisis[held]].sum()),
                int(everyday[held].sum()),
                int(flagged[everyday[held]].sum()),
            )
        )
    return results


def summary(results: Sequence[BatchResult]) -> tuple[float, float]:
    """Mean over batches of the share of crisis messages found (batches that have any)
    and of the share of everyday messages flagged."""
    recalls = [r.found / r.crisis for r in results if r.crisis]
    flagged = [r.flagged / r.everyday for r in results if r.everyday]
    return sum(recalls) / len(recalls), sum(flagged) / len(flagged)


def at_budget(
    results: Sequence[BatchResult], messages: Sequence[Message], lex: Lexical
) -> tuple[float, float]:
    """Recall and flagged share of all batches' held-out predictions pooled, at the one
    threshold that flags at most EVERYDAY_BUDGET of their everyday messages: how well the
    model ranks messages of writers it never saw, at the same false-alarm rate."""
    import numpy as np

    order = {r.batch: r for r in results}
    batches = np.array([m.batch for m in messages])
    probability = np.zeros(len(messages))
    for batch, result in order.items():
        probability[batches == batch] = result.probability
    crisis = np.array([m.label == "crisis" for m in messages])
    everyday = np.array([m.label == "none" for m in messages])
    everywhere = np.ones(len(messages), dtype=bool)
    _, recall, flagged = pick_threshold(probability, lex, crisis, everyday, everywhere)
    return recall, flagged


def print_by_batch(results: Sequence[BatchResult]) -> None:
    print("batch  threshold  crisis found        everyday flagged")
    for r in results:
        found = f"{r.found}/{r.crisis} ({r.found / r.crisis:.1%})" if r.crisis else "-"
        flagged = f"{r.flagged}/{r.everyday} ({r.flagged / r.everyday:.1%})"
        print(f"{r.batch:5}  {r.threshold:9.3f}  {found:18}  {flagged}")
    recall, flagged_share = summary(results)
    print(f"mean   {'':9}  {recall:18.1%}  {flagged_share:.1%}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--c", type=float, default=30.0, help="inverse regularisation (30)")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the weights")
    parser.add_argument(
        "--evaluate-by-batch",
        action="store_true",
        help="leave each training batch out in turn and report; writes nothing",
    )
    args = parser.parse_args()

    import numpy as np

    variant = Variant(c=args.c)
    messages = training_messages()
    lex = lexical(messages)
    if args.evaluate_by_batch:
        results = evaluate_by_batch(variant, messages, lex)
        print_by_batch(results)
        recall, flagged = at_budget(results, messages, lex)
        print(
            f"pooled at the {EVERYDAY_BUDGET:.0%} budget: {recall:.1%} found, {flagged:.1%} flagged"
        )
        return 0

    texts = model_texts(messages)
    labels = np.array([m.label == "crisis" for m in messages])
    everyday = np.array([m.label == "none" for m in messages])
    everywhere = np.ones(len(messages), dtype=bool)
    held = cross_validated(variant, texts, labels)
    threshold, recall, false_alarms = pick_threshold(held, lex, labels, everyday, everywhere)
    vectorizer = variant.vectorizer()
    model = variant.model().fit(vectorizer.fit_transform(texts), labels)
    weights = {
        gram: round(float(w), 5)
        for gram, w in zip(vectorizer.get_feature_names_out(), model.coef_[0], strict=True)
        if abs(w) >= 1e-3
    }
    args.out.write_text(
        json.dumps(
            {
                "about": "crisis-language n-gram model; see flows/risk/model.py",
                "trained_on": len(messages),
                "cross_validated": {"crisis_recall": recall, "everyday_flagged": false_alarms},
                "ngram_range": list(NGRAMS),
                "bias": round(float(model.intercept_[0]), 5),
                "threshold": round(threshold, 5),
                "weights": dict(sorted(weights.items())),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ),
        encoding="utf-8",
    )
    print(
        f"trained on {len(messages)} messages ({int(labels.sum())} crisis); "
        f"5-fold cross-validated, lexicon and model together at threshold {threshold:.3f}: "
        f"crisis recall {recall:.1%}, everyday messages flagged {false_alarms:.1%}; "
        f"{len(weights)} weights -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
