"""EASIX and m-EASIX spec tables (reference section g, units 0.1, rounding 0.4).

EASIX = LDH (U/L) x creatinine (mg/dL) / platelets (x10^9/L); m-EASIX = LDH x CRP (mg/dL) /
platelets (x10^9/L). ``log2_value`` only when value > 0. Korell: EASIX rounded half-up to 2
decimals > 4.67. Platelets = 0 or a missing input -> cannot_compute. Creatinine umol/L / 88.4;
platelets cells/uL / 1000; CRP mg/L / 10.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import polars as pl
import pytest

from carta.analytics.rules import easix as easix_batch
from carta.analytics.rules import m_easix as m_easix_batch
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.scores.easix import (
    EASIXObservation,
    EASIXResult,
    MEASIXObservation,
    MEASIXResult,
    compute_easix,
    compute_m_easix,
)
from tests.spec.parity import check_both

ABOVE = "easix.above_korell_4_67"


def easix_ok(value: float, log2: float | None, above: bool, *reasons: str) -> dict[str, object]:
    return {
        "status": "ok",
        "value": value,
        "log2_value": log2,
        "above_korell_4_67": above,
        "reasons": list(reasons),
        "missing": [],
    }


def easix_not(status: str, reasons: list[str], missing: list[str]) -> dict[str, object]:
    return {
        "status": status,
        "value": None,
        "log2_value": None,
        "above_korell_4_67": None,
        "reasons": reasons,
        "missing": missing,
    }


EASIX_CASES: list[tuple[Mapping[str, Any], Mapping[str, object]]] = [
    # 200 x 1.0 / 50 = 4.0, log2 2.0
    ({"ldh_U_L": 200, "creatinine_mg_dL": 1.0, "platelets_10e9_L": 50}, easix_ok(4.0, 2.0, False)),
    # creatinine 88.4 umol/L = 1.0 mg/dL; platelets 50 000 cells/uL = 50 x10^9/L
    (
        {"ldh_U_L": 200, "creatinine_umol_L": 88.4, "platelets_10e9_L": 50},
        easix_ok(4.0, 2.0, False),
    ),
    (
        {"ldh_U_L": 200, "creatinine_mg_dL": 1.0, "platelets_per_uL": 50_000},
        easix_ok(4.0, 2.0, False),
    ),
    (
        {"ldh_U_L": 200, "creatinine_umol_L": 176.8, "platelets_per_uL": 25_000},
        easix_ok(16.0, 4.0, True, ABOVE),
    ),
    # umol/L and mg/dL are not numerically equivalent: 1 umol/L is 1/88.4 mg/dL
    (
        {"ldh_U_L": 200, "creatinine_umol_L": 1.0, "platelets_10e9_L": 50},
        {"status": "ok", "value": 200 * (1.0 / 88.4) / 50, "above_korell_4_67": False},
    ),
    # log2 of known values: 8 -> 3, 1 -> 0, 0.5 -> -1
    (
        {"ldh_U_L": 400, "creatinine_mg_dL": 2.0, "platelets_10e9_L": 100},
        easix_ok(8.0, 3.0, True, ABOVE),
    ),
    ({"ldh_U_L": 100, "creatinine_mg_dL": 1.0, "platelets_10e9_L": 100}, easix_ok(1.0, 0.0, False)),
    (
        {"ldh_U_L": 100, "creatinine_mg_dL": 0.5, "platelets_10e9_L": 100},
        easix_ok(0.5, -1.0, False),
    ),
    # value 0 (LDH 0 or creatinine 0): log2 undefined -> null
    (
        {"ldh_U_L": 0, "creatinine_mg_dL": 1.0, "platelets_10e9_L": 100},
        easix_ok(0.0, None, False, "easix.log2_undefined"),
    ),
    (
        {"ldh_U_L": 250, "creatinine_mg_dL": 0, "platelets_10e9_L": 100},
        easix_ok(0.0, None, False, "easix.log2_undefined"),
    ),
    # Korell 4.67: 4.67 not above; 4.674 rounds to 4.67, not above; 4.675 rounds to 4.68, above
    (
        {"ldh_U_L": 467, "creatinine_mg_dL": 1.0, "platelets_10e9_L": 100},
        {"status": "ok", "value": 4.67, "above_korell_4_67": False, "reasons": []},
    ),
    (
        {"ldh_U_L": 467.4, "creatinine_mg_dL": 1.0, "platelets_10e9_L": 100},
        {"status": "ok", "above_korell_4_67": False, "reasons": []},
    ),
    (
        {"ldh_U_L": 467.49, "creatinine_mg_dL": 1.0, "platelets_10e9_L": 100},
        {"status": "ok", "above_korell_4_67": False, "reasons": []},
    ),
    (
        {"ldh_U_L": 467.5, "creatinine_mg_dL": 1.0, "platelets_10e9_L": 100},
        {"status": "ok", "value": 4.675, "above_korell_4_67": True, "reasons": [ABOVE]},
    ),
    (
        {"ldh_U_L": 468, "creatinine_mg_dL": 1.0, "platelets_10e9_L": 100},
        {"status": "ok", "value": 4.68, "above_korell_4_67": True, "reasons": [ABOVE]},
    ),
    (
        {"ldh_U_L": 233.75, "creatinine_mg_dL": 2.0, "platelets_10e9_L": 100},
        {"status": "ok", "value": 4.675, "above_korell_4_67": True},
    ),
    # 187 x 1.13 / 45.2 is exactly 4.675 in decimals but computes to 4.674999999999999 in
    # binary: rounding half-up still gives 4.68 (units.ROUNDING_EPSILON), so above
    (
        {"ldh_U_L": 187, "creatinine_mg_dL": 1.13, "platelets_10e9_L": 45.2},
        {"status": "ok", "above_korell_4_67": True, "reasons": [ABOVE]},
    ),
    # platelets = 0 -> cannot_compute (either unit)
    (
        {"ldh_U_L": 200, "creatinine_mg_dL": 1.0, "platelets_10e9_L": 0},
        easix_not("cannot_compute", ["easix.platelets_zero"], []),
    ),
    (
        {"ldh_U_L": 200, "creatinine_mg_dL": 1.0, "platelets_per_uL": 0},
        easix_not("cannot_compute", ["easix.platelets_zero"], []),
    ),
    (
        {"ldh_U_L": 200, "platelets_per_uL": 0},
        easix_not("cannot_compute", ["easix.platelets_zero"], ["creatinine_mg_dL"]),
    ),
    # a ratio that overflows is reported as inf (ADR 0164), never an exception
    (
        {"ldh_U_L": 1e5, "creatinine_mg_dL": 40, "platelets_10e9_L": 1e-303},
        easix_ok(math.inf, math.inf, True, ABOVE),
    ),
    # 5e-324 cells/uL underflows to 0 x10^9/L: still platelets = 0, never a division by zero
    (
        {"ldh_U_L": 200, "creatinine_mg_dL": 1.0, "platelets_per_uL": 5e-324},
        easix_not("cannot_compute", ["easix.platelets_zero"], []),
    ),
    # any input missing -> cannot_compute naming it
    (
        {"creatinine_mg_dL": 1.0, "platelets_10e9_L": 50},
        easix_not("cannot_compute", [], ["ldh_U_L"]),
    ),
    (
        {"ldh_U_L": 200, "platelets_10e9_L": 50},
        easix_not("cannot_compute", [], ["creatinine_mg_dL"]),
    ),
    (
        {"ldh_U_L": 200, "creatinine_umol_L": 88.4},
        easix_not("cannot_compute", [], ["platelets_10e9_L"]),
    ),
    ({}, easix_not("cannot_compute", [], ["ldh_U_L", "creatinine_mg_dL", "platelets_10e9_L"])),
    # both units -> invalid naming the second; impossible values -> invalid naming the field
    (
        {
            "ldh_U_L": 200,
            "creatinine_mg_dL": 1.0,
            "creatinine_umol_L": 88.4,
            "platelets_10e9_L": 50,
        },
        easix_not("invalid_input", ["invalid:creatinine_umol_L"], []),
    ),
    (
        {
            "ldh_U_L": 200,
            "creatinine_mg_dL": 1.0,
            "platelets_10e9_L": 50,
            "platelets_per_uL": 50_000,
        },
        easix_not("invalid_input", ["invalid:platelets_per_uL"], []),
    ),
    (
        {"ldh_U_L": -1, "creatinine_mg_dL": -1.0, "platelets_10e9_L": -50},
        easix_not(
            "invalid_input",
            ["invalid:ldh_U_L", "invalid:creatinine_mg_dL", "invalid:platelets_10e9_L"],
            [],
        ),
    ),
    (
        {"ldh_U_L": 200_000, "creatinine_umol_L": -3, "platelets_per_uL": float("nan")},
        easix_not(
            "invalid_input",
            ["invalid:ldh_U_L", "invalid:creatinine_umol_L", "invalid:platelets_per_uL"],
            [],
        ),
    ),
    (
        {"ldh_U_L": 200, "creatinine_mg_dL": 41},
        easix_not("invalid_input", ["invalid:creatinine_mg_dL"], []),
    ),
]


def m_ok(value: float, log2: float | None, *reasons: str) -> dict[str, object]:
    return {
        "status": "ok",
        "value": value,
        "log2_value": log2,
        "reasons": list(reasons),
        "missing": [],
    }


def m_not(status: str, reasons: list[str], missing: list[str]) -> dict[str, object]:
    return {
        "status": status,
        "value": None,
        "log2_value": None,
        "reasons": reasons,
        "missing": missing,
    }


M_EASIX_CASES: list[tuple[Mapping[str, Any], Mapping[str, object]]] = [
    # 256 x 2.0 / 128 = 4.0
    ({"ldh_U_L": 256, "crp_mg_dL": 2.0, "platelets_10e9_L": 128}, m_ok(4.0, 2.0)),
    # CRP 20 mg/L = 2.0 mg/dL (the unit trap); platelets 128 000 cells/uL = 128 x10^9/L
    ({"ldh_U_L": 256, "crp_mg_L": 20, "platelets_10e9_L": 128}, m_ok(4.0, 2.0)),
    ({"ldh_U_L": 256, "crp_mg_dL": 2.0, "platelets_per_uL": 128_000}, m_ok(4.0, 2.0)),
    ({"ldh_U_L": 512, "crp_mg_dL": 16.0, "platelets_10e9_L": 32}, m_ok(256.0, 8.0)),
    (
        {"ldh_U_L": 300, "crp_mg_dL": 0.0, "platelets_10e9_L": 32},
        m_ok(0.0, None, "m_easix.log2_undefined"),
    ),
    (
        {"ldh_U_L": 256, "crp_mg_dL": 2.0, "platelets_10e9_L": 0},
        m_not("cannot_compute", ["m_easix.platelets_zero"], []),
    ),
    ({"ldh_U_L": 256, "platelets_10e9_L": 1}, m_not("cannot_compute", [], ["crp_mg_dL"])),
    ({"crp_mg_L": 5, "platelets_per_uL": 1}, m_not("cannot_compute", [], ["ldh_U_L"])),
    ({"ldh_U_L": 256, "crp_mg_dL": 2.0}, m_not("cannot_compute", [], ["platelets_10e9_L"])),
    (
        {"ldh_U_L": 256, "crp_mg_dL": 2.0, "crp_mg_L": 20, "platelets_10e9_L": 128},
        m_not("invalid_input", ["invalid:crp_mg_L"], []),
    ),
    (
        {"ldh_U_L": 256, "crp_mg_dL": 201, "platelets_10e9_L": 128},
        m_not("invalid_input", ["invalid:crp_mg_dL"], []),
    ),
    (
        {"ldh_U_L": 256, "crp_mg_L": -1, "platelets_10e9_L": 5001},
        m_not("invalid_input", ["invalid:crp_mg_L", "invalid:platelets_10e9_L"], []),
    ),
]


def easix_scalar(record: Mapping[str, Any]) -> EASIXResult:
    return compute_easix(observation_from_mapping(EASIXObservation, record))


def m_easix_scalar(record: Mapping[str, Any]) -> MEASIXResult:
    return compute_m_easix(observation_from_mapping(MEASIXObservation, record))


def test_easix_spec_table_scalar_and_batch() -> None:
    check_both(easix_scalar, easix_batch.grade_frame, EASIX_CASES)


def test_m_easix_spec_table_scalar_and_batch() -> None:
    check_both(m_easix_scalar, m_easix_batch.grade_frame, M_EASIX_CASES)


def test_log2_is_the_base_2_logarithm() -> None:
    result = easix_scalar({"ldh_U_L": 300, "creatinine_mg_dL": 0.9, "platelets_10e9_L": 70})
    assert result.value == pytest.approx(300 * 0.9 / 70)
    assert result.log2_value == pytest.approx(math.log2(300 * 0.9 / 70), rel=1e-15)


def test_batch_columns_match_the_scalar_rows() -> None:
    row = easix_scalar({"ldh_U_L": 1, "creatinine_mg_dL": 1, "platelets_10e9_L": 1}).as_row()
    assert easix_batch.grade_frame(pl.DataFrame()).columns == list(row)
    assert dict(easix_batch.grade_frame(pl.DataFrame()).schema) == easix_batch.OUTPUT_SCHEMA
    row = m_easix_scalar({"ldh_U_L": 1, "crp_mg_dL": 1, "platelets_10e9_L": 1}).as_row()
    assert m_easix_batch.grade_frame(pl.DataFrame()).columns == list(row)
    assert dict(m_easix_batch.grade_frame(pl.DataFrame()).schema) == m_easix_batch.OUTPUT_SCHEMA


@pytest.mark.parametrize("value", ["200", True, [200], (1.0,)])
def test_wrong_types_are_invalid_input(value: object) -> None:
    result = easix_scalar({"ldh_U_L": value, "creatinine_mg_dL": 1.0, "platelets_10e9_L": 50})
    assert result.status == "invalid_input"
    assert result.reasons == ("invalid:ldh_U_L",)
    assert result.value is None


def test_tiny_platelets_in_cells_per_ul_are_not_a_division_by_zero() -> None:
    """5e-324 cells/uL underflows to 0 x10^9/L: cannot_compute, never an exception."""
    result = easix_scalar({"ldh_U_L": 200, "creatinine_mg_dL": 1.0, "platelets_per_uL": 5e-324})
    assert result.status == "cannot_compute"
    assert result.reasons == ("easix.platelets_zero",)


def test_criteria_are_cited() -> None:
    assert "Korell" in easix_scalar({}).criteria.citation
    assert "Pennisi" in m_easix_scalar({}).criteria.citation
