"""The registry in a real browser: what a coordinator does on a working day, as the issue's
browser scenarios list it (sign in, register a patient, record an infusion, enter a daily
assessment and watch the grade appear with its reason, switch to Chinese, sign out) and the
cross-center denial a person would meet (another center's patient is "Not found").

Every step waits for an element (Playwright's ``expect`` retries until its timeout), never
for a fixed time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.web.browser.conftest import keep_screenshot
from tests.web.conftest import Network

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

HYPOTENSION_ON_ONE_VASOPRESSOR = (
    "Hypotension requiring one vasopressor, with or without vasopressin (grade 3)."
)
ICE_3_TO_6 = "ICE score 3-6 (grade 2)."
ICE_3_TO_6_ZH = "ICE 评分 3–6（2 级）。"


def _register_patient(page: Any) -> None:
    page.get_by_role("link", name="Register a patient").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Register a patient")
    page.locator("#id_registry_id").fill("BJ-0777")
    page.locator("#id_sex").select_option("female")
    page.locator("#id_year_of_birth").fill("1968")
    page.locator("#id_weight_kg").fill("61.5")
    page.locator("#id_height_cm").fill("160")
    keep_screenshot(page, "patient-form-en")
    page.get_by_role("button", name="Register").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("BJ-0777")


def _record_infusion(page: Any, network: Network) -> None:
    page.get_by_role("link", name="Infusion", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Record:")
    page.locator("#id_product").select_option(str(network.product.pk))
    page.locator("#id_infused_on").fill("2025-01-10")
    page.locator("#id_cell_dose_total").fill("1.5e8")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("BJ-0777")
    expect(page.get_by_role("status")).to_be_visible()  # the "saved" message


def _observe_crs(page: Any) -> None:
    """Day 2: 39.2 °C, hypotension on norepinephrine, 3 L/min by nasal cannula."""
    page.locator("#id_fever_attributable_to_other_cause").select_option("false")
    page.locator("#id_hypotension").select_option("present")
    page.locator("input[name=vasopressors][value=norepinephrine]").check()
    page.locator("#id_hypotension_attributable_to_other_cause").select_option("false")
    page.locator("#id_oxygen_device").select_option("nasal_cannula")
    page.locator("#id_oxygen_flow_l_min").fill("3")
    page.locator("#id_hypoxia_attributable_to_other_cause").select_option("false")


def _observe_icans(page: Any) -> None:
    """ICE 6 and awakens to voice; no seizure, motor finding or edema."""
    page.locator("#id_tool").select_option("ICE")
    page.locator("#id_developmental_delay").select_option("false")
    page.locator("#id_ice_score").fill("6")
    page.locator("#id_consciousness").select_option("awakens_to_voice")
    page.locator("#id_consciousness_attributable_to_other_cause").select_option("false")
    for name in ("seizure", "motor", "icp_edema"):
        page.locator(f"#id_{name}").select_option("none")


def test_a_coordinator_records_a_journey_and_sees_the_grade_as_they_type(
    network: Network, sign_in: Callable[[str], Any]
) -> None:
    page = sign_in("coordinator")
    _register_patient(page)
    _record_infusion(page, network)

    page.get_by_role("link", name="Daily assessment").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Daily assessment")
    preview = page.locator("#grade-preview")
    crs = preview.locator("[data-syndrome=crs]")
    icans = preview.locator("[data-syndrome=icans]")
    page.locator("#id_day").fill("2")
    page.locator("#id_temperature_c").fill("39.2")
    # Fever alone: the preview asks for what is missing before it can grade.
    expect(crs).to_contain_text("Needed to grade")
    _observe_crs(page)
    expect(crs.locator(".grade")).to_have_text("Grade 3")
    expect(crs).to_contain_text(HYPOTENSION_ON_ONE_VASOPRESSOR)
    expect(crs).to_contain_text("ASTCT CRS 2019")
    _observe_icans(page)
    expect(icans.locator(".grade")).to_have_text("Grade 2")
    expect(icans).to_contain_text(ICE_3_TO_6)
    # An impossible value is named in the preview as it is typed (the form's own range check).
    page.locator("#id_temperature_c").fill("55")
    expect(preview.locator(".notice.warn")).to_contain_text(re.compile("temperature", re.I))
    page.locator("#id_temperature_c").fill("39.2")
    expect(crs.locator(".grade")).to_have_text("Grade 3")

    page.get_by_role("button", name="Save the day").click()
    expect(page.get_by_role("status")).to_contain_text("Day 2 saved")
    days = page.locator("table.days")
    expect(days).to_contain_text("Grade 3")
    expect(days).to_contain_text("Grade 2")
    expect(days).to_contain_text(HYPOTENSION_ON_ONE_VASOPRESSOR)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    page.goto("/patients/")  # the session is gone: back to the sign-in page
    expect(page).to_have_url(re.compile(r"/accounts/login/"))


@pytest.fixture
def graded_patient(network: Network, infused_patient: Any) -> Any:
    """The infused Beijing patient with day 2 recorded (CRS 3, ICANS 2) through the service."""
    from carta.web.registry import services

    services.record_daily_assessment(
        actor=network.coordinator,
        patient=infused_patient,
        day=2,
        infusion=infused_patient.infusions.get(),
        temperature_c=39.2,
        fever_attributable_to_other_cause=False,
        hypotension="present",
        vasopressors=["norepinephrine"],
        hypotension_attributable_to_other_cause=False,
        oxygen_device="nasal_cannula",
        oxygen_flow_l_min=3.0,
        hypoxia_attributable_to_other_cause=False,
        tool="ICE",
        developmental_delay=False,
        ice_score=6,
        consciousness="awakens_to_voice",
        consciousness_attributable_to_other_cause=False,
        seizure="none",
        motor="none",
        icp_edema="none",
    )
    assert infused_patient.infusions.get().infused_on == date(2025, 1, 10)
    return infused_patient


def test_switching_to_chinese_translates_labels_and_grade_reasons(
    graded_patient: Any, sign_in: Callable[[str], Any]
) -> None:
    page = sign_in("coordinator")
    page.goto(f"/patients/{graded_patient.pk}/")
    expect(page.locator("table.days")).to_contain_text(ICE_3_TO_6)

    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="CRS 与 ICANS 每日分级")).to_be_visible()
    days = page.locator("table.days")
    expect(days).to_contain_text("3 级")
    expect(days).to_contain_text(ICE_3_TO_6_ZH)
    expect(page.get_by_role("button", name="退出登录")).to_be_visible()

    # The choice holds on the next page, and the live preview speaks Chinese too.
    page.get_by_role("link", name="每日评估").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("每日评估")
    page.locator("#id_day").fill("3")
    page.locator("#id_temperature_c").fill("39.2")
    _observe_crs(page)
    _observe_icans(page)
    preview = page.locator("#grade-preview")
    expect(preview.locator("[data-syndrome=icans] .grade")).to_have_text("2 级")
    expect(preview).to_contain_text(ICE_3_TO_6_ZH)

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Daily assessment")


def test_another_centers_patient_is_not_found_in_the_browser(
    infused_patient: Any, sign_in: Callable[[str], Any]
) -> None:
    page = sign_in("other_coordinator")
    expect(page.get_by_role("cell", name=infused_patient.registry_id)).to_have_count(0)
    for path in (
        f"/patients/{infused_patient.pk}/",
        f"/patients/{infused_patient.pk}/assessments/new/",
        f"/patients/{infused_patient.pk}/infusion/new/",
    ):
        response = page.goto(path)
        assert response is not None
        assert response.status == 404, path
        expect(page.get_by_role("heading", level=1)).to_have_text("Not found")
        expect(page.get_by_role("main")).not_to_contain_text(infused_patient.registry_id)
    keep_screenshot(page, "not-found-en")
