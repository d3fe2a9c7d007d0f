"""Batch-only checks of the vectorised CRS rule: frame shapes the record layer never produces,
output layout, and the exact float thresholds around every temperature boundary."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import pytest

from carta.analytics.rules import crs as batch
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.toxicity.crs_astct_2019 import CRSObservation, grade_crs
from carta.io.records import VASOPRESSOR_FLAG_COLUMNS, frame_from_records

FEBRILE_PRESENT: dict[str, Any] = {
    "temperature_c": 38.5,
    "fever_attributable_to_other_cause": False,
    "hypotension": "present",
    "hypotension_attributable_to_other_cause": False,
    "oxygen_device": "none",
    "hypoxia_attributable_to_other_cause": False,
}


def scalar_row(record: dict[str, Any]) -> dict[str, object]:
    return grade_crs(observation_from_mapping(CRSObservation, record)).as_row()


def test_output_columns_and_dtypes() -> None:
    out = batch.grade_frame(frame_from_records([{"temperature_c": 38.0}]))
    assert out.schema == pl.Schema(
        {
            "status": pl.String,
            "grade": pl.Int64,
            "reasons": pl.List(pl.String),
            "missing": pl.List(pl.String),
        }
    )
    assert list(out.columns) == list(scalar_row({"temperature_c": 38.0}))


def test_empty_frame_gives_no_rows() -> None:
    empty = pl.DataFrame(schema=batch.INPUT_SCHEMA)
    out = batch.grade_frame(empty)
    assert out.height == 0
    assert out.columns == ["status", "grade", "reasons", "missing"]


def test_frame_without_any_crs_column_is_all_unknown() -> None:
    out = batch.grade_frame(pl.DataFrame({"patient_id": ["a", "b", "c"]}))
    assert out.height == 3
    assert out.to_dicts() == [scalar_row({})] * 3


def test_partly_null_vasopressor_flags_make_the_list_unknown() -> None:
    """A CSV may leave one flag empty: any null flag means the list is unknown."""
    frame = frame_from_records([FEBRILE_PRESENT, FEBRILE_PRESENT]).with_columns(
        pl.Series("vasopressors.norepinephrine", [True, None]),
        pl.Series("vasopressors.epinephrine", [None, True]),
        *(
            pl.lit(False).alias(column)
            for column in VASOPRESSOR_FLAG_COLUMNS
            if column not in ("vasopressors.norepinephrine", "vasopressors.epinephrine")
        ),
    )
    expected = scalar_row({**FEBRILE_PRESENT, "vasopressors": None})
    assert expected["status"] == "cannot_grade"
    assert batch.grade_frame(frame).to_dicts() == [expected, expected]


def test_vasopressor_flags_given_as_typed_columns() -> None:
    flags = dict.fromkeys(VASOPRESSOR_FLAG_COLUMNS, False)
    rows = [
        {**FEBRILE_PRESENT, **flags, "vasopressors.vasopressin": True},
        {
            **FEBRILE_PRESENT,
            **flags,
            "vasopressors.dopamine": True,
            "vasopressors.epinephrine": True,
        },
        {**FEBRILE_PRESENT, **flags},
    ]
    frame = pl.DataFrame(rows).cast(
        {name: dtype for name, dtype in batch.INPUT_SCHEMA.items() if name in rows[0]}
    )
    grades = batch.grade_frame(frame)["grade"].to_list()
    assert grades == [3, 4, 2]


def _neighbours(value: float, steps: int = 3) -> list[float]:
    values = [value]
    low = high = value
    for _ in range(steps):
        low, high = math.nextafter(low, -math.inf), math.nextafter(high, math.inf)
        values += [low, high]
    return values


@pytest.mark.parametrize(
    ("field", "boundary"),
    [
        ("temperature_c", batch.FEVER_C),
        ("temperature_c", 37.95),
        ("temperature_c", 30.0),
        ("temperature_c", 45.0),
        ("temperature_f", batch.FEVER_F),
        ("temperature_f", 100.31),
        ("temperature_f", batch.FAHRENHEIT_MIN),
        ("temperature_f", batch.FAHRENHEIT_ABOVE),
        ("oxygen_flow_l_min", 6.0),
        ("oxygen_flow_l_min", 0.0),
        ("oxygen_flow_l_min", 80.0),
    ],
)
def test_batch_equals_scalar_on_every_double_next_to_a_boundary(
    field: str, boundary: float
) -> None:
    base = {**FEBRILE_PRESENT, "vasopressors": [], "oxygen_device": "nasal_cannula"}
    if field == "temperature_f":
        base["temperature_c"] = None
    records = [{**base, field: value} for value in _neighbours(boundary)]
    expected = [scalar_row(record) for record in records]
    assert batch.grade_frame(frame_from_records(records)).to_dicts() == expected


QUIET: dict[str, Any] = {
    "fever_attributable_to_other_cause": False,
    "crs_previously_diagnosed": False,
    "antipyretic_or_anticytokine_given": False,
    "hypotension": "none",
    "vasopressors": [],
    "oxygen_device": "none",
    "hypoxia_attributable_to_other_cause": False,
}


def test_the_thresholds_sit_exactly_on_the_scalar_boundary() -> None:
    """Just below each threshold the scalar says otherwise (no off-by-one-ulp threshold)."""

    def reasons(**temperature: float) -> object:
        return scalar_row({**QUIET, **temperature})["reasons"]

    assert reasons(temperature_c=batch.FEVER_C) == ["crs.fever"]
    assert reasons(temperature_c=math.nextafter(batch.FEVER_C, 0.0)) == ["crs.no_fever"]
    assert reasons(temperature_f=batch.FEVER_F) == ["crs.fever"]
    assert reasons(temperature_f=math.nextafter(batch.FEVER_F, 0.0)) == ["crs.no_fever"]
    assert reasons(temperature_f=batch.FAHRENHEIT_MIN) == ["crs.no_fever"]
    below_range = math.nextafter(batch.FAHRENHEIT_MIN, 0.0)
    assert reasons(temperature_f=below_range) == ["invalid:temperature_f"]
    assert reasons(temperature_f=math.nextafter(batch.FAHRENHEIT_ABOVE, 0.0)) == ["crs.fever"]
    assert reasons(temperature_f=batch.FAHRENHEIT_ABOVE) == ["invalid:temperature_f"]


def test_non_finite_numbers_are_invalid_rows() -> None:
    records = [
        {**FEBRILE_PRESENT, "temperature_c": math.nan},
        {**FEBRILE_PRESENT, "temperature_c": None, "temperature_f": math.inf},
        {**FEBRILE_PRESENT, "oxygen_flow_l_min": math.nan},
        {**FEBRILE_PRESENT, "oxygen_flow_l_min": -math.inf},
    ]
    out = batch.grade_frame(frame_from_records(records)).to_dicts()
    assert out == [scalar_row(record) for record in records]
    assert [row["reasons"] for row in out] == [
        ["invalid:temperature_c"],
        ["invalid:temperature_f"],
        ["invalid:oxygen_flow_l_min"],
        ["invalid:oxygen_flow_l_min"],
    ]


def test_a_large_frame_keeps_row_order() -> None:
    records = [
        {**QUIET, "temperature_c": 36.0 + (i % 40) / 10, "oxygen_device": device}
        for i, device in zip(range(3000), ["none", "cpap", "blow_by"] * 1000, strict=True)
    ]
    out = batch.grade_frame(frame_from_records(records)).to_dicts()
    assert out == [scalar_row(record) for record in records]
    assert {row["grade"] for row in out} == {0, 1, 2, 4}
