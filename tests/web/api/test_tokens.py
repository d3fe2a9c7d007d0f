"""POST /api/token: credentials in, hashed expiring token out; the login throttle applies."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from carta.web.api import auth
from carta.web.api.models import ApiToken
from tests.web.api.conftest import ApiClient
from tests.web.conftest import Network

PASSWORD = "coordinator-Password-1"  # the conftest personas' password pattern


def ask(api: ApiClient, username: str, password: str) -> object:
    return api.post("/token", None, {"username": username, "password": password})


def test_a_token_for_the_right_password_opens_the_api(api: ApiClient, network: Network) -> None:
    response = ask(api, "coordinator", PASSWORD)
    assert response.status_code == 200
    body = response.json()
    expires = parse_datetime(body["expires"])
    assert expires is not None
    lifetime = expires - timezone.now()
    assert timedelta(hours=7, minutes=59) < lifetime <= timedelta(hours=8)
    listed = api.client.get("/api/patients", HTTP_AUTHORIZATION=f"Bearer {body['token']}")
    assert listed.status_code == 200


def test_only_a_hash_of_the_token_is_stored(api: ApiClient, network: Network) -> None:
    token = ask(api, "coordinator", PASSWORD).json()["token"]
    row = ApiToken.objects.get(user=network.coordinator)
    assert token not in row.key_hash
    assert row.key_hash == auth.hash_token(token)
    assert len(row.key_hash) == 64


@pytest.mark.parametrize(
    "username, password",
    [("coordinator", "wrong-password"), ("no-such-user", PASSWORD), ("coordinator", " ")],
)
def test_wrong_credentials_are_unauthorized(
    api: ApiClient, network: Network, username: str, password: str
) -> None:
    response = ask(api, username, password)
    assert response.status_code == 401
    assert "token" not in response.json()
    assert not ApiToken.objects.exists()


def test_missing_credentials_name_the_field(api: ApiClient, network: Network) -> None:
    response = api.post("/token", None, {"username": "coordinator"})
    assert response.status_code == 422
    assert [item["field"] for item in response.json()["detail"]] == ["password"]


@override_settings(CARTA_LOGIN_MAX_FAILURES=3)
def test_the_login_throttle_refuses_even_the_right_password(
    api: ApiClient, network: Network
) -> None:
    for _attempt in range(3):
        assert ask(api, "coordinator", "wrong").status_code == 401
    assert ask(api, "coordinator", PASSWORD).status_code == 401
    assert ask(api, "physician", "physician-Password-1").status_code == 200  # per username


def test_an_inactive_user_gets_no_token_and_loses_the_ones_issued(
    api: ApiClient, network: Network
) -> None:
    token = ask(api, "coordinator", PASSWORD).json()["token"]
    network.coordinator.is_active = False
    network.coordinator.save()
    assert ask(api, "coordinator", PASSWORD).status_code == 401
    refused = api.client.get("/api/patients", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert refused.status_code == 401


def test_an_expired_token_is_refused(api: ApiClient, network: Network) -> None:
    token = ask(api, "coordinator", PASSWORD).json()["token"]
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = api.client.get("/api/patients", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401


@override_settings(CARTA_API_TOKEN_HOURS=1)
def test_the_lifetime_is_a_setting(api: ApiClient, network: Network) -> None:
    expires = parse_datetime(ask(api, "coordinator", PASSWORD).json()["expires"])
    assert expires is not None
    assert expires - timezone.now() <= timedelta(hours=1)


def test_issuing_a_token_removes_the_users_expired_ones(network: Network) -> None:
    old = auth.issue_token(network.coordinator)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    auth.issue_token(network.coordinator)
    assert ApiToken.objects.count() == 1
    assert auth.user_for_token(old.token) is None


@pytest.mark.parametrize(
    "header",
    ["", "Bearer", "Bearer not-a-token", "Basic Y29vcmRpbmF0b3I6eA==", "Bearer " + "x" * 500],
)
def test_malformed_or_unknown_tokens_are_unauthorized(
    api: ApiClient, network: Network, header: str
) -> None:
    response = api.client.get("/api/patients", HTTP_AUTHORIZATION=header)
    assert response.status_code == 401


def test_revoking_the_token_logs_out(api: ApiClient, network: Network) -> None:
    token = ask(api, "coordinator", PASSWORD).json()["token"]
    header = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert api.client.delete("/api/token", **header).status_code == 204
    assert api.client.get("/api/patients", **header).status_code == 401
    assert not ApiToken.objects.exists()


def test_the_api_needs_no_csrf_token(network: Network) -> None:
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    body = json.dumps({"username": "coordinator", "password": PASSWORD})
    issued = strict.post("/api/token", data=body, content_type="application/json")
    assert issued.status_code == 200
    token = issued.json()["token"]
    create = {"center": "BJ01", "registry_id": "BJ-CSRF", "sex": "male", "year_of_birth": 1970}
    created = strict.post(
        "/api/patients",
        data=json.dumps(create),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert created.status_code == 201
