"""Reading carta's environment variables: each helper fails loudly and names the fix.

``settings.py`` is a list of calls to these helpers, so every rule about configuration (what is
required, what the default is, what a bad value looks like) lives here and is unit-tested.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dj_database_url
import platformdirs
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})
# Django's own deployment check asks for at least 50 characters.
MIN_SECRET_KEY_LENGTH = 50
GENERATE_KEY_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(50))'"
DEMO_SECRET_FILE = "demo-secret-key"
SQLITE_FILE = "carta.sqlite3"
# WAL lets readers proceed while one writer writes; IMMEDIATE takes the write lock at BEGIN so
# two writers queue instead of failing with "database is locked" half-way through a service.
SQLITE_INIT_COMMAND = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
SQLITE_TIMEOUT_SECONDS = 20
PERSISTENT_CONNECTION_SECONDS = 600

Environ = Mapping[str, str]


def env_bool(environ: Environ, name: str, *, default: bool = False) -> bool:
    """A yes/no variable: 1/true/yes/on or 0/false/no/off (any case)."""
    raw = environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a yes/no value: set {name}=1 or {name}=0.")


def env_int(environ: Environ, name: str, *, default: int, minimum: int = 1) -> int:
    """A whole number of at least ``minimum``."""
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        value = minimum - 1
    if value < minimum:
        raise ImproperlyConfigured(
            f"{name}={raw!r} must be a whole number >= {minimum}: e.g. {name}={default}."
        )
    return value


def env_list(environ: Environ, name: str, *, default: list[str]) -> list[str]:
    """A comma-separated list (``a.example.org,b.example.org``); spaces are ignored."""
    raw = environ.get(name)
    if raw is None or not raw.strip():
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


def data_dir(environ: Environ) -> Path:
    """``CARTA_DATA_DIR``, default the per-user data folder; created if missing."""
    raw = environ.get("CARTA_DATA_DIR")
    folder = Path(raw).expanduser() if raw else Path(platformdirs.user_data_dir("carta"))
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImproperlyConfigured(
            f"cannot create the data folder {folder} ({error.strerror}): "
            "set CARTA_DATA_DIR to a writable folder."
        ) from error
    return folder


def static_root(environ: Environ, *, folder: Path) -> Path:
    """``CARTA_STATIC_ROOT`` (where ``collectstatic`` writes), default ``<data dir>/static``;
    created if missing so whitenoise starts without a warning before the first collect."""
    raw = environ.get("CARTA_STATIC_ROOT")
    root = Path(raw).expanduser() if raw else folder / "static"
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ImproperlyConfigured(
            f"cannot create the static folder {root} ({error.strerror}): "
            "set CARTA_STATIC_ROOT to a writable folder."
        ) from error
    return root


def secret_key(environ: Environ, *, demo: bool, folder: Path) -> str:
    """``CARTA_SECRET_KEY``; required unless demo mode, where a random key is kept in the data
    folder (never a default key written in the source)."""
    key = environ.get("CARTA_SECRET_KEY", "")
    if key:
        if len(key) < MIN_SECRET_KEY_LENGTH:
            raise ImproperlyConfigured(
                f"CARTA_SECRET_KEY is {len(key)} characters; use at least "
                f"{MIN_SECRET_KEY_LENGTH}, e.g. from: {GENERATE_KEY_HINT}"
            )
        return key
    if demo:
        return _demo_secret_key(folder / DEMO_SECRET_FILE)
    raise ImproperlyConfigured(
        "CARTA_SECRET_KEY is not set. Set it to a long random value (generate one with: "
        f"{GENERATE_KEY_HINT}), or set CARTA_DEMO=1 to run the local demo."
    )


def _demo_secret_key(path: Path) -> str:
    """The demo's key: random on first run, then reused so demo sessions survive restarts."""
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_urlsafe(MIN_SECRET_KEY_LENGTH)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


def databases(environ: Environ, *, folder: Path) -> dict[str, dict[str, Any]]:
    """``DATABASE_URL`` (PostgreSQL in production), else embedded SQLite in the data folder."""
    url = environ.get("DATABASE_URL", "").strip()
    database = _parse_database_url(url) if url else _sqlite(folder / SQLITE_FILE)
    test_name = environ.get("CARTA_TEST_DATABASE_NAME", "").strip()
    if test_name:
        database["TEST"] = {"NAME": test_name}
    return {"default": database}


def _parse_database_url(url: str) -> dict[str, Any]:
    try:
        parsed = dj_database_url.parse(
            url, conn_max_age=PERSISTENT_CONNECTION_SECONDS, conn_health_checks=True
        )
    except ValueError as error:
        raise ImproperlyConfigured(
            f"DATABASE_URL is not a database URL ({error}): use e.g. "
            "DATABASE_URL=postgres://carta:PASSWORD@127.0.0.1:5432/carta"
        ) from error
    return dict(parsed)


def _sqlite(path: Path) -> dict[str, Any]:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {
            "init_command": SQLITE_INIT_COMMAND,
            "transaction_mode": "IMMEDIATE",
            "timeout": SQLITE_TIMEOUT_SECONDS,
        },
    }


# Django's cache holds the login throttle's counters and the patient page's rendered bodies
# (ADR 0286); the page's keys come from the database, so any backend is safe, and a shared one
# (Redis, or files on one machine) lets every server process reuse one rendering.
CACHE_BACKENDS = {
    "locmem": "django.core.cache.backends.locmem.LocMemCache",
    "file": "django.core.cache.backends.filebased.FileBasedCache",
    "redis": "django.core.cache.backends.redis.RedisCache",
    "rediss": "django.core.cache.backends.redis.RedisCache",
}
CACHE_MAX_ENTRIES = 5000
CACHE_HINT = (
    "use CARTA_CACHE_URL=locmem:// (each process its own, the default), "
    "file:///var/cache/carta (shared by the processes of one machine) or "
    "redis://127.0.0.1:6379/1 (needs the redis package)"
)


def caches(environ: Environ) -> dict[str, dict[str, Any]]:
    """``CARTA_CACHE_URL``: ``locmem://`` (default), ``file:///absolute/folder`` or
    ``redis://host:port/db``."""
    url = environ.get("CARTA_CACHE_URL", "").strip() or "locmem://"
    scheme, separator, rest = url.partition("://")
    backend = CACHE_BACKENDS.get(scheme.lower()) if separator else None
    if backend is None:
        raise ImproperlyConfigured(f"CARTA_CACHE_URL={url!r} is not a cache URL: {CACHE_HINT}.")
    options = {"MAX_ENTRIES": CACHE_MAX_ENTRIES}
    if scheme.lower() == "locmem":
        return {"default": {"BACKEND": backend, "LOCATION": rest, "OPTIONS": options}}
    if scheme.lower() == "file":
        if not rest.startswith("/"):
            raise ImproperlyConfigured(
                f"CARTA_CACHE_URL={url!r} needs an absolute folder: e.g. file:///var/cache/carta."
            )
        return {"default": {"BACKEND": backend, "LOCATION": rest, "OPTIONS": options}}
    try:
        import redis  # noqa: F401  (Django's Redis backend imports it on first use)
    except ImportError as error:
        raise ImproperlyConfigured(
            f"CARTA_CACHE_URL={url!r} needs the redis package: pip install redis, or {CACHE_HINT}."
        ) from error
    return {"default": {"BACKEND": backend, "LOCATION": url}}


def session_engine(environ: Environ) -> str:
    """Sessions in the database, read through the cache when the cache is shared by every
    server process (files or Redis): a session ended in one process must end in all of them,
    which a per-process memory cache cannot promise."""
    url = environ.get("CARTA_CACHE_URL", "").strip().lower()
    shared = url.startswith(("file://", "redis://", "rediss://"))
    return (
        "django.contrib.sessions.backends.cached_db"
        if shared
        else "django.contrib.sessions.backends.db"
    )
