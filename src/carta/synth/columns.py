"""Build Polars columns from NumPy arrays quickly: enums from codes, nulls from masks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray


def enum_series(
    name: str,
    codes: NDArray[np.integer],
    words: Sequence[str],
    null: NDArray[np.bool_] | None = None,
) -> pl.Series:
    """A ``polars.Enum(words)`` column from integer codes (index into ``words``); null where ``null``."""
    index = pl.Series(_masked(codes.astype(np.uint32, copy=False), null))
    dtype = pl.Enum(list(words))
    return pl.Series(name, list(words), dtype=dtype).gather(index).alias(name)


def _masked(values: NDArray[np.generic], null: NDArray[np.bool_] | None) -> Any:
    if null is None or not null.any():
        return values
    return np.ma.masked_array(values, mask=null)


def series(
    name: str,
    values: NDArray[np.generic],
    dtype: pl.DataType | type[pl.DataType],
    null: NDArray[np.bool_] | None = None,
) -> pl.Series:
    """A typed column from a NumPy array, null where ``null`` is true."""
    column = pl.Series(name, _masked(values, null))
    return column if column.dtype == dtype else column.cast(dtype)


def all_null(name: str, length: int, dtype: pl.DataType | type[pl.DataType]) -> pl.Series:
    """A column of ``length`` nulls."""
    return pl.Series(name, [None], dtype=dtype).gather(np.zeros(length, dtype=np.uint32))


def choose(rng: np.random.Generator, probabilities: NDArray[np.floating]) -> NDArray[np.intp]:
    """One category per row of a (rows x categories) probability (or weight) matrix."""
    cumulative = np.cumsum(probabilities, axis=1)
    total = cumulative[:, -1:]
    draws = rng.random((probabilities.shape[0], 1)) * total
    picked = (cumulative <= draws).sum(axis=1)
    return np.asarray(np.minimum(picked, probabilities.shape[1] - 1), dtype=np.intp)


def categorical(
    rng: np.random.Generator, probabilities: Sequence[float], size: int
) -> NDArray[np.intp]:
    """``size`` draws from one categorical distribution (indices)."""
    p = np.asarray(probabilities, dtype=np.float64)
    picks = np.searchsorted(np.cumsum(p / p.sum()), rng.random(size), side="right")
    return np.asarray(np.clip(picks, 0, len(p) - 1), dtype=np.intp)
