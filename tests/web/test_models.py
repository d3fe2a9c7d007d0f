"""Database constraints hold even when a write bypasses the services; the catalogue is seeded."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from carta.clinical import products as catalogue
from carta.web.accounts.models import Center, Membership
from carta.web.registry.models import (
    Consent,
    DailyAssessment,
    Infusion,
    Patient,
    Product,
    ResponseAssessment,
)
from tests.web.conftest import Network


def _refused(create: Any) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


def test_registry_id_unique_within_a_center(network: Network) -> None:
    values = {"registry_id": "P1", "sex": "male", "year_of_birth": 1960}
    Patient.objects.create(center=network.beijing, **values)
    _refused(lambda: Patient.objects.create(center=network.beijing, **values))
    Patient.objects.create(center=network.shanghai, **values)


def test_patient_needs_year_of_birth_or_age(network: Network) -> None:
    _refused(lambda: Patient.objects.create(center=network.beijing, registry_id="P", sex="male"))


def test_response_category_checked_by_the_database(infused_patient: Patient) -> None:
    def vgpr_under_lugano() -> None:
        ResponseAssessment.objects.create(
            patient=infused_patient,
            assessed_on=date(2025, 3, 1),
            criteria="lugano_2014",
            category="vgpr",
        )

    _refused(vgpr_under_lugano)


def test_consent_withdrawn_before_signed_is_refused(infused_patient: Patient) -> None:
    _refused(
        lambda: Consent.objects.create(
            patient=infused_patient,
            consent_type="registry",
            signed_on=date(2025, 1, 1),
            withdrawn_on=date(2024, 1, 1),
        )
    )


def test_one_assessment_per_infusion_day(infused_patient: Patient) -> None:
    infusion = Infusion.objects.get(patient=infused_patient)
    DailyAssessment.objects.create(patient=infused_patient, infusion=infusion, day=1)
    _refused(
        lambda: DailyAssessment.objects.create(patient=infused_patient, infusion=infusion, day=1)
    )


def test_network_admin_membership_has_no_center(network: Network) -> None:
    _refused(
        lambda: Membership.objects.create(
            user=network.nobody, center=network.beijing, role="network_admin"
        )
    )
    _refused(lambda: Membership.objects.create(user=network.nobody, role="coordinator"))


def test_one_role_per_user_and_center(network: Network) -> None:
    _refused(
        lambda: Membership.objects.create(
            user=network.coordinator, center=network.beijing, role="analyst"
        )
    )


def test_center_country_is_an_iso_code(db: None) -> None:
    _refused(lambda: Center.objects.create(code="X", name="X", country="cn", city="Beijing"))


def test_products_are_seeded_from_the_catalogue(db: None) -> None:
    codes = set(Product.objects.values_list("code", flat=True))
    assert codes == {product.code for product in catalogue.PRODUCTS}
    yescarta = Product.objects.get(code="axi-cel")
    assert yescarta.inn == "axicabtagene ciloleucel"
    assert yescarta.target == "CD19"


def test_patient_label_marks_synthetic_records(network: Network) -> None:
    patient = Patient(center=network.beijing, registry_id="SYN-1", sex="male", is_synthetic=True)
    assert str(patient) == "SYN-1 [synthetic]"


def test_every_model_has_a_docstring() -> None:
    from django.apps import apps

    for app in ("accounts", "audit", "registry"):
        for model in apps.get_app_config(app).get_models():
            assert model.__doc__ and not model.__doc__.startswith(model.__name__ + "("), model
