"""Baseline risk scores of the report's cohort: CAR-HEMATOTOX, EASIX, m-EASIX and the Korell
EASIX flag, computed by carta's batch rules (:mod:`carta.analytics.rules`) from the baseline
laboratory columns the cohort has.

A column is taken as ``baseline_<marker>`` (what :mod:`carta.analytics.report.source` derives
from an export's patient-days) or, failing that, ``<marker>`` (a cohort file with its own
baseline labs). A score whose required markers have no column at all is "not available"
(None); a patient whose values are missing is counted as lacking inputs - nothing is imputed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from carta.analytics.report.source import BASELINE_PREFIX
from carta.analytics.rules import car_hematotox, easix, m_easix

# Each score's markers: one of the columns of each tuple must exist for the score to be
# computable at all (canonical unit or its alternate).
HEMATOTOX_MARKERS = (
    ("platelets_per_uL", "platelets_10e9_L"),
    ("anc_per_uL", "anc_10e9_L"),
    ("hemoglobin_g_dL", "hemoglobin_g_L"),
    ("crp_mg_dL", "crp_mg_L"),
    ("ferritin_ng_mL", "ferritin_ug_L"),
)
EASIX_MARKERS = (
    ("ldh_U_L",),
    ("creatinine_mg_dL", "creatinine_umol_L"),
    ("platelets_10e9_L", "platelets_per_uL"),
)
M_EASIX_MARKERS = (
    ("ldh_U_L",),
    ("crp_mg_dL", "crp_mg_L"),
    ("platelets_10e9_L", "platelets_per_uL"),
)


@dataclass(frozen=True, slots=True)
class BaselineScores:
    """Per patient (row for row with the cohort): ``hematotox_status``, ``hematotox_score``,
    ``hematotox_risk``, ``easix_status``, ``easix``, ``korell``, ``m_easix_status``,
    ``m_easix`` - the columns of a score whose markers are absent are left out, and that score
    is listed in ``absent`` with the markers it needs."""

    scores: pl.DataFrame
    absent: dict[str, tuple[str, ...]]


def _inputs(cohort: pl.DataFrame, markers: Sequence[tuple[str, ...]]) -> pl.DataFrame | None:
    """The markers' columns renamed to the rule's input names, or None if one has no column."""
    columns: list[pl.Series] = []
    for choices in markers:
        found = [
            cohort[prefix + name].cast(pl.Float64).alias(name)
            for name in choices
            for prefix in (BASELINE_PREFIX, "")
            if prefix + name in cohort.columns
        ]
        if not found:
            return None
        # One column per input name: the baseline_ column wins over the plain one.
        columns += list({series.name: series for series in reversed(found)}.values())
    return pl.DataFrame(columns)


def _needed(markers: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(" | ".join(choices) for choices in markers)


def baseline_scores(cohort: pl.DataFrame) -> BaselineScores:
    """The scores of every patient of ``cohort`` from its baseline lab columns."""
    columns: list[pl.Series] = []
    absent: dict[str, tuple[str, ...]] = {}
    hematotox_inputs = _inputs(cohort, HEMATOTOX_MARKERS)
    if hematotox_inputs is None:
        absent["CAR-HEMATOTOX"] = _needed(HEMATOTOX_MARKERS)
    else:
        graded = car_hematotox.grade_frame(hematotox_inputs)
        columns += [
            graded["status"].alias("hematotox_status"),
            graded["score"].alias("hematotox_score"),
            graded["risk_group"].alias("hematotox_risk"),
        ]
    easix_inputs = _inputs(cohort, EASIX_MARKERS)
    if easix_inputs is None:
        absent["EASIX"] = _needed(EASIX_MARKERS)
    else:
        graded = easix.grade_frame(easix_inputs)
        columns += [
            graded["status"].alias("easix_status"),
            graded["value"].alias("easix"),
            graded["above_korell_4_67"].alias("korell"),
        ]
    m_easix_inputs = _inputs(cohort, M_EASIX_MARKERS)
    if m_easix_inputs is None:
        absent["m-EASIX"] = _needed(M_EASIX_MARKERS)
    else:
        graded = m_easix.grade_frame(m_easix_inputs)
        columns += [graded["status"].alias("m_easix_status"), graded["value"].alias("m_easix")]
    frame = pl.DataFrame(columns) if columns else pl.DataFrame()
    return BaselineScores(scores=frame, absent=absent)
