"""The API answers in the token user's saved language when the request names none (ADR 0240)."""

from __future__ import annotations

from typing import Any

from django.test import Client

from carta.web.accounts import services
from tests.web.api.conftest import ApiClient
from tests.web.conftest import Network


def _get(api: ApiClient, user: object, **headers: str) -> Any:
    return Client().get(
        "/api/patients/999999", HTTP_AUTHORIZATION=f"Bearer {api.token(user)}", **headers
    )


def test_without_accept_language_the_saved_language_answers(
    api: ApiClient, network: Network, chinese: None
) -> None:
    services.set_language(actor=network.coordinator, user=network.coordinator, language="zh-hans")
    saved = _get(api, network.coordinator)
    assert saved.status_code == 404
    assert saved["Content-Language"] == "zh-hans"
    assert saved.json()["detail"] != "Not found."
    # a header the client sends wins over the saved choice
    asked = _get(api, network.coordinator, HTTP_ACCEPT_LANGUAGE="en")
    assert asked["Content-Language"] == "en"
    assert asked.json() == {"detail": "Not found."}


def test_a_user_without_a_saved_language_gets_english(
    api: ApiClient, network: Network, chinese: None
) -> None:
    services.set_language(actor=network.coordinator, user=network.coordinator, language="zh-hans")
    other = _get(api, network.physician)
    assert other["Content-Language"] == "en"
    assert other.json() == {"detail": "Not found."}
