"""``carta demo``: the CRS and ICANS episodes of the bundled synthetic patients.

Until the registry web application exists this is the first thing a new user runs: it needs
no arguments and no data, reads ``carta/data/demo_patient_days.jsonl`` from the installed
package, and prints one row per patient, syndrome and episode.
"""

from __future__ import annotations

import argparse
import sys

import polars as pl

from carta.cli.main import EXIT_OK

MISSING_CELL = "-"
DEMO_NOTE = (
    "These patients are synthetic (made up for the demo); no real patient data is included.\n"
    "Grade your own patient-days: carta grade timeline my_patient_days.csv --episodes\n"
    "(columns and words: docs/input-vocabulary.md; every rule: carta grade --help)"
)


def demo_command(args: argparse.Namespace) -> int:
    """Grade the bundled example with the timeline and print its episode table."""
    from carta.analytics.timeline import demo_patient_days, grade_timeline, summarise_episodes

    days = demo_patient_days()
    episodes = summarise_episodes(grade_timeline(days))
    patients = days["patient_id"].n_unique()
    print(f"CRS and ICANS episodes of {patients} synthetic patients ({days.height} patient-days)")
    print()
    print(text_table(episodes))
    print()
    print(DEMO_NOTE)
    sys.stdout.flush()
    return EXIT_OK


def text_table(frame: pl.DataFrame) -> str:
    """A plain fixed-width table (right-aligned numbers, ``-`` for null), one line per row."""
    cells = [
        [MISSING_CELL if value is None else str(value) for value in row] for row in frame.rows()
    ]
    widths = [
        max([len(name), *(len(row[index]) for row in cells)])
        for index, name in enumerate(frame.columns)
    ]
    numeric = [dtype.is_numeric() for dtype in frame.schema.values()]

    def line(values: list[str]) -> str:
        return "  ".join(
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(list(frame.columns)), rule, *(line(row) for row in cells)])
