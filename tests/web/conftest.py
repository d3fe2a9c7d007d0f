"""Django for the web tests: settings from the environment, a throwaway data folder, personas.

pytest-django is configured here rather than in ``pyproject.toml`` because carta's settings
refuse to load without ``CARTA_SECRET_KEY``: the variables are set before Django starts, and
only when the web tests are collected. SQLite runs in memory; the PostgreSQL run
(``test_postgresql.py``) passes ``DATABASE_URL`` to a subprocess.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest

DATA_DIR = tempfile.mkdtemp(prefix="carta-web-tests-")


def pytest_configure(config: pytest.Config) -> None:
    """Point Django at carta's settings with a test key and a temporary data folder."""
    os.environ["DJANGO_SETTINGS_MODULE"] = "carta.web.settings"
    os.environ["CARTA_DATA_DIR"] = DATA_DIR  # never the user's real data folder
    os.environ.setdefault("CARTA_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.pop("CARTA_DEMO", None)
    import django
    from django.conf import settings

    django.setup()
    # Django's real hasher takes ~1 s per password here; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove the temporary data folder (demo keys, static folder) after the run."""
    shutil.rmtree(DATA_DIR, ignore_errors=True)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Login-throttle counters must not leak between tests."""
    from django.core.cache import cache

    cache.clear()


@dataclass
class Network:
    """Two centers, one product, and a user for each role (plus one with no access)."""

    beijing: Any
    shanghai: Any
    product: Any
    coordinator: Any  # Beijing
    physician: Any  # Beijing
    center_admin: Any  # Beijing
    analyst: Any  # granted Beijing only
    other_coordinator: Any  # Shanghai
    network_admin: Any
    nobody: Any  # an account without any membership


# The personas of :class:`Network`, by attribute name.
PERSONAS = (
    "coordinator",
    "physician",
    "center_admin",
    "analyst",
    "other_coordinator",
    "network_admin",
    "nobody",
)


def _user(name: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(name, password=f"{name}-Password-1")


@pytest.fixture
def network(db: None) -> Network:
    """The personas of the access tests: own center, other center, no access."""
    from carta.web.accounts.models import Center, Membership
    from carta.web.accounts.roles import Role
    from carta.web.registry.models import Product

    beijing = Center.objects.create(code="BJ01", name="Beijing Demo", country="CN", city="Beijing")
    shanghai = Center.objects.create(
        code="SH01", name="Shanghai Demo", country="CN", city="Shanghai"
    )
    people = {name: _user(name) for name in PERSONAS}
    grants = [
        ("coordinator", beijing, Role.COORDINATOR),
        ("physician", beijing, Role.PHYSICIAN),
        ("center_admin", beijing, Role.CENTER_ADMIN),
        ("analyst", beijing, Role.ANALYST),
        ("other_coordinator", shanghai, Role.COORDINATOR),
        ("network_admin", None, Role.NETWORK_ADMIN),
    ]
    for name, center, role in grants:
        Membership.objects.create(user=people[name], center=center, role=role)
    return Network(
        beijing=beijing,
        shanghai=shanghai,
        product=Product.objects.get(code="axi-cel"),
        **people,
    )


@pytest.fixture
def make_patient(network: Network) -> Callable[..., Any]:
    """A patient created through the service by the Beijing coordinator (or ``actor``)."""
    from carta.web.registry import services

    counter = iter(range(1, 10_000))

    def make(**overrides: Any) -> Any:
        values: dict[str, Any] = {
            "actor": network.coordinator,
            "center": network.beijing,
            "registry_id": f"BJ-{next(counter):04d}",
            "sex": "female",
            "year_of_birth": 1970,
            "weight_kg": 70.0,
            "height_cm": 165.0,
        }
        values.update(overrides)
        return services.create_patient(**values)

    return make


@pytest.fixture
def infused_patient(network: Network, make_patient: Callable[..., Any]) -> Any:
    """A Beijing LBCL patient infused with axi-cel on 2025-01-10."""
    from carta.web.registry import services

    patient = make_patient()
    services.record_diagnosis(actor=network.coordinator, patient=patient, disease="lbcl")
    services.record_infusion(
        actor=network.coordinator,
        patient=patient,
        product=network.product,
        infused_on=date(2025, 1, 10),
        cell_dose_total=1.4e8,
    )
    return patient
