"""Calibration targets: the CRS and ICANS rates each product's synthetic patients should show.

Targets come from the product catalogue (:mod:`carta.clinical.products`, reference section k):
for each product and disease, the first listed CRS rate and the first listed ICANS rate (or,
failing that, the first "neurotoxicity" rate; label figures first). Where the catalogue has no
figure (``None``: unverified), a *class default* is used: the unweighted mean of the catalogue
figures of products with the same target antigen and costimulatory domain (CD19/CD28,
CD19/4-1BB, BCMA/4-1BB; a product whose domain is unverified is counted as 4-1BB, the domain of
every approved BCMA product and every CD19 product approved in China whose domain is known).
A missing grade >= 3 figure beside a known any-grade figure is scaled by the class's ratio.

Published figures use several grading scales (Penn, Lee 2014, ASTCT) and label
"neurologic toxicities" are wider than ASTCT ICANS; the synthetic patients are nevertheless
calibrated so that *carta's ASTCT graders* reproduce the figures, which is what a demo and a
benchmark need (ADR 0244). None of this is a clinical claim.

A patient's maximum grade over days 0-30 is drawn from the distribution these constants fix:

* P(max >= 1) = any-grade rate, P(max >= 3) = grade >= 3 rate;
* among grades 1-2, grade 2 with probability :data:`GRADE_2_SHARE`;
* among grades >= 3, grade 4 with :data:`GRADE_4_SHARE` and grade 5 with :data:`GRADE_5_SHARE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from statistics import mean

from carta.clinical.products import PRODUCTS, Disease, Product, ToxicityEvent, ToxicityRate

# Diseases generated, and their shares of patients [S]: LBCL most common, then MM, B-ALL, MCL,
# FL, CLL - the order of CAR-T use in registries such as CIBMTR's and China's.
DISEASES: tuple[Disease, ...] = (
    Disease.LBCL,
    Disease.MM,
    Disease.B_ALL,
    Disease.MCL,
    Disease.FL,
    Disease.CLL,
)
DISEASE_SHARES: tuple[float, ...] = (0.45, 0.22, 0.13, 0.08, 0.07, 0.05)

# Split of the maximum grade inside the any-grade and grade >= 3 bands [S].
GRADE_2_SHARE = 0.40
GRADE_4_SHARE = 0.25
GRADE_5_SHARE = 0.02
DEFAULT_COSTIM = "4-1BB"
PERCENT = 100.0


@dataclass(frozen=True, slots=True)
class RateTarget:
    """Any-grade and grade >= 3 fractions (0-1), and where each came from."""

    any_grade: float
    grade_3_plus: float
    any_grade_source: str
    grade_3_plus_source: str

    def grade_probabilities(self) -> tuple[float, float, float, float, float, float]:
        """P(max grade = 0..5)."""
        mild = self.any_grade - self.grade_3_plus
        severe = self.grade_3_plus
        return (
            1.0 - self.any_grade,
            mild * (1.0 - GRADE_2_SHARE),
            mild * GRADE_2_SHARE,
            severe * (1.0 - GRADE_4_SHARE - GRADE_5_SHARE),
            severe * GRADE_4_SHARE,
            severe * GRADE_5_SHARE,
        )


@dataclass(frozen=True, slots=True)
class Target:
    """CRS and ICANS targets of one product in one disease."""

    product: str
    disease: Disease
    crs: RateTarget
    icans: RateTarget


def product_class(product: Product) -> str:
    """``CD19/CD28``, ``CD19/4-1BB``, ``BCMA/4-1BB`` (unverified domain counted as 4-1BB)."""
    return f"{product.target}/{product.costimulatory_domain or DEFAULT_COSTIM}"


def _neuro_events(product: Product, disease: Disease) -> tuple[ToxicityRate, ...]:
    return product.rates(ToxicityEvent.ICANS, disease) or product.rates(
        ToxicityEvent.NEUROTOXICITY, disease
    )


def catalogue_rate(product: Product, disease: Disease, syndrome: str) -> ToxicityRate | None:
    """The catalogue figure used for ``syndrome`` (``crs`` or ``icans``), if any."""
    found = (
        product.rates(ToxicityEvent.CRS, disease)
        if syndrome == "crs"
        else _neuro_events(product, disease)
    )
    return found[0] if found else None


@cache
def class_defaults() -> dict[tuple[str, str], tuple[float, float]]:
    """(class, syndrome) -> (any-grade, grade >= 3) means of the catalogue's figures, in percent."""
    values: dict[tuple[str, str, int], list[float]] = {}
    for product in PRODUCTS:
        for disease in Disease:
            for syndrome in ("crs", "icans"):
                rate = catalogue_rate(product, disease, syndrome)
                if rate is None:
                    continue
                for position, figure in enumerate(
                    (rate.any_grade_percent, rate.grade_3_plus_percent)
                ):
                    if figure is not None:
                        key = (product_class(product), syndrome, position)
                        values.setdefault(key, []).append(figure)
    return {
        (cls, syndrome): (mean(values[(cls, syndrome, 0)]), mean(values[(cls, syndrome, 1)]))
        for cls, syndrome, position in values
        if position == 0
    }


def _rate_target(product: Product, disease: Disease, syndrome: str) -> RateTarget:
    """The product's figures; a missing one from its class (ADR 0244).

    Missing any-grade: the class mean (never below the product's grade >= 3 figure). Missing
    grade >= 3 with a known any-grade: the any-grade figure times the class's ratio of
    grade >= 3 to any grade, so a product with little CRS is not given the class's severe CRS.
    """
    rate = catalogue_rate(product, disease, syndrome)
    cls = product_class(product)
    default_any, default_g3 = class_defaults()[(cls, syndrome)]
    known_any = None if rate is None else rate.any_grade_percent
    known_g3 = None if rate is None else rate.grade_3_plus_percent
    source = "" if rate is None else rate.source
    if known_g3 is not None:
        g3, g3_source = known_g3, source
    elif known_any is not None:
        g3, g3_source = known_any * default_g3 / default_any, f"class ratio {cls}"
    else:
        g3, g3_source = default_g3, f"class default {cls}"
    if known_any is not None:
        any_grade, any_source = known_any, source
    else:
        any_grade, any_source = max(default_any, g3), f"class default {cls}"
    return RateTarget(any_grade / PERCENT, g3 / PERCENT, any_source, g3_source)


@cache
def target(product_code: str, disease: Disease) -> Target:
    """The calibration target of a product (by code) in a disease."""
    product = next(p for p in PRODUCTS if p.code == product_code)
    return Target(
        product=product_code,
        disease=disease,
        crs=_rate_target(product, disease, "crs"),
        icans=_rate_target(product, disease, "icans"),
    )


def all_targets() -> tuple[Target, ...]:
    """Targets of every product for every generated disease (used or not)."""
    return tuple(target(product.code, disease) for product in PRODUCTS for disease in DISEASES)
