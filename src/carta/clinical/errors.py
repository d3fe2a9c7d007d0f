"""The one exception the rules raise internally for an input outside its domain.

Graders catch it and return an ``invalid_input`` result; it never escapes a public rule
function.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from carta.clinical.results import Problem

ObservationT = TypeVar("ObservationT")


class InvalidObservation(ValueError):
    """An observation outside its allowed domain (reference section 0.2)."""

    def __init__(self, field: str, value: object, expected: str) -> None:
        super().__init__(f"{field}={value!r}: expected {expected}")
        self.problem = Problem(field=field, value=value, expected=expected)


def invalid_results_problems(errors: list[InvalidObservation]) -> tuple[Problem, ...]:
    """The problems of several collected errors, in input order."""
    return tuple(error.problem for error in errors)


def run_checks(
    observation: ObservationT, checkers: Sequence[Callable[[ObservationT], object]]
) -> tuple[list[object], list[InvalidObservation]]:
    """Run every field checker: the checked values in order, and every problem found.

    All checkers run (one problem per field), so a user sees every bad field at once.
    """
    values: list[object] = []
    errors: list[InvalidObservation] = []
    for checker in checkers:
        try:
            values.append(checker(observation))
        except InvalidObservation as error:
            errors.append(error)
    return values, errors
