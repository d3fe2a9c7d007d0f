"""Django's model backend with login throttling in front of it."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from carta.web.accounts import throttle


class ThrottledModelBackend(ModelBackend):
    """Refuses a locked-out username+address before checking the password.

    Raising ``PermissionDenied`` makes ``django.contrib.auth.authenticate`` stop, send
    ``user_login_failed`` and return ``None``: the login form and the API token endpoint
    both see an ordinary failed login.
    """

    def authenticate(
        self,
        request: Any,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        """Authenticate unless locked out; count failures, reset on success."""
        if username is None:
            username = kwargs.get(get_user_model().USERNAME_FIELD)
        if username is None or password is None:
            return None
        address = throttle.client_address(request)
        if throttle.is_locked(username, address):
            raise PermissionDenied("too many failed logins")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            throttle.record_failure(username, address)
        else:
            throttle.reset(username, address)
        return user
