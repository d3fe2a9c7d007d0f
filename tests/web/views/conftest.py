"""Fixtures of the page tests: signed-in clients per persona, a patient with a graded course,
and the compiled Chinese catalogue."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.web.conftest import Network

LOCALE = Path(__file__).resolve().parents[3] / "src/carta/web/locale/zh_Hans/LC_MESSAGES"

AFEBRILE = {
    "temperature_c": 36.8,
    "fever_attributable_to_other_cause": False,
    "hypotension": "none",
    "vasopressors": [],
    "hypotension_attributable_to_other_cause": False,
    "oxygen_device": "none",
    "hypoxia_attributable_to_other_cause": False,
    "died_due_to_crs": False,
}
ALERT = {
    "tool": "ICE",
    "ice_score": 10,
    "developmental_delay": False,
    "consciousness": "alert",
    "consciousness_attributable_to_other_cause": False,
    "seizure": "none",
    "motor": "none",
    "icp_edema": "none",
    "died_due_to_icans": False,
}
BASELINE_LABS = {
    "anc_per_ul": 1000.0,  # < 1200: 1 point
    "platelets_per_ul": 150_000.0,  # 75 000-175 000: 1 point
    "hemoglobin_g_dl": 10.0,
    "crp_mg_dl": 1.0,
    "ferritin_ng_ml": 500.0,
    "ldh_u_l": 250.0,
    "creatinine_mg_dl": 1.0,
}


def compile_catalogue() -> None:
    """Build ``django.mo`` from the committed ``django.po`` when missing or older (CI builds it
    too); atomic, so a parallel run never reads half a file."""
    source, target = LOCALE / "django.po", LOCALE / "django.mo"
    if target.exists() and target.stat().st_mtime >= source.stat().st_mtime:
        return
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.fail("GNU gettext's msgfmt is needed to compile the Chinese catalogue")
    handle, temporary = tempfile.mkstemp(dir=LOCALE, suffix=".mo")
    os.close(handle)
    subprocess.run([msgfmt, "--check", "-o", temporary, str(source)], check=True)
    os.replace(temporary, target)


@pytest.fixture(scope="session")
def chinese_catalogue() -> None:
    """The compiled catalogue, with Django's translation cache emptied so it is read."""
    compile_catalogue()
    from django.utils.translation import trans_real

    trans_real._translations = {}


@pytest.fixture
def client_for(network: Network) -> Callable[[str], Client]:
    """A test client signed in as one of the personas (``"coordinator"`` ...)."""

    def make(persona: str) -> Client:
        client = Client()
        client.force_login(getattr(network, persona))
        return client

    return make


def record_day(network: Network, patient: Any, day: int, **observations: Any) -> Any:
    """Record one day through the service as the Beijing coordinator."""
    from carta.web.registry import services

    values = {**AFEBRILE, **ALERT, **observations}
    return services.record_daily_assessment(
        actor=network.coordinator, patient=patient, day=day, **values
    )


@pytest.fixture
def graded_patient(network: Network, infused_patient: Any) -> Any:
    """The infused Beijing patient with baseline labs, lymphodepletion, a CRS episode (with
    one day where the recorded grade differs), a tocilizumab dose, a response and the day-28
    visit."""
    from carta.web.registry import services

    patient = infused_patient
    actor = network.coordinator
    services.set_patient_identity(actor=actor, patient=patient, full_name="Wang Fang")
    services.record_lymphodepletion(
        actor=actor, patient=patient, regimen="flu_cy", first_day=-5, last_day=-3
    )
    record_day(network, patient, -6, **BASELINE_LABS)
    record_day(network, patient, 0, recorded_crs_grade=0)
    record_day(network, patient, 1, temperature_c=39.1, recorded_crs_grade=1)
    record_day(
        network,
        patient,
        2,
        temperature_c=39.4,
        hypotension="present",
        vasopressors=["norepinephrine"],
        recorded_crs_grade=2,  # computed: 3
    )
    infusion = patient.infusions.get()
    services.record_toxicity_treatment(
        actor=actor, patient=patient, infusion=infusion, day=2, agent="tocilizumab"
    )
    services.record_response(
        actor=actor,
        patient=patient,
        infusion=infusion,
        assessed_on=date(2025, 2, 7),
        criteria="lugano_2014",
        category="cr",
    )
    services.record_follow_up_visit(
        actor=actor, patient=patient, infusion=infusion, visit="day_28", done_on=date(2025, 2, 7)
    )
    return patient


@pytest.fixture
def shanghai_patient(network: Network, make_patient: Callable[..., Any]) -> Any:
    """A patient of the other center."""
    return make_patient(
        actor=network.other_coordinator, center=network.shanghai, registry_id="SH-0001"
    )
