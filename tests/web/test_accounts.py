"""Centers and memberships are managed through audited services; logins are throttled."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import RequestFactory, override_settings

from carta.web.accounts import access, services, throttle
from carta.web.accounts.models import Center, Membership
from carta.web.audit.models import AuditEvent
from tests.web.conftest import Network

# --- centers and memberships ------------------------------------------------------------------


def test_network_admin_creates_a_center(network: Network) -> None:
    center = services.create_center(
        actor=network.network_admin,
        code="GZ01",
        name="Guangzhou Demo",
        name_zh="广州示范医院",
        country="CN",
        city="Guangzhou",
    )
    event = AuditEvent.objects.get(target_type="accounts.center")
    assert event.after["code"] == "GZ01"
    assert event.after["name_zh"] == "广州示范医院"
    assert event.center_id == center.pk


@pytest.mark.parametrize("persona", ["center_admin", "coordinator", "nobody"])
def test_others_cannot_create_centers(network: Network, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        services.create_center(
            actor=getattr(network, persona), code="X", name="X", country="CN", city="X"
        )
    assert Center.objects.count() == 2


def test_bad_center_names_the_field(network: Network) -> None:
    with pytest.raises(ValidationError) as error:
        services.create_center(
            actor=network.network_admin, code="BJ01", name="Dup", country="CN", city="X"
        )
    assert "code" in error.value.message_dict


def test_center_admin_grants_and_revokes_at_their_center(network: Network) -> None:
    membership = services.grant_membership(
        actor=network.center_admin, user=network.nobody, center=network.beijing, role="analyst"
    )
    assert access.can(network.nobody, network.beijing, "view")
    services.grant_membership(
        actor=network.center_admin,
        user=network.nobody,
        center=network.beijing,
        role="physician",
        reason="joined the team",
    )
    change = AuditEvent.objects.get(target_type="accounts.membership", action="update")
    assert (change.before, change.after) == ({"role": "analyst"}, {"role": "physician"})
    assert change.reason == "joined the team"
    services.revoke_membership(
        actor=network.center_admin,
        membership=Membership.objects.get(pk=membership.pk),
        reason="left",
    )
    assert not access.can(network.nobody, network.beijing, "view")
    assert AuditEvent.objects.filter(target_type="accounts.membership").count() == 3


@pytest.mark.parametrize("persona", ["coordinator", "analyst", "other_coordinator", "nobody"])
def test_only_administrators_manage_memberships(network: Network, persona: str) -> None:
    with pytest.raises(PermissionDenied):
        services.grant_membership(
            actor=getattr(network, persona),
            user=network.nobody,
            center=network.beijing,
            role="coordinator",
        )


def test_only_network_admins_grant_the_network_role(network: Network) -> None:
    with pytest.raises(PermissionDenied):
        services.grant_membership(
            actor=network.center_admin, user=network.nobody, center=None, role="network_admin"
        )
    services.grant_membership(
        actor=network.network_admin, user=network.nobody, center=None, role="network_admin"
    )
    assert access.is_network_admin(network.nobody)


def test_a_center_role_needs_a_center(network: Network) -> None:
    with pytest.raises(ValidationError) as error:
        services.grant_membership(
            actor=network.network_admin, user=network.nobody, center=None, role="coordinator"
        )
    assert "center" in error.value.message_dict


# --- login throttling -------------------------------------------------------------------------


def _login(username: str, password: str, address: str = "10.0.0.1") -> object:
    request = RequestFactory().post("/login/", REMOTE_ADDR=address)
    return authenticate(request, username=username, password=password)


@override_settings(CARTA_LOGIN_MAX_FAILURES=3)
def test_locked_out_after_failed_logins_even_with_the_right_password(network: Network) -> None:
    for _ in range(3):
        assert _login("coordinator", "wrong") is None
    assert throttle.is_locked("coordinator", "10.0.0.1")
    assert _login("coordinator", "coordinator-Password-1") is None
    # another address, or another user, is not locked out
    assert (
        _login("coordinator", "coordinator-Password-1", address="10.0.0.2") == network.coordinator
    )
    assert _login("physician", "physician-Password-1") == network.physician


@override_settings(CARTA_LOGIN_MAX_FAILURES=3)
def test_a_successful_login_resets_the_count(network: Network) -> None:
    for _ in range(2):
        _login("coordinator", "wrong")
    assert _login("coordinator", "coordinator-Password-1") == network.coordinator
    assert throttle.failures("coordinator", "10.0.0.1") == 0


def test_usernames_are_counted_case_insensitively(db: None) -> None:
    throttle.record_failure("Alice", "1.2.3.4")
    assert throttle.failures("alice", "1.2.3.4") == 1


def test_passwords_are_hashed_by_django(network: Network) -> None:
    assert not network.coordinator.password.startswith("coordinator")
    assert "$" in network.coordinator.password
