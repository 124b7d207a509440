"""Compare the risk screen with an earlier revision's: the same assessment for every message.

Usage: python bench/risk_compare.py [--against REV] [--generated 6600] [--seed 1]

A change made for speed must not change what the screen finds. This assesses every
message of every corpus file (``tests/risk_corpus/**/*.tsv``), the long messages of
``bench/risk_bench.py`` and ``--generated`` made-up messages, most of them long (corpus
messages and phrase samples joined by every kind of punctuation, with the disguises the
normaliser undoes, cut at random lengths), with this working copy's ``flows.risk`` and with
the one at ``REV`` (a copy made with ``git archive``, run in its own process), and compares
level, categories, matched spans, layers, softened and the normalised text. It prints the
count and the first differences; the exit status is 1 when there is any.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import subprocess
import sys
import tarfile
import tempfile
import unicodedata
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.risk_bench import CORPUS, LONG, long_messages  # noqa: E402  (after the path set-up)
from bot.safety.risk_corpus import read_file  # noqa: E402
from flows.risk import default_lexicon  # noqa: E402
from flows.risk.phrases import sample  # noqa: E402

# Run in the other revision's copy: the assessments of the messages read from stdin.
_ASSESS = """
import json, sys
import flows.risk
from flows.risk import assess, default_lexicon
assert flows.risk.__file__.startswith(sys.argv[1]), flows.risk.__file__
normalise = default_lexicon().normaliser.normalise
out = []
for text in json.load(sys.stdin):
    found = assess(text)
    out.append({**found.to_json_dict(), "softened": found.softened, "normalised": normalise(text)})
json.dump(out, sys.stdout)
"""

_JOINERS = [" ", ". ", ", ", "! ", "? ", "; ", ": ", "\n", "…", "。", "，", "！", "？", "；", "：",
            " - ", " ~ ", "  ", "\t", "", "...", " / ", "、", "!!", "?!", " (", ") "]  # fmt: skip
_HIDDEN = ["\u200b", "\u200d", "\u00ad", "\ufeff", "\u2060", "\u034f", "\U000e0041"]
_LOOKALIKE = str.maketrans("aeiopcxy", "аеіорсху")
_LEET = str.maketrans("aeiost", "431057")
_TEXT_SPEAK = {"want to": "wanna", "going to": "gonna", "kill myself": "kms", "you": "u",
               "are": "r", "because": "cuz", "tonight": "2nite", "right now": "rn",
               "ing ": "in ", "myself": "myslef", "to ": "2 "}  # fmt: skip


def _spaced(text: str, rng: random.Random) -> str:
    separator = rng.choice([" ", ".", "-", "_", " . ", "*", "·", ", "])
    return separator.join(text)


def _censored(text: str, rng: random.Random) -> str:
    stars = "*" * rng.randint(1, 3)
    return "".join(stars if c in "aeiou" and rng.random() < 0.5 else c for c in text)


def _stretched(text: str, rng: random.Random) -> str:
    return "".join(c * rng.randint(1, 4) if c.isalpha() and rng.random() < 0.3 else c for c in text)


def _hidden(text: str, rng: random.Random) -> str:
    return "".join(c + rng.choice(_HIDDEN) if rng.random() < 0.2 else c for c in text)


def _full_width(text: str, rng: random.Random) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _marked(text: str, rng: random.Random) -> str:
    mark = rng.choice(["\u0336", "\u0301", "\u0308", "\u0489", "\u20e3"])
    return "".join(c + mark if c.isalpha() else c for c in text)


def _speak(text: str, rng: random.Random) -> str:
    for plain, short in _TEXT_SPEAK.items():
        if rng.random() < 0.5:
            text = text.replace(plain, short)
    return text


_DISGUISES: list[Callable[[str, random.Random], str]] = [
    _spaced,
    _censored,
    _stretched,
    _hidden,
    _full_width,
    _marked,
    _speak,
    lambda text, rng: text.translate(_LOOKALIKE),
    lambda text, rng: text.translate(_LEET),
    lambda text, rng: text.upper(),
    lambda text, rng: text.replace("'", rng.choice("’‘`´")).replace("i", rng.choice("i!1")),
    lambda text, rng: unicodedata.normalize("NFD", text),
]


def corpus_texts() -> list[str]:
    """Every message of every corpus file, held-out sets included."""
    return [row.text for path in sorted(CORPUS.rglob("*.tsv")) for row in read_file(path).rows]


def generated(count: int, seed: int) -> list[str]:
    """Made-up messages, most of them long: corpus messages, phrase samples and cue words
    joined by punctuation, some parts disguised, cut at a random length."""
    rng = random.Random(seed)
    lexicon = default_lexicon()
    phrases = [*lexicon.phrases.phrases, *lexicon.idioms.phrases, *lexicon.exceptions.phrases]
    parts = corpus_texts() + [sample(phrase.source, lexicon.normaliser) for phrase in phrases]
    cues = ["not", "never", "used to", "when i was 15", "my son said he", "他说", "以前", "不会",
            "again", "still", "we", "i", "我", "她", "過", "he", "they said i"]  # fmt: skip
    messages = []
    for _ in range(count):
        pieces = []
        for _ in range(rng.choice([1, 2, 3, 20, 40, 60, 80, 120, 160, 200])):
            piece = rng.choice(cues) + " " if rng.random() < 0.2 else ""
            piece += rng.choice(parts)
            if rng.random() < 0.15:
                piece = rng.choice(_DISGUISES)(piece, rng)
            pieces.append(piece + rng.choice(_JOINERS))
        text = "".join(pieces)
        end = min(len(text), LONG)
        messages.append(text[: rng.randint(end // 4 + 1, end)])
    return messages


def assessments(texts: list[str], revision: str | None) -> list[dict[str, object]]:
    """What ``flows.risk`` at ``revision`` (None: this working copy) says of each text."""
    with tempfile.TemporaryDirectory() as folder:
        if revision is None:
            where = str(ROOT)
        else:
            archive = subprocess.run(
                ["git", "-C", str(ROOT), "archive", revision, "flows"],
                capture_output=True,
                check=True,
            ).stdout
            with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
                tar.extractall(folder, filter="data")
            where = folder
        done = subprocess.run(
            [sys.executable, "-c", _ASSESS, where],
            input=json.dumps(texts),
            capture_output=True,
            text=True,
            check=True,
            cwd=where,
        )
    result: list[dict[str, object]] = json.loads(done.stdout)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--against", default="HEAD", help="git revision to compare with")
    parser.add_argument("--generated", type=int, default=6600, help="made-up messages")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    corpus = corpus_texts()
    long = list(long_messages().values())
    made = generated(args.generated, args.seed)
    texts = corpus + long + made
    old = assessments(texts, args.against)
    new = assessments(texts, None)
    differ = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
    print(f"corpus messages    : {len(corpus)}")
    print(f"long messages      : {len(long)}")
    print(f"generated messages : {len(made)} ({sum(len(t) > 400 for t in made)} over 400 chars)")
    print(f"compared           : {len(texts)} with {args.against}; {len(differ)} differ")
    for index in differ[:10]:
        print(f"\n{texts[index][:200]!r}\n  {args.against}: {old[index]}\n  now: {new[index]}")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
