"""CAR-HEMATOTOX spec table (reference section f, units 0.1): every cut-off and boundary.

Points: platelets > 175 000 -> 0, 75 000-175 000 -> 1, < 75 000 -> 2; ANC >= 1200 -> 0, < 1200
-> 1; Hb >= 9.0 g/dL -> 0, < 9.0 -> 1; CRP <= 3.0 mg/dL -> 0, > 3.0 -> 1; ferritin < 650 -> 0,
650-2000 -> 1, > 2000 -> 2. Low 0-1, high >= 2. All five required.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
import pytest

from carta.analytics.rules import car_hematotox as batch
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.scores.car_hematotox import (
    CARHematotoxObservation,
    CARHematotoxResult,
    score_car_hematotox,
)
from tests.spec.parity import check_both

P1 = "car_hematotox.platelets_75000_to_175000"
P2 = "car_hematotox.platelets_lt_75000"
ANC = "car_hematotox.anc_lt_1200"
HB = "car_hematotox.hemoglobin_lt_9_0"
CRP = "car_hematotox.crp_gt_3_0"
F1 = "car_hematotox.ferritin_650_to_2000"
F2 = "car_hematotox.ferritin_gt_2000"

# Every marker comfortably in its 0-point band.
BASE: dict[str, Any] = {
    "platelets_per_uL": 250_000,
    "anc_per_uL": 3000,
    "hemoglobin_g_dL": 12.5,
    "crp_mg_dL": 0.5,
    "ferritin_ng_mL": 300,
}
CANONICAL = tuple(BASE)
ALTERNATE = {
    "platelets_per_uL": ("platelets_10e9_L", 250),
    "anc_per_uL": ("anc_10e9_L", 3.0),
    "hemoglobin_g_dL": ("hemoglobin_g_L", 125),
    "crp_mg_dL": ("crp_mg_L", 5),
    "ferritin_ng_mL": ("ferritin_ug_L", 300),
}


def rec(**changes: Any) -> dict[str, Any]:
    """BASE with some fields changed; a value of None removes the field."""
    record = {**BASE, **changes}
    return {key: value for key, value in record.items() if value is not None}


def ok(score: int, risk: str, *reasons: str) -> dict[str, object]:
    return {
        "status": "ok",
        "score": score,
        "risk_group": risk,
        "reasons": list(reasons),
        "missing": [],
    }


def invalid(*fields: str) -> dict[str, object]:
    return {
        "status": "invalid_input",
        "score": None,
        "risk_group": None,
        "reasons": [f"invalid:{field}" for field in fields],
        "missing": [],
    }


def cannot(*missing: str) -> dict[str, object]:
    return {
        "status": "cannot_compute",
        "score": None,
        "risk_group": None,
        "reasons": [],
        "missing": list(missing),
    }


CASES: list[tuple[Mapping[str, Any], Mapping[str, object]]] = [
    (rec(), ok(0, "low")),
    # platelets: 175 000 is inside the 1-point band, 175 001 is not; 75 000 inside, 74 999 below
    (rec(platelets_per_uL=175_001), ok(0, "low")),
    (rec(platelets_per_uL=175_000), ok(1, "low", P1)),
    (rec(platelets_per_uL=75_000), ok(1, "low", P1)),
    (rec(platelets_per_uL=74_999), ok(2, "high", P2)),
    (rec(platelets_per_uL=0), ok(2, "high", P2)),
    # ANC: 1200 gives 0 [S], 1199 gives 1
    (rec(anc_per_uL=1200), ok(0, "low")),
    (rec(anc_per_uL=1199), ok(1, "low", ANC)),
    (rec(anc_per_uL=1199.9), ok(1, "low", ANC)),
    # hemoglobin: 9.0 gives 0 [S], 8.9 gives 1
    (rec(hemoglobin_g_dL=9.0), ok(0, "low")),
    (rec(hemoglobin_g_dL=8.9), ok(1, "low", HB)),
    # CRP: 3.0 mg/dL gives 0 [S], 3.01 gives 1
    (rec(crp_mg_dL=3.0), ok(0, "low")),
    (rec(crp_mg_dL=3.01), ok(1, "low", CRP)),
    # ferritin: 649 -> 0, 650 -> 1, 2000 -> 1, 2001 -> 2
    (rec(ferritin_ng_mL=649), ok(0, "low")),
    (rec(ferritin_ng_mL=650), ok(1, "low", F1)),
    (rec(ferritin_ng_mL=2000), ok(1, "low", F1)),
    (rec(ferritin_ng_mL=2001), ok(2, "high", F2)),
    # risk groups: 1 is low, 2 is high
    (rec(crp_mg_dL=3.5), ok(1, "low", CRP)),
    (rec(crp_mg_dL=3.5, anc_per_uL=1000), ok(2, "high", ANC, CRP)),
    (rec(hemoglobin_g_dL=8.0, ferritin_ng_mL=1000), ok(2, "high", HB, F1)),
    # maximum score 7; reasons in the order platelets, ANC, Hb, CRP, ferritin
    (
        rec(
            platelets_per_uL=20_000,
            anc_per_uL=100,
            hemoglobin_g_dL=7.0,
            crp_mg_dL=12.0,
            ferritin_ng_mL=9000,
        ),
        ok(7, "high", P2, ANC, HB, CRP, F2),
    ),
    # unit alternates (section 0.1): CRP 30 mg/L = 3.0 mg/dL, platelets 175 x10^9/L, Hb 90 g/L,
    # ANC 1.2 x10^9/L, ferritin ug/L = ng/mL
    (rec(crp_mg_dL=None, crp_mg_L=30), ok(0, "low")),
    (rec(crp_mg_dL=None, crp_mg_L=30.1), ok(1, "low", CRP)),
    (rec(platelets_per_uL=None, platelets_10e9_L=175), ok(1, "low", P1)),
    (rec(platelets_per_uL=None, platelets_10e9_L=175.001), ok(0, "low")),
    (rec(platelets_per_uL=None, platelets_10e9_L=74.999), ok(2, "high", P2)),
    (rec(hemoglobin_g_dL=None, hemoglobin_g_L=90), ok(0, "low")),
    (rec(hemoglobin_g_dL=None, hemoglobin_g_L=89), ok(1, "low", HB)),
    (rec(anc_per_uL=None, anc_10e9_L=1.2), ok(0, "low")),
    (rec(anc_per_uL=None, anc_10e9_L=1.199), ok(1, "low", ANC)),
    (rec(ferritin_ng_mL=None, ferritin_ug_L=650), ok(1, "low", F1)),
    (rec(ferritin_ng_mL=None, ferritin_ug_L=2001), ok(2, "high", F2)),
    (
        {
            "platelets_10e9_L": 50,
            "anc_10e9_L": 0.5,
            "hemoglobin_g_L": 80,
            "crp_mg_L": 120,
            "ferritin_ug_L": 700,
        },
        ok(6, "high", P2, ANC, HB, CRP, F1),
    ),
    # each missing input -> cannot_compute naming its canonical field
    *[(rec(**{field: None}), cannot(field)) for field in CANONICAL],
    ({}, cannot(*CANONICAL)),
    (rec(anc_per_uL=None, ferritin_ng_mL=None), cannot("anc_per_uL", "ferritin_ng_mL")),
    # both units given -> invalid_input naming the alternate
    *[
        (rec(**{ALTERNATE[field][0]: ALTERNATE[field][1]}), invalid(ALTERNATE[field][0]))
        for field in CANONICAL
    ],
    # impossible values -> invalid_input naming the field (in field order), even with others missing
    (rec(platelets_per_uL=-1), invalid("platelets_per_uL")),
    (rec(anc_per_uL=-0.5), invalid("anc_per_uL")),
    (rec(hemoglobin_g_dL=31), invalid("hemoglobin_g_dL")),
    (rec(crp_mg_dL=None, crp_mg_L=2001), invalid("crp_mg_L")),
    (rec(ferritin_ng_mL=float("nan")), invalid("ferritin_ng_mL")),
    (rec(platelets_per_uL=None, platelets_10e9_L=-2), invalid("platelets_10e9_L")),
    (
        {"anc_per_uL": -1, "hemoglobin_g_L": 1000, "ferritin_ng_mL": float("inf")},
        invalid("anc_per_uL", "hemoglobin_g_L", "ferritin_ng_mL"),
    ),
]


def scalar(record: Mapping[str, Any]) -> CARHematotoxResult:
    return score_car_hematotox(observation_from_mapping(CARHematotoxObservation, record))


def test_spec_table_scalar_and_batch() -> None:
    check_both(scalar, batch.grade_frame, CASES)


def test_batch_columns_match_the_scalar_row() -> None:
    frame = batch.grade_frame(pl.DataFrame())
    assert frame.columns == list(scalar(BASE).as_row())
    assert dict(frame.schema) == batch.OUTPUT_SCHEMA


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("platelets_per_uL", "many"),
        ("anc_per_uL", True),
        ("hemoglobin_g_dL", [9.0]),
        ("crp_mg_dL", "3.0"),
    ],
)
def test_wrong_types_are_invalid_input_naming_the_field(field: str, value: object) -> None:
    """Values the file reader would refuse before the batch; the scalar rule refuses them too."""
    result = scalar(rec(**{field: value}))
    assert result.status == "invalid_input"
    assert result.reasons == (f"invalid:{field}",)
    assert [problem.field for problem in result.problems] == [field]
    assert result.score is None


def test_problems_name_field_value_and_expectation() -> None:
    result = scalar(rec(platelets_per_uL=-5, platelets_10e9_L=None))
    (problem,) = result.problems
    assert (problem.field, problem.value) == ("platelets_per_uL", -5)
    assert "cells/uL" in problem.expected
    result = scalar(rec(crp_mg_L=30))
    (problem,) = result.problems
    assert problem.field == "crp_mg_L"
    assert "crp_mg_dL" in problem.expected


def test_criteria_is_cited() -> None:
    result = scalar(BASE)
    assert result.criteria.name == "CAR-HEMATOTOX"
    assert "Rejeski" in result.criteria.citation
