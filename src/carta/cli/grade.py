"""``carta grade RULE FILE``: read, validate, grade in chunks, write atomically.

Nothing is written until every row has been read, typed and graded: a file with bad values is
refused with one message per problem (exit code 2) and an existing output file is left as it
was (ADR 0191).
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import polars as pl

from carta.analytics.rules import BatchRule, get_rule
from carta.analytics.rules.coded import decode
from carta.cli.main import EXIT_OK, EXIT_USAGE, TIMELINE
from carta.clinical import citations
from carta.clinical.results import Criteria
from carta.io.problems import BadInputError, InputProblem
from carta.io.readers import Table, read_table
from carta.io.validate import (
    IDENTIFIER_COLUMNS,
    DataType,
    identifier_frame,
    typed_frame,
    unread_columns,
)
from carta.io.writers import OutputError, check_output, output_format, write_frame

# The criteria each rule applies, written beside every graded row.
RULE_CRITERIA: Mapping[str, Criteria] = {
    "crs": citations.ASTCT_CRS,
    "icans": citations.ASTCT_ICANS,
    "icaht-early": citations.ICAHT,
    "icaht-late": citations.ICAHT,
    "car-hematotox": citations.CAR_HEMATOTOX,
    "easix": citations.EASIX,
    "m-easix": citations.M_EASIX,
    "ctcae": citations.CTCAE,
    "kinetics": citations.KINETICS,
}
CRITERIA_COLUMN = "criteria"
# Rows are graded in chunks of this size; a progress bar appears on stderr above
# PROGRESS_MIN_ROWS rows (or above one chunk when stderr is a terminal).
CHUNK_ROWS = 1_000_000
PROGRESS_MIN_ROWS = 2_000_000


def grade_command(args: argparse.Namespace) -> int:
    """Grade ``args.file`` with ``args.rule``; write to ``args.output`` or stdout."""
    source = Path(args.file)
    target = Path(args.output) if args.output else None
    if args.episodes and args.rule != TIMELINE:
        return _usage("--episodes goes with 'carta grade timeline'")
    try:
        file_format = output_format(target, args.format)
        check_output(target, file_format)
    except OutputError as error:
        return _usage(str(error))
    try:
        table = read_table(source)
        if args.rule == TIMELINE:
            result = grade_timeline_table(table, source, episodes=args.episodes)
        else:
            result = grade_table(table, get_rule(args.rule), source)
    except BadInputError as error:
        report_problems(source, error)
        return EXIT_USAGE
    try:
        write_frame(result, target, file_format, sys.stdout)
    except OSError as error:
        if target is None:
            raise
        return _usage(f"cannot write {target}: {error.strerror or error}; nothing was written")
    return EXIT_OK


def grade_table(table: Table, rule: BatchRule, source: Path) -> pl.DataFrame:
    """Identifier columns, the rule's output columns and ``criteria``, one row per input row."""
    warn_unread(source, table, rule.input_schema, rule.name)
    typed = typed_frame(table, rule.input_schema)
    if rule.grade_frame_coded is None:
        graded = grade_in_chunks(typed, rule.grade_frame, rule.name)
    else:
        # Coded outputs, decoded once to the dictionary-coded form the Parquet writer wants
        # (ADR 0450): the same text in every format, at a fraction of the cost.
        coded = grade_in_chunks(typed, rule.grade_frame_coded, rule.name)
        graded = decode(coded, words_as_enum=True)
    identifiers = identifier_frame(table.frame)
    identifiers = identifiers.drop([name for name in identifiers.columns if name in graded.columns])
    label = RULE_CRITERIA[rule.name].label
    # An enum of one word: the same text in every format, and 3x cheaper to fill and to write.
    criteria = pl.lit(label, dtype=pl.Enum([label])).alias(CRITERIA_COLUMN)
    # The constant column is added before the concatenation: added after, Polars realigns
    # every column's chunks (0.4 s per 5 million rows).
    return pl.concat([identifiers, graded.with_columns(criteria)], how="horizontal")


def timeline_schema() -> dict[str, DataType]:
    """What ``grade_timeline`` reads: the CRS and ICANS inputs, day, therapy, recorded grades."""
    from carta.analytics import timeline

    return {
        **get_rule("crs").input_schema,
        **get_rule("icans").input_schema,
        timeline.DAY: pl.Int64,
        timeline.THERAPY: pl.Boolean,
        timeline.PREVIOUSLY_DIAGNOSED: pl.Boolean,
        **dict.fromkeys(timeline.RECORDED_INPUT.values(), pl.Int64),
    }


def grade_timeline_table(table: Table, source: Path, *, episodes: bool) -> pl.DataFrame:
    """The per-day timeline of each patient, or (``episodes``) one row per episode."""
    from carta.analytics.timeline import grade_timeline, summarise_episodes

    schema = timeline_schema()
    warn_unread(source, table, schema, TIMELINE)
    typed = typed_frame(table, schema)
    try:
        timeline = grade_timeline(typed)
    except ValueError as error:  # no patient_id/day, a duplicate patient-day (documented)
        raise _file_problem(str(error)) from None
    return summarise_episodes(timeline) if episodes else timeline


def grade_in_chunks(
    frame: pl.DataFrame, grade: Callable[[pl.DataFrame], pl.DataFrame], label: str
) -> pl.DataFrame:
    """``grade(frame)``, a chunk of rows at a time with a progress bar for big inputs.

    The rules are row by row, so chunking changes nothing but memory use and feedback.
    """
    rows = frame.height
    if rows <= CHUNK_ROWS:
        return grade(frame)
    from tqdm import tqdm

    show = rows > PROGRESS_MIN_ROWS or sys.stderr.isatty()
    parts = []
    with tqdm(
        total=rows, unit="rows", unit_scale=True, desc=label, file=sys.stderr, disable=not show
    ) as progress:
        for start in range(0, rows, CHUNK_ROWS):
            chunk = frame.slice(start, CHUNK_ROWS)
            parts.append(grade(chunk))
            progress.update(chunk.height)
    return pl.concat(parts, how="vertical")


def warn_unread(source: Path, table: Table, schema: Mapping[str, DataType], name: str) -> None:
    """Warn once about columns the rule ignores (catches ``temprature_c``) and carry on."""
    unread = unread_columns(table.frame.columns, schema)
    if unread:
        described = ", ".join(_with_suggestion(column, schema) for column in unread)
        print(
            f"carta: warning: {source}: these columns are not inputs of {name}: {described}",
            file=sys.stderr,
        )
    read = set(table.frame.columns) - set(unread) - set(IDENTIFIER_COLUMNS)
    if table.frame.height and not read:
        print(
            f"carta: warning: {source}: none of the columns {name} reads is present, so no "
            "row can be graded; see docs/input-vocabulary.md for the column names",
            file=sys.stderr,
        )


def _with_suggestion(column: str, schema: Mapping[str, DataType]) -> str:
    close = difflib.get_close_matches(column, list(schema), n=1, cutoff=0.8)
    return f"{column} (did you mean {close[0]}?)" if close else column


def report_problems(source: Path, error: BadInputError) -> None:
    """One line per problem on stderr, then how many more and that nothing was written."""
    for problem in error.problems:
        print(f"carta: {source}: {problem}", file=sys.stderr)
    hidden = error.total - len(error.problems)
    if hidden > 0:
        print(f"carta: {source}: ... and {hidden} more problems", file=sys.stderr)
    count = "1 problem" if error.total == 1 else f"{error.total} problems"
    hint = ""
    if any(problem.field is not None for problem in error.problems):
        hint = (
            ". An empty cell (null in JSON) means unknown; the accepted columns and words "
            "are in docs/input-vocabulary.md"
        )
    print(f"carta: {source}: {count}; nothing was written{hint}", file=sys.stderr)


def _file_problem(message: str) -> BadInputError:
    return BadInputError([InputProblem(expected=message)])


def _usage(message: str) -> int:
    print(f"carta: {message}", file=sys.stderr)
    return EXIT_USAGE
