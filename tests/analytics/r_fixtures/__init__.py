"""R's outputs on small data sets, written by ``make_fixtures.R`` (R 4.2, survival 3.5,
cmprsk 2.2: ``VERSIONS.txt``), and the helpers that compare carta's results with them.

R writes an undefined value (a standard error where the curve has reached 0, a confidence
limit it cannot compute) as ``Inf`` or an empty cell; carta reports those as null, so both are
read as null and must be null in the same places.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import polars as pl

FIXTURES = Path(__file__).parent
TOLERANCE = 1e-6  # the agreement for closed-form estimates
TEXT_COLUMNS = ("group", "term", "arm", "celltype", "sex", "disease", "ld_dose")


def path(name: str) -> Path:
    """The fixture file ``name``."""
    return FIXTURES / name


def read(name: str) -> pl.DataFrame:
    """A fixture CSV: text columns as text, every other column as Float64 (R's ``Inf`` and
    empty cells as null)."""
    frame = pl.read_csv(FIXTURES / name, infer_schema=False)
    return frame.with_columns(
        pl.col(column)
        .replace({"Inf": None, "-Inf": None, "NaN": None, "NA": None})
        .cast(pl.Float64)
        for column in frame.columns
        if column not in TEXT_COLUMNS
    )


def assert_agrees(
    mine: pl.DataFrame,
    theirs: pl.DataFrame,
    on: Sequence[str],
    columns: Sequence[str],
    tolerance: float = TOLERANCE,
) -> None:
    """Same keys, same nulls, and every value within ``tolerance`` (relative above 1)."""
    keys = list(on)
    left = mine.with_columns(pl.col(k).cast(theirs.schema[k]) for k in keys)
    joined = left.join(theirs, on=keys, how="full", suffix="_r", coalesce=True)
    assert joined.height == mine.height == theirs.height, (
        f"rows differ: carta {mine.height}, R {theirs.height}, matched {joined.height}"
    )
    for column in columns:
        ours = joined[column].cast(pl.Float64).to_numpy()
        reference = joined[f"{column}_r"].cast(pl.Float64).to_numpy()
        ours_null, reference_null = np.isnan(ours), np.isnan(reference)
        assert np.array_equal(ours_null, reference_null), (
            f"{column}: undefined at different rows "
            f"(carta {np.flatnonzero(ours_null)}, R {np.flatnonzero(reference_null)})"
        )
        defined = ~ours_null
        error = np.abs(ours[defined] - reference[defined]) / np.maximum(
            1.0, np.abs(reference[defined])
        )
        worst = float(error.max()) if error.size else 0.0
        assert worst <= tolerance, f"{column}: differs from R by {worst:.3g} (> {tolerance:g})"
