"""``tongban risk-check``: assess messages with the crisis-language lexicon from a shell.

For program teams checking a lexicon change before deploying it, and for scripts:
one JSON object per message on standard output, in the same shape the bot stores.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import NoReturn, TextIO

from flows.risk import Lexicon, LexiconError, assess, default_lexicon, load_lexicon

EXIT_OK = 0
EXIT_LEXICON_ERROR = 1
EXIT_USAGE = 2

_DESCRIPTION = """\
Assess messages for crisis language and print one JSON object per message:
{"level": "crisis|concern|none", "categories": [...], "matched": [...]}.

Messages are read one per line from standard input (every input line gives one output
line, so outputs line up with inputs), or given with --text. The built-in lexicon is
used unless --lexicon names a lexicon file (format: docs/risk-lexicon.md).
"""

_EPILOG = """\
examples:
  tongban risk-check --text "i want to die" --text "笑死我了"
  tongban risk-check --lexicon program-lexicon.json < messages.txt
  tongban risk-check --report                  # figures on the labelled corpus (Markdown)
  tongban risk-check --report-into docs/risk-lexicon.md   # rewrite the figures in the doc

exit status: 0 on success, 1 if the lexicon file is invalid, 2 on a usage error.
"""


class _UsageError(Exception):
    """A command-line mistake; ``run`` reports it and returns EXIT_USAGE."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises on a usage error instead of exiting the process."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``risk-check`` (``--help`` is handled by ``run``)."""
    parser = _Parser(
        prog="tongban risk-check",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    parser.add_argument("-h", "--help", action="store_true", help="show this help and exit")
    parser.add_argument(
        "--text",
        action="append",
        metavar="MESSAGE",
        help="a message to assess (repeatable); when given, standard input is not read",
    )
    parser.add_argument(
        "--report",
        action="store_true",
        help="print the built-in screen's figures on tests/risk_corpus (training, held-out)",
    )
    parser.add_argument(
        "--report-into",
        metavar="FILE",
        help="replace the report between the markers in FILE (docs/risk-lexicon.md)",
    )
    parser.add_argument(
        "--lexicon",
        metavar="PATH",
        help="lexicon JSON file to use instead of the configured or built-in one",
    )
    return parser


def run(argv: list[str] | None, stdin: TextIO, stdout: TextIO, lexicon_path: str | None) -> int:
    """Run ``risk-check`` with ``argv`` (None: sys.argv[1:]) and return the exit status.

    ``lexicon_path`` is the program's configured lexicon, if any; ``--lexicon`` wins.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as error:
        sys.stderr.write(f"{parser.format_usage()}{parser.prog}: error: {error}\n")
        return EXIT_USAGE
    if args.help:
        stdout.write(parser.format_help())
        return EXIT_OK
    if args.report or args.report_into:
        from bot.safety import risk_corpus

        try:  # a malformed corpus file or report target: its path and line, not a traceback
            text = risk_corpus.full_report()
            if not args.report_into:
                stdout.write(text)
                return EXIT_OK
            risk_corpus.write_into(Path(args.report_into), text)
        except (OSError, ValueError) as error:
            sys.stderr.write(f"tongban risk-check: {error}\n")
            return EXIT_USAGE
        return EXIT_OK

    path: str | None = args.lexicon or lexicon_path
    try:
        lexicon: Lexicon = load_lexicon(path) if path else default_lexicon()
    except LexiconError as error:
        sys.stderr.write(f"tongban risk-check: {error}\n")
        return EXIT_LEXICON_ERROR

    messages = args.text if args.text is not None else (line.rstrip("\r\n") for line in stdin)
    for message in messages:
        result = assess(message, lexicon).to_json_dict()
        stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        stdout.flush()
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(run(None, sys.stdin, sys.stdout, None))
