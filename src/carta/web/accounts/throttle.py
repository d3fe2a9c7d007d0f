"""Login throttling: after too many failed logins for one username from one address, refuse
every attempt (even with the right password) until the lockout expires (ADR 0206).

Counts live in Django's cache. The window slides: each failure restarts the lockout period.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.core.cache import cache

KEY_PREFIX = "carta:login-failures:"


def client_address(request: Any) -> str:
    """The peer address of ``request`` (``REMOTE_ADDR``); empty without a request.

    ``X-Forwarded-For`` is not trusted: behind a proxy every client shares the proxy's
    address, and the limit then applies per username.
    """
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))


def _key(username: str, address: str) -> str:
    digest = hashlib.sha256(f"{username.casefold()}\x00{address}".encode()).hexdigest()
    return KEY_PREFIX + digest


def failures(username: str, address: str) -> int:
    """Failed attempts counted in the current window."""
    return int(cache.get(_key(username, address), 0))


def is_locked(username: str, address: str) -> bool:
    """True while ``username`` from ``address`` is locked out."""
    return failures(username, address) >= settings.CARTA_LOGIN_MAX_FAILURES


def record_failure(username: str, address: str) -> int:
    """Count one failed attempt; returns the new count."""
    count = failures(username, address) + 1
    cache.set(_key(username, address), count, timeout=settings.CARTA_LOGIN_LOCKOUT_SECONDS)
    return count


def reset(username: str, address: str) -> None:
    """Forget the failures after a successful login."""
    cache.delete(_key(username, address))
