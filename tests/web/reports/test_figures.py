"""The plots as inline SVG: labels in the page's language, the CJK font and its fallback."""

from __future__ import annotations

import polars as pl
import pytest
from django.utils import translation

from carta.analytics.survival import kaplan_meier
from carta.web.reports import figures

COHORT = pl.DataFrame(
    {
        "days": [5.0, 8.0, 12.0, 20.0, 30.0, 31.0, 40.0, 41.0, 50.0, 66.0],
        "event": [1, 0, 1, 1, 0, 1, 0, 1, 1, 0],
        "arm": ["a", "b"] * 5,
    }
)


def _svg(language: str) -> str:
    curves = kaplan_meier(COHORT, "days", "event", "arm")
    with translation.override(language):
        return str(figures.km_svg(curves, {"a": "arm A", "b": "arm B"}, "os", "Overall"))


def test_a_plot_is_an_accessible_svg_element_with_its_group_labels() -> None:
    svg = _svg("en")
    assert svg.startswith("<svg ")
    assert 'role="img" aria-label="Overall"' in svg
    assert "<?xml" not in svg and "<!DOCTYPE" not in svg
    for text in ("Days since infusion", "Number at risk", "arm A (median", "arm B"):
        assert text in svg


def test_two_plots_of_one_page_share_no_element_id() -> None:
    import re

    curves = kaplan_meier(COHORT, "days", "event", "arm")
    first = str(figures.km_svg(curves, {}, "os", "OS"))
    second = str(figures.km_svg(curves, {}, "pfs", "PFS"))
    ids = set(re.findall(r'id="([^"]+)"', first))
    assert ids and not ids & set(re.findall(r'id="([^"]+)"', second))


@pytest.mark.usefixtures("chinese_catalogue")
def test_chinese_labels_use_the_cjk_font_when_installed() -> None:
    svg = _svg("zh-hans")
    assert "回输后天数" in svg and "风险人数" in svg
    if figures.cjk_font_available():
        assert figures.CJK_FONT in svg
    assert figures.CJK_FONT not in _svg("en")


@pytest.mark.usefixtures("chinese_catalogue")
def test_without_the_cjk_font_the_plot_still_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(figures._FONT_FOUND, figures.CJK_FONT, False)
    svg = _svg("zh-hans")
    assert "回输后天数" in svg
    assert figures.CJK_FONT not in svg


def test_an_unknown_font_is_reported_missing() -> None:
    assert not figures.cjk_font_available("No Such Font 12345")
