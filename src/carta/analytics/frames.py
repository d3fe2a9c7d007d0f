"""Shape a user's frame into the typed columns a vectorised rule expects."""

from __future__ import annotations

from collections.abc import Mapping

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
    widened = frame.with_columns(pl.lit(None, dtype=dtype).alias(name) for name, dtype in absent.items())
    return widened.select(
        pl.col(name) if name in absent else pl.col(name).cast(dtype, strict=True).alias(name)
        for name, dtype in schema.items()
    )
