"""Playwright driving Debian's Chromium against a live server of the registry.

These tests live under ``tests/web/`` so that Django is configured by ``tests/web/conftest.py``
exactly as for the other web tests (settings, throwaway data folder, personas) and so that
they rerun on PostgreSQL in ``tests/web/test_postgresql.py``'s subprocess.

Without ``/usr/bin/chromium`` the tests are skipped with the reason, unless
``CARTA_REQUIRE_BROWSER=1`` (CI), where that is a failure. Playwright's sync API runs an
event loop in the test thread, which trips Django's async-unsafe guard on every ORM call
from the test itself: ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set only while a test's browser is
open, never for the rest of the suite.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.web.views.conftest import compile_catalogue

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
TIMEOUT_MS = 30_000  # the ceiling of each element wait, reached only by a failure (or a
# machine shared with other test runs); a page of the registry renders in well under a second


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing (Debian package chromium)"
    if os.environ.get("CARTA_REQUIRE_BROWSER") == "1":
        pytest.fail(message + " and CARTA_REQUIRE_BROWSER=1")
    pytest.skip(message + "; set CARTA_REQUIRE_BROWSER=1 to make this a failure")


@pytest.fixture
def browser(transactional_db: None) -> Iterator[Any]:
    """A headless Chromium for one test, started after the test database is set up and
    stopped before it is flushed.

    Playwright's sync API runs its event loop in greenlets with their own context variables,
    and Django keeps its connections in context-local storage: while Playwright runs, the test
    thread sees a fresh connection object, without the serialized rollback contents that
    Django keeps on the first. A browser that outlived the test would make the flush at
    teardown recreate the content types (breaking the next serialized-rollback test); a
    browser per test costs about a second.
    """
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            yield chromium
            chromium.close()


@pytest.fixture(autouse=True)
def _catalogue(transactional_db: None) -> None:
    """A live server needs committed data, so these tests run in real transactions and the
    tables are emptied between them: the products catalogue is put back first."""
    from carta.web.registry.catalogue import sync_products
    from carta.web.registry.models import Product

    sync_products(Product)


@pytest.fixture(scope="session")
def _compiled_chinese() -> None:
    compile_catalogue()
    from django.utils.translation import trans_real

    trans_real._translations = {}


@pytest.fixture
def page(browser: Any, live_server: Any, _compiled_chinese: None) -> Iterator[Any]:
    """A fresh browser context (no cookies) in English, with the live server as base URL."""
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-US",
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def sign_in(page: Any) -> Callable[[str], Any]:
    """Sign in through the login form as one of the personas of ``tests/web/conftest.py``."""
    from playwright.sync_api import expect

    def sign(username: str) -> Any:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(f"{username}-Password-1")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Patients")
        return page

    return sign


def keep_screenshot(page: Any, name: str) -> None:
    """Save ``docs/screenshots/<name>.png`` unless it is already there (the committed set is
    not overwritten by every run)."""
    target = SCREENSHOTS / f"{name}.png"
    if not target.exists():
        page.screenshot(path=str(target), full_page=True)
