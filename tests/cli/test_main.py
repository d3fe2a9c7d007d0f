"""The ``carta`` entry point: help, version, usage errors, exit codes, the installed script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from carta.analytics.rules import RULE_MODULES
from carta.cli import grade as grade_module
from carta.cli.main import EXIT_UNEXPECTED, EXIT_USAGE, RULE_NAMES, main
from tests.io.fake_rule import fake_rule


def test_rule_names_match_the_registry() -> None:
    assert tuple(RULE_MODULES) == RULE_NAMES


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert "grade" in out and "demo" in out and "--version" in out


def test_grade_help_lists_rules_formats_and_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["grade", "--help"]) == 0
    out = capsys.readouterr().out
    for word in (*RULE_NAMES, "timeline", "--episodes", "parquet", "examples:", "carta grade crs"):
        assert word in out


def test_demo_help_has_examples_and_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--help"]) == 0
    out = capsys.readouterr().out
    for word in ("carta demo", "--data-dir", "--port", "--patients", "--no-serve", "--episodes"):
        assert word in out


@pytest.mark.parametrize("command", ["serve", "migrate", "createsuperuser"])
def test_web_commands_have_help_with_examples(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert "examples:" in out and f"carta {command}" in out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("carta ")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["grade"],
        ["grade", "nonsense", "x.csv"],
        ["grade", "crs", "x.csv", "--format", "xlsx"],
        ["frobnicate"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == EXIT_USAGE
    assert capsys.readouterr().err


def test_unexpected_error_is_one_short_message_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(frame: object) -> object:
        raise RuntimeError("boom")

    rule = fake_rule()
    monkeypatch.setattr(
        grade_module, "get_rule", lambda name: type(rule)(rule.name, rule.input_schema, broken)
    )
    (tmp_path / "in.csv").write_text("temperature_c\n38\n")
    assert main(["grade", "crs", str(tmp_path / "in.csv")]) == EXIT_UNEXPECTED
    err = capsys.readouterr().err
    assert "unexpected error: RuntimeError: boom" in err and "--debug" in err
    assert "Traceback" not in err
    assert main(["grade", "crs", str(tmp_path / "in.csv"), "--debug"]) == EXIT_UNEXPECTED
    assert "Traceback" in capsys.readouterr().err


def test_installed_script_runs_and_help_does_not_load_polars() -> None:
    script = shutil.which("carta", path=str(Path(sys.executable).parent))
    assert script is not None, "the carta script is not installed in this environment"
    done = subprocess.run([script, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("carta ")
    probe = (
        "import sys; from carta.cli.main import main; code = main(['grade', '--help']); "
        "print('polars' in sys.modules, code)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "False 0"
