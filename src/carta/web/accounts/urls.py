"""Sign in, sign out and the language switch."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from carta.web.accounts import views

app_name = "accounts"

urlpatterns: list[URLPattern | URLResolver] = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("language/", views.set_language, name="language"),
]
