"""schemathesis against the committed OpenAPI schema, in process (WSGI): no request it
generates - valid or not - gets a server error, and every answer matches the schema.

A small synthetic network from :mod:`carta.synth` (loaded as ``carta demo`` loads it: centers,
infused patients with their days, treatments, responses and visits) lets the generated
requests reach the services: half of them use a real patient ID of the caller's center.
Examples per operation and mode are bounded (``CARTA_API_FUZZ_EXAMPLES``, default 4) and
derandomized, and nothing is shrunk, so the run is short and repeatable; raise the number for a
longer hunt.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

schemathesis = pytest.importorskip(
    "schemathesis",
    reason="schemathesis is not installed: it belongs to the dev dependencies (uv sync)",
)

PATIENTS = 8
SEED = 20260301
EXAMPLES = int(os.environ.get("CARTA_API_FUZZ_EXAMPLES", "4"))


@pytest.fixture
def dataset(db: None) -> dict[str, Any]:
    """A small synthetic network (``carta.synth``, loaded as the demo is) and a coordinator
    of the center of its first patient."""
    from django.contrib.auth import get_user_model

    from carta.synth import generate_network
    from carta.web import loader
    from carta.web.accounts.models import Membership
    from carta.web.accounts.roles import Role
    from carta.web.registry.models import Patient

    loader.load_network(generate_network(PATIENTS, seed=SEED), seed=SEED)
    patient = Patient.objects.order_by("pk").first()
    assert patient is not None
    user = get_user_model().objects.create_user("fuzzer", password="fuzzer-Password-1")
    Membership.objects.create(user=user, center=patient.center, role=Role.COORDINATOR)
    assert Patient.objects.exclude(center=patient.center).exists()  # other centers: 404s
    return {"user": user, "patient": patient.pk}


@contextmanager
def connections_kept_open() -> Iterator[None]:
    """Django closes the database connection when a WSGI request finishes, which would end
    the test's transaction; Django's own test client disconnects the same signal."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _checks() -> list[Any]:
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]


def _fuzz(operation: Any, strategy: Any, user: Any, failures: list[str]) -> None:
    from hypothesis import HealthCheck, Phase, given, settings

    from carta.web.api import auth

    checks = _checks()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        # No shrinking: the raw failing request is reported at once, and a failure cannot
        # turn a short run into a long one.
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        token = auth.issue_token(user).token  # fresh: DELETE /api/token revokes the last one
        headers = {"Authorization": f"Bearer {token}"}
        try:
            case.call_and_validate(headers=headers, checks=checks)
        except (Exception, BaseExceptionGroup) as error:  # reported with every operation
            failures.append(f"{operation.label}: {type(error).__name__}: {error}"[:3000])
            raise

    try:
        run()
    except (Exception, BaseExceptionGroup) as error:
        # A failed check was recorded by ``run``; anything else (a case that could not be
        # generated or sent) is recorded here.
        message = f"{operation.label}: {type(error).__name__}: {error}"[:3000]
        if not any(message[:200] in failure for failure in failures):
            failures.append(message)


@pytest.mark.slow
def test_no_generated_request_is_a_server_error(dataset: dict[str, Any], with_model: Path) -> None:
    """Every operation, with a forecast model installed so the forecast endpoints forecast."""
    from django.core.handlers.wsgi import WSGIHandler
    from schemathesis.generation import GenerationMode

    failures: list[str] = []
    exercised = 0
    with connections_kept_open():  # the schema's own request too
        schema = schemathesis.openapi.from_wsgi("/api/openapi.json", WSGIHandler())
        for result in schema.get_all_operations():
            operation = result.ok()
            variants: list[dict[str, int] | None] = [None]
            if "{patient_id}" in operation.path:
                variants.append({"patient_id": dataset["patient"]})
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                for fixed in variants:
                    strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed)
                    _fuzz(operation, strategy, dataset["user"], failures)
                    exercised += 1
    assert exercised >= 2 * 20
    assert not failures, "\n\n".join(failures)
