"""Signing in and out (Django's views, through the throttled backend) and the language
preference (ADR 0238).

The preference is kept where Django's ``LocaleMiddleware`` reads it - the language cookie -
and in the session, so it holds for the browser across logins for a year. It is set by a POST
from the header's switch; the next page is only followed when it is on this site.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import check_for_language

LANGUAGE_SESSION_KEY = "carta_language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60


class LoginView(auth_views.LoginView):
    """The sign-in page; failed and throttled attempts look the same (ADR 0206)."""

    template_name = "registration/login.html"
    redirect_authenticated_user = True
    next_page = reverse_lazy("registry:patient_list")


class LogoutView(auth_views.LogoutView):
    """Sign out (POST only, as Django requires) and return to the sign-in page."""

    next_page = reverse_lazy("accounts:login")


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else reverse("registry:home")


def set_language(request: HttpRequest) -> HttpResponse:
    """Remember the chosen interface language (English or Simplified Chinese)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    response = HttpResponseRedirect(_safe_next(request))
    language = request.POST.get("language", "")
    if language in dict(settings.LANGUAGES) and check_for_language(language):
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
    return response
