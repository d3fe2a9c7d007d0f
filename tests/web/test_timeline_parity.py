"""The registry's stored CRS grades equal the batch twin's (carta.analytics.timeline) on random
courses entered in random order, so the web and the analytics derive the fever waiver alike."""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest

from carta.analytics.timeline import grade_timeline
from carta.io.records import frame_from_records
from carta.web.registry import adapters, services
from carta.web.registry.models import DailyAssessment, Patient
from tests.web.conftest import Network

DAYS = range(0, 7)


def _observations(rng: random.Random) -> dict[str, Any]:
    hypotension = rng.choice([None, "none", "present", "present"])
    agents: list[Any] = [None, []]
    if hypotension != "none":
        agents += [["norepinephrine"], ["norepinephrine", "epinephrine"], ["vasopressin"]]
    device = rng.choice([None, "none", "none", "nasal_cannula", "cpap"])
    return {
        "temperature_c": rng.choice([None, 37.0, 38.0, 39.5]),
        "fever_attributable_to_other_cause": rng.choice([None, False, False, True]),
        "hypotension": hypotension,
        "vasopressors": rng.choice(agents) if hypotension != "none" else rng.choice([None, []]),
        "hypotension_attributable_to_other_cause": rng.choice([None, False, False]),
        "oxygen_device": device,
        "oxygen_flow_l_min": rng.choice([None, 4.0, 8.0]) if device == "nasal_cannula" else None,
        "hypoxia_attributable_to_other_cause": rng.choice([None, False, False]),
        "died_due_to_crs": rng.choice([None, False, False, False]),
        "tool": "ICE",
        "ice_score": rng.choice([None, 10, 8, 5]),
        "consciousness": rng.choice([None, "alert", "awakens_to_voice"]),
        "seizure": rng.choice(["none", "none", None]),
        "motor": "none",
        "icp_edema": "none",
    }


def _course(rng: random.Random) -> tuple[dict[int, dict[str, Any]], set[int]]:
    days = sorted(rng.sample(list(DAYS), rng.randint(3, len(DAYS))))
    therapy = {day for day in days if rng.random() < 0.3}
    return {day: _observations(rng) for day in days}, therapy


def _enter(
    network: Network,
    patient: Patient,
    course: dict[int, dict[str, Any]],
    therapy: set[int],
    rng: random.Random,
) -> None:
    """Days and treatments in a random order (regrading must catch up)."""
    infusion = patient.infusions.get()
    steps: list[tuple[str, int]] = [("day", day) for day in course] + [
        ("treat", day) for day in therapy
    ]
    rng.shuffle(steps)
    for kind, day in steps:
        if kind == "day":
            services.record_daily_assessment(
                actor=network.coordinator, patient=patient, day=day, **course[day]
            )
        else:
            services.record_toxicity_treatment(
                actor=network.coordinator,
                patient=patient,
                infusion=infusion,
                day=day,
                agent="tocilizumab",
            )


def _and(left: bool | None, right: bool | None) -> bool | None:
    if left is False or right is False:
        return False
    return True if left is True and right is True else None


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_stored_grades_equal_the_batch_timeline(
    network: Network, make_patient: Any, seed: int
) -> None:
    rng = random.Random(seed)
    records = []
    for _ in range(4):
        patient = make_patient()
        services.record_infusion(
            actor=network.coordinator,
            patient=patient,
            product=network.product,
            infused_on=date(2025, 1, 10),
        )
        course, therapy = _course(rng)
        _enter(network, patient, course, therapy, rng)
        for day, observations in course.items():
            records.append(
                {
                    "patient_id": patient.pk,
                    "day": day,
                    **observations,
                    "antipyretic_or_anticytokine_given": day in therapy,
                }
            )
    expected = grade_timeline(frame_from_records(records)).rows(named=True)
    for row in expected:
        stored = DailyAssessment.objects.get(patient_id=row["patient_id"], day=row["day"])
        assert (stored.crs_status, stored.crs_grade) == (row["crs_status"], row["crs_grade"]), row
        assert stored.crs_reasons == row["crs_reasons"]
        assert stored.crs_missing == row["crs_missing"]
        assert (stored.icans_status, stored.icans_grade) == (
            row["icans_status"],
            row["icans_grade"],
        )
        assert stored.crs_previously_diagnosed == row["crs_previously_diagnosed"]
        waiver = _and(stored.crs_previously_diagnosed, stored.antipyretic_or_anticytokine_given)
        assert waiver == row["fever_waiver"]
    assert len(expected) == DailyAssessment.objects.count()
    assert set(adapters.CRS_FIELDS) <= set(records[0])
