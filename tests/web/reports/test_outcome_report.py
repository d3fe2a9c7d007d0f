"""The registry side of the outcome report: centers by code, the baseline labs chosen as the
patient page chooses them (in bulk), and the report data of ``carta report --registry``."""

from __future__ import annotations

import math

import polars as pl
import pytest

from carta.web.registry import adapters
from carta.web.registry.models import DailyAssessment, Lymphodepletion, Patient
from carta.web.reports.cohort import cohort_for_centers
from carta.web.reports.outcome_report import (
    UnknownCenterError,
    baseline_labs,
    centers_by_code,
    registry_report_data,
)
from tests.web.reports.conftest import Registry


def test_centers_by_code(registry: Registry) -> None:
    every = centers_by_code([])
    assert [center.code for center in every] == sorted(registry.centers)
    assert [center.code for center in centers_by_code(["sh", "BJ", "bj"])] == ["BJ", "SH"]
    with pytest.raises(UnknownCenterError, match=r"no center 'XX' in the registry .*BJ"):
        centers_by_code(["BJ", "XX"])


def _page_labs(patient: Patient) -> dict[str, float]:
    """The labs the patient page's baseline scores use (one patient at a time)."""
    first = patient.infusions.order_by("number").first()
    assert first is not None
    days = [
        {"day": row.day, **{field: getattr(row, field) for field in adapters.BASELINE_LABS}}
        for row in DailyAssessment.objects.filter(infusion=first)
    ]
    ld = Lymphodepletion.objects.filter(patient=patient).order_by("pk").first()
    scores = adapters.baseline_scores(days, ld.first_day if ld else None)
    latest: dict[str, float] = {}
    for field, day in scores.lab_days.items():
        value = next(row[field] for row in days if row["day"] == day and row[field] is not None)
        latest[adapters.BASELINE_LABS[field]] = value
    return latest


def test_baseline_labs_are_the_patient_pages(registry: Registry) -> None:
    beijing = registry.centers["BJ"]
    labs = baseline_labs([beijing])
    by_patient = {row["patient_id"]: row for row in labs.iter_rows(named=True)}
    patients = Patient.objects.filter(center=beijing, infusions__isnull=False).distinct()
    compared = 0
    for patient in patients:
        expected = _page_labs(patient)
        row = by_patient.get(patient.pk, {})
        for marker in adapters.BASELINE_LABS.values():
            got = row.get(f"baseline_{marker}")
            if marker in expected:
                assert got is not None and math.isclose(got, expected[marker]), (patient, marker)
                compared += 1
            else:
                assert got is None, (patient, marker)
    assert compared > 20  # the data have baseline labs to compare
    # The lymphodepletion cut-off matters in these data: some patients have labs recorded
    # after its first day and before day 0, which the baseline must not take.
    later = DailyAssessment.objects.filter(
        patient__center=beijing, infusion__number=1, day__lt=0, platelets_per_ul__isnull=False
    ).values_list("patient_id", "day")
    starts = dict(
        Lymphodepletion.objects.filter(patient__center=beijing).values_list(
            "patient_id", "first_day"
        )
    )
    assert any(pid in starts and day > starts[pid] for pid, day in later)


def test_registry_report_data(registry: Registry) -> None:
    centers = [registry.centers["BJ"], registry.centers["SH"]]
    data = registry_report_data(centers)
    assert data.synthetic and data.baseline_from_registry and data.baseline_first_day is None
    cohort = cohort_for_centers(centers)
    assert data.cohort.height == cohort.height
    assert set(data.cohort["center_id"]) == {"BJ", "SH"}
    assert data.cohort.drop(pl.selectors.starts_with("baseline_")).equals(cohort)
    assert data.cohort["baseline_platelets_per_uL"].drop_nulls().len() > 0
