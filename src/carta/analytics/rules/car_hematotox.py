"""CAR-HEMATOTOX (reference section f), vectorised: the twin of
:func:`carta.clinical.scores.car_hematotox.score_car_hematotox`.

Input: ten Float64 columns, each marker in its canonical unit and its section 0.1 alternate.
Every step is a Polars expression; reasons and missing fields are integer bitmasks decoded at
the end through a lookup of the few distinct masks (:func:`decode_masks`).

This module also holds two helpers shared by the score and CTCAE batch rules
(:mod:`carta.analytics.rules.easix`, :mod:`~carta.analytics.rules.m_easix`,
:mod:`~carta.analytics.rules.ctcae`): :func:`decode_masks` and :func:`divide_exactly`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

from carta.analytics.frames import conform
from carta.clinical import units
from carta.clinical.results import Status, invalid_reason
from carta.clinical.scores import car_hematotox as rule

# --- shared helpers ----------------------------------------------------------------------------


def decode_masks(mask: pl.Series, codes: Sequence[str]) -> pl.Series:
    """Integer bitmasks -> lists of codes (bit b set -> ``codes[b]``, in bit order).

    Only the distinct mask values are decoded in Python (a handful per frame); the mapping
    itself is one vectorised ``replace_strict``.
    """
    distinct = [value for value in mask.unique().to_list() if value is not None]
    decoded = [[code for bit, code in enumerate(codes) if value >> bit & 1] for value in distinct]
    return mask.replace_strict(
        distinct, decoded, default=None, return_dtype=pl.List(pl.String)
    ).alias(mask.name)


def divide_exactly(numerator: pl.Expr, denominator: float, height: int) -> pl.Expr:
    """``numerator / denominator`` rounded exactly as Python's ``/`` rounds it.

    Polars turns a division by a scalar into a multiplication by its reciprocal, which can
    differ from true division in the last bit; dividing by a column of the constant keeps the
    IEEE quotient, so a unit conversion here matches :mod:`carta.clinical.units` bit for bit.
    """
    divisor = pl.repeat(denominator, height, eager=True, dtype=pl.Float64)
    return numerator / pl.lit(divisor)


def in_range(column: pl.Expr, plausible: units.PlausibleRange) -> pl.Expr:
    """A finite number inside ``plausible`` (as :func:`carta.clinical.units.check_range`)."""
    return (column.is_finite() & (column >= plausible.low) & (column <= plausible.high)).fill_null(
        False
    )


def bits(flags: Sequence[pl.Expr]) -> pl.Expr:
    """Boolean expressions -> one Int64 bitmask (flag i -> bit i; a null flag counts as unset)."""
    return pl.sum_horizontal(
        [flag.fill_null(False).cast(pl.Int64) * (1 << bit) for bit, flag in enumerate(flags)]
    ).cast(pl.Int64)


# Row status as a small integer while computing; named only at the end.
CODE_OK, CODE_UNDETERMINED, CODE_INVALID = 0, 1, 2


def status_code(invalid_mask: pl.Expr, undetermined: pl.Expr) -> pl.Expr:
    """Invalid if any invalid bit, else undetermined (cannot_grade / cannot_compute), else ok."""
    return (
        pl.when(invalid_mask != 0)
        .then(CODE_INVALID)
        .when(undetermined)
        .then(CODE_UNDETERMINED)
        .otherwise(CODE_OK)
    )


def status_names(code: pl.Series, undetermined_status: Status) -> pl.Series:
    """Status codes -> the words of reference section 0.2."""
    return code.replace_strict(
        [CODE_OK, CODE_UNDETERMINED, CODE_INVALID],
        [Status.OK.value, undetermined_status.value, Status.INVALID_INPUT.value],
        return_dtype=pl.String,
    ).alias("status")


# --- CAR-HEMATOTOX -----------------------------------------------------------------------------

FIELDS = tuple(
    name for marker in rule.MARKERS for name in (marker.canonical_field, marker.alternate_field)
)
INPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = dict.fromkeys(FIELDS, pl.Float64)
OUTPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "status": pl.String,
    "score": pl.Int64,
    "risk_group": pl.String,
    "reasons": pl.List(pl.String),
    "missing": pl.List(pl.String),
}
# Reason bits: the points codes, then one ``invalid:<field>`` per input field (field order).
REASON_BITS = (*rule.REASON_CODES, *(invalid_reason(name) for name in FIELDS))
MISSING_BITS = tuple(marker.canonical_field for marker in rule.MARKERS)
_BIT = {code: bit for bit, code in enumerate(REASON_BITS)}


def _alternate_conversions(height: int) -> dict[str, Callable[[pl.Expr], pl.Expr]]:
    """Each marker's alternate -> canonical, the same operations as the scalar conversions."""
    return {
        "platelets": lambda value: value * units.PER_10E9_L_TO_PER_UL,
        "anc": lambda value: value * units.PER_10E9_L_TO_PER_UL,
        "hemoglobin": lambda value: divide_exactly(value, units.HEMOGLOBIN_G_L_PER_G_DL, height),
        "crp": lambda value: divide_exactly(value, units.CRP_MG_L_PER_MG_DL, height),
        "ferritin": lambda value: value,  # ug/L = ng/mL
    }


def _marker_columns(height: int) -> list[pl.Expr]:
    """Per marker: canonical value, invalid flags of both fields (pick_one + check_range)."""
    conversions = _alternate_conversions(height)
    expressions: list[pl.Expr] = []
    for marker in rule.MARKERS:
        canonical, alternate = pl.col(marker.canonical_field), pl.col(marker.alternate_field)
        both = canonical.is_not_null() & alternate.is_not_null()
        bad_canonical = alternate.is_null() & canonical.is_not_null()
        bad_canonical = bad_canonical & ~in_range(canonical, marker.canonical_range)
        bad_alternate = canonical.is_null() & alternate.is_not_null()
        bad_alternate = both | (bad_alternate & ~in_range(alternate, marker.alternate_range))
        value = (
            pl.when(canonical.is_not_null())
            .then(canonical)
            .otherwise(conversions[marker.name](alternate))
        )
        expressions += [
            value.alias(f"_{marker.name}"),
            bad_canonical.alias(f"_bad_{marker.canonical_field}"),
            bad_alternate.alias(f"_bad_{marker.alternate_field}"),
        ]
    return expressions


def _points() -> list[pl.Expr]:
    """Section f points, one Int64 column per marker (null when the marker is unknown)."""
    platelets, anc = pl.col("_platelets"), pl.col("_anc")
    hemoglobin, crp, ferritin = pl.col("_hemoglobin"), pl.col("_crp"), pl.col("_ferritin")
    return [
        pl.when(platelets > rule.PLATELETS_ZERO_POINTS_ABOVE_PER_UL)
        .then(0)
        .when(platelets >= rule.PLATELETS_ONE_POINT_FROM_PER_UL)
        .then(1)
        .otherwise(2)
        .alias("_p_platelets"),
        pl.when(anc >= rule.ANC_ZERO_POINTS_FROM_PER_UL).then(0).otherwise(1).alias("_p_anc"),
        pl.when(hemoglobin >= rule.HEMOGLOBIN_ZERO_POINTS_FROM_G_DL)
        .then(0)
        .otherwise(1)
        .alias("_p_hemoglobin"),
        pl.when(crp <= rule.CRP_ZERO_POINTS_UP_TO_MG_DL).then(0).otherwise(1).alias("_p_crp"),
        pl.when(ferritin < rule.FERRITIN_ONE_POINT_FROM_NG_ML)
        .then(0)
        .when(ferritin <= rule.FERRITIN_ONE_POINT_UP_TO_NG_ML)
        .then(1)
        .otherwise(2)
        .alias("_p_ferritin"),
    ]


def _masks() -> list[pl.Expr]:
    """Invalid, missing and points bitmasks and the score (before the status is known)."""
    p = {
        name: pl.col(f"_p_{name}") for name in ("platelets", "anc", "hemoglobin", "crp", "ferritin")
    }
    points_flags = [
        p["platelets"] == 1,
        p["platelets"] == 2,
        p["anc"] == 1,
        p["hemoglobin"] == 1,
        p["crp"] == 1,
        p["ferritin"] == 1,
        p["ferritin"] == 2,
    ]
    return [
        (bits([pl.col(f"_bad_{name}") for name in FIELDS]) * (1 << len(rule.REASON_CODES))).alias(
            "_invalid"
        ),
        bits([pl.col(f"_{marker.name}").is_null() for marker in rule.MARKERS]).alias("_missing"),
        bits(points_flags).alias("_points"),
        pl.sum_horizontal(list(p.values())).alias("_score"),
    ]


def _result_columns() -> list[pl.Expr]:
    code, score = pl.col("_code"), pl.col("_score")
    ok = code == CODE_OK
    return [
        code,
        pl.when(ok).then(score).cast(pl.Int64).alias("score"),
        pl.when(ok)
        .then(
            pl.when(score >= rule.HIGH_RISK_MIN_SCORE)
            .then(pl.lit(rule.RISK_HIGH))
            .otherwise(pl.lit(rule.RISK_LOW))
        )
        .alias("risk_group"),
        pl.when(code == CODE_INVALID)
        .then(pl.col("_invalid"))
        .when(ok)
        .then(pl.col("_points"))
        .otherwise(0)
        .alias("_reason_mask"),
        pl.when(code == CODE_UNDETERMINED)
        .then(pl.col("_missing"))
        .otherwise(0)
        .alias("_missing_mask"),
    ]


def grade_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Score every row; columns exactly those of ``CARHematotoxResult.as_row()``."""
    data = conform(frame, INPUT_SCHEMA)
    computed = (
        data.lazy()
        .with_columns(_marker_columns(data.height))
        .with_columns(_points())
        .with_columns(_masks())
        .with_columns(status_code(pl.col("_invalid"), pl.col("_missing") != 0).alias("_code"))
        .select(_result_columns())
        .collect()
    )
    return pl.DataFrame(
        [
            status_names(computed["_code"], Status.CANNOT_COMPUTE),
            computed["score"],
            computed["risk_group"].cast(pl.String),
            decode_masks(computed["_reason_mask"], REASON_BITS).alias("reasons"),
            decode_masks(computed["_missing_mask"], MISSING_BITS).alias("missing"),
        ]
    )
