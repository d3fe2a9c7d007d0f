"""EASIX (reference section g), vectorised: the twin of
:func:`carta.clinical.scores.easix.compute_easix`.

Input: five Float64 columns (``ldh_U_L``, ``creatinine_mg_dL`` | ``creatinine_umol_L``,
``platelets_10e9_L`` | ``platelets_per_uL``). The ratio is evaluated as in the scalar rule,
``(LDH x creatinine) / platelets`` with true IEEE division, ``log2_value`` as
``ln(value) / ln(2)`` (Polars' ``log(2)``), and the Korell flag in rounded hundredths, so every
float agrees with the scalar rule bit for bit. :func:`ratio_frame` is shared with
:mod:`carta.analytics.rules.m_easix`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from carta.analytics.frames import conform
from carta.analytics.rules.car_hematotox import (
    CODE_INVALID,
    CODE_OK,
    CODE_UNDETERMINED,
    bits,
    decode_masks,
    divide_exactly,
    in_range,
    status_code,
    status_names,
)
from carta.clinical import units
from carta.clinical.results import Status, invalid_reason
from carta.clinical.scores import easix as rule


@dataclass(frozen=True, slots=True)
class RatioRule:
    """What differs between EASIX and m-EASIX: inputs, reason codes, alternate conversions."""

    inputs: tuple[rule.Input, ...]
    platelets_zero_reason: str
    log2_undefined_reason: str
    above_reason: str | None  # EASIX's Korell flag; None for m-EASIX
    # alternate field -> its conversion to the canonical unit, same operations as the scalar
    conversions: dict[str, Callable[[pl.Expr, int], pl.Expr]]

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(
            name
            for item in self.inputs
            for name in (item.canonical_field, item.alternate_field)
            if name is not None
        )

    @property
    def reason_bits(self) -> tuple[str, ...]:
        """Reason codes in the scalar rule's order, then ``invalid:<field>`` in field order."""
        codes: tuple[str, ...] = (self.platelets_zero_reason, self.log2_undefined_reason)
        codes += (self.above_reason,) if self.above_reason is not None else ()
        return codes + tuple(invalid_reason(name) for name in self.fields)

    @property
    def missing_bits(self) -> tuple[str, ...]:
        return tuple(item.canonical_field for item in self.inputs)


CONVERSIONS: dict[str, Callable[[pl.Expr, int], pl.Expr]] = {
    "creatinine_umol_L": lambda value, height: divide_exactly(
        value, units.CREATININE_UMOL_L_PER_MG_DL, height
    ),
    "crp_mg_L": lambda value, height: divide_exactly(value, units.CRP_MG_L_PER_MG_DL, height),
    "platelets_per_uL": lambda value, height: divide_exactly(
        value, units.PER_10E9_L_TO_PER_UL, height
    ),
}
EASIX_RULE = RatioRule(
    inputs=rule.EASIX_INPUTS,
    platelets_zero_reason=rule.REASON_EASIX_PLATELETS_ZERO,
    log2_undefined_reason=rule.REASON_EASIX_LOG2_UNDEFINED,
    above_reason=rule.REASON_EASIX_ABOVE_KORELL,
    conversions=CONVERSIONS,
)
INPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = dict.fromkeys(
    EASIX_RULE.fields, pl.Float64
)
OUTPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "status": pl.String,
    "value": pl.Float64,
    "log2_value": pl.Float64,
    "above_korell_4_67": pl.Boolean,
    "reasons": pl.List(pl.String),
    "missing": pl.List(pl.String),
}


def _input_columns(ratio_rule: RatioRule, height: int) -> list[pl.Expr]:
    """Per input: canonical value ``_<i>`` and one invalid flag per field (pick_one + range)."""
    expressions: list[pl.Expr] = []
    for index, item in enumerate(ratio_rule.inputs):
        canonical = pl.col(item.canonical_field)
        bad_canonical = canonical.is_not_null() & ~in_range(canonical, item.canonical_range)
        if item.alternate_field is None or item.alternate_range is None:
            expressions += [canonical.alias(f"_{index}"), bad_canonical.alias(f"_bad_{index}_0")]
            continue
        alternate = pl.col(item.alternate_field)
        both = canonical.is_not_null() & alternate.is_not_null()
        bad_alternate = canonical.is_null() & alternate.is_not_null()
        bad_alternate = both | (bad_alternate & ~in_range(alternate, item.alternate_range))
        convert = ratio_rule.conversions[item.alternate_field]
        expressions += [
            pl.when(canonical.is_not_null())
            .then(canonical)
            .otherwise(convert(alternate, height))
            .alias(f"_{index}"),
            (alternate.is_null() & bad_canonical).alias(f"_bad_{index}_0"),
            bad_alternate.alias(f"_bad_{index}_1"),
        ]
    return expressions


def _bad_flags(ratio_rule: RatioRule) -> list[pl.Expr]:
    return [
        pl.col(f"_bad_{index}_{slot}")
        for index, item in enumerate(ratio_rule.inputs)
        for slot in range(1 if item.alternate_field is None else 2)
    ]


def above_korell(value: pl.Expr) -> pl.Expr:
    """EASIX rounded half-up to 2 decimals > 4.67, in hundredths (as the scalar rule)."""
    hundredths = (value * rule.HUNDREDTHS + rule.HALF + units.ROUNDING_EPSILON).floor()
    return hundredths > rule.KORELL_CUTOFF_HUNDREDTHS


def _masks(ratio_rule: RatioRule) -> list[pl.Expr]:
    n_codes = 3 if ratio_rule.above_reason is not None else 2
    return [
        (bits(_bad_flags(ratio_rule)) * (1 << n_codes)).alias("_invalid"),
        bits([pl.col(f"_{index}").is_null() for index in range(3)]).alias("_missing"),
        (pl.col("_2") == rule.PLATELETS_UNDEFINED).fill_null(False).alias("_zero"),
    ]


def _value_columns() -> list[pl.Expr]:
    ldh, factor, platelets = (pl.col(f"_{index}") for index in range(3))
    return [pl.when(pl.col("_code") == CODE_OK).then(ldh * factor / platelets).alias("value")]


def _result_columns(ratio_rule: RatioRule) -> list[pl.Expr]:
    code, value = pl.col("_code"), pl.col("value")
    log2_value = pl.when(value > 0).then(value.log(2))
    ok_flags = [pl.lit(False), value.is_not_null() & (value <= 0)]
    columns = [code, value, log2_value.alias("log2_value")]
    if ratio_rule.above_reason is not None:
        above = above_korell(value)
        ok_flags.append(above)
        columns.append(above.alias("above_korell_4_67"))
    reason_mask = (
        pl.when(code == CODE_INVALID)
        .then(pl.col("_invalid"))
        .when(code == CODE_OK)
        .then(bits(ok_flags))
        .otherwise(bits([pl.col("_zero")]))
    )
    return [
        *columns,
        reason_mask.alias("_reason_mask"),
        pl.when(code == CODE_UNDETERMINED)
        .then(pl.col("_missing"))
        .otherwise(0)
        .alias("_missing_mask"),
    ]


def ratio_frame(
    frame: pl.DataFrame, ratio_rule: RatioRule, value_columns: Sequence[str]
) -> pl.DataFrame:
    """Compute an EASIX-family ratio for every row: status, ``value_columns``, reasons, missing."""
    schema = dict.fromkeys(ratio_rule.fields, pl.Float64)
    data = conform(frame, schema)
    undetermined = (pl.col("_missing") != 0) | pl.col("_zero")
    computed = (
        data.lazy()
        .with_columns(_input_columns(ratio_rule, data.height))
        .with_columns(_masks(ratio_rule))
        .with_columns(status_code(pl.col("_invalid"), undetermined).alias("_code"))
        .with_columns(_value_columns())
        .select(_result_columns(ratio_rule))
        .collect()
    )
    return pl.DataFrame(
        [
            status_names(computed["_code"], Status.CANNOT_COMPUTE),
            *(computed[name] for name in value_columns),
            decode_masks(computed["_reason_mask"], ratio_rule.reason_bits).alias("reasons"),
            decode_masks(computed["_missing_mask"], ratio_rule.missing_bits).alias("missing"),
        ]
    )


def grade_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """EASIX for every row; columns exactly those of ``EASIXResult.as_row()``."""
    return ratio_frame(frame, EASIX_RULE, ("value", "log2_value", "above_korell_4_67"))
