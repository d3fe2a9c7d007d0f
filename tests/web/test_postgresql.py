"""The web tests run a second time on a real PostgreSQL server, inside the same ``pytest``.

The outer run starts ``python -m pytest tests/web`` in a subprocess with ``DATABASE_URL``
pointing at PostgreSQL on 127.0.0.1:5432 (Django creates and drops its own test database);
the subprocess is marked so that it does not start itself again. Without a reachable server
the test is skipped, unless ``CARTA_REQUIRE_POSTGRES=1`` (CI), where that is a failure.
``CARTA_TEST_POSTGRES_URL`` overrides the server address.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

SUBRUN_FLAG = "CARTA_WEB_POSTGRES_SUBRUN"
REPOSITORY = Path(__file__).resolve().parents[2]
CANDIDATE_URLS = (
    "postgres://postgres@127.0.0.1:5432/test",
    "postgres://root@127.0.0.1:5432/test",
)
TIMEOUT_SECONDS = 1200


def _reachable_url() -> str | None:
    """The first PostgreSQL URL that accepts a connection, if any."""
    import psycopg

    configured = os.environ.get("CARTA_TEST_POSTGRES_URL")
    for url in (configured,) if configured else CANDIDATE_URLS:
        try:
            with psycopg.connect(url, connect_timeout=3):
                return url
        except psycopg.Error:
            continue
    return None


@pytest.mark.slow
def test_web_suite_passes_on_postgresql() -> None:
    if os.environ.get(SUBRUN_FLAG):
        pytest.skip("this is the PostgreSQL run itself")
    url = _reachable_url()
    if url is None:
        message = "PostgreSQL is not reachable at 127.0.0.1:5432 (user postgres or root, db test)"
        if os.environ.get("CARTA_REQUIRE_POSTGRES") == "1":
            pytest.fail(message + " and CARTA_REQUIRE_POSTGRES=1")
        pytest.skip(message + "; set CARTA_REQUIRE_POSTGRES=1 to make this a failure")
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        SUBRUN_FLAG: "1",
        "CARTA_TEST_DATABASE_NAME": f"test_carta_web_{os.getpid()}",
    }
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/web", "-q", "-p", "no:cacheprovider", "-rs"],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    report = result.stdout[-6000:] + result.stderr[-3000:]
    assert result.returncode == 0, report
    assert " passed" in result.stdout, report
    assert "SQLite keeps DELETE" not in result.stdout, "the PostgreSQL-only checks did not run"


def test_the_postgresql_run_uses_postgresql() -> None:
    if os.environ.get(SUBRUN_FLAG):
        assert connection.vendor == "postgresql"
    else:
        assert connection.vendor == "sqlite"
