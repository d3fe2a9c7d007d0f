"""Result types shared by every rule in :mod:`carta.clinical`.

Every grader or score returns a frozen result carrying:

* ``status`` - one of the four words of the reference (section 0.2);
* the value fields of that rule (``grade``, ``score`` ...), ``None`` unless ``status`` is ``ok``;
* ``criteria`` - the name and version of the criteria applied, so a stored grade says which
  rule set produced it;
* ``reasons`` - machine-readable reason codes (``crs.fever``, ``icans.ice.3`` ...), translated
  by the outer layers;
* ``missing`` - the input fields whose absence blocked a grade or score;
* ``problems`` - for ``invalid_input``, each offending field with its value and what was
  expected.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum

# Fields every result has that are not output columns of a batch row.
_NON_ROW_FIELDS = frozenset({"status", "criteria", "reasons", "missing", "problems"})


class Status(StrEnum):
    """Result status vocabulary (reference section 0.2)."""

    OK = "ok"
    CANNOT_GRADE = "cannot_grade"
    CANNOT_COMPUTE = "cannot_compute"
    INVALID_INPUT = "invalid_input"


@dataclass(frozen=True, slots=True)
class Criteria:
    """A versioned rule set and the document it comes from."""

    name: str
    version: str
    citation: str

    @property
    def label(self) -> str:
        """``name version``, the form stored beside every computed grade."""
        return f"{self.name} {self.version}"


@dataclass(frozen=True, slots=True)
class Problem:
    """One input outside its allowed domain: which field, what it held, what was expected."""

    field: str
    value: object
    expected: str

    def __str__(self) -> str:
        return f"{self.field}={self.value!r}: expected {self.expected}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleResult:
    """Fields common to every result; each rule subclasses it with its own value fields."""

    status: Status
    criteria: Criteria
    reasons: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = field(default=())

    @property
    def ok(self) -> bool:
        """True when the value is determined."""
        return self.status is Status.OK

    def as_row(self) -> dict[str, object]:
        """The output row of a batch: status, the rule's value fields, reasons, missing.

        The vectorised implementations in :mod:`carta.analytics` produce exactly these columns,
        and parity tests compare the two row by row.
        """
        row: dict[str, object] = {"status": self.status.value}
        for item in fields(self):
            if item.name not in _NON_ROW_FIELDS:
                row[item.name] = getattr(self, item.name)
        row["reasons"] = list(self.reasons)
        row["missing"] = list(self.missing)
        return row


def invalid_reason(field_name: str) -> str:
    """The reason code that names an invalid field: ``invalid:temperature_c``."""
    return f"invalid:{field_name}"
