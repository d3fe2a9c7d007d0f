"""Day-by-day observations, days -5 to 30 after infusion, whose ASTCT grades are known by design.

For each patient the generator first draws the *maximum* CRS and ICANS grade over days 0-30
from the product's calibration target (:mod:`carta.synth.calibration`), the two linked by a
simple copula (a share :data:`COUPLING` of patients use one draw for both). It then lays out
an episode (onset, duration, peak days) and writes, for every day, observations that grade to
exactly that day's intended grade under ASTCT 2019 (reference sections a and b): fever and the
hypotension and hypoxia tiers for CRS; the ICE or CAPD band, consciousness, seizure, motor and
edema domains for ICANS. Treatments follow the grades (tocilizumab for CRS >= 2,
dexamethasone for ICANS >= 2 or CRS >= 3, methylprednisolone for ICANS 4, anakinra for
persistent ICANS >= 3), and the fever waiver of a.2 is exercised: on some treated days of a
CRS episode after the first the patient is afebrile and the grade rests on hypotension or
hypoxia alone. Unknown (null) inputs and findings attributed to other causes are placed only
on days whose intended grade is 0, so that they never hide a patient's maximum grade.

Work is done on (patients x 36 days) NumPy arrays; the only Python loop runs over the 36 days
(for the inflammation index that drives CRP, ferritin and IL-6).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from carta.analytics.rules import crs as crs_rules
from carta.analytics.rules import icans as icans_rules
from carta.clinical import vocabulary as v
from carta.clinical.products import PRODUCTS
from carta.clinical.scores import capd, ice
from carta.synth.calibration import DISEASES, target
from carta.synth.cohort import PRODUCT_CODES, Cohort
from carta.synth.columns import all_null, enum_series, series

F64 = NDArray[np.floating[Any]]
I64 = NDArray[np.integer[Any]]
B = NDArray[np.bool_]

FIRST_DAY = -5
LAST_DAY = 30
DAYS = np.arange(FIRST_DAY, LAST_DAY + 1)
N_DAYS = len(DAYS)
COUPLING = 0.5  # share of patients whose CRS and ICANS maxima share one uniform draw [S]
ICE_MIN_AGE = 12.0

# Onset day medians (days after infusion) [S: approximate, after pivotal publications].
CRS_ONSET: dict[str, float] = {
    "axi-cel": 2.0,
    "brexu-cel": 3.0,
    "tisa-cel": 3.0,
    "liso-cel": 5.0,
    "ide-cel": 1.0,
    "cilta-cel": 7.0,
    "obe-cel": 8.0,
    "relma-cel": 5.0,
    "eque-cel": 6.0,
    "zevor-cel": 6.0,
    "inati-cel": 5.0,
    "pCAR-19B": 4.0,
}
ICANS_ONSET: dict[str, float] = {
    "axi-cel": 5.0,
    "brexu-cel": 7.0,
    "tisa-cel": 6.0,
    "liso-cel": 9.0,
    "ide-cel": 3.0,
    "cilta-cel": 8.0,
    "obe-cel": 9.0,
    "relma-cel": 8.0,
    "eque-cel": 8.0,
    "zevor-cel": 8.0,
    "inati-cel": 7.0,
    "pCAR-19B": 6.0,
}
ONSET_SIGMA = 0.45
EARLY_DEATH_SHARE = 0.004  # death from another cause (infection) in days 3-30 [S]

# Observation vocabularies (Appendix A), as the codes used below.
NONE = 0
HYPO_PRESENT = 1
DEVICE = {word: code for code, word in enumerate(v.OXYGEN_DEVICES)}
PRESSOR = {word: code for code, word in enumerate(v.VASOPRESSORS)}
CONSCIOUS = {word: code for code, word in enumerate(v.CONSCIOUSNESS)}
UNAROUSABLE_LEVEL = len(v.CONSCIOUSNESS) - 1
TOOL_ICE, TOOL_CAPD = 0, 1
ICE_ITEM_MAX = tuple(ice.ITEM_MAX.values())
ICE_SLOTS = np.repeat(np.arange(len(ICE_ITEM_MAX)), ICE_ITEM_MAX)  # item of each of 10 points
CAPD_ITEMS = capd.ITEMS
CAPD_REVERSED = np.array([item in capd.REVERSED_ITEMS for item in CAPD_ITEMS])
CAPD_ITEM_MAX = capd.ITEM_POINTS_MAX
ITEMS_SHARE_ICE = 0.10  # share of ICE assessments recorded item by item [S]
ITEMS_SHARE_CAPD = 0.20
NULL_SHARE = 0.01  # share of grade-0 days with one unknown input [S]
NOT_RECORDED_SHARE = 0.10  # days without a clinician-recorded grade [S]
RECORDED_OFF_BY_ONE = 0.04  # episode days whose recorded grade is one off [S]
RECORDED_FALSE_POSITIVE = 0.005  # grade-0 days recorded as grade 1 [S]


@dataclass(frozen=True, slots=True)
class DayBlock:
    """The patient-days of a block, with per-patient summaries the outcomes need."""

    patient_days: pl.DataFrame
    treatments: pl.DataFrame
    last_day: I64  # last observed day (30, or the day of an early death)
    early_death_day: I64  # -1 if none in days 0-30
    early_death_cause: I64  # 0 none, 1 crs, 2 icans, 3 infection
    max_crs: I64  # intended maximum grades over the observed days
    max_icans: I64


@cache
def _grade_tables() -> tuple[F64, F64]:
    """Cumulative P(max grade <= k), k = 0..4, per [product, disease], for CRS and ICANS."""
    shape = (len(PRODUCTS), len(DISEASES), 5)
    crs, icans = np.zeros(shape), np.zeros(shape)
    for p, code in enumerate(PRODUCT_CODES):
        for d, disease in enumerate(DISEASES):
            goal = target(code, disease)
            crs[p, d] = np.cumsum(goal.crs.grade_probabilities())[:5]
            icans[p, d] = np.cumsum(goal.icans.grade_probabilities())[:5]
    return crs, icans


def _max_grades(rng: np.random.Generator, cohort: Cohort) -> tuple[I64, I64]:
    crs_cum, icans_cum = _grade_tables()
    n = cohort.size
    first = rng.random(n)
    coupled = rng.random(n) < COUPLING
    second = np.where(coupled, first, rng.random(n))
    crs = (crs_cum[cohort.product, cohort.disease] <= first[:, None]).sum(axis=1)
    icans = (icans_cum[cohort.product, cohort.disease] <= second[:, None]).sum(axis=1)
    return crs.astype(np.int64), icans.astype(np.int64)


def _episode(rng: np.random.Generator, peak: I64, onset: I64, day: I64) -> tuple[I64, I64]:
    """Daily grades (n x days) of an episode with maximum ``peak`` starting on ``onset``.

    Returns the grade grid (grade 5 on the death day of a fatal episode, 4 on its other peak
    days) and the death day (-1 if the episode is not fatal).
    """
    n = len(peak)
    top = np.minimum(peak, 4)
    length = np.minimum(1 + rng.poisson(1.0 + 1.2 * top), LAST_DAY + 1 - onset)
    peak_days = np.minimum(length, 1 + rng.poisson(0.5 + 0.3 * top))
    peak_start = onset + np.floor(rng.random(n) * (length - peak_days + 1)).astype(np.int64)
    d = day[None, :]
    in_episode = (peak[:, None] > 0) & (d >= onset[:, None]) & (d < (onset + length)[:, None])
    at_peak = in_episode & (d >= peak_start[:, None]) & (d < (peak_start + peak_days)[:, None])
    shoulder = 1 + np.floor(rng.random((n, N_DAYS)) * np.maximum(top - 1, 0)[:, None])
    grid = np.where(at_peak, top[:, None], np.where(in_episode, shoulder, 0)).astype(np.int64)
    death = np.where(peak == 5, peak_start + peak_days - 1, -1)
    grid = np.where((d == death[:, None]) & (death[:, None] >= 0), 5, grid)
    return grid, death


def _onsets(rng: np.random.Generator, cohort: Cohort, table: dict[str, float]) -> I64:
    median = np.array([table[code] for code in PRODUCT_CODES])[cohort.product]
    drawn = np.round(median * np.exp(rng.normal(0.0, ONSET_SIGMA, cohort.size)))
    return np.clip(drawn, 0, LAST_DAY - 2).astype(np.int64)


@dataclass(frozen=True, slots=True)
class _Course:
    crs: I64  # daily intended grade (n x days)
    icans: I64
    alive: B  # observed day (n x days)
    last_day: I64
    early_death_day: I64
    early_death_cause: I64


def _course(rng: np.random.Generator, cohort: Cohort) -> _Course:
    n = cohort.size
    max_crs, max_icans = _max_grades(rng, cohort)
    crs_onset = _onsets(rng, cohort, CRS_ONSET)
    crs, crs_death = _episode(rng, max_crs, crs_onset, DAYS)
    after_crs = crs_onset + 1 + rng.poisson(1.5, n)
    icans_onset = np.where(max_crs > 0, after_crs, _onsets(rng, cohort, ICANS_ONSET))
    icans_onset = np.minimum(icans_onset, LAST_DAY - 1)
    icans, icans_death = _episode(rng, max_icans, icans_onset, DAYS)
    other = rng.random(n) < EARLY_DEATH_SHARE
    other_death = np.where(other, rng.integers(3, LAST_DAY + 1, n), -1)
    big = LAST_DAY + 100
    deaths = np.stack([np.where(x >= 0, x, big) for x in (crs_death, icans_death, other_death)])
    death_day = deaths.min(axis=0)
    cause = np.where(death_day < big, deaths.argmin(axis=0) + 1, 0)
    last_day = np.minimum(death_day, LAST_DAY)
    alive = DAYS[None, :] <= last_day[:, None]
    crs = np.where(alive, crs, 0)
    icans = np.where(alive, icans, 0)
    # An ICANS death on the day of a CRS death (or vice versa) keeps both flags.
    return _Course(
        crs=crs,
        icans=icans,
        alive=alive,
        last_day=last_day,
        early_death_day=np.where(death_day < big, death_day, -1),
        early_death_cause=cause,
    )


# --- treatments ------------------------------------------------------------------------------

TREATMENT_DRUGS = ("tocilizumab", "dexamethasone", "methylprednisolone", "anakinra")
# Agent classes of the registry (carta.web.registry.models.toxicity.Agent), per drug.
TREATMENT_AGENTS = ("tocilizumab", "corticosteroid", "anakinra")
AGENT_OF_DRUG = {
    "tocilizumab": "tocilizumab",
    "dexamethasone": "corticosteroid",
    "methylprednisolone": "corticosteroid",
    "anakinra": "anakinra",
}
TREATMENT_INDICATIONS = ("crs", "icans")
TOCILIZUMAB_MG_PER_KG = 8.0
TOCILIZUMAB_MAX_MG = 800.0
TOCILIZUMAB_MAX_DOSES = 3
EARLY_TOCILIZUMAB = 0.15  # share of grade-1 CRS days treated under a pre-emptive policy [S]
ANAKINRA_POLICY = 0.5
# agent: (dose, unit, route, doses a day) [S: common practice, simplified]
REGIMENS: dict[str, tuple[float, str, str, int]] = {
    "dexamethasone": (10.0, "mg", "iv", 4),
    "methylprednisolone": (1000.0, "mg", "iv", 1),
    "anakinra": (100.0, "mg", "sc", 4),
}


def _treatment_grids(rng: np.random.Generator, course: _Course) -> dict[str, B]:
    crs, icans = np.minimum(course.crs, 4), np.minimum(course.icans, 4)
    n = crs.shape[0]
    early = (crs == 1) & (rng.random(crs.shape) < EARLY_TOCILIZUMAB)
    candidate = (crs >= 2) | early
    toci = candidate & (np.cumsum(candidate, axis=1) <= TOCILIZUMAB_MAX_DOSES)
    methyl = icans >= 4
    dexa = ((icans >= 2) | (crs >= 3)) & ~methyl
    yesterday = np.concatenate([np.zeros((n, 1), dtype=icans.dtype), icans[:, :-1]], axis=1)
    persistent = (icans >= 3) & (yesterday >= 3)
    policy = np.less(rng.random(n), ANAKINRA_POLICY)
    anakinra = persistent & policy[:, None]
    return {
        "tocilizumab": toci & course.alive,
        "dexamethasone": dexa & course.alive,
        "methylprednisolone": methyl & course.alive,
        "anakinra": anakinra & course.alive,
    }


def _treatments_frame(cohort: Cohort, course: _Course, grids: dict[str, B]) -> pl.DataFrame:
    frames = []
    for agent, grid in grids.items():
        rows, cols = np.nonzero(grid)
        if agent == "tocilizumab":
            dose = np.minimum(TOCILIZUMAB_MG_PER_KG * cohort.weight_kg[rows], TOCILIZUMAB_MAX_MG)
            unit, route, per_day = "mg", "iv", 1
            indication = np.zeros(len(rows), dtype=np.int64)
        else:
            fixed, unit, route, per_day = REGIMENS[agent]
            dose = np.full(len(rows), fixed)
            indication = np.where(course.icans[rows, cols] >= 2, 1, 0)
        frames.append(
            pl.DataFrame(
                [
                    pl.Series("patient_id", cohort.patient_id[rows]),
                    pl.Series("day", DAYS[cols].astype(np.int16)),
                    pl.Series(
                        "date", (cohort.infusion_day[rows] + DAYS[cols]).astype(np.int32)
                    ).cast(pl.Date),
                    enum_series(
                        "agent",
                        np.full(len(rows), TREATMENT_AGENTS.index(AGENT_OF_DRUG[agent])),
                        TREATMENT_AGENTS,
                    ),
                    enum_series(
                        "agent_detail",
                        np.full(len(rows), TREATMENT_DRUGS.index(agent)),
                        TREATMENT_DRUGS,
                    ),
                    pl.Series("dose", np.round(dose, 1)),
                    pl.Series("dose_unit", [unit] * len(rows), dtype=pl.String),
                    pl.Series("route", [route] * len(rows), dtype=pl.String),
                    pl.Series("doses_per_day", np.full(len(rows), per_day, dtype=np.int8)),
                    enum_series("indication", indication, TREATMENT_INDICATIONS),
                ]
            )
        )
    treatments = pl.concat(frames).sort("patient_id", "day", "agent_detail")
    return treatments.with_columns(pl.lit(True).alias("synthetic"))


# --- CRS observations ------------------------------------------------------------------------


def _pick(
    rng: np.random.Generator, shape: tuple[int, ...], choices: list[tuple[int, float]]
) -> I64:
    codes = np.array([code for code, _ in choices])
    p = np.array([share for _, share in choices])
    index = np.searchsorted(np.cumsum(p / p.sum()), rng.random(shape), side="right")
    return codes[np.minimum(index, len(codes) - 1)]


def _tiers(rng: np.random.Generator, grade: I64) -> tuple[I64, I64]:
    """Hypotension and hypoxia tiers (0, 2, 3, 4) whose maximum is ``grade`` where >= 2."""
    shape = grade.shape
    driver = _pick(rng, shape, [(0, 0.45), (1, 0.35), (2, 0.20)])  # H only, X only, both
    other = np.where(
        rng.random(shape) < 0.6,
        0,
        2 + np.floor(rng.random(shape) * np.maximum(grade - 1, 0)).astype(np.int64),
    )
    other = np.minimum(other, grade)
    severe = grade >= 2
    hypo = np.where(severe, np.where(driver == 1, other, grade), 0)
    hypox = np.where(severe, np.where(driver == 0, other, grade), 0)
    return hypo, hypox


def _pressors(rng: np.random.Generator, tier: I64) -> dict[str, B]:
    """One flag per agent: none (tier < 3), one agent +/- vasopressin (3), two or more (4)."""
    shape = tier.shape
    flags = {agent: np.zeros(shape, dtype=bool) for agent in v.VASOPRESSORS}
    first = _pick(
        rng,
        shape,
        [
            (PRESSOR["norepinephrine"], 0.80),
            (PRESSOR["phenylephrine"], 0.10),
            (PRESSOR["epinephrine"], 0.05),
            (PRESSOR["dopamine"], 0.05),
        ],
    )
    second = _pick(
        rng,
        shape,
        [
            (PRESSOR["epinephrine"], 0.5),
            (PRESSOR["phenylephrine"], 0.3),
            (PRESSOR["dopamine"], 0.2),
        ],
    )
    one = tier == 3
    many = tier == 4
    for agent, code in PRESSOR.items():
        if agent == "vasopressin":
            continue
        flags[agent] = (one & (first == code)) | (
            many & ((agent == "norepinephrine") | (second == code))
        )
    vasopressin = rng.random(shape) < np.where(many, 0.3, 0.1)
    flags["vasopressin"] = (one | many) & vasopressin
    return flags


def _oxygen(rng: np.random.Generator, tier: I64) -> tuple[I64, F64]:
    """Device code and flow (NaN = not recorded) for a hypoxia tier."""
    shape = tier.shape
    low = _pick(rng, shape, [(DEVICE["nasal_cannula"], 0.85), (DEVICE["blow_by"], 0.15)])
    high = _pick(
        rng,
        shape,
        [
            (DEVICE["high_flow_nasal_cannula"], 0.40),
            (DEVICE["nasal_cannula"], 0.15),
            (DEVICE["simple_facemask"], 0.25),
            (DEVICE["non_rebreather"], 0.10),
            (DEVICE["venturi_mask"], 0.10),
        ],
    )
    top = _pick(
        rng,
        shape,
        [(DEVICE["cpap"], 0.3), (DEVICE["bipap"], 0.3), (DEVICE["mechanical_ventilation"], 0.4)],
    )
    device = np.select([tier == 2, tier == 3, tier == 4], [low, high, top], NONE)
    u = rng.random(shape)
    flow = np.full(shape, np.nan)
    flow = np.where(
        device == DEVICE["nasal_cannula"],
        np.where(tier == 2, np.ceil(u * 6), 6.5 + np.round(u * 8.5)),
        flow,
    )
    flow = np.where(device == DEVICE["high_flow_nasal_cannula"], np.round(20 + u * 40), flow)
    flow = np.where(device == DEVICE["simple_facemask"], np.round(5 + u * 5), flow)
    flow = np.where(device == DEVICE["non_rebreather"], np.round(10 + u * 5), flow)
    flow = np.where(device == DEVICE["venturi_mask"], np.round(4 + u * 8), flow)
    return device, flow


def _temperatures(rng: np.random.Generator, shape: tuple[int, ...], fever: B) -> F64:
    normal = np.clip(36.8 + 0.3 * _noise(rng, shape), 35.8, 37.7)
    febrile = np.clip(38.0 + rng.gamma(2.0, 0.35, int(fever.sum())), 38.0, 41.0)
    normal[fever] = febrile
    return np.asarray(np.round(normal, 1), dtype=np.float64)


def _noise(rng: np.random.Generator, shape: tuple[int, ...]) -> F64:
    """Standard normal noise, drawn in single precision (fast), returned as float64."""
    return rng.standard_normal(shape, dtype=np.float32).astype(np.float64)


def _scatter(
    mask: B, values: NDArray[Any], default: float, dtype: type[np.generic]
) -> NDArray[Any]:
    """A full grid holding ``default``, with ``values`` where ``mask`` (row-major order)."""
    out = np.full(mask.shape, default, dtype=dtype)
    out[mask] = values
    return out


# --- ICANS observations ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Neuro:
    level: I64  # encephalopathy band 0-3, 4 = unarousable (not performable)
    consciousness: I64
    seizure: I64
    motor: I64
    edema: I64


def _neuro(rng: np.random.Generator, grade: I64, child: B) -> _Neuro:
    """Domain findings whose most severe contribution (b.2, b.5) is ``grade`` (0-4)."""
    shape = grade.shape
    z = np.zeros(shape, dtype=np.int64)
    driver = rng.random(shape)
    pick_12 = 1 + (rng.random(shape) < 0.5)
    pick_23 = 2 + (rng.random(shape) < 0.5)
    conscious_low = np.floor(rng.random(shape) * 3).astype(np.int64)  # alert..voice
    level, consc, seizure, motor, edema = z.copy(), z.copy(), z.copy(), z.copy(), z.copy()
    # grade 1: ICE 7-9 alert, or ICE 10 and awakens spontaneously
    g1 = grade == 1
    level = np.where(g1 & (driver < 0.7), 1, level)
    consc = np.where(g1 & (driver >= 0.7), 1, consc)
    # grade 2: ICE 3-6 (alert or spontaneous), or awakens to voice with ICE 3-9 (CAPD: only this)
    g2 = grade == 2
    voice = g2 & ((driver >= 0.7) | child)
    level = np.where(g2 & ~voice, 2, level)
    consc = np.where(g2 & ~voice, (rng.random(shape) < 0.5).astype(np.int64), consc)
    level = np.where(voice, pick_12, level)
    consc = np.where(voice, 2, consc)
    # grade 3: ICE 0-2; tactile; quick seizure; focal edema
    g3 = grade == 3
    a, b, c = (
        g3 & (driver < 0.5),
        g3 & (driver >= 0.5) & (driver < 0.7),
        g3 & (driver >= 0.7) & (driver < 0.85),
    )
    d = g3 & (driver >= 0.85)
    level = np.where(a, 3, level)
    consc = np.where(a, np.floor(rng.random(shape) * 4).astype(np.int64), consc)
    level = np.where(b | c | d, pick_12, level)
    consc = np.where(b, 3, np.where(c | d, conscious_low, consc))
    seizure = np.where(c, 1, seizure)
    edema = np.where(d, 1, edema)
    # grade 4: unarousable; prolonged seizure; deep focal weakness; diffuse edema
    g4 = grade >= 4
    a, b, c = (
        g4 & (driver < 0.6),
        g4 & (driver >= 0.6) & (driver < 0.75),
        g4 & (driver >= 0.75) & (driver < 0.85),
    )
    d = g4 & (driver >= 0.85)
    level = np.where(a, 4, level)
    consc = np.where(a, UNAROUSABLE_LEVEL, consc)
    level = np.where(b | d, pick_23, np.where(c, pick_12, level))
    consc = np.where(
        b | d, np.floor(rng.random(shape) * 4).astype(np.int64), np.where(c, conscious_low, consc)
    )
    seizure = np.where(b, 2, seizure)
    motor = np.where(c, 2, motor)
    edema = np.where(d, 2, edema)
    return _Neuro(level, consc, seizure, motor, edema)


def _ice_scores(rng: np.random.Generator, level: I64) -> I64:
    """ICE total for bands 0-3 (10, 7-9, 3-6, 0-2); -1 for band 4 (not performable)."""
    u = rng.random(level.shape)
    low = np.array([10, 7, 3, 0, -1])[np.minimum(level, 4)]
    width = np.array([1, 3, 4, 3, 1])[np.minimum(level, 4)]
    return np.where(level >= 4, -1, low + np.floor(u * width).astype(np.int64))


def _capd_scores(rng: np.random.Generator, level: I64) -> I64:
    """CAPD total for bands 0-3 (0, 1-8, 1-8, 9-24); -1 for band 4."""
    u = rng.random(level.shape)
    low = np.array([0, 1, 1, 9, -1])[np.minimum(level, 4)]
    width = np.array([1, 8, 8, 16, 1])[np.minimum(level, 4)]
    return np.where(level >= 4, -1, low + np.floor(u * width).astype(np.int64))


def _ice_items(rng: np.random.Generator, score: I64) -> I64:
    """(rows x 8) item values summing to ``score``: the lost points are chosen at random."""
    keys = rng.random((len(score), len(ICE_SLOTS)))
    rank = keys.argsort(axis=1).argsort(axis=1)
    kept = rank >= (10 - score)[:, None]
    items = np.zeros((len(score), len(ICE_ITEM_MAX)), dtype=np.int64)
    for slot, item in enumerate(ICE_SLOTS):
        items[:, item] += kept[:, slot]
    return items


def _capd_items(rng: np.random.Generator, score: I64) -> I64:
    """(rows x 8) frequency codes whose points sum to ``score``."""
    slots = len(CAPD_ITEMS) * CAPD_ITEM_MAX
    keys = rng.random((len(score), slots))
    rank = keys.argsort(axis=1).argsort(axis=1)
    chosen = rank < score[:, None]
    points = chosen.reshape(len(score), len(CAPD_ITEMS), CAPD_ITEM_MAX).sum(axis=2)
    return np.asarray(
        np.where(CAPD_REVERSED[None, :], CAPD_ITEM_MAX - points, points), dtype=np.int64
    )


# --- labs ------------------------------------------------------------------------------------


def _inflammation(crs: I64) -> F64:
    """A smoothed CRS intensity: max(today's grade, 0.6 x yesterday's index)."""
    index = np.zeros(crs.shape)
    grade = np.minimum(crs, 4).astype(np.float64)
    for j in range(crs.shape[1]):
        previous = index[:, j - 1] if j else 0.0
        index[:, j] = np.maximum(grade[:, j], 0.6 * previous)
    return index


def _lognormal(
    rng: np.random.Generator, median: float | F64, sigma: float, shape: tuple[int, ...]
) -> F64:
    return np.asarray(median * np.exp(sigma * _noise(rng, shape)), dtype=np.float64)


def _labs(rng: np.random.Generator, cohort: Cohort, course: _Course) -> dict[str, F64]:
    n = cohort.size
    shape = (n, N_DAYS)
    d = DAYS[None, :].astype(np.float64)
    inflammation = _inflammation(course.crs)
    top_crs = np.minimum(course.crs.max(axis=1), 4)
    # ANC: baseline, fall after lymphodepletion to a nadir from day 0, recovery [S].
    base = np.clip(_lognormal(rng, 3000.0, 0.5, (n,)), 300.0, 15000.0)
    nadir = np.clip(_lognormal(rng, 120.0, 1.0, (n,)), 0.0, 1500.0)
    recovery = 5.0 + rng.gamma(2.0, 4.0, n) + 2.0 * top_crs
    recovered = np.clip(_lognormal(rng, 1800.0, 0.5, (n,)), 200.0, 12000.0)
    falling = np.clip((d + 4.0) / 4.0, 0.0, 1.0)
    log_anc = np.log(base)[:, None] + (np.log(nadir + 1.0) - np.log(base))[:, None] * falling
    log_anc = np.where(d >= recovery[:, None], np.log(recovered)[:, None], log_anc)
    anc = np.round(np.exp(log_anc + 0.25 * _noise(rng, shape)) / 10.0) * 10.0
    # Platelets: nadir around day 10, partial recovery by day 30.
    plt_base = np.clip(_lognormal(rng, 160_000.0, 0.5, (n,)), 20_000.0, 600_000.0)
    depth = rng.uniform(0.15, 0.6, n)
    dip = np.where(d <= 10, np.clip((d + 3.0) / 13.0, 0.0, 1.0), 1.0 - (d - 10.0) / 40.0)
    platelets = plt_base[:, None] * (1.0 - (1.0 - depth)[:, None] * dip)
    platelets = np.round(platelets * np.exp(0.1 * _noise(rng, shape)), -3).clip(2000.0, 900_000.0)
    hb_base = np.clip(rng.normal(10.8, 1.4, n), 6.5, 15.5)
    hb_drift = hb_base[:, None] - 1.2 * np.clip((d + 5.0) / 15.0, 0.0, 1.0)
    hemoglobin = np.round(np.clip(hb_drift + 0.3 * _noise(rng, shape), 5.0, 17.0), 1)
    # Baselines per patient with day-to-day noise; the inflammatory part only where the
    # smoothed CRS intensity is above zero (a minority of days).
    crp = np.clip(_lognormal(rng, 1.2, 0.9, (n,)), 0.05, 20.0)[:, None] * np.exp(
        0.2 * _noise(rng, shape)
    )
    ferritin = np.repeat(np.clip(_lognormal(rng, 500.0, 0.9, (n,)), 10.0, 10_000.0), N_DAYS)
    ldh = np.repeat(_lognormal(rng, 260.0, 0.4, (n,)), N_DAYS)
    creat_median = np.where(cohort.age < 12.0, 0.45, 0.85)
    creatinine = _lognormal(rng, creat_median, 0.25, (n,))[:, None] + 0.08 * inflammation
    il6 = _lognormal(rng, 6.0, 0.8, shape)
    inflamed = inflammation > 0.3
    level = inflammation[inflamed]
    count = len(level)
    crp[inflamed] += 5.0 * level**1.4 * _lognormal(rng, 1.0, 0.3, (count,))
    ferritin = ferritin.reshape(shape)
    ferritin[inflamed] += 800.0 * level**1.8 * _lognormal(rng, 1.0, 0.4, (count,))
    ldh = ldh.reshape(shape)
    ldh[inflamed] += 40.0 * level * _lognormal(rng, 1.0, 0.3, (count,))
    il6[inflamed] += 30.0 * 3.0**level * _lognormal(rng, 1.0, 0.5, (count,))
    return {
        "anc_per_uL": anc,
        "platelets_per_uL": platelets,
        "hemoglobin_g_dL": hemoglobin,
        "crp_mg_dL": np.round(np.clip(crp, 0.01, 199.0), 2),
        "ferritin_ng_mL": np.round(np.clip(ferritin, 5.0, 500_000.0), 0),
        "ldh_U_L": np.round(np.clip(ldh, 50.0, 20_000.0), 0),
        "creatinine_mg_dL": np.round(np.clip(creatinine, 0.1, 15.0), 2),
        "il6_pg_mL": np.round(np.clip(il6, 0.5, 100_000.0), 1),
    }


LAB_MEASURED_SHARE: dict[str, float] = {  # share of days with the lab drawn [S]
    "anc_per_uL": 0.97,
    "platelets_per_uL": 0.97,
    "hemoglobin_g_dL": 0.97,
    "crp_mg_dL": 0.95,
    "ferritin_ng_mL": 0.60,
    "ldh_U_L": 0.60,
    "creatinine_mg_dL": 0.95,
    "il6_pg_mL": 0.25,
}


# --- assembling the frame --------------------------------------------------------------------


def _recorded(rng: np.random.Generator, grade: I64, post: B) -> tuple[I64, B]:
    shape = grade.shape
    draw = rng.random(shape)
    missing = ~post | (draw < NOT_RECORDED_SHARE)
    recorded = grade.copy()
    episode = (grade >= 1) & (grade <= 4)
    count = int(episode.sum())
    step = np.where(rng.random(count) < 0.5, -1, 1)
    off = rng.random(count) < RECORDED_OFF_BY_ONE
    recorded[episode] = np.where(off, np.clip(grade[episode] + step, 0, 4), grade[episode])
    # a few grade-0 days recorded as 1 (the same draw, above the not-recorded share)
    false_positive = (grade == 0) & (draw > 1.0 - RECORDED_FALSE_POSITIVE)
    recorded[false_positive] = 1
    return recorded, missing


@dataclass
class _Columns:
    """Columns over the whole (patients x days) grid, flattened patient by patient; the rows
    after a patient's death are dropped once, at the end (:meth:`frame`)."""

    keep: B
    columns: list[pl.Series]

    def add(
        self,
        name: str,
        values: NDArray[np.generic],
        dtype: pl.DataType | type[pl.DataType],
        null: B | None = None,
    ) -> None:
        flat = np.ascontiguousarray(values).reshape(-1)
        mask = None if null is None else null.reshape(-1)
        self.columns.append(series(name, flat, dtype, mask))

    def add_enum(
        self, name: str, codes: I64, words: tuple[str, ...], null: B | None = None
    ) -> None:
        mask = None if null is None else null.reshape(-1)
        self.columns.append(enum_series(name, np.ascontiguousarray(codes).reshape(-1), words, mask))

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.columns).filter(pl.Series(self.keep.reshape(-1)))


def _null_days(rng: np.random.Generator, grade_zero: B, fields: int) -> I64:
    """For each cell: -1, or which of ``fields`` inputs to leave unknown (grade-0 days only)."""
    chosen = grade_zero & (rng.random(grade_zero.shape) < NULL_SHARE)
    which = rng.integers(0, fields, grade_zero.shape)
    return np.where(chosen, which, -1)


def generate_days(rng: np.random.Generator, cohort: Cohort) -> DayBlock:
    """The patient-days and treatments of ``cohort``."""
    n = cohort.size
    shape = (n, N_DAYS)
    course = _course(rng, cohort)
    day = np.broadcast_to(DAYS[None, :], shape)
    post = day >= 0
    labs = _labs(rng, cohort, course)
    grids = _treatment_grids(rng, course)
    therapy = np.zeros(shape, dtype=bool)
    for grid in grids.values():
        therapy |= grid
    crs_top = np.minimum(course.crs, 4)
    onset = np.where(course.crs >= 1, day, LAST_DAY + 100).min(axis=1)
    previously = day > onset[:, None]
    # CRS: temperature, waiver days, other-cause fevers
    waiver_afebrile = (crs_top >= 2) & therapy & previously & (rng.random(shape) < 0.4)
    other_fever = (
        (course.crs == 0) & post & (labs["anc_per_uL"] < 500.0) & (rng.random(shape) < 0.03)
    )
    fever = ((course.crs >= 1) & ~waiver_afebrile) | other_fever
    temperature = _temperatures(rng, shape, fever)
    severe = crs_top >= 2  # the tiers, agents and devices are drawn for these days only
    hypo_s, hypox_s = _tiers(rng, crs_top[severe])
    hypo_tier = _scatter(severe, hypo_s, 0, np.int64)
    pressors = {
        agent: _scatter(severe, flags, False, np.bool_)
        for agent, flags in _pressors(rng, hypo_s).items()
    }
    device_s, flow_s = _oxygen(rng, hypox_s)
    device = _scatter(severe, device_s, NONE, np.int64)
    flow = _scatter(severe, flow_s, np.nan, np.float64)
    # a little oxygen for another cause (pneumonia) on some grade-0 days
    other_hypoxia = (course.crs == 0) & post & (rng.random(shape) < 0.003)
    device = np.where(other_hypoxia, DEVICE["nasal_cannula"], device)
    flow = np.where(other_hypoxia, 2.0, flow)
    # Unknown hypotension or oxygen inputs only before any therapy, where no fever waiver can
    # apply under either reading of a.2 (treated today, or on an earlier day of the course, with
    # CRS known or possibly present before), so the single-day grade and the timeline's grade
    # agree on every row.
    treated_so_far = np.cumsum(therapy, axis=1) > 0
    crs_nulls = _null_days(rng, course.crs == 0, 5)
    crs_nulls = np.where(treated_so_far & np.isin(crs_nulls, (2, 3, 4)), -1, crs_nulls)
    # ICANS
    child = cohort.age < ICE_MIN_AGE
    child_grid = np.broadcast_to(child[:, None], shape)
    active = course.icans >= 1  # domain findings are drawn for ICANS days only
    found = _neuro(rng, np.minimum(course.icans, 4)[active], child_grid[active])
    neuro = _Neuro(
        *(_scatter(active, getattr(found, name), 0, np.int64) for name in _Neuro.__slots__)
    )
    ice_score = _scatter(active, _ice_scores(rng, found.level), 10, np.int64)
    capd_score = _scatter(active, _capd_scores(rng, found.level), 0, np.int64)
    sedated = (course.icans == 0) & (rng.random(shape) < 0.003)
    consciousness = np.where(sedated, CONSCIOUS["awakens_to_voice"], neuro.consciousness)
    tremor = (course.icans == 0) & (rng.random(shape) < 0.02)
    motor = np.where(tremor, 1, neuro.motor)
    hemorrhage = (course.icans == 0) & (rng.random(shape) < 0.0005)
    edema = np.where(hemorrhage, 3, neuro.edema)
    icans_nulls = _null_days(rng, course.icans == 0, 5)
    performable = neuro.level < 4
    by_items = performable & (
        rng.random(shape) < np.where(child_grid, ITEMS_SHARE_CAPD, ITEMS_SHARE_ICE)
    )
    crs_recorded, crs_not_recorded = _recorded(rng, course.crs, post)
    icans_recorded, icans_not_recorded = _recorded(rng, course.icans, post)

    keep = course.alive
    out = _Columns(keep, [])
    out.add("patient_id", np.repeat(cohort.patient_id, N_DAYS).reshape(shape), pl.Int64)
    out.add("day", day.astype(np.int16), pl.Int16)
    out.add("date", (cohort.infusion_day[:, None] + day).astype(np.int32), pl.Date)
    crs_schema = crs_rules.INPUT_SCHEMA
    out.add("temperature_c", temperature, crs_schema["temperature_c"], crs_nulls == 0)
    out.columns.append(all_null("temperature_f", keep.size, crs_schema["temperature_f"]))
    out.add("fever_attributable_to_other_cause", other_fever, pl.Boolean, crs_nulls == 1)
    out.add("crs_previously_diagnosed", previously, pl.Boolean)
    out.add("antipyretic_or_anticytokine_given", therapy, pl.Boolean)
    hypotension = (hypo_tier > 0).astype(np.int64)
    out.add_enum("hypotension", hypotension, v.HYPOTENSION, crs_nulls == 2)
    for agent in v.VASOPRESSORS:
        out.add(f"vasopressors.{agent}", pressors[agent], pl.Boolean)
    out.add(
        "hypotension_attributable_to_other_cause",
        np.zeros(shape, dtype=bool),
        pl.Boolean,
        crs_nulls == 3,
    )
    out.add_enum("oxygen_device", device, v.OXYGEN_DEVICES, crs_nulls == 4)
    out.add("oxygen_flow_l_min", flow, pl.Float64, np.isnan(flow))
    out.add("hypoxia_attributable_to_other_cause", other_hypoxia, pl.Boolean)
    out.add("died_due_to_crs", course.crs == 5, pl.Boolean)
    # ICANS inputs (Appendix A), in the INPUT_SCHEMA order of the ICANS rule
    out.add("age_years", np.repeat(cohort.age, N_DAYS), pl.Float64)
    out.add("developmental_delay", np.zeros(shape, dtype=bool), pl.Boolean)
    out.add_enum("tool", np.where(child_grid, TOOL_CAPD, TOOL_ICE), v.ICANS_TOOLS)
    ice_rows = ~child_grid & performable
    out.add("ice_score", ice_score, pl.Int64, ~ice_rows | by_items | (icans_nulls == 0))
    items = np.zeros((len(ICE_ITEM_MAX), n, N_DAYS), dtype=np.int64)  # item-major: contiguous
    item_rows = ice_rows & by_items
    items[:, item_rows] = _ice_items(rng, ice_score[item_rows]).T
    for position, name in enumerate(icans_rules.ICE_ITEM_COLUMNS):
        out.add(name, items[position], pl.Int64, ~item_rows)
    unarousable = ~performable
    out.add_enum(
        "ice_not_performable_reason",
        np.zeros(shape, dtype=np.int64),
        v.NOT_PERFORMABLE_REASONS,
        ~(unarousable & ~child_grid),
    )
    capd_rows = child_grid & performable
    out.add("capd_score", capd_score, pl.Int64, ~capd_rows | by_items | (icans_nulls == 0))
    capd_codes = np.zeros((len(CAPD_ITEMS), n, N_DAYS), dtype=np.int64)
    capd_item_rows = capd_rows & by_items
    capd_codes[:, capd_item_rows] = _capd_items(rng, capd_score[capd_item_rows]).T
    for position, name in enumerate(icans_rules.CAPD_ITEM_COLUMNS):
        out.add_enum(name, capd_codes[position], v.CAPD_FREQUENCIES, ~capd_item_rows)
    out.add_enum(
        "capd_not_performable_reason",
        np.zeros(shape, dtype=np.int64),
        v.NOT_PERFORMABLE_REASONS,
        ~(unarousable & child_grid),
    )
    out.add_enum("consciousness", consciousness, v.CONSCIOUSNESS, icans_nulls == 1)
    out.add("consciousness_attributable_to_other_cause", sedated, pl.Boolean)
    out.add_enum("seizure", neuro.seizure, v.SEIZURE, icans_nulls == 2)
    out.add_enum("motor", motor, v.MOTOR, icans_nulls == 3)
    out.add_enum("icp_edema", edema, v.ICP_EDEMA, icans_nulls == 4)
    out.add("died_due_to_icans", course.icans == 5, pl.Boolean)
    for name, values in labs.items():
        drawn = rng.random(shape) < LAB_MEASURED_SHARE[name]
        out.add(name, values, pl.Float64, ~drawn)
    out.add("recorded_crs_grade", crs_recorded, pl.Int64, crs_not_recorded)
    out.add("recorded_icans_grade", icans_recorded, pl.Int64, icans_not_recorded)
    out.add("intended_crs_grade", course.crs.astype(np.int8), pl.Int8)
    out.add("intended_icans_grade", course.icans.astype(np.int8), pl.Int8)
    out.columns.append(pl.Series("synthetic", np.ones(keep.size, dtype=bool)))
    frame = out.frame()
    return DayBlock(
        patient_days=frame,
        treatments=_treatments_frame(cohort, course, grids),
        last_day=course.last_day,
        early_death_day=course.early_death_day,
        early_death_cause=course.early_death_cause,
        max_crs=course.crs.max(axis=1),
        max_icans=course.icans.max(axis=1),
    )
