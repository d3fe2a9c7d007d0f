"""Print the API's OpenAPI schema, as committed in ``docs/api/openapi.json``.

    uv run python -m carta.web.api.schema > docs/api/openapi.json

The schema is generated in English, with the paths served under ``/api/``. Django is set up
with a throwaway secret key and data folder when the environment has none: generating the
schema touches no database.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import tempfile
from typing import Any

REGENERATE_COMMAND = "uv run python -m carta.web.api.schema > docs/api/openapi.json"
PATH_PREFIX = "/api/"


def openapi_schema() -> dict[str, Any]:
    """The schema served at ``/api/openapi.json``, in English."""
    from django.utils import translation

    from carta.web.api.api import api

    with translation.override("en"):
        schema = api.get_openapi_schema(path_prefix=PATH_PREFIX)
        return json.loads(json.dumps(schema, default=str))


def render(schema: dict[str, Any]) -> str:
    """The committed text: two-space indents, non-ASCII kept, a final newline."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "carta.web.settings")
    if not os.environ.get("CARTA_SECRET_KEY") and not os.environ.get("CARTA_DEMO"):
        os.environ["CARTA_SECRET_KEY"] = secrets.token_urlsafe(50)
    os.environ.setdefault("CARTA_DATA_DIR", tempfile.mkdtemp(prefix="carta-schema-"))
    import django

    django.setup()


def main() -> int:
    """Write the schema to standard output."""
    _setup_django()
    sys.stdout.write(render(openapi_schema()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
