"""The coded output form of the table-driven batch rules (CRS, ICANS; ADR 0450).

The CRS and ICANS batch rules find, for every row, one row of a small table of distinct
outputs (about 1 000 and 12 000 rows) and gather the output columns from it. Gathering a
``List(String)`` column for ten million rows costs more than grading them, so these rules
also offer ``grade_frame_coded``, which gathers the same outputs in a compact form:

* ``status``: ``Enum`` of the result statuses (:data:`STATUS`);
* ``grade``, ``ice_score``, ``capd_score``: ``Int8`` (same values, same nulls);
* ``reasons``, ``missing``: ``Categorical`` of the row's whole list joined with ``;``
  (:data:`SEPARATOR`, the CSV separator of ``carta.io.writers``; the empty list is ``""``).
  One category per distinct combination, so each row costs one 32-bit code.

:func:`decode` turns a coded frame back into exactly what ``grade_frame`` returns (``String``,
``Int64``, ``List(String)``), value for value and dtype for dtype.
"""

from __future__ import annotations

import polars as pl

from carta.clinical.results import Status
from carta.io.records import LIST_SEPARATOR

STATUS = pl.Enum([status.value for status in Status])
SEPARATOR = LIST_SEPARATOR
LIST_COLUMNS = ("reasons", "missing")
_EMPTY_LIST = pl.lit([], dtype=pl.List(pl.String))


# In a gather table, a null integer is stored as this (grades and totals are never negative).
_NULL_INT = -1


def coded_table(output: pl.DataFrame) -> pl.DataFrame:
    """A (small) frame of output rows as a gather table: the coded form, except that null
    integers are stored as -1 (:func:`gather` turns them back into nulls). Columns it does
    not know stay as they are.
    """
    return output.select(_coded(name, dtype) for name, dtype in output.schema.items())


def gather(table: pl.DataFrame, rows: pl.Series) -> pl.DataFrame:
    """The rows ``rows`` of a gather table (:func:`coded_table`), in the coded form.

    Gathering integers without nulls and nulling the -1 after is about 3x cheaper than
    gathering a column with nulls.
    """
    gathered = table[rows]
    return gathered.with_columns(
        pl.when(pl.col(name) != _NULL_INT).then(pl.col(name)).alias(name)
        for name, dtype in gathered.schema.items()
        if dtype == pl.Int8
    )


def _coded(name: str, dtype: pl.DataType) -> pl.Expr:
    column = pl.col(name)
    if name == "status" and dtype == pl.String:
        return column.cast(STATUS)
    if dtype == pl.Int64:  # grades and ICE/CAPD totals: 0-32
        return column.cast(pl.Int8, strict=True).fill_null(_NULL_INT)
    if name in LIST_COLUMNS and dtype == pl.List(pl.String):
        return column.list.join(SEPARATOR).cast(pl.Categorical)
    return column


def decode(coded: pl.DataFrame, *, words_as_enum: bool = False) -> pl.DataFrame:
    """The coded form back to the form ``grade_frame`` returns (String, Int64, List(String)).

    With ``words_as_enum``, ``status`` becomes an ``Enum`` of the statuses present and the
    lists ``List(Enum)`` of the words present, both sorted: the dictionary-coded form that
    :func:`carta.io.writers.dictionary_coded` gives a graded frame before writing Parquet,
    built from the few distinct values instead of from every row.
    """
    columns = []
    for name, dtype in coded.schema.items():
        series = coded[name]
        if name in LIST_COLUMNS and dtype == pl.Categorical:
            columns.append(_lists(series, words_as_enum=words_as_enum))
        elif dtype == STATUS:
            present = series.drop_nulls().unique().cast(pl.String).sort().to_list()
            columns.append(series.cast(pl.Enum(present) if words_as_enum else pl.String))
        elif dtype == pl.Int8:
            columns.append(series.cast(pl.Int64))
        else:
            columns.append(series)
    return pl.DataFrame(columns)


def _lists(column: pl.Series, *, words_as_enum: bool) -> pl.Series:
    """A coded list column as a list column, splitting each distinct combination once."""
    distinct = column.drop_nulls().unique()
    text = distinct.cast(pl.String)
    lists = pl.select(
        pl.when(pl.lit(text) == "").then(_EMPTY_LIST).otherwise(pl.lit(text).str.split(SEPARATOR))
    ).to_series()
    if words_as_enum:
        words = lists.explode().drop_nulls().unique().sort().to_list()
        lists = lists.cast(pl.List(pl.Enum(words)))
    # Category codes are process-wide ids: a dense id -> position lookup over the few present.
    codes, present = column.to_physical(), distinct.to_physical()
    top = max(present.to_list(), default=0)
    position = pl.zeros(top + 1, dtype=pl.UInt32, eager=True).scatter(
        present, pl.int_range(len(present), dtype=pl.UInt32, eager=True)
    )
    return lists.gather(position.gather(codes)).alias(column.name)
