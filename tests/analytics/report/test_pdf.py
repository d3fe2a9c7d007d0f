"""The PDF route: the report's HTML printed by headless Chromium, Chinese text included.

Skipped with the reason when Chromium is missing, unless ``CARTA_REQUIRE_BROWSER=1`` (CI),
where that is a failure (as tests/web/browser does)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from carta.analytics.report import ReportData, build_report, find_chromium, html_to_pdf, render_html
from carta.analytics.report.pdf import PdfUnavailableError, require_chromium


def _require_chromium() -> None:
    if find_chromium() is not None:
        return
    message = "no Chromium to print the PDF with (Debian package chromium)"
    if os.environ.get("CARTA_REQUIRE_BROWSER") == "1":
        pytest.fail(message + " and CARTA_REQUIRE_BROWSER=1")
    pytest.skip(message + "; set CARTA_REQUIRE_BROWSER=1 to make this a failure")


def test_chinese_pdf(tmp_path: Path, report_data: ReportData) -> None:
    _require_chromium()
    report = build_report(report_data.cohort.head(120), lang="zh-hans", synthetic=True)
    target = tmp_path / "report.pdf"
    html_to_pdf(render_html(report), target)
    content = target.read_bytes()
    assert content.startswith(b"%PDF")
    assert len(content) > 20_000  # text, tables and six figures, not an empty page
    if shutil.which("pdftotext") is None:
        return  # poppler-utils absent: the text check needs it
    text = subprocess.run(
        ["pdftotext", str(target), "-"], capture_output=True, text=True, check=True
    ).stdout
    for heading in ("基线特征", "总生存与无进展生存", "方法", "合成数据"):
        assert heading in text


def test_missing_chromium_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CARTA_CHROMIUM", str(tmp_path / "no-such-browser"))
    assert find_chromium() is None
    with pytest.raises(PdfUnavailableError, match="apt-get install chromium"):
        require_chromium()
