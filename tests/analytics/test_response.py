"""Best overall response, ORR/CR with Clopper-Pearson intervals equal to R's binom.test, and
duration of response."""

from __future__ import annotations

import polars as pl
import pytest

from carta.analytics.cohort import CohortError, cohort_from_tables
from carta.analytics.response import (
    best_overall_response,
    clopper_pearson,
    duration_of_response,
    response_rates,
)
from carta.analytics.survival import kaplan_meier
from tests.analytics.r_fixtures import assert_agrees, read


def test_clopper_pearson_equals_r_binom_test() -> None:
    expected = read("clopper_pearson.csv")
    rows = []
    for successes, n in expected.select("successes", "n").iter_rows():
        lower, upper = clopper_pearson(int(successes), int(n))
        rows.append({"successes": successes, "n": n, "lower": lower, "upper": upper})
    assert_agrees(pl.DataFrame(rows), expected, ["successes", "n"], ["lower", "upper"])


def test_clopper_pearson_refuses_impossible_proportions() -> None:
    with pytest.raises(CohortError):
        clopper_pearson(3, 0)
    with pytest.raises(CohortError):
        clopper_pearson(5, 4)


ASSESSMENTS = pl.DataFrame(
    {
        "patient_id": [1, 1, 1, 2, 2, 3, 4, 4],
        "day": [28, 90, 180, 28, 60, 28, 28, 90],
        "response": ["pr", "cr", "cr", "sd", "pd", "nr", "VGPR ", "vgpr"],
    }
)


def test_best_overall_response_takes_the_best_and_its_first_day() -> None:
    best = best_overall_response(ASSESSMENTS).sort("patient_id")
    assert best["best_response"].to_list() == ["cr", "sd", "nr", "vgpr"]
    assert best["best_response_day"].to_list() == [90.0, 28.0, 28.0, 28.0]
    assert best["first_response_day"].to_list() == [28.0, None, None, 28.0]


def test_unknown_response_words_are_refused() -> None:
    with pytest.raises(CohortError, match=r"column 'response' .*'complete'"):
        best_overall_response(ASSESSMENTS.with_columns(pl.lit("complete").alias("response")))


def test_rates_counts_and_denominators() -> None:
    frame = pl.DataFrame(
        {
            "best_response": ["cr", "cr", "pr", "sd", "pd", None, "cri", "vgpr", "mr", "nr"],
            "product": ["a"] * 6 + ["b"] * 4,
        }
    )
    rates = response_rates(frame, group="product")
    a = rates.table.row(0, named=True)
    assert (a["n"], a["evaluable"], a["orr_n"], a["cr_n"]) == (6, 5, 3, 2)
    assert a["orr_rate"] == pytest.approx(3 / 6)
    assert (a["orr_lower"], a["orr_upper"]) == clopper_pearson(3, 6)
    b = rates.table.row(1, named=True)
    assert (b["orr_n"], b["cr_n"]) == (2, 1)  # CRi and VGPR respond; MR and NR do not
    evaluable = response_rates(frame, group="product", denominator="evaluable").table.row(
        0, named=True
    )
    assert evaluable["orr_rate"] == pytest.approx(3 / 5)
    counts = rates.counts.filter(pl.col("group") == "a")
    assert dict(zip(counts["response"], counts["n"], strict=True))["not_evaluable"] == 1
    assert counts["n"].sum() == 6


def test_duration_of_response_is_pfs_from_first_response() -> None:
    frame = pl.DataFrame(
        {
            "first_response_day": [28.0, 28.0, 90.0, None, 28.0],
            "pfs_days": [100, 400, 300, 50, 28],
            "pfs_event": [1, 0, 1, 1, 1],
        }
    )
    curves = duration_of_response(frame)
    expected = kaplan_meier(
        pl.DataFrame({"t": [72.0, 372.0, 210.0, 0.0], "e": [1, 0, 1, 1]}), "t", "e"
    )
    assert curves.table.equals(expected.table)
    bad = frame.with_columns(pl.lit(10).alias("pfs_days"))
    with pytest.raises(CohortError, match="'pfs_days' is before 'first_response_day'"):
        duration_of_response(bad)


def test_on_a_synthetic_network() -> None:
    from carta.synth import generate_network

    network = generate_network(400, seed=11)
    cohort = cohort_from_tables(
        network.patients, network.infusions, network.outcomes, responses=network.responses
    )
    rates = response_rates(cohort, group="target_antigen")
    assert rates.table["n"].sum() == 400
    best = best_overall_response(network.responses)
    joined = cohort.select("patient_id", "best_response").join(best, on="patient_id")
    # The generator's best response is the best of its assessments.
    assert (joined["best_response"].cast(pl.String) == joined["best_response_right"]).all()
    curves = duration_of_response(cohort, group="target_antigen")
    responders = cohort.filter(pl.col("first_response_day").is_not_null())
    assert curves.summary["n"].sum() == responders.height
