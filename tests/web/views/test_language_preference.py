"""The interface language is saved on the user and follows them to every device (ADR 0240)."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from carta.web.accounts import services
from carta.web.accounts.models import Preference
from carta.web.audit.models import AuditEvent
from tests.web.conftest import Network

LOGIN = reverse("accounts:login")
LANGUAGE = reverse("accounts:language")
PATIENTS = reverse("registry:patient_list")


def _sign_in(client: Client, username: str) -> Any:
    response = client.post(LOGIN, {"username": username, "password": f"{username}-Password-1"})
    assert response.status_code == 302, "signed in"
    return response


def test_a_user_who_chose_chinese_gets_chinese_on_a_new_device(
    chinese_catalogue: None, network: Network
) -> None:
    office = Client()
    _sign_in(office, "coordinator")
    office.post(LANGUAGE, {"language": "zh-hans", "next": PATIENTS})
    assert Preference.objects.get(user=network.coordinator).language == "zh-hans"

    ward = Client()  # a new device: no cookie, no session, a browser asking for English
    response = _sign_in(ward, "coordinator")
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "zh-hans"
    page = ward.get(PATIENTS, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="zh-hans">' in page and "登记患者" in page


def test_the_saved_choice_overrides_the_devices_earlier_cookie(
    chinese_catalogue: None, network: Network
) -> None:
    services.set_language(actor=network.coordinator, user=network.coordinator, language="en")
    shared = Client()
    shared.post(LANGUAGE, {"language": "zh-hans", "next": LOGIN})  # anonymous: cookie only
    assert not Preference.objects.filter(language="zh-hans").exists()
    _sign_in(shared, "coordinator")
    assert "Register a patient" in shared.get(PATIENTS).content.decode()


def test_another_user_is_unaffected(chinese_catalogue: None, network: Network) -> None:
    services.set_language(actor=network.coordinator, user=network.coordinator, language="zh-hans")
    client = Client()
    response = _sign_in(client, "physician")  # never chose: the browser decides
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    page = client.get(PATIENTS, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in page
    assert not Preference.objects.filter(user=network.physician).exists()


def test_the_switch_saves_the_choice_with_an_audit_record(
    chinese_catalogue: None, network: Network
) -> None:
    client = Client()
    client.force_login(network.physician)
    client.post(LANGUAGE, {"language": "zh-hans"})
    client.post(LANGUAGE, {"language": "zh-hans"})  # the same again: nothing new to audit
    client.post(LANGUAGE, {"language": "en"})
    preference = Preference.objects.get(user=network.physician)
    events = AuditEvent.objects.filter(
        target_type="accounts.preference", target_id=str(preference.pk)
    ).order_by("pk")
    assert [(e.action, e.before, e.after) for e in events] == [
        ("create", {}, {"language": "zh-hans"}),
        ("update", {"language": "zh-hans"}, {"language": "en"}),
    ]
    assert all(e.actor_id == network.physician.pk and e.center_id is None for e in events)


def test_an_unknown_language_saves_nothing(network: Network) -> None:
    client = Client()
    client.force_login(network.coordinator)
    client.post(LANGUAGE, {"language": "fr"})
    assert not Preference.objects.exists()
    with pytest.raises(ValidationError):
        services.set_language(actor=network.coordinator, user=network.coordinator, language="fr")
    assert not Preference.objects.exists() and not AuditEvent.objects.exists()


def test_nobody_changes_another_users_language(network: Network) -> None:
    with pytest.raises(PermissionDenied):
        services.set_language(actor=network.network_admin, user=network.coordinator, language="en")
    assert not Preference.objects.exists()
