"""Fixtures of the Analytics page tests: a small synthetic network loaded into the registry,
and users of each role at its centers."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from carta.synth import SyntheticNetwork, generate_network
from tests.web.views.conftest import chinese_catalogue  # noqa: F401 - the fixture, shared

PATIENTS = 160
SEED = 11


@cache
def synthetic_network() -> SyntheticNetwork:
    return generate_network(PATIENTS, seed=SEED)


@dataclass
class Registry:
    """The loaded network's centers (by code) and one user per persona."""

    centers: dict[str, Any]
    users: dict[str, Any]

    def client(self, persona: str) -> Client:
        client = Client()
        client.force_login(self.users[persona])
        return client


@pytest.fixture
def registry(db: None) -> Registry:
    """The network (centers BJ, SH, GZ, WH, CD, HH, BO) and users: an analyst granted BJ and
    SH, a Beijing coordinator, physician and center administrator, a Shanghai coordinator, a
    network administrator and an account without any membership."""
    from carta.web import loader
    from carta.web.accounts.models import Center, Membership
    from carta.web.accounts.roles import Role

    loader.load_network(synthetic_network(), seed=SEED)
    centers = {center.code: center for center in Center.objects.all()}
    grants: dict[str, list[tuple[str | None, str]]] = {
        "analyst": [("BJ", Role.ANALYST), ("SH", Role.ANALYST)],
        "coordinator": [("BJ", Role.COORDINATOR)],
        "physician": [("BJ", Role.PHYSICIAN)],
        "center_admin": [("BJ", Role.CENTER_ADMIN)],
        "shanghai": [("SH", Role.COORDINATOR)],
        "network_admin": [(None, Role.NETWORK_ADMIN)],
        "nobody": [],
    }
    users = {}
    for name, memberships in grants.items():
        user = get_user_model().objects.create_user(name, password=f"{name}-Password-1")
        for code, role in memberships:
            Membership.objects.create(user=user, center=centers[code] if code else None, role=role)
        users[name] = user
    return Registry(centers=centers, users=users)
