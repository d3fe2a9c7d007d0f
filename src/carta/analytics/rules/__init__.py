"""Vectorised (Polars) twins of the rules in :mod:`carta.clinical`, one module per rule.

Each module exports ``INPUT_SCHEMA`` (the canonical dtype of every input column it reads) and
``grade_frame(frame) -> frame`` returning, row for row, exactly the columns of the scalar
result's ``as_row()``. Parity with the scalar rules is tested on the spec tables.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import ModuleType

import polars as pl

# Command-line rule name -> module below this package.
RULE_MODULES: Mapping[str, str] = {
    "crs": "crs",
    "icans": "icans",
    "icaht-early": "icaht_early",
    "icaht-late": "icaht_late",
    "car-hematotox": "car_hematotox",
    "easix": "easix",
    "m-easix": "m_easix",
    "ctcae": "ctcae",
    "kinetics": "kinetics",
}


@dataclass(frozen=True, slots=True)
class BatchRule:
    """One vectorised rule: its name, input schema and grading function."""

    name: str
    input_schema: Mapping[str, pl.DataType | type[pl.DataType]]
    grade_frame: Callable[[pl.DataFrame], pl.DataFrame]


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{RULE_MODULES[name]}")


def get_rule(name: str) -> BatchRule:
    """The batch rule called ``name`` on the command line (``crs``, ``icaht-early`` ...)."""
    if name not in RULE_MODULES:
        raise KeyError(f"unknown rule {name!r}; expected one of {', '.join(RULE_MODULES)}")
    module = _module(name)
    return BatchRule(name=name, input_schema=module.INPUT_SCHEMA, grade_frame=module.grade_frame)
