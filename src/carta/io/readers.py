"""Read CSV, JSON Lines and Parquet files into Polars frames, refusing unreadable files clearly.

The readers only *read*: values keep the types the file gives them (every CSV cell is text) and
:mod:`carta.io.validate` types them against a rule's input schema. Nested groups are flattened
to dotted columns exactly as :func:`carta.io.records.flatten_record` does (ADR 0002), except
``vasopressors``, which stays one column (a list, or a ``;``-separated cell) until the
validator turns it into the six flag columns.

A file that cannot be read at all raises :class:`~carta.io.problems.BadInputError` naming the
line and the remedy (not UTF-8, malformed JSON on line N, not a Parquet file ...).
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from carta.io.problems import MAX_LISTED_PROBLEMS, BadInputError, InputProblem
from carta.io.records import LIST_SEPARATOR, flatten_record

FORMATS = ("csv", "jsonl", "parquet")
EXTENSIONS: Mapping[str, str] = {
    ".csv": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
UTF8_REMEDY = (
    "save it as UTF-8 (in Excel: 'CSV UTF-8'), or convert it, e.g. "
    "`iconv -f {encoding} -t UTF-8 {name} > {stem}-utf8{suffix}`"
)


@dataclass(frozen=True, slots=True)
class Table:
    """A file's rows as read: the frame, its format and how rows map to file lines.

    ``line_offset`` is the line before data row 1 (1 for a CSV header, 0 for JSON Lines);
    ``lines`` gives each row's line when blank lines break that simple mapping; Parquet has
    no lines.
    """

    frame: pl.DataFrame
    format: str
    line_offset: int | None = None
    lines: tuple[int, ...] | None = None

    def line_of(self, index: int) -> int | None:
        """The 1-based file line of the row at 0-based ``index`` (``None`` for Parquet)."""
        if self.lines is not None:
            return self.lines[index]
        if self.line_offset is None:
            return None
        return index + 1 + self.line_offset


def format_from_path(path: Path) -> str | None:
    """``csv``, ``jsonl`` or ``parquet`` from the file name's extension, else ``None``."""
    return EXTENSIONS.get(path.suffix.lower())


def read_table(path: Path, file_format: str | None = None) -> Table:
    """Read ``path`` (format from ``file_format``, else its extension, else its first bytes)."""
    if not path.exists():
        raise _file_error(f"no such file: {path}")
    if path.is_dir():
        raise _file_error(f"{path} is a directory, not a data file")
    try:
        chosen = file_format or format_from_path(path) or _sniff(path)
        if chosen == "csv":
            return read_csv(path)
        if chosen == "jsonl":
            return read_jsonl(path)
        return read_parquet(path)
    except OSError as error:  # permission denied, an unreadable disk ...
        raise _file_error(f"cannot read {path}: {error.strerror or error}") from None


def _file_error(message: str) -> BadInputError:
    return BadInputError([InputProblem(expected=message)])


def _sniff(path: Path) -> str:
    """Parquet starts with ``PAR1``; JSON Lines with ``{``; anything else is read as CSV."""
    with path.open("rb") as handle:
        start = handle.read(4096)
    if start.startswith(b"PAR1"):
        return "parquet"
    if start.lstrip(codecs.BOM_UTF8 + b" \t\r\n").startswith(b"{"):
        return "jsonl"
    return "csv"


# --- CSV ---------------------------------------------------------------------------------


def read_csv(path: Path) -> Table:
    """Every cell as text (typing is the validator's job); an empty cell is null (unknown)."""
    _check_csv_header(path)
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except pl.exceptions.NoDataError:
        raise _file_error("the file is empty; expected a header line of column names") from None
    except pl.exceptions.ComputeError as error:
        raise _csv_error(path, error) from None
    frame = frame.rename({name: name.strip() for name in frame.columns})
    return Table(frame=frame, format="csv", line_offset=1)


def _check_csv_header(path: Path) -> None:
    """The header must be UTF-8 and name each column once."""
    with path.open("rb") as handle:
        first = handle.readline()
    try:
        text = first.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise BadInputError([_encoding_problem(path, 1, first, error)]) from None
    names = [name.strip() for name in next(csv.reader([text]), [])]
    if len(names) == 1 and LIST_SEPARATOR in names[0]:
        raise _file_error(
            "line 1: the columns are separated by ';' (a spreadsheet's European CSV); carta "
            "reads comma-separated CSV, where ';' separates the values of a list cell. Save "
            "it as 'CSV UTF-8 (comma delimited)'"
        )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise _file_error(f"line 1: the column {name!r} appears twice in the header")
        seen.add(name)


def _csv_error(path: Path, error: Exception) -> BadInputError:
    """Find the line behind a Polars CSV error: a byte that is not UTF-8, or a ragged row."""
    encoding = _first_encoding_problem(path)
    if encoding is not None:
        return BadInputError([encoding])
    ragged = _first_ragged_row(path)
    if ragged is not None:
        return BadInputError([ragged])
    return _file_error(f"not a readable CSV file ({error})")


def _first_encoding_problem(path: Path) -> InputProblem | None:
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as error:
                return _encoding_problem(path, number, line, error)
    return None


def _encoding_problem(
    path: Path, number: int, line: bytes, error: UnicodeDecodeError
) -> InputProblem:
    encoding = _guess_encoding(line)
    byte = line[error.start : error.start + 1].hex().upper()
    remedy = UTF8_REMEDY.format(
        encoding=encoding, name=path.name, stem=path.stem, suffix=path.suffix
    )
    return InputProblem(
        line=number,
        expected=(
            f"the file is not UTF-8 text (byte 0x{byte} at byte {error.start + 1} of the line; "
            f"it looks like {encoding}): {remedy}"
        ),
    )


def _guess_encoding(line: bytes) -> str:
    """GBK when the bytes read as Chinese text, else the Western Windows code page."""
    try:
        text = line.decode("gbk")
    except UnicodeDecodeError:
        return "CP1252"
    return "GBK" if any("\u4e00" <= char <= "\u9fff" for char in text) else "CP1252"


def _first_ragged_row(path: Path) -> InputProblem | None:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, [])
        for row in reader:
            if len(row) > len(header):
                return InputProblem(
                    line=reader.line_num,
                    expected=(
                        f"this line has {len(row)} cells but the header names {len(header)} "
                        "columns (a comma inside a value must be quoted)"
                    ),
                )
    return None


# --- JSON Lines --------------------------------------------------------------------------


def read_jsonl(path: Path) -> Table:
    """One JSON object per line; blank lines are skipped; nested groups become dotted columns."""
    records: list[dict[str, Any]] = []
    lines: list[int] = []
    problems: list[InputProblem] = []
    for number, record in _json_lines(path, problems):
        records.append(_flatten(record))
        lines.append(number)
    if problems:
        raise BadInputError(problems[:MAX_LISTED_PROBLEMS], total=len(problems))
    frame = _frame_from_flat(records)
    simple = all(line == index + 1 for index, line in enumerate(lines))
    return Table(frame=frame, format="jsonl", line_offset=0, lines=None if simple else tuple(lines))


def _json_lines(path: Path, problems: list[InputProblem]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for each non-blank line; problems are collected, not raised."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                raise BadInputError([_encoding_problem(path, number, raw, error)]) from None
            if not text.strip():
                continue
            try:
                value = json.loads(text)
            except json.JSONDecodeError as error:
                problems.append(
                    InputProblem(
                        line=number,
                        expected=f"malformed JSON at column {error.colno}: {error.msg}",
                    )
                )
                continue
            if not isinstance(value, dict):
                found = "an array" if isinstance(value, list) else type(value).__name__
                problems.append(
                    InputProblem(
                        line=number,
                        expected=f"expected one JSON object per line (JSON Lines), found {found}",
                    )
                )
                continue
            yield number, value


def _flatten(record: dict[str, Any]) -> dict[str, Any]:
    """Dotted columns as in :func:`flatten_record`; ``vasopressors`` is kept for the validator."""
    if "vasopressors" not in record:
        return flatten_record(record)
    rest = {key: value for key, value in record.items() if key != "vasopressors"}
    return {**flatten_record(rest), "vasopressors": record["vasopressors"]}


def _frame_from_flat(records: list[dict[str, Any]]) -> pl.DataFrame:
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record))
    return pl.DataFrame([_column(name, [record.get(name) for record in records]) for name in names])


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def _column(name: str, values: list[Any]) -> pl.Series:
    """One column, losing nothing: a column of mixed JSON types becomes text.

    Polars would otherwise turn ``true`` into ``1.0`` in a column of numbers, or drop an object
    among numbers; as text, the validator sees and reports the value as written.
    """
    kinds = {_kind(value) for value in values if value is not None}
    if kinds == {"list"}:
        return _list_column(name, values)
    if len(kinds) <= 1 and kinds != {"object"}:
        return pl.Series(name, values, strict=False)
    return pl.Series(name, [_text(value) for value in values], dtype=pl.String)


def _list_column(name: str, values: list[Any]) -> pl.Series:
    inner = {_kind(item) for value in values if value is not None for item in value}
    if len(inner) <= 1 and not inner & {"object", "list"}:
        return pl.Series(name, values, strict=False)
    texts = [
        None if value is None else [None if item is None else _text(item) for item in value]
        for value in values
    ]
    return pl.Series(name, texts, dtype=pl.List(pl.String))


def _text(value: object) -> str | None:
    """A JSON value as the text a CSV cell would hold (lists ``;``-joined)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list) and all(_kind(item) != "list" for item in value):
        return LIST_SEPARATOR.join("" if item is None else str(_text(item)) for item in value)
    return json.dumps(value)


# --- Parquet -----------------------------------------------------------------------------


def read_parquet(path: Path) -> Table:
    """Columns keep their Parquet types; struct columns are flattened to dotted columns."""
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as error:
        raise _file_error(
            f"not a Parquet file, or a damaged one ({_first_line(error)}); "
            "name CSV files .csv and JSON Lines files .jsonl"
        ) from None
    return Table(frame=flatten_structs(frame), format="parquet")


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def flatten_structs(frame: pl.DataFrame) -> pl.DataFrame:
    """``ice_items`` struct -> ``ice_items.orientation_year`` ...; a list of structs -> one
    list column per field (``anc_measurements.day``), as for JSON records (ADR 0002)."""
    while any(_is_nested(dtype) for dtype in frame.schema.values()):
        expressions: list[pl.Expr] = []
        for name, dtype in frame.schema.items():
            if isinstance(dtype, pl.Struct):
                expressions.extend(
                    pl.col(name).struct.field(item.name).alias(f"{name}.{item.name}")
                    for item in dtype.fields
                )
            elif isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct):
                expressions.extend(
                    pl.col(name)
                    .list.eval(pl.element().struct.field(item.name))
                    .alias(f"{name}.{item.name}")
                    for item in dtype.inner.fields
                )
            else:
                expressions.append(pl.col(name))
        frame = frame.select(expressions)
    return frame


def _is_nested(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.Struct) or (
        isinstance(dtype, pl.List) and isinstance(dtype.inner, pl.Struct)
    )
