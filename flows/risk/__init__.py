"""Crisis-language risk assessment of one chat message.

``assess(text)`` says whether a message contains crisis language (``crisis``),
worrying but less urgent language (``concern``) or neither (``none``), which categories
of risk it touches and which phrases matched. It is pure: the only I/O is reading the
lexicon data file once. English, Simplified and Traditional Chinese and mixed messages
are handled by one lexicon (``flows/risk/lexicon.json``); a program can load its own file
with ``load_lexicon``. How it works, the file format and its measured accuracy and limits
are in docs/risk-lexicon.md.

The lexicon errs toward flagging: a missed crisis costs far more than an unneeded
crisis reply. It is a screen that hands people to humans, not a clinical judgement.
"""

from flows.risk.assessment import Assessment, assess
from flows.risk.levels import CATEGORIES, Level
from flows.risk.lexicon import Lexicon, LexiconError, default_lexicon, load_lexicon

__all__ = [
    "CATEGORIES",
    "Assessment",
    "Level",
    "Lexicon",
    "LexiconError",
    "assess",
    "default_lexicon",
    "load_lexicon",
]
