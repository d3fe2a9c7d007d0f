"""The one place the registry meets :mod:`carta.clinical`: model values in, rule results out.

Services call these functions; views, forms and models never compute clinical logic. Field
names map one to one onto the reference's Appendix A (ICE and CAPD items are stored as
``ice_<item>`` / ``capd_<item>`` and given to the rules as ``ice_items.<item>`` /
``capd_items.<item>``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from carta.clinical import followup, products
from carta.clinical.body import BodyMeasurements, BsaResult, body_surface_area
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.results import RuleResult, Status
from carta.clinical.scores import capd, ice
from carta.clinical.scores.car_hematotox import (
    CARHematotoxObservation,
    CARHematotoxResult,
    score_car_hematotox,
)
from carta.clinical.scores.easix import (
    EASIXObservation,
    EASIXResult,
    MEASIXObservation,
    MEASIXResult,
    compute_easix,
    compute_m_easix,
)
from carta.clinical.toxicity.crs_astct_2019 import CRSObservation, CRSResult, grade_crs
from carta.clinical.toxicity.icans_astct_2019 import (
    ICE_MIN_AGE_YEARS,
    ICANSObservation,
    ICANSResult,
    grade_icans,
)

# --- observation fields ------------------------------------------------------------------------

CRS_FIELDS: tuple[str, ...] = (
    "temperature_c",
    "fever_attributable_to_other_cause",
    "hypotension",
    "vasopressors",
    "hypotension_attributable_to_other_cause",
    "oxygen_device",
    "oxygen_flow_l_min",
    "hypoxia_attributable_to_other_cause",
    "died_due_to_crs",
)
ICE_ITEM_FIELDS: dict[str, str] = {f"ice_{item}": ice.item_field(item) for item in ice.ITEM_MAX}
CAPD_ITEM_FIELDS: dict[str, str] = {f"capd_{item}": capd.item_field(item) for item in capd.ITEMS}
ICANS_FIELDS: tuple[str, ...] = (
    "developmental_delay",
    "tool",
    "ice_score",
    *ICE_ITEM_FIELDS,
    "ice_not_performable_reason",
    "capd_score",
    *CAPD_ITEM_FIELDS,
    "capd_not_performable_reason",
    "consciousness",
    "consciousness_attributable_to_other_cause",
    "seizure",
    "motor",
    "icp_edema",
    "died_due_to_icans",
)
LAB_FIELDS: tuple[str, ...] = (
    "anc_per_ul",
    "platelets_per_ul",
    "hemoglobin_g_dl",
    "crp_mg_dl",
    "ferritin_ng_ml",
    "ldh_u_l",
    "creatinine_mg_dl",
    "il6_pg_ml",
)
RECORDED_FIELDS: tuple[str, ...] = ("recorded_crs_grade", "recorded_icans_grade")
OBSERVATION_FIELDS: tuple[str, ...] = CRS_FIELDS + ICANS_FIELDS + LAB_FIELDS + RECORDED_FIELDS
"""Everything a user enters on a daily assessment (the inputs of the daily-assessment service)."""

APPENDIX_NAMES: dict[str, str] = {**ICE_ITEM_FIELDS, **CAPD_ITEM_FIELDS}
MODEL_FIELDS: dict[str, str] = {
    **{appendix: field for field, appendix in APPENDIX_NAMES.items()},
    "temperature_f": "temperature_c",
}

# --- the CRS fever waiver (reference a.2) ----------------------------------------------------

# Agents that count as antipyretic or anti-cytokine therapy (values of ToxicityTreatment.agent).
WAIVER_AGENTS = frozenset(
    {"tocilizumab", "corticosteroid", "anakinra", "siltuximab", "antipyretic"}
)


@dataclass(frozen=True, slots=True)
class DayGrade:
    """An earlier day's computed CRS result, as the waiver derivation needs it.

    ``certain`` marks a ``cannot_grade`` day whose qualifying fever is certain (its grade is
    at least 1 whatever the unknowns are): see :func:`crs_certainly_present`.
    """

    day: int
    status: str | None
    grade: int | None
    certain: bool = False

    @property
    def crs_present(self) -> bool | None:
        """CRS grade >= 1 on this day; ``None`` when that was not determined."""
        if self.status == Status.OK and self.grade is not None:
            return self.grade >= 1
        return True if self.certain else None


@dataclass(frozen=True, slots=True)
class WaiverInputs:
    """The two a.2 inputs derived for one day (three-valued: ``None`` = unknown)."""

    crs_previously_diagnosed: bool | None
    antipyretic_or_anticytokine_given: bool | None


def _any(values: Iterable[bool | None]) -> bool | None:
    """Three-valued OR: true if any is true, unknown if any is unknown, else false."""
    seen_unknown = False
    for value in values:
        if value is True:
            return True
        seen_unknown = seen_unknown or value is None
    return None if seen_unknown else False


def _previously(history: Sequence[DayGrade], day: int) -> bool | None:
    """CRS met on a recorded day before ``day``."""
    return _any(entry.crs_present for entry in history if entry.day < day)


def _therapy_counts(history: Sequence[DayGrade], therapy_day: int, day: int) -> bool | None:
    """Therapy on ``therapy_day`` counts when CRS was present that day or met before it.

    Therapy on the assessed day itself counts as given (the waiver still needs CRS met
    before, so prophylaxis cannot waive); a therapy day without an assessment leaves
    "present" unknown.
    """
    if therapy_day == day:
        return True
    present = next((entry.crs_present for entry in history if entry.day == therapy_day), None)
    return _any((present, _previously(history, therapy_day)))


def derive_fever_waiver(
    history: Sequence[DayGrade], therapy_days: Iterable[int], day: int
) -> WaiverInputs:
    """The a.2 inputs of ``day`` from the same infusion's earlier days and treatments.

    ``crs_previously_diagnosed``: an earlier day had CRS grade >= 1 (unknown if an earlier
    day was not determined and none was certainly >= 1). ``antipyretic_or_anticytokine_given``:
    an antipyretic or anti-cytokine treatment on the day, or on an earlier day on which CRS was
    present or previously diagnosed (prophylaxis before any CRS does not count). The rule of
    the batch twin :func:`carta.analytics.timeline.grade_timeline` (ADRs 0181-0183); ADR 0208.
    """
    earlier = [entry for entry in history if entry.day < day]
    counted = (_therapy_counts(earlier, therapy, day) for therapy in therapy_days if therapy <= day)
    return WaiverInputs(
        crs_previously_diagnosed=_previously(earlier, day),
        antipyretic_or_anticytokine_given=_any(counted),
    )


# Findings that can only raise the CRS grade, at their lowest (no death, no hypotension, no
# vasopressor, no oxygen): what is left decides whether a qualifying fever is certain.
_LOWEST_RAISING_FINDINGS: dict[str, Any] = {
    "died_due_to_crs": False,
    "hypotension": "none",
    "vasopressors": [],
    "oxygen_device": "none",
    "oxygen_flow_l_min": None,
}


def crs_certainly_present(values: Mapping[str, Any]) -> bool:
    """For a ``cannot_grade`` day: is CRS present (grade >= 1) whatever the unknowns are?

    Grades the day once more with every finding that can only raise the grade at its lowest
    and no waiver: an ``ok`` grade >= 1 then means a certain qualifying fever (as the batch
    twin does, ADR 0182).
    """
    lowest = {**values, **_LOWEST_RAISING_FINDINGS}
    result = grade_crs(crs_observation(lowest, WaiverInputs(False, False)))
    return result.status == Status.OK and result.grade is not None and result.grade >= 1


def day_grade(
    day: int, status: str | None, grade: int | None, values: Mapping[str, Any]
) -> DayGrade:
    """A stored day as history for the waiver (``values``: the day's CRS observations)."""
    certain = status == Status.CANNOT_GRADE and crs_certainly_present(values)
    return DayGrade(day, status, grade, certain)


# --- grading a day -----------------------------------------------------------------------------


def age_for_icans(
    age_at_infusion: int | None, year_of_birth: int | None, infusion_year: int
) -> float | None:
    """The age the ICANS rule checks the tool against (ICE from 12, CAPD below; b.5).

    The age at infusion when recorded. From a year of birth alone the age is known only to
    within a year: ``None`` (unknown) when that year straddles 12, else a value on the right
    side of 12 (ADR 0208).
    """
    if age_at_infusion is not None:
        return float(age_at_infusion)
    if year_of_birth is None:
        return None
    oldest = infusion_year - year_of_birth
    if oldest == ICE_MIN_AGE_YEARS:
        return None
    return float(max(oldest - 1, 0))


def _appendix_mapping(values: Mapping[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    return {APPENDIX_NAMES.get(field, field): values.get(field) for field in fields}


def crs_observation(values: Mapping[str, Any], waiver: WaiverInputs) -> CRSObservation:
    """The CRS input of a day: the stored observations plus the derived waiver inputs."""
    mapping = _appendix_mapping(values, CRS_FIELDS)
    mapping["crs_previously_diagnosed"] = waiver.crs_previously_diagnosed
    mapping["antipyretic_or_anticytokine_given"] = waiver.antipyretic_or_anticytokine_given
    return observation_from_mapping(CRSObservation, mapping)


def icans_observation(values: Mapping[str, Any], age_years: float | None) -> ICANSObservation:
    """The ICANS input of a day, with the patient's age."""
    mapping = _appendix_mapping(values, ICANS_FIELDS)
    mapping["age_years"] = age_years
    return observation_from_mapping(ICANSObservation, mapping)


def _result_fields(prefix: str, result: RuleResult) -> dict[str, Any]:
    return {
        f"{prefix}_status": result.status.value,
        f"{prefix}_reasons": list(result.reasons),
        f"{prefix}_missing": list(result.missing),
        f"{prefix}_criteria": result.criteria.label,
    }


@dataclass(frozen=True, slots=True)
class GradedAssessment:
    """The CRS and ICANS results of one day and the waiver inputs they used."""

    crs: CRSResult
    icans: ICANSResult
    waiver: WaiverInputs

    def fields(self) -> dict[str, Any]:
        """The computed DailyAssessment fields to store."""
        return {
            "crs_previously_diagnosed": self.waiver.crs_previously_diagnosed,
            "antipyretic_or_anticytokine_given": self.waiver.antipyretic_or_anticytokine_given,
            **_result_fields("crs", self.crs),
            "crs_grade": self.crs.grade,
            **_result_fields("icans", self.icans),
            "icans_grade": self.icans.grade,
            "icans_ice_score": self.icans.ice_score,
            "icans_capd_score": self.icans.capd_score,
        }

    def problems(self) -> dict[str, list[str]]:
        """Invalid inputs named by model field (``age_years`` under ``__all__``)."""
        found: dict[str, list[str]] = {}
        for result in (self.crs, self.icans):
            for problem in result.problems:
                field = MODEL_FIELDS.get(problem.field, problem.field)
                key = field if field in OBSERVATION_FIELDS else "__all__"
                found.setdefault(key, []).append(str(problem))
        return found


def grade_assessment(
    values: Mapping[str, Any], *, age_years: float | None, waiver: WaiverInputs
) -> GradedAssessment:
    """Grade one day's observations with ASTCT 2019 CRS and ICANS (pure: no database)."""
    return GradedAssessment(
        crs=grade_crs(crs_observation(values, waiver)),
        icans=grade_icans(icans_observation(values, age_years)),
        waiver=waiver,
    )


AGREEMENT_WORDS = ("agree", "disagree", "not_recorded", "not_determinable")


def agreement(status: str | None, computed: int | None, recorded: int | None) -> str:
    """How a clinician's recorded grade compares with the computed one (timeline's words)."""
    if recorded is None:
        return "not_recorded"
    if status != Status.OK or computed is None:
        return "not_determinable"
    return "agree" if computed == recorded else "disagree"


# --- the infusion's labelled-dose check (reference section k) ---------------------------------

EU_COUNTRIES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "HR",
        "CY",
        "CZ",
        "DK",
        "EE",
        "FI",
        "FR",
        "DE",
        "GR",
        "HU",
        "IE",
        "IT",
        "LV",
        "LT",
        "LU",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SK",
        "SI",
        "ES",
        "SE",
    ]
)
REASON_DISEASE_UNKNOWN = "dose.disease_unknown"
REASON_REGION_UNKNOWN = "dose.region_unknown"


def label_region(country: str) -> str | None:
    """The regulatory region whose label applies at a center in ``country`` (ISO code)."""
    if country in EU_COUNTRIES:
        return products.Region.EU.value
    if country in {region.value for region in products.Region}:
        return country
    return None


def _dose_fields(result: RuleResult, within: bool | None) -> dict[str, Any]:
    return {
        "dose_check_status": result.status.value,
        "dose_within_label": within,
        "dose_check_reasons": list(result.reasons),
        "dose_check_criteria": result.criteria.label,
    }


def check_infusion_dose(
    *,
    product_code: str,
    disease: str | None,
    country: str,
    weight_kg: float | None,
    total_cells: float | None,
    cells_per_kg: float | None,
    infused_on: date | None,
) -> dict[str, Any]:
    """The ``dose_check_*`` fields of an infusion: a warning to store, never a refusal."""
    region = label_region(country)
    known_disease = disease if disease in {d.value for d in products.Disease} else None
    if region is None or known_disease is None:
        reason = REASON_REGION_UNKNOWN if region is None else REASON_DISEASE_UNKNOWN
        unknown = RuleResult(
            status=Status.CANNOT_COMPUTE, criteria=products.CRITERIA, reasons=(reason,)
        )
        return _dose_fields(unknown, None)
    result = products.check_cell_dose(
        products.CellDose(
            product=product_code,
            disease=known_disease,
            region=region,
            total_cells=total_cells,
            cells_per_kg=cells_per_kg,
            weight_kg=weight_kg,
            infusion_date=infused_on,
        )
    )
    return _dose_fields(result, result.within_label)


# --- body surface area and follow-up ------------------------------------------------------------


def patient_bsa(weight_kg: float | None, height_cm: float | None) -> BsaResult:
    """Mosteller body surface area (``cannot_compute`` when weight or height is unknown)."""
    return body_surface_area(BodyMeasurements(weight_kg=weight_kg, height_cm=height_cm))


def follow_up(
    infusion_date: date, today: date, done: Iterable[str], ended_on: date | None
) -> tuple[followup.VisitState, ...]:
    """Every CIBMTR follow-up visit of an infusion with its status on ``today``."""
    return followup.follow_up_status(infusion_date, today, frozenset(done), ended_on)


# --- baseline risk scores before lymphodepletion (reference sections f and g) -----------------

# Model lab field -> the Appendix A name the score rules read.
BASELINE_LABS: dict[str, str] = {
    "platelets_per_ul": "platelets_per_uL",
    "anc_per_ul": "anc_per_uL",
    "hemoglobin_g_dl": "hemoglobin_g_dL",
    "crp_mg_dl": "crp_mg_dL",
    "ferritin_ng_ml": "ferritin_ng_mL",
    "ldh_u_l": "ldh_U_L",
    "creatinine_mg_dl": "creatinine_mg_dL",
}


@dataclass(frozen=True, slots=True)
class BaselineScores:
    """CAR-HEMATOTOX, EASIX and m-EASIX from the labs before lymphodepletion.

    ``lab_days`` says which day each lab value came from (absent: no value before the
    cut-off).
    """

    lab_days: Mapping[str, int]
    car_hematotox: CARHematotoxResult
    easix: EASIXResult
    m_easix: MEASIXResult


def baseline_scores(
    days: Iterable[Mapping[str, Any]], lymphodepletion_first_day: int | None
) -> BaselineScores:
    """The baseline scores of one infusion from its daily rows (``day`` plus lab fields).

    Each lab is its latest known value on a day before the infusion and, when lymphodepletion
    is recorded, on or before its first day: CAR-HEMATOTOX was derived on labs taken before
    lymphodepletion (Rejeski 2021, about day -5) and EASIX's cut-off before lymphodepletion
    (Korell 2022). A lab without such a value is unknown, and the score says what is missing.
    """
    cutoff = -1 if lymphodepletion_first_day is None else min(lymphodepletion_first_day, -1)
    latest: dict[str, tuple[int, float]] = {}
    for row in days:
        day = row["day"]
        if day > cutoff:
            continue
        for field in BASELINE_LABS:
            value = row.get(field)
            if value is not None and (field not in latest or day > latest[field][0]):
                latest[field] = (day, value)
    labs = {BASELINE_LABS[field]: value for field, (_day, value) in latest.items()}
    return BaselineScores(
        lab_days={field: day for field, (day, _value) in latest.items()},
        car_hematotox=score_car_hematotox(observation_from_mapping(CARHematotoxObservation, labs)),
        easix=compute_easix(observation_from_mapping(EASIXObservation, labs)),
        m_easix=compute_m_easix(observation_from_mapping(MEASIXObservation, labs)),
    )
