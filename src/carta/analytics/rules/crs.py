"""Vectorised ASTCT 2019 CRS grading: the Polars twin of
:mod:`carta.clinical.toxicity.crs_astct_2019` (reference section a, conventions of section 0).

Row for row, :func:`grade_frame` returns exactly what ``grade_crs(...).as_row()`` returns.

How it works (ADR 0105). The grade of a.8 depends on each input only through a handful of
*states*: a temperature is unknown, below 38.0 degC, at or above it, or out of range; a yes/no
flag is unknown, false or true; the vasopressor list is unknown, empty, one agent (vasopressin
alone included) or several non-vasopressin agents; a flow is unknown, <= 6 L/min, > 6 L/min or
out of range; a word is its position in the vocabulary. So, per row:

1. short ``when`` chains turn each input into its state, weighted into one of two small
   mixed-radix keys: fever-waiver-death and hypotension-hypoxia. The temperature tests use the
   exact binary64 thresholds of the scalar arithmetic, found once by bisection over the scalar
   functions, so ``t >= FEVER_C`` agrees bit for bit with ``deci_celsius(t) >= 380`` (and
   likewise for degF) without any float arithmetic per row;
2. each key indexes a small table of 32-bit words holding, in disjoint bit fields, each
   component's span (low, high, discounted), the fields it would list as missing and the
   fields that are invalid; the two words add up to the row's word;
3. the word's low bits index the outcome table (status, grade, reasons of a valid or invalid
   row, or "cannot grade", in which case the word's missing bits pick the output row).

Steps 2 and 3 are done once for every pair of keys when the tables are built (ADR 0106), so
per row the two keys make one index into a 1.3-million-entry table of output rows, computed
on the streaming engine, and one gather of the four output columns from the small table of
distinct output rows builds the result.

The tables are built once, on first use, by calling the scalar rule's own component functions
(``fever_component`` ...) on one representative of every state, and
:func:`~carta.clinical.toxicity.crs_astct_2019.grade_components` on every combination of
component spans: the clinical logic is written once, and this module only classifies values.
The spec tables and the hypothesis parity test check the classification.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache
from itertools import product
from typing import Any, cast

import polars as pl

from carta.analytics.frames import conform
from carta.analytics.rules.coded import coded_table, gather
from carta.clinical import units, vocabulary
from carta.clinical.results import Status, invalid_reason
from carta.clinical.toxicity import crs_astct_2019 as rule
from carta.clinical.toxicity.crs_astct_2019 import Component
from carta.io.records import VASOPRESSOR_FLAG_COLUMNS

INPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "temperature_c": pl.Float64,
    "temperature_f": pl.Float64,
    "fever_attributable_to_other_cause": pl.Boolean,
    "crs_previously_diagnosed": pl.Boolean,
    "antipyretic_or_anticytokine_given": pl.Boolean,
    "hypotension": pl.Enum(list(vocabulary.HYPOTENSION)),
    **dict.fromkeys(VASOPRESSOR_FLAG_COLUMNS, pl.Boolean),
    "hypotension_attributable_to_other_cause": pl.Boolean,
    "oxygen_device": pl.Enum(list(vocabulary.OXYGEN_DEVICES)),
    "oxygen_flow_l_min": pl.Float64,
    "hypoxia_attributable_to_other_cause": pl.Boolean,
    "died_due_to_crs": pl.Boolean,
}

# --- exact thresholds of the scalar arithmetic ---------------------------------------------------


def _ordinal(value: float) -> int:
    """The position of a non-negative double in the ordered sequence of doubles."""
    return int(struct.unpack("<q", struct.pack("<d", value))[0])


def _from_ordinal(ordinal: int) -> float:
    return float(struct.unpack("<d", struct.pack("<q", ordinal))[0])


def first_double_where(predicate: Callable[[float], bool], low: float, high: float) -> float:
    """The smallest double in ``[low, high]`` (both >= 0) where a monotone ``predicate`` holds.

    ``predicate(high)`` must be true. Every step of the scalar temperature arithmetic (x 10,
    + 0.5, + epsilon, (F - 32) x 5 / 9) is a correctly rounded monotone operation, so "the
    scalar says fever" is exactly "value >= the first double where it says fever".
    """
    lo, hi = _ordinal(low), _ordinal(high)
    while lo < hi:
        middle = (lo + hi) // 2
        if predicate(_from_ordinal(middle)):
            hi = middle
        else:
            lo = middle + 1
    return _from_ordinal(lo)


_SEARCH = (0.0, 1000.0)
# temperature_c >= FEVER_C  <=>  deci_celsius(temperature_c) >= 380 (a.1 with 0.4 rounding)
FEVER_C = first_double_where(lambda t: units.deci_celsius(t) >= rule.FEVER_DECI_CELSIUS, *_SEARCH)
# temperature_f >= FEVER_F  <=>  deci_celsius(fahrenheit_to_celsius(temperature_f)) >= 380
FEVER_F = first_double_where(
    lambda f: units.deci_celsius(units.fahrenheit_to_celsius(f)) >= rule.FEVER_DECI_CELSIUS,
    *_SEARCH,
)
# FAHRENHEIT_MIN <= temperature_f < FAHRENHEIT_ABOVE  <=>  the degC value is in range
FAHRENHEIT_MIN = first_double_where(
    lambda f: units.fahrenheit_to_celsius(f) >= units.TEMPERATURE_C_RANGE.low, *_SEARCH
)
FAHRENHEIT_ABOVE = first_double_where(
    lambda f: units.fahrenheit_to_celsius(f) > units.TEMPERATURE_C_RANGE.high, *_SEARCH
)

# --- input states ------------------------------------------------------------------------------
# Each state number stands for every value that behaves alike in the rule; the tables are built
# from one representative value per state.

TEMPERATURE_UNKNOWN, TEMPERATURE_BELOW, TEMPERATURE_FEVER = 0, 1, 2
TEMPERATURE_C_INVALID, TEMPERATURE_F_INVALID = 3, 4
_TEMPERATURE_DECI: dict[int, int | None] = {
    TEMPERATURE_UNKNOWN: None,
    TEMPERATURE_BELOW: rule.FEVER_DECI_CELSIUS - 1,
    TEMPERATURE_FEVER: rule.FEVER_DECI_CELSIUS,
}
_TEMPERATURE_INVALID = {
    TEMPERATURE_C_INVALID: "temperature_c",
    TEMPERATURE_F_INVALID: "temperature_f",
}

FLAG_VALUES: tuple[bool | None, ...] = (None, False, True)  # state = index
# hypotension and oxygen_device: the Enum's physical code, and one more state for unknown
HYPOTENSION_VALUES: tuple[str | None, ...] = (*vocabulary.HYPOTENSION, None)
DEVICE_VALUES: tuple[str | None, ...] = (*vocabulary.OXYGEN_DEVICES, None)

PRESSORS_NONE, PRESSORS_ONE, PRESSORS_MANY, PRESSORS_UNKNOWN = 0, 1, 2, 3
_NON_VASOPRESSIN = tuple(agent for agent in vocabulary.VASOPRESSORS if agent != rule.VASOPRESSIN)
_PRESSOR_SETS: tuple[frozenset[str] | None, ...] = (
    frozenset(),
    frozenset(_NON_VASOPRESSIN[:1]),  # one agent, with or without vasopressin, or vasopressin
    frozenset(_NON_VASOPRESSIN[:2]),  # >= 2 distinct non-vasopressin agents
    None,
)

FLOW_UNKNOWN, FLOW_LOW, FLOW_HIGH, FLOW_INVALID = 0, 1, 2, 3
_FLOW_VALUES: dict[int, float | None] = {
    FLOW_UNKNOWN: None,
    FLOW_LOW: rule.LOW_FLOW_MAX_L_MIN,
    FLOW_HIGH: math.nextafter(rule.LOW_FLOW_MAX_L_MIN, math.inf),
}

# Two keys per row, each a mixed-radix number over its input states (most significant first):
# the fever-waiver key (with death) and the hypotension-hypoxia key.
FW_RADIX: dict[str, int] = {
    "temperature": 5,
    "fever_attributable_to_other_cause": 3,
    "crs_previously_diagnosed": 3,
    "antipyretic_or_anticytokine_given": 3,
    "died_due_to_crs": 2,
}
HX_RADIX: dict[str, int] = {
    "hypotension": len(HYPOTENSION_VALUES),
    "vasopressors": len(_PRESSOR_SETS),
    "hypotension_attributable_to_other_cause": 3,
    "oxygen_device": len(DEVICE_VALUES),
    "oxygen_flow_l_min": 4,
    "hypoxia_attributable_to_other_cause": 3,
}


def _weights(radix: dict[str, int]) -> dict[str, int]:
    weights, weight = {}, 1
    for name in reversed(radix):
        weights[name] = weight
        weight *= radix[name]
    return weights


WEIGHT = _weights(FW_RADIX) | _weights(HX_RADIX)

# --- tables ------------------------------------------------------------------------------------
# A key's table word (32 bits): bits 0-11 its part of the outcome key (mixed radix over the
# indices of the distinct spans of fever, waiver, hypotension, hypoxia, then death), bits
# 12-15 invalid fields, bits 16-25 missing fields. The two words of a row have disjoint
# fields, so their sum is the row's word.
INVALID_SHIFT = 12
INVALID_FIELDS = ("temperature_c", "temperature_f", "vasopressors", "oxygen_flow_l_min")
MISSING_SHIFT = 16
MISSING_FIELDS = tuple(
    field for field in rule.FIELD_ORDER if field not in ("temperature_f", "died_due_to_crs")
)
# Rows of the output tables: 0-1023 cannot_grade with that missing mask; then one row per
# outcome of a valid record; then one row per non-empty invalid mask.
MISSING_MASKS = 1 << len(MISSING_FIELDS)
CANNOT_GRADE = 0  # the outcome table's marker for "use the missing mask"
_COMPONENTS = ("fever", "waiver", "hypotension", "hypoxia")

Part = Component | str  # a component's value, or the field that makes the state invalid


def _bits(fields: Iterable[str], order: Sequence[str]) -> int:
    return sum(1 << order.index(field) for field in fields)


def _subset(fields: Sequence[str], mask: int) -> list[str]:
    return [field for bit, field in enumerate(fields) if mask >> bit & 1]


def _fever_parts() -> list[Part]:
    """By local state temperature x 3 + attribution."""
    parts: list[Part] = []
    for temperature, other_cause in product(range(FW_RADIX["temperature"]), range(3)):
        if temperature in _TEMPERATURE_INVALID:
            parts.append(_TEMPERATURE_INVALID[temperature])
        else:
            deci = _TEMPERATURE_DECI[temperature]
            parts.append(rule.fever_component(deci, FLAG_VALUES[other_cause]))
    return parts


def _waiver_parts() -> list[Part]:
    """By local state diagnosed x 3 + treated."""
    return [
        rule.waiver_component(FLAG_VALUES[diagnosed], FLAG_VALUES[treated])
        for diagnosed, treated in product(range(3), range(3))
    ]


def _hypotension_parts() -> list[Part]:
    """By local state (hypotension x 4 + vasopressors) x 3 + attribution."""
    parts: list[Part] = []
    for hypotension, pressors, other_cause in product(
        range(len(HYPOTENSION_VALUES)), range(len(_PRESSOR_SETS)), range(3)
    ):
        agents = _PRESSOR_SETS[pressors]
        if HYPOTENSION_VALUES[hypotension] == rule.HYPOTENSION_NONE and agents:
            parts.append("vasopressors")  # ADR 0102
        else:
            parts.append(
                rule.hypotension_component(
                    HYPOTENSION_VALUES[hypotension], agents, FLAG_VALUES[other_cause]
                )
            )
    return parts


def _hypoxia_parts() -> list[Part]:
    """By local state (device x 4 + flow) x 3 + attribution."""
    parts: list[Part] = []
    for device, flow, other_cause in product(range(len(DEVICE_VALUES)), range(4), range(3)):
        if flow == FLOW_INVALID:
            parts.append("oxygen_flow_l_min")
        else:
            parts.append(
                rule.hypoxia_component(
                    DEVICE_VALUES[device], _FLOW_VALUES[flow], FLAG_VALUES[other_cause]
                )
            )
    return parts


@dataclass(frozen=True, slots=True)
class _Component:
    """One component's parts by local state, its distinct spans, and its outcome-key weight."""

    parts: list[Part]
    spans: list[Component]
    weight: int

    def words(self) -> list[int]:
        """The table word of every local state."""
        return [self._word(part) for part in self.parts]

    def _word(self, part: Part) -> int:
        if isinstance(part, str):
            return _bits([part], INVALID_FIELDS) << INVALID_SHIFT
        index = self.spans.index(replace(part, unknown=()))
        return index * self.weight | _bits(part.unknown, MISSING_FIELDS) << MISSING_SHIFT


def _components() -> dict[str, _Component]:
    """Every component's parts; spans numbered in first-seen order; weights for the key."""
    parts = {
        "fever": _fever_parts(),
        "waiver": _waiver_parts(),
        "hypotension": _hypotension_parts(),
        "hypoxia": _hypoxia_parts(),
    }
    spans: dict[str, list[Component]] = {}
    for name, values in parts.items():
        distinct: list[Component] = []
        for part in values:
            if isinstance(part, Component) and replace(part, unknown=()) not in distinct:
                distinct.append(replace(part, unknown=()))
        spans[name] = distinct
    weight, components = 2, {}  # the lowest digit of the outcome key is death
    for name in reversed(_COMPONENTS):
        components[name] = _Component(parts[name], spans[name], weight)
        weight *= len(spans[name])
    if weight > 1 << INVALID_SHIFT:
        raise AssertionError("too many spans for the word layout")
    return components


Outcome = tuple[str, int | None, tuple[str, ...]]


def _outcomes(components: dict[str, _Component]) -> tuple[list[int], list[Outcome]]:
    """Outcome key -> output row (CANNOT_GRADE: use the missing mask), and the outcomes.

    Outcome rows follow the MISSING_MASKS cannot_grade rows; the invalid rows come last.
    """
    outcomes: list[Outcome] = []
    table = []
    for indices in product(*(range(len(components[n].spans)) for n in _COMPONENTS), (0, 1)):
        *span_indices, died = indices
        parts = [components[n].spans[i] for n, i in zip(_COMPONENTS, span_indices, strict=True)]
        result = rule.grade_components(bool(died), *parts)
        if result.status is Status.CANNOT_GRADE:
            table.append(CANNOT_GRADE)
            continue
        outcome = (result.status.value, result.grade, result.reasons)
        if outcome not in outcomes:
            outcomes.append(outcome)
        table.append(MISSING_MASKS + outcomes.index(outcome))
    table += [CANNOT_GRADE] * ((1 << INVALID_SHIFT) - len(table))  # unused keys
    invalid_row = MISSING_MASKS + len(outcomes)
    for mask in range(1, 1 << len(INVALID_FIELDS)):
        table += [invalid_row + mask - 1] * (1 << INVALID_SHIFT)
        reasons = tuple(invalid_reason(field) for field in _subset(INVALID_FIELDS, mask))
        outcomes.append((Status.INVALID_INPUT.value, None, reasons))
    return table, outcomes


@dataclass(frozen=True, slots=True)
class _Tables:
    """What the expressions look up: built once, on first use."""

    row: pl.Series  # fever-waiver key x HX_KEYS + hypotension-hypoxia key -> output row
    output: pl.DataFrame  # output row -> status, grade, reasons, missing
    coded: pl.DataFrame  # the same rows as a gather table of the coded form (ADR 0450)


def _local_state(radix: dict[str, int], key: int, names: Sequence[str]) -> int:
    """A component's local state (mixed radix over ``names``) from one of the two keys."""
    local = 0
    for name in names:
        local = local * radix[name] + key // WEIGHT[name] % radix[name]
    return local


_FEVER_STATES = ("temperature", "fever_attributable_to_other_cause")
_WAIVER_STATES = ("crs_previously_diagnosed", "antipyretic_or_anticytokine_given")
_HYPOTENSION_STATES = ("hypotension", "vasopressors", "hypotension_attributable_to_other_cause")
_HYPOXIA_STATES = ("oxygen_device", "oxygen_flow_l_min", "hypoxia_attributable_to_other_cause")


def _key_words(components: dict[str, _Component]) -> tuple[list[int], list[int]]:
    """The word of every fever-waiver key and of every hypotension-hypoxia key."""
    words = {name: component.words() for name, component in components.items()}
    fever_waiver = [
        words["fever"][_local_state(FW_RADIX, key, _FEVER_STATES)]
        + words["waiver"][_local_state(FW_RADIX, key, _WAIVER_STATES)]
        + key // WEIGHT["died_due_to_crs"] % FW_RADIX["died_due_to_crs"]
        for key in range(math.prod(FW_RADIX.values()))
    ]
    hypotension_hypoxia = [
        words["hypotension"][_local_state(HX_RADIX, key, _HYPOTENSION_STATES)]
        + words["hypoxia"][_local_state(HX_RADIX, key, _HYPOXIA_STATES)]
        for key in range(math.prod(HX_RADIX.values()))
    ]
    return fever_waiver, hypotension_hypoxia


HX_KEYS = math.prod(HX_RADIX.values())


@cache
def tables() -> _Tables:
    """The lookup tables, tabulated from the scalar rule's component functions (ADR 0105).

    The two keys' words are added for every pair of keys once, here, and resolved to the
    output row (ADR 0106): a row then needs one gather from a 1.3-million-entry UInt16 table
    (2.5 MB) instead of two word gathers, an outcome gather and a choice.
    """
    components = _components()
    fever_waiver, hypotension_hypoxia = _key_words(components)
    outcome_table, outcomes = _outcomes(components)
    # In Polars, not numpy: turning a numpy array into a Series imports numpy.ma (0.1 s of
    # every command-line run).
    pair = pl.int_range(len(fever_waiver) * HX_KEYS, dtype=pl.Int64)
    words = pl.lit(pl.Series(fever_waiver, dtype=pl.Int64)).gather(pair // HX_KEYS) + pl.lit(
        pl.Series(hypotension_hypoxia, dtype=pl.Int64)
    ).gather(pair % HX_KEYS)
    outcome = pl.lit(pl.Series(outcome_table, dtype=pl.Int64)).gather(words % (1 << MISSING_SHIFT))
    row = pl.select(
        pl.when(outcome == CANNOT_GRADE).then(words // (1 << MISSING_SHIFT)).otherwise(outcome)
    ).to_series()
    cannot: Outcome = (Status.CANNOT_GRADE.value, None, ())
    rows = [(cannot, _subset(MISSING_FIELDS, mask)) for mask in range(MISSING_MASKS)]
    rows += [(outcome, []) for outcome in outcomes]
    if len(rows) > 1 << 16:
        raise AssertionError("too many output rows for a UInt16 row table")
    output = pl.DataFrame(
        {
            "status": pl.Series([o[0] for o, _ in rows], dtype=pl.String),
            "grade": pl.Series([o[1] for o, _ in rows], dtype=pl.Int64),
            "reasons": pl.Series([list(o[2]) for o, _ in rows], dtype=pl.List(pl.String)),
            "missing": pl.Series([m for _, m in rows], dtype=pl.List(pl.String)),
        }
    )
    return _Tables(row=row.cast(pl.UInt16, strict=True), output=output, coded=coded_table(output))


# --- expressions -------------------------------------------------------------------------------

_c = pl.col
_U16 = pl.UInt16


@dataclass(frozen=True, slots=True)
class _Frame:
    """What the expressions may assume about this frame (cheap to find, saves whole branches)."""

    height: int
    null_counts: dict[str, int]
    agents_given: frozenset[str]  # vasopressor columns with at least one true

    @classmethod
    def of(cls, frame: pl.DataFrame) -> _Frame:
        null_counts = {name: frame[name].null_count() for name in frame.columns}
        given = frozenset(
            column for column in VASOPRESSOR_FLAG_COLUMNS if frame[column].any() is True
        )
        return cls(frame.height, null_counts, given)

    def has_nulls(self, name: str) -> bool:
        return self.null_counts[name] > 0

    def all_null(self, name: str) -> bool:
        return self.null_counts[name] == self.height


def _chain(
    branches: Sequence[tuple[pl.Expr, int]], otherwise: int, dtype: type[pl.DataType] = _U16
) -> pl.Expr:
    """``when(c1).then(v1).when(c2).then(v2)... .otherwise(v)`` with typed literals."""
    if not branches:
        return pl.lit(otherwise, dtype)
    (condition, value), *rest = branches
    chain: Any = pl.when(condition).then(pl.lit(value, dtype))
    for condition, value in rest:
        chain = chain.when(condition).then(pl.lit(value, dtype))
    return cast(pl.Expr, chain.otherwise(pl.lit(otherwise, dtype)))


def _flag(frame: _Frame, name: str) -> pl.Expr:
    """The flag's state (0 unknown, 1 false, 2 true) x its weight in its key."""
    column, weight = _c(name), WEIGHT[name]
    branches = [(column, 2 * weight)]
    if frame.has_nulls(name):
        branches.append((column.is_null(), 0))
    return _chain(branches, weight)


def _died() -> pl.Expr:
    """1 if died due to CRS; unknown counts as not recorded (ADR 0101)."""
    return _chain([(_c("died_due_to_crs"), WEIGHT["died_due_to_crs"])], 0)


def _temperature(frame: _Frame) -> pl.Expr:
    """The temperature state; both units given is invalid (temperature_f, as the scalar)."""
    tc, tf = _c("temperature_c"), _c("temperature_f")
    use_c, use_f = not frame.all_null("temperature_c"), not frame.all_null("temperature_f")
    branches: list[tuple[pl.Expr, int]] = []
    if use_c and use_f:
        branches.append((tc.is_not_null() & tf.is_not_null(), TEMPERATURE_F_INVALID))
    if use_c:
        low, high = units.TEMPERATURE_C_RANGE.low, units.TEMPERATURE_C_RANGE.high
        branches += [
            (tc > high, TEMPERATURE_C_INVALID),  # NaN too (Polars orders NaN above all)
            (tc >= FEVER_C, TEMPERATURE_FEVER),
            (tc >= low, TEMPERATURE_BELOW),
            (tc.is_not_null(), TEMPERATURE_C_INVALID),  # below the range
        ]
    if use_f:
        branches += [
            (tf >= FAHRENHEIT_ABOVE, TEMPERATURE_F_INVALID),  # NaN too
            (tf >= FEVER_F, TEMPERATURE_FEVER),
            (tf >= FAHRENHEIT_MIN, TEMPERATURE_BELOW),
            (tf.is_not_null(), TEMPERATURE_F_INVALID),
        ]
    weight = WEIGHT["temperature"]
    weighted = [(condition, state * weight) for condition, state in branches]
    return _chain(weighted, TEMPERATURE_UNKNOWN * weight)


# Per-row sum over the six flags: each non-vasopressin agent 1, vasopressin 8, a null flag 16.
_AGENT_WEIGHT, _VASOPRESSIN_WEIGHT, _NULL_WEIGHT = 1, 8, 16


def _pressors(frame: _Frame) -> pl.Expr:
    """The vasopressor state; any null flag makes the whole list unknown.

    Agents never given anywhere in the frame, and flags never null, add nothing to the sum and
    are left out.
    """
    terms = []
    for agent, column in zip(vocabulary.VASOPRESSORS, VASOPRESSOR_FLAG_COLUMNS, strict=True):
        branches = []
        if column in frame.agents_given:
            value = _VASOPRESSIN_WEIGHT if agent == rule.VASOPRESSIN else _AGENT_WEIGHT
            branches.append((_c(column), value))
        if frame.has_nulls(column):
            branches.append((_c(column).is_null(), _NULL_WEIGHT))
        if branches:
            terms.append(_chain(branches, 0, pl.UInt8))
    weight = WEIGHT["vasopressors"]
    if not terms:
        return pl.lit(PRESSORS_NONE * weight, _U16)
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    branches = [
        (total >= _NULL_WEIGHT, PRESSORS_UNKNOWN * weight),
        ((total & (_VASOPRESSIN_WEIGHT - 1)) >= 2, PRESSORS_MANY * weight),
        (total > 0, PRESSORS_ONE * weight),
    ]
    return _chain(branches, PRESSORS_NONE * weight)


def _word(name: str, values: Sequence[str | None]) -> pl.Expr:
    """The Enum's physical code (Appendix A order), or the last state for unknown."""
    code = _c(name).to_physical().cast(_U16).fill_null(pl.lit(values.index(None), _U16))
    return code * pl.lit(WEIGHT[name], _U16)


def _flow(frame: _Frame) -> pl.Expr:
    """The flow state: unknown, <= 6 L/min, > 6 L/min (a.4), or out of range."""
    weight = WEIGHT["oxygen_flow_l_min"]
    if frame.all_null("oxygen_flow_l_min"):
        return pl.lit(FLOW_UNKNOWN * weight, _U16)
    flow = _c("oxygen_flow_l_min")
    low, high = units.OXYGEN_FLOW_RANGE.low, units.OXYGEN_FLOW_RANGE.high
    branches = [
        (flow > high, FLOW_INVALID * weight),  # NaN too (Polars orders NaN above all)
        (flow > rule.LOW_FLOW_MAX_L_MIN, FLOW_HIGH * weight),
        (flow >= low, FLOW_LOW * weight),
        (flow.is_not_null(), FLOW_INVALID * weight),  # below the range
    ]
    return _chain(branches, FLOW_UNKNOWN * weight)


def _sum(terms: Sequence[pl.Expr]) -> pl.Expr:
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


def keys(frame: pl.DataFrame) -> tuple[pl.Expr, pl.Expr]:
    """The fever-waiver and hypotension-hypoxia keys of every row of a conformed ``frame``."""
    shape = _Frame.of(frame)
    fever_waiver = _sum(
        [
            _temperature(shape),
            _flag(shape, "fever_attributable_to_other_cause"),
            _flag(shape, "crs_previously_diagnosed"),
            _flag(shape, "antipyretic_or_anticytokine_given"),
            _died(),
        ]
    )
    hypotension_hypoxia = _sum(
        [
            _word("hypotension", HYPOTENSION_VALUES),
            _pressors(shape),
            _flag(shape, "hypotension_attributable_to_other_cause"),
            _word("oxygen_device", DEVICE_VALUES),
            _flow(shape),
            _flag(shape, "hypoxia_attributable_to_other_cause"),
        ]
    )
    return fever_waiver, hypotension_hypoxia


def output_rows(frame: pl.DataFrame) -> pl.Series:
    """Each row's row of the output tables (UInt16), computed on the streaming engine."""
    data = conform(frame, INPUT_SCHEMA)
    fever_waiver, hypotension_hypoxia = keys(data)
    key = fever_waiver.cast(pl.UInt32) * HX_KEYS + hypotension_hypoxia
    # The keys on the streaming engine: a batch's intermediate columns stay in the cache.
    query = data.lazy().select(pl.lit(tables().row).gather(key).alias("row"))
    return query.collect(engine="streaming").to_series()


def grade_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """ASTCT 2019 CRS grade of every row: ``status``, ``grade``, ``reasons``, ``missing``.

    Columns absent from ``frame`` are unknown (null). Identical, row for row, to
    ``grade_crs(observation).as_row()``.
    """
    return tables().output[output_rows(frame)]


def grade_frame_coded(frame: pl.DataFrame) -> pl.DataFrame:
    """:func:`grade_frame` in the coded form (``status`` Enum, ``grade`` Int8, ``reasons`` and
    ``missing`` Categorical of the joined list; ADR 0450). ``coded.decode`` of it equals
    :func:`grade_frame`; it is several times cheaper to build for millions of rows.
    """
    return gather(tables().coded, output_rows(frame))
