"""The registry -> cohort function: shape, derived outcomes, stored grades, query count."""

from __future__ import annotations

import polars as pl
import pytest

from carta.web.registry.models import Infusion
from carta.web.reports.cohort import cohort_for_centers
from tests.web.reports.conftest import Registry, synthetic_network

QUERIES = 10  # patients, diagnoses, infusions, lymphodepletion, apheresis, responses, deaths,
# last assessment day, follow-up visits, graded days - whatever the number of patients


def _synthetic_ids(cohort: pl.DataFrame) -> pl.Series:
    """The synthetic patient id behind each registry ID (``BJ-0000012`` -> 12)."""
    return cohort["registry_id"].str.split("-").list.last().cast(pl.Int64)


def test_one_row_per_infused_patient_of_the_centers_only(registry: Registry) -> None:
    beijing = registry.centers["BJ"]
    cohort = cohort_for_centers([beijing])
    infused = Infusion.objects.filter(patient__center=beijing).values("patient").distinct()
    assert cohort.height == infused.count() > 0
    assert set(cohort["center_id"]) == {"BJ"}
    assert cohort["registry_id"].str.starts_with("BJ-").all()
    assert cohort["registry_id"].is_unique().all()
    assert cohort["synthetic"].all()


def test_the_query_count_does_not_grow_with_the_patients(
    registry: Registry, django_assert_num_queries: object
) -> None:
    with django_assert_num_queries(QUERIES):  # type: ignore[operator]
        everyone = cohort_for_centers(list(registry.centers.values()))
    with django_assert_num_queries(QUERIES):  # type: ignore[operator]
        one = cohort_for_centers([registry.centers["HH"]])
    assert everyone.height > 5 * one.height


def test_deaths_and_progression_become_os_and_pfs(registry: Registry) -> None:
    cohort = cohort_for_centers(list(registry.centers.values()))
    truth = synthetic_network().outcomes.select(
        "patient_id", "died", "death_day", "progressed", "progression_day"
    )
    joined = cohort.with_columns(_synthetic_ids(cohort).alias("synthetic_id")).join(
        truth, left_on="synthetic_id", right_on="patient_id"
    )
    assert joined.height == cohort.height
    assert (joined["os_event"] == joined["died"]).all()
    died = joined.filter(pl.col("died"))
    assert died.height > 0
    assert (died["os_days"] == died["death_day"]).all()
    # Alive patients are censored at their last contact, never after it.
    alive = joined.filter(~pl.col("died"))
    assert (alive["os_days"] >= 0).all()
    # Progression is the first PD assessment; PFS ends at it or at death.
    assert (joined["pfs_event"] == (joined["progressed"] | joined["died"])).all()
    assert (joined["pfs_days"] <= joined["os_days"]).all()


def test_toxicity_columns_come_from_the_stored_grades(registry: Registry) -> None:
    cohort = cohort_for_centers(list(registry.centers.values()))
    days = synthetic_network().patient_days.filter(pl.col("day").is_between(0, 30))
    intended = days.group_by("patient_id").agg(
        pl.col("intended_crs_grade").max().cast(pl.Int64).alias("crs"),
        pl.col("intended_icans_grade").max().cast(pl.Int64).alias("icans"),
    )
    joined = cohort.with_columns(_synthetic_ids(cohort).alias("synthetic_id")).join(
        intended, left_on="synthetic_id", right_on="patient_id"
    )
    assert (joined["crs_max_grade"] == joined["crs"]).all()
    assert (joined["icans_max_grade"] == joined["icans"]).all()
    severe = joined.filter(pl.col("crs") >= 3)
    assert (severe["crs_severe_status"] == 1).all()
    assert joined["crs_severe_status"].is_in([0, 1, 2]).all()


def test_derived_columns_for_stratification(registry: Registry) -> None:
    cohort = cohort_for_centers(list(registry.centers.values()))
    assert set(cohort["target_antigen"].drop_nulls()) <= {"CD19", "BCMA"}
    assert cohort["dose_band"].drop_nulls().is_in(["low", "middle", "high"]).all()
    assert cohort["ld_regimen"].str.starts_with("flu ").all()
    assert cohort["best_response"].null_count() < cohort.height


@pytest.mark.django_db
def test_no_infused_patient_gives_an_empty_cohort() -> None:
    from carta.web.accounts.models import Center

    center = Center.objects.create(code="EMPTY", name="Empty", country="CN", city="Xi'an")
    assert cohort_for_centers([center]).is_empty()
