"""The Analytics page's logistic regressions (response, severe CRS and ICANS) and vein-to-vein
time: the numbers are the analytics package's on the same center-scoped cohort, the CSVs
are the frames, other centers stay out, impossible models become messages, Chinese."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import polars as pl
from django.conf import settings

from carta.analytics.cohort import OBJECTIVE_RESPONSES
from carta.analytics.regression import logistic_regression, vein_to_vein_association
from carta.web.reports import analyses
from carta.web.reports.analyses import Options
from carta.web.reports.cohort import cohort_for_centers
from tests.web.reports.conftest import Registry

PAGE = "/analytics/"
BASELINE = ["age_at_infusion_years", "sex", "prior_lines"]


def _csv(response: Any) -> pl.DataFrame:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    frame: pl.DataFrame = pl.read_csv(io.BytesIO(response.content), infer_schema_length=0)
    return frame


def _text(frame: pl.DataFrame) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(frame.write_csv().encode()), infer_schema_length=0)


def _cohort(registry: Registry, *codes: str) -> pl.DataFrame:
    return cohort_for_centers([registry.centers[code] for code in codes])


def _responded(cohort: pl.DataFrame) -> pl.DataFrame:
    words = pl.col("best_response").cast(pl.String)
    return cohort.with_columns(
        words.is_in(OBJECTIVE_RESPONSES).fill_null(False).cast(pl.Int8).alias("responded")
    )


def _severe(cohort: pl.DataFrame, syndrome: str) -> pl.DataFrame:
    grade = pl.col(f"{syndrome}_max_grade")
    return cohort.filter(grade.is_not_null()).with_columns(
        (grade >= 3).cast(pl.Int8).alias("severe")
    )


def test_the_logistic_downloads_are_the_library_models_on_the_users_patients(
    registry: Registry,
) -> None:
    client = registry.client("analyst")
    cohort = _cohort(registry, "BJ", "SH")
    query = {"group_by": "none"}
    response = logistic_regression(_responded(cohort), "responded", BASELINE)
    assert _csv(client.get("/analytics/data/logistic-response.csv", query)).equals(
        _text(response.coefficients)
    )
    for syndrome in ("crs", "icans"):
        model = logistic_regression(_severe(cohort, syndrome), "severe", BASELINE)
        download = _csv(client.get(f"/analytics/data/logistic-{syndrome}.csv", query))
        assert download.equals(_text(model.coefficients))
    # The page shows the same odds ratios (age's, the first term after the intercept).
    page = client.get(PAGE, query).content.decode()
    age = response.coefficients.row(1, named=True)
    assert f"{age['odds_ratio']:.2f}" in page
    assert f"{age['odds_ratio_lower']:.2f}–{age['odds_ratio_upper']:.2f}" in page


def test_the_vein_to_vein_downloads_are_the_library_association(registry: Registry) -> None:
    client = registry.client("analyst")
    cohort = _cohort(registry, "BJ", "SH")
    query = {"group_by": "target_antigen"}
    expected = vein_to_vein_association(
        cohort,
        "os_days",
        "os_event",
        group="target_antigen",
        adjusted_for=[*BASELINE, "target_antigen"],
    )
    section = analyses.vein_to_vein_section(cohort, Options(group="target_antigen"))
    assert section.error is None, section.error
    assert section.extra["covariates"] == [*BASELINE, "target_antigen"]
    distribution = _csv(client.get("/analytics/data/v2v-distribution.csv", query))
    assert distribution.equals(_text(expected.distribution))
    hazard_ratios = _csv(client.get("/analytics/data/v2v-hr.csv", query))
    assert hazard_ratios.equals(_text(expected.model.coefficients))
    assert hazard_ratios["term"][0] == "vein_to_vein_days_per_7"
    # Real data: the times vary and the distribution counts every patient of the selection.
    assert (
        int(distribution["n"].cast(pl.Int64).sum())
        + int(distribution["missing"].cast(pl.Int64).sum())
        == cohort.filter(pl.col("target_antigen").is_not_null()).height
    )
    page = client.get(PAGE, query).content.decode()
    weekly = expected.model.coefficients.row(0, named=True)
    assert f"{weekly['hr']:.2f}" in page and 'data-plot="v2v"' in page


def test_the_new_downloads_hold_the_users_centers_only(registry: Registry) -> None:
    client = registry.client("coordinator")  # Beijing only
    beijing, everyone = _cohort(registry, "BJ"), _cohort(registry, "BJ", "SH")
    query = {"group_by": "none"}
    mine = logistic_regression(_responded(beijing), "responded", BASELINE).coefficients
    both = logistic_regression(_responded(everyone), "responded", BASELINE).coefficients
    assert not mine.equals(both)  # the data are such that Shanghai changes the numbers
    assert _csv(client.get("/analytics/data/logistic-response.csv", query)).equals(_text(mine))
    distribution = _csv(client.get("/analytics/data/v2v-distribution.csv", query))
    expected = vein_to_vein_association(
        beijing, "os_days", "os_event", adjusted_for=BASELINE
    ).distribution
    assert distribution.equals(_text(expected))
    shanghai = registry.centers["SH"].pk
    for key in ("logistic-crs", "v2v-hr"):
        assert client.get(f"/analytics/data/{key}.csv", {"center": shanghai}).status_code == 400


def test_the_sections_in_chinese(registry: Registry, chinese_catalogue: None) -> None:
    client = registry.client("analyst")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    content = client.get(PAGE).content.decode()
    for heading in ("疗效与重度毒性的 Logistic 回归", "采集至回输时间", "比值比", "客观缓解"):
        assert heading in content
    assert "Vein-to-vein time" not in content and "Odds ratio" not in content


# --- on hand-made cohorts ---------------------------------------------------------------------


def _cohort_frame(n: int = 80, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "os_days": rng.integers(10, 900, n).astype(float),
            "os_event": rng.integers(0, 2, n),
            "age_at_infusion_years": rng.normal(60, 10, n),
            "sex": np.where(rng.random(n) < 0.5, "female", "male"),
            "prior_lines": rng.integers(1, 6, n),
            "product_code": np.where(np.arange(n) % 3 == 0, "z-cel", "axi-cel"),
            "best_response": rng.choice(["cr", "pr", "sd", "pd"], n),
            "crs_max_grade": rng.integers(0, 5, n),
            "icans_max_grade": rng.integers(0, 5, n),
            "vein_to_vein_days": rng.integers(14, 60, n).astype(float),
        }
    )


def test_a_separated_group_is_refitted_without_it_and_said() -> None:
    cohort = _cohort_frame().with_columns(
        pl.when(pl.col("product_code") == "z-cel")
        .then(pl.lit(0))
        .otherwise(pl.col("crs_max_grade"))
        .alias("crs_max_grade")
    )
    section = analyses.logistic_section(cohort, Options(group="product_code"), "crs_model")
    assert section.error is None and section.result is not None
    assert section.extra["covariates"] == BASELINE
    assert any(
        note.startswith("group_left_out:product_code:") and "separation" in note
        for note in section.notes
    )


def test_a_model_without_events_is_the_sections_message() -> None:
    cohort = _cohort_frame().with_columns(pl.lit(1).alias("icans_max_grade"))
    section = analyses.logistic_section(cohort, Options(group=None), "icans_model")
    assert section.result is None
    assert section.error is not None and "severe_icans" in section.error
    view_error = analyses.SECTIONS["icans_model"](cohort, Options(group=None)).error
    assert view_error == section.error


def test_ungraded_patients_are_left_out_of_the_toxicity_model_and_counted() -> None:
    cohort = _cohort_frame().with_columns(
        pl.when(pl.int_range(pl.len()) < 5)
        .then(None)
        .otherwise(pl.col("crs_max_grade"))
        .alias("crs_max_grade")
    )
    section = analyses.logistic_section(cohort, Options(group=None), "crs_model")
    assert section.result is not None and section.result.n == cohort.height - 5
    assert "ungraded:5" in section.notes


def test_negative_vein_to_vein_times_are_the_sections_message() -> None:
    cohort = _cohort_frame().with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(-3.0)
        .otherwise(pl.col("vein_to_vein_days"))
        .alias("vein_to_vein_days")
    )
    section = analyses.vein_to_vein_section(cohort, Options(group="product_code"))
    assert section.result is None
    assert section.error is not None and "negative vein-to-vein" in section.error
