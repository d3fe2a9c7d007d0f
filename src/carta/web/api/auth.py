"""Bearer tokens: issued for a username and password, stored hashed, refused after expiry.

``POST /api/token`` checks the password with :func:`django.contrib.auth.authenticate`, so the
login throttle of :class:`carta.web.accounts.backends.ThrottledModelBackend` applies to the API
exactly as to the login page (ADR 0206). The token is 32 random bytes; only its SHA-256 is
stored (a fast hash is enough for a random secret of that length, unlike for passwords), so a
copy of the database does not hand out working tokens (ADR 0261).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone, translation
from ninja.security import HttpBearer

from carta.web.accounts import services
from carta.web.api.models import ApiToken

TOKEN_PREFIX = "carta_"
TOKEN_BYTES = 32
# One working shift, as the session cookie (settings.SESSION_COOKIE_AGE); a deployment may
# set CARTA_API_TOKEN_HOURS in its settings.
DEFAULT_TOKEN_HOURS = 8
# Longer than any token we issue: anything longer is refused without a database query.
MAX_TOKEN_LENGTH = 128


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token (shown once) and when it expires."""

    token: str
    expires: datetime


def token_lifetime() -> timedelta:
    """How long a new token is valid (``CARTA_API_TOKEN_HOURS`` in the settings, default 8)."""
    return timedelta(hours=getattr(settings, "CARTA_API_TOKEN_HOURS", DEFAULT_TOKEN_HOURS))


def hash_token(token: str) -> str:
    """The stored form of a token (SHA-256, hex)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def login(request: HttpRequest, username: str, password: str) -> Any:
    """The active user with these credentials, or ``None`` (wrong password, unknown user,
    locked out by the throttle, or inactive)."""
    user = authenticate(request, username=username, password=password)
    if user is None or not user.is_active:
        return None
    return user


def issue_token(user: Any) -> IssuedToken:
    """Create a token for ``user``; the user's expired tokens are removed at the same time."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    expires = now + token_lifetime()
    with transaction.atomic():
        ApiToken.objects.filter(user=user, expires_at__lte=now).delete()
        ApiToken.objects.create(user=user, key_hash=hash_token(token), expires_at=expires)
    return IssuedToken(token=token, expires=expires)


def revoke_token(token: str) -> int:
    """Delete a token (logout); returns how many were deleted (0 or 1)."""
    deleted, _ = ApiToken.objects.filter(key_hash=hash_token(token)).delete()
    return deleted


def user_for_token(token: str) -> Any:
    """The active user a valid, unexpired token belongs to; ``None`` otherwise."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(token), expires_at__gt=timezone.now())
        .first()
    )
    if row is None or not row.user.is_active:
        return None
    return row.user


class BearerToken(HttpBearer):
    """``Authorization: Bearer <token>``; the token's user becomes ``request.auth`` (and
    ``request.user``, so code that reads the Django user sees the same person)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        """The token's user, or ``None`` (ninja answers 401)."""
        user = user_for_token(token.strip())
        if user is not None:
            request.user = user
            use_saved_language(request, user)
        return user


def use_saved_language(request: HttpRequest, user: Any) -> None:
    """Answer in the user's saved language when the request names none (ADR 0240): an
    ``Accept-Language`` header wins, as ``LocaleMiddleware`` already applied it."""
    if request.META.get("HTTP_ACCEPT_LANGUAGE", "").strip():
        return
    language = services.saved_language(user)
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = language


bearer = BearerToken()
