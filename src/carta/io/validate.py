"""Type a table's columns to a rule's input schema, reporting every value that does not fit.

The casts are vectorised: each column is cast with ``strict=False`` and a value that was given
but came out null (or NaN) is a problem. Every conversion is evaluated once, in one pass over
the table; rows are looked up only when a column has problems (ADR 0191).

Accepted spellings (a CSV cell, a JSON value, a Parquet column of any compatible type):

* numbers: ``38.5``, `` 39 ``, ``1e3``; ``NaN`` is refused (leave the cell empty for unknown);
* whole numbers: ``3`` or ``3.0``;
* booleans: ``true``/``false``, ``yes``/``no``, ``1``/``0`` (any case);
* words of an enumeration: exactly as in the vocabulary (``nasal_cannula``);
* lists: a list, or a cell of values separated by ``;``;
* ``vasopressors``: a list of agents, a ``;``-separated cell, ``none`` for no vasopressor.

An empty cell (``null`` in JSON and Parquet) always means unknown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import NoReturn

import polars as pl

from carta.clinical.vocabulary import VASOPRESSORS
from carta.io.problems import MAX_LISTED_PROBLEMS, BadInputError, InputProblem
from carta.io.readers import Table
from carta.io.records import LIST_SEPARATOR, VASOPRESSOR_FLAG_COLUMNS

# Columns that identify a row; copied to the output, never warned about.
IDENTIFIER_COLUMNS = ("patient_id", "day", "id")
NO_VASOPRESSOR = "none"
TRUE_WORDS = ("true", "yes", "1")
FALSE_WORDS = ("false", "no", "0")
# The exact spellings the first, fast pass accepts without trimming or lower-casing.
TRUE_SPELLINGS = (*TRUE_WORDS, "True", "TRUE", "Yes", "YES")
FALSE_SPELLINGS = (*FALSE_WORDS, "False", "FALSE", "No", "NO")
VASOPRESSORS_EXPECTED = (
    f"vasopressor names separated by '{LIST_SEPARATOR}', each one of "
    f"{', '.join(VASOPRESSORS)}; or '{NO_VASOPRESSOR}' for no vasopressor"
)

DataType = pl.DataType | type[pl.DataType]
# (typed value, "a value was given"): a given value whose typed value is null is a problem.
# ``None`` for "given" means the conversion cannot fail.
Conversion = tuple[pl.Expr, pl.Expr | None]
# Working column names that cannot clash with a user's.
_ITEMS = "\x00carta:vasopressor_items"
_GIVEN = "\x00carta:given:"
_CHECKED = "\x00carta:checked:"


@dataclass(frozen=True, slots=True)
class _Column:
    """A typed column of the result, or (``output`` false) a check only.

    ``field`` is the file's column that problem messages name and whose value they show.
    """

    name: str
    field: str
    typed: pl.Expr
    given: pl.Expr | None
    expected: str
    output: bool = True

    @property
    def staged(self) -> str:
        return self.name if self.output else _CHECKED + self.name

    @property
    def bad(self) -> pl.Expr:
        """Given but not typed (only for a column with a ``given`` mask)."""
        return pl.col(_GIVEN + self.name) & pl.col(self.staged).is_null()


def typed_frame(table: Table, schema: Mapping[str, DataType]) -> pl.DataFrame:
    """``table``'s frame with the schema's columns cast to their dtypes.

    A ``vasopressors`` column becomes the flag columns the schema names. Other columns are
    kept as read (a rule may look at them, e.g. a day key outside the ICAHT window); absent
    schema columns stay absent, and the rule's ``conform`` treats them as unknown.

    Raises :class:`BadInputError` listing (in row order, at most
    :data:`~carta.io.problems.MAX_LISTED_PROBLEMS`) every value that cannot be typed.
    """
    dtypes = {name: _instance(dtype) for name, dtype in schema.items()}
    # A fast pass reads text exactly as written; only when some value does not fit is the
    # forgiving pass (blanks trimmed, booleans in any case) run, and what still does not fit
    # is reported. Trimming and lower-casing cost more than the casts themselves.
    stage, columns, counts = _evaluate(table.frame, dtypes, forgiving=False)
    if any(counts):
        stage, columns, counts = _evaluate(table.frame, dtypes, forgiving=True)
    if any(counts):
        _raise_on_problems(table, stage, [c for c in columns if c.given is not None], counts)
    typed = stage.select(column.name for column in columns if column.output)
    return table.frame.with_columns(typed)


def _evaluate(
    frame: pl.DataFrame, schema: Mapping[str, pl.DataType], *, forgiving: bool
) -> tuple[pl.DataFrame, list[_Column], tuple[int, ...]]:
    """Every typed column and "given" mask in one pass, and the problem count per checked column."""
    frame, columns = _plan(frame, schema, forgiving=forgiving)
    stage = frame.select(
        *(column.typed.alias(column.staged) for column in columns),
        *(
            column.given.fill_null(False).alias(_GIVEN + column.name)
            for column in columns
            if column.given is not None
        ),
    )
    return stage, columns, _bad_counts(stage, [c for c in columns if c.given is not None])


def unread_columns(columns: Iterable[str], schema: Mapping[str, DataType]) -> list[str]:
    """Columns of the file that the rule does not read (likely typos) and that identify nothing."""
    known = set(schema) | set(IDENTIFIER_COLUMNS)
    if known & set(VASOPRESSOR_FLAG_COLUMNS):
        known.add("vasopressors")
    return [name for name in columns if name not in known]


def identifier_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """The identifier columns present (``patient_id``, ``day``, ``id``), in that order.

    A text ``day`` column (every CSV cell is text) becomes whole numbers when every value is
    one; ``patient_id`` and ``id`` stay as written (leading zeros matter).
    """
    present = [name for name in IDENTIFIER_COLUMNS if name in frame.columns]
    columns = frame.select(present)
    if "day" in present and columns.schema["day"] == pl.String:
        as_number = columns["day"].str.strip_chars().cast(pl.Int64, strict=False)
        if as_number.null_count() == columns["day"].null_count():
            columns = columns.with_columns(as_number.alias("day"))
    return columns


def describe(dtype: pl.DataType) -> str:
    """What a value of ``dtype`` must look like, for an error message."""
    if isinstance(dtype, pl.Enum):
        return "one of " + ", ".join(dtype.categories.to_list())
    if isinstance(dtype, pl.List):
        return f"values separated by '{LIST_SEPARATOR}', each {describe(_instance(dtype.inner))}"
    if isinstance(dtype, pl.Boolean):
        return "true or false (yes/no and 1/0 are accepted too)"
    if dtype.is_integer():
        return "a whole number"
    if dtype.is_float():
        return "a number"
    return f"a value of type {dtype}"


def _instance(dtype: object) -> pl.DataType:
    """``pl.Float64`` (a class) or ``pl.Float64()`` -> the instance; the schemas use both."""
    instance = dtype() if isinstance(dtype, type) else dtype
    if not isinstance(instance, pl.DataType):
        raise TypeError(f"not a Polars data type: {dtype!r}")
    return instance


# --- planning the casts ------------------------------------------------------------------


def _plan(
    frame: pl.DataFrame, schema: Mapping[str, pl.DataType], *, forgiving: bool
) -> tuple[pl.DataFrame, list[_Column]]:
    """The frame to evaluate on (with working columns added) and the columns to compute."""
    columns: list[_Column] = []
    flags = [name for name in VASOPRESSOR_FLAG_COLUMNS if name in schema]
    if flags and "vasopressors" in frame.columns:
        frame = _with_vasopressor_items(frame)
        columns.extend(_vasopressor_columns(flags))
    for name, target in schema.items():
        if name not in frame.columns:
            continue
        typed, given = _convert(pl.col(name), frame.schema[name], target, forgiving)
        columns.append(_Column(name, name, typed, given, describe(target)))
    return frame, columns


def _with_vasopressor_items(frame: pl.DataFrame) -> pl.DataFrame:
    """The agents of ``vasopressors`` as one list column, computed once for the six flags."""
    both = [name for name in VASOPRESSOR_FLAG_COLUMNS if name in frame.columns]
    if both:
        raise BadInputError(
            [
                InputProblem(
                    expected=(
                        f"the file has both a vasopressors column and {', '.join(both)}; "
                        "give the agents one way only"
                    )
                )
            ]
        )
    items = _vasopressor_items(pl.col("vasopressors"), frame.schema["vasopressors"])
    return frame.with_columns(items.alias(_ITEMS))


def _vasopressor_columns(flags: list[str]) -> list[_Column]:
    items = pl.col(_ITEMS)
    unknown = items.list.eval(pl.element().is_in(VASOPRESSORS).not_()).list.any()
    check = _Column(
        name="vasopressors",
        field="vasopressors",
        typed=pl.when(unknown).then(None).otherwise(items),
        given=items.is_not_null(),
        expected=VASOPRESSORS_EXPECTED,
        output=False,
    )
    flag_columns = [
        _Column(
            name=name,
            field="vasopressors",
            typed=pl.when(items.is_null())
            .then(None)
            .otherwise(items.list.contains(name.removeprefix("vasopressors."))),
            given=None,
            expected=VASOPRESSORS_EXPECTED,
        )
        for name in flags
    ]
    return [check, *flag_columns]


def _vasopressor_items(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """The agents as a list of words: ``none`` -> ``[]``, an empty cell -> null (unknown)."""
    if isinstance(dtype, pl.List | pl.Array):
        return column.cast(pl.List(pl.String)).list.eval(pl.element().str.strip_chars())
    text = column.cast(pl.String).str.strip_chars()
    listed = pl.when(text.str.to_lowercase() == NO_VASOPRESSOR).then(pl.lit("")).otherwise(text)
    return (
        pl.when(text.is_null() | (text == ""))
        .then(None)
        .otherwise(listed)
        .str.split(LIST_SEPARATOR)
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
    )


# --- one value to one dtype --------------------------------------------------------------


def _convert(
    value: pl.Expr, source: pl.DataType, target: pl.DataType, forgiving: bool
) -> Conversion:
    """``(typed, given)``: the value cast to ``target``, and where a value was given.

    ``forgiving``: trim blanks around text and accept booleans in any case.
    """
    if source == target:
        return value, None
    if isinstance(target, pl.List):
        return _to_list(value, source, target, forgiving)
    if isinstance(source, pl.Null):
        return value.cast(target), None
    if isinstance(source, pl.String | pl.Categorical | pl.Enum):
        text = _text(value, forgiving)
        return _from_text(text, target, forgiving), text.is_not_null() & (text != "")
    if source.is_numeric() and not isinstance(target, pl.Enum):
        return _from_number(value, source, target), value.is_not_null()
    if isinstance(target, pl.String):
        return value.cast(pl.String), None
    return pl.lit(None, dtype=target), value.is_not_null()


def _text(value: pl.Expr, forgiving: bool) -> pl.Expr:
    text = value.cast(pl.String)
    return text.str.strip_chars() if forgiving else text


def _from_text(text: pl.Expr, target: pl.DataType, forgiving: bool) -> pl.Expr:
    if isinstance(target, pl.Boolean):
        if forgiving:
            word = text.str.to_lowercase()
            return (
                pl.when(word.is_in(TRUE_WORDS)).then(True).when(word.is_in(FALSE_WORDS)).then(False)
            )
        return (
            pl.when(text.is_in(TRUE_SPELLINGS))
            .then(True)
            .when(text.is_in(FALSE_SPELLINGS))
            .then(False)
        )
    if target.is_integer():
        return pl.coalesce(
            text.cast(target, strict=False), _whole(text.cast(pl.Float64, strict=False), target)
        )
    if target.is_float():
        number = text.cast(target, strict=False)
        return pl.when(number.is_nan()).then(None).otherwise(number)
    return text.cast(target, strict=False)


def _from_number(number: pl.Expr, source: pl.DataType, target: pl.DataType) -> pl.Expr:
    if isinstance(target, pl.Boolean):
        return pl.when(number == 0).then(False).when(number == 1).then(True).otherwise(None)
    if target.is_integer() and source.is_float():
        return _whole(number, target)
    if target.is_float() and source.is_float():
        return pl.when(number.is_nan()).then(None).otherwise(number.cast(target))
    return number.cast(target, strict=False)


def _whole(number: pl.Expr, target: pl.DataType) -> pl.Expr:
    """A float that is a whole number (``3.0``) as ``target``; anything else null."""
    return pl.when(number == number.floor()).then(number.cast(target, strict=False)).otherwise(None)


def _to_list(value: pl.Expr, source: pl.DataType, target: pl.List, forgiving: bool) -> Conversion:
    """A list, or a ``;``-separated cell, element by element; one bad element nulls the list."""
    if isinstance(source, pl.Null):
        return value.cast(target), None
    if isinstance(source, pl.List | pl.Array):
        items, item_source = value.cast(pl.List(source.inner)), _instance(source.inner)
        given = value.is_not_null()
    elif isinstance(source, pl.String | pl.Categorical | pl.Enum):
        text = _text(value, forgiving)
        items, item_source = text.str.split(LIST_SEPARATOR), pl.String()
        given = text.is_not_null() & (text != "")
    else:
        return pl.lit(None, dtype=target), value.is_not_null()
    typed_item, _ = _convert(pl.element(), item_source, _instance(target.inner), forgiving)
    typed = items.list.eval(typed_item)
    incomplete = typed.list.eval(pl.element().is_null()).list.any()
    return pl.when(given & ~incomplete).then(typed), given


# --- reporting ---------------------------------------------------------------------------


def _bad_counts(stage: pl.DataFrame, checked: list[_Column]) -> tuple[int, ...]:
    if not checked:
        return ()
    return stage.select(
        column.bad.sum().alias(str(index)) for index, column in enumerate(checked)
    ).row(0)


def _raise_on_problems(
    table: Table, stage: pl.DataFrame, checked: list[_Column], counts: tuple[int, ...]
) -> NoReturn:
    """One :class:`InputProblem` per bad value, in row then column order."""
    total = sum(counts)
    position = {name: index for index, name in enumerate(table.frame.columns)}
    found: list[tuple[int, int, InputProblem]] = []
    for column, count in zip(checked, counts, strict=True):
        if count:
            rows = stage.select(column.bad).to_series().arg_true().head(MAX_LISTED_PROBLEMS)
            values = table.frame[column.field].gather(rows)
            found.extend(
                (index, position[column.field], _problem(table, column, index, value))
                for index, value in zip(rows.to_list(), values.to_list(), strict=True)
            )
    found.sort(key=lambda item: (item[0], item[1]))
    raise BadInputError([problem for _, _, problem in found[:MAX_LISTED_PROBLEMS]], total=total)


def _problem(table: Table, column: _Column, index: int, value: object) -> InputProblem:
    return InputProblem(
        row=index + 1,
        line=table.line_of(index),
        field=column.field,
        value=value,
        expected=column.expected,
    )
