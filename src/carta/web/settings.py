"""Django settings for the carta registry: one module, driven by environment variables.

Variables (each read by a helper in :mod:`carta.web.config` that fails with the fix):

* ``CARTA_SECRET_KEY`` - required unless ``CARTA_DEMO=1`` (no default key outside demo mode).
* ``CARTA_DEMO`` - local demo: random key kept in the data folder, cookies not HTTPS-only.
* ``CARTA_DEBUG`` - Django debug pages (never in production).
* ``CARTA_ALLOWED_HOSTS`` - comma-separated host names (default: the loopback names).
* ``CARTA_CSRF_TRUSTED_ORIGINS`` - comma-separated origins behind a reverse proxy.
* ``DATABASE_URL`` - e.g. ``postgres://carta:...@127.0.0.1:5432/carta``; default: SQLite in
  WAL mode in ``CARTA_DATA_DIR`` (default ``platformdirs.user_data_dir("carta")``).
* ``CARTA_LOGIN_MAX_FAILURES`` / ``CARTA_LOGIN_LOCKOUT_SECONDS`` - login throttle.
* ``CARTA_STATIC_ROOT`` - where ``collectstatic`` writes (default ``<data dir>/static``).
* ``CARTA_CACHE_URL`` - ``locmem://`` (default), ``file:///folder`` or ``redis://host:6379/1``:
  the login throttle's counters and the patient page's rendered bodies (ADR 0286).
"""

from __future__ import annotations

import os
from pathlib import Path

from carta.web import config

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = config.data_dir(os.environ)

DEMO = config.env_bool(os.environ, "CARTA_DEMO")
DEBUG = config.env_bool(os.environ, "CARTA_DEBUG")
SECRET_KEY = config.secret_key(os.environ, demo=DEMO, folder=DATA_DIR)
ALLOWED_HOSTS = config.env_list(
    os.environ, "CARTA_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = config.env_list(os.environ, "CARTA_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "carta.web.accounts",
    "carta.web.audit",
    "carta.web.registry",
    "carta.web.imports",
    "carta.web.api",
    "carta.web.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "carta.web.accounts.middleware.request_grants",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "carta.web.urls"
WSGI_APPLICATION = "carta.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = config.databases(os.environ, folder=DATA_DIR)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- authentication -----------------------------------------------------------------------
# Django's default User (ADR 0202); passwords hashed by Django's default PBKDF2 hasher.
AUTHENTICATION_BACKENDS = ["carta.web.accounts.backends.ThrottledModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
CARTA_LOGIN_MAX_FAILURES = config.env_int(os.environ, "CARTA_LOGIN_MAX_FAILURES", default=5)
CARTA_LOGIN_LOCKOUT_SECONDS = config.env_int(
    os.environ, "CARTA_LOGIN_LOCKOUT_SECONDS", default=15 * 60
)
CACHES = config.caches(os.environ)
SESSION_ENGINE = config.session_engine(os.environ)

# --- cookies and transport security (ADR 0207) ----------------------------------------------
SECURE_COOKIES = not (DEMO or DEBUG)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_AGE = 8 * 60 * 60  # one working shift
CSRF_COOKIE_HTTPONLY = True  # templates send the token from {% csrf_token %}, not the cookie
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# --- languages --------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
# Each language is named in itself, as language switchers show it.
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
USE_I18N = True
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_TZ = True

# --- static files (whitenoise serves them from the app process) ------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = config.static_root(os.environ, folder=DATA_DIR)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = DEMO or DEBUG

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
