"""Signing in and out (Django's views, through the throttled backend) and the language
preference (ADR 0240, which replaces ADR 0238).

A signed-in user's language is saved on the user (:class:`accounts.models.Preference`,
through the audited service) and applied at every sign-in, on any device. Django's
``LocaleMiddleware`` reads it from the language cookie, so the switch and the sign-in both set
that cookie (and the session); an anonymous visitor's switch sets only the cookie, as before.
The switch is a POST; the next page is only followed when it is on this site.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language

from carta.web.accounts import services

LANGUAGE_SESSION_KEY = "carta_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60


class LoginView(auth_views.LoginView):
    """The sign-in page; failed and throttled attempts look the same (ADR 0206)."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("registry:patient_list")

    def form_valid(self, form: Any) -> HttpResponse:
        """Sign in, then apply the language the user saved (any device, any earlier cookie)."""
        response = super().form_valid(form)
        language = services.saved_language(form.get_user())
        if language:
            remember_language(self.request, response, language)
        return response


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only, as Django requires) and return to the sign-in page."""

    next_page = reverse_lazy("accounts:login")


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else reverse("registry:home")


def remember_language(request: HttpRequest, response: HttpResponse, language: str) -> None:
    """Make ``language`` this browser's: the cookie ``LocaleMiddleware`` reads, and the
    session."""
    request.session[LANGUAGE_SESSION_KEY] = language
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def set_language(request: HttpRequest) -> HttpResponse:
    """Switch the interface language (English or Simplified Chinese): for this browser, and
    saved on the user when signed in."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    response = HttpResponseRedirect(_safe_next(request))
    language = request.POST.get("language", "")
    if language in dict(settings.LANGUAGES) and check_for_language(language):
        if request.user.is_authenticated:
            services.set_language(actor=request.user, user=request.user, language=language)
        remember_language(request, response, language)
    return response
