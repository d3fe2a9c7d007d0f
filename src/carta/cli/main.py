"""The ``carta`` command: ``main(argv) -> exit code``, one function per command.

Exit codes: 0 success; 2 bad input or usage (a message on stderr, nothing written); 1 an
unexpected error (a short message; the traceback with ``--debug``). Heavy modules (Polars, the
rules) are imported inside the commands so that ``carta --help`` starts instantly.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence

from carta.cli import analyze, forecast, report, web
from carta.cli.options import add_debug_option

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_USAGE = 2

# The rule names of carta.analytics.rules.RULE_MODULES (a test keeps the two equal; importing
# the registry here would load Polars for `carta --help`).
RULE_NAMES = (
    "crs",
    "icans",
    "icaht-early",
    "icaht-late",
    "car-hematotox",
    "easix",
    "m-easix",
    "ctcae",
    "kinetics",
)
TIMELINE = "timeline"
FORMATS = ("csv", "jsonl", "parquet")

GRADE_DESCRIPTION = """\
Grade every row of FILE (CSV, JSON Lines or Parquet) with RULE and write one output row per
input row, in the same order: the identifier columns (patient_id, day, id) when present, then
status, the rule's values, reasons, missing and criteria.

Columns use the field names of the input vocabulary (docs/input-vocabulary.md). In CSV, nested
fields are dotted columns (ice_items.orientation_year), list cells hold values separated by ';'
(vasopressors: norepinephrine;vasopressin, or none), and an empty cell means unknown.

RULE is one of: {rules}; or 'timeline' for the per-day CRS and ICANS timeline of each patient
(patient_id and day required; --episodes for one row per episode instead).

A file with values that cannot be read (a word outside the vocabulary, text in a number
column) is refused with one message per problem (row, field, value, what was expected), exit
code 2, and no output file is written. Implausible numbers (a temperature of 50 C) are graded
as invalid_input rows instead.
"""

GRADE_EXAMPLES = """\
examples:
  carta grade crs patient_days.csv                      CSV to the terminal
  carta grade icans assessments.jsonl -o icans.parquet  Parquet file
  carta grade easix labs.parquet -o easix.csv
  carta grade timeline patient_days.csv --episodes      one row per CRS/ICANS episode
"""


def run() -> None:
    """Entry point of the ``carta`` script."""
    sys.exit(main(sys.argv[1:]))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``carta`` command line with ``argv`` and return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # --help, --version, or a usage error already printed
        return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    if getattr(args, "handler", None) is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        code: int = args.handler(args)
    except KeyboardInterrupt:
        print("carta: interrupted (no output file was changed)", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `carta grade ... | head`: the reader has stopped; so do we
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as error:
        if args.debug:
            traceback.print_exc()
        else:
            print(
                f"carta: unexpected error: {type(error).__name__}: {error}\n"
                "carta: run again with --debug to see the traceback, and please report it",
                file=sys.stderr,
            )
        return EXIT_UNEXPECTED
    return code


def grade(args: argparse.Namespace) -> int:
    """``carta grade RULE FILE``: grade every row of a file."""
    from carta.cli.grade import grade_command

    return grade_command(args)


class _Version(argparse.Action):
    """``--version``, looked up only when asked for (importlib.metadata is not free)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("carta")
        except PackageNotFoundError:
            number = "unknown (not installed)"
        print(f"carta {number}")
        parser.exit(EXIT_OK)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``carta`` and its commands."""
    parser = argparse.ArgumentParser(
        prog="carta",
        description="carta: toxicity grading and analytics for CAR T-cell therapy programs.",
        epilog="Start with `carta demo` (the registry web app), then `carta grade --help`.",
    )
    parser.add_argument("--version", action=_Version)
    add_debug_option(parser, False)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    _grade_parser(commands)
    # Commands written in their own modules register themselves (standard library only at
    # import time, like this module).
    analyze.register(commands)
    forecast.register(commands)
    report.register(commands)
    web.register(commands)  # demo, serve, migrate, createsuperuser
    return parser


def _grade_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    grade_parser = commands.add_parser(
        "grade",
        help="grade every row of a CSV, JSON Lines or Parquet file",
        description=GRADE_DESCRIPTION.format(rules=", ".join(RULE_NAMES)),
        epilog=GRADE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    grade_parser.add_argument(
        "rule", metavar="RULE", choices=(*RULE_NAMES, TIMELINE), help="the rule to apply"
    )
    grade_parser.add_argument("file", metavar="FILE", help="input file (.csv, .jsonl, .parquet)")
    grade_parser.add_argument(
        "-o", "--output", metavar="OUT", help="output file (default: CSV on standard output)"
    )
    grade_parser.add_argument(
        "--format",
        choices=FORMATS,
        help="output format (default: from the extension of OUT, else csv)",
    )
    grade_parser.add_argument(
        "--episodes",
        action="store_true",
        help="with 'timeline': one row per patient and episode instead of one per day",
    )
    add_debug_option(grade_parser, argparse.SUPPRESS)
    grade_parser.set_defaults(handler=grade)
