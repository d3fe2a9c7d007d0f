"""/api/patients/{id}/infusions: list, detail, record with the stored labelled-dose check."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from carta.web.registry import services
from carta.web.registry.models import Infusion, Patient, ProductLot
from tests.web.api.conftest import ApiClient, fields_of
from tests.web.conftest import Network


def test_list_and_detail_show_the_stored_dose_check(
    api: ApiClient, network: Network, beijing_patient: Patient
) -> None:
    stored = beijing_patient.infusions.get()
    listed = api.get(f"/patients/{beijing_patient.pk}/infusions", network.analyst).json()
    detail = api.get(
        f"/patients/{beijing_patient.pk}/infusions/{stored.pk}", network.analyst
    ).json()
    assert listed == [detail]
    assert detail["product"]["code"] == "axi-cel"
    assert detail["infused_on"] == "2025-01-10"
    check = detail["dose_check"]
    assert check["status"] == stored.dose_check_status
    assert [reason["code"] for reason in check["reasons"]] == stored.dose_check_reasons
    assert check["criteria"] == stored.dose_check_criteria != ""
    assert detail["is_synthetic"] is False


def test_record_numbers_the_next_infusion_and_checks_the_dose(
    api: ApiClient, network: Network, beijing_patient: Patient
) -> None:
    # The US label of axi-cel is verified in the catalogue (the Chinese one is not).
    network.beijing.country = "US"
    network.beijing.save()
    body = {"product": "axi-cel", "infused_on": "2025-06-01", "cell_dose_total": 9.9e9}
    response = api.post(f"/patients/{beijing_patient.pk}/infusions", network.coordinator, body)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["number"] == 2
    assert created["dose_check"]["within_label"] is False  # far above axi-cel's label
    assert "dose.above_label_max" in [r["code"] for r in created["dose_check"]["reasons"]]
    stored = Infusion.objects.get(pk=created["id"])
    assert stored.cell_dose_total == 9.9e9
    assert stored.dose_within_label is False


def test_a_lot_of_the_patient_is_linked(
    api: ApiClient, network: Network, beijing_patient: Patient
) -> None:
    lot = services.record_product_lot(
        actor=network.coordinator,
        patient=beijing_patient,
        product=network.product,
        lot_number="L1",
        chain_of_identity="COI-1",
    )
    body = {"product": "axi-cel", "infused_on": "2025-06-01", "product_lot": lot.pk}
    response = api.post(f"/patients/{beijing_patient.pk}/infusions", network.coordinator, body)
    assert response.status_code == 201
    assert response.json()["product_lot"] == lot.pk


@pytest.mark.parametrize(
    "change, field",
    [
        ({"product": "not-a-product"}, "product"),
        ({"infused_on": "2025-02-30"}, "infused_on"),
        ({"cell_dose_total": -1}, "cell_dose_total"),
        ({"number": 1}, "number"),  # the patient's first infusion exists
        ({"product_lot": 424242}, "product_lot"),
        ({"number": 0}, "number"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(
    api: ApiClient,
    network: Network,
    beijing_patient: Patient,
    change: dict[str, Any],
    field: str,
) -> None:
    body = {"product": "axi-cel", "infused_on": "2025-06-01", **change}
    response = api.post(f"/patients/{beijing_patient.pk}/infusions", network.coordinator, body)
    assert response.status_code == 422, response.content
    assert field in fields_of(response)
    assert Infusion.objects.filter(patient=beijing_patient).count() == 1


def test_another_patients_lot_is_refused(
    api: ApiClient,
    network: Network,
    beijing_patient: Patient,
    make_patient: Callable[..., Any],
) -> None:
    other = make_patient()
    lot = services.record_product_lot(
        actor=network.coordinator,
        patient=other,
        product=network.product,
        lot_number="L2",
        chain_of_identity="COI-2",
    )
    body = {"product": "axi-cel", "infused_on": "2025-06-01", "product_lot": lot.pk}
    response = api.post(f"/patients/{beijing_patient.pk}/infusions", network.coordinator, body)
    assert response.status_code == 422
    assert fields_of(response) == ["product_lot"]
    assert not ProductLot.objects.filter(infusions__isnull=False).exists()


def test_an_infusion_of_another_patient_is_not_found_under_this_one(
    api: ApiClient, network: Network, beijing_patient: Patient, make_patient: Callable[..., Any]
) -> None:
    other = make_patient()
    infusion = services.record_infusion(
        actor=network.coordinator,
        patient=other,
        product=network.product,
        infused_on=date(2025, 1, 1),
    )
    path = f"/patients/{beijing_patient.pk}/infusions/{infusion.pk}"
    assert api.get(path, network.coordinator).status_code == 404
