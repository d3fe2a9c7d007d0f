"""Shape a user's frame into the typed columns a vectorised rule expects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl


def conform(
    frame: pl.DataFrame, schema: Mapping[str, pl.DataType | type[pl.DataType]]
) -> pl.DataFrame:
    """Select ``schema``'s columns from ``frame``, cast to their dtype; absent columns are null.

    Columns that are entirely null (dtype ``Null``, as when every row left a field empty) are
    cast like any other. The cast is strict: a value that cannot be converted raises
    ``polars.exceptions.InvalidOperationError``; the io layer validates user files before
    this point and reports row and field.
    """
    absent = {name: dtype for name, dtype in schema.items() if name not in frame.columns}
    # with_columns broadcasts the null literals to the frame's height (select alone would give
    # a single row when none of the schema's columns is present).
    widened = frame.with_columns(
        pl.lit(None, dtype=dtype).alias(name) for name, dtype in absent.items()
    )
    return widened.select(
        pl.col(name) if name in absent else pl.col(name).cast(dtype, strict=True).alias(name)
        for name, dtype in schema.items()
    )


_SEPARATOR = "\x1f"  # never part of a reason code or a field name
_LIST_COLUMNS = ("reasons", "missing")


def frame_of_result_rows(
    rows: Sequence[Mapping[str, Any]], output_schema: Mapping[str, pl.DataType | type[pl.DataType]]
) -> pl.DataFrame:
    """Scalar results' ``as_row()`` dicts -> a frame with ``output_schema``.

    For rules that run the scalar function per row (one row per patient). The ``reasons`` and
    ``missing`` lists travel as joined text, which Polars builds much faster than lists of
    Python lists, and are split back at the end.
    """
    columns: dict[str, list[Any]] = {name: [row[name] for row in rows] for name in output_schema}
    for name in _LIST_COLUMNS:
        columns[name] = [_SEPARATOR.join(items) for items in columns[name]]
    schema = {**output_schema, **dict.fromkeys(_LIST_COLUMNS, pl.String)}
    empty = pl.lit([], dtype=pl.List(pl.String))
    return pl.DataFrame(columns, schema=schema).with_columns(
        pl.when(pl.col(name) == "")
        .then(empty)
        .otherwise(pl.col(name).str.split(_SEPARATOR))
        .alias(name)
        for name in _LIST_COLUMNS
    )
