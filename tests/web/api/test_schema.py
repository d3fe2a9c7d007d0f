"""The committed OpenAPI schema (docs/api/openapi.json) is the one the API serves."""

from __future__ import annotations

import difflib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from carta.web.api import schema
from tests.web.api.conftest import ApiClient

REPOSITORY = Path(__file__).resolve().parents[3]
COMMITTED = REPOSITORY / "docs" / "api" / "openapi.json"
DIFF_LINES_SHOWN = 200


def test_the_committed_schema_is_current() -> None:
    current = schema.render(schema.openapi_schema())
    committed = COMMITTED.read_text(encoding="utf-8") if COMMITTED.exists() else ""
    if committed != current:
        diff = difflib.unified_diff(
            committed.splitlines(keepends=True),
            current.splitlines(keepends=True),
            fromfile="docs/api/openapi.json (committed)",
            tofile="docs/api/openapi.json (generated)",
        )
        shown = "".join(list(diff)[:DIFF_LINES_SHOWN])
        pytest.fail(
            "The API changed but docs/api/openapi.json did not. Regenerate it with\n\n"
            f"    {schema.REGENERATE_COMMAND}\n\nand commit it. Difference:\n{shown}",
            pytrace=False,
        )


def test_the_served_schema_is_the_generated_one(api: ApiClient) -> None:
    served = api.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == schema.openapi_schema()


def test_the_served_schema_is_english_whatever_the_language(api: ApiClient) -> None:
    served = api.get("/openapi.json", language="zh-hans").json()
    assert served == schema.openapi_schema()


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_operation_documents_its_errors_and_has_a_unique_id() -> None:
    document = schema.openapi_schema()
    operations = _operations(document)
    ids = [operation["operationId"] for _path, _method, operation in operations]
    assert len(ids) == len(set(ids)) >= 19
    for path, method, operation in operations:
        codes = set(operation["responses"])
        assert "401" in codes, (method, path)
        if operation.get("security") and (
            operation.get("parameters") or "requestBody" in operation
        ):
            assert {"404", "422"} <= codes or path == "/api/token", (method, path)


def test_every_path_is_served_under_api() -> None:
    assert all(path.startswith("/api/") for path in schema.openapi_schema()["paths"])


def test_the_command_prints_the_schema_without_configuration(tmp_path: Path) -> None:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CARTA_", "DJANGO_", "DATABASE_URL"))
    }
    environment["HOME"] = str(tmp_path)  # no user data folder is touched
    result = subprocess.run(
        [sys.executable, "-m", "carta.web.api.schema"],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == schema.openapi_schema()
