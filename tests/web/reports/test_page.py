"""The Analytics page and its downloads: who sees what, the CSV behind each plot and table,
bad filters, small groups, the cache and the Chinese page."""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import polars as pl
import pytest
from django.conf import settings
from django.test import Client

from carta.analytics.cohort import describe
from carta.analytics.competing import cumulative_incidence, incidence_by_grade
from carta.analytics.regression import cox_regression
from carta.analytics.response import response_rates
from carta.analytics.survival import kaplan_meier
from carta.web.reports.cohort import cohort_for_centers
from tests.web.reports.conftest import Registry

PAGE = "/analytics/"


def _analysed(response: Any) -> int:
    """The number of patients the page says it analysed."""
    found = re.search(r"(\d+) patients? analysed", response.content.decode())
    assert found, "the page does not say how many patients it analysed"
    return int(found.group(1))


def _csv(response: Any) -> pl.DataFrame:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/csv")
    return pl.read_csv(io.BytesIO(response.content), infer_schema_length=0)


def _text(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame as the CSV reader sees it (every cell text)."""
    return pl.read_csv(io.BytesIO(frame.write_csv().encode()), infer_schema_length=0)


def _cohort(registry: Registry, *codes: str) -> pl.DataFrame:
    return cohort_for_centers([registry.centers[code] for code in codes])


# --- who sees what ---------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(registry: Registry) -> None:
    for url in (PAGE, "/analytics/data/os.csv"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(settings.LOGIN_URL)


@pytest.mark.parametrize(
    ("persona", "codes"),
    [
        ("analyst", ("BJ", "SH")),
        ("coordinator", ("BJ",)),
        ("physician", ("BJ",)),
        ("center_admin", ("BJ",)),
        ("shanghai", ("SH",)),
        ("network_admin", ("BJ", "SH", "GZ", "WH", "CD", "HH", "BO")),
    ],
)
def test_each_role_analyses_the_patients_of_its_centers(
    registry: Registry, persona: str, codes: tuple[str, ...]
) -> None:
    response = registry.client(persona).get(PAGE)
    assert response.status_code == 200
    assert _analysed(response) == _cohort(registry, *codes).height
    assert b'class="analytics-plot"' in response.content


def test_a_user_without_centers_sees_no_patients(registry: Registry) -> None:
    response = registry.client("nobody").get(PAGE)
    assert response.status_code == 200
    assert b"No infused patients match this selection." in response.content
    assert registry.client("nobody").get("/analytics/data/cohort.csv").status_code == 409


def test_another_centers_patients_never_reach_the_numbers_or_the_downloads(
    registry: Registry,
) -> None:
    client = registry.client("coordinator")  # Beijing only
    beijing, everyone = _cohort(registry, "BJ"), _cohort(registry, "BJ", "SH")
    # The data are such that adding Shanghai changes the numbers.
    assert everyone.height > beijing.height
    km_beijing = kaplan_meier(beijing, "os_days", "os_event", "target_antigen")
    km_everyone = kaplan_meier(everyone, "os_days", "os_event", "target_antigen")
    assert not km_beijing.table.equals(km_everyone.table)

    assert _analysed(client.get(PAGE)) == beijing.height
    rows = _csv(client.get("/analytics/data/cohort.csv"))
    assert set(rows["center_id"]) == {"BJ"}
    assert sorted(rows["registry_id"]) == sorted(beijing["registry_id"])
    assert _csv(client.get("/analytics/data/os.csv")).equals(_text(km_beijing.table))
    # Asking for the other center by its key is a form error, not its data.
    shanghai = registry.centers["SH"].pk
    assert client.get(PAGE, {"center": shanghai}).status_code == 400
    assert client.get("/analytics/data/cohort.csv", {"center": shanghai}).status_code == 400


def test_the_analyst_can_narrow_to_one_of_the_granted_centers(registry: Registry) -> None:
    client = registry.client("analyst")
    shanghai = registry.centers["SH"]
    response = client.get(PAGE, {"center": shanghai.pk})
    assert _analysed(response) == _cohort(registry, "SH").height
    rows = _csv(client.get("/analytics/data/cohort.csv", {"center": shanghai.pk}))
    assert set(rows["center_id"]) == {"SH"}


# --- the downloads are the frames behind the page ------------------------------------------------


def test_downloads_equal_the_analytics_results(registry: Registry) -> None:
    client = registry.client("analyst")
    cohort = _cohort(registry, "BJ", "SH")
    query = {"group_by": "disease"}

    def get(key: str) -> pl.DataFrame:
        return _csv(client.get(f"/analytics/data/{key}.csv", query))

    assert get("os").equals(_text(kaplan_meier(cohort, "os_days", "os_event", "disease").table))
    assert get("pfs").equals(_text(kaplan_meier(cohort, "pfs_days", "pfs_event", "disease").table))
    assert get("response").equals(_text(response_rates(cohort, "best_response", "disease").table))
    graded = cohort.filter(pl.col("crs_severe_status").is_not_null())
    assert get("crs-incidence").equals(
        _text(cumulative_incidence(graded, "crs_severe_time", "crs_severe_status", "disease").table)
    )
    toxicity = get("toxicity")
    expected = incidence_by_grade(cohort, "icans_max_grade", "disease")
    assert toxicity.filter(pl.col("syndrome") == "ICANS").drop("syndrome").equals(_text(expected))
    timing = get("toxicity-timing").filter(
        (pl.col("syndrome") == "CRS") & (pl.col("measure") == "onset_day")
    )
    affected = cohort.filter(pl.col("crs_max_grade") >= 1)
    expected_onset = describe(affected, "crs_onset_day", "disease")
    assert timing.drop("syndrome", "measure").equals(_text(expected_onset))
    baseline = ["age_at_infusion_years", "sex", "prior_lines"]
    cox = cox_regression(cohort, "os_days", "os_event", baseline)
    ungrouped = _csv(client.get("/analytics/data/cox.csv", {"group_by": "none"}))
    assert ungrouped.equals(_text(cox.coefficients))


def test_a_download_is_named_by_its_data_and_date(registry: Registry) -> None:
    response = registry.client("analyst").get("/analytics/data/os-summary.csv")
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="carta-os-summary-')
    assert re.search(r"\d{4}-\d{2}-\d{2}\.csv\"$", disposition)
    header = response.content.decode().splitlines()[0]
    assert header.startswith("group,n,events,median")


def test_the_patient_download_is_pseudonymised(registry: Registry) -> None:
    from carta.web.registry import services
    from carta.web.registry.models import Patient

    patient = Patient.objects.filter(center=registry.centers["BJ"], infusions__isnull=False)[0]
    services.set_patient_identity(
        actor=registry.users["coordinator"],
        patient=patient,
        full_name="Zhang Wei",
        national_id="110101199003070011",
    )
    for persona in ("analyst", "coordinator"):
        response = registry.client(persona).get("/analytics/data/cohort.csv")
        text = response.content.decode()
        assert "Zhang Wei" not in text and "110101199003070011" not in text
        rows = _csv(response)
        assert "patient_id" not in rows.columns
        assert patient.registry_id in set(rows["registry_id"])


def test_an_unknown_download_is_not_found(registry: Registry) -> None:
    assert registry.client("analyst").get("/analytics/data/passwords.csv").status_code == 404


# --- bad input and small groups -------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        {"group_by": "national_id"},
        {"infused_from": "yesterday"},
        {"infused_from": "2025-05-01", "infused_to": "2024-01-01"},
        {"center": "999999"},
        {"disease": "flu"},
        {"arm_reference": "flu 30 / cy 500"},
        {"arm_reference": "x", "arm_compared": "x"},
    ],
)
def test_bad_filter_values_are_form_errors(registry: Registry, query: dict[str, str]) -> None:
    client = registry.client("analyst")
    response = client.get(PAGE, query)
    assert response.status_code == 400
    assert b'class="errorlist"' in response.content
    assert b"Correct the selection above; nothing was analysed." in response.content
    assert b'class="analytics-plot"' not in response.content
    assert client.get("/analytics/data/os.csv", query).status_code == 400


def test_a_group_too_small_for_an_estimate_shows_the_analytics_message(
    registry: Registry,
) -> None:
    cohort = _cohort(registry, "BJ", "SH")
    day = cohort["infusion_date"][0]
    query = {"infused_from": day.isoformat(), "infused_to": day.isoformat(), "group_by": "none"}
    client = registry.client("analyst")
    response = client.get(PAGE, query)
    assert response.status_code == 200
    assert _analysed(response) == cohort.filter(pl.col("infusion_date") == day).height
    content = response.content.decode()
    assert "Not estimable for this selection:" in content
    assert "has a single value" in content or "fewer than two values" in content
    assert client.get("/analytics/data/compare-balance.csv", query).status_code == 409


def test_arms_that_are_not_in_the_data_are_explained(registry: Registry) -> None:
    response = registry.client("analyst").get(
        PAGE, {"compare_by": "ld_regimen", "arm_reference": "flu 1 / cy 1", "arm_compared": "x"}
    )
    assert response.status_code == 200
    assert "is not a value of &#x27;ld_regimen&#x27;" in response.content.decode()


def test_the_protocol_comparison_runs_on_the_chosen_arms(registry: Registry) -> None:
    cohort = _cohort(registry, "BJ", "SH")
    arms = sorted(set(cohort["ld_regimen"]))[:2]
    query = {"compare_by": "ld_regimen", "arm_reference": arms[0], "arm_compared": arms[1]}
    response = registry.client("analyst").get("/analytics/data/compare-hr.csv", query)
    table = _csv(response)
    assert list(table["model"]) == ["weighted", "unadjusted"]
    assert list(table["term"]) == ["arm", "arm"]


# --- synthetic marking, cache, language ---------------------------------------------------------


def test_synthetic_data_are_marked(registry: Registry) -> None:
    content = registry.client("analyst").get(PAGE).content.decode()
    assert 'class="synthetic-banner"' in content
    assert 'class="badge synthetic"' in content


def test_a_new_record_changes_the_cached_numbers(registry: Registry) -> None:
    from carta.web.registry import services
    from carta.web.registry.models import Product

    client = registry.client("coordinator")
    before = _analysed(client.get(PAGE))
    actor = registry.users["coordinator"]
    patient = services.create_patient(
        actor=actor,
        center=registry.centers["BJ"],
        registry_id="BJ-NEW-1",
        sex="male",
        year_of_birth=1960,
    )
    services.record_infusion(
        actor=actor,
        patient=patient,
        product=Product.objects.get(code="axi-cel"),
        infused_on=date(2025, 3, 1),
        cell_dose_total=2e8,
    )
    assert _analysed(client.get(PAGE)) == before + 1


def test_the_page_and_its_plots_in_chinese(registry: Registry, chinese_catalogue: None) -> None:
    client = registry.client("analyst")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    content = client.get(PAGE).content.decode()
    for heading in ("数据分析", "总生存", "无进展生存", "疗效", "方案比较"):
        assert heading in content
    assert "回输后天数" in content  # the plots' axis label
    assert "Overall survival" not in content


def test_other_arms_recompute_the_comparison_only(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    from carta.web.reports import analyses

    calls: list[str] = []
    for name in ("os", "compare"):
        original = analyses.SECTIONS[name]

        def counted(cohort: Any, options: Any, name: str = name, run: Any = original) -> Any:
            calls.append(name)
            return run(cohort, options)

        monkeypatch.setitem(analyses.SECTIONS, name, counted)
    client = registry.client("analyst")
    arms = sorted(set(_cohort(registry, "BJ", "SH")["ld_regimen"]))[:2]
    client.get(PAGE)
    client.get(PAGE)  # cached
    assert calls == ["os", "compare"]
    client.get(PAGE, {"arm_reference": arms[1], "arm_compared": arms[0]})
    assert calls == ["os", "compare", "compare"]
    client.get(PAGE, {"group_by": "disease"})
    assert calls == ["os", "compare", "compare", "os"]
