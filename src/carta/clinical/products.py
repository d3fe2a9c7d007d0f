"""The catalogue of approved CAR-T products (FDA, EMA, MHRA, China NMPA) and the labelled-dose check.

Reference section k (approved CAR-T products, with its "Dose-check notes" and "Secondary-source
errors"). Every number below is the one the reference gives; a cell the reference marks
*unverified* is ``None`` (or absent) here, and its text is kept in a ``note`` so a reader sees
what is known. Nothing is filled in from memory.

The catalogue is data: :data:`PRODUCTS`, looked up with :func:`product_by_inn` or
:func:`find_product`. :func:`check_cell_dose` compares an infused cell dose with the labelled
dose of a product for an indication in a region, and returns a frozen :class:`DoseCheck` with
the status vocabulary of :mod:`carta.clinical.results`.

Conventions of the check ([S], ADR 0242):

* Doses are CAR-positive viable T cells. A ``per_kg`` band is converted to a range of total
  cells for the patient's weight; the label's cap on the total then applies
  (``dose.per_kg_cap_applied`` when it binds).
* A band that states only a target dose (Yescarta, Tecartus US, Aucatzyl) is read as an upper
  bound: the target (times weight, capped) is the maximum, and no minimum is checked
  (``dose.label_minimum_not_stated``; ``dose.below_target`` when below it).
* Bounds are inclusive, compared with a relative tolerance of 1e-9 so that 0.5e6/kg x 70 kg
  equals 3.5e7 whatever the float rounding.
* A label the reference marks unverified, or no label at all for the product, indication and
  region, is ``cannot_compute`` with a reason code - never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum

from carta.clinical.body import WEIGHT_KG_RANGE
from carta.clinical.errors import InvalidObservation, invalid_results_problems
from carta.clinical.results import Criteria, RuleResult, Status, invalid_reason
from carta.clinical.units import PlausibleRange, check_range

CRITERIA = Criteria(
    name="CAR-T product labels",
    version="2025-12",
    citation=(
        "carta clinical reference section k (US PI, EU/GB SmPC, NMPA approvals; "
        "coverage to early December 2025)"
    ),
)

# --- vocabulary ----------------------------------------------------------------------------


class Region(StrEnum):
    """A regulatory region whose label is applied. GB (MHRA) differs from the EU for some products."""

    US = "US"  # FDA, US prescribing information (PI)
    EU = "EU"  # EMA / European Commission, EU SmPC
    GB = "GB"  # MHRA, GB SmPC
    CN = "CN"  # China NMPA


REGULATOR: dict[Region, str] = {
    Region.US: "FDA",
    Region.EU: "EMA",
    Region.GB: "MHRA",
    Region.CN: "NMPA",
}


class Disease(StrEnum):
    """Indication groups of the approvals in section k."""

    LBCL = "lbcl"  # large B-cell lymphoma (DLBCL, HGBCL, PMBCL, FL3B, tFL)
    FL = "fl"  # follicular lymphoma
    MCL = "mcl"  # mantle cell lymphoma
    MZL = "mzl"  # marginal zone lymphoma
    CLL = "cll"  # chronic lymphocytic leukaemia / small lymphocytic lymphoma
    B_ALL = "b_all"  # B-cell precursor acute lymphoblastic leukaemia
    MM = "mm"  # multiple myeloma


class Pathway(StrEnum):
    """How an approval was granted."""

    STANDARD = "standard"
    ACCELERATED = "accelerated"  # FDA accelerated approval
    CONDITIONAL = "conditional"  # EU/GB conditional marketing authorisation, NMPA conditional


class DoseBasis(StrEnum):
    """Labelled dose per kilogram of body weight, or a flat total."""

    PER_KG = "per_kg"
    FLAT = "flat"


class LabelScope(StrEnum):
    """Whether a labelled range is specific to an indication or an overall product range."""

    INDICATION = "indication"
    OVERALL = "overall"  # e.g. the Kymriah EU SmPC range per dose across indications


class ToxicityEvent(StrEnum):
    """The event a published rate counts."""

    CRS = "crs"
    NEUROTOXICITY = "neurotoxicity"  # label "neurologic toxicities/events" (not always ICANS)
    ICANS = "icans"  # ASTCT ICANS


# --- catalogue dataclasses -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Brand:
    """A brand name; ``native_name`` in Chinese characters where the product has one."""

    name: str | None
    region: Region | None = None
    native_name: str | None = None


@dataclass(frozen=True, slots=True)
class Approval:
    """One approval of a product for an indication by a regulator.

    ``date`` is ISO, as precise as the reference gives it (``2017-08-30``, ``2018-05``,
    ``2022``); ``year`` is ``None`` when the reference leaves it unverified.
    """

    region: Region
    disease: Disease
    indication: str
    date: str | None
    year: int | None
    pathway: Pathway = Pathway.STANDARD
    verified: bool = True
    note: str = ""

    @property
    def regulator(self) -> str:
        """FDA, EMA, MHRA or NMPA."""
        return REGULATOR[self.region]


@dataclass(frozen=True, slots=True)
class DoseBand:
    """A labelled dose on one basis, for patients in a weight band.

    Values are CAR-positive viable T cells per kg (``per_kg``) or in total (``flat``).
    ``cap`` is the maximum total of a per-kg dose. The band applies when
    ``weight_above_kg < weight <= weight_up_to_kg`` (each bound optional).
    """

    basis: DoseBasis
    minimum: float | None = None
    maximum: float | None = None
    target: float | None = None
    cap: float | None = None
    weight_above_kg: float | None = None
    weight_up_to_kg: float | None = None

    def covers(self, weight_kg: float | None) -> bool:
        """Whether the band applies to this weight (a band without weight bounds always does)."""
        if self.weight_above_kg is None and self.weight_up_to_kg is None:
            return True
        if weight_kg is None:
            return False
        if self.weight_above_kg is not None and not weight_kg > self.weight_above_kg:
            return False
        return self.weight_up_to_kg is None or weight_kg <= self.weight_up_to_kg


@dataclass(frozen=True, slots=True)
class SplitRegimen:
    """A labelled regimen given in several infusions (Aucatzyl: day 1 and day 10 +/- 2)."""

    infusions: int
    second_infusion_day: int
    tolerance_days: int
    per_infusion_verified: bool
    note: str = ""


@dataclass(frozen=True, slots=True)
class DoseLabel:
    """The labelled dose of a product for some indications in one region.

    ``bands`` is empty when the label dose is unverified (``verified`` false). ``current`` is
    false for a superseded edition, which applies to infusions in ``effective_from`` ..
    ``effective_to`` (``YYYY-MM``, inclusive) when an infusion date is given.
    """

    region: Region
    diseases: tuple[Disease, ...]
    bands: tuple[DoseBand, ...]
    source: str
    verified: bool = True
    scope: LabelScope = LabelScope.INDICATION
    current: bool = True
    effective_from: str | None = None
    effective_to: str | None = None
    split: SplitRegimen | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class ToxicityRate:
    """A published CRS or neurotoxicity incidence, in percent, with its source.

    ``None`` where the reference marks a figure unverified. ``grading_scale`` is ``None`` when
    the scale is unverified. ``from_label`` distinguishes a label figure from a publication.
    """

    event: ToxicityEvent
    disease: Disease
    any_grade_percent: float | None
    grade_3_plus_percent: float | None
    source: str
    n: int | None = None
    grading_scale: str | None = None
    from_label: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class Product:
    """An approved CAR-T product (reference section k).

    ``inn`` is ``None`` when the INN is unverified (pCAR-19B); ``code`` is a stable key that
    always exists. ``costimulatory_domain`` and ``vector`` are ``None`` when unverified; the
    reference's hedged text is kept in ``notes``.
    """

    code: str
    inn: str | None
    brands: tuple[Brand, ...]
    company: str
    target: str
    costimulatory_domain: str | None
    vector: str | None
    approvals: tuple[Approval, ...]
    dose_labels: tuple[DoseLabel, ...]
    toxicity: tuple[ToxicityRate, ...]
    notes: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The INN, or the code when the INN is unverified."""
        return self.inn if self.inn is not None else self.code

    def approved_diseases(self, region: Region | None = None) -> tuple[Disease, ...]:
        """Indications with an approval (in ``region``, or anywhere), in catalogue order."""
        seen: dict[Disease, None] = {}
        for approval in self.approvals:
            if region is None or approval.region is region:
                seen.setdefault(approval.disease)
        return tuple(seen)

    def rates(self, event: ToxicityEvent, disease: Disease) -> tuple[ToxicityRate, ...]:
        """Published rates of ``event`` for ``disease``, label figures first."""
        found = [r for r in self.toxicity if r.event is event and r.disease is disease]
        return tuple(sorted(found, key=lambda rate: not rate.from_label))


# --- numbers -------------------------------------------------------------------------------

MILLION = 1_000_000.0
HUNDRED_MILLION = 100_000_000.0
KYMRIAH_WEIGHT_SPLIT_KG = 50.0  # section k: Kymriah B-ALL <= 50 kg per kg, > 50 kg flat

_PI_2018_KYMRIAH = "Kymriah US PI 2018"
_ASTCT = "ASTCT 2019"

# --- the products --------------------------------------------------------------------------

TISA_CEL = Product(
    code="tisa-cel",
    inn="tisagenlecleucel",
    brands=(Brand("Kymriah"),),
    company="Novartis",
    target="CD19",
    costimulatory_domain="4-1BB",
    vector="lentiviral",
    approvals=(
        Approval(
            Region.US,
            Disease.B_ALL,
            "B-ALL, patients up to 25 years, refractory or in second or later relapse",
            "2017-08-30",
            2017,
        ),
        Approval(Region.US, Disease.LBCL, "adult LBCL after >= 2 lines", "2018-05", 2018),
        Approval(
            Region.US,
            Disease.FL,
            "FL after >= 2 lines",
            "2022-05-27",
            2022,
            Pathway.ACCELERATED,
        ),
        Approval(Region.EU, Disease.B_ALL, "B-ALL, patients up to 25 years", "2018", 2018),
        Approval(Region.EU, Disease.LBCL, "DLBCL", "2018", 2018),
        Approval(
            Region.EU,
            Disease.FL,
            "FL after >= 2 lines",
            "2022-05",
            2022,
            note="CHMP opinion 24 Mar 2022; EC approval May 2022",
        ),
    ),
    dose_labels=(
        DoseLabel(
            Region.US,
            (Disease.B_ALL,),
            (
                DoseBand(
                    DoseBasis.PER_KG,
                    minimum=0.2 * MILLION,
                    maximum=5.0 * MILLION,
                    weight_up_to_kg=KYMRIAH_WEIGHT_SPLIT_KG,
                ),
                DoseBand(
                    DoseBasis.FLAT,
                    minimum=0.1 * HUNDRED_MILLION,
                    maximum=2.5 * HUNDRED_MILLION,
                    weight_above_kg=KYMRIAH_WEIGHT_SPLIT_KG,
                ),
            ),
            source=_PI_2018_KYMRIAH,
            note="above 50 kg the dose is a flat total, not per kg (a drug-information page errs)",
        ),
        DoseLabel(
            Region.US,
            (Disease.LBCL,),
            (
                DoseBand(
                    DoseBasis.FLAT, minimum=0.6 * HUNDRED_MILLION, maximum=6.0 * HUNDRED_MILLION
                ),
            ),
            source=_PI_2018_KYMRIAH,
        ),
        DoseLabel(
            Region.US,
            (Disease.FL,),
            (
                DoseBand(
                    DoseBasis.FLAT, minimum=0.6 * HUNDRED_MILLION, maximum=6.0 * HUNDRED_MILLION
                ),
            ),
            source="FDA FL approval reports",
        ),
        DoseLabel(
            Region.EU,
            (Disease.B_ALL, Disease.LBCL, Disease.FL),
            (DoseBand(DoseBasis.FLAT, minimum=1.2 * MILLION, maximum=6.0 * HUNDRED_MILLION),),
            source="Kymriah EU SmPC section 2",
            scope=LabelScope.OVERALL,
            note="overall range per dose; indication-specific EU ranges are not in the reference",
        ),
    ),
    toxicity=(
        ToxicityRate(
            ToxicityEvent.CRS,
            Disease.B_ALL,
            79.0,
            49.0,
            "Kymriah US PI 2018 (ELIANA)",
            n=68,
            grading_scale="Penn",
            from_label=True,
        ),
        ToxicityRate(
            ToxicityEvent.NEUROTOXICITY,
            Disease.B_ALL,
            40.0,
            13.0,
            "ELIANA publication",
            n=75,
        ),
        ToxicityRate(
            ToxicityEvent.CRS,
            Disease.LBCL,
            74.0,
            23.0,
            "Kymriah US PI 2018 (JULIET)",
            n=106,
            grading_scale="Penn",
            from_label=True,
        ),
        ToxicityRate(
            ToxicityEvent.CRS, Disease.LBCL, 58.0, 22.0, "JULIET, N Engl J Med 2019 (pub)"
        ),
        ToxicityRate(
            ToxicityEvent.NEUROTOXICITY,
            Disease.LBCL,
            21.0,
            12.0,
            "JULIET, N Engl J Med 2019 (pub)",
        ),
    ),
    notes=(
        "NMPA: not approved (unverified; not in the 2024 J Hematol Oncol China table)",
        "label neurotoxicity percentages unverified",
    ),
)

AXI_CEL = Product(
    code="axi-cel",
    inn="axicabtagene ciloleucel",
    brands=(Brand("Yescarta"), Brand("Yikaida", Region.CN, "奕凯达")),
    company="Kite (Gilead); Fosun Kite in China",
    target="CD19",
    costimulatory_domain="CD28",
    vector="gamma-retroviral",
    approvals=(
        Approval(Region.US, Disease.LBCL, "LBCL after >= 2 lines", "2017-10-18", 2017),
        Approval(
            Region.US, Disease.FL, "FL after >= 2 lines", "2021-03", 2021, Pathway.ACCELERATED
        ),
        Approval(
            Region.US,
            Disease.LBCL,
            "LBCL refractory to or relapsed within 12 months of first-line therapy",
            "2022-04-01",
            2022,
        ),
        Approval(Region.EU, Disease.LBCL, "LBCL/PMBCL after >= 2 lines", "2018-08", 2018),
        Approval(
            Region.EU,
            Disease.LBCL,
            "DLBCL/HGBCL refractory to or relapsed within 12 months of first-line therapy",
            "2022-10-17",
            2022,
        ),
        Approval(Region.EU, Disease.FL, "FL", None, None, verified=False, note="unverified"),
        Approval(
            Region.CN,
            Disease.LBCL,
            "LBCL after >= 2 lines",
            "2021-06-22",
            2021,
            note="Fosun notice, licence S20210019",
        ),
        Approval(
            Region.CN,
            Disease.LBCL,
            "LBCL refractory to or relapsed within 12 months of first-line therapy",
            "2023-06",
            2023,
            Pathway.CONDITIONAL,
            note="Fosun notice 27 Jun 2023",
        ),
    ),
    dose_labels=(
        DoseLabel(
            Region.US,
            (Disease.LBCL, Disease.FL),
            (DoseBand(DoseBasis.PER_KG, target=2.0 * MILLION, cap=2.0 * HUNDRED_MILLION),),
            source="Yescarta US PI (drugs.com extract)",
            note="target 2 x 10^6/kg, maximum 2 x 10^8 (the cap is reached at 100 kg)",
        ),
        DoseLabel(
            Region.CN,
            (Disease.LBCL,),
            (),
            source="NMPA label",
            verified=False,
            note="Yikaida NMPA label dose not in the reference",
        ),
    ),
    toxicity=(
        ToxicityRate(
            ToxicityEvent.CRS,
            Disease.LBCL,
            94.0,
            13.0,
            "Yescarta US PI 2017 (ZUMA-1)",
            n=108,
            grading_scale="Lee 2014",
            from_label=True,
        ),
        ToxicityRate(
            ToxicityEvent.NEUROTOXICITY,
            Disease.LBCL,
            87.0,
            None,
            "Yescarta US PI 2017 (ZUMA-1)",
            n=108,
            from_label=True,
            note="grade >= 3 unverified",
        ),
        ToxicityRate(
            ToxicityEvent.NEUROTOXICITY,
            Disease.LBCL,
            64.0,
            None,
            "ZUMA-1, N Engl J Med (pub)",
            note="different event definition from the label's 87 % (reference section l)",
        ),
        ToxicityRate(
            ToxicityEvent.CRS,
            Disease.FL,
            84.0,
            8.0,
            "ZUMA-5",
            note="not re-checked",
        ),
    ),
)

BREXU_CEL = Product(
    code="brexu-cel",
    inn="brexucabtagene autoleucel",
    brands=(Brand("Tecartus"),),
    company="Kite (Gilead)",
    target="CD19",
    costimulatory_domain="CD28",
    vector="gamma-retroviral",
    approvals=(
        Approval(Region.US, Disease.MCL, "R/R MCL", "2020-07-24", 2020, Pathway.ACCELERATED),
        Approval(
            Region.US, Disease.B_ALL, "adult (>= 18 y) R/R B-precursor ALL", "2021-10-01", 2021
        ),
        Approval(
            Region.EU,
            Disease.MCL,
            "MCL after >= 2 lines including a BTK inhibitor",
            "2020-12",
            2020,
            Pathway.CONDITIONAL,
        ),
        Approval(
            Region.EU,
            Disease.B_ALL,
            "B-ALL, adults >= 26 y",
            None,
            None,
            verified=False,
            note="unverified",
        ),
    ),
    dose_labels=(
        DoseLabel(
            Region.US,
            (Disease.MCL,),
            (DoseBand(DoseBasis.PER_KG, target=2.0 * MILLION, cap=2.0 * HUNDRED_MILLION),),
            source="Tecartus US PI (MPR extract)",
        ),
        DoseLabel(
            Region.US,
            (Disease.B_ALL,),
            (DoseBand(DoseBasis.PER_KG, target=1.0 * MILLION, cap=1.0 * HUNDRED_MILLION),),
            source="Tecartus US PI (MPR extract); FDA B-ALL approval",
        ),
        DoseLabel(
            Region.GB,
            (Disease.MCL,),
            (
                DoseBand(
                    DoseBasis.PER_KG,
                    minimum=1.0 * MILLION,
                    maximum=2.0 * MILLION,
                    target=2.0 * MILLION,
                    cap=2.0 * HUNDRED_MILLION,
                ),
            ),
            source="Tecartus GB SmPC section 4.2",
            note="range 1-2 x 10^6/kg; maximum 2 x 10^8 at >= 100 kg",
        ),
    ),
    toxicity=(
        ToxicityRate(
            ToxicityEvent.CRS,
            Disease.MCL,
            91.0,
            18.0,
            "Tecartus US PI via Kite HCP page (ZUMA-2)",
            n=82,
            from_label=True,
            note="grading scale unverified",
        ),
        ToxicityRate(
            ToxicityEvent.NEUROTOXICITY,
            Disease.MCL,
            81.0,
            37.0,
            "Tecartus US PI via Kite HCP page (ZUMA-2)",
            n=82,
            from_label=True,
            note="neurologic events; grading scale unverified",
        ),
        ToxicityRate(
            ToxicityEvent.NEUROTOXICITY,
            Disease.MCL,
            63.0,
            None,
            "ZUMA-2, N Engl J Med (pub)",
        ),
        ToxicityRate(
            ToxicityEvent.CRS,
            Disease.B_ALL,
            92.0,
            26.0,
            "FDA approval summary (ZUMA-3)",
            n=78,
            note="grading scale unverified",
        ),
        ToxicityRate(
            ToxicityEvent.NEUROTOXICITY,
            Disease.B_ALL,
            87.0,
            35.0,
            "FDA approval summary (ZUMA-3)",
            n=78,
            note="neurologic toxicities; grading scale unverified",
        ),
    ),
    notes=("NMPA: not approved (unverified)",),
)

LISO_CEL = Product(
    code="liso-cel",
    inn="lisocabtagene maraleucel",
    brands=(Brand("Breyanzi"),),
    company="Juno / Bristol Myers Squibb",
    target="CD19",
    costimulatory_domain="4-1BB",
    vector="lentiviral",
    approvals=(
        Approval(Region.US, Disease.LBCL, "LBCL after >= 2 lines", "2021-02-05", 2021),
        Approval(
            Region.US,
            Disease.LBCL,
            "LBCL refractory to or relapsed within 12 months of first-line therapy, or after "
            "first-line therapy and transplant-ineligible",
            "2022-06-24",
            2022,
        ),
        Approval(
            Region.US,
            Disease.CLL,
            "CLL/SLL after a BTK inhibitor and a BCL-2 inhibitor",
            "2024-03-14",
            2024,
            Pathway.ACCELERATED,
        ),
        Approval(
            Region.US, Disease.FL, "FL after >= 2 lines", "2024-05-15", 2024, Pathway.ACCELERATED
        ),
        Approval(Region.US, Disease.MCL, "MCL", "2024-05-30", 2024, note="not re-checked"),
        Approval(Region.US, Disease.MZL, "MZL after >= 2 lines", "2025-12-04", 2025),
        Approval(
            Region.EU,
            Disease.LBCL,
            "DLBCL/PMBCL/FL3B after >= 2 lines",
            "2022",
            2022,
            note="exact date unverified",
        ),
        Approval(
            Region.EU,
            Disease.LBCL,
            "DLBCL/PMBCL/FL3B refractory to or relapsed within 12 months of first-line therapy",
            "2023",
            2023,
            note="CHMP Mar 2023; EC 2023",
        ),
        Approval(
            Region.EU,
            Disease.FL,
            "FL after >= 2 lines",
            None,
            None,
            verified=False,
            note="CHMP positive opinion; EC decision unverified",
        ),
        Approval(
            Region.GB,
            Disease.MCL,
            "MCL",
            None,
            None,
            note="MCL is in the GB SmPC; EU MCL approval unverified",
        ),
    ),
    dose_labels=(
        DoseLabel(
            Region.US,
            (Disease.CLL,),
            (DoseBand(DoseBasis.FLAT, minimum=90.0 * MILLION, maximum=110.0 * MILLION),),
            source="BMS CLL/SLL approval release",
        ),
        DoseLabel(
            Region.US,
            (Disease.LBCL, Disease.FL, Disease.MCL, Disease.MZL),
            (),
            source="Breyanzi US PI",
            verified=False,
            note=(
                "unverified: 50-110 x 10^6 for LBCL after >= 2 lines; 90-110 x 10^6 for "
                "second-line LBCL, FL, MCL, MZL"
            ),
        ),
        DoseLabel(
            Region.GB,
            (Disease.LBCL, Disease.MCL),
            (
                DoseBand(
                    DoseBasis.FLAT,
                    minimum=44.0 * MILLION,
                    maximum=120.0 * MILLION,
                    target=100.0 * MILLION,
                ),
            ),
            source="Breyanzi GB SmPC section 4.2",
            note="target 100 x 10^6 (1:1 CD4:CD8), range 44-120 x 10^6",
        ),
    ),
    toxicity=(
        ToxicityRate(
            ToxicityEvent.CRS,
            Disease.LBCL,
            42.0,
            None,
            "FDA announcement Feb 2021 (TRANSCEND NHL 001)",
            note="grade >= 3 unverified",
        ),
        ToxicityRate(
            ToxicityEvent.NEUROTOXICITY,
            Disease.LBCL,
            30.0,
            None,
            "FDA announcement Feb 2021 (TRANSCEND NHL 001)",
            note="grade >= 3 unverified",
        ),
        ToxicityRate(
            ToxicityEvent.CRS,
            Disease.CLL,
            83.0,
            9.0,
            "approval news (TRANSCEND CLL 004)",
        ),
        ToxicityRate(
            ToxicityEvent.NEUROTOXICITY,
            Disease.CLL,
            46.0,
            21.0,
            "approval news (TRANSCEND CLL 004)",
            note="neurologic events",
        ),
    ),
    notes=(
        "the China version is relmacabtagene autoleucel, a separate INN",
        "current-label toxicity values and grading scale unverified",
        "costimulatory domain 4-1BB per EU SmPC 2.1 (a 2022 review wrongly gives CD28)",
    ),
)

IDE_CEL = Product(
    code="ide-cel",
    inn="idecabtagene vicleucel",
    brands=(Brand("Abecma"),),
    company="Bristol Myers Squibb / 2seventy bio (labeler Celgene)",
    target="BCMA",
    costimulatory_domain="4-1BB",
    vector="lentiviral",
    approvals=(
        Approval(Region.US, Disease.MM, "RRMM after >= 4 lines", "2021-03-26", 2021),
        Approval(
            Region.US,
            Disease.MM,
            "RRMM after >= 2 lines including an IMiD, a PI and an anti-CD38 antibody",
            "2024-04",
            2024,
        ),
        Approval(
            Region.EU,
            Disease.MM,
            "RRMM after >= 3 prior therapies including an IMiD, a PI and an anti-CD38 antibody",
            "2021-08",
            2021,
            Pathway.CONDITIONAL,
        ),
        Approval(Region.EU, Disease.MM, "RRMM after >= 2 prior therapies", "2024-03-21", 2024),
    ),
    dose_labels=(
        DoseLabel(
            Region.US,
            (Disease.MM,),
            (DoseBand(DoseBasis.FLAT, minimum=300.0 * MILLION, maximum=510.0 * MILLION),),
            source="Abecma US PI from Apr 2024",
            effective_from="2024-04",
            note="300-510 x 10^6 for all indications (not 150-450 x 10^6 as some code tables say)",
        ),
        DoseLabel(
            Region.US,
            (Disease.MM,),
            (DoseBand(DoseBasis.FLAT, minimum=300.0 * MILLION, maximum=460.0 * MILLION),),
            source="Abecma US PI 2021-2023",
            current=False,
            effective_from="2021-03",
            effective_to="2024-03",
        ),
    ),
    toxicity=(
        ToxicityRate(
            ToxicityEvent.CRS,
            Disease.MM,
            85.0,
            9.0,
            "Abecma US PI (KarMMa)",
            from_label=True,
            note="not re-confirmed; a secondary label summary gives 84 % / 5 %",
        ),
        ToxicityRate(
            ToxicityEvent.NEUROTOXICITY,
            Disease.MM,
            28.0,
            4.0,
            "Abecma US PI (KarMMa)",
            from_label=True,
            note="not re-confirmed",
        ),
    ),
    notes=(
        "target BCMA (a 2022 review wrongly gives CD38)",
        "NMPA: not approved (unverified)",
    ),
)

CILTA_CEL = Product(
    code="cilta-cel",
    inn="ciltacabtagene autoleucel",
    brands=(Brand("Carvykti"),),
    company="Janssen / Legend Biotech",
    target="BCMA",
    costimulatory_domain="4-1BB",
    vector="lentiviral",
    approvals=(
        Approval(Region.US, Disease.MM, "RRMM after >= 4 lines", "2022-02-28", 2022),
        Approval(
            Region.US,
            Disease.MM,
            "RRMM after >= 1 line including a PI and an IMiD, lenalidomide-refractory",
            "2024",
            2024,
            note="day unverified",
        ),
        Approval(
            Region.EU,
            Disease.MM,
            "heavily pretreated RRMM",
            "2022",
            2022,
            Pathway.CONDITIONAL,
            note="after CHMP Mar 2022",
        ),
        Approval(
            Region.EU,
            Disease.MM,
            "RRMM after >= 1 prior line including a PI and an IMiD, lenalidomide-refractory",
            "2024",
            2024,
            note="CHMP 23 Feb 2024",
        ),
        Approval(
            Region.CN,
            Disease.MM,
            "RRMM after >= 3 prior lines including a PI and an IMiD",
            "2024-08",
            2024,
            note="Legend/GenScript 27 Aug 2024; CARTIFAN-1",
        ),
    ),
    dose_labels=(
        DoseLabel(
            Region.US,
            (Disease.MM,),
            (
                DoseBand(
                    DoseBasis.PER_KG,
                    minimum=0.5 * MILLION,
                    maximum=1.0 * MILLION,
                    cap=1.0 * HUNDRED_MILLION,
                ),
            ),
            source="Carvykti US PI (drugs.com; J&J medical information)",
            note="per kg, not a flat 0.5-1 x 10^8 as some code tables say; max per single infusion",
        ),
        DoseLabel(Region.CN, (Disease.MM,), (), source="NMPA label", verified=False),
    ),
    toxicity=(
        ToxicityRate(
            ToxicityEvent.CRS,
            Disease.MM,
            None,
            5.0,
            "FDA approval summary (CARTITUDE-1)",
            n=97,
            note="any-grade and grading scale unverified",
        ),
        ToxicityRate(
            ToxicityEvent.NEUROTOXICITY,
            Disease.MM,
            None,
            11.0,
            "FDA approval summary (CARTITUDE-1)",
            n=97,
            note="neurologic toxicities; any-grade unverified",
        ),
    ),
)

OBE_CEL = Product(
    code="obe-cel",
    inn="obecabtagene autoleucel",
    brands=(Brand("Aucatzyl"),),
    company="Autolus",
    target="CD19",
    costimulatory_domain="4-1BB",
    vector=None,
    approvals=(
        Approval(
            Region.US,
            Disease.B_ALL,
            "adult R/R B-precursor ALL",
            "2024-11-08",
            2024,
            note="no REMS",
        ),
        Approval(
            Region.EU,
            Disease.B_ALL,
            "adults >= 26 y with R/R B-ALL",
            None,
            None,
            Pathway.CONDITIONAL,
            verified=False,
            note="CHMP positive opinion 22 May 2025; EC decision date unverified",
        ),
        Approval(
            Region.GB,
            Disease.B_ALL,
            "adult R/R B-ALL",
            "2025-04-25",
            2025,
            Pathway.CONDITIONAL,
        ),
    ),
    dose_labels=(
        DoseLabel(
            Region.US,
            (Disease.B_ALL,),
            (DoseBand(DoseBasis.FLAT, target=410.0 * MILLION),),
            source="Aucatzyl US PI (drugs.com); FELIX",
            split=SplitRegimen(
                infusions=2,
                second_infusion_day=10,
                tolerance_days=2,
                per_infusion_verified=False,
                note=(
                    "schedule chosen by marrow blasts <= 20 % vs > 20 % before lymphodepletion; "
                    "per-day amounts (10 + 400 x 10^6 if > 20 %, 100 + 310 x 10^6 if <= 20 %) "
                    "inferred from bag sizes, unverified"
                ),
            ),
            note="total 410 x 10^6 in 3-5 bags (10, 100, 300 x 10^6), day 1 and day 10 +/- 2",
        ),
    ),
    toxicity=(
        ToxicityRate(
            ToxicityEvent.CRS,
            Disease.B_ALL,
            None,
            2.4,
            "FELIX (pub)",
            note="any-grade and label values unverified; >= G3 2 % low vs 3 % high burden",
        ),
        ToxicityRate(
            ToxicityEvent.ICANS,
            Disease.B_ALL,
            None,
            7.1,
            "FELIX (pub)",
            note="any-grade and label values unverified; >= G3 4 % low vs 9 % high burden",
        ),
    ),
    notes=(
        "costimulatory domain 4-1BB per FELIX (N Engl J Med, via a secondary report)",
        "fast off-rate, intermediate-affinity CD19 binder",
        "vector reported as lentiviral (unverified)",
        "NMPA: not approved (unverified)",
    ),
)

RELMA_CEL = Product(
    code="relma-cel",
    inn="relmacabtagene autoleucel",
    brands=(Brand("Carteyva", Region.CN, "倍诺达"),),
    company="JW Therapeutics",
    target="CD19",
    costimulatory_domain="4-1BB",
    vector="lentiviral",
    approvals=(
        Approval(Region.CN, Disease.LBCL, "LBCL after >= 2 lines", "2021-09", 2021),
        Approval(
            Region.CN,
            Disease.FL,
            "FL refractory or relapsed within 24 months of second-line or later therapy",
            "2022-10",
            2022,
            note="approval confirmed (Blood Adv 2025); Oct 2022 date not re-checked",
        ),
    ),
    dose_labels=(
        DoseLabel(
            Region.CN,
            (Disease.LBCL, Disease.FL),
            (),
            source="NMPA label",
            verified=False,
            note="RELIANCE randomised 100 vs 150 x 10^6 (pub); MCL phase 2 used 100 x 10^6",
        ),
    ),
    toxicity=(
        ToxicityRate(
            ToxicityEvent.CRS,
            Disease.LBCL,
            None,
            5.1,
            "RELIANCE sponsor report",
            n=59,
            note="any-grade and scale unverified",
        ),
        ToxicityRate(
            ToxicityEvent.NEUROTOXICITY,
            Disease.LBCL,
            None,
            3.4,
            "RELIANCE sponsor report",
            n=59,
            note="any-grade and scale unverified",
        ),
    ),
    notes=(
        "MCL: not approved as of Aug 2025 (sBLA accepted Feb 2024, not re-checked)",
        "vector lentiviral (Juno process)",
    ),
)

EQUE_CEL = Product(
    code="eque-cel",
    inn="equecabtagene autoleucel",
    brands=(Brand("Fucaso", Region.CN, "福可苏"),),
    company="IASO Bio (with Innovent)",
    target="BCMA",
    costimulatory_domain=None,
    vector=None,
    approvals=(
        Approval(
            Region.CN,
            Disease.MM,
            "RRMM after >= 3 lines including a PI and an IMiD",
            "2023-06-30",
            2023,
        ),
    ),
    dose_labels=(
        DoseLabel(
            Region.CN,
            (Disease.MM,),
            (),
            source="NMPA label",
            verified=False,
            note="FUMANBA-1 (pub) used 1.0 x 10^6/kg in a single infusion",
        ),
    ),
    toxicity=(
        ToxicityRate(
            ToxicityEvent.CRS,
            Disease.MM,
            93.2,
            1.0,
            "FUMANBA-1 (pub)",
            n=103,
            grading_scale=_ASTCT,
        ),
        ToxicityRate(
            ToxicityEvent.ICANS,
            Disease.MM,
            1.9,
            0.0,
            "FUMANBA-1 (pub)",
            n=103,
            grading_scale=_ASTCT,
        ),
    ),
    notes=(
        "fully human scFv",
        "costimulatory domain reported as 4-1BB (unverified)",
        "vector reported as lentiviral (unverified)",
    ),
)

ZEVOR_CEL = Product(
    code="zevor-cel",
    inn="zevorcabtagene autoleucel",
    brands=(Brand(None, Region.CN, "赛恺泽"),),
    company="CARsgen",
    target="BCMA",
    costimulatory_domain=None,
    vector=None,
    approvals=(
        Approval(
            Region.CN,
            Disease.MM,
            "RRMM after >= 3 lines including a PI and an IMiD",
            "2024-02-23",
            2024,
        ),
    ),
    dose_labels=(
        DoseLabel(
            Region.CN,
            (Disease.MM,),
            (),
            source="NMPA label",
            verified=False,
            note="LUMMICAR-2 (North America) targeted 1.5-3.0 x 10^8 - not the China label",
        ),
    ),
    toxicity=(),
    notes=(
        "fully human scFv 25C2",
        "costimulatory domain reported as 4-1BB (unverified)",
        "vector reported as lentiviral (unverified)",
        "CRS/ICANS rates unverified",
    ),
)

INATI_CEL = Product(
    code="inati-cel",
    inn="inaticabtagene autoleucel",
    brands=(Brand("CNCT19", Region.CN, "源瑞达"),),
    company="Juventas Cell Therapy",
    target="CD19",
    costimulatory_domain="4-1BB",
    vector=None,
    approvals=(Approval(Region.CN, Disease.B_ALL, "adult R/R B-ALL", "2023-11-07", 2023),),
    dose_labels=(
        DoseLabel(
            Region.CN,
            (Disease.B_ALL,),
            (),
            source="NMPA label",
            verified=False,
            note="pivotal phase 2 (Blood Adv 2025, n = 48); dose not retrieved",
        ),
    ),
    toxicity=(),
    notes=(
        "HI19alpha-derived scFv; 4-1BB/CD3zeta (ASH 2025 abstract)",
        "vector reported as lentiviral (unverified)",
        "CRS/ICANS rates unverified",
    ),
)

PCAR_19B = Product(
    code="pCAR-19B",
    inn=None,
    brands=(),
    company="Chongqing Precision Biotech",
    target="CD19",
    costimulatory_domain=None,
    vector=None,
    approvals=(
        Approval(
            Region.CN,
            Disease.B_ALL,
            "R/R B-ALL in children and adolescents",
            None,
            None,
            note=(
                "approved per sponsor news; date unverified (NDA accepted Jul 2024); age limits "
                "unverified (<= 18 y in one report, 3-21 y in the breakthrough designation)"
            ),
        ),
    ),
    dose_labels=(DoseLabel(Region.CN, (Disease.B_ALL,), (), source="NMPA label", verified=False),),
    toxicity=(),
    notes=(
        "INN unverified",
        'brand unverified ("Pukilin" injection in local press)',
        "humanised scFv",
        "costimulatory domain, vector, dose and CRS/ICANS rates unverified",
    ),
)

PRODUCTS: tuple[Product, ...] = (
    TISA_CEL,
    AXI_CEL,
    BREXU_CEL,
    LISO_CEL,
    IDE_CEL,
    CILTA_CEL,
    OBE_CEL,
    RELMA_CEL,
    EQUE_CEL,
    ZEVOR_CEL,
    INATI_CEL,
    PCAR_19B,
)

# Section k, "Not approved as of the sources": never added to the product master until confirmed.
NOT_APPROVED: tuple[str, ...] = ("anitocabtagene autoleucel", "satricabtagene autoleucel")


def product_by_inn(inn: str) -> Product:
    """The product with this INN (case-insensitive); ``KeyError`` if none."""
    wanted = inn.strip().casefold()
    for product in PRODUCTS:
        if product.inn is not None and product.inn.casefold() == wanted:
            return product
    raise KeyError(f"no approved CAR-T product with INN {inn!r}")


def find_product(name: str) -> Product | None:
    """The product known by ``name``: its INN, code (``axi-cel``) or a brand (Latin or Chinese)."""
    wanted = name.strip().casefold()
    for product in PRODUCTS:
        names = {product.code.casefold()}
        if product.inn is not None:
            names.add(product.inn.casefold())
        for brand in product.brands:
            names.update(
                value.casefold() for value in (brand.name, brand.native_name) if value is not None
            )
        if wanted in names:
            return product
    return None


# --- the dose check ------------------------------------------------------------------------

# Plausibility of the inputs [S]: generous bounds that catch a unit slip (cells vs millions).
TOTAL_CELLS_RANGE = PlausibleRange(1.0, 1.0e11, "CAR+ viable T cells")
CELLS_PER_KG_RANGE = PlausibleRange(1.0, 1.0e9, "CAR+ viable T cells/kg")
INFUSION_DAY_RANGE = PlausibleRange(1.0, 60.0, "day of the regimen (first infusion = day 1)")
# Bounds are inclusive; a relative tolerance absorbs float rounding of per-kg x weight [S].
RELATIVE_TOLERANCE = 1e-9
# A total and a per-kg dose given together must agree to 5 % (per-kg doses are often reported
# rounded to one or two significant figures) [S].
PER_KG_AGREEMENT = 0.05

REASON_WITHIN = "dose.within_label"
REASON_ABOVE = "dose.above_label_max"
REASON_BELOW = "dose.below_label_min"
REASON_CAP = "dose.per_kg_cap_applied"
REASON_BAND_PER_KG = "dose.weight_band.per_kg"
REASON_BAND_FLAT = "dose.weight_band.flat"
REASON_NO_MINIMUM = "dose.label_minimum_not_stated"
REASON_BELOW_TARGET = "dose.below_target"
REASON_UNVERIFIED = "dose.label_unverified"
REASON_NO_LABEL = "dose.no_label"
REASON_OVERALL = "dose.label_overall_range_only"
REASON_WEIGHT_REQUIRED = "dose.weight_required"
REASON_DOSE_REQUIRED = "dose.dose_required"
REASON_SPLIT_UNVERIFIED = "dose.split_unverified"
REASON_INFUSION_COUNT = "dose.infusion_count_outside_label"
REASON_INFUSION_DAY = "dose.infusion_day_outside_label"
REASON_SUPERSEDED = "dose.superseded_label"


@dataclass(frozen=True, slots=True, kw_only=True)
class CellDose:
    """An infused dose to check against the label.

    ``product`` is an INN, code or brand; ``disease`` a :class:`Disease` value; ``region``
    a :class:`Region` value. Give ``total_cells`` or ``cells_per_kg`` (or both, consistent).
    For a split regimen, ``infusion_days`` (first = 1) and ``infusion_cells`` describe each
    infusion. ``infusion_date`` selects a superseded label edition in force at that date.
    """

    product: str
    disease: str
    region: str
    total_cells: float | None = None
    cells_per_kg: float | None = None
    weight_kg: float | None = None
    infusion_days: tuple[int, ...] = ()
    infusion_cells: tuple[float, ...] = ()
    infusion_date: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DoseCheck(RuleResult):
    """Outcome of :func:`check_cell_dose`.

    ``within_label`` is the value (``None`` unless ``status`` is ``ok``). The applied range
    is in total cells for this patient (``range_min_cells`` ``None`` when the label states no
    minimum); ``basis`` and ``label_source`` say which label band was used.
    """

    within_label: bool | None = None
    basis: str | None = None
    range_min_cells: float | None = None
    range_max_cells: float | None = None
    target_cells: float | None = None
    total_cells: float | None = None
    cells_per_kg: float | None = None
    label_source: str | None = None


def _resolve(dose: CellDose) -> tuple[Product, Disease, Region]:
    """The product, disease and region named, or raise naming the field."""
    product = find_product(dose.product) if isinstance(dose.product, str) else None
    if product is None:
        raise InvalidObservation("product", dose.product, "an approved CAR-T product")
    try:
        disease = Disease(dose.disease)
    except ValueError:
        raise InvalidObservation(
            "disease", dose.disease, f"one of {', '.join(d.value for d in Disease)}"
        ) from None
    try:
        region = Region(dose.region)
    except ValueError:
        raise InvalidObservation(
            "region", dose.region, f"one of {', '.join(r.value for r in Region)}"
        ) from None
    return product, disease, region


def _month(text: str) -> tuple[int, int]:
    year, month = text.split("-")
    return int(year), int(month)


def _in_force(label: DoseLabel, when: date) -> bool:
    """Whether a label edition applies to an infusion on ``when`` (month precision)."""
    moment = (when.year, when.month)
    if label.effective_from is not None and moment < _month(label.effective_from):
        return False
    return label.effective_to is None or moment <= _month(label.effective_to)


def find_label(
    product: Product, disease: Disease, region: Region, when: date | None = None
) -> DoseLabel | None:
    """The label for this indication and region: the current edition, or the one in force ``when``."""
    labels = [
        label
        for label in product.dose_labels
        if label.region is region and disease in label.diseases
    ]
    if when is not None:
        dated = [label for label in labels if _in_force(label, when)]
        if dated:
            return dated[0]
    current = [label for label in labels if label.current]
    return current[0] if current else None


def _validated_amounts(dose: CellDose) -> tuple[float | None, float | None, float | None]:
    """(total, per kg, weight) after range checks; collects every problem before raising."""
    errors: list[InvalidObservation] = []
    values: dict[str, float | None] = {}
    checks = (
        ("total_cells", dose.total_cells, TOTAL_CELLS_RANGE),
        ("cells_per_kg", dose.cells_per_kg, CELLS_PER_KG_RANGE),
        ("weight_kg", dose.weight_kg, WEIGHT_KG_RANGE),
    )
    for name, value, plausible in checks:
        try:
            values[name] = None if value is None else check_range(name, value, plausible)
        except InvalidObservation as error:
            errors.append(error)
    if errors:
        raise _Collected(errors)
    return values["total_cells"], values["cells_per_kg"], values["weight_kg"]


class _Collected(Exception):
    """Several invalid inputs at once."""

    def __init__(self, errors: list[InvalidObservation]) -> None:
        super().__init__(str(errors))
        self.errors = errors


def _total(
    total: float | None, per_kg: float | None, weight: float | None
) -> tuple[float | None, float | None]:
    """Total and per-kg dose, each derived from the other when the weight allows."""
    if total is not None and per_kg is not None and weight is not None:
        derived = per_kg * weight
        if abs(derived - total) > PER_KG_AGREEMENT * total:
            raise InvalidObservation(
                "cells_per_kg", per_kg, f"about total_cells / weight_kg = {total / weight:.4g}"
            )
    if total is None and per_kg is not None and weight is not None:
        total = per_kg * weight
    if per_kg is None and total is not None and weight is not None:
        per_kg = total / weight
    return total, per_kg


def _le(value: float, bound: float) -> bool:
    return value <= bound * (1.0 + RELATIVE_TOLERANCE)


def _ge(value: float, bound: float) -> bool:
    return value >= bound * (1.0 - RELATIVE_TOLERANCE)


@dataclass(frozen=True, slots=True)
class _Range:
    minimum: float | None
    maximum: float | None
    target: float | None
    reasons: tuple[str, ...]


def _band_range(band: DoseBand, weight: float | None) -> _Range:
    """The band as a range of total cells for this weight (per-kg converted and capped)."""
    if band.basis is DoseBasis.FLAT:
        maximum = band.maximum if band.maximum is not None else band.target
        return _Range(band.minimum, maximum, band.target, ())
    assert weight is not None  # callers pass a weight for per-kg bands
    per_kg_max = band.maximum if band.maximum is not None else band.target
    minimum = None if band.minimum is None else band.minimum * weight
    maximum = None if per_kg_max is None else per_kg_max * weight
    target = None if band.target is None else band.target * weight
    reasons: tuple[str, ...] = ()
    if band.cap is not None and maximum is not None and maximum > band.cap:
        maximum = band.cap
        target = None if target is None else min(target, band.cap)
        reasons = (REASON_CAP,)
    return _Range(minimum, maximum, target, reasons)


def _compare(total: float, applied: _Range) -> tuple[bool, tuple[str, ...]]:
    """Whether ``total`` is in range, and the reason codes."""
    reasons: list[str] = []
    within = True
    if applied.maximum is not None and not _le(total, applied.maximum):
        within = False
        reasons.append(REASON_ABOVE)
    if applied.minimum is None:
        reasons.append(REASON_NO_MINIMUM)
        if within and applied.target is not None and not _ge(total, applied.target):
            reasons.append(REASON_BELOW_TARGET)
    elif not _ge(total, applied.minimum):
        within = False
        reasons.append(REASON_BELOW)
    if within:
        reasons.insert(0, REASON_WITHIN)
    return within, tuple(reasons)


def _split_reasons(split: SplitRegimen, dose: CellDose) -> tuple[str, ...]:
    """Checks of a multi-infusion regimen: number and timing; per-infusion amounts unverified."""
    reasons: list[str] = []
    if dose.infusion_days:
        if len(dose.infusion_days) != split.infusions:
            reasons.append(REASON_INFUSION_COUNT)
        elif (
            abs(dose.infusion_days[-1] - split.second_infusion_day) > split.tolerance_days
            or dose.infusion_days[0] != 1
        ):
            reasons.append(REASON_INFUSION_DAY)
    if not split.per_infusion_verified:
        reasons.append(REASON_SPLIT_UNVERIFIED)
    return tuple(reasons)


def _infusions(dose: CellDose) -> float | None:
    """Validate the per-infusion lists; their sum (``None`` when not given)."""
    if len(dose.infusion_days) != len(dose.infusion_cells) and dose.infusion_cells:
        raise InvalidObservation(
            "infusion_cells", dose.infusion_cells, "one amount per entry of infusion_days"
        )
    for day in dose.infusion_days:
        if isinstance(day, bool) or not isinstance(day, int):
            raise InvalidObservation("infusion_days", dose.infusion_days, "whole days")
        check_range("infusion_days", day, INFUSION_DAY_RANGE)
    if list(dose.infusion_days) != sorted(set(dose.infusion_days)):
        raise InvalidObservation("infusion_days", dose.infusion_days, "increasing days")
    for cells in dose.infusion_cells:
        check_range("infusion_cells", cells, TOTAL_CELLS_RANGE)
    return float(sum(dose.infusion_cells)) if dose.infusion_cells else None


def _invalid(problems: list[InvalidObservation]) -> DoseCheck:
    return DoseCheck(
        status=Status.INVALID_INPUT,
        criteria=CRITERIA,
        reasons=tuple(invalid_reason(error.problem.field) for error in problems),
        problems=invalid_results_problems(problems),
    )


def check_cell_dose(dose: CellDose) -> DoseCheck:
    """Compare an infused CAR-T cell dose with the product's labelled dose (section k).

    ``ok`` with ``within_label`` true or false when a verified label applies;
    ``cannot_compute`` when the label is unverified or absent for the indication and region,
    or the weight (for a per-kg band) or the dose is missing; ``invalid_input`` for an unknown
    product, disease or region, or an implausible amount.
    """
    try:
        product, disease, region = _resolve(dose)
        total, per_kg, weight = _validated_amounts(dose)
        infused = _infusions(dose)
        if infused is not None:
            if total is not None and abs(infused - total) > RELATIVE_TOLERANCE * total:
                raise InvalidObservation(
                    "infusion_cells", dose.infusion_cells, f"amounts summing to {total:g}"
                )
            total = infused
        total, per_kg = _total(total, per_kg, weight)
    except InvalidObservation as error:
        return _invalid([error])
    except _Collected as collected:
        return _invalid(collected.errors)
    base = DoseCheck(
        status=Status.CANNOT_COMPUTE, criteria=CRITERIA, total_cells=total, cells_per_kg=per_kg
    )
    label = find_label(product, disease, region, dose.infusion_date)
    if label is None:
        return replace(base, reasons=(REASON_NO_LABEL,))
    return _check_against_label(replace(base, label_source=label.source), label, dose, weight)


def _check_against_label(
    base: DoseCheck, label: DoseLabel, dose: CellDose, weight: float | None
) -> DoseCheck:
    """``base`` (``cannot_compute``, with the amounts) completed against ``label``."""
    if not label.verified or not label.bands:
        return replace(base, reasons=(REASON_UNVERIFIED,))
    bands = [band for band in label.bands if band.covers(weight)]
    if not bands or (bands[0].basis is DoseBasis.PER_KG and weight is None):
        return replace(base, reasons=(REASON_WEIGHT_REQUIRED,), missing=("weight_kg",))
    if base.total_cells is None:
        return replace(base, reasons=(REASON_DOSE_REQUIRED,), missing=("total_cells",))
    band = bands[0]
    applied = _band_range(band, weight)
    within, compared = _compare(base.total_cells, applied)
    reasons = _prefix_reasons(label, band) + applied.reasons + compared
    if label.split is not None:
        reasons += _split_reasons(label.split, dose)
    result = replace(
        base,
        basis=band.basis.value,
        range_min_cells=applied.minimum,
        range_max_cells=applied.maximum,
        target_cells=applied.target,
    )
    if label.scope is LabelScope.OVERALL:
        if within:  # inside an overall range says nothing about the indication's own range
            kept = tuple(reason for reason in reasons if reason != REASON_WITHIN)
            return replace(result, reasons=(*kept, REASON_OVERALL))
        reasons += (REASON_OVERALL,)
    return replace(result, status=Status.OK, reasons=reasons, within_label=within)


def _prefix_reasons(label: DoseLabel, band: DoseBand) -> tuple[str, ...]:
    """Reasons that describe which label and band were applied."""
    reasons: tuple[str, ...] = () if label.current else (REASON_SUPERSEDED,)
    if len(label.bands) > 1:
        reasons += (REASON_BAND_PER_KG if band.basis is DoseBasis.PER_KG else REASON_BAND_FLAT,)
    return reasons
