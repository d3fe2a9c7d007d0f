"""Property tests for the CTCAE v5 items (reference section h, determinacy rule 0.3).

* Worsening any input (a lower lab value, a higher or longer fever, a lower ANC) never lowers
  the grade.
* A cannot_grade result becomes ok once the inputs listed in ``missing`` are supplied.
* Determinacy agrees with brute force: with some inputs unknown, the rule returns a grade
  exactly when every completion of the unknowns (drawn from values on both sides of every
  cut-off) gives that grade. A lab row's ``unit`` is not part of this: without its unit the
  value is not a known quantity (ADR 0168), so the row is always cannot_grade.
* Scalar / batch parity on random records of every term, with unknowns and impossible values.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from carta.analytics.rules import ctcae as batch
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.toxicity.ctcae_v5 import (
    CTCAE_UNITS,
    CTCAEObservation,
    CTCAEResult,
    IgGObservation,
    IgGResult,
    flag_igg,
    grade_ctcae,
)
from tests.spec.parity import check_both

FAST = settings(max_examples=200, deadline=None)
BATCH = settings(max_examples=40, deadline=None)

# Section h cut-offs restated for the tests (canonical units), and each term's plausible maximum.
CUTS = {
    "neutrophil_count_decreased": (1500.0, 1000.0, 500.0),
    "platelet_count_decreased": (75_000.0, 50_000.0, 25_000.0),
    "anemia": (10.0, 8.0),
    "white_blood_cell_decreased": (3000.0, 2000.0, 1000.0),
    "lymphocyte_count_decreased": (800.0, 500.0, 200.0),
}
CANONICAL_UNIT = {term: ("g/dL" if term == "anemia" else "cells/uL") for term in CUTS}
HIGH = {
    "neutrophil_count_decreased": 1e6,
    "platelet_count_decreased": 5e6,
    "anemia": 30.0,
    "white_blood_cell_decreased": 1e6,
    "lymphocyte_count_decreased": 1e6,
}
LAB_TERMS = sorted(CUTS)


def grade(record: Mapping[str, Any]) -> CTCAEResult:
    return grade_ctcae(observation_from_mapping(CTCAEObservation, record))


def grade_fast(record: Mapping[str, Any]) -> CTCAEResult:
    """The same, without the generic mapping reader (brute force grades many completions)."""
    return grade_ctcae(CTCAEObservation(**record))


def igg(record: Mapping[str, Any]) -> IgGResult:
    return flag_igg(observation_from_mapping(IgGObservation, record))


def known(record: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if value is not None}


def lab_value(term: str) -> st.SearchStrategy[float]:
    edges = [c + d for c in CUTS[term] for d in (-0.1, 0.0, 0.1)]
    return st.one_of(
        st.floats(0.0, HIGH[term]), st.floats(0.0, 2 * CUTS[term][0]), st.sampled_from(edges)
    )


@st.composite
def lab_rows(draw: st.DrawFn) -> dict[str, Any]:
    term = draw(st.sampled_from(LAB_TERMS))
    return {
        "term": term,
        "unit": CANONICAL_UNIT[term],
        "value": draw(lab_value(term)),
        "lln": draw(lab_value(term)),
    }


temperatures = st.one_of(
    st.floats(30.0, 45.0),
    st.sampled_from(
        [37.9, 37.94, 37.95, 38.0, 38.3, 38.34, 38.35, 38.4, 39.0, 39.05, 39.1, 40.0, 40.1]
    ),
)
hours = st.one_of(st.floats(0.0, 744.0), st.sampled_from([0.0, 24.0, 24.01, 25.0]))
minutes = st.one_of(st.floats(0.0, 44_640.0), st.sampled_from([0.0, 60.0, 60.5, 61.0]))
ancs = st.one_of(st.floats(0.0, 1e6), st.sampled_from([0.0, 999.0, 999.9, 1000.0, 1000.1]))


def fever_rows() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {"term": st.just("fever"), "max_temperature_c": temperatures, "hours_above_40": hours}
    )


def fn_rows() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "term": st.just("febrile_neutropenia"),
            "anc_per_uL": ancs,
            "max_single_temperature_c": temperatures,
            "longest_continuous_minutes_ge_38": minutes,
        }
    )


complete_rows = st.one_of(lab_rows(), fever_rows(), fn_rows())
# Fields that a worse value raises (+1) or lowers (-1), with the field's plausible bound.
WORSENING = {
    "value": -1,
    "max_temperature_c": +1,
    "hours_above_40": +1,
    "anc_per_uL": -1,
    "max_single_temperature_c": +1,
    "longest_continuous_minutes_ge_38": +1,
}
BOUND = {
    "max_temperature_c": 45.0,
    "hours_above_40": 744.0,
    "max_single_temperature_c": 45.0,
    "longest_continuous_minutes_ge_38": 44_640.0,
}


# --- monotonicity --------------------------------------------------------------------------------


@FAST
@given(complete_rows, st.floats(0.0, 1.0), st.data())
def test_worsening_any_input_never_lowers_the_grade(
    row: dict[str, Any], fraction: float, data: st.DataObject
) -> None:
    field = data.draw(st.sampled_from([name for name in WORSENING if name in row]))
    value = row[field]
    if WORSENING[field] < 0:
        worse = value - fraction * value  # towards 0
    else:
        worse = min(BOUND[field], value + fraction * (BOUND[field] - value))
    before, after = grade(row), grade({**row, field: worse})
    assert before.status == "ok" and after.status == "ok"
    assert before.grade is not None and after.grade is not None
    assert after.grade >= before.grade


@FAST
@given(lab_rows())
def test_lab_grade_matches_the_band_table(row: dict[str, Any]) -> None:
    cuts = CUTS[row["term"]]
    value = row["value"]
    below = [index for index, cut in enumerate(cuts) if value < cut]
    expected = 2 + max(below) if below else (1 if value < row["lln"] else 0)
    result = grade(row)
    assert result.grade == expected
    assert result.grade <= (3 if row["term"] == "anemia" else 4)


@FAST
@given(lab_rows(), st.sampled_from(["10^9/L", "10^3/uL", "cells/mm3"]))
def test_unit_alternates_give_the_grade_of_the_converted_value(
    row: dict[str, Any], unit: str
) -> None:
    """A row in an alternate unit grades like the row converted to the canonical unit."""
    if row["term"] == "anemia":
        unit, to_canonical = "g/L", 1 / 10
        alternate = {**row, "unit": unit, "value": row["value"] * 10, "lln": row["lln"] * 10}
        canonical = {**row, "value": alternate["value"] / 10, "lln": alternate["lln"] / 10}
    else:
        to_canonical = 1.0 if unit == "cells/mm3" else 1000.0
        alternate = {
            **row,
            "unit": unit,
            "value": row["value"] / to_canonical,
            "lln": row["lln"] / to_canonical,
        }
        canonical = {
            **row,
            "value": alternate["value"] * to_canonical,
            "lln": alternate["lln"] * to_canonical,
        }
    assert grade(alternate).status == "ok"
    assert grade(alternate).grade == grade(canonical).grade


# --- missing inputs and determinacy --------------------------------------------------------------

# Completion candidates for each unknown: values on both sides of every cut-off.
TEMPERATURE_GRID = [30.0, 37.9, 38.0, 38.3, 38.4, 39.0, 39.1, 40.0, 40.1, 45.0]
HOURS_GRID = [0.0, 24.0, 24.5, 744.0]
MINUTES_GRID = [0.0, 60.0, 61.0, 44_640.0]
ANC_GRID = [0.0, 999.0, 1000.0, 1e6]


def lab_grid(term: str, row: Mapping[str, Any], field: str) -> list[float]:
    points = {0.0, HIGH[term]}
    for cut in CUTS[term]:
        points |= {cut, math.nextafter(cut, 0.0)}
    for other in ("value", "lln"):
        if row.get(other) is not None and other != field:
            points |= {
                row[other],
                math.nextafter(row[other], 0.0),
                math.nextafter(row[other], math.inf),
            }
    return sorted(p for p in points if 0.0 <= p <= HIGH[term])


def grid(row: Mapping[str, Any], field: str) -> list[float]:
    if field in ("value", "lln"):
        return lab_grid(row["term"], row, field)
    return {
        "max_temperature_c": TEMPERATURE_GRID,
        "max_single_temperature_c": TEMPERATURE_GRID,
        "hours_above_40": HOURS_GRID,
        "longest_continuous_minutes_ge_38": MINUTES_GRID,
        "anc_per_uL": ANC_GRID,
    }[field]


def consistent(row: Mapping[str, Any], completed: set[str]) -> bool:
    """A completion may not contradict what is known: if the highest single temperature is below
    38.0 degC (after rounding), no reading reached 38.0, so the time at >= 38.0 is 0."""
    if not completed & {"max_single_temperature_c", "longest_continuous_minutes_ge_38"}:
        return True
    single, sustained = (
        row.get("max_single_temperature_c"),
        row.get("longest_continuous_minutes_ge_38"),
    )
    if single is None or sustained is None:
        return True
    return not (math.floor(single * 10 + 0.5 + 1e-9) < 380 and sustained > 0)


def completions(row: Mapping[str, Any], unknown: list[str]) -> list[dict[str, Any]]:
    grids = [grid(row, field) for field in unknown]
    filled = [
        {**row, **dict(zip(unknown, values, strict=True))} for values in itertools.product(*grids)
    ]
    return [candidate for candidate in filled if consistent(candidate, set(unknown))]


FIELDS_OF = {
    "lab": ("value", "lln"),
    "fever": ("max_temperature_c", "hours_above_40"),
    "febrile_neutropenia": (
        "anc_per_uL",
        "max_single_temperature_c",
        "longest_continuous_minutes_ge_38",
    ),
}


def fields_of(row: Mapping[str, Any]) -> tuple[str, ...]:
    return FIELDS_OF.get(row["term"], FIELDS_OF["lab"])


@settings(max_examples=100, deadline=None)
@given(complete_rows, st.data())
def test_determinacy_agrees_with_brute_force(row: dict[str, Any], data: st.DataObject) -> None:
    unknown = data.draw(st.lists(st.sampled_from(fields_of(row)), unique=True, min_size=1))
    # Plausibility bounds guard against typos; they are not knowledge that an unknown LLN is
    # below a value at the very top of the range (which no LLN above could then exceed).
    assume(row.get("value") != HIGH.get(row["term"]))
    partial = {key: value for key, value in row.items() if key not in unknown}
    grades = {grade_fast(candidate).grade for candidate in completions(partial, unknown)}
    assert None not in grades
    result = grade(partial)
    if len(grades) == 1:
        assert result.status == "ok"
        assert result.grade in grades
        assert result.missing == ()
    else:
        assert result.status == "cannot_grade"
        assert result.grade is None
        assert result.missing
        assert set(result.missing) <= set(unknown)


@FAST
@given(complete_rows, st.data())
def test_supplying_the_missing_inputs_gives_ok(row: dict[str, Any], data: st.DataObject) -> None:
    unknown = data.draw(st.lists(st.sampled_from(fields_of(row)), unique=True, min_size=1))
    partial = {key: value for key, value in row.items() if key not in unknown}
    result = grade(partial)
    assume(result.status == "cannot_grade")
    supplied = {**partial, **{field: row[field] for field in result.missing}}
    assert grade(supplied).status == "ok"


@FAST
@given(lab_rows(), st.booleans())
def test_lab_row_without_unit_or_term_is_cannot_grade(row: dict[str, Any], drop_term: bool) -> None:
    dropped = "term" if drop_term else "unit"
    result = grade({key: value for key, value in row.items() if key != dropped})
    assert result.status == "cannot_grade"
    assert result.missing == (dropped,)
    assert grade(row).status == "ok"


# --- parity --------------------------------------------------------------------------------------


def maybe(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    impossible = st.sampled_from([-1.0, math.nan, math.inf, 1e9])
    return st.one_of(st.none(), st.none(), strategy, impossible)


random_rows = st.fixed_dictionaries(
    {
        "term": st.one_of(st.none(), st.sampled_from([*LAB_TERMS, "fever", "febrile_neutropenia"])),
        "value": maybe(
            st.one_of(
                st.floats(0.0, 5e6),
                st.floats(0.0, 20.0),
                st.sampled_from([1500.0, 1.5, 75.0, 10.0, 100.0, 6.206]),
            )
        ),
        "unit": st.one_of(st.none(), st.sampled_from(CTCAE_UNITS)),
        "lln": maybe(
            st.one_of(
                st.floats(0.0, 5e6),
                st.floats(0.0, 20.0),
                st.sampled_from([1800.0, 1.8, 12.0, 120.0]),
            )
        ),
        "max_temperature_c": maybe(temperatures),
        "hours_above_40": maybe(hours),
        "anc_per_uL": maybe(ancs),
        "max_single_temperature_c": maybe(temperatures),
        "longest_continuous_minutes_ge_38": maybe(minutes),
    }
).map(known)


@BATCH
@given(st.lists(random_rows, min_size=1, max_size=40))
def test_scalar_batch_parity(records: list[dict[str, Any]]) -> None:
    assume(any(records))  # a frame needs a column to hold rows
    check_both(grade, batch.grade_frame, [(record, {}) for record in records])


@BATCH
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                "igg_mg_dL": maybe(
                    st.one_of(st.floats(0, 30_000), st.sampled_from([400.0, 400.1]))
                ),
                "igg_g_L": maybe(st.one_of(st.floats(0, 300), st.sampled_from([4.0, 4.001]))),
            }
        ).map(known),
        min_size=1,
        max_size=40,
    )
)
def test_igg_scalar_batch_parity(records: list[dict[str, Any]]) -> None:
    assume(any(records))
    check_both(igg, batch.flag_igg_frame, [(record, {}) for record in records])


@FAST
@given(st.floats(0, 30_000), st.floats(0, 1.0))
def test_igg_flag_is_monotone(value: float, fraction: float) -> None:
    lower = value * fraction
    assert igg({"igg_mg_dL": value}).igg_severe is (value <= 400)
    assert not (igg({"igg_mg_dL": value}).igg_severe and not igg({"igg_mg_dL": lower}).igg_severe)
