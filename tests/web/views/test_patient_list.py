"""The patient list: scoped to the user's centers, searchable, filtered, paged, and a fixed
number of queries whatever the page shows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from carta.web.registry import services
from tests.web.conftest import Network
from tests.web.views.conftest import record_day

LIST = reverse("registry:patient_list")


def _ids(response: Any) -> list[str]:
    return [row["patient"].registry_id for row in response.context["rows"]]


@pytest.fixture
def two_centers(
    network: Network, make_patient: Callable[..., Any], shanghai_patient: Any
) -> list[Any]:
    return [make_patient(registry_id="BJ-A"), make_patient(registry_id="BJ-B"), shanghai_patient]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("coordinator", ["BJ-A", "BJ-B"]),
        ("physician", ["BJ-A", "BJ-B"]),
        ("analyst", ["BJ-A", "BJ-B"]),
        ("other_coordinator", ["SH-0001"]),
        ("network_admin", ["BJ-A", "BJ-B", "SH-0001"]),
        ("nobody", []),
    ],
)
def test_each_role_sees_its_centers_patients(
    client_for: Callable[[str], Client], two_centers: list[Any], persona: str, expected: list[str]
) -> None:
    response = client_for(persona).get(LIST)
    assert response.status_code == 200
    assert sorted(_ids(response)) == expected


def test_anonymous_visitors_are_sent_to_sign_in(db: None) -> None:
    response = Client().get(LIST)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_list_shows_no_identifying_field(
    network: Network, client_for: Callable[[str], Client], make_patient: Callable[..., Any]
) -> None:
    make_patient(registry_id="BJ-X", identity={"full_name": "Li Lei"})
    for persona in ("coordinator", "analyst"):
        page = client_for(persona).get(LIST).content.decode()
        assert "BJ-X" in page
        assert "Li Lei" not in page


def test_search_by_registry_id(client_for: Callable[[str], Client], two_centers: Any) -> None:
    response = client_for("network_admin").get(LIST, {"q": "bj-b"})
    assert _ids(response) == ["BJ-B"]


def test_filter_by_center_and_synthetic(
    network: Network,
    client_for: Callable[[str], Client],
    two_centers: Any,
    make_patient: Callable[..., Any],
) -> None:
    make_patient(registry_id="BJ-SYN", is_synthetic=True)
    client = client_for("network_admin")
    assert sorted(_ids(client.get(LIST, {"center": network.shanghai.pk}))) == ["SH-0001"]
    assert _ids(client.get(LIST, {"synthetic": "yes"})) == ["BJ-SYN"]
    assert "BJ-SYN" not in _ids(client.get(LIST, {"synthetic": "no"}))


def test_another_centers_id_is_not_a_valid_center_filter(
    network: Network, client_for: Callable[[str], Client], two_centers: Any
) -> None:
    response = client_for("coordinator").get(LIST, {"center": network.shanghai.pk})
    assert "SH-0001" not in _ids(response)


def test_filter_by_disease_product_and_status(
    network: Network, client_for: Callable[[str], Client], two_centers: list[Any]
) -> None:
    first, second, _shanghai = two_centers
    actor = network.coordinator
    services.record_diagnosis(actor=actor, patient=first, disease="mm")
    services.record_diagnosis(actor=actor, patient=second, disease="lbcl")
    services.record_infusion(
        actor=actor, patient=second, product=network.product, infused_on=date(2025, 1, 10)
    )
    services.record_death(actor=actor, patient=first, died_on=date(2025, 3, 1), cause="other")
    client = client_for("coordinator")
    assert _ids(client.get(LIST, {"disease": "mm"})) == ["BJ-A"]
    assert _ids(client.get(LIST, {"product": "axi-cel"})) == ["BJ-B"]
    assert _ids(client.get(LIST, {"status": "infused"})) == ["BJ-B"]
    assert _ids(client.get(LIST, {"status": "died"})) == ["BJ-A"]
    assert _ids(client.get(LIST, {"status": "registered"})) == []


def test_pages_of_25(
    network: Network, client_for: Callable[[str], Client], make_patient: Callable[..., Any]
) -> None:
    for number in range(27):
        make_patient(registry_id=f"P-{number:03d}")
    client = client_for("coordinator")
    first = client.get(LIST)
    assert len(first.context["rows"]) == 25
    assert first.context["page"].paginator.count == 27
    second = client.get(LIST, {"page": 2})
    assert _ids(second) == ["P-025", "P-026"]
    assert len(client.get(LIST, {"page": "nonsense"}).context["rows"]) == 25


def test_highest_grades_come_from_the_stored_days(
    network: Network, client_for: Callable[[str], Client], infused_patient: Any
) -> None:
    record_day(network, infused_patient, 1, temperature_c=39.0)
    record_day(network, infused_patient, 2, temperature_c=39.0, hypotension="present")
    row = client_for("coordinator").get(LIST).context["rows"][0]
    assert (row["patient"].max_crs, row["patient"].max_icans) == (2, 0)
    assert row["status"] == "infused"
    assert row["disease"] == "large B-cell lymphoma"


def test_synthetic_patients_are_marked(
    client_for: Callable[[str], Client], make_patient: Callable[..., Any]
) -> None:
    make_patient(registry_id="BJ-SYN", is_synthetic=True)
    page = client_for("coordinator").get(LIST).content.decode()
    assert 'class="badge synthetic"' in page


def _populate(network: Network, make_patient: Callable[..., Any], count: int, start: int) -> None:
    for number in range(start, start + count):
        patient = make_patient(registry_id=f"Q-{number:03d}")
        services.record_diagnosis(actor=network.coordinator, patient=patient, disease="lbcl")
        services.record_infusion(
            actor=network.coordinator,
            patient=patient,
            product=network.product,
            infused_on=date(2025, 1, 10),
        )
        record_day(network, patient, 1, temperature_c=39.0)


def test_the_list_costs_the_same_queries_for_2_or_20_patients(
    network: Network,
    client_for: Callable[[str], Client],
    make_patient: Callable[..., Any],
    django_assert_max_num_queries: Any,
    django_assert_num_queries: Any,
) -> None:
    client = client_for("coordinator")
    _populate(network, make_patient, 2, 0)
    # Session, user, grants, centers, products, count, page (ADR 0292; was at most 10).
    with django_assert_max_num_queries(7) as few:
        client.get(LIST)
    _populate(network, make_patient, 18, 2)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(LIST)
    filtered = {"center": network.beijing.pk, "status": "infused", "disease": "lbcl", "page": 1}
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(LIST, filtered)
