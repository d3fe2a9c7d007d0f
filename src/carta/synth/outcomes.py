"""Responses, progression, death and follow-up visits of a block of synthetic patients.

Survival follows a mixture-cure model per disease ([S], ADR 0245): a share of patients is in
durable remission (for large B-cell lymphoma about 40 %, the long-term remission seen after
CD19 CAR-T); the others progress at Weibull-distributed times. Death comes from progression
(after a post-progression survival time), from non-relapse causes at a low constant hazard, or
early, from toxicity or infection (drawn with the day-by-day course). Follow-up ends at death,
at the data cut-off, or earlier for a few patients lost to follow-up or withdrawing consent.
These are synthetic parameters in the range of published CAR-T outcomes, not estimates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from carta.clinical.followup import VISIT_KEYS
from carta.clinical.products import Disease
from carta.synth.calibration import DISEASES
from carta.synth.cohort import PRODUCT_CODES, Cohort
from carta.synth.columns import enum_series, series
from carta.synth.days import LAST_DAY, DayBlock

F64 = NDArray[np.floating[Any]]
I64 = NDArray[np.integer[Any]]
B = NDArray[np.bool_]

DAYS_PER_MONTH = 30.4375
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True, slots=True)
class DiseaseCourse:
    """Mixture-cure survival parameters of one disease [S]."""

    cure: float  # share in durable remission (never progresses)
    progression_median_months: float  # Weibull median among the others
    progression_shape: float
    post_progression_median_months: float


COURSES: dict[Disease, DiseaseCourse] = {
    Disease.LBCL: DiseaseCourse(0.40, 3.0, 1.1, 6.0),
    Disease.MM: DiseaseCourse(0.0, 16.0, 1.3, 18.0),
    Disease.B_ALL: DiseaseCourse(0.40, 6.0, 1.1, 6.0),
    Disease.MCL: DiseaseCourse(0.30, 12.0, 1.1, 10.0),
    Disease.FL: DiseaseCourse(0.50, 24.0, 1.0, 36.0),
    Disease.CLL: DiseaseCourse(0.20, 12.0, 1.1, 24.0),
}
# Myeloma progression medians differ by product [S: in the range of KarMMa / CARTITUDE-1].
MM_PROGRESSION_MEDIAN_MONTHS: dict[str, float] = {
    "ide-cel": 9.0,
    "cilta-cel": 34.0,
    "eque-cel": 24.0,
    "zevor-cel": 24.0,
}
NON_RELAPSE_DEATHS_PER_YEAR = 0.02
LOST_PER_YEAR = 0.015
WITHDRAW_SHARE_OF_LOST = 0.3

# Response vocabularies (reference section i) and the criteria of each disease.
# Words of the registry (carta.web.registry.models.outcome): Lugano 2014, IMWG 2016, the B-ALL
# categories of reference i.3 and iwCLL 2018.
RESPONSES = ("scr", "cr", "cri", "vgpr", "pr", "mr", "sd", "pd", "nr")
CRITERIA = ("lugano_2014", "imwg_2016", "b_all", "iwcll_2018")
MRD_STATUS = ("negative", "positive", "not_done")
DISEASE_CRITERIA: dict[Disease, int] = {
    Disease.LBCL: 0,
    Disease.FL: 0,
    Disease.MCL: 0,
    Disease.MM: 1,
    Disease.B_ALL: 2,
    Disease.CLL: 3,
}
R = {word: code for code, word in enumerate(RESPONSES)}
# Best responses by course (durable remission; late progression; early progression), per
# criteria set: (code, share) [S].
BEST: dict[
    int, tuple[list[tuple[str, float]], list[tuple[str, float]], list[tuple[str, float]]]
] = {
    0: ([("cr", 1.0)], [("cr", 0.6), ("pr", 0.4)], [("pr", 0.6), ("sd", 0.25), ("cr", 0.15)]),
    1: (
        [("scr", 0.6), ("cr", 0.4)],
        [("scr", 0.35), ("cr", 0.25), ("vgpr", 0.25), ("pr", 0.15)],
        [("vgpr", 0.3), ("pr", 0.4), ("mr", 0.15), ("sd", 0.15)],
    ),
    2: ([("cr", 0.7), ("cri", 0.3)], [("cr", 0.6), ("cri", 0.4)], [("cri", 0.4), ("nr", 0.6)]),
    3: ([("cr", 1.0)], [("cr", 0.4), ("pr", 0.6)], [("pr", 0.6), ("sd", 0.4)]),
}
# The response reported before the best one is reached (a partial response first).
BEFORE_BEST: dict[str, str] = {
    "scr": "vgpr",
    "cr": "pr",
    "cri": "pr",
    "vgpr": "pr",
    "pr": "sd",
    "mr": "sd",
    "sd": "sd",
    "nr": "nr",
}
ASSESSMENT_DAYS = (28, 90, 180, 365)
EARLY_PROGRESSION_DAYS = 180
REFRACTORY_DAY = 28
BEST_AT_DAY_90 = 0.4
MRD_NEGATIVE_IN_CR = 0.8  # B-ALL and myeloma complete responses that are MRD-negative [S]

DEATH_CAUSES = ("progression", "crs", "icans", "infection", "other")
END_REASONS = ("alive_at_cutoff", "died", "lost_to_follow_up", "withdrew_consent")
FOLLOW_UP_COMPLIANCE = 0.93


@dataclass(frozen=True, slots=True)
class OutcomeBlock:
    """The ``responses``, ``outcomes`` and ``follow_ups`` frames of a block."""

    responses: pl.DataFrame
    outcomes: pl.DataFrame
    follow_ups: pl.DataFrame


def _weibull(rng: np.random.Generator, median_days: F64, shape: F64) -> F64:
    scale = median_days / np.log(2.0) ** (1.0 / shape)
    return np.asarray(scale * rng.weibull(shape), dtype=np.float64)


def _pick(rng: np.random.Generator, rows: B, table: list[tuple[str, float]], out: I64) -> None:
    codes = np.array([R[word] for word, _ in table])
    p = np.cumsum([share for _, share in table])
    picks = np.searchsorted(p / p[-1], rng.random(int(rows.sum())), side="right")
    out[rows] = codes[np.minimum(picks, len(codes) - 1)]


@dataclass(frozen=True, slots=True)
class _Times:
    progression: F64  # day of progression (inf = never)
    death: F64  # day of death (inf = alive at the end of time)
    death_cause: I64
    end: F64  # end of follow-up (day)
    end_reason: I64
    cured: B


def _times(rng: np.random.Generator, cohort: Cohort, block: DayBlock, cutoff: date) -> _Times:
    n = cohort.size
    disease = cohort.disease
    course = [COURSES[d] for d in DISEASES]
    cure = np.array([c.cure for c in course])[disease]
    prog_median = np.array([c.progression_median_months for c in course])[disease]
    for code, months in MM_PROGRESSION_MEDIAN_MONTHS.items():
        prog_median = np.where(cohort.product == PRODUCT_CODES.index(code), months, prog_median)
    shape = np.array([c.progression_shape for c in course])[disease]
    post_median = np.array([c.post_progression_median_months for c in course])[disease]
    cured = rng.random(n) < cure
    progression = np.where(
        cured, np.inf, np.maximum(_weibull(rng, prog_median * DAYS_PER_MONTH, shape), 7.0)
    )
    after_progression = progression + _weibull(rng, post_median * DAYS_PER_MONTH, np.full(n, 1.2))
    non_relapse = rng.exponential(DAYS_PER_YEAR / NON_RELAPSE_DEATHS_PER_YEAR, n) + 31.0
    early = block.early_death_day >= 0
    # Days 0-30 are the day-by-day course's: a later death is after day 30 (ADR 0245).
    late = np.maximum(np.minimum(after_progression, non_relapse), LAST_DAY + 1.0)
    death = np.where(early, block.early_death_day, late)
    cause = np.where(
        early,
        np.array([0, 1, 2, 3])[block.early_death_cause],
        np.where(after_progression <= non_relapse, 0, np.where(rng.random(n) < 0.6, 3, 4)),
    )
    progression = np.where(progression >= death, np.inf, progression)
    available = (cutoff - date(1970, 1, 1)).days - cohort.infusion_day.astype(np.float64)
    lost = rng.exponential(DAYS_PER_YEAR / LOST_PER_YEAR, n) + 31.0
    end = np.minimum.reduce([death, available, lost])
    end_reason = np.select(
        [death <= np.minimum(available, lost), lost < available],
        [1, np.where(rng.random(n) < WITHDRAW_SHARE_OF_LOST, 3, 2)],
        0,
    )
    return _Times(np.floor(progression), np.floor(death), cause, np.floor(end), end_reason, cured)


def _best(rng: np.random.Generator, cohort: Cohort, times: _Times) -> tuple[I64, I64]:
    """Best response code and the criteria set of every patient."""
    n = cohort.size
    criteria = np.array([DISEASE_CRITERIA[d] for d in DISEASES])[cohort.disease]
    best = np.full(n, R["pd"])
    early = times.progression <= EARLY_PROGRESSION_DAYS
    for code, (durable, late, early_table) in BEST.items():
        rows = criteria == code
        _pick(rng, rows & times.cured, durable, best)
        _pick(rng, rows & ~times.cured & ~early, late, best)
        _pick(rng, rows & ~times.cured & early, early_table, best)
    refractory = times.progression <= REFRACTORY_DAY
    best = np.where(refractory, np.where(criteria == 2, R["nr"], R["pd"]), best)
    return best, criteria


def _responses(
    rng: np.random.Generator, cohort: Cohort, times: _Times, best: I64, criteria: I64
) -> pl.DataFrame:
    n = cohort.size
    before = np.array([R[BEFORE_BEST.get(word, word)] for word in RESPONSES])[best]
    limit = _assessable_until(times)
    # Some patients reach their best response at day 90 rather than 28 (if assessed then).
    best_late = (rng.random(n) < BEST_AT_DAY_90) & (limit > 90)
    parts = []
    for assessment in ASSESSMENT_DAYS:
        rows = np.flatnonzero(limit > assessment)
        reached = ~best_late[rows] | (assessment >= 90)
        code = np.where(reached, best[rows], before[rows])
        parts.append((rows, np.full(len(rows), assessment), code))
    progressed = np.flatnonzero(np.isfinite(times.progression) & (times.progression <= times.end))
    refractory_nr = (times.progression[progressed] <= REFRACTORY_DAY) & (
        best[progressed] == R["nr"]
    )
    parts.append(
        (
            progressed,
            times.progression[progressed].astype(np.int64),
            np.where(refractory_nr, R["nr"], R["pd"]),
        )
    )
    rows = np.concatenate([p[0] for p in parts])
    day = np.concatenate([p[1] for p in parts]).astype(np.int64)
    code = np.concatenate([p[2] for p in parts]).astype(np.int64)
    is_complete = np.isin(code, [R["scr"], R["cr"], R["cri"]])
    mrd_measured = np.isin(criteria[rows], [1, 2]) & is_complete
    mrd_negative = rng.random(len(rows)) < MRD_NEGATIVE_IN_CR
    frame = pl.DataFrame(
        [
            pl.Series("patient_id", cohort.patient_id[rows]),
            pl.Series("day", day.astype(np.int32)),
            pl.Series("date", (cohort.infusion_day[rows] + day).astype(np.int32)).cast(pl.Date),
            enum_series("criteria", criteria[rows], CRITERIA),
            enum_series("response", code, RESPONSES),
            enum_series("mrd_status", np.where(mrd_negative, 0, 1), MRD_STATUS, ~mrd_measured),
        ]
    ).sort("patient_id", "day")
    first_best = (pl.col("response") == pl.col("_best")) & (
        pl.col("response") == pl.col("_best")
    ).cum_sum().over("patient_id").eq(1)
    best_frame = pl.DataFrame(
        {"patient_id": cohort.patient_id, "_best": enum_series("_best", best, RESPONSES)}
    )
    return (
        frame.join(best_frame, on="patient_id", how="left")
        .with_columns(first_best.alias("is_best"))
        .drop("_best")
        .with_columns(pl.lit(True).alias("synthetic"))
    )


def _assessable_until(times: _Times) -> F64:
    """Responses are assessed while the patient is alive, in follow-up and not progressed."""
    return np.minimum(np.minimum(times.progression, times.death), times.end)


def _outcomes(
    cohort: Cohort, times: _Times, best: I64, criteria: I64, cutoff: date
) -> pl.DataFrame:
    n = cohort.size
    infusion = cohort.infusion_day
    progressed = np.isfinite(times.progression) & (times.progression <= times.end)
    died = times.end_reason == 1
    progression_day = np.where(progressed, times.progression, 0).astype(np.int64)
    death_day = np.where(died, times.death, 0).astype(np.int64)
    end = times.end.astype(np.int64)
    evaluable = (_assessable_until(times) > REFRACTORY_DAY) | progressed
    pfs_days = np.where(progressed, progression_day, end)
    return pl.DataFrame(
        [
            pl.Series("patient_id", cohort.patient_id),
            enum_series("best_response", best, RESPONSES, ~evaluable),
            enum_series("response_criteria", criteria, CRITERIA),
            pl.Series("progressed", progressed),
            series("progression_day", progression_day, pl.Int32, ~progressed),
            series(
                "progression_date",
                (infusion + progression_day).astype(np.int32),
                pl.Date,
                ~progressed,
            ),
            pl.Series("died", died),
            series("death_day", death_day, pl.Int32, ~died),
            series("death_date", (infusion + death_day).astype(np.int32), pl.Date, ~died),
            enum_series("death_cause", times.death_cause, DEATH_CAUSES, ~died),
            pl.Series("follow_up_end_day", end.astype(np.int32)),
            pl.Series("follow_up_end_date", (infusion + end).astype(np.int32)).cast(pl.Date),
            enum_series("follow_up_end_reason", times.end_reason, END_REASONS),
            pl.Series("data_cutoff_date", [cutoff] * n, dtype=pl.Date),
            pl.Series("os_days", end.astype(np.int32)),
            pl.Series("os_event", died),
            pl.Series("pfs_days", pfs_days.astype(np.int32)),
            pl.Series("pfs_event", progressed | died),
            pl.Series("synthetic", np.ones(n, dtype=bool)),
        ]
    )


def _follow_ups(rng: np.random.Generator, cohort: Cohort, times: _Times) -> pl.DataFrame:
    """Visits done on the follow-up schedule (:mod:`carta.clinical.followup`), one row each.

    A visit is done when follow-up (alive, not lost) reaches its target day, with probability
    :data:`FOLLOW_UP_COMPLIANCE`; the contact falls at the target +/- a few days.
    """
    visits = pl.DataFrame(
        {
            "visit": pl.Series(VISIT_KEYS, dtype=pl.Enum(list(VISIT_KEYS))),
            "_offset": ["28d", "100d", "180d", "365d", *(f"{y}y" for y in range(2, 16))],
        }
    )
    base = pl.DataFrame(
        {
            "patient_id": cohort.patient_id,
            "_infusion": pl.Series(cohort.infusion_day.astype(np.int32)).cast(pl.Date),
            "_end": times.end.astype(np.int64),
        }
    )
    pairs = base.join(visits, how="cross", maintain_order="left_right")
    m = pairs.height
    jitter = rng.integers(-5, 6, m)
    year_1 = np.arange(m) % len(VISIT_KEYS) == VISIT_KEYS.index("year_1")
    jitter = np.where(year_1, np.abs(jitter), jitter)  # the 1-year window opens on day 365
    done = rng.random(m) < FOLLOW_UP_COMPLIANCE
    return (
        pairs.with_columns(
            (
                (
                    pl.col("_infusion").dt.offset_by(pl.col("_offset")) - pl.col("_infusion")
                ).dt.total_days()
                + pl.Series(jitter)
            ).alias("contact_day"),
            pl.Series("_done", done),
        )
        .filter(pl.col("_done") & (pl.col("contact_day") <= pl.col("_end")))
        .select(
            "patient_id",
            "visit",
            pl.col("contact_day").cast(pl.Int32),
            (pl.col("_infusion") + pl.duration(days=pl.col("contact_day")))
            .cast(pl.Date)
            .alias("contact_date"),
            pl.lit(True).alias("synthetic"),
        )
    )


def generate_outcomes(
    rng: np.random.Generator, cohort: Cohort, block: DayBlock, cutoff: date
) -> OutcomeBlock:
    """Responses, outcomes and follow-up visits of ``cohort``."""
    times = _times(rng, cohort, block, cutoff)
    best, criteria = _best(rng, cohort, times)
    return OutcomeBlock(
        responses=_responses(rng, cohort, times, best, criteria),
        outcomes=_outcomes(cohort, times, best, criteria, cutoff),
        follow_ups=_follow_ups(rng, cohort, times),
    )
