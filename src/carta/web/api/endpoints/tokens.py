"""``/api/token``: exchange a username and password for a bearer token, or revoke one."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from carta.web.api import auth
from carta.web.api.schemas.common import ErrorOut, ValidationErrorOut
from carta.web.api.schemas.tokens import TokenIn, TokenOut

router = Router(tags=["authentication"])


@router.post(
    "/token",
    auth=None,
    response={200: TokenOut, 400: ErrorOut, 401: ErrorOut, 422: ValidationErrorOut},
)
def create_token(request: HttpRequest, payload: TokenIn) -> Any:
    """A bearer token for these credentials, valid for a working shift (8 hours by default).

    The login throttle applies: after too many failures for a username from one address,
    every attempt is refused (even with the right password) until the lockout ends.
    """
    user = auth.login(request, payload.username, payload.password)
    if user is None:
        return Status(
            401, {"detail": _("Wrong username or password, or too many failed attempts.")}
        )
    issued = auth.issue_token(user)
    return {"token": issued.token, "expires": issued.expires}


@router.delete("/token", response={204: None, 401: ErrorOut})
def revoke_token(request: HttpRequest) -> Any:
    """Revoke the token this request is sent with (log out)."""
    header = request.headers.get("Authorization", "")
    auth.revoke_token(header.partition(" ")[2].strip())
    return Status(204, None)
