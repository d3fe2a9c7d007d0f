"""``carta grade crs|icans`` grades through the coded outputs (ADR 0450); the files it writes
must be exactly what ``grade_frame`` and the writers give, in every format, across chunks."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from carta.analytics.rules import get_rule
from carta.cli import grade as grade_module
from carta.cli.main import main
from carta.io.writers import write_frame
from carta.synth import generate_network


@pytest.fixture(scope="module")
def days() -> pl.DataFrame:
    """Synthetic patient-days: identifiers and every CRS and ICANS input."""
    frame = generate_network(40, seed=9).patient_days
    inputs = {**get_rule("crs").input_schema, **get_rule("icans").input_schema}
    return frame.select("patient_id", "day", *(c for c in inputs if c in frame.columns))


def _expected(days: pl.DataFrame, rule_name: str, path: Path, file_format: str) -> Path:
    """What the command wrote before ADR 0450: grade_frame's lists, written by the writers."""
    rule = get_rule(rule_name)
    graded = rule.grade_frame(days.select(c for c in rule.input_schema if c in days.columns))
    label = grade_module.RULE_CRITERIA[rule_name].label
    result = pl.concat(
        [
            days.select("patient_id", "day"),
            graded.with_columns(pl.lit(label, dtype=pl.Enum([label])).alias("criteria")),
        ],
        how="horizontal",
    )
    write_frame(result, path, file_format)
    return path


@pytest.mark.parametrize("rule_name", ["crs", "icans"])
@pytest.mark.parametrize("file_format", ["parquet", "csv", "jsonl"])
def test_output_files_equal_the_list_path(
    days: pl.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rule_name: str,
    file_format: str,
) -> None:
    monkeypatch.setattr(grade_module, "CHUNK_ROWS", days.height // 3)  # several coded chunks
    source = tmp_path / "days.parquet"
    days.write_parquet(source)
    target = tmp_path / f"out.{file_format}"
    assert main(["grade", rule_name, str(source), "-o", str(target)]) == 0
    expected = _expected(days, rule_name, tmp_path / f"expected.{file_format}", file_format)
    if file_format == "parquet":
        got, want = pl.read_parquet(target), pl.read_parquet(expected)
        assert got.schema == want.schema
        assert got.equals(want)
    else:
        assert target.read_text() == expected.read_text()
    assert target.stat().st_size > 0
