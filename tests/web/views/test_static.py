"""The pages' own CSS and the vendored htmx are served from the app (no CDN)."""

from __future__ import annotations

from pathlib import Path

from django.contrib.staticfiles import finders
from django.test import Client
from django.urls import reverse

STATIC = Path(__file__).resolve().parents[3] / "src/carta/web/static"


def test_the_files_and_the_htmx_licence_note_are_there() -> None:
    assert (STATIC / "carta/carta.css").stat().st_size > 1000
    assert (STATIC / "vendor/htmx.min.js").read_text("utf-8").lstrip().startswith("var htmx")
    notes = (STATIC / "vendor/README.md").read_text("utf-8")
    assert "0BSD" in notes and "htmx.org" in notes


def test_pages_load_nothing_from_other_sites(db: None) -> None:
    page = Client().get(reverse("accounts:login")).content.decode()
    assert "/static/carta/carta.css" in page
    assert "/static/vendor/htmx.min.js" in page
    assert "http://" not in page and "https://" not in page


def test_the_static_finders_find_them() -> None:
    assert finders.find("carta/carta.css") is not None
    assert finders.find("vendor/htmx.min.js") is not None
