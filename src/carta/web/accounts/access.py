"""The only center-scoping code: who may do what to which center's records (ADR 0203).

Every read passes its queryset through :func:`restrict`; every write checks
:func:`require_record` or :func:`require_center`. A record of a center the user may not view is
reported as missing (``Model.DoesNotExist``, a 404), never as forbidden, so a user cannot learn
that another center's patient exists. A user who may view a record but not perform the action
gets ``PermissionDenied`` (a 403).

Superusers count as network administrators. Inactive and anonymous users see nothing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, PermissionDenied
from django.db import models
from django.db.models import Exists, Q

from carta.web.accounts.models import Center, Membership
from carta.web.accounts.roles import ROLE_ACTIONS, Action, Role, roles_allowing

ModelT = TypeVar("ModelT", bound=models.Model)


def center_path(model: type[models.Model]) -> str:
    """The lookup from ``model`` to the center its rows belong to.

    A center itself; a row with a ``patient`` belongs to the patient's center; otherwise the
    row's own ``center``.
    """
    if issubclass(model, Center):
        return "pk"
    for name, path in (("patient", "patient__center"), ("center", "center")):
        try:
            model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        return path
    raise ImproperlyConfigured(f"{model.__name__} has neither a patient nor a center field")


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def _network_wide(user: Any, action: Action) -> bool:
    """True when a superuser's implicit network role allows ``action`` everywhere."""
    return bool(user.is_superuser and action in ROLE_ACTIONS[Role.NETWORK_ADMIN])


def _grant_condition(user: Any, action: Action, path: str) -> Q:
    """Rows of the centers where ``user`` has a role allowing ``action``."""
    roles = roles_allowing(action)
    centers = Membership.objects.filter(user=user, role__in=roles, center__isnull=False).values(
        "center_id"
    )
    condition = Q(**{f"{path}__in": centers})
    if Role.NETWORK_ADMIN in roles:
        network = Membership.objects.filter(user=user, role=Role.NETWORK_ADMIN)
        condition |= Q(Exists(network))
    return condition


def restrict(
    queryset: models.QuerySet[ModelT], user: Any, action: Action
) -> models.QuerySet[ModelT]:
    """``queryset`` narrowed to the rows ``user`` may ``action`` (one SQL query, no extra)."""
    if not _active(user):
        return queryset.none()
    if _network_wide(user, action):
        return queryset
    return queryset.filter(_grant_condition(user, action, center_path(queryset.model)))


def centers(user: Any, action: Action) -> models.QuerySet[Center]:
    """The centers whose records ``user`` may ``action``."""
    return restrict(Center.objects.all(), user, action)


def can(user: Any, center: Center | None, action: Action) -> bool:
    """May ``user`` ``action`` the records of ``center``? ``None`` asks for a network-level
    action (creating centers, granting network roles)."""
    if not _active(user):
        return False
    if _network_wide(user, action):
        return True
    roles = roles_allowing(action)
    condition = Q(role=Role.NETWORK_ADMIN) if Role.NETWORK_ADMIN in roles else Q(pk__in=[])
    if center is not None:
        condition |= Q(center=center, role__in=roles)
    return Membership.objects.filter(condition, user=user).exists()


def require_center(user: Any, center: Center | None, action: Action) -> None:
    """Raise ``PermissionDenied`` unless ``user`` may ``action`` at ``center``."""
    if not can(user, center, action):
        raise PermissionDenied(f"{action} not allowed at this center")


def require_record(user: Any, record: models.Model, action: Action) -> None:
    """Raise ``DoesNotExist`` if ``user`` may not view ``record``, ``PermissionDenied`` if they
    may view it but not ``action`` it.

    Within a request (:func:`request_scope`) a record that carries its own center (a patient,
    read from the database in this request) is answered from the request's grants, with no
    query (ADR 0290); elsewhere by a scoped query.
    """
    model = type(record)
    center_id = _own_center_id(record)
    if center_id is not None and _request_grants.get() is not None:
        answer = grants(user)
        allowed, visible = answer.may(center_id, action), answer.may(center_id, "view")
    else:
        rows = model._default_manager.filter(pk=record.pk)
        allowed = restrict(rows, user, action).exists()
        visible = allowed or (action != "view" and restrict(rows, user, "view").exists())
    if allowed:
        return
    if visible:
        raise PermissionDenied(f"{action} not allowed on this record")
    raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")


def _own_center_id(record: models.Model) -> Any:
    """The center key a stored row names itself (``center_id`` of a row scoped by its own
    ``center``), else ``None``: rows scoped through their patient are checked by query."""
    if record._state.adding or center_path(type(record)) != "center":
        return None
    return getattr(record, "center_id", None)


@dataclass(frozen=True, slots=True)
class Grants:
    """What one user may do at which center, read once (one small query) and answered in
    Python with the rules of :func:`restrict` and :func:`can`.

    For a request that asks several questions about one record (the patient page: view,
    change, identify): compiling one scoped query per question costs more CPU than the
    queries themselves. Read it per request, never keep it: a role taken away must count at
    the next request.
    """

    active: bool
    superuser: bool
    network_admin: bool
    roles: Mapping[Any, frozenset[str]]

    def may(self, center_id: Any, action: Action) -> bool:
        """May the user ``action`` the records of the center with this key?"""
        if not self.active:
            return False
        allowing = roles_allowing(action)
        if (self.superuser and action in ROLE_ACTIONS[Role.NETWORK_ADMIN]) or (
            self.network_admin and Role.NETWORK_ADMIN in allowing
        ):
            return True
        return any(role in allowing for role in self.roles.get(center_id, ()))

    def centers(self, action: Action) -> frozenset[Any] | None:
        """The keys of the centers whose records the user may ``action`` (``None``: all)."""
        if self.may(None, action):  # network-wide
            return None
        return frozenset(center for center in self.roles if self.may(center, action))


# The grants read in the current request, by user key (ADR 0290): a view, the selectors and
# the services it calls ask them several times, and each read is a query. ``None`` outside a
# request (a management command, a test calling a service), where every call reads anew.
_request_grants: ContextVar[dict[Any, Grants] | None] = ContextVar(
    "carta_request_grants", default=None
)


@contextmanager
def request_scope() -> Iterator[None]:
    """Keep each user's grants for the length of one request (the middleware's ``with``).

    Never longer: a role taken away counts at the next request. A membership or user changed
    during the request clears what was kept (:func:`forget_request_grants`)."""
    token = _request_grants.set({})
    try:
        yield
    finally:
        _request_grants.reset(token)


def forget_request_grants(**_signal: Any) -> None:
    """Drop the grants kept in this request (a membership or user was saved or deleted)."""
    kept = _request_grants.get()
    if kept is not None:
        kept.clear()


def grants(user: Any) -> Grants:
    """The user's :class:`Grants` (no query for an inactive or anonymous user; one per
    request and user inside :func:`request_scope`)."""
    if not _active(user):
        return Grants(active=False, superuser=False, network_admin=False, roles={})
    kept = _request_grants.get()
    if kept is not None and user.pk in kept:
        return kept[user.pk]
    read = _read_grants(user)
    if kept is not None:
        kept[user.pk] = read
    return read


def _read_grants(user: Any) -> Grants:
    roles: dict[Any, set[str]] = {}
    network_admin = False
    for center_id, role in Membership.objects.filter(user=user).values_list("center_id", "role"):
        network_admin = network_admin or role == Role.NETWORK_ADMIN
        if center_id is not None:
            roles.setdefault(center_id, set()).add(role)
    return Grants(
        active=True,
        superuser=bool(user.is_superuser),
        network_admin=network_admin,
        roles={center: frozenset(names) for center, names in roles.items()},
    )


def is_network_admin(user: Any) -> bool:
    """Does ``user`` hold the network administrator role (or is a superuser)?"""
    if not _active(user):
        return False
    return (
        bool(user.is_superuser)
        or Membership.objects.filter(user=user, role=Role.NETWORK_ADMIN).exists()
    )
