"""The patient page's cached body (ADR 0286): never stale after a write, never shared between
viewer variants or languages, never holding identifying details, and cheap when it is hit."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client
from django.urls import reverse

from carta.web.registry import services
from carta.web.registry.models import Patient
from carta.web.registry.services.core import touch_patient
from carta.web.registry.views import page_cache
from tests.web.conftest import Network
from tests.web.views.conftest import record_day

IDENTITY = "Wang Fang"


def _without_tokens(page: str) -> str:
    """The page without its CSRF token (masked afresh for every response)."""
    page = re.sub(r'"X-CSRFToken": "[^"]+"', "", page)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)


def _url(patient: Any) -> str:
    return reverse("registry:patient_detail", args=[patient.pk])


class RecordingCache(LocMemCache):
    """A per-test cache that remembers every value stored in it."""

    def __init__(self) -> None:
        super().__init__("patient-page-test", {})
        self.stored: list[Any] = []

    def set(self, key: str, value: Any, *args: Any, **kwargs: Any) -> None:
        self.stored.append(value)
        super().set(key, value, *args, **kwargs)


@pytest.fixture
def recording_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingCache]:
    cache = RecordingCache()
    monkeypatch.setattr(page_cache, "caches", {page_cache.CACHE_ALIAS: cache})
    yield cache
    cache.clear()


def test_a_second_view_comes_from_the_cache(
    client_for: Callable[[str], Client], graded_patient: Any, recording_cache: RecordingCache
) -> None:
    client = client_for("coordinator")
    first = client.get(_url(graded_patient)).content.decode()
    second = client.get(_url(graded_patient)).content.decode()
    assert len(recording_cache.stored) == 1  # rendered once, then read
    assert _without_tokens(second) == _without_tokens(first)
    assert IDENTITY in second  # put in for each request, outside the cached body


def test_a_saved_assessment_shows_at_once(
    network: Network,
    client_for: Callable[[str], Client],
    graded_patient: Any,
    recording_cache: RecordingCache,
) -> None:
    client = client_for("coordinator")
    before = client.get(_url(graded_patient)).content.decode()
    assert "Day 3 (" not in before
    record_day(network, graded_patient, 3, temperature_c=39.0, hypotension="present")
    after = client.get(_url(graded_patient)).content.decode()
    assert "Day 3 (" in after  # the new day's cell in the journey
    assert len(recording_cache.stored) == 2


def test_a_save_through_the_form_shows_at_once(
    client_for: Callable[[str], Client], graded_patient: Any, recording_cache: RecordingCache
) -> None:
    from tests.web.views.conftest import AFEBRILE, ALERT

    client = client_for("coordinator")
    client.get(_url(graded_patient))
    form = {**AFEBRILE, **ALERT, "vasopressors": "none", "day": 9}
    form["infusion"] = graded_patient.infusions.get().pk
    response = client.post(reverse("registry:assessment_create", args=[graded_patient.pk]), form)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Day 9 (" in page


def test_another_process_sees_the_change_too(
    network: Network,
    client_for: Callable[[str], Client],
    graded_patient: Any,
    recording_cache: RecordingCache,
) -> None:
    """The key comes from the database: a write made elsewhere (another server process, the
    API, an import) that never touched this process's cache still changes the key."""
    client = client_for("coordinator")
    client.get(_url(graded_patient))
    stale_entries = dict(recording_cache._cache)
    services.record_death(
        actor=network.coordinator, patient=graded_patient, died_on=date(2025, 3, 1), cause="crs"
    )
    assert dict(recording_cache._cache) == stale_entries  # the write did not touch the cache
    page = client.get(_url(graded_patient)).content.decode()
    assert "Died 2025-03-01" in page


@pytest.mark.parametrize(
    "write",
    [
        "assessment",
        "treatment",
        "consent",
        "infusion_edit",
        "patient_edit",
        "record_delete",
    ],
)
def test_every_kind_of_write_moves_the_revision(
    network: Network, graded_patient: Any, write: str
) -> None:
    actor, patient = network.coordinator, graded_patient
    infusion = patient.infusions.get()
    before = Patient.objects.get(pk=patient.pk).updated_at
    if write == "assessment":
        record_day(network, patient, 5)
    elif write == "treatment":
        services.record_toxicity_treatment(
            actor=actor, patient=patient, infusion=infusion, day=3, agent="corticosteroid"
        )
    elif write == "consent":
        services.record_consent(
            actor=actor, patient=patient, consent_type="registry", signed_on=date(2025, 1, 2)
        )
    elif write == "infusion_edit":
        services.update_record(
            actor=actor, record=infusion, reason="typo", infused_on=date(2025, 1, 11)
        )
    elif write == "patient_edit":
        services.update_patient(actor=actor, patient=patient, reason="weighed", weight_kg=71.0)
    else:
        services.delete_record(actor=actor, record=patient.responses.get(), reason="entered twice")
    assert Patient.objects.get(pk=patient.pk).updated_at > before


def test_the_revision_moves_on_even_when_the_clock_stands_still(
    make_patient: Callable[..., Any],
) -> None:
    patient = make_patient()
    ahead = patient.updated_at + timedelta(days=1)  # a clock that stepped back since
    Patient.objects.filter(pk=patient.pk).update(updated_at=ahead)
    touch_patient(patient.pk)
    touch_patient(patient.pk)
    assert Patient.objects.get(pk=patient.pk).updated_at == ahead + timedelta(microseconds=2)


def test_an_analyst_never_gets_the_coordinators_body(
    client_for: Callable[[str], Client], graded_patient: Any, recording_cache: RecordingCache
) -> None:
    coordinator_page = client_for("coordinator").get(_url(graded_patient)).content.decode()
    analyst_page = client_for("analyst").get(_url(graded_patient)).content.decode()
    edit_link = reverse("registry:assessment_create", args=[graded_patient.pk])
    assert IDENTITY in coordinator_page and edit_link in coordinator_page
    assert IDENTITY not in analyst_page
    assert edit_link not in analyst_page
    assert "Pseudonymised view" in analyst_page
    assert len(recording_cache.stored) == 2  # one body per variant
    # Identifying details are never in the cache, whoever looked.
    assert not any(IDENTITY in part for entry in recording_cache.stored for part in entry)


def test_the_coordinator_never_gets_the_analysts_body(
    client_for: Callable[[str], Client], graded_patient: Any, recording_cache: RecordingCache
) -> None:
    client_for("analyst").get(_url(graded_patient))
    page = client_for("coordinator").get(_url(graded_patient)).content.decode()
    assert IDENTITY in page
    assert reverse("registry:assessment_create", args=[graded_patient.pk]) in page


def test_languages_do_not_mix(
    client_for: Callable[[str], Client],
    graded_patient: Any,
    chinese_catalogue: None,
    recording_cache: RecordingCache,
) -> None:
    english = client_for("coordinator")
    chinese = client_for("physician")
    chinese.post(reverse("accounts:language"), {"language": "zh-hans", "next": "/"})
    assert "Journey" in english.get(_url(graded_patient)).content.decode()
    zh = chinese.get(_url(graded_patient)).content.decode()
    assert "治疗历程" in zh and ">Journey<" not in zh
    again = english.get(_url(graded_patient)).content.decode()
    assert "Journey" in again and "治疗历程" not in again
    assert len(recording_cache.stored) == 2


def test_the_key_changes_with_the_model_the_day_the_variant_and_the_code(
    graded_patient: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    variant = page_cache.Variant(can_change=True, can_identify=True)
    today = date(2026, 1, 1)

    def key(**changes: Any) -> str:
        arguments = {"variant": variant, "today": today, "model_stamp": "model:1:100", **changes}
        return page_cache.body_key(graded_patient, **arguments)

    first = key()
    assert key() == first
    assert key(model_stamp="model:2:100") != first
    assert key(today=today + timedelta(days=1)) != first
    assert key(variant=page_cache.Variant(can_change=False, can_identify=True)) != first
    assert key(variant=page_cache.Variant(can_change=True, can_identify=False)) != first
    monkeypatch.setattr(page_cache, "code_fingerprint", lambda: "a new deployment")
    assert key() != first


@pytest.mark.parametrize(("persona", "queries"), [("coordinator", 5), ("analyst", 4)])
def test_a_cached_view_costs_four_or_five_simple_queries(
    client_for: Callable[[str], Client],
    graded_patient: Any,
    django_assert_num_queries: Any,
    recording_cache: RecordingCache,
    persona: str,
    queries: int,
) -> None:
    """Session, user, the user's memberships (which answer view, change and identify), the
    patient with its revision, and the identifying details for those who may see them.
    None of them has a permission subquery to compile (ADR 0287)."""
    client = client_for(persona)
    client.get(_url(graded_patient))
    with django_assert_num_queries(queries):
        response = client.get(_url(graded_patient))
    assert response.status_code == 200


class BrokenCache(LocMemCache):
    """A cache whose server is down."""

    def __init__(self) -> None:
        super().__init__("broken", {})

    def get(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache server down")

    def set(self, *args: Any, **kwargs: Any) -> None:
        raise ConnectionError("cache server down")


def test_a_failing_cache_costs_a_rendering_not_the_page(
    client_for: Callable[[str], Client], graded_patient: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(page_cache, "caches", {page_cache.CACHE_ALIAS: BrokenCache()})
    response = client_for("coordinator").get(_url(graded_patient))
    assert response.status_code == 200
    assert IDENTITY in response.content.decode()


def test_a_body_without_the_marker_is_refused() -> None:
    with pytest.raises(ValueError, match="identity marker"):
        page_cache.split("<p>no marker</p>")
