"""The Analytics page in a real browser: the demo analyst signs in, opens Analytics, sees the
Kaplan-Meier plot and switches the page to Chinese."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PATIENTS = 60
SEED = 4


@pytest.fixture
def demo_analyst() -> str:
    """A small synthetic network and the demo's analyst account (every synthetic center)."""
    from carta.synth import generate_network
    from carta.web import loader

    loader.load_network(generate_network(PATIENTS, seed=SEED), seed=SEED)
    analyst = next(account for account in loader.DEMO_ACCOUNTS if account.username == "analyst")
    loader.create_demo_accounts({"analyst": "analyst-Password-1"}, accounts=[analyst])
    return analyst.username


def test_the_demo_analyst_reads_survival_in_english_and_chinese(
    demo_analyst: str, sign_in: Callable[[str], Any]
) -> None:
    page = sign_in(demo_analyst)
    page.get_by_role("link", name="Analytics").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Analytics")
    expect(page.locator(".synthetic-banner")).to_be_visible()
    km = page.locator("svg[data-plot=os]")
    expect(km).to_be_visible()
    expect(km).to_contain_text("Number at risk")
    expect(page.get_by_role("heading", name="Overall survival", exact=True)).to_be_visible()

    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", level=1)).to_have_text("数据分析")
    expect(page.get_by_role("heading", name="总生存", exact=True)).to_be_visible()
    expect(page.locator("svg[data-plot=os]")).to_contain_text("风险人数")
