"""Typing a table to a rule's schema: every value that does not fit is one named problem."""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl
import pytest

from carta.clinical.vocabulary import HYPOTENSION, VASOPRESSORS
from carta.io.problems import MAX_LISTED_PROBLEMS, BadInputError, InputProblem
from carta.io.readers import Table, read_table
from carta.io.records import VASOPRESSOR_FLAG_COLUMNS
from carta.io.validate import identifier_frame, typed_frame, unread_columns

FLAGS = dict.fromkeys(VASOPRESSOR_FLAG_COLUMNS, pl.Boolean)
SCHEMA = {
    "temperature_c": pl.Float64,
    "ice_score": pl.Int64,
    "died_due_to_crs": pl.Boolean,
    "hypotension": pl.Enum(list(HYPOTENSION)),
    "levels": pl.List(pl.Float64),
    **FLAGS,
}


def csv_table(**columns: list[str | None]) -> Table:
    """A table as the CSV reader makes it: every column text, header on line 1."""
    frame = pl.DataFrame(
        {name: pl.Series(values, dtype=pl.String) for name, values in columns.items()}
    )
    return Table(frame=frame, format="csv", line_offset=1)


def problems(table: Table, schema: dict = SCHEMA) -> list[InputProblem]:
    with pytest.raises(BadInputError) as caught:
        typed_frame(table, schema)
    return list(caught.value.problems)


# --- values that fit ----------------------------------------------------------------------


def test_text_cells_are_typed_and_empty_cells_are_unknown() -> None:
    table = csv_table(
        temperature_c=[" 38.5 ", "1e1", "", None],
        ice_score=["7", "3.0", "", None],
        died_due_to_crs=["true", "No", "1", ""],
        hypotension=["none", " present", "", None],
        levels=["0;1.5; 2", "3", "", None],
    )
    typed = typed_frame(table, SCHEMA)
    assert typed.schema == {name: SCHEMA[name] for name in table.frame.columns}
    assert typed["temperature_c"].to_list() == [38.5, 10.0, None, None]
    assert typed["ice_score"].to_list() == [7, 3, None, None]
    assert typed["died_due_to_crs"].to_list() == [True, False, True, None]
    assert typed["hypotension"].to_list() == ["none", "present", None, None]
    assert typed["levels"].to_list() == [[0.0, 1.5, 2.0], [3.0], None, None]


def test_infinity_is_a_number_left_for_the_rule_to_refuse_as_out_of_range() -> None:
    typed = typed_frame(csv_table(temperature_c=["inf"]), SCHEMA)
    assert math.isinf(typed["temperature_c"][0])


def test_columns_already_of_the_right_type_are_unchanged() -> None:
    frame = pl.DataFrame(
        {
            "temperature_c": [38.5, None],
            "ice_score": [7, None],
            "hypotension": pl.Series(["present", None], dtype=pl.Enum(list(HYPOTENSION))),
            "levels": [[1.0], None],
        }
    )
    typed = typed_frame(Table(frame=frame, format="parquet"), SCHEMA)
    assert typed.equals(frame)


def test_compatible_parquet_types_are_cast() -> None:
    frame = pl.DataFrame(
        {
            "temperature_c": pl.Series([38], dtype=pl.Int32),
            "ice_score": [7.0],
            "died_due_to_crs": [0],
            "hypotension": pl.Series(["present"], dtype=pl.Categorical),
            "levels": [[1, 2]],
        }
    )
    typed = typed_frame(Table(frame=frame, format="parquet"), SCHEMA)
    assert typed.row(0) == (38.0, 7, False, "present", [1.0, 2.0])


def test_absent_columns_stay_absent_and_other_columns_are_kept_as_read() -> None:
    # The rule's conform() treats absent columns as unknown; a rule may look at extra
    # columns (early ICAHT refuses a day key outside its window).
    typed = typed_frame(csv_table(temperature_c=["38"], **{"anc_by_day.31": ["400"]}), SCHEMA)
    assert typed.schema == {"temperature_c": pl.Float64, "anc_by_day.31": pl.String}


# --- vasopressors --------------------------------------------------------------------------


def test_vasopressor_cells_become_the_six_flags() -> None:
    table = csv_table(vasopressors=["norepinephrine; vasopressin", "none", "", None, "NONE"])
    typed = typed_frame(table, SCHEMA).drop("vasopressors")
    assert typed.columns == list(VASOPRESSOR_FLAG_COLUMNS)
    rows = typed.rows(named=True)
    assert [name for name, on in rows[0].items() if on] == [
        "vasopressors.norepinephrine",
        "vasopressors.vasopressin",
    ]
    assert set(rows[1].values()) == {False}  # none: an empty list
    assert set(rows[2].values()) == {None}  # empty cell: unknown
    assert set(rows[3].values()) == {None}
    assert set(rows[4].values()) == {False}


def test_vasopressor_list_column_from_json_or_parquet() -> None:
    frame = pl.DataFrame({"vasopressors": [["dopamine"], [], None]})
    typed = typed_frame(Table(frame=frame, format="parquet"), SCHEMA)
    assert typed["vasopressors.dopamine"].to_list() == [True, False, None]
    assert typed["vasopressors.epinephrine"].to_list() == [False, False, None]


def test_unknown_vasopressor_is_a_problem_listing_the_agents() -> None:
    (problem,) = problems(csv_table(vasopressors=["norepinephrine;dobutamine"]))
    assert (problem.row, problem.line, problem.field) == (1, 2, "vasopressors")
    assert problem.value == "norepinephrine;dobutamine"
    assert all(agent in problem.expected for agent in VASOPRESSORS)


def test_vasopressors_given_both_ways_is_refused() -> None:
    table = csv_table(vasopressors=["none"], **{"vasopressors.dopamine": ["false"]})
    (problem,) = problems(table)
    assert "both" in problem.expected and problem.row is None


# --- values that do not fit ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "cell", "expected_words"),
    [
        ("temperature_c", "abc", ["a number"]),
        ("temperature_c", "38,5", ["a number"]),
        ("temperature_c", "NaN", ["a number"]),
        ("ice_score", "7.5", ["a whole number"]),
        ("died_due_to_crs", "maybe", ["true or false"]),
        ("hypotension", "yes", ["none", "present"]),
        ("hypotension", "Present", ["none", "present"]),
        ("levels", "1;x", ["separated by ';'", "a number"]),
        ("levels", "1;;2", ["separated by ';'"]),
    ],
)
def test_a_value_that_does_not_fit_names_row_line_field_value_and_expectation(
    column: str, cell: str, expected_words: list[str]
) -> None:
    table = csv_table(**{column: ["", cell]})
    (problem,) = problems(table)
    assert (problem.row, problem.line, problem.field, problem.value) == (2, 3, column, cell)
    for words in expected_words:
        assert words in problem.expected
    assert str(problem).startswith(f"row 2 (line 3): {column} = {cell!r}: expected ")


def test_wrong_parquet_types_are_problems() -> None:
    frame = pl.DataFrame({"temperature_c": [True], "ice_score": [2.5], "hypotension": [1]})
    found = problems(Table(frame=frame, format="parquet"))
    assert [(p.row, p.line, p.field) for p in found] == [
        (1, None, "temperature_c"),
        (1, None, "ice_score"),
        (1, None, "hypotension"),
    ]


def test_several_problems_are_listed_in_row_then_column_order() -> None:
    table = csv_table(
        hypotension=["none", "low", "present", "high"],
        temperature_c=["x", "38", "y", "39"],
    )
    found = problems(table)
    assert [(p.row, p.field, p.value) for p in found] == [
        (1, "temperature_c", "x"),
        (2, "hypotension", "low"),
        (3, "temperature_c", "y"),
        (4, "hypotension", "high"),
    ]


def test_problems_are_capped_and_counted() -> None:
    table = csv_table(temperature_c=["bad"] * (MAX_LISTED_PROBLEMS + 10))
    with pytest.raises(BadInputError) as caught:
        typed_frame(table, SCHEMA)
    assert len(caught.value.problems) == MAX_LISTED_PROBLEMS
    assert caught.value.total == MAX_LISTED_PROBLEMS + 10
    assert [p.row for p in caught.value.problems] == list(range(1, MAX_LISTED_PROBLEMS + 1))


def test_jsonl_problems_name_the_file_line(tmp_path: Path) -> None:
    path = tmp_path / "days.jsonl"
    path.write_text('{"temperature_c": 38}\n\n{"temperature_c": true}\n')
    (problem,) = problems(read_table(path))
    assert (problem.row, problem.line, problem.field, problem.value) == (
        2,
        3,
        "temperature_c",
        "true",
    )


# --- other columns -------------------------------------------------------------------------


def test_unread_columns_are_those_neither_read_nor_identifiers() -> None:
    columns = ["patient_id", "day", "id", "temprature_c", "temperature_c", "vasopressors", "x"]
    assert unread_columns(columns, SCHEMA) == ["temprature_c", "x"]
    assert unread_columns(["vasopressors"], {"temperature_c": pl.Float64}) == ["vasopressors"]


def test_identifier_columns_come_first_and_day_becomes_whole_numbers() -> None:
    frame = pl.DataFrame({"day": ["1", "2"], "x": ["a", "b"], "patient_id": ["007", "008"]})
    identifiers = identifier_frame(frame)
    assert identifiers.columns == ["patient_id", "day"]
    assert identifiers["patient_id"].to_list() == ["007", "008"]
    assert identifiers["day"].to_list() == [1, 2]
    odd = identifier_frame(pl.DataFrame({"day": ["1", "day two"]}))
    assert odd["day"].to_list() == ["1", "day two"]
