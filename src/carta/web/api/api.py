"""The REST API: one :class:`ninja.NinjaAPI`, its error responses, and its routers.

Errors (ADR 0262): 401 without a valid token; 404 for a record that is missing *or* belongs
to a center the caller may not view (never a 403 that would confirm it exists); 403 for a
record the caller may view but not change (an analyst writing); 422 for bad input, one item
per field with its dotted path, and nothing saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist, PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from carta.web.api.auth import bearer
from carta.web.api.endpoints import (
    assessments,
    followups,
    infusions,
    patients,
    products,
    responses,
    risk,
    tokens,
)

TITLE = "carta registry API"
VERSION = "1.0.0"
DESCRIPTION = (
    "The carta registry's patients, infusions, daily assessments with computed CRS and ICANS "
    "grades, responses, follow-up visits, baseline risk scores and toxicity forecasts, with the same permissions as the web pages. "
    "Ask `POST /api/token` for a token and send `Authorization: Bearer <token>`. "
    "Answers are in the language of `Accept-Language` (`en`, `zh-hans`), else in the language "
    "the token's user saved in the web app. See docs/api.md."
)
# Where a pydantic error's location starts: ninja puts the parameter's name after the source
# (`body`, `payload`, `temperature_c`); the client only knows the field path.
SOURCES_WITH_PARAMETER_NAME = frozenset({"body"})


class CartaAPI(NinjaAPI):
    """NinjaAPI with operation IDs that are the view functions' names (``list_patients``)."""

    def get_openapi_operation_id(self, operation: Any) -> str:
        """The function's name: short, stable and unique across the endpoint modules."""
        return str(operation.view_func.__name__)


api = CartaAPI(
    title=TITLE,
    version=VERSION,
    description=DESCRIPTION,
    auth=bearer,
    urls_namespace="api",
    docs_url="/docs",
)

for module in (
    tokens,
    patients,
    infusions,
    assessments,
    responses,
    followups,
    risk,
    products,
):
    api.add_router("", module.router)


def _field_path(parts: Iterable[Any]) -> str | None:
    path = ".".join(str(part) for part in parts)
    return path or None


def _pydantic_item(error: dict[str, Any]) -> dict[str, Any]:
    location = list(error.get("loc", ()))
    source, rest = (location[0], location[1:]) if location else ("body", [])
    if source in SOURCES_WITH_PARAMETER_NAME and rest:
        rest = rest[1:]
    return {
        "field": _field_path(rest),
        "loc": [source, *rest],
        "msg": str(error.get("msg", "")),
        "type": str(error.get("type", "invalid")),
    }


def _service_items(error: DjangoValidationError) -> list[dict[str, Any]]:
    if not hasattr(error, "error_dict"):
        return [
            {"field": None, "loc": ["body"], "msg": str(message), "type": "invalid"}
            for message in error.messages
        ]
    items = []
    for name, messages in error.message_dict.items():
        field = None if name == NON_FIELD_ERRORS else name
        location = ["body", *field.split(".")] if field else ["body"]
        for message in messages:
            items.append({"field": field, "loc": location, "msg": str(message), "type": "invalid"})
    return items


def _json(request: HttpRequest, data: Any, status: int) -> HttpResponse:
    return api.create_response(request, data, status=status)


@api.exception_handler(NinjaValidationError)
def request_invalid(request: HttpRequest, error: NinjaValidationError) -> HttpResponse:
    """422: the request does not match the schema (type, bound, word, missing field)."""
    return _json(request, {"detail": [_pydantic_item(item) for item in error.errors]}, 422)


@api.exception_handler(DjangoValidationError)
def service_refused(request: HttpRequest, error: DjangoValidationError) -> HttpResponse:
    """422: a service refused the values (model validation, constraints, clinical ranges)."""
    return _json(request, {"detail": _service_items(error)}, 422)


@api.exception_handler(ObjectDoesNotExist)
@api.exception_handler(Http404)
def not_found(request: HttpRequest, error: Exception) -> HttpResponse:
    """404: missing, or another center's (the same answer, ADR 0203)."""
    return _json(request, {"detail": _("Not found.")}, 404)


@api.exception_handler(PermissionDenied)
def forbidden(request: HttpRequest, error: PermissionDenied) -> HttpResponse:
    """403: the caller may view this record but not do this to it."""
    return _json(request, {"detail": _("You are not allowed to do this.")}, 403)


@api.exception_handler(AuthenticationError)
def unauthorized(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
    """401: no token, an unknown or expired token, or an inactive user."""
    response = _json(
        request, {"detail": _("Send a valid token: Authorization: Bearer <token>.")}, 401
    )
    response["WWW-Authenticate"] = 'Bearer realm="carta"'
    return response
