"""``carta demo`` (prepare, load, reuse), ``carta serve``, ``carta migrate`` and
``carta createsuperuser``.

The commands that start Django run in a subprocess: Django's settings are read once per
process, and the web tests' process has its own (``tests/web/conftest.py``).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from carta.cli import demo as demo_module
from carta.cli import main as main_module
from carta.cli import web
from carta.cli.main import EXIT_USAGE, main

ENTRY = "from carta.cli.main import run; run()"
DEMO_PATIENTS = 12


def _carta(
    args: list[str], env: dict[str, str], timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _environment(**extra: str) -> dict[str, str]:
    """The current environment without any carta/Django setting, plus ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("CARTA_", "DJANGO_")) and name != "DATABASE_URL"
    }
    env.update(extra)
    return env


def _scalar(database: Path, sql: str) -> object:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchone()[0]


def test_exit_codes_equal_the_main_module() -> None:
    assert web.EXIT_OK == main_module.EXIT_OK
    assert web.EXIT_USAGE == main_module.EXIT_USAGE


def test_demo_creates_the_database_loads_once_and_reuses_it(tmp_path: Path) -> None:
    folder = tmp_path / "demo data"
    args = ["demo", "--data-dir", str(folder), "--patients", str(DEMO_PATIENTS), "--no-serve"]
    # DATABASE_URL must not divert the demo from its embedded database.
    env = _environment(DATABASE_URL="postgres://nobody@127.0.0.1:1/none")

    first = _carta(args, env)
    assert first.returncode == 0, first.stderr
    database = folder / "carta.sqlite3"
    assert _scalar(database, "PRAGMA journal_mode") == "wal"
    assert _scalar(database, "SELECT count(*) FROM registry_patient") == DEMO_PATIENTS
    assert _scalar(database, "SELECT count(*) FROM registry_patient WHERE NOT is_synthetic") == 0
    assert _scalar(database, "SELECT count(*) FROM registry_dailyassessment") > DEMO_PATIENTS * 30
    centers = _scalar(database, "SELECT count(DISTINCT country) FROM accounts_center")
    assert isinstance(centers, int) and centers >= 2
    assert _scalar(database, "SELECT count(*) FROM accounts_center WHERE country = 'CN'") >= 3

    passwords = json.loads((folder / "demo-accounts.json").read_text())
    assert (folder / "demo-accounts.json").stat().st_mode & 0o077 == 0
    for username in ("coordinator.beijing", "coordinator.shanghai", "analyst", "network.admin"):
        assert f"{username}" in first.stdout and passwords[username] in first.stdout
    assert "http://127.0.0.1:8000/" in first.stdout and "synthetic" in first.stdout
    assert "Generating a synthetic network" in first.stdout

    second = _carta(args, env)
    assert second.returncode == 0, second.stderr
    assert "Generating a synthetic network" not in second.stdout
    assert _scalar(database, "SELECT count(*) FROM registry_patient") == DEMO_PATIENTS
    assert json.loads((folder / "demo-accounts.json").read_text()) == passwords
    assert passwords["analyst"] in second.stdout

    # The same database through DATABASE_URL's default (CARTA_DATA_DIR) outside demo mode.
    env = _environment(CARTA_SECRET_KEY="k" * 60, CARTA_DATA_DIR=str(folder))
    checked = _carta(["migrate", "--check"], env)
    assert checked.returncode == 0, checked.stderr  # every migration applied
    env["DJANGO_SUPERUSER_PASSWORD"] = "a-Long-Password-91"
    created = _carta(
        ["createsuperuser", "--username", "root", "--email", "root@example.org", "--no-input"],
        env,
    )
    assert created.returncode == 0, created.stderr
    assert _scalar(database, "SELECT is_superuser FROM auth_user WHERE username = 'root'") == 1


def test_serve_refuses_to_start_without_a_secret_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CARTA_SECRET_KEY", raising=False)
    monkeypatch.delenv("CARTA_DEMO", raising=False)
    assert main(["serve"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "CARTA_SECRET_KEY is not set" in err
    assert "secrets.token_urlsafe(50)" in err  # the fix is in the message


def test_serve_refuses_in_a_subprocess_too(tmp_path: Path) -> None:
    refused = _carta(["serve", "--port", "1"], _environment(CARTA_DATA_DIR=str(tmp_path)))
    assert refused.returncode == EXIT_USAGE
    assert "CARTA_SECRET_KEY" in refused.stderr and not (tmp_path / "carta.sqlite3").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--patients", "0", "--no-serve"], "--patients must be between"),
        (["demo", "--port", "0"], "--port must be between"),
        (["createsuperuser", "--no-input"], "DJANGO_SUPERUSER_PASSWORD"),
    ],
)
def test_bad_options_are_usage_errors(
    argv: list[str],
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("DJANGO_SUPERUSER_PASSWORD", raising=False)
    assert main(argv) == EXIT_USAGE
    assert message in capsys.readouterr().err


PO = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"

msgid "Patients"
msgstr "患者"
"""


def test_a_missing_catalogue_is_compiled_and_a_present_one_left_alone(tmp_path: Path) -> None:
    if shutil.which("msgfmt") is None:
        pytest.skip("GNU gettext's msgfmt is not installed")
    messages = tmp_path / "zh_Hans" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    (messages / "django.po").write_text(PO, encoding="utf-8")
    demo_module.compile_catalogues([tmp_path])
    compiled = messages / "django.mo"
    assert "患者".encode() in compiled.read_bytes()
    compiled.write_bytes(b"kept")
    demo_module.compile_catalogues([tmp_path])
    assert compiled.read_bytes() == b"kept"


def test_without_msgfmt_the_demo_warns_and_serves_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    messages = tmp_path / "zh_Hans" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    (messages / "django.po").write_text(PO, encoding="utf-8")
    monkeypatch.setattr(demo_module.shutil, "which", lambda name: None)
    demo_module.compile_catalogues([tmp_path])
    assert not (messages / "django.mo").exists()
    assert "msgfmt" in capsys.readouterr().err
