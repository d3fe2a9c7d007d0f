"""Kaplan-Meier, medians, landmarks, RMST and log-rank: equal to R on committed fixtures,
cross-checked with lifelines, and refusing bad input with a message naming the column."""

from __future__ import annotations

import io

import numpy as np
import polars as pl
import pytest

from carta.analytics.cohort import CohortError, survival_data
from carta.analytics.plots import km_plot
from carta.analytics.survival import kaplan_meier, log_rank, log_rank_from_curves
from tests.analytics.r_fixtures import assert_agrees, read

CURVE = ("n_risk", "n_event", "n_censor", "survival", "std_err", "lower", "upper")
KM_CASES = [
    ("lung.csv", None, "km_lung"),
    ("lung.csv", "sex", "km_lung_sex"),
    ("veteran.csv", "celltype", "km_veteran_celltype"),
    ("half.csv", "arm", "km_half"),
]


def fixture_frame(name: str) -> pl.DataFrame:
    return pl.read_csv(f"tests/analytics/r_fixtures/{name}")


@pytest.mark.parametrize(("data", "group", "prefix"), KM_CASES)
def test_curves_equal_r_survfit(data: str, group: str | None, prefix: str) -> None:
    curves = kaplan_meier(fixture_frame(data), "time", "status", group)
    assert_agrees(curves.table, read(f"{prefix}_curve.csv"), ["group", "time"], CURVE)


@pytest.mark.parametrize(("data", "group", "prefix"), KM_CASES)
def test_medians_and_rmst_equal_r_print_survfit(data: str, group: str | None, prefix: str) -> None:
    curves = kaplan_meier(fixture_frame(data), "time", "status", group)
    expected = read(f"{prefix}_summary.csv")
    assert_agrees(
        curves.summary,
        expected,
        ["group"],
        ["n", "events", "median", "median_lower", "median_upper"],
    )
    rmst = curves.rmst(float(expected["tau"][0])).rename({"std_err": "rmst_std_err"})
    assert_agrees(rmst, expected, ["group"], ["rmst", "rmst_std_err"])


@pytest.mark.parametrize(("data", "group", "prefix"), KM_CASES)
def test_landmarks_equal_r_summary_survfit(data: str, group: str | None, prefix: str) -> None:
    curves = kaplan_meier(fixture_frame(data), "time", "status", group)
    expected = read(f"{prefix}_landmarks.csv")
    times = sorted(set(expected["time"].to_list()))
    # summary.survfit reports the standard error of S itself; carta that of -log S.
    found = (
        curves.at(times)
        .drop_nulls("std_err")
        .with_columns((pl.col("std_err") * pl.col("survival")).alias("std_err"))
    )
    expected = expected.filter(pl.col("survival") > 0)
    assert_agrees(
        found, expected, ["group", "time"], ["n_risk", "survival", "std_err", "lower", "upper"]
    )


def test_median_midpoint_when_the_curve_is_exactly_one_half() -> None:
    """Group x: S = 0.5 from day 2 until day 5, so the median is 3.5 (R's rule)."""
    summary = kaplan_meier(fixture_frame("half.csv"), "time", "status", "arm").summary
    row = summary.filter(pl.col("group") == "x").row(0, named=True)
    assert row["median"] == 3.5
    assert row["median_upper"] is None  # the upper limit never falls to 0.5


@pytest.mark.parametrize(
    ("data", "group", "name", "subset"),
    [
        ("lung.csv", "sex", "logrank_lung_sex.csv", None),
        ("veteran.csv", "celltype", "logrank_veteran_celltype.csv", None),
        ("lung.csv", "ph_ecog", "logrank_lung_ecog.csv", "ph_ecog"),
    ],
)
def test_log_rank_equals_r_survdiff(data: str, group: str, name: str, subset: str | None) -> None:
    frame = fixture_frame(data)
    if subset:
        frame = frame.drop_nulls(subset).with_columns(pl.col(subset).cast(pl.Int64))
    test = log_rank(frame, "time", "status", group)
    expected = read(name)
    assert_agrees(
        pl.DataFrame({"chi2": [test.chi2], "df": [test.df], "p": [test.p], "k": [1]}),
        expected.head(1).with_columns(pl.lit(1.0).alias("k")),
        ["k"],
        ["chi2", "df", "p"],
    )
    assert_agrees(test.table, expected, ["group"], ["n", "observed", "expected"])


def test_weighted_curves_equal_r_with_both_variances() -> None:
    frame = fixture_frame("veteran_weighted.csv")
    for variance, name in (
        ("greenwood", "km_veteran_weighted_greenwood.csv"),
        ("robust", "km_veteran_weighted_robust.csv"),
    ):
        curves = kaplan_meier(frame, "time", "status", weight="w", variance=variance)
        table = curves.table
        if variance == "robust":  # R reports the robust standard error of S, not of -log S
            se_of_survival = (pl.col("std_err") * pl.col("survival")).fill_null(0.0)
            table = table.with_columns(se_of_survival.alias("std_err"))
        assert_agrees(
            table,
            read(name),
            ["time"],
            ("n_risk", "n_event", "survival", "std_err", "lower", "upper"),
        )
    assert kaplan_meier(frame, "time", "status", weight="w").variance == "robust"


def test_agrees_with_lifelines() -> None:
    from lifelines import KaplanMeierFitter

    frame = fixture_frame("lung.csv")
    fitter = KaplanMeierFitter().fit(frame["time"].to_numpy(), frame["status"].to_numpy())
    table = kaplan_meier(frame, "time", "status").table
    theirs = fitter.survival_function_.iloc[1:, 0].to_numpy()  # lifelines starts at time 0
    assert np.allclose(table["survival"].to_numpy(), theirs, atol=1e-12)


def test_row_order_and_group_labels_do_not_matter() -> None:
    frame = fixture_frame("veteran.csv")
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=3)
    first = kaplan_meier(frame, "time", "status", "celltype").table
    second = kaplan_meier(shuffled, "time", "status", "celltype").table
    assert first.equals(second)


def test_each_group_equals_its_own_curve() -> None:
    frame = fixture_frame("veteran.csv")
    grouped = kaplan_meier(frame, "time", "status", "celltype")
    alone = kaplan_meier(frame.filter(pl.col("celltype") == "large"), "time", "status")
    assert np.array_equal(
        grouped.curve("large")["survival"].to_numpy(), alone.table["survival"].to_numpy()
    )


def test_curve_shape_and_interval() -> None:
    table = kaplan_meier(fixture_frame("lung.csv"), "time", "status", "sex").table
    for _, curve in table.group_by("group"):
        survival = curve["survival"].to_numpy()
        assert np.all(np.diff(survival) <= 0)
        defined = curve.drop_nulls("lower")
        assert (defined["lower"] <= defined["survival"]).all()
        assert (defined["survival"] <= defined["upper"]).all()


def test_text_columns_from_csv_are_typed() -> None:
    frame = pl.DataFrame({"t": ["1", " 2", "3.5", "4"], "e": ["1", "true", "no", "0"]})
    table = kaplan_meier(frame, "t", "e").table
    assert table["time"].to_list() == [1.0, 2.0, 3.5, 4.0]
    assert table["n_event"].to_list() == [1, 1, 0, 0]


def test_landmark_beyond_follow_up_is_unknown_unless_the_curve_reached_zero() -> None:
    frame = pl.DataFrame(
        {"t": [1, 2, 3, 4, 5, 6], "e": [1, 0, 1, 1, 1, 0], "g": ["a", "a", "a", "b", "b", "b"]}
    )
    at = kaplan_meier(frame, "t", "e", "g").at([0.5, 10])
    rows = {(row["group"], row["time"]): row for row in at.iter_rows(named=True)}
    assert rows[("a", 0.5)]["survival"] == 1.0 and rows[("a", 0.5)]["n_risk"] == 3
    assert rows[("a", 10.0)]["survival"] == 0.0  # a's last patient died at 3
    assert rows[("b", 10.0)]["survival"] is None  # b's last patient was censored at 6


def test_rmst_horizon_beyond_follow_up_is_refused() -> None:
    curves = kaplan_meier(fixture_frame("lung.csv"), "time", "status", "sex")
    with pytest.raises(CohortError, match="beyond the last follow-up"):
        curves.rmst(5000)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop("time"), "no column 'time'"),
        (lambda f: f.rename({"time": "tiem"}), "did you mean 'tiem'"),
        (
            lambda f: f.with_columns(pl.col("time").cast(pl.String).replace("306", "abc")),
            "column 'time' .*must hold numbers.*'abc'",
        ),
        (
            lambda f: f.with_columns(
                pl.when(pl.col("time") == 306).then(-306).otherwise(pl.col("time")).alias("time")
            ),
            "negative times",
        ),
        (
            lambda f: f.with_columns(
                pl.when(pl.col("time") == 306).then(None).otherwise(pl.col("time")).alias("time")
            ),
            "column 'time' .*missing value",
        ),
        (
            lambda f: f.with_columns(
                pl.when(pl.col("time") == 306).then(2).otherwise(pl.col("status")).alias("status")
            ),
            r"column 'status' .*codes 0 \(censored\), 1 \(event\)",
        ),
        (
            lambda f: f.with_columns(
                pl.when(pl.col("time") == 306).then(None).otherwise(pl.col("sex")).alias("sex")
            ),
            "column 'sex' .*missing value",
        ),
    ],
)
def test_bad_input_names_the_column_and_the_problem(change: object, message: str) -> None:
    frame = change(fixture_frame("lung.csv"))  # type: ignore[operator]
    with pytest.raises(CohortError, match=message):
        kaplan_meier(frame, "time", "status", "sex")


def test_log_rank_needs_two_groups_and_events() -> None:
    frame = fixture_frame("lung.csv")
    with pytest.raises(CohortError, match="at least two groups"):
        log_rank(frame.filter(pl.col("sex") == 1), "time", "status", "sex")
    with pytest.raises(CohortError, match="needs events"):
        log_rank(frame.with_columns(pl.lit(0).alias("status")), "time", "status", "sex")


def test_survival_data_reports_rows() -> None:
    frame = pl.DataFrame({"t": [1.0, -2.0, 3.0], "e": [1, 0, 1]})
    with pytest.raises(CohortError, match=r"row 2: -2\.0"):
        survival_data(frame, "t", "e")


def test_km_plot_has_a_curve_and_a_risk_table_per_group() -> None:
    curves = kaplan_meier(fixture_frame("veteran.csv"), "time", "status", "celltype")
    figure = km_plot(curves, title="veteran")
    curve_axes, table_axes = figure.axes
    assert (
        len(
            [
                line
                for line in curve_axes.get_lines()
                if line.get_label() and not line.get_label().startswith("_")
            ]
        )
        == 4
    )
    assert {text.get_text() for text in table_axes.texts} >= {"27", "48", "35"}
    figure.savefig(io.BytesIO(), format="png")


def test_log_rank_from_curves_needs_unweighted_curves() -> None:
    frame = fixture_frame("veteran_weighted.csv")
    curves = kaplan_meier(frame, "time", "status", "celltype")
    assert log_rank_from_curves(curves).chi2 == log_rank(frame, "time", "status", "celltype").chi2
    weighted = kaplan_meier(frame, "time", "status", "celltype", weight="w")
    with pytest.raises(CohortError, match="unweighted"):
        log_rank_from_curves(weighted)
