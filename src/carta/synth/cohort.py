"""Per-patient draws: center, disease, demographics, product, dates, lymphodepletion, cell dose.

Everything is drawn for a whole block of patients at once with NumPy; the few Python loops run
over products, diseases or regions (a dozen items), never over patients. The generation
parameters here are synthetic conventions ([S], documented in ``docs/synth.md``), chosen to
look like published CAR-T practice; they are not clinical reference values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import numpy as np
from numpy.typing import NDArray

from carta.clinical.body import MOSTELLER_DIVISOR
from carta.clinical.products import (
    PRODUCTS,
    Disease,
    DoseBasis,
    DoseLabel,
    LabelScope,
    Product,
    Region,
)
from carta.synth.calibration import DISEASE_SHARES, DISEASES
from carta.synth.centers import REGIONS, CenterSpec
from carta.synth.columns import categorical, choose

F64 = NDArray[np.floating[Any]]
I64 = NDArray[np.integer[Any]]
B = NDArray[np.bool_]

PRODUCT_CODES: tuple[str, ...] = tuple(p.code for p in PRODUCTS)
SEXES = ("female", "male")
MALE_SHARE = 0.6

# Relative use of each product where it is eligible [S].
PRODUCT_WEIGHT: dict[str, float] = {
    "tisa-cel": 1.0,
    "axi-cel": 2.0,
    "brexu-cel": 1.0,
    "liso-cel": 1.5,
    "ide-cel": 1.0,
    "cilta-cel": 1.5,
    "obe-cel": 0.5,
    "relma-cel": 1.5,
    "eque-cel": 1.2,
    "zevor-cel": 0.8,
    "inati-cel": 1.0,
    "pCAR-19B": 0.7,
}
# Age limits of the B-ALL approvals (section k): Kymriah <= 25 y; Tecartus, Aucatzyl and
# inati-cel in adults; pCAR-19B in children and adolescents (<= 18 y taken [S]).
B_ALL_AGES: dict[str, tuple[float, float]] = {
    "tisa-cel": (0.0, 25.99),
    "brexu-cel": (18.0, 120.0),
    "obe-cel": (18.0, 120.0),
    "inati-cel": (18.0, 120.0),
    "pCAR-19B": (0.0, 18.99),
}
# Share of patients treated with a product not approved in their region (trials, imports) [S].
OFF_REGION_SHARE = 0.03
UNDATED_APPROVAL = date(2024, 7, 1)  # an approval whose date is unverified [S]
EARLIEST_INFUSION = date(2018, 1, 1)
LAST_INFUSION_BEFORE_CUTOFF_DAYS = 31

# Age (mean, sd) by disease; B-ALL is a mixture of children/young adults and adults [S].
AGE: dict[Disease, tuple[float, float]] = {
    Disease.LBCL: (61.0, 11.0),
    Disease.MM: (60.0, 9.0),
    Disease.B_ALL: (40.0, 14.0),
    Disease.MCL: (65.0, 8.0),
    Disease.FL: (58.0, 10.0),
    Disease.CLL: (64.0, 9.0),
}
B_ALL_YOUNG_SHARE = 0.45
ADULT_AGE = (18.0, 85.0)
YOUNG_AGE = (1.0, 25.0)

# Lymphodepletion per product: fludarabine mg/m^2/day, cyclophosphamide mg/m^2/day, 3 days each,
# starting on day -5 [S: the usual label regimens, simplified].
LD_DAYS = 3
LD_START_DAY = -5
LD_DOSES: dict[str, tuple[float, float]] = {
    "axi-cel": (30.0, 500.0),
    "brexu-cel": (30.0, 500.0),
    "tisa-cel": (25.0, 250.0),
}
LD_DEFAULT = (30.0, 300.0)

# Vein-to-vein (apheresis to infusion) days: lognormal median by region, sigma [S].
VEIN_TO_VEIN_MEDIAN: dict[Region, float] = {
    Region.CN: 24.0,
    Region.US: 30.0,
    Region.EU: 32.0,
    Region.GB: 32.0,
}
VEIN_TO_VEIN_SIGMA = 0.25
VEIN_TO_VEIN_RANGE = (12, 120)

BRIDGING: dict[Disease, float] = {
    Disease.LBCL: 0.55,
    Disease.MM: 0.60,
    Disease.B_ALL: 0.50,
    Disease.MCL: 0.50,
    Disease.FL: 0.30,
    Disease.CLL: 0.40,
}
PRIOR_LINES: dict[Disease, tuple[int, float]] = {  # minimum, Poisson mean of the extra lines
    Disease.LBCL: (1, 1.4),
    Disease.MM: (3, 2.0),
    Disease.B_ALL: (1, 1.2),
    Disease.MCL: (2, 1.0),
    Disease.FL: (2, 1.3),
    Disease.CLL: (3, 1.5),
}
PRIOR_TRANSPLANT: dict[Disease, float] = {
    Disease.LBCL: 0.25,
    Disease.MM: 0.85,
    Disease.B_ALL: 0.30,
    Disease.MCL: 0.35,
    Disease.FL: 0.15,
    Disease.CLL: 0.05,
}
# Subtype words are those of the registry (carta.web.registry.models.diagnosis.Subtype).
SUBTYPES: dict[Disease, tuple[tuple[str, float], ...]] = {
    Disease.LBCL: (
        ("dlbcl_nos", 0.67),
        ("hgbcl", 0.12),
        ("pmbcl", 0.05),
        ("transformed_fl", 0.13),
        ("fl_grade_3b", 0.03),
    ),
    Disease.MM: (("high_risk_cytogenetics", 0.25), ("other", 0.75)),
    Disease.B_ALL: (("ph_negative", 0.75), ("ph_positive", 0.25)),
    Disease.MCL: (("mcl_classic", 0.85), ("mcl_blastoid", 0.15)),
    Disease.FL: (("fl_grade_1_3a", 1.0),),
    Disease.CLL: (("other", 1.0),),
}
SUBTYPE_WORDS: tuple[str, ...] = tuple(
    dict.fromkeys(word for table in SUBTYPES.values() for word, _ in table)
)

# Body size [S]: adult height (mean, sd) by sex and region group; BMI lognormal median.
HEIGHT_CM = {  # (female, male) for China, elsewhere
    True: ((159.0, 6.0), (171.0, 6.5)),
    False: ((165.0, 6.5), (178.0, 7.0)),
}
CHILD_HEIGHT_AT_BIRTH_CM = 76.0
CHILD_GROWTH_CM_PER_YEAR = 6.0
ADULT_AGE_YEARS = 18.0
BMI_MEDIAN = {True: 23.5, False: 26.5}
BMI_SIGMA = 0.15
CHILD_BMI_MEDIAN = 17.0
WEIGHT_RANGE = (9.0, 200.0)
HEIGHT_RANGE = (70.0, 210.0)

# Cell dose [S]: share outside the label, and generation defaults where the reference has no
# verified label dose for the product and indication (pivotal-trial doses where it gives them).
OUT_OF_LABEL_SHARE = 0.03
TARGET_ONLY_LOW = 0.8  # a target-only label: doses drawn from 80-100 % of the target
FALLBACK_DOSE: dict[str, tuple[DoseBasis, float]] = {
    "eque-cel": (DoseBasis.PER_KG, 1.0e6),  # FUMANBA-1 (pub)
    "relma-cel": (DoseBasis.FLAT, 100.0e6),  # RELIANCE lower arm (pub)
    "zevor-cel": (DoseBasis.FLAT, 150.0e6),  # synthetic default
    "inati-cel": (DoseBasis.PER_KG, 1.0e6),  # synthetic default
    "pCAR-19B": (DoseBasis.PER_KG, 1.0e6),  # synthetic default
    "liso-cel": (DoseBasis.FLAT, 100.0e6),  # GB SmPC target
}
DEFAULT_FALLBACK = (DoseBasis.FLAT, 100.0e6)
# Aucatzyl: day 1 and day 10 of the regimen (our days 0 and 9), split by marrow blasts
# (per-infusion amounts inferred in the reference, unverified; used here as synthetic values).
AUCATZYL = "obe-cel"
AUCATZYL_SPLITS = ((10.0e6, 400.0e6), (100.0e6, 310.0e6))  # blasts > 20 %, <= 20 %
AUCATZYL_SECOND_DAY = 9
AUCATZYL_DAY_JITTER = (-1, 0, 0, 0, 1)


@dataclass(frozen=True, slots=True)
class Cohort:
    """A block of synthetic patients, one array entry per patient."""

    patient_id: I64
    center: I64  # index into the center specs
    region: I64  # index into REGIONS
    disease: I64  # index into DISEASES
    subtype: I64  # index into SUBTYPE_WORDS
    age: F64
    male: B
    height_cm: F64
    weight_kg: F64
    bsa_m2: F64
    prior_lines: I64
    prior_transplant: B
    product: I64  # index into PRODUCTS
    approved_in_region: B
    infusion_day: I64  # days since 1970-01-01
    vein_to_vein: I64
    consent_lead: I64
    bridging: B
    ld_flu: F64
    ld_cy: F64
    total_cells: F64
    first_cells: F64
    second_cells: F64  # NaN when a single infusion
    second_day: I64  # -1 when a single infusion
    blasts_high: B

    @property
    def size(self) -> int:
        """Number of patients."""
        return len(self.patient_id)


# --- lookup tables built once from the catalogue ---------------------------------------------


def _parse(text: str | None) -> date:
    if text is None:
        return UNDATED_APPROVAL
    parts = [int(part) for part in text.split("-")] + [1, 1]
    return date(parts[0], parts[1], parts[2])


@cache
def eligibility() -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64]]:
    """(weights[region, disease, product], anywhere[disease, product], available[r, d, p]).

    Weights are the product weights where a verified approval exists; ``available`` is the
    first approval day (days since epoch) in that region, or anywhere for ``anywhere`` use.
    """
    shape = (len(REGIONS), len(DISEASES), len(PRODUCTS))
    weights = np.zeros(shape)
    anywhere = np.zeros(shape[1:])
    available = np.full(shape, np.iinfo(np.int64).max, dtype=np.int64)
    first_anywhere = np.full(shape[1:], np.iinfo(np.int64).max, dtype=np.int64)
    for p, product in enumerate(PRODUCTS):
        for approval in product.approvals:
            if not approval.verified or approval.disease not in DISEASES:
                continue
            d = DISEASES.index(approval.disease)
            r = REGIONS.index(approval.region)
            day = (_parse(approval.date) - date(1970, 1, 1)).days
            weights[r, d, p] = PRODUCT_WEIGHT[product.code]
            anywhere[d, p] = PRODUCT_WEIGHT[product.code]
            available[r, d, p] = min(available[r, d, p], day)
            first_anywhere[d, p] = min(first_anywhere[d, p], day)
    off_region = (weights == 0) & (anywhere[None, :, :] > 0)
    available = np.where(off_region, first_anywhere[None, :, :], available)
    return weights, anywhere, available


def _label_for(product: Product, disease: Disease, region: Region) -> DoseLabel | None:
    """The verified, indication-specific label used to draw doses: region, then US, then GB."""
    for where in (region, Region.US, Region.GB):
        for label in product.dose_labels:
            if (
                label.region is where
                and disease in label.diseases
                and label.current
                and label.verified
                and label.bands
                and label.scope is LabelScope.INDICATION
            ):
                return label
    return None


# Band table columns: per_kg (1/0), low, high (NaN = none), cap (inf = none), above_kg, up_to_kg.
_BAND_FIELDS = 6


@cache
def dose_table() -> NDArray[np.float64]:
    """bands[region, disease, product, band(0..1), field] for drawing doses."""
    table = np.full((len(REGIONS), len(DISEASES), len(PRODUCTS), 2, _BAND_FIELDS), np.nan)
    for r, region in enumerate(REGIONS):
        for d, disease in enumerate(DISEASES):
            for p, product in enumerate(PRODUCTS):
                label = _label_for(product, disease, region)
                bands: list[tuple[bool, float | None, float | None, float, float, float]]
                if label is None:
                    basis, value = FALLBACK_DOSE.get(product.code, DEFAULT_FALLBACK)
                    rows = [(basis is DoseBasis.PER_KG, value * TARGET_ONLY_LOW, value)]
                    bands = [(*rows[0], np.inf, -np.inf, np.inf)]
                else:
                    bands = []
                    for band in label.bands[:2]:
                        high = band.maximum if band.maximum is not None else band.target
                        low = band.minimum
                        if low is None and high is not None:
                            low = high * TARGET_ONLY_LOW
                        bands.append(
                            (
                                band.basis is DoseBasis.PER_KG,
                                low,
                                high,
                                band.cap if band.cap is not None else np.inf,
                                band.weight_above_kg
                                if band.weight_above_kg is not None
                                else -np.inf,
                                band.weight_up_to_kg
                                if band.weight_up_to_kg is not None
                                else np.inf,
                            )
                        )
                for index, band_row in enumerate(bands):
                    table[r, d, p, index] = band_row
                if len(bands) == 1:
                    table[r, d, p, 1] = table[r, d, p, 0]
    return table


# --- the draws -------------------------------------------------------------------------------


def _ages(rng: np.random.Generator, disease: I64) -> F64:
    mean = np.array([AGE[d][0] for d in DISEASES])[disease]
    sd = np.array([AGE[d][1] for d in DISEASES])[disease]
    age = np.clip(rng.normal(mean, sd), *ADULT_AGE)
    young = (disease == DISEASES.index(Disease.B_ALL)) & (
        rng.random(len(disease)) < B_ALL_YOUNG_SHARE
    )
    young_age = np.clip(YOUNG_AGE[0] + rng.gamma(2.2, 5.0, len(disease)), *YOUNG_AGE)
    return np.round(np.where(young, young_age, age), 1)


def _body(rng: np.random.Generator, age: F64, male: B, china: B) -> tuple[F64, F64]:
    """Height (cm) and weight (kg)."""
    n = len(age)
    mean = np.where(
        china,
        np.where(male, HEIGHT_CM[True][1][0], HEIGHT_CM[True][0][0]),
        np.where(male, HEIGHT_CM[False][1][0], HEIGHT_CM[False][0][0]),
    )
    sd = np.where(male, HEIGHT_CM[True][1][1], HEIGHT_CM[True][0][1])
    adult = rng.normal(mean, sd)
    child = CHILD_HEIGHT_AT_BIRTH_CM + CHILD_GROWTH_CM_PER_YEAR * age
    height = np.clip(
        np.where(age < ADULT_AGE_YEARS, np.minimum(adult, child), adult), *HEIGHT_RANGE
    )
    bmi_median = np.where(china, BMI_MEDIAN[True], BMI_MEDIAN[False])
    bmi_median = np.where(age < ADULT_AGE_YEARS, CHILD_BMI_MEDIAN, bmi_median)
    bmi = bmi_median * np.exp(rng.normal(0.0, BMI_SIGMA, n))
    weight = np.clip(bmi * (height / 100.0) ** 2, *WEIGHT_RANGE)
    return np.round(height, 0), np.round(weight, 1)


def _products(rng: np.random.Generator, region: I64, disease: I64, age: F64) -> tuple[I64, B]:
    weights, anywhere, _ = eligibility()
    w = weights[region, disease].copy()
    any_w = anywhere[disease].copy()
    ball = disease == DISEASES.index(Disease.B_ALL)
    for code, (low, high) in B_ALL_AGES.items():
        p = PRODUCT_CODES.index(code)
        outside = ball & ((age < low) | (age > high))
        w[outside, p] = 0.0
        any_w[outside, p] = 0.0
    off = (w.sum(axis=1) == 0) | (rng.random(len(region)) < OFF_REGION_SHARE)
    w[off] = any_w[off]
    product = choose(rng, w)
    approved = weights[region, disease, product] > 0
    return product.astype(np.int64), approved


def _infusion_days(
    rng: np.random.Generator, region: I64, disease: I64, product: I64, cutoff: date
) -> I64:
    _, _, available = eligibility()
    start = np.maximum(
        available[region, disease, product], (EARLIEST_INFUSION - date(1970, 1, 1)).days
    )
    end = (cutoff - date(1970, 1, 1)).days - LAST_INFUSION_BEFORE_CUTOFF_DAYS
    start = np.minimum(start, end)
    offset = np.floor(rng.random(len(region)) * (end - start + 1))
    return np.asarray(start + offset, dtype=np.int64)


def _doses(
    rng: np.random.Generator, region: I64, disease: I64, product: I64, weight: F64
) -> tuple[F64, F64, F64, I64, B]:
    """Total, first and second infusion cells, second infusion day, Aucatzyl blasts > 20 %."""
    n = len(region)
    bands = dose_table()[region, disease, product]  # (n, 2, fields)
    first_band = weight <= bands[:, 0, 5]
    first_band &= weight > bands[:, 0, 4]
    band = np.where(first_band[:, None], bands[:, 0], bands[:, 1])
    per_kg, low, high, cap = band[:, 0] > 0, band[:, 1], band[:, 2], band[:, 3]
    scale = np.where(per_kg, weight, 1.0)
    value = low + rng.random(n) * (high - low)
    total = np.minimum(value * scale, np.where(per_kg, cap, np.inf))
    maximum = np.minimum(high * scale, np.where(per_kg, cap, np.inf))
    outside = rng.random(n) < OUT_OF_LABEL_SHARE
    above = outside & (rng.random(n) < 0.5)
    below = outside & ~above
    total = np.where(above, maximum * rng.uniform(1.05, 1.3, n), total)
    total = np.where(below, low * scale * rng.uniform(0.6, 0.95, n), total)
    total = np.round(total, -4)
    second = np.full(n, np.nan)
    second_day = np.full(n, -1, dtype=np.int64)
    blasts_high = np.zeros(n, dtype=bool)
    split = product == PRODUCT_CODES.index(AUCATZYL)
    if split.any():
        high_burden = rng.random(n) < 0.5
        amounts = np.array(AUCATZYL_SPLITS)[np.where(high_burden, 0, 1)]
        total = np.where(split, amounts.sum(axis=1), total)
        second = np.where(split, amounts[:, 1], second)
        jitter = np.array(AUCATZYL_DAY_JITTER)[rng.integers(0, len(AUCATZYL_DAY_JITTER), n)]
        second_day = np.where(split, AUCATZYL_SECOND_DAY + jitter, second_day)
        blasts_high = split & high_burden
    first = np.where(split, total - np.nan_to_num(second), total)
    return total, first, second, second_day, blasts_high


def draw_cohort(
    rng: np.random.Generator,
    first_id: int,
    size: int,
    centers: tuple[CenterSpec, ...],
    cutoff: date,
) -> Cohort:
    """``size`` patients with ids ``first_id`` ..; every draw comes from ``rng``."""
    center = categorical(rng, [c.share for c in centers], size).astype(np.int64)
    region = np.array([REGIONS.index(c.region) for c in centers])[center]
    china = region == REGIONS.index(Region.CN)
    disease = categorical(rng, DISEASE_SHARES, size).astype(np.int64)
    age = _ages(rng, disease)
    male = rng.random(size) < MALE_SHARE
    height, weight = _body(rng, age, male, china)
    product, approved = _products(rng, region, disease, age)
    total, first, second, second_day, blasts_high = _doses(rng, region, disease, product, weight)
    lines_min = np.array([PRIOR_LINES[d][0] for d in DISEASES])[disease]
    lines_extra = rng.poisson(np.array([PRIOR_LINES[d][1] for d in DISEASES])[disease])
    subtype = np.zeros(size, dtype=np.int64)
    for d, dis in enumerate(DISEASES):
        rows = disease == d
        words = [SUBTYPE_WORDS.index(w) for w, _ in SUBTYPES[dis]]
        picks = categorical(rng, [share for _, share in SUBTYPES[dis]], int(rows.sum()))
        subtype[rows] = np.array(words)[picks]
    v2v_median = np.array([VEIN_TO_VEIN_MEDIAN[r] for r in REGIONS])[region]
    v2v = np.clip(
        np.round(v2v_median * np.exp(rng.normal(0.0, VEIN_TO_VEIN_SIGMA, size))),
        *VEIN_TO_VEIN_RANGE,
    ).astype(np.int64)
    ld = np.array([LD_DOSES.get(code, LD_DEFAULT) for code in PRODUCT_CODES])[product]
    return Cohort(
        patient_id=np.arange(first_id, first_id + size, dtype=np.int64),
        center=center,
        region=region,
        disease=disease,
        subtype=subtype,
        age=age,
        male=male,
        height_cm=height,
        weight_kg=weight,
        bsa_m2=np.sqrt(height * weight / MOSTELLER_DIVISOR),
        prior_lines=np.minimum(lines_min + lines_extra, 12).astype(np.int64),
        prior_transplant=rng.random(size)
        < np.array([PRIOR_TRANSPLANT[d] for d in DISEASES])[disease],
        product=product,
        approved_in_region=approved,
        infusion_day=_infusion_days(rng, region, disease, product, cutoff),
        vein_to_vein=v2v,
        consent_lead=rng.integers(0, 15, size).astype(np.int64),
        bridging=rng.random(size) < np.array([BRIDGING[d] for d in DISEASES])[disease],
        ld_flu=ld[:, 0],
        ld_cy=ld[:, 1],
        total_cells=total,
        first_cells=first,
        second_cells=second,
        second_day=second_day,
        blasts_high=blasts_high,
    )
