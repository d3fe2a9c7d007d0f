"""API test helpers: a bearer token per persona and a client that sends it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from tests.web.conftest import Network


@dataclass
class ApiClient:
    """Calls ``/api/...`` as a user (by bearer token), in a language."""

    client: Client
    tokens: dict[int, str]

    def token(self, user: Any) -> str:
        from carta.web.api import auth

        if user.pk not in self.tokens:
            self.tokens[user.pk] = auth.issue_token(user).token
        return self.tokens[user.pk]

    def call(
        self,
        method: str,
        path: str,
        user: Any = None,
        body: Any = None,
        *,
        language: str = "en",
        query: dict[str, Any] | None = None,
    ) -> Any:
        headers = {"HTTP_ACCEPT_LANGUAGE": language}
        if user is not None:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.token(user)}"
        send = getattr(self.client, method.lower())
        if body is None:
            return send(f"/api{path}", data=query or {}, **headers)
        return send(
            f"/api{path}", data=json.dumps(body), content_type="application/json", **headers
        )

    def get(self, path: str, user: Any = None, **kwargs: Any) -> Any:
        return self.call("GET", path, user, **kwargs)

    def post(self, path: str, user: Any, body: Any, **kwargs: Any) -> Any:
        return self.call("POST", path, user, body, **kwargs)

    def patch(self, path: str, user: Any, body: Any, **kwargs: Any) -> Any:
        return self.call("PATCH", path, user, body, **kwargs)


@pytest.fixture(autouse=True)
def _default_language_after() -> Iterator[None]:
    """LocaleMiddleware leaves the thread in the last request's language: later tests start
    in the default language again."""
    yield
    from django.utils import translation

    translation.deactivate()


@pytest.fixture(scope="session")
def chinese() -> None:
    """The compiled Chinese catalogue (built from the committed .po when missing, as the page
    tests do), with Django's translation cache emptied so it is read."""
    from django.utils.translation import trans_real

    from tests.web.views.conftest import compile_catalogue

    compile_catalogue()
    trans_real._translations = {}


@pytest.fixture
def api(db: None) -> ApiClient:
    return ApiClient(client=Client(), tokens={})


def fields_of(response: Any) -> list[str | None]:
    """The field paths a 422 names."""
    return [item["field"] for item in response.json()["detail"]]


@pytest.fixture
def beijing_patient(network: Network, make_patient: Callable[..., Any]) -> Any:
    """A Beijing patient with identifying fields, LBCL, infused with axi-cel on 2025-01-10."""
    from carta.web.registry import services

    patient = make_patient(identity={"full_name": "Wang Fang", "medical_record_number": "MRN-7"})
    services.record_diagnosis(actor=network.coordinator, patient=patient, disease="lbcl")
    services.record_infusion(
        actor=network.coordinator,
        patient=patient,
        product=network.product,
        infused_on=date(2025, 1, 10),
        cell_dose_total=1.4e8,
    )
    return patient


@pytest.fixture
def shanghai_patient(network: Network, make_patient: Callable[..., Any]) -> Any:
    """A Shanghai patient (another center for the Beijing personas), infused."""
    from carta.web.registry import services

    patient = make_patient(
        actor=network.other_coordinator, center=network.shanghai, registry_id="SH-0001"
    )
    services.record_infusion(
        actor=network.other_coordinator,
        patient=patient,
        product=network.product,
        infused_on=date(2025, 2, 1),
    )
    return patient


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small forecast model trained once on synthetic patients (as ``carta demo`` does)."""
    from carta.synth import generate_network
    from carta.web.registry import forecasting

    folder = tmp_path_factory.mktemp("forecast-model")
    return forecasting.train_demo_model(generate_network(40, seed=1), folder)


@pytest.fixture
def with_model(trained_model: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The trained model installed where the web app looks for it."""
    from carta.web.registry import forecasting

    monkeypatch.setenv(forecasting.MODEL_ENV, str(trained_model))
    forecasting.clear_cache()
    yield trained_model
    forecasting.clear_cache()
