"""CTCAE v5 items (reference section h), vectorised: the twin of
:func:`carta.clinical.toxicity.ctcae_v5.grade_ctcae`, plus the IgG flag
(:func:`flag_igg_frame`, twin of :func:`~carta.clinical.toxicity.ctcae_v5.flag_igg`).

One row = one assessment, ``term`` an Enum of
:data:`~carta.clinical.toxicity.ctcae_v5.CTCAE_TERMS` and ``unit`` an Enum of
:data:`~carta.clinical.toxicity.ctcae_v5.CTCAE_UNITS`. Per-(term, unit) parameters (plausible
range, conversion) and per-term cut-offs are looked up on the Enum physical codes; the three
kinds of rows are graded by separate expressions and the row's term picks one. Unknowns use
Polars' three-valued (Kleene) ``&``/``|``, as the scalar rule does. Reasons and missing fields
are integer bitmasks decoded at the end (:func:`~carta.analytics.rules.car_hematotox.decode_masks`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from carta.analytics.frames import conform
from carta.analytics.rules.car_hematotox import (
    CODE_INVALID,
    CODE_OK,
    CODE_UNDETERMINED,
    bits,
    decode_masks,
    divide_exactly,
    in_range,
    status_code,
    status_names,
)
from carta.clinical import units
from carta.clinical.results import Status, invalid_reason
from carta.clinical.toxicity import ctcae_v5 as rule

FIELDS = (
    "term",
    "value",
    "unit",
    "lln",
    "max_temperature_c",
    "hours_above_40",
    "anc_per_uL",
    "max_single_temperature_c",
    "longest_continuous_minutes_ge_38",
)
INPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "term": pl.Enum(list(rule.CTCAE_TERMS)),
    "value": pl.Float64,
    "unit": pl.Enum(list(rule.CTCAE_UNITS)),
    "lln": pl.Float64,
    "max_temperature_c": pl.Float64,
    "hours_above_40": pl.Float64,
    "anc_per_uL": pl.Float64,
    "max_single_temperature_c": pl.Float64,
    "longest_continuous_minutes_ge_38": pl.Float64,
}
OUTPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "status": pl.String,
    "grade": pl.Int64,
    "reasons": pl.List(pl.String),
    "missing": pl.List(pl.String),
}

# --- lookup tables on Enum codes --------------------------------------------------------------
_N_UNITS = len(rule.CTCAE_UNITS)
_LAB_TERM_CODES = [rule.CTCAE_TERMS.index(term) for term in rule.LAB_TERMS]
_FEVER_CODE = rule.CTCAE_TERMS.index(rule.TERM_FEVER)
_FN_CODE = rule.CTCAE_TERMS.index(rule.TERM_FEBRILE_NEUTROPENIA)
# Conversion kinds; the scalar LabUnit.to_canonical of each accepted (term, unit) pair.
_IDENTITY, _TIMES_1000, _G_L, _MMOL_L = 0, 1, 2, 3
_KIND_OF_CONVERSION = {
    rule.UNIT_CELLS_PER_UL: _IDENTITY,
    rule.UNIT_CELLS_PER_MM3: _IDENTITY,
    rule.UNIT_10E9_PER_L: _TIMES_1000,
    rule.UNIT_10E3_PER_UL: _TIMES_1000,
    rule.UNIT_G_DL: _IDENTITY,
    rule.UNIT_G_L: _G_L,
    rule.UNIT_MMOL_L: _MMOL_L,
}
# (term code x units + unit code) of every accepted pair -> low, high, conversion kind.
_PAIRS = {
    rule.CTCAE_TERMS.index(term) * _N_UNITS + rule.CTCAE_UNITS.index(unit): lab_unit
    for term, spec in rule.LAB_TERMS.items()
    for unit, lab_unit in spec.units.items()
}
_PAIR_UNIT = {
    rule.CTCAE_TERMS.index(term) * _N_UNITS + rule.CTCAE_UNITS.index(unit): unit
    for term, spec in rule.LAB_TERMS.items()
    for unit in spec.units
}

# --- bit layouts ---------------------------------------------------------------------------------
_LAB_CODES = tuple(
    rule.lab_reason(term, band) for term in rule.LAB_TERMS for band in rule.LAB_BANDS
)
_FEVER_CODES = tuple(rule.REASON_FEVER[grade] for grade in sorted(rule.REASON_FEVER))
_FN_CODES = (
    rule.REASON_FN_ANC_LOW,
    rule.REASON_FN_SINGLE,
    rule.REASON_FN_SUSTAINED,
    rule.REASON_FN_ANC_NOT_LOW,
    rule.REASON_FN_NO_FEVER,
)
REASON_BITS = (
    *_LAB_CODES,
    *_FEVER_CODES,
    *_FN_CODES,
    *(invalid_reason(name) for name in FIELDS),
)
_FEVER_BASE = len(_LAB_CODES)
_FN_BASE = _FEVER_BASE + len(_FEVER_CODES)
_INVALID_BASE = _FN_BASE + len(_FN_CODES)
MISSING_BITS = FIELDS
_MISSING_BIT = {name: 1 << bit for bit, name in enumerate(MISSING_BITS)}


def _lookup(
    key: pl.Expr, table: Mapping[int, object], size: int, dtype: type[pl.DataType]
) -> pl.Expr:
    """``table[key]`` (null when absent) for small integer keys 0..size-1: a dense gather."""
    dense = pl.Series([table.get(index) for index in range(size)], dtype=dtype)
    return pl.lit(dense).gather(key)


def _deci_celsius(temperature: pl.Expr) -> pl.Expr:
    """:func:`carta.clinical.units.deci_celsius`, the same operations in the same order."""
    return (temperature * units.DECI + 0.5 + units.ROUNDING_EPSILON).floor()


def _not_false(flag: pl.Expr) -> pl.Expr:
    return flag.fill_null(True)


def _not_true(flag: pl.Expr) -> pl.Expr:
    return ~flag.fill_null(False)


# --- stage 1: codes, lab parameters, validation --------------------------------------------------


def _stage_codes() -> list[pl.Expr]:
    term = pl.col("term").to_physical().cast(pl.Int64)
    unit = pl.col("unit").to_physical().cast(pl.Int64)
    pair = term * _N_UNITS + unit
    n_pairs = len(rule.CTCAE_TERMS) * _N_UNITS
    lab_codes = dict.fromkeys(_LAB_TERM_CODES, True)
    return [
        term.alias("_term"),
        _lookup(term, lab_codes, len(rule.CTCAE_TERMS), pl.Boolean).fill_null(False).alias("_lab"),
        _lookup(pair, {k: v.plausible.low for k, v in _PAIRS.items()}, n_pairs, pl.Float64).alias(
            "_low"
        ),
        _lookup(pair, {k: v.plausible.high for k, v in _PAIRS.items()}, n_pairs, pl.Float64).alias(
            "_high"
        ),
        _lookup(
            pair, {k: _KIND_OF_CONVERSION[u] for k, u in _PAIR_UNIT.items()}, n_pairs, pl.Int64
        ).alias("_kind"),
    ]


def _lab_number_bad(name: str) -> pl.Expr:
    number = pl.col(name)
    paired = pl.col("_kind").is_not_null()
    low = pl.when(paired).then(pl.col("_low")).otherwise(rule.LAB_VALUE_RANGE.low)
    high = pl.when(paired).then(pl.col("_high")).otherwise(rule.LAB_VALUE_RANGE.high)
    inside = (number.is_finite() & (number >= low) & (number <= high)).fill_null(False)
    return number.is_not_null() & ~inside


def _range_bad(name: str, plausible: units.PlausibleRange) -> pl.Expr:
    number = pl.col(name)
    return number.is_not_null() & ~in_range(number, plausible)


def _invalid_mask() -> pl.Expr:
    unit_bad = pl.col("unit").is_not_null() & pl.col("_lab") & pl.col("_kind").is_null()
    flags = [
        pl.lit(False),  # term: the Enum column holds only words of the vocabulary
        _lab_number_bad("value"),
        unit_bad,
        _lab_number_bad("lln"),
        _range_bad("max_temperature_c", units.TEMPERATURE_C_RANGE),
        _range_bad("hours_above_40", rule.HOURS_ABOVE_40_RANGE),
        _range_bad("anc_per_uL", units.CELL_COUNT_RANGE),
        _range_bad("max_single_temperature_c", units.TEMPERATURE_C_RANGE),
        _range_bad("longest_continuous_minutes_ge_38", rule.MINUTES_GE_38_RANGE),
    ]
    return bits(flags) * (1 << _INVALID_BASE)


# --- stage 2: one grade, reason mask and missing mask per kind of row -----------------------------


def _lab(height: int) -> list[pl.Expr]:
    value, unit, lln = pl.col("value"), pl.col("unit"), pl.col("lln")
    kind = pl.col("_kind")
    canonical = (
        pl.when(kind == _TIMES_1000)
        .then(value * units.PER_10E9_L_TO_PER_UL)
        .when(kind == _G_L)
        .then(divide_exactly(value, units.HEMOGLOBIN_G_L_PER_G_DL, height))
        .when(kind == _MMOL_L)
        .then(divide_exactly(value, units.HEMOGLOBIN_MMOL_L_FACTOR, height))
        .otherwise(value)
    )
    term = pl.col("_term")
    n_terms = len(rule.CTCAE_TERMS)
    specs = {code: rule.LAB_TERMS[rule.CTCAE_TERMS[code]] for code in _LAB_TERM_CODES}
    cut_4 = _lookup(term, {c: s.grade_4_below for c, s in specs.items()}, n_terms, pl.Float64)
    cut_3 = _lookup(term, {c: s.grade_3_below for c, s in specs.items()}, n_terms, pl.Float64)
    cut_2 = _lookup(term, {c: s.grade_2_below for c, s in specs.items()}, n_terms, pl.Float64)
    known = value.is_not_null() & unit.is_not_null()
    # band index in LAB_BANDS: 0 below G4 cut .. 2 below G2 cut, 3 below LLN, 4 not below LLN
    band = (
        pl.when(~known)
        .then(None)
        .when((canonical < cut_4).fill_null(False))
        .then(0)
        .when(canonical < cut_3)
        .then(1)
        .when(canonical < cut_2)
        .then(2)
        .when(lln.is_null())
        .then(None)
        .when(value < lln)
        .then(3)
        .otherwise(4)
        .cast(pl.Int64)
    )
    n_bands = len(rule.LAB_BANDS)
    grade = rule.GRADE_4 - band  # bands 0..4 are grades 4..0
    lab_bits = {index: 1 << index for index in range(len(_LAB_CODES))}
    reason = _lookup(term * n_bands + band, lab_bits, n_terms * n_bands, pl.Int64).fill_null(0)
    missing = (
        pl.when(known)
        .then(_MISSING_BIT["lln"])
        .otherwise(bits([value.is_null(), unit.is_null(), lln.is_null()]) * _MISSING_BIT["value"])
    )
    return [grade.alias("_lab_grade"), reason.alias("_lab_reason"), missing.alias("_lab_missing")]


def _fever() -> list[pl.Expr]:
    temperature, hours = pl.col("max_temperature_c"), pl.col("hours_above_40")
    deci = _deci_celsius(temperature)
    grade = (
        pl.when(temperature.is_null())
        .then(None)
        .when(deci < rule.FEVER_FROM_DECI_C)
        .then(rule.GRADE_0)
        .when(deci <= rule.FEVER_GRADE_1_UP_TO_DECI_C)
        .then(rule.GRADE_1)
        .when(deci <= rule.FEVER_GRADE_2_UP_TO_DECI_C)
        .then(rule.GRADE_2)
        .when(hours.is_null())
        .then(None)
        .when(hours <= rule.FEVER_GRADE_3_UP_TO_HOURS)
        .then(rule.GRADE_3)
        .otherwise(rule.GRADE_4)
        .cast(pl.Int64)
    )
    fever_bits = {
        grade: 1 << (_FEVER_BASE + index) for index, grade in enumerate(sorted(rule.REASON_FEVER))
    }
    reason = _lookup(grade, fever_bits, len(fever_bits), pl.Int64).fill_null(0)
    missing = (
        pl.when(temperature.is_null())
        .then(bits([pl.lit(True), hours.is_null()]) * _MISSING_BIT["max_temperature_c"])
        .otherwise(_MISSING_BIT["hours_above_40"])
    )
    return [
        grade.alias("_fever_grade"),
        reason.alias("_fever_reason"),
        missing.alias("_fever_missing"),
    ]


def _febrile_neutropenia() -> list[pl.Expr]:
    anc, minutes = pl.col("anc_per_uL"), pl.col("longest_continuous_minutes_ge_38")
    single_deci = _deci_celsius(pl.col("max_single_temperature_c"))
    anc_low = anc < rule.FEBRILE_NEUTROPENIA_ANC_BELOW
    single = single_deci > rule.FEBRILE_NEUTROPENIA_SINGLE_ABOVE_DECI_C
    sustained = (
        pl.when(minutes.is_not_null())
        .then(minutes > rule.FEBRILE_NEUTROPENIA_SUSTAINED_ABOVE_MINUTES)
        .when((single_deci < rule.FEVER_FROM_DECI_C).fill_null(False))
        .then(False)
        .otherwise(None)
    )
    fever = single | sustained
    grade_3 = anc_low & fever
    grade = pl.when(grade_3).then(rule.GRADE_3).when(~grade_3).then(rule.GRADE_0).cast(pl.Int64)
    reason = (
        pl.when(grade_3)
        .then(bits([pl.lit(True), single, sustained]))
        .when(~grade_3)
        .then(bits([anc_low.not_(), fever.not_()]) * (1 << 3))
        .otherwise(0)
    ) * (1 << _FN_BASE)
    missing = (
        bits(
            [
                anc.is_null() & _not_false(fever),
                single.is_null() & _not_true(sustained) & _not_false(anc_low),
                sustained.is_null() & _not_true(single) & _not_false(anc_low),
            ]
        )
        * _MISSING_BIT["anc_per_uL"]
    )
    return [grade.alias("_fn_grade"), reason.alias("_fn_reason"), missing.alias("_fn_missing")]


# --- stage 3: pick by term ------------------------------------------------------------------------


def _by_term(suffix: str, otherwise: pl.Expr) -> pl.Expr:
    term = pl.col("_term")
    return (
        pl.when(pl.col("_lab"))
        .then(pl.col(f"_lab_{suffix}"))
        .when(term == _FEVER_CODE)
        .then(pl.col(f"_fever_{suffix}"))
        .when(term == _FN_CODE)
        .then(pl.col(f"_fn_{suffix}"))
        .otherwise(otherwise)
    )


def _picked() -> list[pl.Expr]:
    return [
        _by_term("grade", pl.lit(None, dtype=pl.Int64)).alias("_grade"),
        _by_term("reason", pl.lit(0)).alias("_reason"),
        _by_term("missing", pl.lit(_MISSING_BIT["term"])).alias("_missing"),
    ]


def _result_columns(value_columns: Sequence[pl.Expr]) -> list[pl.Expr]:
    code = pl.col("_code")
    return [
        code,
        *value_columns,
        pl.when(code == CODE_INVALID)
        .then(pl.col("_invalid"))
        .when(code == CODE_OK)
        .then(pl.col("_reason"))
        .otherwise(0)
        .alias("_reason_mask"),
        pl.when(code == CODE_UNDETERMINED)
        .then(pl.col("_missing"))
        .otherwise(0)
        .alias("_missing_mask"),
    ]


def _decoded(
    computed: pl.DataFrame,
    value_columns: Sequence[str],
    reason_bits: Sequence[str],
    missing_bits: Sequence[str],
) -> pl.DataFrame:
    return pl.DataFrame(
        [
            status_names(computed["_code"], Status.CANNOT_GRADE),
            *(computed[name] for name in value_columns),
            decode_masks(computed["_reason_mask"], reason_bits).alias("reasons"),
            decode_masks(computed["_missing_mask"], missing_bits).alias("missing"),
        ]
    )


def grade_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Grade every assessment row; columns exactly those of ``CTCAEResult.as_row()``."""
    data = conform(frame, INPUT_SCHEMA)
    computed = (
        data.lazy()
        .with_columns(_stage_codes())
        .with_columns(_invalid_mask().alias("_invalid"))
        .with_columns([*_lab(data.height), *_fever(), *_febrile_neutropenia()])
        .with_columns(_picked())
        .with_columns(status_code(pl.col("_invalid"), pl.col("_grade").is_null()).alias("_code"))
        .select(
            _result_columns(
                [pl.when(pl.col("_code") == CODE_OK).then(pl.col("_grade")).alias("grade")]
            )
        )
        .collect()
    )
    return _decoded(computed, ("grade",), REASON_BITS, MISSING_BITS)


# --- IgG ------------------------------------------------------------------------------------------

IGG_INPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "igg_mg_dL": pl.Float64,
    "igg_g_L": pl.Float64,
}
IGG_OUTPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "status": pl.String,
    "igg_severe": pl.Boolean,
    "reasons": pl.List(pl.String),
    "missing": pl.List(pl.String),
}
IGG_REASON_BITS = (
    rule.REASON_IGG_SEVERE,
    rule.REASON_IGG_NOT_SEVERE,
    invalid_reason("igg_mg_dL"),
    invalid_reason("igg_g_L"),
)
IGG_MISSING_BITS = ("igg_mg_dL",)


def _igg_columns() -> list[pl.Expr]:
    mg_dl, g_l = pl.col("igg_mg_dL"), pl.col("igg_g_L")
    both = mg_dl.is_not_null() & g_l.is_not_null()
    bad_mg_dl = g_l.is_null() & mg_dl.is_not_null() & ~in_range(mg_dl, units.IGG_RANGE)
    bad_g_l = both | (mg_dl.is_null() & g_l.is_not_null() & ~in_range(g_l, units.IGG_G_L_RANGE))
    igg = pl.when(mg_dl.is_not_null()).then(mg_dl).otherwise(g_l * units.IGG_G_L_TO_MG_DL)
    severe = igg <= rule.IGG_SEVERE_UP_TO_MG_DL
    return [
        (bits([bad_mg_dl, bad_g_l]) * (1 << 2)).alias("_invalid"),
        severe.alias("_severe"),
        bits([severe, ~severe]).alias("_reason"),
        pl.lit(1).alias("_missing"),
    ]


def flag_igg_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """``igg_severe`` for every row; columns exactly those of ``IgGResult.as_row()``."""
    data = conform(frame, IGG_INPUT_SCHEMA)
    computed = (
        data.lazy()
        .with_columns(_igg_columns())
        .with_columns(status_code(pl.col("_invalid"), pl.col("_severe").is_null()).alias("_code"))
        .select(
            _result_columns(
                [pl.when(pl.col("_code") == CODE_OK).then(pl.col("_severe")).alias("igg_severe")]
            )
        )
        .collect()
    )
    return _decoded(computed, ("igg_severe",), IGG_REASON_BITS, IGG_MISSING_BITS)
