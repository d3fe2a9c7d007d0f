"""docs/input-vocabulary.md names every column each rule reads and every word it allows."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from carta.analytics.rules import RULE_MODULES, get_rule
from carta.cli.grade import timeline_schema

DOC = Path(__file__).resolve().parents[2] / "docs" / "input-vocabulary.md"


def _words(dtype: object) -> list[str]:
    if isinstance(dtype, pl.List):
        return _words(dtype.inner)
    if isinstance(dtype, pl.Enum):
        return dtype.categories.to_list()
    return []


def _documented(column: str) -> str:
    """How the page names a column: day keys of early ICAHT are one entry."""
    return "`anc_by_day.0`" if column.startswith("anc_by_day.") else f"`{column}`"


@pytest.mark.parametrize("name", list(RULE_MODULES))
def test_every_input_column_and_word_is_documented(name: str) -> None:
    try:
        rule = get_rule(name)
    except ModuleNotFoundError:
        pytest.skip(f"the {name} rule module is not written yet")
    text = DOC.read_text(encoding="utf-8")
    for column, dtype in rule.input_schema.items():
        assert _documented(column) in text, f"{column} of {name} is not in {DOC.name}"
        for word in _words(dtype):
            assert f"`{word}`" in text, f"{column}: word {word!r} is not in {DOC.name}"


def test_timeline_columns_are_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for column in timeline_schema():
        assert _documented(column) in text
