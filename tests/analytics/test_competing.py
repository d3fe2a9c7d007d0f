"""Cumulative incidence (Aalen-Johansen) and Gray's test equal to R (survfit multi-state,
cmprsk::cuminc); toxicity incidence by grade; toxicity outcomes from a graded timeline."""

from __future__ import annotations

import io

import numpy as np
import polars as pl
import pytest

from carta.analytics.cohort import CohortError, toxicity_by_patient, with_toxicity_outcomes
from carta.analytics.competing import cumulative_incidence, gray_test, incidence_by_grade
from carta.analytics.plots import incidence_plot
from carta.analytics.response import clopper_pearson
from carta.analytics.survival import kaplan_meier
from tests.analytics.r_fixtures import assert_agrees, read

COLUMNS = ("n_risk", "n_event", "incidence", "std_err", "lower", "upper")


@pytest.fixture(scope="module")
def competing() -> pl.DataFrame:
    return pl.read_csv("tests/analytics/r_fixtures/competing.csv")


@pytest.mark.parametrize(
    ("group", "name"), [(None, "aj_competing.csv"), ("arm", "aj_competing_arm.csv")]
)
def test_incidence_equals_r_survfit_multistate(
    competing: pl.DataFrame, group: str | None, name: str
) -> None:
    incidence = cumulative_incidence(competing, "time", "status", group)
    assert_agrees(incidence.table, read(name), ["group", "cause", "time"], COLUMNS)


@pytest.mark.parametrize("rho", [0.0, 1.0])
@pytest.mark.parametrize("cause", [1, 2])
def test_gray_test_equals_cmprsk(competing: pl.DataFrame, rho: float, cause: int) -> None:
    test = gray_test(competing, "time", "status", "arm", cause=cause, rho=rho)
    expected = read("gray_competing_arm.csv").filter(
        (pl.col("rho") == rho) & (pl.col("cause") == cause)
    )
    found = pl.DataFrame(
        {
            "rho": [rho],
            "cause": [float(cause)],
            "chi2": [test.chi2],
            "df": [float(test.df)],
            "p": [test.p],
        }
    )
    assert_agrees(found, expected, ["rho", "cause"], ["chi2", "df", "p"])


def test_incidences_and_survival_add_up_to_one(competing: pl.DataFrame) -> None:
    """F1(t) + F2(t) + S(t) = 1, S the all-cause Kaplan-Meier curve."""
    incidence = cumulative_incidence(competing, "time", "status", "arm")
    any_event = competing.with_columns((pl.col("status") > 0).cast(pl.Int8).alias("any"))
    survival = kaplan_meier(any_event, "time", "any", "arm").table
    wide = incidence.table.pivot(on="cause", index=["group", "time"], values="incidence").join(
        survival, on=["group", "time"]
    )
    total = wide["1"] + wide["2"] + wide["survival"]
    assert np.allclose(total.to_numpy(), 1.0, atol=1e-12)


def test_landmarks_step_and_stop_at_follow_up(competing: pl.DataFrame) -> None:
    incidence = cumulative_incidence(competing, "time", "status")
    at = incidence.at([0.0, 10.0, 1000.0])
    assert at["incidence"][0] == 0.0 and at["lower"][0] == 0.0
    curve = incidence.curve("all")
    expected = curve.filter(pl.col("time") <= 10.0)["incidence"][-1]
    assert at["incidence"][1] == expected
    assert at["incidence"][2] is None


def test_bad_codes_and_tests_without_groups_are_refused(competing: pl.DataFrame) -> None:
    bad = competing.with_columns(
        pl.when(pl.col("time") == 1).then(3).otherwise(pl.col("status")).alias("status")
    )
    with pytest.raises(
        CohortError,
        match=r"column 'status' .*0 \(censored\), 1 \(event of interest\), 2 \(competing event\)",
    ):
        cumulative_incidence(bad, "time", "status")
    with pytest.raises(CohortError, match="at least two groups"):
        gray_test(competing.filter(pl.col("arm") == "A"), "time", "status", "arm")
    without = competing.with_columns(
        pl.when(pl.col("status") == 1).then(0).otherwise(pl.col("status")).alias("status")
    )
    with pytest.raises(CohortError, match="events of cause 1"):
        gray_test(without, "time", "status", "arm")


def test_incidence_by_grade_counts_and_exact_intervals() -> None:
    frame = pl.DataFrame(
        {"grade": [0, 1, 2, 3, 4, 0, None, 3, 1, 5], "product": list("aaaaabbbbb")}
    )
    table = incidence_by_grade(frame, "grade", "product")
    a = table.row(0, named=True)
    assert (a["n"], a["grade_0"], a["grade_3"], a["any_grade"], a["grade_3_plus"]) == (
        5,
        1,
        1,
        4,
        2,
    )
    assert (a["grade_3_plus_lower"], a["grade_3_plus_upper"]) == clopper_pearson(2, 5)
    b = table.row(1, named=True)
    assert (b["n"], b["not_graded"], b["grade_3_plus"]) == (4, 1, 2)
    with pytest.raises(CohortError, match=r"column 'grade' .*found \[7.0\]"):
        incidence_by_grade(frame.with_columns(pl.lit(7).alias("grade")), "grade")


def test_toxicity_outcomes_from_a_graded_timeline() -> None:
    timeline = pl.DataFrame(
        {
            "patient_id": [1, 1, 1, 2, 2, 3, 3],
            "day": [0, 1, 2, 0, 1, 0, 1],
            "crs_grade": [1, 3, 2, 0, None, 0, 0],
            "icans_grade": [0, 0, 0, 0, 0, 0, 0],
        }
    )
    toxicity = toxicity_by_patient(timeline)
    first = toxicity.row(0, named=True)
    assert (
        first["crs_max_grade"],
        first["crs_onset_day"],
        first["crs_severe_day"],
        first["crs_days"],
    ) == (3, 0.0, 1.0, 3)
    outcomes = pl.DataFrame(
        {"patient_id": [1, 2, 3, 4], "os_days": [400, 12, 200, 90], "os_event": [0, 1, 0, 0]}
    )
    cohort = with_toxicity_outcomes(outcomes.join(toxicity, on="patient_id", how="left"))
    # event, death first, censored, and no patient-days at all: unknown, not "no event"
    assert cohort["crs_severe_status"].to_list() == [1, 2, 0, None]
    assert cohort["crs_severe_time"].to_list() == [1.0, 12.0, 30.0, None]


def test_incidence_plot_draws_each_group(competing: pl.DataFrame) -> None:
    figure = incidence_plot(cumulative_incidence(competing, "time", "status", "arm"), title="arms")
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert labels == ["A", "B", "C"]
    figure.savefig(io.BytesIO(), format="png")
