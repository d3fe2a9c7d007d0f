"""Spec table for CAR-T cellular kinetics (reference section j), run through both implementations.

Numbers copied from the reference: analysis window 28 days; Tmax ties -> earliest; AUC0-28 by
linear trapezoid (C1 + C2) / 2 x dt or linear-up / log-down ((C1 - C2) / ln(C1 / C2) x dt when
the level falls and both are > 0); day-0 pre-infusion level = 0; BLQ = 0; a sample at day 28 is
required for the AUC; Tlast over all follow-up.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pytest

import carta.analytics.rules.kinetics as kinetics_batch
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.kinetics import KineticsObservation, compute_kinetics
from carta.clinical.results import Status
from tests.spec.parity import check_both

OK = "ok"
CANNOT = "cannot_compute"
INVALID = "invalid_input"
LINEAR = "kinetics.auc.linear"
LOG_DOWN = "kinetics.auc.linear_up_log_down"
DAY_0 = "kinetics.auc.day_0_level_taken_as_0"


def samples(
    times: tuple[Any, ...] | None, levels: tuple[Any, ...] | None, **rest: Any
) -> dict[str, Any]:
    record: dict[str, Any] = {
        "times_days": None if times is None else list(times),
        "levels": None if levels is None else list(levels),
        "unit": "copies/ug",
    }
    record.update(rest)
    return record


# Hand computation of the linear example (day 0 level 0 added before day 1):
#   0-1: (0 + 10)/2 x 1 = 5;  1-7: (10 + 100)/2 x 6 = 330;  7-14: (100 + 50)/2 x 7 = 525;
#   14-28: (50 + 5)/2 x 14 = 385;  total 1245.
LINEAR_EXAMPLE = samples((1, 7, 14, 28), (10, 100, 50, 5))
# Hand computation of the log-down example: 0-7 rising, linear (0 + 80)/2 x 7 = 280;
#   7-14 falling 80 -> 40: (80 - 40)/ln(2) x 7 = 280/ln 2 = 403.955...;
#   14-28 falling 40 -> 10: (40 - 10)/ln(4) x 14 = 420/ln 4 = 302.966...;  total 986.921...
LOG_DOWN_EXAMPLE = samples((0, 7, 14, 28), (0, 80, 40, 10), auc_method="linear_up_log_down")
LOG_DOWN_AUC = 280.0 + 280.0 / math.log(2.0) + 420.0 / math.log(4.0)

CASES: list[tuple[dict[str, Any], dict[str, object]]] = [
    (
        LINEAR_EXAMPLE,
        {
            "status": OK,
            "cmax": 100.0,
            "tmax_day": 7.0,
            "auc_0_28": 1245.0,
            "tlast_day": 28.0,
            "clast": 5.0,
            "reasons": [LINEAR, DAY_0],
            "missing": [],
        },
    ),
    # a measured day-0 sample is used as given: no implied point
    (samples((0, 1, 7, 14, 28), (0, 10, 100, 50, 5)), {"auc_0_28": 1245.0, "reasons": [LINEAR]}),
    # default method is linear; the same data by linear trapezoid: 280 + 420 + 350 = 1050
    (samples((0, 7, 14, 28), (0, 80, 40, 10)), {"auc_0_28": 1050.0, "reasons": [LINEAR]}),
    (LOG_DOWN_EXAMPLE, {"status": OK, "cmax": 80.0, "reasons": [LOG_DOWN]}),
    # zero levels use the linear formula even when falling: 350 + 350 + 0
    (
        samples((0, 7, 14, 28), (0, 100, 0, 0), auc_method="linear_up_log_down"),
        {"auc_0_28": 700.0},
    ),
    # rising segments are linear in linear-up/log-down too: 0-7: 175, 7-28: (50 + 100)/2 x 21
    (
        samples((0, 7, 28), (0, 50, 100), auc_method="linear_up_log_down"),
        {"auc_0_28": 175.0 + 1575.0},
    ),
    # --- no sample at day 28: the AUC alone is not computed (ADR 0146)
    (
        samples((0, 7, 14, 21), (0, 100, 50, 5)),
        {
            "status": OK,
            "cmax": 100.0,
            "tmax_day": 7.0,
            "auc_0_28": None,
            "tlast_day": 21.0,
            "reasons": ["kinetics.auc.no_sample_at_window_end"],
        },
    ),
    (samples((0, 7, 14, 35), (0, 100, 50, 5)), {"auc_0_28": None, "tlast_day": 35.0}),
    # --- Tmax ties -> earliest day
    (
        samples((1, 7, 14, 28), (10, 50, 50, 20)),
        {
            "cmax": 50.0,
            "tmax_day": 7.0,
            "reasons": ["kinetics.tmax.earliest_of_ties", LINEAR, DAY_0],
        },
    ),
    # --- BLQ = 0: 10 and 15 are below the LLOQ of 20; 20 itself is quantifiable
    #   0-1: 0;  1-7: (0 + 100)/2 x 6 = 300;  7-14: (100 + 20)/2 x 7 = 420;  14-28: (20 + 0)/2 x 14 = 140
    (
        samples((1, 7, 14, 28), (10, 100, 20, 15), lloq=20),
        {
            "cmax": 100.0,
            "auc_0_28": 860.0,
            "tlast_day": 14.0,
            "clast": 20.0,
            "reasons": ["kinetics.blq_set_to_zero", LINEAR, DAY_0],
        },
    ),
    # --- Tlast over all follow-up, Cmax only in the window
    (
        samples((1, 7, 28, 90, 180), (10, 100, 20, 5, 0)),
        {"cmax": 100.0, "tlast_day": 90.0, "clast": 5.0},
    ),
    (
        samples((1, 7, 28, 60), (10, 100, 20, 500)),
        {"cmax": 100.0, "tmax_day": 7.0, "tlast_day": 60.0, "clast": 500.0},
    ),
    # --- a shorter analysis window: Cmax and the AUC stop at day 14 (5 + 330 + 525)
    (
        samples((1, 7, 14, 28), (10, 100, 50, 500), window_days=14),
        {"cmax": 100.0, "auc_0_28": 860.0, "tlast_day": 28.0},
    ),
    # --- every level BLQ: Cmax 0 at the first sample, no Tlast
    (
        samples((1, 7, 28), (0, 0, 0)),
        {
            "status": OK,
            "cmax": 0.0,
            "tmax_day": 1.0,
            "auc_0_28": 0.0,
            "tlast_day": None,
            "clast": None,
            "reasons": [
                "kinetics.tmax.earliest_of_ties",
                LINEAR,
                DAY_0,
                "kinetics.tlast.no_quantifiable_level",
            ],
        },
    ),
    # --- no samples -> cannot_compute
    (
        samples(None, None),
        {
            "status": CANNOT,
            "cmax": None,
            "auc_0_28": None,
            "reasons": ["kinetics.no_samples"],
            "missing": ["times_days", "levels"],
        },
    ),
    (samples((), ()), {"status": CANNOT, "missing": ["times_days", "levels"]}),
    (samples((1, 7), None), {"status": CANNOT, "missing": ["levels"]}),
    (
        samples((1, 7, 28), (10, None, 5)),
        {
            "status": CANNOT,
            "reasons": ["kinetics.unknown_sample_values"],
            "missing": ["levels"],
        },
    ),
    (
        samples((30, 60), (10, 5)),
        {"status": CANNOT, "reasons": ["kinetics.no_sample_in_window"], "missing": ["times_days"]},
    ),
    # --- invalid inputs name the field
    (
        samples((1, 7, 28), (10, 100)),
        {"status": INVALID, "cmax": None, "reasons": ["invalid:levels"], "missing": []},
    ),
    (samples((1, 7, 28), (10, -1, 5)), {"status": INVALID, "reasons": ["invalid:levels"]}),
    (samples((1, 14, 7), (10, 100, 5)), {"status": INVALID, "reasons": ["invalid:times_days"]}),
    (samples((1, 7, 7), (10, 100, 5)), {"status": INVALID, "reasons": ["invalid:times_days"]}),
    (samples((-1, 7, 28), (0, 100, 5)), {"status": INVALID, "reasons": ["invalid:times_days"]}),
    (
        samples((7, 1), (-5, 100)),
        {"status": INVALID, "reasons": ["invalid:times_days", "invalid:levels"]},
    ),
    (
        samples((1, 28), (10, 5), window_days=0),
        {"status": INVALID, "reasons": ["invalid:window_days"]},
    ),
    (samples((1, 28), (10, 5), lloq=-1), {"status": INVALID, "reasons": ["invalid:lloq"]}),
    (samples((1, 28), (10, math.nan)), {"status": INVALID, "reasons": ["invalid:levels"]}),
]


def _scalar(record: Mapping[str, Any]) -> Any:
    return compute_kinetics(observation_from_mapping(KineticsObservation, record))


def test_kinetics_spec_table_scalar_and_batch() -> None:
    check_both(_scalar, kinetics_batch.grade_frame, CASES)


def test_log_down_segment_formula_hand_computed() -> None:
    result = _scalar(LOG_DOWN_EXAMPLE)
    assert result.status is Status.OK
    assert result.auc_0_28 == pytest.approx(LOG_DOWN_AUC, rel=1e-12)
    assert result.auc_0_28 == pytest.approx(986.9206, abs=1e-4)
    # the log-down area of a falling segment is below the linear trapezoid
    assert result.auc_0_28 < 1050.0


@pytest.mark.parametrize(
    ("observation", "field"),
    [
        (
            KineticsObservation(times_days=(1.0, 28.0), levels=(1.0, 2.0), auc_method="log"),
            "auc_method",
        ),
        (KineticsObservation(times_days=(1.0, 28.0), levels=(1.0, 2.0), unit=5), "unit"),  # type: ignore[arg-type]
        (KineticsObservation(times_days="1;28", levels=(1.0, 2.0)), "times_days"),  # type: ignore[arg-type]
        (KineticsObservation(times_days=(1.0, 28.0), levels=(1.0, "2")), "levels"),  # type: ignore[arg-type]
        (KineticsObservation(times_days=(1.0, 28.0), levels=(1.0, 2.0), lloq=True), "lloq"),
    ],
)
def test_scalar_refuses_wrong_types(observation: KineticsObservation, field: str) -> None:
    result = compute_kinetics(observation)
    assert result.status is Status.INVALID_INPUT
    assert result.reasons == (f"invalid:{field}",)
    assert result.cmax is None


def test_criteria_named() -> None:
    assert compute_kinetics(KineticsObservation()).criteria.name == "CAR-T cellular kinetics"
