"""Cohort filters: parsing, close-name hints, and refusing a filter that keeps nobody."""

from __future__ import annotations

import polars as pl
import pytest

from carta.analytics.cohort import CohortError
from carta.analytics.report.filters import apply_filters, describe_filters, parse_filters

FRAME = pl.DataFrame(
    {
        "product_code": ["axi-cel", "tisa-cel", "ide-cel", "axi-cel"],
        "disease": ["lbcl", "lbcl", "mm", None],
    }
)


def test_parse() -> None:
    assert parse_filters("product_code=axi-cel, disease = lbcl|mm") == {
        "product_code": ("axi-cel",),
        "disease": ("lbcl", "mm"),
    }
    assert parse_filters(None) == {}
    assert parse_filters("  ") == {}


@pytest.mark.parametrize("text", ["product_code", "=lbcl", "disease=", "disease=lbcl|"])
def test_malformed(text: str) -> None:
    with pytest.raises(CohortError, match="COLUMN=VALUE"):
        parse_filters(text)


def test_twice() -> None:
    with pytest.raises(CohortError, match="twice"):
        parse_filters("disease=lbcl,disease=mm")


def test_apply_keeps_matching_rows_ignoring_case() -> None:
    kept = apply_filters(FRAME, {"product_code": ("AXI-CEL",), "disease": ("lbcl", "mm")})
    assert kept.to_dicts() == [{"product_code": "axi-cel", "disease": "lbcl"}]


def test_unknown_column_names_close_matches() -> None:
    with pytest.raises(CohortError, match=r"no column 'product'.*'product_code'"):
        apply_filters(FRAME, {"product": ("axi-cel",)})


def test_unknown_value_lists_the_values() -> None:
    with pytest.raises(CohortError, match=r"never holds 'dlbcl'.*did you mean 'lbcl'"):
        apply_filters(FRAME, {"disease": ("dlbcl",)})


def test_no_patient_left() -> None:
    with pytest.raises(CohortError, match="leave no patient"):
        apply_filters(FRAME, {"product_code": ("ide-cel",), "disease": ("lbcl",)})


def test_describe() -> None:
    assert describe_filters({"a": ("x", "y")}) == "a = x | y"
