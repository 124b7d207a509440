"""Which message ids the code uses, found the way Babel extracts them."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

from bot.config import PROJECT_ROOT

KEYWORDS = {"N_": None, "msg": (1,), "Msg": (1,)}
# Babel's keyword spec: None means "the first argument", as for N_.
_SPEC = {name: spec if spec is not None else (1,) for name, spec in KEYWORDS.items()}


def used_message_ids(root: Path = PROJECT_ROOT) -> set[str]:
    ids: set[str] = set()
    for package in ("flows", "bot"):
        for _file, _line, message, _comments, _context in extract_from_dir(
            root / package,
            method_map=[("**.py", "python")],
            keywords=_SPEC,
        ):
            if isinstance(message, str) and "." in message and " " not in message:
                ids.add(message)
    return ids
