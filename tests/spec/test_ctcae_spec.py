"""CTCAE v5 spec table (reference section h, units 0.1, determinacy 0.3, rounding 0.4).

Lab bands are strict "<" (canonical units): ANC 1500/1000/500, platelets 75 000/50 000/25 000,
Hb 10.0/8.0 g/dL (lab max 3), WBC 3000/2000/1000, lymphocytes 800/500/200; below the grade-2
cut no LLN is needed, otherwise < LLN -> 1, >= LLN -> 0, no LLN -> cannot_grade.
Fever: 38.0-39.0 -> 1, > 39.0-40.0 -> 2, > 40.0 for <= 24 h -> 3, > 24 h -> 4, < 38.0 -> 0.
Febrile neutropenia: ANC < 1000 and (one temperature > 38.3 or >= 38.0 for > 60 min) -> 3.
IgG severe: <= 400 mg/dL (g/L x 100).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
import pytest

from carta.analytics.rules import ctcae as batch
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.toxicity.ctcae_v5 import (
    CTCAEObservation,
    CTCAEResult,
    IgGObservation,
    IgGResult,
    flag_igg,
    grade_ctcae,
)
from tests.spec.parity import check_both

ANC = "neutrophil_count_decreased"
PLT = "platelet_count_decreased"
HB = "anemia"
WBC = "white_blood_cell_decreased"
LYM = "lymphocyte_count_decreased"
FN = "febrile_neutropenia"
BANDS = {
    4: "below_grade_4_cutoff",
    3: "below_grade_3_cutoff",
    2: "below_grade_2_cutoff",
    1: "below_lln",
    0: "not_below_lln",
}
# A normal lower limit for each term (canonical unit).
LLN = {ANC: 1800, PLT: 150_000, HB: 12.0, WBC: 4000, LYM: 1000}
CANONICAL_UNIT = {ANC: "cells/uL", PLT: "cells/uL", HB: "g/dL", WBC: "cells/uL", LYM: "cells/uL"}


def lab(term: str, value: float | None, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"term": term, "unit": CANONICAL_UNIT[term], "lln": LLN[term]}
    record.update(value=value, **extra)
    return {key: v for key, v in record.items() if v is not None}


def graded(grade: int, *reasons: str) -> dict[str, object]:
    return {"status": "ok", "grade": grade, "reasons": list(reasons), "missing": []}


def lab_graded(term: str, grade: int) -> dict[str, object]:
    return graded(grade, f"ctcae.{term}.{BANDS[grade]}")


def cannot(*missing: str) -> dict[str, object]:
    return {"status": "cannot_grade", "grade": None, "reasons": [], "missing": list(missing)}


def invalid(*fields: str) -> dict[str, object]:
    return {
        "status": "invalid_input",
        "grade": None,
        "reasons": [f"invalid:{field}" for field in fields],
        "missing": [],
    }


def bands(
    term: str, table: list[tuple[float, int]]
) -> list[tuple[Mapping[str, Any], Mapping[str, object]]]:
    return [(lab(term, value), lab_graded(term, grade)) for value, grade in table]


LAB_CASES = [
    # ANC: 1500 -> 1, 1499 -> 2, 1000 -> 2, 999 -> 3, 500 -> 3, 499 -> 4; >= LLN -> 0
    *bands(
        ANC,
        [
            (2500, 0),
            (1800, 0),
            (1799, 1),
            (1500, 1),
            (1499, 2),
            (1000, 2),
            (999, 3),
            (500, 3),
            (499, 4),
            (0, 4),
        ],
    ),
    # platelets: 75 000 -> 1, 50 000 -> 2, 25 000 -> 3
    *bands(
        PLT,
        [
            (150_000, 0),
            (149_999, 1),
            (75_000, 1),
            (74_999, 2),
            (50_000, 2),
            (49_999, 3),
            (25_000, 3),
            (24_999, 4),
        ],
    ),
    # hemoglobin: 10.0 -> 1, 8.0 -> 2, 7.9 -> 3; lab-derived maximum is 3
    *bands(HB, [(12.0, 0), (11.9, 1), (10.0, 1), (9.9, 2), (8.0, 2), (7.9, 3), (3.0, 3), (0.0, 3)]),
    # WBC: 3000 -> 1, 2000 -> 2, 1000 -> 3, 999 -> 4
    *bands(
        WBC,
        [(4000, 0), (3999, 1), (3000, 1), (2999, 2), (2000, 2), (1999, 3), (1000, 3), (999, 4)],
    ),
    # lymphocytes: 800 -> 1, 500 -> 2, 200 -> 3, 199 -> 4
    *bands(
        LYM,
        [(1000, 0), (999, 1), (800, 1), (799, 2), (500, 2), (499, 3), (200, 3), (199, 4)],
    ),
    # LLN missing: a value not below the grade-2 cut cannot be graded; below it, no LLN needed
    (lab(ANC, 1500, lln=None), cannot("lln")),
    (lab(ANC, 5000, lln=None), cannot("lln")),
    (lab(ANC, 1499, lln=None), lab_graded(ANC, 2)),
    (lab(PLT, 75_000, lln=None), cannot("lln")),
    (lab(PLT, 74_999, lln=None), lab_graded(PLT, 2)),
    (lab(HB, 10.0, lln=None), cannot("lln")),
    (lab(HB, 9.9, lln=None), lab_graded(HB, 2)),
    (lab(WBC, 2999, lln=None), lab_graded(WBC, 2)),
    (lab(LYM, 800, lln=None), cannot("lln")),
    # an LLN below the grade-2 cut does not lift a value below that cut out of grade 2
    (lab(ANC, 1450, lln=1400), lab_graded(ANC, 2)),
    # value or unit unknown -> cannot_grade, listing every unknown of value, unit, lln
    (lab(ANC, None), cannot("value")),
    (lab(ANC, 1200, unit=None), cannot("unit")),
    (lab(ANC, None, lln=None), cannot("value", "lln")),
    ({"term": PLT}, cannot("value", "unit", "lln")),
    # unit alternates: x10^9/L = 10^3/uL (x 1000), cells/mm3 = cells/uL, g/L (/ 10), mmol/L
    (lab(ANC, 1.5, unit="10^9/L", lln=1.8), lab_graded(ANC, 1)),
    (lab(ANC, 1.499, unit="10^9/L", lln=1.8), lab_graded(ANC, 2)),
    (lab(ANC, 0.499, unit="10^3/uL", lln=None), lab_graded(ANC, 4)),
    (lab(ANC, 1.8, unit="10^9/L", lln=1.8), lab_graded(ANC, 0)),
    (lab(ANC, 999, unit="cells/mm3"), lab_graded(ANC, 3)),
    (lab(PLT, 75, unit="10^9/L", lln=150), lab_graded(PLT, 1)),
    (lab(PLT, 24.999, unit="10^9/L", lln=150), lab_graded(PLT, 4)),
    (lab(HB, 100, unit="g/L", lln=120), lab_graded(HB, 1)),
    (lab(HB, 80, unit="g/L", lln=120), lab_graded(HB, 2)),
    (lab(HB, 79, unit="g/L", lln=120), lab_graded(HB, 3)),
    (lab(HB, 4.0, unit="mmol/L", lln=7.4), lab_graded(HB, 3)),
    (lab(HB, 5.5, unit="mmol/L", lln=7.4), lab_graded(HB, 2)),
    (lab(WBC, 2.0, unit="10^9/L", lln=4.0), lab_graded(WBC, 2)),
    (lab(LYM, 0.2, unit="10^9/L", lln=1.0), lab_graded(LYM, 3)),
    # impossible values and units not accepted for the term -> invalid_input naming the field
    (lab(ANC, -1), invalid("value")),
    (lab(PLT, -0.1, unit="10^9/L", lln=150), invalid("value")),
    (lab(PLT, 10, unit="10^9/L"), invalid("lln")),  # LLN 150 000 x10^9/L is impossible
    (lab(ANC, 2_000_000), invalid("value")),
    (lab(ANC, 2000, unit="10^9/L", lln=1.8), invalid("value")),
    (lab(HB, 31), invalid("value")),
    (lab(HB, 400, unit="g/L", lln=120), invalid("value")),
    (lab(ANC, float("nan")), invalid("value")),
    (lab(ANC, 1000, lln=-5), invalid("lln")),
    (lab(ANC, 1000, unit="g/dL"), invalid("unit")),
    (lab(HB, 9.0, unit="cells/uL"), invalid("unit")),
    (lab(HB, 9.0, unit="10^9/L", lln=-1), invalid("unit", "lln")),
    (lab(ANC, -1, unit="g/L", lln=float("inf")), invalid("value", "unit", "lln")),
]

FEVER_CASES = [
    ({"term": "fever", "max_temperature_c": 37.9}, graded(0, "ctcae.fever.lt_38_0")),
    ({"term": "fever", "max_temperature_c": 37.94}, graded(0, "ctcae.fever.lt_38_0")),
    # rounding half-up to 0.1 degC before comparing (section 0.4): 37.95 -> 38.0
    ({"term": "fever", "max_temperature_c": 37.95}, graded(1, "ctcae.fever.from_38_0_to_39_0")),
    ({"term": "fever", "max_temperature_c": 38.0}, graded(1, "ctcae.fever.from_38_0_to_39_0")),
    ({"term": "fever", "max_temperature_c": 39.0}, graded(1, "ctcae.fever.from_38_0_to_39_0")),
    ({"term": "fever", "max_temperature_c": 39.04}, graded(1, "ctcae.fever.from_38_0_to_39_0")),
    ({"term": "fever", "max_temperature_c": 39.05}, graded(2, "ctcae.fever.gt_39_0_to_40_0")),
    ({"term": "fever", "max_temperature_c": 39.1}, graded(2, "ctcae.fever.gt_39_0_to_40_0")),
    ({"term": "fever", "max_temperature_c": 40.0}, graded(2, "ctcae.fever.gt_39_0_to_40_0")),
    (
        {"term": "fever", "max_temperature_c": 40.1, "hours_above_40": 3},
        graded(3, "ctcae.fever.gt_40_0_le_24_h"),
    ),
    (
        {"term": "fever", "max_temperature_c": 40.1, "hours_above_40": 24},
        graded(3, "ctcae.fever.gt_40_0_le_24_h"),
    ),
    (
        {"term": "fever", "max_temperature_c": 40.1, "hours_above_40": 24.5},
        graded(4, "ctcae.fever.gt_40_0_gt_24_h"),
    ),
    (
        {"term": "fever", "max_temperature_c": 41.5, "hours_above_40": 48},
        graded(4, "ctcae.fever.gt_40_0_gt_24_h"),
    ),
    # duration needed only above 40.0
    ({"term": "fever", "max_temperature_c": 40.1}, cannot("hours_above_40")),
    ({"term": "fever", "max_temperature_c": 38.5}, graded(1, "ctcae.fever.from_38_0_to_39_0")),
    ({"term": "fever"}, cannot("max_temperature_c", "hours_above_40")),
    ({"term": "fever", "hours_above_40": 0}, cannot("max_temperature_c")),
    ({"term": "fever", "max_temperature_c": 25.0}, invalid("max_temperature_c")),
    ({"term": "fever", "max_temperature_c": 50.0}, invalid("max_temperature_c")),
    ({"term": "fever", "max_temperature_c": 40.5, "hours_above_40": -1}, invalid("hours_above_40")),
]

FN_LOW = "ctcae.febrile_neutropenia.anc_lt_1000"
FN_SINGLE = "ctcae.febrile_neutropenia.single_temperature_gt_38_3"
FN_SUSTAINED = "ctcae.febrile_neutropenia.sustained_ge_38_0_gt_60_min"
FN_ANC_OK = "ctcae.febrile_neutropenia.anc_ge_1000"
FN_NO_FEVER = "ctcae.febrile_neutropenia.no_qualifying_fever"


def fn(
    anc: float | None = None, single: float | None = None, minutes: float | None = None
) -> dict[str, Any]:
    record = {
        "term": FN,
        "anc_per_uL": anc,
        "max_single_temperature_c": single,
        "longest_continuous_minutes_ge_38": minutes,
    }
    return {key: value for key, value in record.items() if value is not None}


FN_CASES = [
    (fn(999, 38.4), graded(3, FN_LOW, FN_SINGLE)),
    (fn(999, 38.35, 0), graded(3, FN_LOW, FN_SINGLE)),  # rounds to 38.4
    (fn(999, 38.3, 0), graded(0, FN_NO_FEVER)),  # 38.3 exactly is not > 38.3
    (fn(999, 38.34, 60), graded(0, FN_NO_FEVER)),
    (fn(999, 38.3), cannot("longest_continuous_minutes_ge_38")),
    (fn(1000, 38.4), graded(0, FN_ANC_OK)),  # ANC 1000 is not < 1000
    (fn(1000, 39.5, 120), graded(0, FN_ANC_OK)),
    (fn(1000), graded(0, FN_ANC_OK)),
    (fn(999, 38.1, 61), graded(3, FN_LOW, FN_SUSTAINED)),  # sustained >= 38.0 for > 60 min
    (fn(999, 38.1, 60), graded(0, FN_NO_FEVER)),  # exactly 60 minutes is not more than 1 h
    (fn(200, 38.9, 90), graded(3, FN_LOW, FN_SINGLE, FN_SUSTAINED)),
    (fn(999, None, 61), graded(3, FN_LOW, FN_SUSTAINED)),
    (fn(999, None, 60), cannot("max_single_temperature_c")),
    # highest reading below 38.0: nothing can have been >= 38.0, so no fever whatever the minutes
    (fn(500, 37.9), graded(0, FN_NO_FEVER)),
    (fn(2000, 37.0), graded(0, FN_ANC_OK, FN_NO_FEVER)),
    (fn(None, 38.4), cannot("anc_per_uL")),
    (fn(None, 37.0), graded(0, FN_NO_FEVER)),
    (fn(None, 38.0), cannot("anc_per_uL", "longest_continuous_minutes_ge_38")),
    (fn(), cannot("anc_per_uL", "max_single_temperature_c", "longest_continuous_minutes_ge_38")),
    (fn(500), cannot("max_single_temperature_c", "longest_continuous_minutes_ge_38")),
    (fn(-1, 38.4), invalid("anc_per_uL")),
    (fn(999, 46.0, -5), invalid("max_single_temperature_c", "longest_continuous_minutes_ge_38")),
]

OTHER_CASES = [
    ({}, cannot("term")),
    ({"value": 300, "unit": "cells/uL"}, cannot("term")),
    # fields another term would read are still checked
    ({"term": "fever", "max_temperature_c": 38.2, "anc_per_uL": -3}, invalid("anc_per_uL")),
    (
        {"term": ANC, "value": 400, "unit": "cells/uL", "max_temperature_c": 20},
        invalid("max_temperature_c"),
    ),
    # a unit word on a non-lab row is only checked against the vocabulary
    (
        {"term": "fever", "max_temperature_c": 38.2, "unit": "g/L", "value": 3},
        graded(1, "ctcae.fever.from_38_0_to_39_0"),
    ),
]

CASES = [*LAB_CASES, *FEVER_CASES, *FN_CASES, *OTHER_CASES]


def scalar(record: Mapping[str, Any]) -> CTCAEResult:
    return grade_ctcae(observation_from_mapping(CTCAEObservation, record))


def test_spec_table_scalar_and_batch() -> None:
    check_both(scalar, batch.grade_frame, CASES)


def test_batch_columns_match_the_scalar_row() -> None:
    frame = batch.grade_frame(pl.DataFrame())
    assert frame.columns == list(scalar({}).as_row())
    assert dict(frame.schema) == batch.OUTPUT_SCHEMA


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"term": "neutropenia", "value": 100, "unit": "cells/uL"}, "term"),
        ({"term": ANC, "value": 100, "unit": "cells/ul"}, "unit"),
        ({"term": ANC, "value": 100, "unit": "G/L"}, "unit"),
        ({"term": "fever", "max_temperature_c": 38.2, "unit": "mg"}, "unit"),
        ({"term": ANC, "value": "low", "unit": "cells/uL"}, "value"),
        ({"term": ANC, "value": True, "unit": "cells/uL"}, "value"),
        ({"term": "fever", "max_temperature_c": "38.5"}, "max_temperature_c"),
        ({"term": 3}, "term"),
    ],
)
def test_words_and_types_the_reader_would_refuse_are_invalid_input(
    record: dict[str, Any], field: str
) -> None:
    result = scalar(record)
    assert result.status == "invalid_input"
    assert result.reasons == (f"invalid:{field}",)
    assert [problem.field for problem in result.problems] == [field]
    assert result.grade is None


def test_unit_problem_lists_the_units_accepted_for_the_term() -> None:
    (problem,) = scalar(lab(HB, 9.0, unit="cells/uL")).problems
    assert problem.field == "unit"
    assert "g/dL" in problem.expected
    assert "g/L" in problem.expected
    assert "cells/uL" not in problem.expected


IGG_CASES: list[tuple[Mapping[str, Any], Mapping[str, object]]] = [
    ({"igg_mg_dL": 400}, {"status": "ok", "igg_severe": True, "reasons": ["igg.le_400_mg_dl"]}),
    ({"igg_mg_dL": 120}, {"status": "ok", "igg_severe": True}),
    ({"igg_mg_dL": 400.1}, {"status": "ok", "igg_severe": False, "reasons": ["igg.gt_400_mg_dl"]}),
    ({"igg_mg_dL": 650}, {"status": "ok", "igg_severe": False}),
    ({"igg_g_L": 4.0}, {"status": "ok", "igg_severe": True}),
    ({"igg_g_L": 4.01}, {"status": "ok", "igg_severe": False}),
    ({}, {"status": "cannot_grade", "igg_severe": None, "missing": ["igg_mg_dL"]}),
    ({"igg_mg_dL": 400, "igg_g_L": 4}, {"status": "invalid_input", "reasons": ["invalid:igg_g_L"]}),
    ({"igg_mg_dL": -1}, {"status": "invalid_input", "reasons": ["invalid:igg_mg_dL"]}),
    ({"igg_g_L": 301}, {"status": "invalid_input", "reasons": ["invalid:igg_g_L"]}),
]


def igg_scalar(record: Mapping[str, Any]) -> IgGResult:
    return flag_igg(observation_from_mapping(IgGObservation, record))


def test_igg_table_scalar_and_batch() -> None:
    check_both(igg_scalar, batch.flag_igg_frame, IGG_CASES)
