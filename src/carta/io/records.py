"""Records (JSON-like dicts) to Polars frames and back, with nested groups as dotted columns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from carta.clinical.vocabulary import VASOPRESSORS

# Nested groups that are flattened to dotted columns: ``{"ice_items": {"orientation_year": 1}}``
# becomes the column ``ice_items.orientation_year``; ``anc_by_day`` becomes ``anc_by_day.0`` ..
# ``anc_by_day.30``. A list of objects (``anc_measurements: [{"day": 31, "anc": 400}, ...]``)
# becomes one list column per key (``anc_measurements.day``, ``anc_measurements.anc``). Plain
# lists (``times_days``, ``levels``) stay list columns. In CSV, a list cell is written as
# values separated by ``;``.
FLATTENED_GROUPS = ("ice_items", "capd_items", "anc_by_day")
LIST_SEPARATOR = ";"
LIST_OF_OBJECTS = {"anc_measurements": ("day", "anc")}

# The vasopressor list becomes one boolean column per recognised agent
# (``vasopressors.norepinephrine`` ...): a column per flag is what vectorised grading reads
# fastest, and it is how a CSV spells a list. ``null`` (unknown) makes every flag null;
# ``[]`` makes every flag false.
VASOPRESSOR_FLAG_COLUMNS = tuple(f"vasopressors.{agent}" for agent in VASOPRESSORS)


def vasopressor_flags(agents: object) -> dict[str, bool | None]:
    """``["norepinephrine"]`` -> one flag per recognised agent; an unknown agent raises."""
    if agents is None:
        return dict.fromkeys(VASOPRESSOR_FLAG_COLUMNS)
    if isinstance(agents, str) or not isinstance(agents, list | tuple):
        raise ValueError(f"vasopressors: expected a list of agents, got {agents!r}")
    unknown = [agent for agent in agents if agent not in VASOPRESSORS]
    if unknown:
        raise ValueError(f"vasopressors: {unknown[0]!r} is not one of {', '.join(VASOPRESSORS)}")
    return {
        column: agent in agents
        for column, agent in zip(VASOPRESSOR_FLAG_COLUMNS, VASOPRESSORS, strict=True)
    }


def flatten_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """``{"ice_items": {"orientation_year": 1}}`` -> ``{"ice_items.orientation_year": 1}``."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        if key == "vasopressors":
            flat.update(vasopressor_flags(value))
        elif key in FLATTENED_GROUPS and isinstance(value, Mapping):
            for item, item_value in value.items():
                flat[f"{key}.{item}"] = item_value
        elif key in LIST_OF_OBJECTS and isinstance(value, list):
            for item in LIST_OF_OBJECTS[key]:
                flat[f"{key}.{item}"] = [
                    entry.get(item) if isinstance(entry, Mapping) else None for entry in value
                ]
        else:
            flat[key] = value
    return flat


def frame_from_records(records: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """A frame with one row per record, nested groups flattened, every key a column."""
    flat = [flatten_record(record) for record in records]
    columns: dict[str, None] = {}
    for row in flat:
        columns.update(dict.fromkeys(row))
    return pl.DataFrame(
        {name: [row.get(name) for row in flat] for name in columns},
        strict=False,
    )
