"""Run one spec table through the single-record rule and the vectorised rule, and compare.

Every spec test calls :func:`check_both`: each case's expected fields must hold for the scalar
result, and the batch output row must equal the scalar row exactly (every column).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl

from carta.clinical.results import RuleResult
from carta.io.records import frame_from_records

ScalarRule = Callable[[Mapping[str, Any]], RuleResult]
BatchRule = Callable[[pl.DataFrame], pl.DataFrame]


def _same(left: object, right: object) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return math.isclose(left, right, rel_tol=0.0, abs_tol=0.0) or (
            math.isnan(left) and math.isnan(right)
        )
    return left == right


def scalar_rows(
    scalar: ScalarRule, records: Sequence[Mapping[str, Any]]
) -> list[dict[str, object]]:
    """The scalar path's output rows."""
    return [scalar(record).as_row() for record in records]


def batch_rows(batch: BatchRule, records: Sequence[Mapping[str, Any]]) -> list[dict[str, object]]:
    """The batch path's output rows, for records run together in one frame."""
    return batch(frame_from_records(records)).to_dicts()


def check_both(
    scalar: ScalarRule,
    batch: BatchRule,
    cases: Sequence[tuple[Mapping[str, Any], Mapping[str, object]]],
) -> None:
    """Assert each case's expectations on the scalar row, and batch row == scalar row."""
    records = [record for record, _ in cases]
    from_scalar = scalar_rows(scalar, records)
    from_batch = batch_rows(batch, records)
    assert len(from_batch) == len(records)
    for index, ((record, expected), s_row, b_row) in enumerate(
        zip(cases, from_scalar, from_batch, strict=True)
    ):
        for key, value in expected.items():
            assert _same(s_row[key], value), (
                f"case {index} {record}: scalar {key}={s_row[key]!r}, expected {value!r}"
            )
        assert set(b_row) == set(s_row), (
            f"case {index}: batch columns {sorted(b_row)} != scalar {sorted(s_row)}"
        )
        for key in s_row:
            assert _same(b_row[key], s_row[key]), (
                f"case {index} {record}: batch {key}={b_row[key]!r}, scalar {s_row[key]!r}"
            )
