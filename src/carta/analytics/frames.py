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
    expressions = []
    for name, dtype in schema.items():
        if name in frame.columns:
            expressions.append(pl.col(name).cast(dtype, strict=True).alias(name))
        else:
            expressions.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(expressions)
