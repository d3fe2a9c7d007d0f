"""Vectorised ASTCT 2019 ICANS grading: the Polars twin of
:mod:`carta.clinical.toxicity.icans_astct_2019` (reference section b, conventions of section 0).

Row for row, :func:`grade_frame` returns exactly what ``grade_icans(...).as_row()`` returns:
the same status, grade, ICE/CAPD totals, reason codes and missing fields, in the same order.

Two paths (ADR 0128):

* The **general path** (:func:`general_rows`) follows the scalar rule step by step with
  integer expressions: each domain's lowest and highest contribution (section 0.3), the
  invalid fields as a bit mask, and the reasons and missing fields as integer indexes decoded
  into lists at the end. It grades any row, but it is long; it runs on small frames only.
* The **fast path** turns every row into one integer key. A valid row whose ICE/CAPD domain
  rests on one exact total (given, or summed from complete items), on a not-performable reason
  or on nothing at all is one of ``ENC_STATES x OTHER_STATES`` situations; the general path
  grades one synthetic row of each situation once (``_outcome_table``), and every row gathers
  its output row by its key. A routing table (``_route_table``, also filled by the general path)
  maps the codes of the tool, the totals, the reasons, the age and the developmental delay to
  the row's ICE/CAPD state, or to GENERAL: rows that are invalid or have partly known items are
  graded by the general path and appended to the table. The ~140 000 situations have
  ~12 000 distinct outputs: a row map (situation -> distinct output row) keeps the final
  six-column gather on a small table, and the keys are computed in one streaming query
  (ADR 0106).

So the clinical logic exists once in this module (the general path), the fast path only
classifies values, and the hypothesis parity tests compare both with the scalar rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import polars as pl

from carta.analytics.frames import conform
from carta.analytics.rules.coded import coded_table, gather
from carta.clinical import units
from carta.clinical import vocabulary as v
from carta.clinical.results import Status, invalid_reason
from carta.clinical.scores import capd, ice
from carta.clinical.toxicity import icans_astct_2019 as rule

ICE_ITEM_COLUMNS = tuple(ice.item_field(item) for item in ice.ITEM_MAX)
CAPD_ITEM_COLUMNS = tuple(capd.item_field(item) for item in capd.ITEMS)

INPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "age_years": pl.Float64,
    "developmental_delay": pl.Boolean,
    "tool": pl.Enum(list(v.ICANS_TOOLS)),
    "ice_score": pl.Int64,
    **dict.fromkeys(ICE_ITEM_COLUMNS, pl.Int64),
    "ice_not_performable_reason": pl.Enum(list(v.NOT_PERFORMABLE_REASONS)),
    "capd_score": pl.Int64,
    **dict.fromkeys(CAPD_ITEM_COLUMNS, pl.Enum(list(v.CAPD_FREQUENCIES))),
    "capd_not_performable_reason": pl.Enum(list(v.NOT_PERFORMABLE_REASONS)),
    "consciousness": pl.Enum(list(v.CONSCIOUSNESS)),
    "consciousness_attributable_to_other_cause": pl.Boolean,
    "seizure": pl.Enum(list(v.SEIZURE)),
    "motor": pl.Enum(list(v.MOTOR)),
    "icp_edema": pl.Enum(list(v.ICP_EDEMA)),
    "died_due_to_icans": pl.Boolean,
}

OUTPUT_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "status": pl.String,
    "grade": pl.Int64,
    "ice_score": pl.Int64,
    "capd_score": pl.Int64,
    "reasons": pl.List(pl.String),
    "missing": pl.List(pl.String),
}

STATUS_WORDS = (Status.OK.value, Status.CANNOT_GRADE.value, Status.INVALID_INPUT.value)
OK, CANNOT_GRADE, INVALID = range(3)

# Fields the batch can find invalid (the others are typed columns, checked by the reader):
# bit i of the invalid mask is INVALID_FIELDS[i], in Appendix A order.
INVALID_FIELDS: tuple[str, ...] = (
    "age_years",
    "tool",
    "ice_score",
    *ICE_ITEM_COLUMNS,
    "ice_not_performable_reason",
    "capd_score",
    "capd_not_performable_reason",
)
_BIT = {field: 1 << index for index, field in enumerate(INVALID_FIELDS)}

# --- general path: reason, missing and invalid indexes ------------------------------------
# An ``ok`` row's reasons are one code per domain, so their index is mixed-radix over the domain
# codes: ICE/CAPD (0 none, ICE 1-4, CAPD 1/3/4), consciousness (0 none, 1-4 the levels, 5
# attributed to another cause), seizure, motor and edema (their physical codes; 0 = none).
ENC_CODES: tuple[str | None, ...] = (None, *rule.ICE_REASONS.values(), *rule.CAPD_REASONS.values())
CONSCIOUSNESS_CODES: tuple[str | None, ...] = (
    None,
    *rule.CONSCIOUSNESS_REASONS.values(),
    rule.REASON_CONSCIOUSNESS_OTHER_CAUSE,
)
DOMAIN_CODES: tuple[tuple[str | None, ...], ...] = (
    CONSCIOUSNESS_CODES,
    (None, *rule.SEIZURE_REASONS.values()),
    (None, *rule.MOTOR_REASONS.values()),
    (None, *rule.EDEMA_REASONS.values()),
)
_OTHER_CODES = math.prod(len(codes) for codes in DOMAIN_CODES)
REASONS_EMPTY = 0  # cannot_grade
REASONS_OK_BASE = 1
REASONS_DIED = REASONS_OK_BASE + len(ENC_CODES) * _OTHER_CODES
REASONS_INVALID_BASE = REASONS_DIED + 1

# Missing index = ICE/CAPD part x 32 + five bits (consciousness, its attribution, seizure,
# motor, icp_edema). ICE/CAPD part: 0 nothing, 1 ice_score, 2 capd_score, 2 + mask of the
# unknown ICE items, MISSING_CAPD_ITEMS + mask of the unknown CAPD items.
_ITEM_MASKS = 1 << len(ICE_ITEM_COLUMNS)
MISSING_ICE_SCORE = 1
MISSING_CAPD_SCORE = 2
MISSING_ICE_ITEMS = 2
MISSING_CAPD_ITEMS = MISSING_ICE_ITEMS + _ITEM_MASKS
OTHER_MISSING_FIELDS = (
    "consciousness",
    "consciousness_attributable_to_other_cause",
    "seizure",
    "motor",
    "icp_edema",
)
_OTHER_MISSING = 1 << len(OTHER_MISSING_FIELDS)


def _bits(mask: int, names: tuple[str, ...]) -> list[str]:
    return [name for index, name in enumerate(names) if mask >> index & 1]


def _reasons(index: int) -> list[str]:
    """The reasons list of a reasons index (the layout above)."""
    if index >= REASONS_INVALID_BASE:
        return [
            invalid_reason(name) for name in _bits(index - REASONS_INVALID_BASE, INVALID_FIELDS)
        ]
    if index == REASONS_DIED:
        return [rule.REASON_DIED]
    if index == REASONS_EMPTY:
        return []
    rest, found = index - REASONS_OK_BASE, []
    for codes in reversed(DOMAIN_CODES):
        rest, digit = divmod(rest, len(codes))
        found.append(codes[digit])
    found.append(ENC_CODES[rest])
    return [code for code in reversed(found) if code is not None]


def _missing(index: int) -> list[str]:
    """The missing list of a missing index (the layout above)."""
    enc, other = divmod(index, _OTHER_MISSING)
    fields: list[str] = []
    if enc == MISSING_ICE_SCORE:
        fields.append("ice_score")
    elif enc == MISSING_CAPD_SCORE:
        fields.append("capd_score")
    elif enc >= MISSING_CAPD_ITEMS:
        fields += _bits(enc - MISSING_CAPD_ITEMS, CAPD_ITEM_COLUMNS)
    elif enc > MISSING_ICE_ITEMS:
        fields += _bits(enc - MISSING_ICE_ITEMS, ICE_ITEM_COLUMNS)
    return fields + _bits(other, OTHER_MISSING_FIELDS)


def _decode(indexes: pl.Series, decode: Callable[[int], list[str]]) -> pl.Series:
    """Lists of strings from integer indexes, decoding each distinct index once."""
    present = set(indexes.unique().to_list())
    top = max(present, default=0)
    table = [decode(index) if index in present else [] for index in range(top + 1)]
    return pl.Series(table, dtype=pl.List(pl.String)).gather(indexes)


# --- expressions -----------------------------------------------------------------------------

ALL_ITEMS_UNKNOWN = _ITEM_MASKS - 1
ICE, CAPD = 0, 1  # physical codes of ``tool``
UNAROUSABLE, OTHER_CAUSE = 0, 1  # physical codes of the not-performable reasons


def _code(name: str) -> pl.Expr:
    """The physical (Appendix A order) code of an Enum column; null stays null."""
    return pl.col(name).to_physical().cast(pl.Int32)


def _flag(condition: pl.Expr, bit: int) -> pl.Expr:
    """``bit`` where ``condition`` holds (null counts as false), else 0."""
    return condition.fill_null(False).cast(pl.Int32) * bit


def _table(values: list[int]) -> pl.Expr:
    """A small literal lookup table, read with ``.gather(index)``."""
    return pl.lit(pl.Series(values, dtype=pl.Int32))


def _items() -> list[pl.Expr]:
    """Per tool: range of the items' total over the unknown items, unknown-item mask."""
    ice_values = [pl.col(name) for name in ICE_ITEM_COLUMNS]
    capd_codes = [_code(name) for name in CAPD_ITEM_COLUMNS]
    capd_points = [
        (capd.ITEM_POINTS_MAX - code) if item in capd.REVERSED_ITEMS else code
        for item, code in zip(capd.ITEMS, capd_codes, strict=True)
    ]
    ice_known = pl.sum_horizontal(ice_values).cast(pl.Int64)
    capd_known = pl.sum_horizontal(capd_points).cast(pl.Int64)
    ice_unknown_max = pl.sum_horizontal(
        [
            _flag(value.is_null(), top)
            for value, top in zip(ice_values, ice.ITEM_MAX.values(), strict=True)
        ]
    )
    capd_unknown_max = pl.sum_horizontal(
        [_flag(code.is_null(), capd.ITEM_POINTS_MAX) for code in capd_codes]
    )
    return [
        ice_known.alias("ice_items_low"),
        (ice_known + ice_unknown_max).alias("ice_items_high"),
        pl.sum_horizontal(
            [_flag(value.is_null(), 1 << k) for k, value in enumerate(ice_values)]
        ).alias("ice_null_mask"),
        pl.sum_horizontal(
            [
                _flag((pl.col(name) < 0) | (pl.col(name) > top), _BIT[name])
                for name, top in zip(ICE_ITEM_COLUMNS, ice.ITEM_MAX.values(), strict=True)
            ]
        ).alias("ice_items_invalid"),
        capd_known.alias("capd_items_low"),
        (capd_known + capd_unknown_max).alias("capd_items_high"),
        pl.sum_horizontal(
            [_flag(code.is_null(), 1 << k) for k, code in enumerate(capd_codes)]
        ).alias("capd_null_mask"),
    ]


def _presence() -> list[pl.Expr]:
    """Which tool's data are present, and the stage-1 (field by field) invalid mask."""
    ice_items = pl.col("ice_null_mask") != ALL_ITEMS_UNKNOWN
    capd_items = pl.col("capd_null_mask") != ALL_ITEMS_UNKNOWN
    ice_performed = pl.col("ice_score").is_not_null() | ice_items
    capd_performed = pl.col("capd_score").is_not_null() | capd_items
    age = pl.col("age_years")
    ice_score, capd_score = pl.col("ice_score"), pl.col("capd_score")
    stage1 = (
        _flag(
            age.is_nan() | (age < units.AGE_YEARS_RANGE.low) | (age > units.AGE_YEARS_RANGE.high),
            _BIT["age_years"],
        )
        + _flag(
            (ice_score < ice.ICE_MIN_SCORE) | (ice_score > ice.ICE_MAX_SCORE), _BIT["ice_score"]
        )
        + pl.col("ice_items_invalid")
        + _flag(
            (capd_score < capd.CAPD_MIN_SCORE) | (capd_score > capd.CAPD_MAX_SCORE),
            _BIT["capd_score"],
        )
    )
    return [
        ice_items.alias("ice_items_any"),
        capd_items.alias("capd_items_any"),
        ice_performed.alias("ice_performed"),
        capd_performed.alias("capd_performed"),
        (ice_performed | pl.col("ice_not_performable_reason").is_not_null()).alias("ice_any"),
        (capd_performed | pl.col("capd_not_performable_reason").is_not_null()).alias("capd_any"),
        stage1.alias("stage1"),
    ]


def _stage2() -> pl.Expr:
    """Problems across fields (the scalar ``_consistency``), as a mask of INVALID_FIELDS bits."""
    tool = _code("tool")
    ice_any, capd_any = pl.col("ice_any"), pl.col("capd_any")
    stated = (
        ((tool == ICE) & capd_any)
        | ((tool == CAPD) & ice_any)
        | (tool.is_null() & ice_any & capd_any)
    )
    data_tool = (
        pl.when(tool.is_not_null()).then(tool).when(ice_any).then(ICE).when(capd_any).then(CAPD)
    )
    age = pl.col("age_years")
    by_age = ((data_tool == ICE) & (age < rule.ICE_MIN_AGE_YEARS)) | (
        (data_tool == CAPD) & (age >= rule.ICE_MIN_AGE_YEARS) & pl.col("developmental_delay").not_()
    )

    def total_bad(tool_name: str) -> pl.Expr:
        total = pl.col(f"{tool_name}_score")
        return pl.col(f"{tool_name}_items_any") & (
            (total < pl.col(f"{tool_name}_items_low")) | (total > pl.col(f"{tool_name}_items_high"))
        )

    def reason_bad(tool_name: str) -> pl.Expr:
        reason = pl.col(f"{tool_name}_not_performable_reason")
        return reason.is_not_null() & pl.col(f"{tool_name}_performed")

    return (
        _flag(stated.fill_null(False) | by_age.fill_null(False), _BIT["tool"])
        + _flag(total_bad("ice"), _BIT["ice_score"])
        + _flag(reason_bad("ice"), _BIT["ice_not_performable_reason"])
        + _flag(total_bad("capd"), _BIT["capd_score"])
        + _flag(reason_bad("capd"), _BIT["capd_not_performable_reason"])
    )


def _use_capd() -> pl.Expr:
    """The assessment tool (the scalar ``assessment_tool``): true for CAPD."""
    tool = _code("tool")
    child = (pl.col("age_years") < rule.ICE_MIN_AGE_YEARS).fill_null(False)
    delayed = pl.col("developmental_delay").fill_null(False)
    return (
        pl.when(tool.is_not_null())
        .then(tool == CAPD)
        .when(pl.col("ice_any"))
        .then(False)
        .when(pl.col("capd_any"))
        .then(True)
        .otherwise(child | delayed)
    )


def _band(band: Callable[[int], int], top: int) -> pl.Expr:
    """The contribution of every total 0-top, as a lookup table."""
    return _table([band(score) for score in range(top + 1)])


def _encephalopathy() -> list[pl.Expr]:
    """The ICE/CAPD domain: lowest and highest contribution, reason code, missing code."""
    use_capd = pl.col("use_capd")

    def total(tool_name: str, end: str, top: int) -> pl.Expr:
        given = pl.col(f"{tool_name}_score")
        return pl.coalesce(given, pl.col(f"{tool_name}_items_{end}")).clip(0, top)

    ice_band = _band(rule.ice_domain, ice.ICE_MAX_SCORE)
    capd_band = _band(rule.capd_domain, capd.CAPD_MAX_SCORE)
    # The ICE band decreases with the total, the CAPD band increases.
    scored_low = (
        pl.when(use_capd)
        .then(capd_band.gather(total("capd", "low", capd.CAPD_MAX_SCORE)))
        .otherwise(ice_band.gather(total("ice", "high", ice.ICE_MAX_SCORE)))
    )
    scored_high = (
        pl.when(use_capd)
        .then(capd_band.gather(total("capd", "high", capd.CAPD_MAX_SCORE)))
        .otherwise(ice_band.gather(total("ice", "low", ice.ICE_MAX_SCORE)))
    )
    reason = (
        pl.when(use_capd)
        .then(_code("capd_not_performable_reason"))
        .otherwise(_code("ice_not_performable_reason"))
    )
    performed = pl.when(use_capd).then(pl.col("capd_performed")).otherwise(pl.col("ice_performed"))
    unarousable = (reason == UNAROUSABLE).fill_null(False)
    whole_unknown = (reason == OTHER_CAUSE).fill_null(False) | (reason.is_null() & performed.not_())
    low = pl.when(unarousable).then(rule.GRADE_4).when(whole_unknown).then(rule.NONE)
    high = pl.when(unarousable).then(rule.GRADE_4).when(whole_unknown).then(rule.TOP_DOMAIN)
    return [
        low.otherwise(scored_low).cast(pl.Int32).alias("enc_low"),
        high.otherwise(scored_high).cast(pl.Int32).alias("enc_high"),
        whole_unknown.alias("enc_whole_unknown"),
    ]


def _enc_codes() -> list[pl.Expr]:
    """Reason code (index into ENC_CODES) and missing code of the ICE/CAPD domain."""
    use_capd = pl.col("use_capd").cast(pl.Int32)
    low, high = pl.col("enc_low"), pl.col("enc_high")
    # ENC_CODES index by (tool, contribution): ICE 0-4 -> 0-4; CAPD 0, 1, 3, 4 -> 0, 5, 6, 7.
    capd_index = {0: 0} | {
        grade: 1 + len(rule.ICE_REASONS) + k for k, grade in enumerate(rule.CAPD_REASONS)
    }
    code_table = [
        *range(rule.TOP_DOMAIN + 1),
        *(capd_index.get(g, 0) for g in range(rule.TOP_DOMAIN + 1)),
    ]
    code = _table(code_table).gather(use_capd * (rule.TOP_DOMAIN + 1) + low) * (low == high).cast(
        pl.Int32
    )
    whole = pl.when(use_capd == 1).then(MISSING_CAPD_SCORE).otherwise(MISSING_ICE_SCORE)
    items = (
        pl.when(use_capd == 1)
        .then(MISSING_CAPD_ITEMS + pl.col("capd_null_mask"))
        .otherwise(MISSING_ICE_ITEMS + pl.col("ice_null_mask"))
    )
    missing = pl.when(pl.col("enc_whole_unknown")).then(whole).otherwise(items)
    return [code.alias("enc_code"), missing.cast(pl.Int32).alias("enc_missing")]


def _other_domains() -> list[pl.Expr]:
    """Consciousness (with attribution, section 0.5), seizure, motor, edema: low/high/codes."""
    level = _code("consciousness")
    other_cause = pl.col("consciousness_attributable_to_other_cause")
    top = rule.TOP_DOMAIN
    attributed_code = CONSCIOUSNESS_CODES.index(rule.REASON_CONSCIOUSNESS_OTHER_CAUSE)
    expressions = [
        pl.when(other_cause.not_()).then(level.fill_null(0)).otherwise(0).alias("cons_low"),
        pl.when(other_cause).then(0).otherwise(level.fill_null(top)).alias("cons_high"),
        pl.when(other_cause)
        .then((level > 0).fill_null(False).cast(pl.Int32) * attributed_code)
        .when(other_cause.not_())
        .then(level.fill_null(0))
        .otherwise(0)
        .alias("cons_code"),
        (_flag(level.is_null(), 1) + _flag(other_cause.is_null(), 2)).alias("cons_missing"),
    ]
    plain = (
        ("seizure", rule.SEIZURE_DOMAIN),
        ("motor", rule.MOTOR_DOMAIN),
        ("icp_edema", rule.EDEMA_DOMAIN),
    )
    for name, table in plain:
        code = _code(name)
        contribution = _table(list(table.values())).gather(code)
        expressions += [
            contribution.fill_null(0).alias(f"{name}_low"),
            contribution.fill_null(max(table.values())).alias(f"{name}_high"),
            code.fill_null(0).alias(f"{name}_code"),
        ]
    return expressions


def _invalid_mask() -> pl.Expr:
    """The invalid fields of a row: field by field, else across fields (scalar ``check``)."""
    return pl.when(pl.col("stage1") != 0).then(pl.col("stage1")).otherwise(_stage2())


def _outcome() -> list[pl.Expr]:
    """Status code, grade, reported totals, and the reasons and missing indexes."""
    domains = ("enc", "cons", "seizure", "motor", "icp_edema")
    low = pl.max_horizontal([pl.col(f"{d}_low") for d in domains])
    high = pl.max_horizontal([pl.col(f"{d}_high") for d in domains])
    invalid = _invalid_mask()
    died = pl.col("died_due_to_icans").fill_null(False)
    determined = low == high
    status = (
        pl.when(invalid != 0).then(INVALID).when(died | determined).then(OK).otherwise(CANNOT_GRADE)
    )
    grade = pl.when(status == OK).then(pl.when(died).then(rule.GRADE_DEATH).otherwise(low))
    valid = invalid == 0
    use_capd = pl.col("use_capd")
    ice_total = pl.coalesce(
        pl.col("ice_score"),
        pl.when(pl.col("ice_null_mask") == 0).then(pl.col("ice_items_low")),
    )
    capd_total = pl.coalesce(
        pl.col("capd_score"),
        pl.when(pl.col("capd_null_mask") == 0).then(pl.col("capd_items_low")),
    )
    ok_index = pl.col("enc_code")
    for name, codes in zip(("cons", "seizure", "motor", "icp_edema"), DOMAIN_CODES, strict=True):
        ok_index = ok_index * len(codes) + pl.col(f"{name}_code")
    reasons = (
        pl.when(invalid != 0)
        .then(REASONS_INVALID_BASE + invalid)
        .when(died)
        .then(REASONS_DIED)
        .when(determined)
        .then(REASONS_OK_BASE + ok_index)
        .otherwise(REASONS_EMPTY)
    )

    def raises(name: str) -> pl.Expr:
        return (pl.col(f"{name}_high") > low).cast(pl.Int32)

    missing_other = (
        pl.col("cons_missing") * raises("cons")
        + raises("seizure") * 4
        + raises("motor") * 8
        + raises("icp_edema") * 16
    )
    missing = pl.when(status == CANNOT_GRADE).then(
        pl.col("enc_missing") * raises("enc") * _OTHER_MISSING + missing_other
    )
    return [
        status.alias("status_code"),
        grade.cast(pl.Int64).alias("grade"),
        pl.when(valid & use_capd.not_()).then(ice_total).alias("ice_score"),
        pl.when(valid & use_capd).then(capd_total).alias("capd_score"),
        reasons.alias("reasons_index"),
        missing.fill_null(0).alias("missing_index"),
    ]


def _general_codes(data: pl.LazyFrame) -> pl.LazyFrame:
    """The general path: every intermediate column, then the integer outcome codes."""
    return (
        data.with_columns(_items())
        .with_columns(_presence())
        .with_columns(_use_capd().alias("use_capd"))
        .with_columns(_encephalopathy() + _other_domains())
        .with_columns(_enc_codes())
    )


SMALL_FRAME = 4096  # rows; below it, planning the long query costs more than optimising saves


def _collect_options(data: pl.DataFrame) -> dict[str, Any]:
    """Skip the query optimiser on small frames (general rows of a batch, short files)."""
    flags = getattr(pl, "QueryOptFlags", None)
    if flags is None or data.height >= SMALL_FRAME:
        return {}
    return {"optimizations": flags.none()}


def general_rows(data: pl.DataFrame) -> pl.DataFrame:
    """Grade conformed rows by the general path (any row; used on small frames)."""
    graded = _general_codes(data.lazy()).select(_outcome()).collect(**_collect_options(data))
    return pl.DataFrame(
        {
            "status": pl.Series(STATUS_WORDS).gather(graded["status_code"]),
            "grade": graded["grade"],
            "ice_score": graded["ice_score"].cast(pl.Int64),
            "capd_score": graded["capd_score"].cast(pl.Int64),
            "reasons": _decode(graded["reasons_index"], _reasons),
            "missing": _decode(graded["missing_index"], _missing),
        },
        schema=OUTPUT_SCHEMA,
    )


# --- fast path ------------------------------------------------------------------------------
# Every row whose encephalopathy domain rests on one exact total (given, or summed from
# complete items), a not-performable reason or nothing at all, and which is valid, is one of
# ENC_STATES x OTHER_STATES situations. The outputs of every situation are computed once by
# the general path on a synthetic row (``_outcome_table``), and each row gathers its outputs by
# its key. A small routing table (``_route_table``) turns the codes of the tool, the totals,
# the reasons, the age and the developmental delay into the row's encephalopathy state, or
# GENERAL for rows graded by the general path (invalid rows, partly known items).

AGE = units.AGE_YEARS_RANGE
ICE_NONE, ICE_GENERAL = ice.ICE_MAX_SCORE + 1, ice.ICE_MAX_SCORE + 2
CAPD_NONE, CAPD_GENERAL = capd.CAPD_MAX_SCORE + 1, capd.CAPD_MAX_SCORE + 2
ICE_CODES, CAPD_CODES = (ICE_NONE, ICE_GENERAL), (CAPD_NONE, CAPD_GENERAL)  # (unknown, general)
REASON_NONE = len(v.NOT_PERFORMABLE_REASONS)
TOOL_NONE = len(v.ICANS_TOOLS)
AGE_UNKNOWN, AGE_CHILD, AGE_FROM_12, AGE_OUT_OF_RANGE = range(4)
DELAY_NONE = 2
# Representative ages of the age classes, for the synthetic rows of the routing table.
AGE_EXAMPLES: tuple[float | None, ...] = (None, 5.0, 30.0, -1.0)
ROUTE_RADIX = (
    TOOL_NONE + 1,
    ICE_GENERAL + 1,
    REASON_NONE + 1,
    CAPD_GENERAL + 1,
    REASON_NONE + 1,
    len(AGE_EXAMPLES),
    DELAY_NONE + 1,
)

# Encephalopathy states: ICE total 0-10, ICE unarousable, ICE unknown, then the same for CAPD.
ICE_UNAROUSABLE, ICE_UNKNOWN = ice.ICE_MAX_SCORE + 1, ice.ICE_MAX_SCORE + 2
CAPD_BASE = ICE_UNKNOWN + 1
CAPD_UNAROUSABLE = CAPD_BASE + capd.CAPD_MAX_SCORE + 1
CAPD_UNKNOWN = CAPD_UNAROUSABLE + 1
ENC_STATES = CAPD_UNKNOWN + 1
GENERAL = ENC_STATES
# Other states: consciousness (5 levels, unknown) x attribution (false, true, unknown) x
# seizure (3, unknown) x motor (3, unknown) x edema (4, unknown) x died (no, yes).
OTHER_RADIX = (
    len(v.CONSCIOUSNESS) + 1,
    3,
    len(v.SEIZURE) + 1,
    len(v.MOTOR) + 1,
    len(v.ICP_EDEMA) + 1,
    2,
)
OTHER_STATES = math.prod(OTHER_RADIX)


def _digits(index: pl.Expr, radix: tuple[int, ...]) -> list[pl.Expr]:
    """Mixed-radix digits of ``index``, first digit least significant."""
    digits = []
    for base in radix:
        digits.append(index % base)
        index = index // base
    return digits


def _enum(codes: pl.Expr, words: tuple[str, ...]) -> pl.Expr:
    """Codes to an Enum column; a code past the last word is null (unknown)."""
    return (
        pl.when(codes < len(words))
        .then(pl.lit(pl.Series(words)).gather(codes.clip(0, len(words) - 1)))
        .cast(pl.Enum(list(words)))
    )


def _bool(codes: pl.Expr) -> pl.Expr:
    """0 -> false, 1 -> true, anything else -> null."""
    return pl.when(codes < 2).then(codes == 1)


@cache
def _outcome_table() -> pl.DataFrame:
    """The output row of every (encephalopathy state, other state) key, by the general path."""
    key = pl.int_range(ENC_STATES * OTHER_STATES, dtype=pl.Int64)
    enc, other = key // OTHER_STATES, key % OTHER_STATES
    level, attribution, seizure, motor, edema, died = _digits(other, OTHER_RADIX)
    capd_state = enc - CAPD_BASE
    synthetic = pl.select(
        pl.when(enc < CAPD_BASE)
        .then(pl.lit("ICE"))
        .otherwise(pl.lit("CAPD"))
        .cast(INPUT_SCHEMA["tool"])
        .alias("tool"),
        pl.when(enc <= ice.ICE_MAX_SCORE).then(enc).alias("ice_score"),
        pl.when(enc == ICE_UNAROUSABLE)
        .then(pl.lit("unarousable"))
        .cast(INPUT_SCHEMA["ice_not_performable_reason"])
        .alias("ice_not_performable_reason"),
        pl.when((capd_state >= 0) & (capd_state <= capd.CAPD_MAX_SCORE))
        .then(capd_state)
        .alias("capd_score"),
        pl.when(enc == CAPD_UNAROUSABLE)
        .then(pl.lit("unarousable"))
        .cast(INPUT_SCHEMA["capd_not_performable_reason"])
        .alias("capd_not_performable_reason"),
        _enum(level, v.CONSCIOUSNESS).alias("consciousness"),
        _bool(attribution).alias("consciousness_attributable_to_other_cause"),
        _enum(seizure, v.SEIZURE).alias("seizure"),
        _enum(motor, v.MOTOR).alias("motor"),
        _enum(edema, v.ICP_EDEMA).alias("icp_edema"),
        (died == 1).alias("died_due_to_icans"),
    )
    return general_rows(conform(synthetic, INPUT_SCHEMA))


@cache
def _route_table() -> pl.Series:
    """The encephalopathy state (or GENERAL) of every combination of the routing codes."""
    index = pl.int_range(math.prod(ROUTE_RADIX), dtype=pl.Int64)
    delay, age, capd_reason, capd_code, ice_reason, ice_code, tool = _digits(
        index, tuple(reversed(ROUTE_RADIX))
    )
    reasons = v.NOT_PERFORMABLE_REASONS
    synthetic = pl.select(
        _enum(tool, v.ICANS_TOOLS).alias("tool"),
        pl.when(ice_code <= ice.ICE_MAX_SCORE).then(ice_code).alias("ice_score"),
        _enum(ice_reason, reasons).alias("ice_not_performable_reason"),
        pl.when(capd_code <= capd.CAPD_MAX_SCORE).then(capd_code).alias("capd_score"),
        _enum(capd_reason, reasons).alias("capd_not_performable_reason"),
        pl.lit(pl.Series(AGE_EXAMPLES, dtype=pl.Float64)).gather(age).alias("age_years"),
        _bool(delay).alias("developmental_delay"),
        ice_code.alias("ice_code"),
        capd_code.alias("capd_code"),
        age.alias("age_class"),
    )
    graded = _general_codes(
        conform(synthetic, INPUT_SCHEMA)
        .hstack(synthetic.select("ice_code", "capd_code", "age_class"))
        .lazy()
    )
    general = (
        (pl.col("ice_code") == ICE_GENERAL)
        | (pl.col("capd_code") == CAPD_GENERAL)
        | (pl.col("age_class") == AGE_OUT_OF_RANGE)
        | (_invalid_mask() != 0)
    )
    ice_reason_code = _code("ice_not_performable_reason")
    capd_reason_code = _code("capd_not_performable_reason")
    state = (
        pl.when(general)
        .then(GENERAL)
        .when(pl.col("use_capd"))
        .then(
            pl.when(pl.col("capd_code") <= capd.CAPD_MAX_SCORE)
            .then(CAPD_BASE + pl.col("capd_code"))
            .when(capd_reason_code == UNAROUSABLE)
            .then(CAPD_UNAROUSABLE)
            .otherwise(CAPD_UNKNOWN)
        )
        .when(pl.col("ice_code") <= ice.ICE_MAX_SCORE)
        .then(pl.col("ice_code"))
        .when(ice_reason_code == UNAROUSABLE)
        .then(ICE_UNAROUSABLE)
        .otherwise(ICE_UNKNOWN)
    )
    return graded.select(state.cast(pl.UInt8)).collect().to_series()


@dataclass(frozen=True, slots=True)
class _Shape:
    """What the expressions may assume about a conformed frame, found with a few aggregates.

    Whole branches are skipped when a column is entirely null, and values known to lie in
    range are narrowed with a wrapping cast (several times faster than a checked one).
    """

    height: int
    null_counts: dict[str, int]
    in_range: frozenset[str]  # numeric columns whose known values all lie in their range

    @classmethod
    def of(cls, data: pl.DataFrame) -> _Shape:
        null_counts = {name: data[name].null_count() for name in data.columns}
        checks = {
            "ice_score": _within("ice_score", ice.ICE_MIN_SCORE, ice.ICE_MAX_SCORE),
            "capd_score": _within("capd_score", capd.CAPD_MIN_SCORE, capd.CAPD_MAX_SCORE),
            "age_years": _within("age_years", AGE.low, AGE.high),
        }
        names = [name for name in checks if null_counts[name] < data.height]
        found = data.select(checks[name].alias(name) for name in names).row(0) if names else ()
        in_range = {name for name in checks if name not in names}
        in_range.update(name for name, ok in zip(names, found, strict=True) if ok)
        return cls(data.height, null_counts, frozenset(in_range))

    def all_null(self, *names: str) -> bool:
        return all(self.null_counts[name] == self.height for name in names)

    def has_nulls(self, name: str) -> bool:
        return self.null_counts[name] > 0


def _within(name: str, low: float, high: float) -> pl.Expr:
    """True when every known value of ``name`` lies in ``[low, high]`` (NaN does not)."""
    column = pl.col(name)
    inside = ((column.min() >= low) & (column.max() <= high)).fill_null(True)
    if name == "age_years":  # min/max skip NaN; nan_max is 4x slower than this test
        return inside & column.is_nan().any().not_()
    return inside


def _constant(value: int) -> pl.Expr:
    """A UInt8 column of ``value`` as long as the frame (a bare literal would be one row)."""
    return pl.repeat(value, pl.len(), dtype=pl.UInt8)


def _filled(expression: pl.Expr, name: str, shape: _Shape, unknown: int) -> pl.Expr:
    return expression.fill_null(unknown) if shape.has_nulls(name) else expression


def _physical(name: str, shape: _Shape, unknown: int) -> pl.Expr:
    """The Enum code of ``name`` (UInt8), ``unknown`` where null."""
    if shape.all_null(name):
        return _constant(unknown)
    return _filled(pl.col(name).to_physical(), name, shape, unknown)


def _small_flag(name: str, shape: _Shape, unknown: int) -> pl.Expr:
    """A boolean as UInt8: 0 false, 1 true, ``unknown`` where null."""
    if shape.all_null(name):
        return _constant(unknown)
    return _filled(pl.col(name).cast(pl.UInt8), name, shape, unknown)


def _total_code(shape: _Shape, name: str, top: int, codes: tuple[int, int]) -> pl.Expr:
    """A given total as its own code (UInt8); ``codes`` = (unknown, out of range)."""
    unknown, general = codes
    if shape.all_null(name):
        return _constant(unknown)
    column = pl.col(name)
    narrow = column.cast(pl.UInt8, wrap_numerical=True)  # exact once the range is known
    if name in shape.in_range:
        return _filled(narrow, name, shape, unknown)
    return (
        pl.when(column.is_null())
        .then(pl.lit(unknown, pl.UInt8))
        .when(column.is_between(0, top))
        .then(narrow)
        .otherwise(pl.lit(general, pl.UInt8))
    )


def _sum(terms: list[pl.Expr]) -> pl.Expr:
    """``t1 + t2 + ...``: null where any term is null."""
    return sum(terms[1:], terms[0])


def _ice_items_ok(columns: list[pl.Expr]) -> pl.Expr:
    """True when every ICE item lies in 0..its maximum; null when an item is unknown.

    An item's maximum is 2**k - 1, so ``0 <= x <= max`` is ``x & ~max == 0`` (a negative x
    has its high bits set): one OR per item and one AND per distinct maximum, no comparisons.
    """
    by_top: dict[int, list[pl.Expr]] = {}
    for column, top in zip(columns, ice.ITEM_MAX.values(), strict=True):
        by_top.setdefault(top, []).append(column)
    outside: list[pl.Expr] = []
    for top, group in by_top.items():
        if top & (top + 1):  # not 2**k - 1: compare instead
            outside += [(~column.is_between(0, top)).cast(pl.Int64) for column in group]
        else:
            combined = group[0]
            for column in group[1:]:
                combined = combined | column
            outside.append(combined & ~top)
    either = outside[0]
    for term in outside[1:]:
        either = either | term
    return either == 0


def _assessment_code(
    given: pl.Expr, total: Callable[[], tuple[pl.Expr, pl.Expr]], codes: tuple[int, int]
) -> pl.Expr:
    """On rows with items: their total if they are complete, valid and agree with a given
    total (``given``, its code), else ``general``.

    ``total()`` returns the items' total and a flag that is true when it is usable (null or
    false otherwise); both are null where an item is unknown.
    """
    items_total, usable = total()
    unknown, general = codes
    agrees = usable & ((given == unknown) | (given == items_total))
    return (
        pl.when(agrees)
        .then(items_total.cast(pl.UInt8, wrap_numerical=True))
        .otherwise(pl.lit(general, pl.UInt8))
    )


def _ice_items() -> tuple[pl.Expr, pl.Expr]:
    columns = [pl.col(name) for name in ICE_ITEM_COLUMNS]
    return _sum(columns), _ice_items_ok(columns)


def _capd_items() -> tuple[pl.Expr, pl.Expr]:
    codes = [pl.col(name).to_physical() for name in CAPD_ITEM_COLUMNS]
    points = [
        (capd.ITEM_POINTS_MAX - code) if item in capd.REVERSED_ITEMS else code
        for item, code in zip(capd.ITEMS, codes, strict=True)
    ]
    total = _sum(points)
    return total, total.is_not_null()


_ASSESSMENTS = (
    # code column, given total, its top, item columns, the items' total, (unknown, general)
    ("ice_code", "ice_score", ice.ICE_MAX_SCORE, ICE_ITEM_COLUMNS, _ice_items, ICE_CODES),
    ("capd_code", "capd_score", capd.CAPD_MAX_SCORE, CAPD_ITEM_COLUMNS, _capd_items, CAPD_CODES),
)


def _assessment_codes(data: pl.DataFrame, shape: _Shape) -> dict[str, pl.Expr | pl.Series]:
    """``ice_code`` and ``capd_code``: a total, unknown or general (UInt8), per row.

    Without items, an expression on the given total. With items (usually a minority of the
    rows), those rows are filtered, coded, and written over the given totals' codes: the
    item columns are read once, and only the rows that have items are computed on.
    """
    found: dict[str, pl.Expr | pl.Series] = {}
    with_items = []
    for name, score, top, items, total, codes in _ASSESSMENTS:
        given = _total_code(shape, score, top, codes)
        if shape.all_null(*items):
            found[name] = given
        else:
            with_items.append((name, given, items, total, codes))
    if not with_items:
        return found
    # One pass for both tools' item masks and given codes, then both tools' item rows coded
    # at once (collect_all runs them side by side).
    masks = data.select(
        *(
            pl.any_horizontal(pl.col(item).is_not_null() for item in items).alias(f"{name}_items")
            for name, _, items, _, _ in with_items
        ),
        *(given.alias(name) for name, given, _, _, _ in with_items),
    )
    # Streaming: the filtered item columns are never materialised (half the page faults).
    queries = [
        data.lazy()
        .filter(masks[f"{name}_items"])
        .select(_assessment_code(given, total, codes).alias(name))
        for name, given, _, total, codes in with_items
    ]
    item_codes = pl.collect_all(queries, engine="streaming")
    for (name, *_), coded in zip(with_items, item_codes, strict=True):
        rows = masks[f"{name}_items"]
        found[name] = masks[name].scatter(_positions(rows), coded.to_series())
    return found


def _row_numbers(height: int) -> pl.Series:
    """0 .. height - 1 as UInt32."""
    return pl.int_range(height, dtype=pl.UInt32, eager=True)


def _positions(mask: pl.Series, numbers: pl.Series | None = None) -> pl.Series:
    """Row numbers where ``mask`` is true (as ``arg_true``, several times faster)."""
    return (_row_numbers(len(mask)) if numbers is None else numbers).filter(mask)


def _age_class(shape: _Shape) -> pl.Expr:
    """AGE_UNKNOWN, AGE_CHILD, AGE_FROM_12 or AGE_OUT_OF_RANGE (UInt8)."""
    if shape.all_null("age_years"):
        return _constant(AGE_UNKNOWN)
    age = pl.col("age_years")
    known = (age >= rule.ICE_MIN_AGE_YEARS).cast(pl.UInt8) + AGE_CHILD
    if "age_years" in shape.in_range:
        return _filled(known, "age_years", shape, AGE_UNKNOWN)
    plausible = units.AGE_YEARS_RANGE
    in_range = (age >= plausible.low) & (age <= plausible.high)
    return (
        pl.when(age.is_null())
        .then(pl.lit(AGE_UNKNOWN, pl.UInt8))
        .when(in_range)
        .then(known)
        .otherwise(pl.lit(AGE_OUT_OF_RANGE, pl.UInt8))
    )


def _route_key(shape: _Shape, ice_code: pl.Expr, capd_code: pl.Expr) -> pl.Expr:
    """Mixed-radix key of the routing codes (ROUTE_RADIX, last digit least significant)."""
    _, ice_r, ice_reason_r, capd_r, capd_reason_r, age_r, delay_r = ROUTE_RADIX
    low = (
        _small_flag("developmental_delay", shape, DELAY_NONE)
        + _age_class(shape) * delay_r
        + _physical("capd_not_performable_reason", shape, REASON_NONE) * (delay_r * age_r)
    )
    high = (
        _physical("ice_not_performable_reason", shape, REASON_NONE)
        + ice_code * ice_reason_r
        + _physical("tool", shape, TOOL_NONE) * (ice_reason_r * ice_r)
    )
    middle = capd_code.cast(pl.UInt16) + high.cast(pl.UInt16) * capd_r
    return low.cast(pl.UInt32) + middle.cast(pl.UInt32) * (delay_r * age_r * capd_reason_r)


def _other_key(shape: _Shape) -> pl.Expr:
    """Mixed-radix key of the other domains (OTHER_RADIX), in UInt8 steps then UInt16."""
    level = _physical("consciousness", shape, len(v.CONSCIOUSNESS))
    flag = _small_flag("consciousness_attributable_to_other_cause", shape, 2)
    seizure = _physical("seizure", shape, len(v.SEIZURE))
    motor = _physical("motor", shape, len(v.MOTOR))
    edema = _physical("icp_edema", shape, len(v.ICP_EDEMA))
    died = _small_flag("died_due_to_icans", shape, 0)
    c, f, s, m, e, _ = OTHER_RADIX
    low = level + flag * c
    high = seizure + (motor + (edema + died * e) * m) * s
    return low.cast(pl.UInt32) + high.cast(pl.UInt32) * (c * f)


def _output_row(data: pl.DataFrame) -> pl.Series:
    """Each row's output row (UInt16, :func:`_output_rows`); NO_ROW for the general path.

    One streaming query: the intermediate codes of a batch of rows stay in the cache.
    """
    shape = _Shape.of(data)
    codes = _assessment_codes(data, shape)
    code = {
        name: pl.col(name) if isinstance(found, pl.Series) else found
        for name, found in codes.items()
    }
    columns = [found.alias(name) for name, found in codes.items() if isinstance(found, pl.Series)]
    row_map, _ = _output_rows()
    route = _route_key(shape, code["ice_code"], code["capd_code"])
    key = pl.lit(_route_offsets()).gather(route) + _other_key(shape)
    query = data.hstack(columns).lazy().select(pl.lit(row_map).gather(key).alias("row"))
    return query.collect(engine="streaming").to_series()


NO_ROW = (1 << 16) - 1  # the row map's entry for GENERAL keys


@cache
def _route_offsets() -> pl.Series:
    """The routing table with each state pre-multiplied: the key's high part (UInt32)."""
    return _route_table().cast(pl.UInt32) * OTHER_STATES


@cache
def _output_rows() -> tuple[pl.Series, pl.DataFrame]:
    """The outcome table deduplicated: key -> output row (UInt16), and the distinct rows.

    About 140 000 situations have about 12 000 distinct outputs; gathering from the small
    table (rather than the whole outcome table) keeps the six output gathers in the cache.
    """
    table = _outcome_table()
    rows: dict[tuple[Any, ...], int] = {}
    row_of_key = []
    for values in table.iter_rows():
        frozen = tuple(tuple(x) if isinstance(x, list) else x for x in values)
        row_of_key.append(rows.setdefault(frozen, len(rows)))
    if len(rows) >= NO_ROW:
        raise AssertionError("too many distinct outcomes for a UInt16 row map")
    first = sorted({row: key for key, row in reversed(list(enumerate(row_of_key)))}.items())
    distinct = table[[key for _, key in first]]
    row_of_key += [NO_ROW] * OTHER_STATES  # the GENERAL state
    return pl.Series(row_of_key, dtype=pl.UInt16), distinct


@cache
def _coded_rows() -> pl.DataFrame:
    """The distinct output rows as a gather table of the coded form (ADR 0450)."""
    return coded_table(_output_rows()[1])


def _graded_rows(frame: pl.DataFrame, coded: bool) -> tuple[pl.Series, pl.DataFrame]:
    """Each row's output row, and the output table it indexes (with the general rows)."""
    data = conform(frame, INPUT_SCHEMA)
    outputs = _coded_rows() if coded else _output_rows()[1]
    row = _output_row(data)
    general = row == NO_ROW
    if general.any():
        index = _positions(general)
        extra = general_rows(data[index])
        fresh = pl.int_range(
            outputs.height, outputs.height + extra.height, dtype=pl.UInt32, eager=True
        )
        row = row.cast(pl.UInt32).scatter(index, fresh)
        outputs = pl.concat([outputs, coded_table(extra) if coded else extra])
    return row, outputs


def grade_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """ASTCT 2019 ICANS grade of every row (the columns of ``ICANSResult.as_row()``).

    Identical, row for row, to ``grade_icans(observation).as_row()``; columns absent from
    ``frame`` are unknown (null).
    """
    row, outputs = _graded_rows(frame, coded=False)
    return outputs[row]


def grade_frame_coded(frame: pl.DataFrame) -> pl.DataFrame:
    """:func:`grade_frame` in the coded form (``status`` Enum; ``grade``, ``ice_score``,
    ``capd_score`` Int8; ``reasons`` and ``missing`` Categorical of the joined list; ADR 0450).
    ``coded.decode`` of it equals :func:`grade_frame`.
    """
    row, outputs = _graded_rows(frame, coded=True)
    return gather(outputs, row)
