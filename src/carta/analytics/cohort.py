"""A cohort for outcome analytics: one row per patient, read from a file or a registry export,
with its columns checked before any number is computed.

* :func:`read_cohort` - a CSV, JSON Lines or Parquet file with one row per patient, or a
  registry export folder (``patients/``, ``infusions/``, ``outcomes/`` ... each holding
  ``part-*.parquet``; the layout :func:`carta.synth.write_parquet` writes), joined into the
  patient-level cohort of :func:`cohort_from_tables`.
* :func:`cohort_from_tables` - join the registry tables and derive the stratification columns
  the analyses use (``target_antigen``, ``ld_regimen``, ``dose_band``, ``first_response_day``,
  and, from graded patient-days, the CRS and ICANS toxicity columns).
* Column checks (:func:`time_column`, :func:`event_column`, :func:`group_column`,
  :func:`weight_column`, :func:`survival_data`, :func:`design_matrix`) turn a user's column
  into typed values or raise :class:`CohortError` naming the column, the problem and the first
  rows where it occurs: a missing column, text in a number column, a negative time, an event
  code outside the allowed set, a missing group. Nothing is silently dropped except rows with
  a missing covariate in a regression, which are counted and reported (complete-case analysis,
  as R's ``na.omit``).

Rows are numbered from 1 (the first record after a CSV header is row 1), as in
:mod:`carta.io.problems`.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

# --- names --------------------------------------------------------------------------------
TIME = "time"
EVENT = "event"
GROUP = "group"
WEIGHT = "weight"
ALL = "all"  # the group label of an unstratified analysis

# The registry export: one folder per table, Parquet parts inside (carta.synth.write_parquet).
EXPORT_TABLES = ("patients", "infusions", "outcomes", "responses")
# Responses that count towards the overall response rate (at least a partial response) and
# towards the complete response rate, across Lugano 2014, IMWG 2016, B-ALL and iwCLL 2018
# (ADR 0305).
OBJECTIVE_RESPONSES = ("scr", "cr", "cri", "vgpr", "pr")
COMPLETE_RESPONSES = ("scr", "cr", "cri")
# A syndrome's grade >= this is "severe" for the competing-risks columns.
SEVERE_GRADE = 3
# Patient-days run to day 30: toxicity time-to-event columns are followed to this day.
TOXICITY_HORIZON_DAYS = 30
SYNDROMES = ("crs", "icans")
# Words accepted for a yes/no (0/1) column given as text.
TRUE_WORDS = frozenset({"1", "true", "t", "yes", "y"})
FALSE_WORDS = frozenset({"0", "false", "f", "no", "n"})
SHOWN_ROWS = 5  # a message lists the first few offending rows


class CohortError(ValueError):
    """A cohort column that cannot be analysed as asked; the message names column and problem."""


# --- reading ------------------------------------------------------------------------------


def read_cohort(path: str | Path, *, toxicity: bool = False) -> pl.DataFrame:
    """The cohort in ``path``: a one-row-per-patient file, or a registry export folder.

    A file is read as it is (CSV cells stay text; the column checks type them when an
    analysis uses them). A folder must hold ``patients/``, ``infusions/`` and ``outcomes/``
    (``responses/`` optional) with Parquet parts, and is joined by
    :func:`cohort_from_tables`; with ``toxicity`` its ``patient_days/`` are graded (the CRS
    and ICANS timeline, one Parquet part at a time) into the toxicity columns of
    :func:`toxicity_by_patient` and :func:`with_toxicity_outcomes`. Unreadable files raise
    :class:`carta.io.problems.BadInputError`.
    """
    from carta.io.problems import BadInputError, InputProblem
    from carta.io.readers import read_table

    source = Path(path)
    if source.is_dir():
        return _read_export(source, toxicity=toxicity)
    if toxicity:
        raise CohortError(
            "toxicity columns are derived from a registry export folder (with patient_days/); "
            f"{source} is a file"
        )
    try:
        return read_table(source).frame
    except BadInputError:
        raise
    except pl.exceptions.PolarsError as error:  # a damaged Parquet file
        raise BadInputError([InputProblem(expected=f"cannot read {source}: {error}")]) from None


def _read_export(folder: Path, *, toxicity: bool = False) -> pl.DataFrame:
    tables: dict[str, pl.DataFrame] = {}
    for name in EXPORT_TABLES:
        parts = sorted((folder / name).glob("*.parquet"))
        if parts:
            tables[name] = pl.read_parquet(parts)
    absent = [name for name in ("patients", "infusions", "outcomes") if name not in tables]
    if absent:
        raise CohortError(
            f"{folder} is a folder but not a registry export: no Parquet files in "
            f"{', '.join(f'{name}/' for name in absent)} (expected patients/, infusions/, "
            "outcomes/ and optionally responses/, each with part-*.parquet)"
        )
    return cohort_from_tables(
        tables["patients"],
        tables["infusions"],
        tables["outcomes"],
        responses=tables.get("responses"),
        toxicity=graded_toxicity(folder / "patient_days") if toxicity else None,
    )


def graded_toxicity(folder: Path) -> pl.DataFrame:
    """:func:`toxicity_by_patient` of the patient-days in ``folder`` (Parquet parts), graded
    one part at a time (a patient's days are in one part) to bound memory.

    Only the columns the timeline reads are read, and its reason lists are not built: the
    toxicity columns need the grades alone (ADR 0319).
    """
    from carta.analytics.timeline import INPUT_COLUMNS, grade_timeline

    parts = sorted(folder.glob("*.parquet"))
    if not parts:
        raise CohortError(f"no Parquet files in {folder}: the toxicity columns need patient-days")

    def graded(part: Path) -> pl.DataFrame:
        available = pl.read_parquet_schema(part)
        days = pl.read_parquet(part, columns=[name for name in INPUT_COLUMNS if name in available])
        return toxicity_by_patient(grade_timeline(days, reasons=False))

    toxicity = pl.concat([graded(part) for part in parts])
    if toxicity["patient_id"].is_duplicated().any():
        # The fever waiver depends on a patient's earlier days: a course split across parts
        # would be graded wrongly, so refuse rather than guess.
        raise CohortError(
            f"{folder}: some patients' days are spread over several Parquet parts; write each "
            "patient's days into one part (as carta.synth does)"
        )
    return toxicity.sort("patient_id")


# --- joining the registry tables ----------------------------------------------------------


def cohort_from_tables(
    patients: pl.DataFrame,
    infusions: pl.DataFrame,
    outcomes: pl.DataFrame,
    *,
    responses: pl.DataFrame | None = None,
    toxicity: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per patient: patients, their (first) infusion and outcome, and derived columns.

    Derived: ``target_antigen`` (product catalogue), ``ld_regimen`` (``flu 30 / cy 500``, the
    daily mg/m2 doses), ``dose_band`` (``low``/``middle``/``high``: tertile of total cells
    within the product), ``first_response_day`` (first assessment at PR or better, from
    ``responses``) and, when ``toxicity`` (:func:`toxicity_by_patient`) is given, its columns.
    """
    infusion_columns = [name for name in infusions.columns if name not in patients.columns]
    cohort = _left_join(
        patients, _first_per_patient(infusions).select("patient_id", *infusion_columns)
    )
    outcome_columns = [name for name in outcomes.columns if name not in cohort.columns]
    cohort = _left_join(cohort, outcomes.select("patient_id", *outcome_columns))
    cohort = _with_derived(cohort)
    if responses is not None:
        cohort = cohort.join(first_response_day(responses), on="patient_id", how="left")
    if toxicity is not None:
        cohort = cohort.join(toxicity, on="patient_id", how="left")
        cohort = with_toxicity_outcomes(cohort)
    return cohort.drop("synthetic", strict=False)


def _strictly_increasing(ids: pl.Series) -> bool:
    """Whether ``ids`` has no nulls and increases down the rows (so each id occurs once)."""
    if ids.null_count() or not ids.is_sorted():
        return False
    return not (ids.len() > 1 and (ids.slice(1) == ids.slice(0, ids.len() - 1)).any())


def _first_per_patient(table: pl.DataFrame) -> pl.DataFrame:
    """The first row of each patient, in order; one pass when ``table`` is sorted by patient
    (as registry exports are) instead of a hash of a million ids."""
    ids = table["patient_id"]
    if _strictly_increasing(ids):
        return table
    if not ids.null_count() and ids.is_sorted():
        return table.filter((ids != ids.shift(1)).fill_null(True))
    return table.unique("patient_id", keep="first", maintain_order=True)


def _left_join(left: pl.DataFrame, right: pl.DataFrame) -> pl.DataFrame:
    """``left`` joined to ``right`` on ``patient_id`` (left join, left's order).

    When both list the same patients in the same order, once each (a registry export's
    tables), the join is putting the columns side by side; checking that costs one pass,
    a hash join of a million rows several.
    """
    ids = left["patient_id"]
    if (
        ids.len() == right.height
        and _strictly_increasing(ids)
        and ids.dtype == right["patient_id"].dtype
        and ids.equals(right["patient_id"])
    ):
        return left.hstack(right.drop("patient_id"))
    return left.join(right, on="patient_id", how="left")


def _with_derived(cohort: pl.DataFrame) -> pl.DataFrame:
    from carta.clinical.products import PRODUCTS

    derived = []
    if "product_code" in cohort.columns:
        targets = {product.code: product.target for product in PRODUCTS}
        derived.append(
            pl.col("product_code")
            .cast(pl.String)
            .replace_strict(targets, default=None, return_dtype=pl.String)
            .alias("target_antigen")
        )
    flu, cyclo = "ld_fludarabine_mg_m2_day", "ld_cyclophosphamide_mg_m2_day"
    if flu in cohort.columns and cyclo in cohort.columns:
        derived.append(
            pl.format(
                "flu {} / cy {}",
                pl.col(flu).round(1).cast(pl.String).str.strip_suffix(".0"),
                pl.col(cyclo).round(1).cast(pl.String).str.strip_suffix(".0"),
            ).alias("ld_regimen")
        )
    if "product_code" in cohort.columns and "total_cells" in cohort.columns:
        tertile = (pl.col("total_cells").rank("average") / pl.col("total_cells").count()).over(
            "product_code"
        )
        # The rank once (eager expressions do not share sub-expressions), then the words.
        cohort = cohort.with_columns(tertile.alias("_tertile"))
        tertile = pl.col("_tertile")
        derived.append(
            pl.when(pl.col("total_cells").is_null())
            .then(None)
            .when(tertile <= 1 / 3)
            .then(pl.lit("low"))
            .when(tertile <= 2 / 3)
            .then(pl.lit("middle"))
            .otherwise(pl.lit("high"))
            .alias("dose_band")
        )
    return cohort.with_columns(derived).drop("_tertile", strict=False) if derived else cohort


def first_response_day(responses: pl.DataFrame) -> pl.DataFrame:
    """``patient_id``, ``first_response_day``: the first assessment at PR or better."""
    return (
        responses.filter(pl.col("response").cast(pl.String).is_in(OBJECTIVE_RESPONSES))
        .group_by("patient_id")
        .agg(pl.col("day").min().cast(pl.Float64).alias("first_response_day"))
    )


def toxicity_by_patient(timeline: pl.DataFrame) -> pl.DataFrame:
    """Per patient, from :func:`carta.analytics.timeline.grade_timeline`'s per-day rows:

    for each of ``crs`` and ``icans``: ``<s>_max_grade`` (highest determined grade; null when
    no day has a determined grade), ``<s>_onset_day`` (first day with grade >= 1),
    ``<s>_severe_day`` (first day with grade >= 3) and ``<s>_days`` (days with grade >= 1).
    Undetermined days (``cannot_grade``) count neither way.
    """
    aggregations: list[pl.Expr] = []
    day = pl.col("day")
    for syndrome in SYNDROMES:
        grade = pl.col(f"{syndrome}_grade")
        # when/then over the whole column, then a plain minimum per patient: cheaper than a
        # filter inside each group (a null grade is neither >= 1 nor >= 3, as before).
        aggregations += [
            grade.max().alias(f"{syndrome}_max_grade"),
            pl.when(grade >= 1).then(day).min().cast(pl.Float64).alias(f"{syndrome}_onset_day"),
            pl.when(grade >= SEVERE_GRADE)
            .then(day)
            .min()
            .cast(pl.Float64)
            .alias(f"{syndrome}_severe_day"),
            (grade >= 1).sum().cast(pl.Int64).alias(f"{syndrome}_days"),
        ]
    patients = timeline["patient_id"]
    key = pl.col("patient_id")
    if not patients.null_count() and patients.is_sorted():
        # Rows sorted by patient (grade_timeline keeps the input's order, and exports are
        # sorted): marked so, Polars groups by slicing instead of hashing, several times faster.
        key = key.set_sorted()
    grades = [f"{syndrome}_grade" for syndrome in SYNDROMES]
    # Only the columns used (a timeline also holds list columns that need not be touched).
    used = timeline.select(key, "day", *grades)
    return used.group_by("patient_id").agg(aggregations).sort("patient_id")


def with_toxicity_outcomes(
    cohort: pl.DataFrame, horizon_days: float = TOXICITY_HORIZON_DAYS
) -> pl.DataFrame:
    """Add ``<s>_severe_time`` and ``<s>_severe_status`` for competing-risks analysis.

    Status 1: grade >= 3 on ``<s>_severe_day`` (the time); 2: death first (time of death), the
    competing risk; 0: neither by ``horizon_days`` or the end of follow-up (the time). Both are
    null for a patient without any determined grade (``<s>_max_grade`` null: no patient-days,
    or none gradable): "no event" would be a guess, so the analysis refuses such rows.
    Needs ``<s>_severe_day``, ``<s>_max_grade``, ``os_days`` and ``os_event``.
    """
    died = pl.col("os_event").cast(pl.Boolean) & (pl.col("os_days") <= horizon_days)
    censored_at = pl.min_horizontal(pl.col("os_days").cast(pl.Float64), pl.lit(horizon_days))
    columns = []
    for syndrome in SYNDROMES:
        severe = pl.col(f"{syndrome}_severe_day")
        graded = pl.col(f"{syndrome}_max_grade").is_not_null()
        columns += [
            pl.when(severe.is_not_null())
            .then(severe)
            .when(graded)
            .then(censored_at)
            .alias(f"{syndrome}_severe_time"),
            pl.when(severe.is_not_null())
            .then(pl.lit(1))
            .when(~graded)
            .then(None)
            .when(died)
            .then(pl.lit(2))
            .otherwise(pl.lit(0))
            .cast(pl.Int8)
            .alias(f"{syndrome}_severe_status"),
        ]
    return cohort.with_columns(columns)


# --- checking columns ---------------------------------------------------------------------


def require_column(frame: pl.DataFrame, name: str) -> pl.Series:
    """The column ``name``, or :class:`CohortError` suggesting a close name."""
    if name in frame.columns:
        return frame[name]
    close = difflib.get_close_matches(name, frame.columns, n=1, cutoff=0.7)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    shown = ", ".join(frame.columns[:40]) + (" ..." if frame.width > 40 else "")
    raise CohortError(f"no column {name!r} in the data{hint}; the columns are: {shown}")


def _rows(mask: pl.Series) -> list[int]:
    """The 1-based rows where ``mask`` is true, the first few."""
    return [index + 1 for index in mask.arg_true().head(SHOWN_ROWS).to_list()]


def _listed(series: pl.Series, mask: pl.Series) -> str:
    """``row 3: 'abc', row 7: 'n/a'`` for the first few rows where ``mask`` holds."""
    rows = _rows(mask)
    values = series.filter(mask).head(SHOWN_ROWS).to_list()
    listed = ", ".join(f"row {row}: {value!r}" for row, value in zip(rows, values, strict=True))
    more = int(mask.sum()) - len(rows)
    return listed + (f" and {more} more" if more > 0 else "")


def _no_missing(series: pl.Series, name: str, role: str) -> None:
    missing = series.is_null()
    if missing.any():
        rows = ", ".join(str(row) for row in _rows(missing))
        count = int(missing.sum())
        more = " ..." if count > SHOWN_ROWS else ""
        plural = "s" if count > 1 else ""
        raise CohortError(
            f"column {name!r} ({role}) has {count} missing value{plural} (row{plural} "
            f"{rows}{more}); fill them in or leave those patients out"
        )


def numeric_values(series: pl.Series, name: str, role: str) -> pl.Series:
    """``series`` as Float64 (text holding numbers is converted); nulls stay null."""
    dtype = series.dtype
    if dtype == pl.Boolean:
        return series.cast(pl.Float64)
    if dtype.is_numeric():
        values = series.cast(pl.Float64)
    elif dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        text = series.cast(pl.String).str.strip_chars()
        text = pl.Series(name, text).replace("", None)
        values = text.cast(pl.Float64, strict=False)
        bad = values.is_null() & text.is_not_null()
        if bad.any():
            raise CohortError(
                f"column {name!r} ({role}) must hold numbers; {int(bad.sum())} value(s) are "
                f"not: {_listed(text, bad)}"
            )
    else:
        raise CohortError(f"column {name!r} ({role}) must hold numbers, not {dtype}")
    not_finite = values.is_nan() | values.is_infinite()
    if not_finite.fill_null(False).any():
        raise CohortError(
            f"column {name!r} ({role}) has values that are not finite numbers: "
            f"{_listed(values, not_finite.fill_null(False))}"
        )
    return values.alias(name)


def time_column(frame: pl.DataFrame, name: str) -> pl.Series:
    """Follow-up times: numbers >= 0, none missing (Float64)."""
    values = numeric_values(require_column(frame, name), name, "time")
    _no_missing(values, name, "time")
    negative = values < 0
    if negative.any():
        raise CohortError(
            f"column {name!r} (time) has negative times: {_listed(values, negative)}; times "
            "are counted from the start of follow-up (the infusion) and cannot be negative"
        )
    return values


def event_column(
    frame: pl.DataFrame, name: str, allowed: Mapping[int, str] | None = None
) -> pl.Series:
    """Event codes (Int8) from numbers, booleans or their words; every code in ``allowed``.

    ``allowed`` maps each code to its meaning (default ``{0: "censored", 1: "event"}``).
    """
    codes = allowed if allowed is not None else {0: "censored", 1: "event"}
    meaning = ", ".join(f"{code} ({word})" for code, word in codes.items())
    series = require_column(frame, name)
    if series.dtype == pl.Boolean or series.dtype.is_numeric():
        values = series.cast(pl.Float64)
    else:
        text = series.cast(pl.String).str.strip_chars().str.to_lowercase().replace("", None)
        words = pl.Series(name, text).replace_strict(
            {**dict.fromkeys(TRUE_WORDS, "1"), **dict.fromkeys(FALSE_WORDS, "0")},
            default=text,
        )
        values = words.cast(pl.Float64, strict=False)
        bad = values.is_null() & text.is_not_null()
        if bad.any():
            raise CohortError(
                f"column {name!r} (event) must hold the codes {meaning}; found "
                f"{_listed(series, bad)}"
            )
    _no_missing(values, name, "event")
    outside = ~values.is_in([float(code) for code in codes])
    if outside.any():
        raise CohortError(
            f"column {name!r} (event) must hold the codes {meaning}; found "
            f"{_listed(series, outside)}"
        )
    return values.cast(pl.Int8).alias(name)


def group_column(frame: pl.DataFrame, name: str) -> tuple[pl.Series, tuple[str, ...]]:
    """Group labels as text and the groups in their natural order (numbers numerically,
    enumerations in their declared order, text alphabetically); none missing."""
    values, levels = group_values(frame, name)
    return values.cast(pl.String), levels


def group_values(frame: pl.DataFrame, name: str) -> tuple[pl.Series, tuple[str, ...]]:
    """The group column as it is (named ``group``; none missing) and its levels as text in
    their natural order.

    The values keep their type - grouping a million rows by an enumeration's codes is much
    faster than by text - and the analyses turn them into text (``cast(pl.String)``, the same
    cast that makes ``levels``) only in their small aggregated tables.
    """
    series = require_column(frame, name)
    _no_missing(series, name, "group")
    if series.dtype == pl.Categorical:  # compare as text, like the levels
        series = series.cast(pl.String)
    ordered = series.unique().sort()  # enumerations sort in their declared order
    levels = tuple(str(value) for value in ordered.cast(pl.String).to_list())
    return series.alias(GROUP), levels


def weight_column(frame: pl.DataFrame, name: str) -> pl.Series:
    """Case weights: positive finite numbers, none missing."""
    values = numeric_values(require_column(frame, name), name, "weight")
    _no_missing(values, name, "weight")
    not_positive = values <= 0
    if not_positive.any():
        raise CohortError(
            f"column {name!r} (weight) must be positive: {_listed(values, not_positive)}"
        )
    return values


def survival_data(
    frame: pl.DataFrame,
    time: str,
    event: str,
    group: str | None = None,
    *,
    weight: str | None = None,
    allowed_events: Mapping[int, str] | None = None,
) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Checked ``time`` (Float64), ``event`` (Int8), ``group`` [, ``weight``] columns and the
    group levels (text) in order; an ungrouped analysis has the single group ``all``. The
    ``group`` column keeps its type (:func:`group_values`)."""
    times = time_column(frame, time)
    events = event_column(frame, event, allowed_events)
    data = pl.DataFrame([times.alias(TIME), events.alias(EVENT)])
    if group is None:
        levels: tuple[str, ...] = (ALL,)
        data = data.with_columns(pl.lit(ALL, dtype=pl.String).alias(GROUP))
    else:
        values, levels = group_values(frame, group)
        data = data.with_columns(values)
    if weight is not None:
        data = data.with_columns(weight_column(frame, weight).alias(WEIGHT))
    if data.height == 0:
        raise CohortError("the data have no rows")
    return data, levels


# --- covariates ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Design:
    """Numeric covariate columns ready for a regression.

    ``matrix`` has one Float64 column per term (a number, a 0/1 flag, or one indicator per
    non-reference level of a categorical column, named ``column=level``); ``keep`` marks the
    input rows with every covariate present; ``terms`` maps each input column to its terms;
    ``reference`` gives the reference level of each categorical column.
    """

    matrix: pl.DataFrame
    keep: pl.Series
    terms: Mapping[str, tuple[str, ...]]
    reference: Mapping[str, str]

    @property
    def dropped(self) -> int:
        """Rows left out because a covariate is missing."""
        return int((~self.keep).sum())


def design_matrix(frame: pl.DataFrame, covariates: Sequence[str]) -> Design:
    """Covariates as numbers: numeric columns as they are, yes/no columns as 0/1, other
    columns as indicators of each level but the first (R's treatment contrasts)."""
    if not covariates:
        raise CohortError("no covariates given")
    duplicated = {name for name in covariates if list(covariates).count(name) > 1}
    if duplicated:
        raise CohortError(f"covariate(s) given twice: {', '.join(sorted(duplicated))}")
    columns: list[pl.Series] = []
    terms: dict[str, tuple[str, ...]] = {}
    reference: dict[str, str] = {}
    keep = pl.Series([True] * frame.height)
    for name in covariates:
        series = require_column(frame, name)
        keep = keep & series.is_not_null()
        encoded, level = _encoded(series, name)
        columns += encoded
        terms[name] = tuple(column.name for column in encoded)
        if level is not None:
            reference[name] = level
    matrix = pl.DataFrame(columns)
    return Design(matrix=matrix, keep=keep, terms=terms, reference=reference)


def _encoded(series: pl.Series, name: str) -> tuple[list[pl.Series], str | None]:
    if series.dtype == pl.Boolean or series.dtype.is_numeric():
        return [series.cast(pl.Float64).alias(name)], None
    if isinstance(series.dtype, pl.Enum):
        # The registry's enumerations: levels in their declared order, compared by code.
        present = set(series.drop_nulls().unique().cast(pl.String).to_list())
        levels = [level for level in series.dtype.categories.to_list() if level in present]
        return _indicators(series, name, levels)
    text = series.cast(pl.String).str.strip_chars().replace("", None)
    numbers = text.cast(pl.Float64, strict=False)
    if (numbers.is_null() == text.is_null()).all():
        return [numbers.alias(name)], None
    lowered = text.str.to_lowercase()
    if lowered.drop_nulls().is_in(list(TRUE_WORDS | FALSE_WORDS)).all():
        flags = lowered.is_in(list(TRUE_WORDS)).cast(pl.Float64)
        return [pl.Series(name, flags).set(text.is_null(), None)], None
    return _indicators(text, name, sorted(text.drop_nulls().unique().to_list()))


def _indicators(
    values: pl.Series, name: str, levels: list[str]
) -> tuple[list[pl.Series], str | None]:
    """0/1 columns for every level but the first (the reference); null where ``values`` is."""
    if len(levels) < 2:
        raise CohortError(
            f"covariate {name!r} has a single value ({levels}); it cannot be estimated"
        )
    indicators = [
        (values == level).cast(pl.Float64).alias(f"{name}={level}") for level in levels[1:]
    ]
    return indicators, levels[0]


# --- stratification and distributions ------------------------------------------------------


def add_band(
    frame: pl.DataFrame,
    column: str,
    edges: Sequence[float],
    *,
    name: str | None = None,
    labels: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Add a band of ``column`` (``[a, b)`` intervals cut at ``edges``) to stratify by."""
    values = numeric_values(require_column(frame, column), column, "band")
    cut_labels = list(labels) if labels is not None else _band_labels(edges)
    if len(cut_labels) != len(edges) + 1:
        raise CohortError(f"{len(edges)} edges make {len(edges) + 1} bands, not {len(cut_labels)}")
    banded = values.cut(list(edges), labels=cut_labels, left_closed=True).cast(pl.String)
    return frame.with_columns(banded.alias(name or f"{column}_band"))


def _band_labels(edges: Sequence[float]) -> list[str]:
    shown = [f"{edge:g}" for edge in edges]
    return (
        [f"<{shown[0]}"] + [f"{a}-{b}" for a, b in itertools.pairwise(shown)] + [f">={shown[-1]}"]
    )


def describe(frame: pl.DataFrame, column: str, group: str | None = None) -> pl.DataFrame:
    """Distribution of a numeric column per group: n, missing, mean, median, quartiles, range.

    For onset and duration of toxicity, vein-to-vein time, age ... (quartiles by linear
    interpolation, R's default type 7).
    """
    values = numeric_values(require_column(frame, column), column, "value")
    if group is None:
        data = pl.DataFrame([values.alias("value")]).with_columns(pl.lit(ALL).alias(GROUP))
        levels: tuple[str, ...] = (ALL,)
    else:
        labels, levels = group_column(frame, group)
        data = pl.DataFrame([values.alias("value"), labels])
    value = pl.col("value")
    summary = data.group_by(GROUP).agg(
        value.count().alias("n"),
        value.null_count().alias("missing"),
        value.mean().alias("mean"),
        value.median().alias("median"),
        value.quantile(0.25, "linear").alias("q1"),
        value.quantile(0.75, "linear").alias("q3"),
        value.min().alias("min"),
        value.max().alias("max"),
    )
    return _in_level_order(summary, levels)


def _in_level_order(frame: pl.DataFrame, levels: Iterable[str]) -> pl.DataFrame:
    order = {level: index for index, level in enumerate(levels)}
    return (
        frame.with_columns(
            pl.col(GROUP).replace_strict(order, return_dtype=pl.Int64).alias("_order")
        )
        .sort("_order")
        .drop("_order")
    )
