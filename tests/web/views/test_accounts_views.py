"""Signing in and out through the pages, the throttle, and the language preference."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from tests.web.conftest import Network

LOGIN = reverse("accounts:login")
LANGUAGE = reverse("accounts:language")


def _login(client: Client, username: str, password: str) -> Any:
    return client.post(LOGIN, {"username": username, "password": password})


def test_signing_in_goes_to_the_patient_list(network: Network) -> None:
    client = Client()
    response = _login(client, "coordinator", "coordinator-Password-1")
    assert response.status_code == 302
    assert response["Location"] == reverse("registry:patient_list")
    assert client.get(reverse("registry:patient_list")).status_code == 200


def test_signing_in_returns_to_the_page_asked_for(network: Network) -> None:
    client = Client()
    target = reverse("registry:dashboard")
    response = client.post(
        f"{LOGIN}?next={target}",
        {"username": "coordinator", "password": "coordinator-Password-1", "next": target},
    )
    assert response["Location"] == target


def test_a_wrong_password_shows_the_form_again(network: Network) -> None:
    response = _login(Client(), "coordinator", "wrong")
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


@override_settings(CARTA_LOGIN_MAX_FAILURES=3)
def test_after_too_many_failures_even_the_right_password_is_refused(network: Network) -> None:
    client = Client()
    for _attempt in range(3):
        _login(client, "coordinator", "wrong")
    response = _login(client, "coordinator", "coordinator-Password-1")
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_signing_out_needs_a_post(network: Network) -> None:
    client = Client()
    client.force_login(network.coordinator)
    assert client.get(reverse("accounts:logout")).status_code == 405
    response = client.post(reverse("accounts:logout"))
    assert response["Location"] == LOGIN
    assert client.get(reverse("registry:patient_list")).status_code == 302


def test_the_language_choice_is_kept_in_a_cookie_and_the_session(
    chinese_catalogue: None, network: Network
) -> None:
    client = Client()
    client.force_login(network.coordinator)
    response = client.post(LANGUAGE, {"language": "zh-hans", "next": "/dashboard/"})
    assert response["Location"] == "/dashboard/"
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "zh-hans"
    assert cookie["max-age"] >= 365 * 24 * 60 * 60
    assert client.session["carta_language"] == "zh-hans"
    page = client.get(reverse("registry:patient_list")).content.decode()
    assert '<html lang="zh-hans">' in page
    assert "登记患者" in page
    client.post(LANGUAGE, {"language": "en"})
    assert "Register a patient" in client.get(reverse("registry:patient_list")).content.decode()


def test_the_sign_in_page_switches_language_too(chinese_catalogue: None, db: None) -> None:
    client = Client()
    client.post(LANGUAGE, {"language": "zh-hans", "next": LOGIN})
    page = client.get(LOGIN).content.decode()
    assert "登录" in page
    assert "简体中文" in page and "English" in page  # each language named in itself


def test_an_unknown_language_or_a_foreign_next_page_is_ignored(db: None) -> None:
    client = Client()
    response = client.post(LANGUAGE, {"language": "xx", "next": "https://evil.example/"})
    assert response["Location"] == reverse("registry:home")
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_the_language_switch_needs_a_post(db: None) -> None:
    assert Client().get(LANGUAGE).status_code == 405
