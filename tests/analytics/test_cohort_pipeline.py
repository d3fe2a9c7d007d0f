"""The cohort's registry join and graded toxicity columns: the shortcuts taken on sorted
registry exports (ADR 0319) give exactly what the general joins and groupings give."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from carta.analytics.cohort import (
    cohort_from_tables,
    graded_toxicity,
    read_cohort,
    toxicity_by_patient,
)
from carta.analytics.timeline import grade_timeline
from carta.synth import generate_network, write_parquet


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("export")
    write_parquet(generate_network(120, seed=11), folder)
    return folder


def tables(folder: Path) -> dict[str, pl.DataFrame]:
    return {
        name: pl.read_parquet(sorted((folder / name).glob("*.parquet")))
        for name in ("patients", "infusions", "outcomes", "patient_days")
    }


def general_cohort(
    patients: pl.DataFrame, infusions: pl.DataFrame, outcomes: pl.DataFrame
) -> pl.DataFrame:
    """The same cohort with the tables shuffled: the hash-join path."""
    shuffled = {
        "infusions": infusions.sample(fraction=1.0, shuffle=True, seed=1),
        "outcomes": outcomes.sample(fraction=1.0, shuffle=True, seed=2),
    }
    return cohort_from_tables(patients, shuffled["infusions"], shuffled["outcomes"])


def test_sorted_tables_join_as_shuffled_ones_do(export: Path) -> None:
    data = tables(export)
    patients, infusions, outcomes = data["patients"], data["infusions"], data["outcomes"]
    # The export's order, one row per patient: the side-by-side path.
    assert infusions["patient_id"].equals(patients["patient_id"])
    fast = cohort_from_tables(patients, infusions, outcomes)
    assert fast.height == patients.height
    assert fast.equals(general_cohort(patients, infusions, outcomes))


def test_a_second_infusion_row_keeps_the_first(export: Path) -> None:
    data = tables(export)
    patients, infusions, outcomes = data["patients"], data["infusions"], data["outcomes"]
    repeated = infusions.head(3).with_columns(pl.col("total_cells") * 2)
    doubled = pl.concat([infusions, repeated]).sort("patient_id", maintain_order=True)
    cohort = cohort_from_tables(patients, doubled, outcomes)
    assert cohort.height == patients.height
    assert cohort.equals(cohort_from_tables(patients, infusions, outcomes))
    shuffled = cohort_from_tables(
        patients, doubled.sample(fraction=1.0, shuffle=True, seed=4).sort("patient_id"), outcomes
    )
    assert shuffled.equals(cohort)


def test_a_patient_without_outcome_row_gets_nulls(export: Path) -> None:
    data = tables(export)
    patients, infusions, outcomes = data["patients"], data["infusions"], data["outcomes"]
    cohort = cohort_from_tables(patients, infusions, outcomes.slice(1))
    assert cohort.height == patients.height
    assert cohort["os_days"][0] is None
    assert cohort["os_days"].slice(1).equals(outcomes["os_days"].slice(1))


def test_toxicity_of_unsorted_days_equals_sorted(export: Path) -> None:
    days = tables(export)["patient_days"]
    timeline = grade_timeline(days, reasons=False)
    assert timeline["patient_id"].is_sorted()
    shuffled = timeline.sample(fraction=1.0, shuffle=True, seed=5)
    assert toxicity_by_patient(timeline).equals(toxicity_by_patient(shuffled))
    assert toxicity_by_patient(timeline)["crs_max_grade"].max() is not None


def test_graded_toxicity_reads_what_it_needs_and_equals_the_full_timeline(
    export: Path,
) -> None:
    expected = toxicity_by_patient(grade_timeline(tables(export)["patient_days"]))
    assert graded_toxicity(export / "patient_days").equals(expected)
    cohort = read_cohort(export, toxicity=True)
    assert {"crs_severe_time", "icans_max_grade"} <= set(cohort.columns)
