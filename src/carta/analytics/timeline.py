"""Per-patient timelines: the CRS fever waiver from the patient's own course, CRS and ICANS
episodes, and disagreement with the grades clinicians recorded.

Reference section a.2 (the fever waiver: CRS previously diagnosed **and** antipyretic or
anti-cytokine therapy given; prophylactic tocilizumab before any CRS does not waive fever),
with the determinacy rule of section 0.3 carried through time by three-valued logic. The exact
rules, and why they can be computed in two vectorised passes instead of a day-by-day loop, are
in ``docs/timeline.md`` and ADRs 0181-0186.

Public API:

* :func:`grade_timeline` - one output row per input patient-day (input order): the derived
  ``crs_previously_diagnosed`` and ``fever_waiver``, the CRS and ICANS results, and the
  agreement of each with a recorded grade.
* :func:`summarise_episodes` - one row per patient, syndrome and episode (a row with nulls for
  a patient without an episode of that syndrome).
* :func:`demo_patient_days` - the bundled synthetic example as a frame.

Everything is Polars expressions over whole columns: no per-row Python.
"""

from __future__ import annotations

import json
from importlib import resources

import polars as pl

from carta.analytics.rules import crs as crs_rules
from carta.analytics.rules import icans as icans_rules
from carta.io.records import VASOPRESSOR_FLAG_COLUMNS, frame_from_records

# --- column names ---------------------------------------------------------------------------
PATIENT = "patient_id"
DAY = "day"
PREVIOUSLY_DIAGNOSED = "crs_previously_diagnosed"  # input (optional) and derived output
THERAPY = "antipyretic_or_anticytokine_given"  # input: the day's therapy
FEVER_WAIVER = "fever_waiver"
RECORDED_INPUT = {"crs": "recorded_crs_grade", "icans": "recorded_icans_grade"}

# --- agreement with a recorded grade (ADR 0184) ---------------------------------------------
AGREE = "agree"
DISAGREE = "disagree"
NOT_RECORDED = "not_recorded"
NOT_DETERMINABLE = "not_determinable"
AGREEMENT_VALUES = (AGREE, DISAGREE, NOT_RECORDED, NOT_DETERMINABLE)
RECORDED_GRADE_MIN = 0
RECORDED_GRADE_MAX = 5  # ASTCT grades run 0-5 (grade 5 = death due to the syndrome)

OK = "ok"
CANNOT_GRADE = "cannot_grade"

# The output of grade_timeline, in order (``patient_id`` keeps the input's dtype).
TIMELINE_COLUMNS: tuple[str, ...] = (
    PATIENT,
    DAY,
    PREVIOUSLY_DIAGNOSED,
    FEVER_WAIVER,
    "crs_status",
    "crs_grade",
    "crs_reasons",
    "crs_missing",
    "icans_status",
    "icans_grade",
    "icans_ice_score",
    "icans_capd_score",
    "icans_reasons",
    "icans_missing",
    "crs_recorded_grade",
    "crs_agreement",
    "icans_recorded_grade",
    "icans_agreement",
)

# The output of summarise_episodes, in order (ADR 0185).
SYNDROMES: tuple[tuple[str, str], ...] = (("CRS", "crs"), ("ICANS", "icans"))
EPISODE_COLUMNS: tuple[str, ...] = (
    PATIENT,
    "syndrome",
    "episode",
    "onset_day",
    "max_grade",
    "max_grade_day",
    "duration_days",
    "resolution_day",
    "days_not_determinable",
    "disagreement_days",
)

DEMO_RESOURCE = "demo_patient_days.jsonl"
_LIST_RESULTS = ("reasons", "missing")  # the graders' list columns (grade_timeline reasons=)

# Every column grade_timeline reads: the keys, the CRS and ICANS inputs, the recorded grades
# (a pipeline reading Parquet can ask for these columns only).
INPUT_COLUMNS: tuple[str, ...] = (
    PATIENT,
    DAY,
    *dict.fromkeys([*crs_rules.INPUT_SCHEMA, *icans_rules.INPUT_SCHEMA, THERAPY]),
    *RECORDED_INPUT.values(),
)

# Internal working columns (prefixed so they cannot clash with a user's columns).
_ROW = "_carta_row"
_PID = "_carta_patient"
_FIRST = "_carta_first_day"
_FLAG = "_carta_flag"
_TREATED = "_carta_treated"
_PRESENT = "_carta_present"
_PREVIOUS = "_carta_previous"
_EFFECTIVE = "_carta_effective_therapy"
_WAIVER = "_carta_waiver"

# --- three-valued (Kleene) logic on small integers -------------------------------------------
# false < unknown < true, so OR is max, AND is min, and "any earlier day" is a running max.
_FALSE = 0
_UNKNOWN = 1
_TRUE = 2
_K = pl.Int8


def _kleene(expr: pl.Expr) -> pl.Expr:
    """A nullable boolean as 0 (false), 1 (unknown) or 2 (true)."""
    # Arithmetic rather than a when-chain: one pass instead of three over the column.
    return (expr.cast(_K) * pl.lit(_TRUE, _K)).fill_null(pl.lit(_UNKNOWN, _K))


def _boolean(expr: pl.Expr) -> pl.Expr:
    """0/1/2 back to a nullable boolean."""
    return pl.when(expr != _UNKNOWN).then(expr == _TRUE)


def _max(left: pl.Expr, right: pl.Expr) -> pl.Expr:
    return pl.max_horizontal(left, right)


def _min(left: pl.Expr, right: pl.Expr) -> pl.Expr:
    return pl.min_horizontal(left, right)


# --- per-patient running operations on rows sorted by (patient code, day) ---------------------
# A window (``over``) per operation costs a group-by each time; on rows sorted by an integer
# patient code, the running max within each patient is the global running max of
# ``code * span + value`` minus ``code * span`` (codes never decrease down the rows, and
# ``0 <= value < span``), and "the previous day of the same patient" is the previous row unless
# the row is the patient's first. Both are single passes. The offsets ``code * span`` are
# computed once per course (:func:`_with_offsets`), in 32 bits when they fit.
_SPAN = 4  # values fed to _running_max (0/1/2) lie in [0, _SPAN)
_OFFSET = "_carta_offset"


def _patient_codes(patients: pl.Series) -> pl.Series:
    """An integer per patient (same id, same code): dictionary codes for text, ranks otherwise."""
    if patients.dtype in (pl.String, pl.Categorical) or isinstance(patients.dtype, pl.Enum):
        codes = patients.cast(pl.String).cast(pl.Categorical).to_physical()
    else:
        codes = patients.rank("dense")
    return codes.cast(pl.Int64).alias(_PID)


def _with_offsets(course: pl.DataFrame) -> pl.DataFrame:
    """``course`` with the patient offsets ``code * span`` that :func:`_running_max` needs."""
    top = course[_PID].max()
    fits = isinstance(top, int) and (top + 1) * _SPAN < 1 << 31
    dtype = pl.Int32 if fits else pl.Int64
    return course.with_columns((pl.col(_PID).cast(dtype) * _SPAN).alias(_OFFSET))


def _running_max(expr: pl.Expr) -> pl.Expr:
    """Maximum of ``expr`` over the patient's rows up to this one (sorted rows, with offsets)."""
    offset = pl.col(_OFFSET)
    return ((offset + expr).cum_max() - offset).cast(_K)


def _previous_day(expr: pl.Expr, first: int) -> pl.Expr:
    """``expr`` on the patient's previous row; ``first`` on the patient's first row."""
    return pl.when(pl.col(_FIRST)).then(pl.lit(first, pl.Int8)).otherwise(expr.shift(1))


def _course_order(patients: pl.Series, days: pl.Series) -> pl.DataFrame:
    """Row number, patient code, day and first-day mark, sorted by patient then day.

    Rows already in that order (how registry exports and ``carta.synth`` write patient-days)
    are recognised in one pass and not sorted (:func:`_presorted_course`). Otherwise they are
    sorted on one integer key ``code * span + (day - first day)`` when it fits in 63 bits (a
    single-key sort is about twice as fast as a two-key one), else on the two columns.
    """
    presorted = _presorted_course(patients, days)
    if presorted is not None:
        return presorted
    keys = pl.DataFrame(
        [
            pl.int_range(len(days), dtype=pl.UInt32, eager=True).alias(_ROW),
            _patient_codes(patients),
            days.cast(pl.Int64).alias(DAY),
        ]
    )
    low, high, top = days.min(), days.max(), keys[_PID].max()
    if isinstance(low, int) and isinstance(high, int) and isinstance(top, int):
        span = high - low + 1
        if (top + 1) * span < 1 << 62:
            ordered = keys[(keys[_PID] * span + (keys[DAY] - low)).arg_sort()]
        else:
            ordered = keys.sort(_PID, DAY)
    else:
        ordered = keys  # no rows
    return ordered.with_columns(
        pl.col(_PID).set_sorted(),  # sorted by code, then day, above
        (pl.col(_PID) != pl.col(_PID).shift(1)).fill_null(True).alias(_FIRST),
    )


def _presorted_course(patients: pl.Series, days: pl.Series) -> pl.DataFrame | None:
    """:func:`_course_order` of rows that are already sorted by patient (integer or text ids)
    with strictly increasing days within each patient, else None.

    A sorted id column keeps each patient's rows together, so the patient code is the running
    count of patient changes; row numbers, codes (and so the episode numbers derived from
    them) are marked sorted, which lets the group-bys downstream take Polars' sorted path.
    Repeated days are left to the general path, which names the duplicate.
    """
    dtype = patients.dtype
    if not (dtype.is_integer() or dtype == pl.String) or patients.null_count() or days.null_count():
        return None
    if not patients.is_sorted():
        return None
    first = (patients != patients.shift(1)).fill_null(True)
    day = days.cast(pl.Int64)
    if not (first | (day > day.shift(1))).all():
        return None
    course = pl.DataFrame(
        [
            pl.int_range(len(days), dtype=pl.UInt32, eager=True).set_sorted().alias(_ROW),
            first.cum_sum().cast(pl.Int64).set_sorted().alias(_PID),
            day.alias(DAY),
            first.alias(_FIRST),
        ]
    )
    # In one piece: the day and mark columns keep the input's chunks (a Parquet part's row
    # groups), and every later step on a frame of differently chunked columns realigns them.
    return course.rechunk()


def _in_input_order(order: pl.DataFrame) -> bool:
    """Whether the course order is the input's order (row numbers 0, 1, 2 ...): a sorted
    permutation is the identity, and the course's rows then need no gathering."""
    return bool(order[_ROW].is_sorted())


def _in_course(order: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """``order`` with the columns of ``frame`` (input order) alongside, in course order."""
    return order.hstack(frame if _in_input_order(order) else frame[order[_ROW]])


# --- input checks ---------------------------------------------------------------------------


def _first_row(frame: pl.DataFrame, mask: pl.Series) -> dict[str, object]:
    return frame.filter(mask).row(0, named=True)


def _integer_column(frame: pl.DataFrame, name: str) -> pl.Series:
    """``name`` as Int64; a float column must hold whole numbers, anything else is refused."""
    series = frame[name]
    if series.dtype == pl.Null or series.dtype.is_integer():
        return series.cast(pl.Int64, strict=True)
    if series.dtype.is_float():
        fractional = series.is_not_null() & (series != series.floor())
        if not fractional.any():
            return series.cast(pl.Int64, strict=True)
        row = _first_row(frame, fractional)
        raise ValueError(
            f"{name} must be a whole number: patient_id={row.get(PATIENT)!r}, "
            f"day={row.get(DAY)!r} has {row[name]!r}"
        )
    try:
        return series.cast(pl.Int64, strict=True)
    except pl.exceptions.PolarsError as error:
        raise ValueError(f"{name} must hold whole numbers, not {series.dtype}: {error}") from None


def _keys(frame: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``patient_id`` and ``day`` checked (present, not null, one row per patient-day), and
    the course order of the rows (:func:`_course_order`)."""
    for name in (PATIENT, DAY):
        if name not in frame.columns:
            raise ValueError(f"a timeline needs a {name!r} column")
        if frame[name].null_count():
            row_number = frame[name].is_null().arg_true()[0] + 1
            raise ValueError(f"{name} is missing on row {row_number}")
    keys = pl.DataFrame({PATIENT: frame[PATIENT], DAY: _integer_column(frame, DAY)})
    order = _course_order(keys[PATIENT], keys[DAY])
    repeated = order.select(~pl.col(_FIRST) & (pl.col(DAY) == pl.col(DAY).shift(1))).to_series()
    if repeated.any():
        row = int(order.filter(repeated)[_ROW][0])
        raise ValueError(
            f"duplicate patient-day: patient_id={keys[PATIENT][row]!r}, day={keys[DAY][row]} "
            "appears more than once"
        )
    return keys, order


def _recorded_grade(frame: pl.DataFrame, keys: pl.DataFrame, syndrome: str) -> pl.Series:
    """The clinician-recorded grade of ``syndrome`` (Int64, null = not recorded), checked 0-5."""
    name = RECORDED_INPUT[syndrome]
    if name not in frame.columns:
        return pl.Series(name, [None] * frame.height, dtype=pl.Int64)
    grades = _integer_column(frame, name)
    outside = grades.is_not_null() & ~grades.is_between(RECORDED_GRADE_MIN, RECORDED_GRADE_MAX)
    if outside.any():
        row = _first_row(keys.with_columns(grades), outside)
        raise ValueError(
            f"{name} must be a grade from {RECORDED_GRADE_MIN} to {RECORDED_GRADE_MAX}: "
            f"patient_id={row[PATIENT]!r}, day={row[DAY]} has {row[name]}"
        )
    return grades


def _boolean_input(frame: pl.DataFrame, name: str, absent: bool | None) -> pl.Expr:
    """A yes/no input column as a nullable boolean; ``absent`` when the column is not there."""
    if name in frame.columns:
        return pl.col(name).cast(pl.Boolean, strict=True)
    return pl.lit(absent, dtype=pl.Boolean)


# --- the CRS fever waiver (ADRs 0181-0183) ----------------------------------------------------


def _with_flags(frame: pl.DataFrame, previously: pl.Expr, treated: pl.Expr) -> pl.DataFrame:
    """``frame`` with the two waiver inputs of the CRS grader replaced."""
    return frame.with_columns(
        previously.cast(pl.Boolean).alias(PREVIOUSLY_DIAGNOSED),
        treated.cast(pl.Boolean).alias(THERAPY),
    )


def _certainly_present(rows: pl.DataFrame) -> pl.Series:
    """For ``cannot_grade`` rows: is CRS present (grade >= 1) whatever the unknowns are?

    Graded once more with every finding that can only *raise* the grade set to its lowest
    value (no death, no hypotension, no vasopressor, no oxygen, no waiver): what is left is
    the fever, so an ``ok`` grade >= 1 means a certain qualifying fever (ADR 0182).
    """
    lowest = rows.with_columns(
        pl.lit(False).alias("died_due_to_crs"),
        pl.lit("none").alias("hypotension"),
        pl.lit("none").alias("oxygen_device"),
        pl.lit(False).alias(PREVIOUSLY_DIAGNOSED),
        pl.lit(False).alias(THERAPY),
        *(pl.lit(False).alias(column) for column in VASOPRESSOR_FLAG_COLUMNS),
    )
    graded = crs_rules.grade_frame(lowest)
    return ((graded["status"] == OK) & (graded["grade"] >= 1)).fill_null(False)


def _present(first: pl.DataFrame, frame: pl.DataFrame) -> pl.Series:
    """CRS present on the day (0/1/2), from the grade without the waiver (pass 1)."""
    status, grade = first["status"], first["grade"]
    present = pl.select(
        pl.when(status == OK)
        .then(pl.when(grade >= 1).then(pl.lit(_TRUE, _K)).otherwise(pl.lit(_FALSE, _K)))
        .otherwise(pl.lit(_UNKNOWN, _K))
    ).to_series()
    undetermined = status == CANNOT_GRADE
    if undetermined.any():
        certain = _certainly_present(frame.filter(undetermined))
        positions = undetermined.arg_true().filter(certain)
        if len(positions):
            present = present.scatter(positions, _TRUE)
    return present.alias(_PRESENT)


def _derived_flags(order: pl.DataFrame, steps: pl.DataFrame) -> pl.DataFrame:
    """Previously diagnosed, effective therapy and waiver (0/1/2) of each row, input order.

    ``steps`` (input order) holds the input flag, the day's therapy and CRS present on the day
    from pass 1, each 0/1/2. The recursion "an earlier day's *final* grade >= 1" is replaced by
    the pass-1 value, which is equivalent (ADR 0181).
    """
    course = _with_offsets(_in_course(order, steps))
    # One running value per step (eager expressions do not share sub-expressions).
    course = course.with_columns(
        _running_max(pl.col(_FLAG)).alias(_FLAG),  # "diagnosed before this day" holds later
        _running_max(pl.col(_PRESENT)).alias("_present_so_far"),
    )
    flag, present_so_far = pl.col(_FLAG), pl.col("_present_so_far")
    previous = _max(flag, _previous_day(present_so_far, _FALSE).cast(_K))
    covered = _max(flag, present_so_far)  # CRS diagnosed before, or present on, the day
    # Therapy so far on a day with CRS diagnosed or present; today's therapy counts as well
    # (when CRS is only present today, the waiver needs "previously diagnosed" anyway).
    treated_after_crs = _running_max(_min(pl.col(_TREATED), covered))
    effective = _max(treated_after_crs, pl.col(_TREATED))
    derived = course.select(pl.col(_ROW), previous.alias(_PREVIOUS), effective.alias(_EFFECTIVE))
    derived = derived.with_columns(_min(pl.col(_PREVIOUS), pl.col(_EFFECTIVE)).alias(_WAIVER))
    if not _in_input_order(order):
        derived = derived.sort(_ROW)
    return derived.drop(_ROW)


def _grade_crs(frame: pl.DataFrame, order: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """CRS with the derived waiver, input order, and the derived flags (0/1/2)."""
    treated = _boolean_input(frame, THERAPY, None)
    first = crs_rules.grade_frame(_with_flags(frame, pl.lit(False), treated))
    # with_columns, not select: a literal (absent column) must take the frame's height.
    steps = (
        frame.with_columns(
            _kleene(_boolean_input(frame, PREVIOUSLY_DIAGNOSED, False)).alias(_FLAG),
            _kleene(treated).alias(_TREATED),
        )
        .select(_FLAG, _TREATED)
        .with_columns(_present(first, frame))
    )
    derived = _derived_flags(order, steps)
    # Where CRS is certainly not yet diagnosed, pass 2 would see exactly pass 1's inputs.
    if (derived[_PREVIOUS] == _FALSE).all():
        return first, derived
    regraded = crs_rules.grade_frame(
        _with_flags(
            frame.with_columns(derived[_PREVIOUS], derived[_EFFECTIVE]),
            _boolean(pl.col(_PREVIOUS)),
            _boolean(pl.col(_EFFECTIVE)),
        )
    )
    return regraded, derived


def _crs_inputs(frame: pl.DataFrame) -> pl.DataFrame:
    """The CRS grader's columns of ``frame``, each in one piece (and ``patient_id``, which
    keeps the height when none is present).

    A file read in row groups arrives in many chunks, and each column the two passes add to
    such a frame makes Polars realign every column; realigning the few CRS columns once up
    front is cheaper (about 40 % of the timeline's time on a 2.3 M-row Parquet part).
    """
    names = [name for name in crs_rules.INPUT_SCHEMA if name in frame.columns]
    return frame.select(PATIENT, *names).rechunk()


# --- agreement ------------------------------------------------------------------------------


def _agreement(status: str, grade: str, recorded: str) -> pl.Expr:
    """ADR 0184: not recorded first, then not determinable, then agree / disagree."""

    def code(value: str) -> pl.Expr:
        return pl.lit(AGREEMENT_VALUES.index(value), pl.UInt32)

    chosen = (
        pl.when(pl.col(recorded).is_null())
        .then(code(NOT_RECORDED))
        .when(pl.col(status) != OK)
        .then(code(NOT_DETERMINABLE))
        .when(pl.col(grade) == pl.col(recorded))
        .then(code(AGREE))
        .otherwise(code(DISAGREE))
    )
    # The chain picks a code; the words are gathered once (a when-chain of text literals
    # would build a text column per branch).
    return pl.lit(pl.Series(AGREEMENT_VALUES, dtype=pl.String)).gather(chosen)


def _prefixed(result: pl.DataFrame, prefix: str) -> pl.DataFrame:
    return result.rename({name: f"{prefix}_{name}" for name in result.columns})


def grade_timeline(frame: pl.DataFrame, *, reasons: bool = True) -> pl.DataFrame:
    """Grade CRS and ICANS for every patient-day, deriving the CRS fever waiver over time.

    ``frame``: one row per patient-day (any order) with ``patient_id``, ``day`` (days since
    infusion), the CRS and ICANS input columns of Appendix A as produced by
    :func:`carta.io.records.frame_from_records`, ``antipyretic_or_anticytokine_given`` (the
    day's therapy), and optionally ``crs_previously_diagnosed`` (CRS known from outside the
    table; an absent column means no), ``recorded_crs_grade`` and ``recorded_icans_grade``.

    Returns one row per input row, in the input's order, with :data:`TIMELINE_COLUMNS`.
    ``crs_previously_diagnosed`` and ``fever_waiver`` are the derived values (null = unknown);
    ``<x>_agreement`` is one of :data:`AGREEMENT_VALUES`. With ``reasons=False`` the four
    list columns ``<x>_reasons`` and ``<x>_missing`` are left out (a pipeline that only needs
    the grades, such as :func:`summarise_episodes` or per-patient maxima, saves most of its
    memory traffic: on 2.3 M rows the list columns are the largest part of the result).

    Raises ``ValueError`` for a missing ``patient_id``/``day``, a duplicate (patient_id, day)
    (naming both), or a recorded grade outside 0-5.
    """
    keys, order = _keys(frame)
    recorded = {syndrome: _recorded_grade(frame, keys, syndrome) for syndrome in RECORDED_INPUT}
    crs, derived = _grade_crs(_crs_inputs(frame), order)
    icans = icans_rules.grade_frame(frame)
    if not reasons:
        crs, icans = crs.drop(_LIST_RESULTS), icans.drop(_LIST_RESULTS)
    out = pl.concat(
        [
            keys,
            derived.select(
                _boolean(pl.col(_PREVIOUS)).alias(PREVIOUSLY_DIAGNOSED),
                _boolean(pl.col(_WAIVER)).alias(FEVER_WAIVER),
            ),
            _prefixed(crs, "crs"),
            _prefixed(icans, "icans"),
            pl.DataFrame(
                {
                    "crs_recorded_grade": recorded["crs"],
                    "icans_recorded_grade": recorded["icans"],
                }
            ),
        ],
        how="horizontal",
    )
    # The parts come in different chunks (the input's row groups, the graders' streaming
    # batches); any expression on a frame whose columns are chunked differently makes
    # Polars realign all of them first, here and in every consumer, so align them once.
    out = out.rechunk()
    out = out.with_columns(
        pl.col("crs_grade", "icans_grade").cast(pl.Int64),
        _agreement("crs_status", "crs_grade", "crs_recorded_grade").alias("crs_agreement"),
        _agreement("icans_status", "icans_grade", "icans_recorded_grade").alias("icans_agreement"),
    )
    return out.select(name for name in TIMELINE_COLUMNS if name in out.columns)


# --- episodes (ADR 0185) --------------------------------------------------------------------


def _episode_marks(course: pl.DataFrame) -> pl.DataFrame:
    """The rows that shape episodes, on sorted rows: positive days, and each episode's
    resolution day (a grade 0 day whose last *determined* day before it, of the same patient,
    was positive), with ``_start`` marking the positive days that start an episode.

    A positive day starts an episode unless the last determined day before it, of the same
    patient, was positive too (undetermined days in between do not split an episode), so every
    episode is one start, the positive days after it and at most one resolution day. These are
    a small share of all days; the episodes are then summarised from them alone.
    """
    state = (
        pl.when(pl.col("_positive"))
        .then(pl.lit(1, pl.Int8))
        .when(pl.col("_negative"))
        .then(pl.lit(0, pl.Int8))
    )
    # -1 on a patient's first row stops the forward fill at the patient boundary.
    course = course.with_columns(_previous_day(state, -1).forward_fill().alias("_before"))
    after_positive = pl.col("_before") == 1
    marks = course.filter(pl.col("_positive") | (pl.col("_negative") & after_positive))
    return marks.with_columns((pl.col("_positive") & ~after_positive).alias("_start"))


def _episode_rows(
    timeline: pl.DataFrame, order: pl.DataFrame, syndrome: str, prefix: str
) -> pl.DataFrame:
    """The episodes of one syndrome, and a null row for each patient without one (with the
    row number of a row of the patient, ``_carta_row``)."""
    agreement = f"{prefix}_agreement"
    days = timeline.select(
        (pl.col(f"{prefix}_status") == OK).fill_null(False).alias("_determined"),
        pl.col(f"{prefix}_grade").cast(pl.Int8).alias("_grade"),  # grades 0-5: small types
        (
            (pl.col(agreement) == DISAGREE).fill_null(False)
            if agreement in timeline.columns
            else pl.lit(False)
        ).alias("_disagree"),
    )
    course = _in_course(order, days).with_columns(
        (pl.col("_determined") & (pl.col("_grade") >= 1)).alias("_positive"),
        (pl.col("_determined") & (pl.col("_grade") == 0)).alias("_negative"),
    )
    positive = pl.col("_positive")
    positive_day = pl.when(positive).then(pl.col(DAY))
    positive_grade = pl.when(positive).then(pl.col("_grade"))
    marks = _episode_marks(course).with_columns(
        # A running count of starts numbers the episodes across patients (sorted: Polars
        # groups by slicing).
        pl.col("_start").cast(pl.UInt32).cum_sum().set_sorted().alias("_global"),
        positive_day.alias("_positive_day"),
        positive_grade.alias("_positive_grade"),
    )
    episodes = (
        marks.group_by("_global")
        .agg(
            pl.col(_ROW).first(),
            pl.col(_PID).first(),
            pl.col("_positive_day").min().alias("onset_day"),
            pl.col("_positive_grade").max().alias("max_grade"),
            # Rows are in day order: arg_max gives the first day at the maximum.
            pl.col(DAY).get(pl.col("_positive_grade").arg_max()).alias("max_grade_day"),
            (pl.col("_positive_day").max() - pl.col("_positive_day").min() + 1).alias(
                "duration_days"
            ),
            # The only day of an episode's marks that is not positive is its resolution day.
            pl.when(~positive).then(pl.col(DAY)).min().alias("resolution_day"),
            positive.sum().alias("_positive_days"),
            # Inside the span only positive days can disagree (the others are undetermined).
            (pl.col("_disagree") & positive).sum().alias("disagreement_days"),
        )
        .sort("_global")
        .with_columns(
            # Numbered within the patient: 1 + episodes of the same patient before this one.
            (pl.col("_global") - pl.col("_global").min().over(_PID) + 1).alias("episode"),
            (pl.col("duration_days") - pl.col("_positive_days")).alias("days_not_determinable"),
        )
    )
    # No episode: one row of nulls, its counts over the whole course (ADR 0185).
    quiet = (
        course.group_by(_PID)
        .agg(
            pl.col(_ROW).first(),
            positive.any().alias("_any_positive"),
            (~pl.col("_determined")).sum().alias("days_not_determinable"),
            pl.col("_disagree").sum().alias("disagreement_days"),
        )
        .filter(~pl.col("_any_positive"))
    )
    rows = pl.concat([episodes, quiet], how="diagonal_relaxed")
    return rows.select(
        pl.col(_ROW),
        pl.lit(syndrome).alias("syndrome"),
        *(pl.col(name).cast(pl.Int64) for name in EPISODE_COLUMNS[2:]),
    )


def summarise_episodes(timeline: pl.DataFrame) -> pl.DataFrame:
    """CRS and ICANS episodes per patient, from the output of :func:`grade_timeline`.

    An episode is a run of days with a determined grade >= 1; days whose grade is not
    determined (or days without a row) do not split it, a day with grade 0 ends it. One row
    per patient, syndrome (``CRS``, ``ICANS``) and episode with :data:`EPISODE_COLUMNS`:
    ``onset_day`` and the last positive day bound the episode; ``duration_days`` counts the
    calendar days between them inclusive; ``max_grade_day`` is the first day at the maximum;
    ``resolution_day`` is the first day after the episode with grade 0 (null if the data end
    first); ``days_not_determinable`` counts days in the episode without a determined grade;
    ``disagreement_days`` counts its ``disagree`` days. A patient without an episode of a
    syndrome gets one row with null episode fields whose two counts cover the whole course.
    Rows are sorted by patient, syndrome, episode.
    """
    required = [PATIENT, DAY] + [
        f"{prefix}_{name}" for _, prefix in SYNDROMES for name in ("status", "grade")
    ]
    absent = [name for name in required if name not in timeline.columns]
    if absent:
        raise ValueError(f"not a timeline (see grade_timeline): missing {', '.join(absent)}")
    order = _course_order(timeline[PATIENT], timeline[DAY])
    parts = [_episode_rows(timeline, order, syndrome, prefix) for syndrome, prefix in SYNDROMES]
    rows = pl.concat(parts, how="vertical_relaxed")
    ranks = {syndrome: rank for rank, (syndrome, _) in enumerate(SYNDROMES)}
    return (
        rows.with_columns(
            timeline[PATIENT].gather(rows[_ROW]),
            pl.col("syndrome").replace_strict(ranks, return_dtype=pl.Int8).alias("_s"),
        )
        .sort(PATIENT, "_s", "episode", nulls_last=True)
        .drop("_s")
        .select(EPISODE_COLUMNS)
    )


# --- the bundled demo -----------------------------------------------------------------------


def demo_patient_days() -> pl.DataFrame:
    """The bundled synthetic example (``carta/data/demo_patient_days.jsonl``) as a frame.

    Every record is synthetic (``patient_id`` ``DEMO-001`` ...; ``synthetic`` true); the
    courses are described in ``docs/timeline.md``.
    """
    text = resources.files("carta.data").joinpath(DEMO_RESOURCE).read_text(encoding="utf-8")
    return frame_from_records(json.loads(line) for line in text.splitlines() if line.strip())
