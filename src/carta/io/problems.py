"""What is wrong with an input file: one :class:`InputProblem` per bad value or unreadable part.

The readers and the validator raise :class:`BadInputError` carrying every problem they found
(row, field, value, what was expected); the command line prints one line per problem and exits
with code 2 without writing anything (ADR 0003).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InputProblem:
    """One problem in an input file.

    ``row`` is the 1-based data row (the first record after a CSV header is row 1) and ``line``
    the 1-based line of the file, when known. A problem with neither concerns the whole file
    (not UTF-8, not Parquet ...), and ``expected`` then says what to do about it.
    """

    expected: str
    row: int | None = None
    line: int | None = None
    field: str | None = None
    value: object = None

    def where(self) -> str:
        """``row 3 (line 4)``, ``line 7`` or ``""``."""
        if self.row is not None and self.line is not None:
            return f"row {self.row} (line {self.line})"
        if self.row is not None:
            return f"row {self.row}"
        if self.line is not None:
            return f"line {self.line}"
        return ""

    def __str__(self) -> str:
        where = self.where()
        prefix = f"{where}: " if where else ""
        if self.field is None:
            return f"{prefix}{self.expected}"
        return f"{prefix}{self.field} = {_shown(self.value)}: expected {self.expected}"


def _shown(value: object) -> str:
    """A value as the user typed it, quoted; long values are shortened."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class BadInputError(Exception):
    """An input file that cannot be used as it is; nothing has been written.

    ``problems`` holds at most the first few problems in file order (see
    :data:`MAX_LISTED_PROBLEMS`); ``total`` counts all of them.
    """

    def __init__(self, problems: Sequence[InputProblem], total: int | None = None) -> None:
        self.problems = tuple(problems)
        self.total = len(self.problems) if total is None else total
        first = str(self.problems[0]) if self.problems else "bad input"
        super().__init__(first if self.total == 1 else f"{first} (and {self.total - 1} more)")


# At most this many problems are listed; the rest are counted ("... and N more").
MAX_LISTED_PROBLEMS = 50
