"""Request middleware of the accounts app."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

from carta.web.accounts import access

Handler = Callable[[HttpRequest], HttpResponseBase]


def request_grants(get_response: Handler) -> Handler:
    """Read each user's permissions at most once per request (ADR 0290): the view, the
    selectors and the services it calls all ask them."""

    def middleware(request: HttpRequest) -> HttpResponseBase:
        with access.request_scope():
            return get_response(request)

    return middleware
