"""Write a result frame as CSV, JSON Lines or Parquet, to a file atomically or to stdout.

A file is written to a temporary file in the target directory and moved over the target with
:func:`os.replace` only when writing succeeded; on any failure the temporary file is removed
and an existing output file is left untouched ("bad input changes nothing"; ADR 0192).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

import polars as pl

from carta.io.readers import FORMATS, format_from_path
from carta.io.records import LIST_SEPARATOR

# Text columns with at most this many distinct words (status, reason codes, criteria ...) are
# written to Parquet as dictionary-coded enums: Polars writes a list of short codes several
# times faster than a list of strings (ADR 0196). The first SAMPLE_ROWS rows decide cheaply
# whether a column is worth counting at all (patient_id is not).
MAX_CODED_WORDS = 1024
SAMPLE_ROWS = 10_000
SAMPLE_MAX_WORDS = 64
# Row-group min/max statistics cost more than the rest of the write for list columns (about
# 1 s per 5 million rows of reason codes); null counts are kept (ADR 0196).
PARQUET_STATISTICS = {"min": False, "max": False, "distinct_count": False, "null_count": True}


class OutputError(Exception):
    """The output cannot go where it was asked to (no such directory, Parquet to a terminal)."""


def output_format(path: Path | None, requested: str | None) -> str:
    """``--format`` if given, else the output file's extension, else CSV."""
    if requested is not None:
        if requested not in FORMATS:
            raise OutputError(f"unknown format {requested!r}; expected one of {', '.join(FORMATS)}")
        return requested
    if path is None:
        return "csv"
    guessed = format_from_path(path)
    if guessed is None:
        raise OutputError(
            f"cannot tell the output format from {path.name!r}; name the file .csv, .jsonl or "
            ".parquet, or give --format"
        )
    return guessed


def check_output(path: Path | None, file_format: str) -> None:
    """Refuse, before any work, an output that could not be written."""
    if path is None:
        if file_format == "parquet":
            raise OutputError("Parquet is a binary format; give an output file with -o FILE")
        return
    if path.is_dir():
        raise OutputError(f"{path} is a directory; give a file name")
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"the directory {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"cannot write in the directory {parent} (permission denied)")


def flat_for_text(frame: pl.DataFrame) -> pl.DataFrame:
    """List columns ``;``-joined (empty list: empty cell) and structs as JSON, for CSV."""
    expressions = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if isinstance(dtype, pl.List):
            text = column if dtype.inner == pl.String else column.cast(pl.List(pl.String))
            joined = text.list.join(LIST_SEPARATOR)
            # An empty list is an empty cell, not the quoted "" Polars writes for "".
            column = pl.when(joined != "").then(joined)
        elif isinstance(dtype, pl.Struct):
            column = column.struct.json_encode()
        expressions.append(column.alias(name))
    return frame.select(expressions)


def write_frame(
    frame: pl.DataFrame, path: Path | None, file_format: str, stdout: TextIO | None = None
) -> None:
    """Write ``frame`` to ``path`` (atomically) or, when ``path`` is ``None``, to ``stdout``."""
    if path is None:
        if stdout is None:
            raise OutputError("no output file and no stdout")
        stdout.write(_text(frame, file_format))
        stdout.flush()
        return
    write_atomically(path, lambda temporary: _write_file(frame, temporary, file_format))


def _text(frame: pl.DataFrame, file_format: str) -> str:
    if file_format == "jsonl":
        return frame.write_ndjson()
    if file_format == "csv":
        return flat_for_text(frame).write_csv()
    raise OutputError(f"{file_format} cannot be written to a terminal or pipe; use -o FILE")


def dictionary_coded(frame: pl.DataFrame) -> pl.DataFrame:
    """Low-cardinality text and text-list columns as ``Enum`` (sorted words); others as is.

    Readers see the same strings (Parquet stores an enum as dictionary-encoded text).
    """
    expressions = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if dtype == pl.String:
            words = _few_words(frame[name])
            if words is not None:
                column = column.cast(pl.Enum(words))
        elif dtype == pl.List(pl.String):
            words = _few_words(frame[name].explode())
            if words is not None:
                column = column.cast(pl.List(pl.Enum(words)))
        expressions.append(column)
    return frame.select(expressions)


def _few_words(values: pl.Series) -> list[str] | None:
    """The distinct non-null values, sorted, if there are few of them; else ``None``."""
    if values.head(SAMPLE_ROWS).drop_nulls().n_unique() > SAMPLE_MAX_WORDS:
        return None
    words = values.drop_nulls().unique()
    return words.sort().to_list() if len(words) <= MAX_CODED_WORDS else None


def _write_file(frame: pl.DataFrame, path: Path, file_format: str) -> None:
    if file_format == "parquet":
        dictionary_coded(frame).write_parquet(
            path, compression="lz4", statistics=PARQUET_STATISTICS
        )
    elif file_format == "jsonl":
        frame.write_ndjson(path)
    else:
        flat_for_text(frame).write_csv(path)


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """Call ``write(temporary)`` then move the temporary file over ``path``; clean up on failure."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".partial")
    os.close(handle)
    temporary = Path(name)
    try:
        write(temporary)
        temporary.chmod(_mode(path))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        raise


def _mode(path: Path) -> int:
    """The permissions an ordinary write would give: the existing file's, else 0666 - umask."""
    with contextlib.suppress(FileNotFoundError):
        return stat.S_IMODE(path.stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
