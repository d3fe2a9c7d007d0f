"""The roles a membership grants and the actions each role allows (ADR 0203).

Actions: ``view`` (read pseudonymised records), ``change`` (write through services),
``identify`` (see the identifying fields of the center's own patients) and ``manage``
(grant and revoke memberships).
"""

from __future__ import annotations

from typing import Literal

from django.utils.translation import gettext_lazy as _

Action = Literal["view", "change", "identify", "manage"]
ACTIONS: tuple[Action, ...] = ("view", "change", "identify", "manage")


class Role:
    """A user's role at one center (or, for network administrators, across the network)."""

    COORDINATOR = "coordinator"
    PHYSICIAN = "physician"
    CENTER_ADMIN = "center_admin"
    ANALYST = "analyst"
    NETWORK_ADMIN = "network_admin"


ROLE_CHOICES = [
    (Role.COORDINATOR, _("Coordinator")),
    (Role.PHYSICIAN, _("Physician")),
    (Role.CENTER_ADMIN, _("Center administrator")),
    (Role.ANALYST, _("Analyst")),
    (Role.NETWORK_ADMIN, _("Network administrator")),
]

ROLE_ACTIONS: dict[str, frozenset[Action]] = {
    Role.COORDINATOR: frozenset({"view", "change", "identify"}),
    Role.PHYSICIAN: frozenset({"view", "change", "identify"}),
    Role.CENTER_ADMIN: frozenset({"view", "change", "identify", "manage"}),
    Role.ANALYST: frozenset({"view"}),
    # Network administrators work on every center's pseudonymised data; identifying fields
    # stay with the patient's own center (ADR 0203).
    Role.NETWORK_ADMIN: frozenset({"view", "change", "manage"}),
}


def roles_allowing(action: Action) -> list[str]:
    """The roles whose memberships grant ``action``."""
    return [role for role, actions in ROLE_ACTIONS.items() if action in actions]
