"""The one exception the rules raise internally for an input outside its domain.

Graders catch it and return an ``invalid_input`` result; it never escapes a public rule
function.
"""

from __future__ import annotations

from carta.clinical.results import Problem


class InvalidObservation(ValueError):
    """An observation outside its allowed domain (reference section 0.2)."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        super().__init__(f"{field}={value!r}: expected {expected}")
        self.problem = Problem(field=field, value=value, expected=expected)


def invalid_results_problems(errors: list[InvalidObservation]) -> tuple[Problem, ...]:
    """The problems of several collected errors, in input order."""
    return tuple(error.problem for error in errors)
