"""Cohort filters of the report: ``product_code=axi-cel,disease=lbcl|mcl``.

Each filter keeps the patients whose column holds one of the listed values (compared as text,
ignoring case and surrounding spaces). A filter naming a column the data do not have, or a
value the column never holds, is refused with the close names; a set of filters that leaves
nobody is refused too - a report of zero patients is never written.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

import polars as pl

from carta.analytics.cohort import CohortError

Filters = Mapping[str, tuple[str, ...]]
SHOWN_VALUES = 12
SHOWN_COLUMNS = 40


def parse_filters(text: str | None) -> dict[str, tuple[str, ...]]:
    """``"a=x,b=y|z"`` -> ``{"a": ("x",), "b": ("y", "z")}``; :class:`CohortError` if malformed."""
    filters: dict[str, tuple[str, ...]] = {}
    if text is None or not text.strip():
        return filters
    for part in text.split(","):
        column, sign, values = part.partition("=")
        column = column.strip()
        choices = tuple(value.strip() for value in values.split("|"))
        if not sign or not column or not all(choices):
            raise CohortError(
                f"cohort filter {part.strip()!r} is not COLUMN=VALUE or COLUMN=V1|V2 "
                "(filters are separated by commas)"
            )
        if column in filters:
            raise CohortError(f"cohort filter on {column!r} given twice; use {column}=V1|V2")
        filters[column] = choices
    return filters


def apply_filters(frame: pl.DataFrame, filters: Filters) -> pl.DataFrame:
    """The rows of ``frame`` that pass every filter."""
    keep = pl.lit(True)
    for column, values in filters.items():
        _check_column(frame, column)
        text = pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase()
        present = set(frame.select(text.unique().drop_nulls())[column].to_list())
        unknown = [value for value in values if value.lower() not in present]
        if unknown:
            raise CohortError(_unknown_values(column, unknown, sorted(present)))
        keep = keep & text.is_in([value.lower() for value in values]).fill_null(False)
    kept = frame.filter(keep)
    if kept.height == 0:
        shown = describe_filters(filters)
        raise CohortError(
            f"the cohort filters {shown} leave no patient (each value exists, but no patient "
            "has all of them)"
        )
    return kept


def describe_filters(filters: Filters) -> str:
    """``product_code = axi-cel; disease = lbcl or mcl`` (empty text when there are none)."""
    return "; ".join(f"{column} = {' | '.join(values)}" for column, values in filters.items())


def _check_column(frame: pl.DataFrame, column: str) -> None:
    if column in frame.columns:
        return
    close = difflib.get_close_matches(column, frame.columns, n=3, cutoff=0.5)
    if not close:  # "product" for "product_code": a prefix or a part of a name
        close = [name for name in frame.columns if column.lower() in name.lower()][:3]
    if close:
        hint = f"; did you mean {', '.join(repr(name) for name in close)}?"
    else:
        more = " ..." if frame.width > SHOWN_COLUMNS else ""
        hint = f" (the columns are: {', '.join(frame.columns[:SHOWN_COLUMNS])}{more})"
    raise CohortError(f"cohort filter: no column {column!r} in the data{hint}")


def _unknown_values(column: str, unknown: Sequence[str], present: Sequence[str]) -> str:
    close = [
        match
        for value in unknown
        for match in difflib.get_close_matches(value.lower(), present, n=2, cutoff=0.6)
    ]
    hint = f"; did you mean {', '.join(repr(value) for value in close)}?" if close else ""
    shown = ", ".join(present[:SHOWN_VALUES]) + (" ..." if len(present) > SHOWN_VALUES else "")
    return (
        f"cohort filter: column {column!r} never holds {', '.join(repr(v) for v in unknown)}"
        f"{hint} (its values are: {shown})"
    )
