"""Property tests for CAR-HEMATOTOX, EASIX and m-EASIX (reference sections f, g).

* CAR-HEMATOTOX: the score equals the section f point table restated here; it never decreases
  when a marker worsens; cannot_compute lists exactly the unknown markers and becomes ok once
  they are supplied.
* EASIX family: the value follows the formula, grows with LDH and the second factor and falls
  with platelets; the Korell flag is EASIX rounded half-up to 2 decimals > 4.67;
  cannot_compute becomes ok once the missing inputs are supplied.
* Scalar / batch parity on random records (alternates, both units, unknowns, impossible values).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from carta.analytics.rules import car_hematotox as hematotox_batch
from carta.analytics.rules import easix as easix_batch
from carta.analytics.rules import m_easix as m_easix_batch
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.results import RuleResult
from carta.clinical.scores.car_hematotox import (
    CARHematotoxObservation,
    CARHematotoxResult,
    score_car_hematotox,
)
from carta.clinical.scores.easix import (
    EASIXObservation,
    EASIXResult,
    MEASIXObservation,
    MEASIXResult,
    compute_easix,
    compute_m_easix,
)
from tests.spec.parity import check_both

FAST = settings(max_examples=200, deadline=None)
BATCH = settings(max_examples=40, deadline=None)


def hematotox(record: Mapping[str, Any]) -> CARHematotoxResult:
    return score_car_hematotox(observation_from_mapping(CARHematotoxObservation, record))


def easix(record: Mapping[str, Any]) -> EASIXResult:
    return compute_easix(observation_from_mapping(EASIXObservation, record))


def m_easix(record: Mapping[str, Any]) -> MEASIXResult:
    return compute_m_easix(observation_from_mapping(MEASIXObservation, record))


# --- CAR-HEMATOTOX -------------------------------------------------------------------------------

# (canonical field, plausible low, high, does a *lower* value mean worse?)
MARKERS = {
    "platelets_per_uL": (0.0, 5_000_000.0, True),
    "anc_per_uL": (0.0, 1_000_000.0, True),
    "hemoglobin_g_dL": (0.0, 30.0, True),
    "crp_mg_dL": (0.0, 200.0, False),
    "ferritin_ng_mL": (0.0, 1_000_000.0, False),
}
# Section f boundaries (and their neighbours) so that random draws land on them often.
EDGES = {
    "platelets_per_uL": [74_999.0, 75_000.0, 175_000.0, 175_001.0],
    "anc_per_uL": [1199.0, 1200.0],
    "hemoglobin_g_dL": [8.9, 9.0],
    "crp_mg_dL": [3.0, 3.01],
    "ferritin_ng_mL": [649.0, 650.0, 2000.0, 2001.0],
}


def expected_points(record: Mapping[str, float]) -> int:
    """The section f table, restated independently of the implementation."""
    platelets, anc = record["platelets_per_uL"], record["anc_per_uL"]
    hb, crp, ferritin = record["hemoglobin_g_dL"], record["crp_mg_dL"], record["ferritin_ng_mL"]
    points = 0 if platelets > 175_000 else (1 if platelets >= 75_000 else 2)
    points += 0 if anc >= 1200 else 1
    points += 0 if hb >= 9.0 else 1
    points += 0 if crp <= 3.0 else 1
    points += 0 if ferritin < 650 else (1 if ferritin <= 2000 else 2)
    return points


def marker_value(field: str) -> st.SearchStrategy[float]:
    low, high, _ = MARKERS[field]
    return st.one_of(
        st.floats(low, high, allow_nan=False),
        st.floats(low, min(high, 3 * EDGES[field][-1]), allow_nan=False),
        st.sampled_from(EDGES[field]),
    )


complete_markers = st.fixed_dictionaries({field: marker_value(field) for field in MARKERS})


@FAST
@given(complete_markers)
def test_hematotox_score_is_the_point_table(record: dict[str, float]) -> None:
    result = hematotox(record)
    assert result.status == "ok"
    assert result.score == expected_points(record)
    assert result.risk_group == ("high" if expected_points(record) >= 2 else "low")


@FAST
@given(complete_markers, st.sampled_from(sorted(MARKERS)), st.floats(0.0, 1.0))
def test_hematotox_never_decreases_when_a_marker_worsens(
    record: dict[str, float], field: str, fraction: float
) -> None:
    low, high, lower_is_worse = MARKERS[field]
    value = record[field]
    worse = (
        value - fraction * (value - low)
        if lower_is_worse
        else min(high, value + fraction * (high - value))
    )
    before, after = hematotox(record), hematotox({**record, field: worse})
    assert before.score is not None and after.score is not None
    assert after.score >= before.score
    assert not (before.risk_group == "high" and after.risk_group == "low")


@FAST
@given(complete_markers, st.sets(st.sampled_from(sorted(MARKERS)), min_size=1))
def test_hematotox_missing_lists_the_unknowns_and_supplying_them_gives_ok(
    record: dict[str, float], dropped: set[str]
) -> None:
    partial = {field: value for field, value in record.items() if field not in dropped}
    result = hematotox(partial)
    assert result.status == "cannot_compute"
    assert result.score is None
    assert result.missing == tuple(field for field in MARKERS if field in dropped)
    assert hematotox(record).status == "ok"


# --- EASIX family --------------------------------------------------------------------------------

positive = st.floats(1e-3, 1e4, allow_nan=False)
factors = st.floats(1e-3, 40.0, allow_nan=False)  # creatinine <= 40 mg/dL, CRP <= 200 mg/dL
platelet_counts = st.floats(1e-3, 5000.0, allow_nan=False)  # x10^9/L


@FAST
@given(st.floats(0, 100_000), st.floats(0, 40), st.floats(1e-3, 5000))
def test_easix_value_log2_and_korell_flag(ldh: float, creatinine: float, platelets: float) -> None:
    result = easix({"ldh_U_L": ldh, "creatinine_mg_dL": creatinine, "platelets_10e9_L": platelets})
    assert result.status == "ok"
    assert result.value is not None
    assert math.isclose(result.value, ldh * creatinine / platelets, rel_tol=1e-12)
    if result.value > 0:
        assert result.log2_value is not None
        assert math.isclose(result.log2_value, math.log2(result.value), rel_tol=1e-9, abs_tol=1e-12)
    else:
        assert result.log2_value is None
    # rounded half-up to 2 decimals, then > 4.67 (away from the rounding knife-edge)
    assume(abs(result.value * 100 - math.floor(result.value * 100) - 0.5) > 1e-6)
    rounded = Decimal(repr(result.value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert result.above_korell_4_67 is (rounded > Decimal("4.67"))


@FAST
@given(
    positive,
    factors,
    platelet_counts,
    st.floats(1.0, 10.0),
    st.sampled_from(["ldh", "factor", "platelets"]),
)
def test_easix_family_is_monotone(
    ldh: float, factor: float, platelets: float, scale: float, which: str
) -> None:
    base = {
        "ldh_U_L": ldh,
        "creatinine_mg_dL": factor,
        "crp_mg_dL": factor,
        "platelets_10e9_L": platelets,
    }
    worse = dict(base)
    if which == "ldh":
        worse["ldh_U_L"] = min(ldh * scale, 100_000)
    elif which == "factor":
        worse["creatinine_mg_dL"] = min(factor * scale, 40)
        worse["crp_mg_dL"] = min(base["crp_mg_dL"] * scale, 200)
    else:
        worse["platelets_10e9_L"] = platelets / scale
    for rule in (easix, m_easix):
        before, after = rule(base), rule(worse)
        assert before.value is not None and after.value is not None
        assert after.value >= before.value
    assert not (easix(base).above_korell_4_67 and not easix(worse).above_korell_4_67)


EASIX_FIELDS = ("ldh_U_L", "creatinine_mg_dL", "platelets_10e9_L")
M_EASIX_FIELDS = ("ldh_U_L", "crp_mg_dL", "platelets_10e9_L")


@FAST
@given(positive, factors, platelet_counts, st.sets(st.sampled_from(EASIX_FIELDS), min_size=1))
def test_easix_family_missing_inputs_then_ok(
    ldh: float, factor: float, platelets: float, dropped: set[str]
) -> None:
    full = {
        "ldh_U_L": ldh,
        "creatinine_mg_dL": factor,
        "crp_mg_dL": factor,
        "platelets_10e9_L": platelets,
    }
    for rule, fields in ((easix, EASIX_FIELDS), (m_easix, M_EASIX_FIELDS)):
        drop = {field if field != "creatinine_mg_dL" else fields[1] for field in dropped}
        result = rule({key: value for key, value in full.items() if key not in drop})
        assert result.status == "cannot_compute"
        assert result.value is None
        assert result.missing == tuple(field for field in fields if field in drop)
        assert rule(full).status == "ok"


# --- parity --------------------------------------------------------------------------------------


def number(edges: list[float], high: float) -> st.SearchStrategy[float | None]:
    """None, ordinary values, edges, and impossible values (negative, too large, NaN, inf)."""
    return st.one_of(
        st.none(),
        st.none(),
        st.floats(0.0, high, allow_nan=False),
        st.integers(0, int(min(high, 10**6))).map(float),
        st.sampled_from([*edges, 0.0]),
        st.sampled_from([-1.0, -1e-9, high * 1.5, math.nan, math.inf, -math.inf]),
    )


def optional_fields(
    spec: Mapping[str, st.SearchStrategy[float | None]],
) -> st.SearchStrategy[dict[str, float]]:
    return st.fixed_dictionaries(spec).map(lambda r: {k: v for k, v in r.items() if v is not None})


HEMATOTOX_RECORD = optional_fields(
    {
        "platelets_per_uL": number(EDGES["platelets_per_uL"], 5e6),
        "platelets_10e9_L": number([75.0, 175.0, 174.999], 5e3),
        "anc_per_uL": number(EDGES["anc_per_uL"], 1e6),
        "anc_10e9_L": number([1.2, 1.199], 1e3),
        "hemoglobin_g_dL": number(EDGES["hemoglobin_g_dL"], 30.0),
        "hemoglobin_g_L": number([90.0, 89.0], 300.0),
        "crp_mg_dL": number(EDGES["crp_mg_dL"], 200.0),
        "crp_mg_L": number([30.0, 30.1], 2000.0),
        "ferritin_ng_mL": number(EDGES["ferritin_ng_mL"], 1e6),
        "ferritin_ug_L": number([650.0, 2000.0], 1e6),
    }
)
RATIO_RECORD = optional_fields(
    {
        "ldh_U_L": number([467.0, 467.5], 1e5),
        "creatinine_mg_dL": number([1.0], 40.0),
        "creatinine_umol_L": number([88.4], 3536.0),
        "crp_mg_dL": number([2.0], 200.0),
        "crp_mg_L": number([20.0], 2000.0),
        "platelets_10e9_L": number([100.0, 1e-300], 5e3),
        "platelets_per_uL": number([100_000.0, 5e-324], 5e6),
    }
)


def parity(scalar: Any, batch: Any, records: list[dict[str, float]]) -> None:
    # A frame needs a column to hold rows: frame_from_records([{}]) has none.
    assume(any(records))
    check_both(scalar, batch, [(record, {}) for record in records])


@BATCH
@given(st.lists(HEMATOTOX_RECORD, min_size=1, max_size=40))
def test_hematotox_scalar_batch_parity(records: list[dict[str, float]]) -> None:
    parity(hematotox, hematotox_batch.grade_frame, records)


@BATCH
@given(st.lists(RATIO_RECORD, min_size=1, max_size=40))
def test_easix_scalar_batch_parity(records: list[dict[str, float]]) -> None:
    parity(easix, easix_batch.grade_frame, records)
    parity(m_easix, m_easix_batch.grade_frame, records)


def test_results_are_rule_results() -> None:
    for result in (hematotox({}), easix({}), m_easix({})):
        assert isinstance(result, RuleResult)
        assert result.status == "cannot_compute"
