"""``carta report``: HTML (and PDF) written atomically; bad filters, groups and outputs refused
with exit code 2, a message naming the fault, and no file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from carta.analytics.report.pdf import find_chromium
from carta.analytics.report.text import LANGUAGES
from carta.cli import main as carta_main
from carta.cli import report
from carta.synth import generate_network, write_parquet


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cli-report-export")
    write_parquet(generate_network(150, seed=5), folder)
    return folder


def test_languages_match_the_catalogue() -> None:
    assert report.LANGUAGES == LANGUAGES
    assert report.EXIT_USAGE == carta_main.EXIT_USAGE


def test_html_report(export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "report.html"
    code = carta_main.main(
        ["report", str(export), "-o", str(target), "--group", "sex", "--lang", "zh-hans"]
    )
    assert code == 0, capsys.readouterr().err
    html = target.read_text(encoding="utf-8")
    assert "基线特征" in html and "合成数据" in html
    assert "carta report: [1/9] cohort" in capsys.readouterr().err  # progress on stderr
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # no temporary left


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--cohort", "product=axi-cel"], "no column 'product'"),
        (["--cohort", "disease=dlbcl"], "never holds 'dlbcl'"),
        (["--cohort", "disease=mm,sex=female|male,product_code=axi-cel"], "leave no patient"),
        (["--cohort", "disease"], "COLUMN=VALUE"),
        (["--group", "diseas"], "did you mean 'disease'"),
        (["--covariates", "age,sex"], "no column 'age'"),
    ],
)
def test_bad_input_writes_nothing(
    export: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    options: list[str],
    message: str,
) -> None:
    target = tmp_path / "report.html"
    code = carta_main.main(["report", str(export), "-o", str(target), "--quiet", *options])
    assert code == carta_main.EXIT_USAGE
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("output", "extra", "message"),
    [
        ("report.txt", [], "name the report .html or .pdf"),
        ("report.html", ["--pdf", "report.html"], "name the file .pdf"),
        ("missing/report.html", [], "does not exist"),
    ],
)
def test_bad_outputs(
    export: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    output: str,
    extra: list[str],
    message: str,
) -> None:
    extra = [str(tmp_path / value) if value.endswith(".html") else value for value in extra]
    code = carta_main.main(["report", str(export), "-o", str(tmp_path / output), *extra])
    assert code == carta_main.EXIT_USAGE
    assert message in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_pdf_without_chromium_is_refused_before_work(
    export: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CARTA_CHROMIUM", str(tmp_path / "no-browser"))
    code = carta_main.main(["report", str(export), "-o", str(tmp_path / "r.pdf"), "--quiet"])
    assert code == carta_main.EXIT_USAGE
    assert "apt-get install chromium" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_html_is_still_written_when_the_pdf_cannot_be(
    export: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CARTA_CHROMIUM", str(tmp_path / "no-browser"))
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    code = carta_main.main(["report", str(export), "-o", str(html), "--pdf", str(pdf), "--quiet"])
    assert code == carta_main.EXIT_USAGE
    assert "the HTML report was written" in capsys.readouterr().err
    assert html.is_file() and not pdf.exists()


def test_pdf_report(export: Path, tmp_path: Path) -> None:
    if find_chromium() is None:
        message = "no Chromium to print the PDF with (Debian package chromium)"
        if os.environ.get("CARTA_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " and CARTA_REQUIRE_BROWSER=1")
        pytest.skip(message + "; set CARTA_REQUIRE_BROWSER=1 to make this a failure")
    target = tmp_path / "report.pdf"
    code = carta_main.main(["report", str(export), "-o", str(target), "--quiet"])
    assert code == 0
    assert target.read_bytes().startswith(b"%PDF")
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]
