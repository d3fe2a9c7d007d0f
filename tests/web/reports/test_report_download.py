"""The Analytics page's "Download report": the outcome report of exactly the page's centers,
filters, grouping and language, as an attachment (HTML, and PDF when Chromium is there)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from carta.analytics.report.pdf import find_chromium
from carta.web.reports import views
from carta.web.reports.cohort import cohort_for_centers
from tests.web.reports.conftest import Registry

PAGE = "/analytics/"
REPORT = "/analytics/report.html"
PATIENTS_FACT = re.compile(r"<dt>(?:Patients|患者数)</dt><dd>(\d+)</dd>")
FACT = r"<dt>{name}</dt><dd>([^<]*)</dd>"


def _report(response: Any) -> str:
    assert response.status_code == 200, response.content[:500]
    assert response["Content-Type"].startswith("text/html")
    name = f"carta-report-{timezone.localdate().isoformat()}.html"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    return str(response.content.decode())


def _patients(html: str) -> int:
    found = PATIENTS_FACT.search(html)
    assert found, "the report does not say how many patients it has"
    return int(found.group(1))


def _fact(html: str, name: str) -> str:
    found = re.search(FACT.format(name=name), html)
    assert found, f"no {name!r} in the title block"
    return found.group(1)


def _registry_ids(registry: Registry, code: str) -> list[str]:
    return list(cohort_for_centers([registry.centers[code]])["registry_id"])


def test_anonymous_visitors_are_sent_to_sign_in(registry: Registry) -> None:
    response = Client().get(REPORT)
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
        ("network_admin", ("BJ", "BO", "CD", "GZ", "HH", "SH", "WH")),
    ],
)
def test_each_role_gets_the_report_of_its_centers(
    registry: Registry, persona: str, codes: tuple[str, ...]
) -> None:
    html = _report(registry.client(persona).get(REPORT))
    expected = cohort_for_centers([registry.centers[code] for code in codes])
    assert _patients(html) == expected.height
    assert _fact(html, "Data source") == f"carta registry ({', '.join(sorted(codes))})"
    assert 'class="banner"' in html  # the loaded network is synthetic
    # The baseline risk scores from the registry's labs, not "not available".
    assert "daily assessments of the first infusion before lymphodepletion" in html
    assert "Not available" not in html.split('id="baseline_risk"')[1].split("<section")[0]


def test_a_user_without_centers_gets_no_report(registry: Registry) -> None:
    response = registry.client("nobody").get(REPORT)
    assert response.status_code == 409
    assert b"No infused patients match this selection." in response.content


def test_another_centers_patients_never_reach_the_report(registry: Registry) -> None:
    beijing, shanghai = _registry_ids(registry, "BJ"), _registry_ids(registry, "SH")
    assert beijing and shanghai  # the data are such that Shanghai would change the numbers
    html = _report(registry.client("coordinator").get(REPORT, {"group_by": "center_id"}))
    assert _patients(html) == len(beijing)
    assert not any(registry_id in html for registry_id in shanghai)
    assert ">SH<" not in html  # no Shanghai group in any table
    # Asking for the other center is a form error, not its data.
    response = registry.client("coordinator").get(REPORT, {"center": registry.centers["SH"].pk})
    assert response.status_code == 400


def test_the_report_follows_the_page_filters_and_grouping(registry: Registry) -> None:
    shanghai = registry.centers["SH"]
    query = {"center": shanghai.pk, "group_by": "product_code"}
    page = registry.client("analyst").get(PAGE, query).content.decode()
    # The page links the report with its own query.
    assert f'href="{REPORT}?center={shanghai.pk}&amp;group_by=product_code"' in page
    html = _report(registry.client("analyst").get(REPORT, query))
    assert _patients(html) == len(_registry_ids(registry, "SH"))
    assert _fact(html, "Cohort filters") == "center_id = SH"
    assert _fact(html, "Grouped by") == "Product (product_code)"

    ungrouped = _report(registry.client("analyst").get(REPORT, {"group_by": "none"}))
    assert _fact(ungrouped, "Grouped by") == "not grouped"
    assert _patients(ungrouped) == len(_registry_ids(registry, "BJ")) + len(
        _registry_ids(registry, "SH")
    )


def test_infusion_dates_narrow_the_report_and_are_stated(registry: Registry) -> None:
    cohort = cohort_for_centers([registry.centers["BJ"], registry.centers["SH"]])
    middle = sorted(cohort["infusion_date"])[cohort.height // 2]
    query = {"infused_from": middle.isoformat()}
    html = _report(registry.client("analyst").get(REPORT, query))
    expected = cohort.filter(cohort["infusion_date"] >= middle).height
    assert 0 < _patients(html) == expected < cohort.height
    assert f"infused {middle.isoformat()} to …" in _fact(html, "Data source")


def test_bad_filters_and_formats(registry: Registry) -> None:
    client = registry.client("analyst")
    response = client.get(REPORT, {"infused_from": "not a date"})
    assert response.status_code == 400
    assert b"infused_from" in response.content
    assert client.get("/analytics/report.docx").status_code == 404


def test_the_report_in_chinese(registry: Registry, chinese_catalogue: None) -> None:
    client = registry.client("coordinator")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    page = client.get(PAGE).content.decode()
    assert "下载报告" in page  # the link, translated
    html = _report(client.get(REPORT))
    for heading in ("基线特征", "总生存", "方法"):
        assert heading in html
    assert "Baseline characteristics" not in html
    assert _patients(html) == len(_registry_ids(registry, "BJ"))


def test_the_pdf_link_only_with_chromium(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = registry.client("coordinator")
    monkeypatch.setattr(views, "find_chromium", lambda: None)
    page = client.get(PAGE).content.decode()
    assert 'id="report-html"' in page and 'id="report-pdf"' not in page
    monkeypatch.setattr(views, "find_chromium", lambda: "/usr/bin/chromium")
    assert 'id="report-pdf"' in client.get(PAGE).content.decode()


@pytest.mark.skipif(find_chromium() is None, reason="no Chromium to print with")
def test_the_pdf_report(registry: Registry) -> None:
    response = registry.client("shanghai").get("/analytics/report.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    name = f"carta-report-{timezone.localdate().isoformat()}.pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{name}"'
    assert response.content.startswith(b"%PDF") and len(response.content) > 10_000
