"""A tiny stand-in batch rule for testing the file layer without a real clinical rule.

It reads one column of each kind the readers must type (number, whole number, boolean, word,
list, vasopressor flags) and returns the shape every batch rule returns (status, values,
reasons, missing), so the io and command-line tests do not depend on any rule's arithmetic.
"""

from __future__ import annotations

import polars as pl

from carta.analytics.frames import conform
from carta.analytics.rules import BatchRule
from carta.clinical.vocabulary import HYPOTENSION
from carta.io.records import VASOPRESSOR_FLAG_COLUMNS

SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "temperature_c": pl.Float64,
    "ice_items.orientation_year": pl.Int64,
    "fever_attributable_to_other_cause": pl.Boolean,
    "hypotension": pl.Enum(list(HYPOTENSION)),
    "times_days": pl.List(pl.Float64),
    **dict.fromkeys(VASOPRESSOR_FLAG_COLUMNS, pl.Boolean),
}
FEVER_C = 38.0


def grade_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """status ok when the temperature is known; grade 1 at >= 38.0; n_vasopressors; sample count."""
    typed = conform(frame, SCHEMA)
    temperature = pl.col("temperature_c")
    known = temperature.is_not_null()
    return typed.select(
        pl.when(known).then(pl.lit("ok")).otherwise(pl.lit("cannot_grade")).alias("status"),
        pl.when(known).then((temperature >= FEVER_C).cast(pl.Int64)).alias("grade"),
        pl.sum_horizontal([pl.col(c).cast(pl.Int64) for c in VASOPRESSOR_FLAG_COLUMNS]).alias(
            "n_vasopressors"
        ),
        pl.col("times_days").list.len().cast(pl.Int64).alias("samples"),
        pl.when(known & (temperature >= FEVER_C))
        .then(pl.lit(["fake.fever"], dtype=pl.List(pl.String)))
        .otherwise(pl.lit([], dtype=pl.List(pl.String)))
        .alias("reasons"),
        pl.when(known)
        .then(pl.lit([], dtype=pl.List(pl.String)))
        .otherwise(pl.lit(["temperature_c"], dtype=pl.List(pl.String)))
        .alias("missing"),
    )


def fake_rule(name: str = "crs") -> BatchRule:
    """The stand-in under a real rule's name (the name picks the criteria label)."""
    return BatchRule(name=name, input_schema=SCHEMA, grade_frame=grade_frame)
