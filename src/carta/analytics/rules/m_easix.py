"""m-EASIX (reference section g), vectorised: the twin of
:func:`carta.clinical.scores.easix.compute_m_easix`.

Input: five Float64 columns (``ldh_U_L``, ``crp_mg_dL`` | ``crp_mg_L``, ``platelets_10e9_L`` |
``platelets_per_uL``); ``(LDH x CRP) / platelets`` evaluated as in the scalar rule (see
:mod:`carta.analytics.rules.easix`, whose :func:`~carta.analytics.rules.easix.ratio_frame` does
the work).
"""

from __future__ import annotations

import polars as pl

from carta.analytics.rules.easix import CONVERSIONS, RatioRule, ratio_frame
from carta.clinical.scores import easix as rule

M_EASIX_RULE = RatioRule(
    inputs=rule.M_EASIX_INPUTS,
    platelets_zero_reason=rule.REASON_M_EASIX_PLATELETS_ZERO,
    log2_undefined_reason=rule.REASON_M_EASIX_LOG2_UNDEFINED,
    above_reason=None,
    conversions=CONVERSIONS,
)
INPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = dict.fromkeys(
    M_EASIX_RULE.fields, pl.Float64
)
OUTPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "status": pl.String,
    "value": pl.Float64,
    "log2_value": pl.Float64,
    "reasons": pl.List(pl.String),
    "missing": pl.List(pl.String),
}


def grade_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """m-EASIX for every row; columns exactly those of ``MEASIXResult.as_row()``."""
    return ratio_frame(frame, M_EASIX_RULE, ("value", "log2_value"))
