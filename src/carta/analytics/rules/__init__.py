"""Vectorised (Polars) twins of the rules in :mod:`carta.clinical`, one module per rule.

Each module exports ``INPUT_SCHEMA`` (the canonical dtype of every input column it reads) and
``grade_frame(frame) -> frame`` returning, row for row, exactly the columns of the scalar
result's ``as_row()``. Parity with the scalar rules is tested on the spec tables. The
table-driven rules (CRS, ICANS) also export ``grade_frame_coded``, the same outputs in a
compact form that :func:`carta.analytics.rules.coded.decode` turns back (ADR 0450).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
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
    # The outputs in the coded form (ADR 0450), for the rules that have one; else None.
    grade_frame_coded: Callable[[pl.DataFrame], pl.DataFrame] | None = None


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"{__name__}.{RULE_MODULES[name]}")


def get_rule(name: str) -> BatchRule:
    """The batch rule called ``name`` on the command line (``crs``, ``icaht-early`` ...)."""
    if name not in RULE_MODULES:
        raise KeyError(f"unknown rule {name!r}; expected one of {', '.join(RULE_MODULES)}")
    module = _module(name)
    return BatchRule(
        name=name,
        input_schema=module.INPUT_SCHEMA,
        grade_frame=module.grade_frame,
        grade_frame_coded=getattr(module, "grade_frame_coded", None),
    )


def grade_together(
    frame: pl.DataFrame, names: Sequence[str], *, coded: bool = False
) -> dict[str, pl.DataFrame]:
    """Grade ``frame`` with several rules at once: ``{name: outputs}``.

    The rules run side by side in threads (Polars releases the GIL), so the stages of one rule
    that keep a single core busy overlap with the other rule's work (ADR 0450). With ``coded``,
    rules that have a coded form (``grade_frame_coded``) return it; the others return
    ``grade_frame``'s outputs.
    """
    rules = [get_rule(name) for name in names]

    def grade(rule: BatchRule) -> pl.DataFrame:
        if coded and rule.grade_frame_coded is not None:
            return rule.grade_frame_coded(frame)
        return rule.grade_frame(frame)

    if len(rules) < 2:
        return {rule.name: grade(rule) for rule in rules}
    with ThreadPoolExecutor(max_workers=len(rules), thread_name_prefix="carta-grade") as pool:
        graded = list(pool.map(grade, rules))
    return {rule.name: outputs for rule, outputs in zip(rules, graded, strict=True)}
