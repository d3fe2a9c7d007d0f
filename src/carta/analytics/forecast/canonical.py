"""Read the registry's patient-day export into the canonical forecast frame, refusing bad rows.

``--format registry`` is a CSV, JSON Lines or Parquet file with one row per patient and day in
the canonical column names of :mod:`carta.analytics.forecast.columns` (listed in
``docs/forecast.md``). Values are typed with :func:`carta.io.validate.typed_frame` (a value that
is not a number is reported with its row and column), alternate units are converted
(``temperature_f``, ``crp_mg_L``, ``ferritin_ug_L``, ``wbc_10e9_L``), and every value is checked
against its plausible range: a forecast trained on a temperature of 98.6 "degC" would be silently
wrong, so such a file is refused with one message per problem and nothing is written.

Columns the forecast does not read are ignored (an export of every Appendix A field is fine).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from carta.analytics.forecast import columns as c
from carta.io.problems import MAX_LISTED_PROBLEMS, BadInputError, InputProblem
from carta.io.readers import Table
from carta.io.validate import DataType, typed_frame

FLOAT_COLUMNS: tuple[str, ...] = (
    *c.MEASUREMENTS,
    c.AGE_YEARS,
    *c.BASELINE_SCORES,
    c.FAHRENHEIT,
    *c.ALTERNATE_UNITS,
)
INTEGER_COLUMNS: tuple[str, ...] = (
    c.DAY,
    c.RECORDED_ICANS_GRADE,
    c.RECORDED_CRS_GRADE,
    *c.CRS_SUMMARY,
)
REGISTRY_SCHEMA: Mapping[str, DataType] = {
    **dict.fromkeys(FLOAT_COLUMNS, pl.Float64),
    **dict.fromkeys(INTEGER_COLUMNS, pl.Int64),
    **dict.fromkeys(c.THERAPIES, pl.Boolean),
    c.DISEASE: pl.Enum(list(c.DISEASES)),
    c.PRODUCT_CODE: pl.String,
}
TEXT_IDENTIFIERS: tuple[str, ...] = (c.PATIENT_ID, c.PERSON_ID)
# Every column of the canonical frame, in output order (absent ones are added as nulls).
CANONICAL_COLUMNS: tuple[str, ...] = (
    c.PATIENT_ID,
    c.PERSON_ID,
    c.DAY,
    *c.MEASUREMENTS,
    c.RECORDED_ICANS_GRADE,
    c.RECORDED_CRS_GRADE,
    *c.THERAPIES,
    c.AGE_YEARS,
    c.DISEASE,
    c.PRODUCT_CODE,
    *c.BASELINE_SCORES,
    *c.CRS_SUMMARY,
)
CANONICAL_DTYPES: Mapping[str, DataType] = {
    c.PATIENT_ID: pl.String,
    c.PERSON_ID: pl.String,
    **{name: dtype for name, dtype in REGISTRY_SCHEMA.items() if name in CANONICAL_COLUMNS},
}
# Row numbers travel with the frame so that checks after typing still name the file's row.
SOURCE_ROW = "source_row"


def registry_frame(table: Table) -> pl.DataFrame:
    """The canonical frame of a registry export; :class:`BadInputError` on any bad value."""
    frame = table.frame
    missing = [name for name in (c.PATIENT_ID, c.DAY) if name not in frame.columns]
    if missing:
        raise BadInputError(
            [InputProblem(expected=f"the file has no {name} column (required)") for name in missing]
        )
    _refuse_double_units(frame.columns)
    typed = typed_frame(table, REGISTRY_SCHEMA)
    typed = typed.with_columns(
        pl.col(name).cast(pl.String) for name in TEXT_IDENTIFIERS if name in typed.columns
    ).with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(SOURCE_ROW))
    canonical = conform(_in_canonical_units(typed))
    check_canonical(canonical, table)
    return canonical


def _refuse_double_units(names: Sequence[str]) -> None:
    """A quantity given in two units at once is ambiguous (which one is right?)."""
    pairs = [(c.TEMPERATURE_C, c.FAHRENHEIT)] + [
        (canonical, alternate) for alternate, (canonical, _) in c.ALTERNATE_UNITS.items()
    ]
    problems = [
        InputProblem(expected=f"the file has both {first} and {second}; give one of them")
        for first, second in pairs
        if first in names and second in names
    ]
    if problems:
        raise BadInputError(problems)


def _in_canonical_units(frame: pl.DataFrame) -> pl.DataFrame:
    """Alternate-unit columns converted to (and renamed as) the canonical ones."""
    if c.FAHRENHEIT in frame.columns:
        celsius = (pl.col(c.FAHRENHEIT) - 32.0) * 5.0 / 9.0
        frame = frame.with_columns(celsius.alias(c.TEMPERATURE_C)).drop(c.FAHRENHEIT)
    for alternate, (canonical, factor) in c.ALTERNATE_UNITS.items():
        if alternate in frame.columns:
            frame = frame.with_columns((pl.col(alternate) * factor).alias(canonical)).drop(
                alternate
            )
    return frame


def conform(frame: pl.DataFrame) -> pl.DataFrame:
    """Exactly the canonical columns (absent ones as nulls), typed, plus any ``source_*``.

    ``person_id`` defaults to ``patient_id``; extra ``source_*`` columns (provenance written by
    an importer) are kept at the end and never read as features.
    """
    expressions: list[pl.Expr] = []
    for name in CANONICAL_COLUMNS:
        dtype = CANONICAL_DTYPES[name]
        if name in frame.columns:
            expressions.append(pl.col(name).cast(dtype))
        elif name == c.PERSON_ID:
            expressions.append(pl.col(c.PATIENT_ID).cast(pl.String).alias(c.PERSON_ID))
        else:
            expressions.append(pl.lit(None, dtype=dtype).alias(name))
    if c.PERSON_ID in frame.columns:
        person = pl.coalesce(pl.col(c.PERSON_ID).cast(pl.String), pl.col(c.PATIENT_ID))
        expressions[CANONICAL_COLUMNS.index(c.PERSON_ID)] = person.alias(c.PERSON_ID)
    provenance = [name for name in frame.columns if name.startswith("source_")]
    return frame.select(*expressions, *provenance)


def check_canonical(frame: pl.DataFrame, table: Table | None = None) -> None:
    """Refuse missing identifiers, implausible values and repeated patient-days, by row.

    Row numbers come from ``source_row`` when present (1-based data rows of the file), and
    ``table`` maps them to file lines.
    """
    rows = (
        frame[SOURCE_ROW]
        if SOURCE_ROW in frame.columns
        else pl.Series(SOURCE_ROW, range(1, frame.height + 1), dtype=pl.Int64)
    )
    checks: list[tuple[str, pl.Series, str]] = [
        (c.PATIENT_ID, frame[c.PATIENT_ID].is_null(), "a patient identifier (required)"),
        (c.DAY, frame[c.DAY].is_null(), "a whole number of days after infusion (required)"),
    ]
    for name, bounds in c.BOUNDS.items():
        if name in frame.columns and frame[name].null_count() < frame.height:
            values = frame[name].cast(pl.Float64)
            bad = ((values < bounds.low) | (values > bounds.high)).fill_null(False)
            checks.append((name, bad, bounds.describe()))
    checks.append(
        (
            c.DAY,
            frame.select(pl.struct(c.PATIENT_ID, c.DAY).is_duplicated()).to_series()
            & frame[c.DAY].is_not_null(),
            "one row per patient and day (this patient-day appears more than once)",
        )
    )
    problems: list[tuple[int, InputProblem]] = []
    for name, bad, expected in checks:
        for index in bad.arg_true().head(MAX_LISTED_PROBLEMS).to_list():
            row = int(rows[index])
            line = table.line_of(row - 1) if table is not None else None
            value = frame[name][index]
            problems.append(
                (row, InputProblem(expected, row=row, line=line, field=name, value=value))
            )
    if problems:
        total = sum(int(bad.sum()) for _, bad, _ in checks)
        problems.sort(key=lambda item: item[0])
        raise BadInputError([problem for _, problem in problems[:MAX_LISTED_PROBLEMS]], total)
