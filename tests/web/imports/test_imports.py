"""Bulk import: typing the cells, the dry run that reports every bad row, the all-or-nothing
commit through the services (with audit), permissions, and the pages."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from carta.web.audit.models import AuditEvent
from carta.web.imports import importer, tables
from carta.web.registry.models import DailyAssessment, Infusion, Patient
from tests.web.conftest import Network

PATIENTS_CSV = (
    "registry_id,sex,year_of_birth,weight_kg,height_cm\n"
    "BJ-0101,female,1961,64.5,160\n"
    "BJ-0102,male,1975,80,178\n"
)
INFUSIONS_CSV = "registry_id,product,infused_on,cell_dose_total\nBJ-0101,axi-cel,2025-03-01,1.5e8\n"
DAYS_HEADER = (
    "registry_id,day,temperature_c,hypotension,vasopressors,oxygen_device,oxygen_flow_l_min,"
    "tool,ice_score,consciousness,seizure,motor,icp_edema,fever_attributable_to_other_cause,"
    "hypotension_attributable_to_other_cause,hypoxia_attributable_to_other_cause,"
    "died_due_to_crs,consciousness_attributable_to_other_cause,died_due_to_icans\n"
)
OTHERWISE_CALM = "false,false,false,false,false,false"
# Day 1: fever only (CRS 1); day 2: fever, one vasopressor, nasal cannula (CRS 3).
DAYS_ROWS = (
    f"BJ-0101,1,38.6,none,none,none,,ICE,10,alert,none,none,none,{OTHERWISE_CALM}\n"
    "BJ-0101,2,39.1,present,norepinephrine,nasal_cannula,4,ICE,10,alert,none,none,none,"
    f"{OTHERWISE_CALM}\n"
)


def _csv(kind: str, text: str) -> tables.Upload:
    return tables.read_upload(f"{kind}.csv", text.encode(), kind)


def _workbook(sheets: dict[str, str]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for title, text in sheets.items():
        sheet = book.create_sheet(title)
        for line in text.strip().splitlines():
            sheet.append([cell if cell != "" else None for cell in line.split(",")])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _run(network: Network, upload: tables.Upload, *, commit: bool, actor: Any = None) -> Any:
    return importer.run_import(
        actor=actor or network.coordinator,
        center=network.beijing,
        upload=upload,
        file_name="export.xlsx",
        commit=commit,
    )


# --- typing ---------------------------------------------------------------------------------


def test_every_bad_cell_is_reported_with_row_column_value_and_expectation(db: None) -> None:
    text = (
        "registry_id,sex,year_of_birth,weight_kg\n"
        "BJ-1,female,1961,64\n"
        "BJ-2,dog,19x1,heavy\n"
        ",male,1970,70\n"
    )
    upload = _csv(tables.PATIENTS, text)
    found = {(p.row, p.column, p.value) for p in upload.problems}
    assert found == {
        (3, "sex", "dog"),
        (3, "year_of_birth", "19x1"),
        (3, "weight_kg", "heavy"),
        (4, "registry_id", None),
    }
    expected = {p.column: p.expected for p in upload.problems}
    assert "female" in expected["sex"] and "male" in expected["sex"]
    assert expected["weight_kg"] == "expected a number"
    assert len(upload.sheets[tables.PATIENTS].rows) == 1  # only the good row goes further


def test_a_missing_required_column_is_a_sheet_problem(db: None) -> None:
    upload = _csv(tables.ASSESSMENTS, "registry_id,temperature_c\nBJ-1,38\n")
    assert [(p.row, p.column) for p in upload.problems] == [(None, "day")]


def test_cells_take_carta_spellings() -> None:
    column = tables.Column("vasopressors", DailyAssessment)
    assert tables.convert(column, "norepinephrine; vasopressin") == [
        "norepinephrine",
        "vasopressin",
    ]
    assert tables.convert(column, "none") == []
    assert tables.convert(column, " ") is None
    flag = tables.Column("fever_attributable_to_other_cause", DailyAssessment)
    assert [tables.convert(flag, word) for word in ("yes", "FALSE", "1", True)] == [
        True,
        False,
        True,
        True,
    ]
    with pytest.raises(ValueError, match="true or false"):
        tables.convert(flag, "maybe")
    with pytest.raises(ValueError, match="whole number"):
        tables.convert(tables.Column("day", DailyAssessment), "2.5")


def test_a_file_that_is_neither_csv_nor_xlsx_is_refused(db: None) -> None:
    assert tables.read_upload("export.xls", b"junk", None).problems
    assert tables.read_upload("export.xlsx", b"not a zip", None).problems


# --- dry run and commit ---------------------------------------------------------------------


def test_dry_run_reports_service_errors_and_saves_nothing(network: Network) -> None:
    upload = tables.read_upload(
        "export.xlsx",
        _workbook(
            {
                "patients": PATIENTS_CSV,
                "infusions": INFUSIONS_CSV + "BJ-0999,axi-cel,2025-03-01,\n"
                "BJ-0102,no-such-cel,2025-03-01,\n",
                "daily_assessments": DAYS_HEADER + DAYS_ROWS + DAYS_ROWS.splitlines()[0] + "\n"
                f"BJ-0101,99999,37,none,none,none,,ICE,10,alert,none,none,none,{OTHERWISE_CALM}\n",
            }
        ),
        None,
    )
    assert not upload.problems
    before = (Patient.objects.count(), AuditEvent.objects.count())
    report = _run(network, upload, commit=False)
    assert not report.committed
    problems = {(p.sheet, p.row, p.column) for p in report.problems}
    assert ("infusions", 3, "registry_id") in problems  # unknown patient
    assert ("infusions", 4, "product") in problems  # unknown product code
    assert ("daily assessments", 4, "day") in problems  # the same day twice in the file
    assert ("daily assessments", 5, "day") in problems  # day out of range (the service says)
    assert report.created == {"patients": 2, "infusions": 1, "daily_assessments": 2}
    # The dry run shows the grades the days would get, computed by the service.
    assert [(g["day"], g["crs_grade"]) for g in report.grades[:2]] == [(1, 1), (2, 3)]
    assert (Patient.objects.count(), AuditEvent.objects.count()) == before


def test_commit_is_all_or_nothing(network: Network) -> None:
    good = _workbook(
        {
            "patients": PATIENTS_CSV,
            "infusions": INFUSIONS_CSV,
            "daily_assessments": DAYS_HEADER + DAYS_ROWS,
        }
    )
    bad = _workbook(
        {
            "patients": PATIENTS_CSV,
            "infusions": INFUSIONS_CSV,
            "daily_assessments": DAYS_HEADER
            + DAYS_ROWS
            + f"BJ-0102,1,38,none,none,none,,ICE,10,alert,none,none,none,{OTHERWISE_CALM}\n",
        }
    )
    refused = _run(network, tables.read_upload("x.xlsx", bad, None), commit=True)
    assert not refused.committed and refused.problems  # BJ-0102 has no infusion
    assert not Patient.objects.filter(registry_id__startswith="BJ-01").exists()

    done = _run(network, tables.read_upload("x.xlsx", good, None), commit=True)
    assert done.committed and done.ok
    patient = Patient.objects.get(center=network.beijing, registry_id="BJ-0101")
    assert Infusion.objects.get(patient=patient).cell_dose_total == 1.5e8
    days = DailyAssessment.objects.filter(patient=patient).order_by("day")
    assert [(d.day, d.crs_grade, d.crs_status) for d in days] == [(1, 1, "ok"), (2, 3, "ok")]
    assert days[1].vasopressors == ["norepinephrine"]
    # Audited by the services, with the acting user and the file as the reason.
    event = AuditEvent.objects.get(
        target_type="registry.infusion", target_id=str(patient.infusions.get().pk)
    )
    assert event.actor == network.coordinator and "export.xlsx" in event.reason
    assert AuditEvent.objects.filter(target_type="registry.dailyassessment").count() == 2


def test_only_coordinators_physicians_and_center_admins_of_the_center_import(
    network: Network,
) -> None:
    assert [c.code for c in importer.importable_centers(network.coordinator)] == ["BJ01"]
    assert [c.code for c in importer.importable_centers(network.other_coordinator)] == ["SH01"]
    for persona in (network.analyst, network.nobody, network.network_admin):
        assert importer.importable_centers(persona) == []
    with pytest.raises(PermissionDenied):
        _run(
            network,
            _csv(tables.PATIENTS, PATIENTS_CSV),
            commit=True,
            actor=network.other_coordinator,
        )
    assert not Patient.objects.exists()


# --- pages ----------------------------------------------------------------------------------


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_upload_preview_and_commit_pages(network: Network) -> None:
    client = _client(network.coordinator)
    page = client.get(reverse("imports:upload"))
    assert page.status_code == 200 and b"daily_assessments" in page.content
    content = _workbook({"patients": PATIENTS_CSV, "infusions": INFUSIONS_CSV})
    upload = io.BytesIO(content)
    upload.name = "export.xlsx"
    preview = client.post(reverse("imports:upload"), {"file": upload, "center": network.beijing.pk})
    assert preview.status_code == 200
    assert not Patient.objects.exists()  # a preview saves nothing
    token = preview.context["token"]
    done = client.post(reverse("imports:commit"), {"token": token})
    assert done.status_code == 302
    assert Patient.objects.filter(center=network.beijing).count() == 2
    again = client.post(reverse("imports:commit"), {"token": token})  # not pending any more
    assert again.status_code == 302 and Patient.objects.count() == 2


def test_a_bad_file_shows_every_problem_and_no_import_button(network: Network) -> None:
    client = _client(network.coordinator)
    upload = io.BytesIO(b"registry_id,sex\nBJ-9,dog\n")
    upload.name = "patients.csv"
    response = client.post(
        reverse("imports:upload"),
        {"file": upload, "center": network.beijing.pk, "kind": "patients"},
    )
    assert response.status_code == 422
    assert b"dog" in response.content and reverse("imports:commit").encode() not in response.content


def test_analysts_and_other_centers_cannot_import(network: Network) -> None:
    assert _client(network.analyst).get(reverse("imports:upload")).status_code == 403
    client = _client(network.other_coordinator)
    upload = io.BytesIO(PATIENTS_CSV.encode())
    upload.name = "patients.csv"
    response = client.post(
        reverse("imports:upload"),
        {"file": upload, "center": network.beijing.pk, "kind": "patients"},
    )
    assert response.status_code == 200 and "center" in response.context["form"].errors
    assert not Patient.objects.exists()
