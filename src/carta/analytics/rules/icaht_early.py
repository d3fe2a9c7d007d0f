"""Early ICAHT (reference e.1), vectorised: the twin of
:func:`carta.clinical.toxicity.icaht_2023.grade_icaht_early`.

Input: 31 Float64 columns ``anc_by_day.0`` .. ``anc_by_day.30`` (null = day not measured).

Each row's series is packed into 31-bit integer masks (bit d = day d): measured days, days
<= 500 and days <= 100. The two extreme completions of section 0.3 are then plain bit
operations (an unmeasured day is low in the severe completion, not low in the mild one), and so
is the non-stable-recovery relabelling of step 3, in closed form (ADR 0145)::

    labelled_d = low_d | (low_{d-1} & (low_{d+1} | low_{d+2})) | (low_{d-2} & low_{d+1})

with ``x * 2`` / ``x * 4`` giving day d-1 / d-2 at bit d and ``x // 2`` / ``x // 4`` day d+1 /
d+2 (days outside 0..30 are not low). Counts are popcounts; "never recovered" is a low day among
days 0-3 with every bit of days 3..30 labelled low. The unmeasured days that may matter are
``unmeasured & ~labelled_100(mild)``, the same rule as the scalar path.

Reasons, missing days and invalid fields are bitmasks decoded at the end through a lookup of
the few distinct mask values. Columns ``anc_by_day.<key>`` for a key that is not a day 0..30,
or an ``anc_by_day`` column holding a non-mapping, make the row ``invalid_input`` as in the
scalar rule (a null cell there is indistinguishable from an absent key and is ignored, ADR
0142).
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from carta.analytics.frames import conform
from carta.clinical.results import Status, invalid_reason
from carta.clinical.toxicity import icaht_2023 as rule
from carta.clinical.units import CELL_COUNT_RANGE

DAYS = rule.EARLY_DAYS
DAY_COLUMNS = tuple(rule.day_field(day) for day in DAYS)
INPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = dict.fromkeys(DAY_COLUMNS, pl.Float64)
OUTPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "status": pl.String,
    "grade": pl.Int64,
    "days_le_500": pl.Int64,
    "days_le_100": pl.Int64,
    "reasons": pl.List(pl.String),
    "missing": pl.List(pl.String),
}

_PREFIX = rule.FIELD_ANC_BY_DAY + "."
ALL_DAYS = (1 << len(DAYS)) - 1
# Section e.1 step 5: a low day among days 0..3, and days 3..30 all labelled low.
FIRST_LOW_DAYS = (1 << (rule.NEVER_RECOVERED_FIRST_LOW_BY_DAY + 1)) - 1
FROM_DAY_3 = ALL_DAYS & ~((1 << rule.NEVER_RECOVERED_FIRST_LOW_BY_DAY) - 1)
# The bit after the days stands for the whole field (``anc_by_day`` missing or not a mapping).
WHOLE_FIELD_BIT = len(DAYS)
_MISSING_NAMES = [(day, name) for day, name in zip(DAYS, DAY_COLUMNS, strict=True)] + [
    (WHOLE_FIELD_BIT, rule.FIELD_ANC_BY_DAY)
]
_INVALID_NAMES = [(bit, invalid_reason(name)) for bit, name in _MISSING_NAMES]
_INVALID_NAMES = _INVALID_NAMES[-1:] + _INVALID_NAMES[:-1]  # the whole field first
_REASON_NAMES = list(enumerate(rule.EARLY_REASON_CODES))
_REASON_BIT = {code: 1 << bit for bit, code in _REASON_NAMES}


def _foreign_columns(frame: pl.DataFrame) -> tuple[bool, list[str]]:
    """Whether an ``anc_by_day`` column exists, and the keys that are not days, sorted."""
    extra = [
        name for name in frame.columns if name.startswith(_PREFIX) and name not in INPUT_SCHEMA
    ]
    return rule.FIELD_ANC_BY_DAY in frame.columns, sorted(extra, key=lambda n: n[len(_PREFIX) :])


def _day_mask(flags: Sequence[pl.Expr]) -> pl.Expr:
    """31 boolean expressions (day 0..30) -> one integer with bit d set where flag d is true."""
    return pl.sum_horizontal(
        [
            pl.when(flag).then(pl.lit(1 << day, dtype=pl.Int64)).otherwise(0)
            for day, flag in enumerate(flags)
        ]
    ).cast(pl.Int64)


def _packed(whole_present: bool) -> list[pl.Expr]:
    """Measured, <= 500, <= 100 and invalid day masks."""
    values = [pl.col(column) for column in DAY_COLUMNS]
    bad = [
        (v.is_nan() | (v < CELL_COUNT_RANGE.low) | (v > CELL_COUNT_RANGE.high)).fill_null(False)
        for v in values
    ]
    invalid = _day_mask(bad)
    if whole_present:
        whole = pl.col(rule.FIELD_ANC_BY_DAY).is_not_null()
        invalid = invalid | pl.when(whole).then(1 << WHOLE_FIELD_BIT).otherwise(0)
    return [
        _day_mask([v.is_not_null() for v in values]).alias("known"),
        _day_mask([(v <= rule.ANC_LOW_500).fill_null(False) for v in values]).alias("le_500"),
        _day_mask([(v <= rule.ANC_LOW_100).fill_null(False) for v in values]).alias("le_100"),
        invalid.alias("invalid_days"),
    ]


def relabelled(low: pl.Expr) -> pl.Expr:
    """Section e.1 step 3 on a day mask: gaps of 1-2 days between low days become low."""
    before_1, before_2 = low * 2, low * 4
    after_1, after_2 = low // 2, low // 4
    return (low | (before_1 & (after_1 | after_2)) | (before_2 & after_1)) & ALL_DAYS


def _completions() -> list[pl.Expr]:
    """Low and labelled masks of the severe (s) and mild (m) completions, at 500 and 100."""
    unknown = pl.lit(ALL_DAYS) & ~pl.col("known")
    lows = {
        "s_500": pl.col("le_500") | unknown,
        "m_500": pl.col("le_500"),
        "s_100": pl.col("le_100") | unknown,
        "m_100": pl.col("le_100"),
    }
    expressions = [low.alias(f"low_{name}") for name, low in lows.items()]
    expressions += [relabelled(low).alias(f"lab_{name}") for name, low in lows.items()]
    return [*expressions, unknown.alias("unknown")]


def _findings(completion: str) -> list[pl.Expr]:
    """Counts, never-recovered and grade of one completion."""
    lab_500, lab_100 = pl.col(f"lab_{completion}_500"), pl.col(f"lab_{completion}_100")
    days_500 = lab_500.bitwise_count_ones().cast(pl.Int64)
    days_100 = lab_100.bitwise_count_ones().cast(pl.Int64)
    never = ((pl.col(f"low_{completion}_500") & FIRST_LOW_DAYS) != 0) & (
        (lab_500 & FROM_DAY_3) == FROM_DAY_3
    )
    grade = (
        pl.when(never | (days_100 >= rule.D100_GRADE_4_DAYS))
        .then(rule.GRADE_4)
        .when((days_500 >= rule.D500_GRADE_3_DAYS) | (days_100 >= rule.D100_GRADE_3_DAYS))
        .then(rule.GRADE_3)
        .when(days_500 >= rule.D500_GRADE_2_DAYS)
        .then(rule.GRADE_2)
        .when(days_500 >= rule.D500_GRADE_1_DAYS)
        .then(rule.GRADE_1)
        .otherwise(rule.GRADE_0)
        .cast(pl.Int64)
    )
    return [
        days_500.alias(f"{completion}_d500"),
        days_100.alias(f"{completion}_d100"),
        never.alias(f"{completion}_never"),
        grade.alias(f"{completion}_grade"),
    ]


def _flag(condition: pl.Expr, code: str) -> pl.Expr:
    return pl.when(condition).then(_REASON_BIT[code]).otherwise(0)


def _masks() -> list[pl.Expr]:
    """Reason and missing bitmasks (for the rows that are not invalid)."""
    m_d500, m_d100 = pl.col("m_d500"), pl.col("m_d100")
    d500 = (
        pl.when(m_d500 >= rule.D500_GRADE_3_DAYS)
        .then(_REASON_BIT[rule.REASON_EARLY_D500_GE_14])
        .when(m_d500 >= rule.D500_GRADE_2_DAYS)
        .then(_REASON_BIT[rule.REASON_EARLY_D500_GE_7])
        .when(m_d500 >= rule.D500_GRADE_1_DAYS)
        .then(_REASON_BIT[rule.REASON_EARLY_D500_GE_1])
        .otherwise(_REASON_BIT[rule.REASON_EARLY_NO_DAY_LE_500])
    )
    d100 = (
        pl.when(m_d100 >= rule.D100_GRADE_4_DAYS)
        .then(_REASON_BIT[rule.REASON_EARLY_D100_GE_14])
        .when(m_d100 >= rule.D100_GRADE_3_DAYS)
        .then(_REASON_BIT[rule.REASON_EARLY_D100_GE_7])
        .otherwise(0)
    )
    relabelling = (pl.col("lab_m_500") != pl.col("low_m_500")) | (
        pl.col("lab_m_100") != pl.col("low_m_100")
    )
    ok_mask = (
        d500
        + d100
        + _flag(pl.col("m_never"), rule.REASON_EARLY_NEVER_RECOVERED)
        + _flag(relabelling, rule.REASON_EARLY_NON_STABLE_RECOVERY)
        + _flag(pl.col("unknown") != 0, rule.REASON_EARLY_UNMEASURED_IRRELEVANT)
    )
    determined = pl.col("s_grade") == pl.col("m_grade")
    undetermined_bit = _REASON_BIT[rule.REASON_EARLY_UNDETERMINED]
    missing = (
        pl.when(determined)
        .then(0)
        .when(pl.col("known") == 0)
        .then(1 << WHOLE_FIELD_BIT)
        .otherwise(pl.col("unknown") & ~pl.col("lab_m_100"))
    )
    return [
        pl.when(determined).then(ok_mask).otherwise(undetermined_bit).alias("reason_mask"),
        missing.cast(pl.Int64).alias("missing_mask"),
    ]


def _decode(masks: pl.Series, names: Sequence[tuple[int, str]]) -> pl.Series:
    """Bitmask -> list of names (in the order of ``names``), via the distinct mask values."""
    distinct = masks.unique()
    lists = [[name for bit, name in names if mask >> bit & 1] for mask in distinct]
    index = masks.replace_strict(distinct, pl.Series(range(len(distinct))), return_dtype=pl.UInt32)
    return pl.Series(lists, dtype=pl.List(pl.String)).gather(index)


def _day_names(masks: pl.Series, names: Sequence[tuple[int, str]]) -> pl.Series:
    """Bitmask -> list of names (in the order of ``names``), for masks of days.

    Their distinct values can be as many as the rows, so instead of a lookup the set bits are
    found by a cross join of the non-zero masks with the bit table, then collected per row.
    """
    table = pl.LazyFrame(
        {
            "bit": [1 << bit for bit, _ in names],
            "name": [name for _, name in names],
            "order": list(range(len(names))),
        },
        schema={"bit": pl.Int64, "name": pl.String, "order": pl.Int64},
    )
    rows = pl.LazyFrame({"mask": masks}).with_row_index("row")
    listed = (
        rows.filter(pl.col("mask") != 0)
        .join(table, how="cross")
        .filter((pl.col("mask") & pl.col("bit")) != 0)
        .sort("row", "order")
        .group_by("row", maintain_order=True)
        .agg(pl.col("name"))
    )
    empty = pl.lit([], dtype=pl.List(pl.String))
    return (
        rows.join(listed, on="row", how="left", maintain_order="left")
        .select(pl.col("name").fill_null(empty))
        .collect()
        .to_series()
    )


def _invalid_reasons(graded: pl.DataFrame, frame: pl.DataFrame, extra: list[str]) -> pl.Series:
    """``invalid:<field>`` codes: the whole field, days 0..30, then keys that are not days."""
    reasons = _day_names(graded["invalid_days"], _INVALID_NAMES)
    if not extra:
        return reasons
    extra_codes = frame.select(
        pl.concat_list(
            [
                pl.when(pl.col(name).is_not_null()).then(pl.lit(invalid_reason(name)))
                for name in extra
            ]
        ).list.drop_nulls()
    ).to_series()
    return reasons.list.concat(extra_codes)


def grade_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Early ICAHT for every row: the columns of ``ICAHTEarlyResult.as_row()``."""
    whole_present, extra = _foreign_columns(frame)
    data = conform(frame, INPUT_SCHEMA)
    if whole_present:
        data = data.with_columns(frame.get_column(rule.FIELD_ANC_BY_DAY))
    graded = (
        data.lazy()
        .select(_packed(whole_present))
        .with_columns(_completions())
        .with_columns(_findings("s") + _findings("m"))
        .with_columns(_masks())
        .collect()
    )
    invalid_reasons = _invalid_reasons(graded, frame, extra)
    ok = pl.col("s_grade") == pl.col("m_grade")
    empty = pl.lit([], dtype=pl.List(pl.String))
    return (
        graded.with_columns(
            _decode(graded["reason_mask"], _REASON_NAMES).alias("decoded_reasons"),
            _day_names(graded["missing_mask"], _MISSING_NAMES).alias("decoded_missing"),
            invalid_reasons.alias("invalid_reasons"),
        )
        .with_columns(invalid=pl.col("invalid_reasons").list.len() > 0)
        .select(
            pl.when(pl.col("invalid"))
            .then(pl.lit(Status.INVALID_INPUT.value))
            .when(ok)
            .then(pl.lit(Status.OK.value))
            .otherwise(pl.lit(Status.CANNOT_GRADE.value))
            .alias("status"),
            pl.when(~pl.col("invalid") & ok).then(pl.col("m_grade")).alias("grade"),
            pl.when(~pl.col("invalid") & ok & (pl.col("s_d500") == pl.col("m_d500")))
            .then(pl.col("m_d500"))
            .alias("days_le_500"),
            pl.when(~pl.col("invalid") & ok & (pl.col("s_d100") == pl.col("m_d100")))
            .then(pl.col("m_d100"))
            .alias("days_le_100"),
            pl.when(pl.col("invalid"))
            .then(pl.col("invalid_reasons"))
            .otherwise(pl.col("decoded_reasons"))
            .alias("reasons"),
            pl.when(pl.col("invalid"))
            .then(empty)
            .otherwise(pl.col("decoded_missing"))
            .alias("missing"),
        )
        .cast(OUTPUT_SCHEMA)  # type: ignore[arg-type]
    )
