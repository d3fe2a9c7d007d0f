"""The report's protocol comparison (IPW), logistic regressions and vein-to-vein sections:
present in both languages, numbers equal to the library functions on the same cohort, and a
stated reason instead of a failure when a model is not estimable."""

from __future__ import annotations

import polars as pl
import pytest

from carta.analytics.compare import compare_protocols
from carta.analytics.regression import logistic_regression, vein_to_vein_association
from carta.analytics.report import Note, Paragraph, Report, ReportData, Table, build_report
from carta.analytics.report.figures import DAYS_PER_MONTH
from carta.analytics.report.models import default_arms

NEW_SECTIONS = ("compare", "logistic", "vein_to_vein")


def notes(report: Report, key: str) -> list[str]:
    return [block.text for block in report.section(key).blocks if isinstance(block, Note)]


def paragraphs(report: Report, key: str) -> list[str]:
    return [block.text for block in report.section(key).blocks if isinstance(block, Paragraph)]


def tables(report: Report, key: str) -> list[Table]:
    return [block for block in report.section(key).blocks if isinstance(block, Table)]


@pytest.fixture(scope="module")
def english(report_data: ReportData) -> Report:
    return build_report(report_data.cohort, group="target_antigen", synthetic=True)


@pytest.fixture(scope="module")
def chinese(report_data: ReportData) -> Report:
    return build_report(report_data.cohort, group="target_antigen", lang="zh-hans")


def test_the_new_sections_come_before_the_methods(english: Report, chinese: Report) -> None:
    keys = [section.key for section in english.sections]
    assert keys[-4:] == [*NEW_SECTIONS, "methods"]
    for key in NEW_SECTIONS:
        assert english.section(key).available, notes(english, key)
        assert chinese.section(key).available
    assert english.section("compare").title.startswith("Protocol comparison")
    assert chinese.section("compare").title == "方案比较（逆概率加权）"
    assert chinese.section("logistic").title == "疗效与重度毒性的 Logistic 回归"
    assert chinese.section("vein_to_vein").title == "采集至回输时间与总生存"
    methods = " ".join(paragraphs(english, "methods"))
    assert "Protocol comparison." in methods and "Logistic regression." in methods
    assert "Vein-to-vein time." in methods
    assert "方案比较：" in " ".join(paragraphs(chinese, "methods"))


def test_compare_uses_the_two_largest_regimens_and_says_so(
    english: Report, report_data: ReportData
) -> None:
    cohort = report_data.cohort
    counts = cohort["ld_regimen"].value_counts().sort("count", descending=True)
    largest = tuple(counts["ld_regimen"].head(2).to_list())
    assert default_arms(cohort, "ld_regimen") == largest
    section = english.section("compare")
    assert tuple(section.data["arms"]["arm"].to_list()) == largest
    assert "chosen automatically" in paragraphs(english, "compare")[0]
    # The numbers are compare_protocols' on the same patients and covariates.
    covariates = section.data["covariates"]["name"].to_list()
    in_arms = cohort.filter(pl.col("ld_regimen").is_in(list(largest)))
    data = in_arms.with_columns((pl.col("os_days") / DAYS_PER_MONTH).alias("_months"))
    expected = compare_protocols(
        data, "ld_regimen", "_months", "os_event", covariates, arms=list(largest)
    )
    hazard = section.data["hazard_ratios"]
    weighted = hazard.filter(pl.col("model") == "weighted").row(0, named=True)
    assert weighted["hr"] == pytest.approx(expected.cox.coefficients["hr"][0], rel=1e-12)
    crude = hazard.filter(pl.col("model") == "unadjusted").row(0, named=True)
    assert crude["hr"] == pytest.approx(expected.unadjusted_cox.coefficients["hr"][0], rel=1e-12)
    assert section.data["balance"]["smd_after"].to_list() == pytest.approx(
        expected.balance["smd_after"].to_list(), rel=1e-12
    )
    ess = section.data["effective_sample_size"]["size"].to_list()
    assert ess == pytest.approx(list(expected.effective_sample_size.values()))
    hr_table = next(t for t in tables(english, "compare") if t.caption.startswith("Hazard ratio"))
    assert hr_table.rows[0][1].startswith(f"{weighted['hr']:.2f} (")
    balance = next(t for t in tables(english, "compare") if t.caption.startswith("Covariate"))
    assert len(balance.rows) == expected.balance.height
    assert any(
        "the numbers at risk under the plot are weighted" in getattr(block, "caption", "")
        for block in section.blocks
    )


def test_compare_with_given_arms_and_a_bad_arm(report_data: ReportData) -> None:
    cohort = report_data.cohort
    largest = default_arms(cohort, "ld_regimen")
    assert largest is not None
    swapped = [largest[1], largest[0]]
    report = build_report(cohort, compare="ld_regimen", arms=swapped)
    section = report.section("compare")
    assert section.data["arms"]["arm"].to_list() == swapped
    assert "as requested" in paragraphs(report, "compare")[0]
    bad = build_report(cohort, arms=["flu 30 / cy 300", "flu 99 / cy 9"])
    assert not bad.section("compare").available
    assert "'flu 99 / cy 9' is not a value of 'ld_regimen'" in notes(bad, "compare")[0]
    assert bad.section("survival").available  # the rest of the report is still there


def test_compare_without_the_column_says_so() -> None:
    cohort = pl.DataFrame({"os_days": [100, 200, 300, 400], "os_event": [1, 0, 1, 0]})
    report = build_report(cohort)
    assert not report.section("compare").available
    assert "'ld_regimen'" in notes(report, "compare")[0]
    for key in ("logistic", "vein_to_vein"):
        assert not report.section(key).available


def severe(cohort: pl.DataFrame, syndrome: str) -> pl.DataFrame:
    grade = pl.col(f"{syndrome}_max_grade")
    return cohort.filter(grade.is_not_null()).with_columns((grade >= 3).cast(pl.Int8).alias("y"))


def test_logistic_odds_ratios_are_those_of_logistic_regression(
    english: Report, report_data: ReportData
) -> None:
    cohort = report_data.cohort
    section = english.section("logistic")
    responded = cohort.with_columns(
        pl.col("best_response")
        .cast(pl.String)
        .is_in(["scr", "cr", "cri", "vgpr", "pr"])
        .fill_null(False)
        .cast(pl.Int8)
        .alias("y")
    )
    for key, data in (
        ("logistic_response", responded),
        ("logistic_crs", severe(cohort, "crs")),
        ("logistic_icans", severe(cohort, "icans")),
    ):
        covariates = section.data[f"{key}_covariates"]["name"].to_list()
        assert covariates[0] == "target_antigen"  # the group, as in the Cox model
        expected = logistic_regression(data, "y", covariates)
        got = section.data[key]
        assert got["odds_ratio"].to_list() == pytest.approx(
            expected.coefficients["odds_ratio"].to_list(), rel=1e-10
        )
        assert got["p"].to_list() == pytest.approx(expected.coefficients["p"].to_list(), rel=1e-8)
    shown = tables(english, "logistic")
    assert [t.caption for t in shown] == [
        "Objective response (PR or better): odds ratios",
        "Severe CRS (grade ≥ 3): odds ratios",
        "Severe ICANS (grade ≥ 3): odds ratios",
    ]
    first = section.data["logistic_crs"].row(1, named=True)  # the first term after Intercept
    assert shown[1].rows[0][1] == (
        f"{first['odds_ratio']:.2f} ({first['odds_ratio_lower']:.2f}–{first['odds_ratio_upper']:.2f})"
    )


def test_a_separated_logistic_model_is_explained_not_raised(report_data: ReportData) -> None:
    """Severe ICANS only with CD19 products: its model cannot be fitted, the others still are."""
    cohort = report_data.cohort.with_columns(
        pl.when(pl.col("target_antigen") == "CD19")
        .then(pl.col("icans_max_grade"))
        .otherwise(pl.col("icans_max_grade").clip(upper_bound=2))
        .alias("icans_max_grade")
    )
    report = build_report(cohort, covariates=["target_antigen"])
    section = report.section("logistic")
    assert section.available
    assert "logistic_icans" not in section.data and "logistic_crs" in section.data
    (note,) = notes(report, "logistic")
    assert note.startswith("Severe ICANS (grade ≥ 3): Not computed:")
    assert "all have Severe ICANS (grade ≥ 3) = 0" in note and "separation" in note
    assert "_severe" not in note  # no internal column name
    chinese = build_report(cohort, covariates=["target_antigen"], lang="zh-hans")
    assert notes(chinese, "logistic")[0].startswith("重度 ICANS（≥3 级）: 未能计算：")


def test_vein_to_vein_is_that_of_vein_to_vein_association(
    english: Report, report_data: ReportData
) -> None:
    cohort = report_data.cohort
    section = english.section("vein_to_vein")
    crude = vein_to_vein_association(cohort, "os_days", "os_event", group="target_antigen")
    assert section.data["distribution"].equals(crude.distribution)
    assert section.data["unadjusted"]["hr"].to_list() == pytest.approx(
        crude.model.coefficients["hr"].to_list(), rel=1e-12
    )
    covariates = section.data["covariates"]["name"].to_list()
    assert "vein_to_vein_days" not in covariates and covariates
    adjusted = vein_to_vein_association(cohort, "os_days", "os_event", adjusted_for=covariates)
    assert section.data["adjusted"]["hr"].to_list() == pytest.approx(
        adjusted.model.coefficients["hr"].to_list(), rel=1e-12
    )
    distribution, hazard = tables(english, "vein_to_vein")
    assert [row[0] for row in distribution.rows] == ["BCMA", "CD19", "Overall"]
    assert hazard.caption == "Hazard ratio of death per 7 days longer vein-to-vein time"
    hr = crude.model.coefficients.row(0, named=True)
    assert hazard.rows[0][3] == f"{hr['hr']:.2f} ({hr['hr_lower']:.2f}–{hr['hr_upper']:.2f})"
    assert hazard.rows[1][0] == "Adjusted"
    assert (
        "The adjusted model also includes: Target antigen, "
        in paragraphs(english, "vein_to_vein")[-1]
    )


def test_vein_to_vein_bad_values_are_explained(report_data: ReportData) -> None:
    cohort = report_data.cohort.with_columns(
        pl.when(pl.col("patient_id") == pl.col("patient_id").min())
        .then(-4)
        .otherwise(pl.col("vein_to_vein_days"))
        .alias("vein_to_vein_days")
    )
    report = build_report(cohort)
    assert not report.section("vein_to_vein").available
    (note,) = notes(report, "vein_to_vein")
    assert "'vein_to_vein_days' has negative vein-to-vein times" in note
    absent = build_report(report_data.cohort.drop("vein_to_vein_days"), lang="zh-hans")
    assert "不可用：数据中没有列 'vein_to_vein_days'" in notes(absent, "vein_to_vein")[0]
