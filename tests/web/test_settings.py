"""Settings fail loudly with the fix; secure defaults outside demo and debug."""

from __future__ import annotations

import os
import runpy
import stat
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

import carta.web
from carta.web import config

SETTINGS_FILE = Path(carta.web.__file__).with_name("settings.py")
KEY = "k" * config.MIN_SECRET_KEY_LENGTH


def _load_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str
) -> dict[str, object]:
    """Execute a fresh copy of the settings module under ``env`` (the live settings stay)."""
    for name in list(os.environ):
        if name.startswith("CARTA_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv("CARTA_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(SETTINGS_FILE))


def test_no_secret_key_outside_demo_mode_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(ImproperlyConfigured, match="CARTA_SECRET_KEY is not set"):
        _load_settings(monkeypatch, tmp_path)


def test_short_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with pytest.raises(ImproperlyConfigured, match="CARTA_SECRET_KEY is 5 characters"):
        _load_settings(monkeypatch, tmp_path, CARTA_SECRET_KEY="short")


def test_demo_mode_keeps_a_random_key_in_the_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = _load_settings(monkeypatch, tmp_path, CARTA_DEMO="1")
    second = _load_settings(monkeypatch, tmp_path, CARTA_DEMO="yes")
    key_file = tmp_path / config.DEMO_SECRET_FILE
    assert first["SECRET_KEY"] == second["SECRET_KEY"] == key_file.read_text()
    assert len(str(first["SECRET_KEY"])) >= config.MIN_SECRET_KEY_LENGTH
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first["SESSION_COOKIE_SECURE"] is False  # the demo runs on plain http://127.0.0.1


def test_production_defaults_are_secure(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    loaded = _load_settings(monkeypatch, tmp_path, CARTA_SECRET_KEY=KEY)
    assert loaded["DEBUG"] is False
    assert loaded["SESSION_COOKIE_SECURE"] is True
    assert loaded["CSRF_COOKIE_SECURE"] is True
    assert loaded["SESSION_COOKIE_HTTPONLY"] is True
    assert loaded["CSRF_COOKIE_HTTPONLY"] is True
    assert loaded["SESSION_COOKIE_SAMESITE"] == loaded["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert loaded["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1", "[::1]"]


def test_default_database_is_sqlite_in_wal_mode_in_the_data_folder(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    loaded = _load_settings(monkeypatch, tmp_path, CARTA_SECRET_KEY=KEY)
    database = loaded["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert database["NAME"] == str(tmp_path / config.SQLITE_FILE)
    assert "journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_database_url_selects_postgresql(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    loaded = _load_settings(
        monkeypatch,
        tmp_path,
        CARTA_SECRET_KEY=KEY,
        DATABASE_URL="postgres://carta:secret@db.example.org:5433/registry",
    )
    database = loaded["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == (
        "db.example.org",
        5433,
        "registry",
    )


def test_bad_database_url_names_the_variable() -> None:
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        config.databases({"DATABASE_URL": "nonsense://x"}, folder=Path("."))


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("TRUE", True), ("off", False)])
def test_env_bool(raw: str, expected: bool) -> None:
    assert config.env_bool({"CARTA_DEBUG": raw}, "CARTA_DEBUG") is expected


def test_env_bool_refuses_other_words_naming_the_variable() -> None:
    with pytest.raises(ImproperlyConfigured, match="CARTA_DEBUG='maybe'"):
        config.env_bool({"CARTA_DEBUG": "maybe"}, "CARTA_DEBUG")


def test_env_int_and_list() -> None:
    assert config.env_int({}, "N", default=5) == 5
    with pytest.raises(ImproperlyConfigured, match="N='zero'"):
        config.env_int({"N": "zero"}, "N", default=5)
    hosts = config.env_list({"H": " a.org, b.org ,"}, "H", default=[])
    assert hosts == ["a.org", "b.org"]


def test_unwritable_data_folder_names_the_variable(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(ImproperlyConfigured, match="CARTA_DATA_DIR"):
        config.data_dir({"CARTA_DATA_DIR": str(blocker / "sub")})


def test_languages_and_middleware() -> None:
    assert settings.LANGUAGES == [("en", "English"), ("zh-hans", "简体中文")]
    assert "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in settings.MIDDLEWARE
    assert settings.USE_I18N
    assert settings.AUTH_USER_MODEL == "auth.User"


def test_the_test_run_uses_a_temporary_data_folder() -> None:
    assert Path(settings.DATA_DIR).name.startswith("carta-web-tests-")
