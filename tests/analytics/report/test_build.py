"""``build_report`` on a small carta.synth export: every section present, its numbers equal to
the analyses it reports, absent inputs said, the HTML self-contained, in both languages."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from carta.analytics.cohort import CohortError
from carta.analytics.competing import cumulative_incidence
from carta.analytics.report import (
    Note,
    Paragraph,
    Report,
    ReportData,
    Table,
    build_report,
    figures,
    read_report_data,
    render_html,
)
from carta.analytics.report.common import default_covariates
from carta.analytics.report.figures import DAYS_PER_MONTH
from carta.analytics.response import response_rates
from carta.analytics.rules import easix
from carta.analytics.survival import kaplan_meier

SECTIONS = [
    "cohort",
    "baseline_risk",
    "response",
    "survival",
    "incidence",
    "toxicity",
    "swimmer",
    "forest",
    "compare",
    "logistic",
    "vein_to_vein",
    "methods",
]


def cells(table: Table) -> set[str]:
    return {cell for row in table.rows for cell in row}


def text_of(block: object) -> str:
    assert isinstance(block, Paragraph | Note)
    return block.text


def tables(section_blocks: tuple[object, ...]) -> list[Table]:
    return [block for block in section_blocks if isinstance(block, Table)]


@pytest.fixture(scope="module")
def english(report_data: ReportData) -> Report:
    return build_report(
        report_data.cohort,
        group="target_antigen",
        synthetic=report_data.synthetic,
        baseline_first_day=report_data.baseline_first_day,
        source="export/",
    )


def test_every_section_is_present_and_computed(english: Report) -> None:
    assert [section.key for section in english.sections] == SECTIONS
    assert all(section.available for section in english.sections)
    assert english.synthetic
    html = render_html(english)
    assert "SYNTHETIC DATA" in html
    # OS, PFS, CRS, ICANS, swimmer, forest, weighted OS of the comparison, vein-to-vein
    assert html.count("<figure>") == 8


def test_response_rates_are_those_of_response_rates(
    english: Report, report_data: ReportData
) -> None:
    expected = response_rates(report_data.cohort, "best_response", "target_antigen")
    section = english.section("response")
    assert section.data["rates"].equals(expected.table)
    shown = cells(tables(section.blocks)[0])
    for row in expected.table.iter_rows(named=True):
        assert f"{row['orr_n']:,} ({100 * row['orr_rate']:.1f})" in shown
        assert f"{100 * row['orr_lower']:.1f}–{100 * row['orr_upper']:.1f}" in shown


def test_survival_medians_are_those_of_kaplan_meier(
    english: Report, report_data: ReportData
) -> None:
    months = report_data.cohort.with_columns(
        (pl.col("os_days").cast(pl.Float64) / DAYS_PER_MONTH).alias("months")
    )
    expected = kaplan_meier(months, "months", "os_event", "target_antigen").summary
    reported = english.section("survival").data["os"]
    assert reported["median"].to_list() == expected["median"].to_list()
    assert reported["events"].to_list() == expected["events"].to_list()
    shown = cells(tables(english.section("survival").blocks)[0])
    for median in expected["median"].to_list():
        if median is not None:
            assert any(cell.startswith(f"{median:.1f} (") for cell in shown)


def test_incidence_is_that_of_cumulative_incidence(
    english: Report, report_data: ReportData
) -> None:
    graded = report_data.cohort.filter(pl.col("crs_severe_status").is_not_null())
    expected = cumulative_incidence(
        graded, "crs_severe_time", "crs_severe_status", "target_antigen"
    )
    assert english.section("incidence").data["crs"].equals(expected.summary)


def test_korell_flag_counts_follow_the_easix_rule(english: Report, report_data: ReportData) -> None:
    cohort = report_data.cohort
    labs = pl.DataFrame(
        {
            name: cohort[f"baseline_{name}"]
            for name in ("ldh_U_L", "creatinine_mg_dL", "platelets_per_uL")
        }
    )
    flags = easix.grade_frame(labs)["above_korell_4_67"]
    scores = english.section("baseline_risk").data["scores"]
    assert int(scores["korell"].sum()) == int(flags.sum())
    assert scores["easix_status"].to_list() == easix.grade_frame(labs)["status"].to_list()
    total = int(flags.sum())
    ok = int(flags.is_not_null().sum())
    assert f"{total:,} ({100 * total / ok:.1f})" in cells(
        tables(english.section("baseline_risk").blocks)[0]
    )


def test_html_is_self_contained(english: Report) -> None:
    html = render_html(english)
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    assert "<script" not in html and "<link" not in html and "@import" not in html
    sources = re.findall(r'src="([^"]*)"', html)
    assert sources and all(source.startswith("data:image/svg+xml;base64,") for source in sources)


def test_chinese_report(report_data: ReportData) -> None:
    report = build_report(report_data.cohort, group="sex", lang="zh-hans", synthetic=True)
    html = render_html(report)
    assert '<html lang="zh-Hans">' in html
    for heading in ("基线特征", "疗效", "总生存与无进展生存", "泳道图", "方法", "合成数据"):
        assert heading in html
    # Data words in Chinese: the sex groups head the columns.
    assert "女 (n=" in html and "男 (n=" in html


def test_filters_are_applied_and_stated(report_data: ReportData) -> None:
    report = build_report(report_data.cohort, filters={"disease": ("lbcl",)})
    expected = int((report_data.cohort["disease"].cast(pl.String) == "lbcl").sum())
    facts = dict(report.facts)
    assert facts["Patients"] == f"{expected:,}"
    assert facts["Cohort filters"] == "disease = lbcl"


def test_bad_filter_is_refused(report_data: ReportData) -> None:
    with pytest.raises(CohortError, match="did you mean 'disease'"):
        build_report(report_data.cohort, filters={"diseases": ("lbcl",)})


def test_missing_inputs_say_so() -> None:
    cohort = pl.DataFrame(
        {
            "patient_id": [1, 2, 3, 4],
            "os_days": [100, 200, 300, 400],
            "os_event": [1, 0, 1, 0],
            "sex": ["female", "male", "female", "male"],
        }
    )
    report = build_report(cohort)
    for key in ("baseline_risk", "response", "incidence", "toxicity"):
        section = report.section(key)
        assert not section.available, key
        assert all(isinstance(block, Note) for block in section.blocks)
    assert "best_response" in text_of(report.section("response").blocks[0])
    assert "Not available" in text_of(report.section("baseline_risk").blocks[0])
    assert report.section("survival").available
    assert not report.synthetic


def test_a_group_without_events_is_reported_not_raised() -> None:
    cohort = pl.DataFrame(
        {
            "os_days": [100, 200, 300, 400, 150, 250],
            "os_event": [1, 1, 0, 0, 0, 0],
            "arm": ["a", "a", "a", "b", "b", "b"],
        }
    )
    report = build_report(cohort, group="arm", covariates=["arm"])
    survival = report.section("survival")
    notes = [block.text for block in survival.blocks if isinstance(block, Note)]
    assert any("b" in note and "median not reached" in note for note in notes)
    # The Cox model cannot estimate a level without events: said in the section.
    forest = report.section("forest")
    assert not forest.available
    assert "Not computed" in text_of(forest.blocks[0])


def test_swimmer_samples_a_large_cohort(english: Report, report_data: ReportData) -> None:
    section = english.section("swimmer")
    assert section.data["patients"].height == figures.SWIMMER_LIMIT
    assert f"of the {report_data.cohort.height:,} patients" in text_of(section.blocks[0])


def test_default_covariates_leave_out_nested_columns(report_data: ReportData) -> None:
    chosen = default_covariates(report_data.cohort, "target_antigen")
    assert chosen[0] == "target_antigen"
    assert "disease" not in chosen  # myeloma <=> BCMA: collinear with the group
    assert "disease" in default_covariates(report_data.cohort, None)


def test_the_forest_section_says_what_the_default_left_out(english: Report) -> None:
    forest = english.section("forest")
    assert forest.data["covariates"]["name"].to_list()[0] == "target_antigen"
    notes = [block.text for block in forest.blocks if isinstance(block, Note)]
    assert any("Left out of the default model" in note and "(disease)" in note for note in notes)


def test_no_cjk_font_warns_once(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], report_data: ReportData
) -> None:
    monkeypatch.setattr(figures, "cjk_font", lambda: None)
    monkeypatch.setattr(figures, "_warned", [])
    small = report_data.cohort.head(30)
    build_report(small, lang="zh-hans")
    err = capsys.readouterr().err
    assert err.count("no Chinese (CJK) font") == 1


def test_a_csv_cohort_gives_the_same_numbers(
    tmp_path: Path, english: Report, report_data: ReportData
) -> None:
    # CSV cells are text until used: the report types the number columns it computes with.
    path = tmp_path / "cohort.csv"
    report_data.cohort.write_csv(path)
    from_csv = read_report_data(path)
    report = build_report(from_csv.cohort, group="target_antigen", source="export/")

    def numbers(built: Report) -> list[str]:
        return sorted(
            cell
            for section in built.sections
            for block in section.blocks
            if isinstance(block, Table)
            for row in block.rows
            for cell in row
        )

    assert numbers(report) == numbers(english)


def test_text_in_a_number_column_is_refused(report_data: ReportData) -> None:
    cohort = report_data.cohort.with_columns(pl.col("os_days").cast(pl.String))
    cohort = cohort.with_columns(
        pl.when(pl.int_range(pl.len()) == 2)
        .then(pl.lit("soon"))
        .otherwise(pl.col("os_days"))
        .alias("os_days")
    )
    with pytest.raises(CohortError, match=r"'os_days'.*row 3: 'soon'"):
        build_report(cohort)
