"""``carta report``: HTML (and PDF) written atomically; bad filters, groups and outputs refused
with exit code 2, a message naming the fault, and no file."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
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
    assert "carta report: [1/12] cohort" in capsys.readouterr().err  # progress on stderr
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
        (["--compare", "ld_regimn"], "no column 'ld_regimn'"),
        (["--arms", "flu 30 / cy 300"], "--arms: give two different values"),
        (["--arms", "a,a"], "--arms: give two different values"),
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


# --- carta report --registry: the registry database instead of DATA ---------------------------

ENTRY = "from carta.cli.main import run; run()"
REGISTRY_PATIENTS = 30
PATIENTS_FACT = re.compile(r"<dt>(?:Patients|患者数)</dt><dd>(\d+)</dd>")


def _carta(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """``carta ARGS`` in a subprocess: Django reads its settings once per process."""
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
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


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated demo database with a small synthetic network (``carta demo --no-serve``)."""
    folder = tmp_path_factory.mktemp("cli-report-registry")
    args = ["demo", "--no-serve", "--patients", str(REGISTRY_PATIENTS), "--data-dir", str(folder)]
    made = _carta(args, _environment())
    assert made.returncode == 0, made.stderr
    return folder


def _patients_per_center(folder: Path) -> dict[str, int]:
    sql = (
        "SELECT c.code, count(DISTINCT p.id) FROM registry_patient p "
        "JOIN accounts_center c ON c.id = p.center_id "
        "JOIN registry_infusion i ON i.patient_id = p.id GROUP BY c.code"
    )
    with sqlite3.connect(folder / report.SQLITE_FILE) as connection:
        return dict(connection.execute(sql).fetchall())


def _patients_in(html: str) -> int:
    found = PATIENTS_FACT.search(html)
    assert found, "no patient count in the title block"
    return int(found.group(1))


def test_sqlite_file_name_matches_the_settings() -> None:
    from carta.web.config import SQLITE_FILE

    assert report.SQLITE_FILE == SQLITE_FILE


def test_registry_report_of_all_centers_and_of_some(demo_folder: Path, tmp_path: Path) -> None:
    counts = _patients_per_center(demo_folder)
    every = tmp_path / "all.html"
    done = _carta(
        ["report", "--registry", "--data-dir", str(demo_folder), "-o", str(every)],
        # DATABASE_URL must not divert --data-dir from the demo's database (as `carta demo`)
        _environment(DATABASE_URL="postgres://nobody@127.0.0.1:1/none"),
    )
    assert done.returncode == 0, done.stderr
    html = every.read_text(encoding="utf-8")
    assert _patients_in(html) == sum(counts.values())
    assert 'class="banner"' in html  # the demo's patients are synthetic
    assert f"carta registry ({', '.join(sorted(counts))})" in html

    chosen = sorted(counts)[:2]
    some = tmp_path / "some.html"
    centers = [option for code in chosen for option in ("--center", code.lower())]
    args = ["report", "--registry", *centers, "-o", str(some), "--lang", "zh-hans", "--quiet"]
    # Without --data-dir: the database `carta serve` would use (here CARTA_DATA_DIR's SQLite).
    env = _environment(CARTA_SECRET_KEY="k" * 60, CARTA_DATA_DIR=str(demo_folder))
    done = _carta([*args, "--group", "center_id"], env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # --quiet
    html = some.read_text(encoding="utf-8")
    assert _patients_in(html) == counts[chosen[0]] + counts[chosen[1]]
    assert "基线特征" in html and "合成数据" in html


def test_registry_errors_name_the_fault(demo_folder: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    base = ["report", "--registry", "--data-dir", str(demo_folder), "-o", str(target)]
    unknown = _carta([*base, "--center", "XX"], _environment())
    assert unknown.returncode == carta_main.EXIT_USAGE
    assert "no center 'XX' in the registry (its centers are: " in unknown.stderr
    assert "BJ" in unknown.stderr
    missing = _carta(
        ["report", "--registry", "--data-dir", str(tmp_path / "none"), "-o", str(target)],
        _environment(),
    )
    assert missing.returncode == carta_main.EXIT_USAGE
    assert "no carta database" in missing.stderr and "carta demo --no-serve" in missing.stderr
    filtered = _carta([*base, "--cohort", "disease=nothing"], _environment())
    assert filtered.returncode == carta_main.EXIT_USAGE
    assert "registry: cohort filter: column 'disease' never holds 'nothing'" in filtered.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["report", "-o", "r.html"], "give the cohort: a DATA file"),
        (["report", "data.csv", "--registry", "-o", "r.html"], "not both"),
        (["report", "data.csv", "--center", "BJ", "-o", "r.html"], "add --registry"),
        (["report", "data.csv", "--data-dir", "x", "-o", "r.html"], "add --registry"),
    ],
)
def test_data_or_registry(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert carta_main.main(args) == carta_main.EXIT_USAGE
    assert message in capsys.readouterr().err


def test_compare_options_reach_the_report(
    export: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import polars as pl

    from carta.analytics.report import read_report_data

    cohort = read_report_data(export).cohort
    counts = cohort["product_code"].value_counts().sort("count", descending=True)
    largest, second = counts["product_code"].head(2).to_list()
    target = tmp_path / "report.html"
    arms = f"{second},{largest}"  # the reference first: the second largest group
    code = carta_main.main(
        ["report", str(export), "-o", str(target), "--compare", "product_code", "--arms", arms]
    )
    assert code == 0, capsys.readouterr().err
    html = target.read_text(encoding="utf-8")
    n_second = int(cohort.filter(pl.col("product_code") == second).height)
    assert f"Product (product_code) = {largest}" in html
    assert f"against {second} (n = {n_second}, the reference); the arms as requested." in html
    assert "Logistic regression of response and severe toxicity" in html
    assert "Vein-to-vein time and overall survival" in html
