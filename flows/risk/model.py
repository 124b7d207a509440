"""The crisis screen's second layer: a linear model over character n-grams.

It catches what the lexicon's phrases do not (a wording nobody wrote down, a euphemism,
Cantonese the phrases lack). It is trained at build time with scikit-learn
(``scripts/train_risk_model.py``, on ``tests/risk_corpus/*.tsv`` only, never on the
held-out set) and shipped as plain weights in ``model.json``, so running it needs
nothing but a dictionary: the score of a message is the sum of the weights of the n-grams
it contains, divided by the square root of how many it contains, plus a bias.
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MODEL_FILE = Path(__file__).with_name("model.json")
# A very long message is scored on its first and last parts, so the time per message stays
# bounded; the lexicon's phrases still read all of it.
MAX_CHARACTERS = 600


@dataclass(frozen=True, slots=True)
class NgramModel:
    weights: Mapping[str, float]
    bias: float
    threshold: float  # a probability; at or above it the message counts as crisis
    smallest: int
    largest: int

    def grams(self, text: str) -> set[str]:
        """The distinct character n-grams of a normalised text (padded with spaces)."""
        if len(text) > MAX_CHARACTERS:
            half = MAX_CHARACTERS // 2
            text = text[:half] + " " + text[-half:]
        padded = f" {text} "
        found: set[str] = set()
        grams: list[str] = list(padded)
        for n in range(1, self.largest + 1):
            if n > 1:  # the n-grams are the (n-1)-grams each with the next character
                grams = list(map(operator.add, grams, padded[n - 1 :]))
            if n >= self.smallest:
                found.update(grams)
        return found

    def probability(self, text: str) -> float:
        """How likely the model thinks a normalised text is crisis language."""
        found = [w for w in map(self.weights.get, self.grams(text)) if w is not None]
        if not found:
            return 1 / (1 + math.exp(-self.bias))
        score = sum(found) / math.sqrt(len(found)) + self.bias
        return 1 / (1 + math.exp(-max(-30.0, min(30.0, score))))

    def is_crisis(self, text: str) -> bool:
        return self.probability(text) >= self.threshold


def load_model(path: Path = MODEL_FILE) -> NgramModel:
    raw = json.loads(path.read_text(encoding="utf-8"))
    smallest, largest = raw["ngram_range"]
    return NgramModel(
        {str(k): float(v) for k, v in raw["weights"].items()},
        float(raw["bias"]),
        float(raw["threshold"]),
        int(smallest),
        int(largest),
    )


@cache
def default_model() -> NgramModel | None:
    """The shipped model, or None when none has been trained (the lexicon alone screens)."""
    return load_model() if MODEL_FILE.exists() else None
