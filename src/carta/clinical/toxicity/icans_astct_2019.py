"""ASTCT 2019 consensus grading of ICANS (adults and children), one assessment at a time.

Reference section b (Lee DW et al., Biol Blood Marrow Transplant 2019;25(4):625-638), with the
global conventions of section 0 (status words 0.2, the determinacy rule 0.3, attribution 0.5)
and the field names of Appendix A.

The grade is the most severe of five *domains* (b.3): encephalopathy (the ICE score of b.1/b.4
from age 12, the CAPD of b.5 below it), depressed level of consciousness, seizure, motor
findings and raised intracranial pressure / cerebral edema (b.2); death due to ICANS is 5.
Each domain has a lowest and a highest possible contribution over the unknown inputs; the
grade, a maximum, is monotone in every domain, so it is determined exactly when the maximum of
the lows equals the maximum of the highs (section 0.3, b.6); otherwise ``cannot_grade``.

The vectorised twin is :mod:`carta.analytics.rules.icans`. Reason codes, the ``missing`` order
and the [S] choices are documented in ``docs/criteria/icans.md`` and ADRs 0121-0127.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from carta.clinical import units
from carta.clinical.citations import ASTCT_ICANS
from carta.clinical.errors import InvalidObservation, invalid_results_problems
from carta.clinical.results import Criteria, RuleResult, Status, invalid_reason
from carta.clinical.scores import capd, ice
from carta.clinical.scores.capd import CAPDItems
from carta.clinical.scores.ice import ICEItems
from carta.clinical.vocabulary import (
    CONSCIOUSNESS,
    ICANS_TOOLS,
    ICP_EDEMA,
    MOTOR,
    NOT_PERFORMABLE_REASONS,
    SEIZURE,
)

CRITERIA: Criteria = ASTCT_ICANS

# --- thresholds ------------------------------------------------------------------------------
# b.5 / b.7: ICE is used from age 12 years (Lee 2019; the NCIt "12 and under" is not followed);
# CAPD below 12, and at any age with baseline developmental delay.
ICE_MIN_AGE_YEARS = 12.0
# b.2 ICE domain: 10 -> 0, 7-9 -> 1, 3-6 -> 2, 0-2 -> 3 (lower bounds of the bands 1 and 2).
ICE_BAND_1_MIN = 7
ICE_BAND_2_MIN = 3
# b.5 CAPD domain: 0 -> 0 [S], 1-8 -> 1, >= 9 -> 3 (delirium screen positive, Traube 2014).
CAPD_POSITIVE_MIN = 9

# --- domain contributions (b.2, b.4, b.5) ----------------------------------------------------
NONE = 0
GRADE_1 = 1
GRADE_2 = 2
GRADE_3 = 3
GRADE_4 = 4
GRADE_DEATH = 5  # b.3
TOP_DOMAIN = GRADE_4  # the highest contribution of any domain (an unknown domain spans 0-4)

TOOL_ICE, TOOL_CAPD = ICANS_TOOLS
UNAROUSABLE, OTHER_CAUSE = NOT_PERFORMABLE_REASONS

# b.2 row "depressed level of consciousness"; "alert" is the normal state [S].
CONSCIOUSNESS_DOMAIN: dict[str, int] = dict(
    zip(CONSCIOUSNESS, range(len(CONSCIOUSNESS)), strict=True)
)
# b.2 row "seizure": prolonged (> 5 min) or repetitive without return to baseline -> 4. A
# quickly resolving clinical seizure, or a non-convulsive one responding to treatment, is 3:
# the consensus table (Lee 2019 table 5; PMC7990806 table 2, cited by b) and its own example in
# b.3 (ICE 3 + generalized seizure = grade 3), not the "2" column of the reference's b.2 table,
# which contradicts both (ADR 0121).
SEIZURE_DOMAIN: dict[str, int] = dict(zip(SEIZURE, (NONE, GRADE_3, GRADE_4), strict=True))
# b.2 row "motor findings": tremor and myoclonus do not count (CTCAE grades them).
MOTOR_DOMAIN: dict[str, int] = dict(zip(MOTOR, (NONE, NONE, GRADE_4), strict=True))
# b.2 row "raised ICP / cerebral edema": intracranial hemorrhage alone is not ICANS.
EDEMA_DOMAIN: dict[str, int] = dict(zip(ICP_EDEMA, (NONE, GRADE_3, GRADE_4, NONE), strict=True))

# --- reason codes, in the fixed order they appear in ``reasons`` -----------------------------
REASON_DIED = "icans.died"
ICE_REASONS: dict[int, str] = {g: f"icans.ice.{g}" for g in (GRADE_1, GRADE_2, GRADE_3, GRADE_4)}
CAPD_REASONS: dict[int, str] = {g: f"icans.capd.{g}" for g in (GRADE_1, GRADE_3, GRADE_4)}
CONSCIOUSNESS_REASONS: dict[str, str] = dict(
    zip(
        CONSCIOUSNESS[1:],
        (
            "icans.consciousness.spontaneous",
            "icans.consciousness.voice",
            "icans.consciousness.tactile",
            "icans.consciousness.unarousable",
        ),
        strict=True,
    )
)
REASON_CONSCIOUSNESS_OTHER_CAUSE = "icans.consciousness.other_cause"
SEIZURE_REASONS: dict[str, str] = dict(
    zip(SEIZURE[1:], ("icans.seizure.rapidly_resolving", "icans.seizure.prolonged"), strict=True)
)
MOTOR_REASONS: dict[str, str] = dict(
    zip(
        MOTOR[1:],
        ("icans.motor.tremor_or_myoclonus_not_counted", "icans.motor.deep_focal_weakness"),
        strict=True,
    )
)
EDEMA_REASONS: dict[str, str] = dict(
    zip(
        ICP_EDEMA[1:],
        ("icans.edema.focal", "icans.edema.diffuse", "icans.edema.hemorrhage_not_counted"),
        strict=True,
    )
)
REASON_ORDER: tuple[str, ...] = (
    REASON_DIED,
    *ICE_REASONS.values(),
    *CAPD_REASONS.values(),
    *CONSCIOUSNESS_REASONS.values(),
    REASON_CONSCIOUSNESS_OTHER_CAUSE,
    *SEIZURE_REASONS.values(),
    *MOTOR_REASONS.values(),
    *EDEMA_REASONS.values(),
)

# Input fields in Appendix A order: the order of ``missing`` and of ``invalid:`` reasons.
FIELD_ORDER: tuple[str, ...] = (
    "age_years",
    "developmental_delay",
    "tool",
    "ice_score",
    *(ice.item_field(item) for item in ice.ITEM_MAX),
    "ice_not_performable_reason",
    "capd_score",
    *(capd.item_field(item) for item in capd.ITEMS),
    "capd_not_performable_reason",
    "consciousness",
    "consciousness_attributable_to_other_cause",
    "seizure",
    "motor",
    "icp_edema",
    "died_due_to_icans",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ICANSObservation:
    """One ICANS assessment (Appendix A names; ``None`` = unknown, section 0.3)."""

    age_years: float | None = None
    developmental_delay: bool | None = None
    tool: str | None = None
    ice_score: int | None = None
    ice_items: ICEItems | None = None
    ice_not_performable_reason: str | None = None
    capd_score: int | None = None
    capd_items: CAPDItems | None = None
    capd_not_performable_reason: str | None = None
    consciousness: str | None = None
    consciousness_attributable_to_other_cause: bool | None = None
    seizure: str | None = None
    motor: str | None = None
    icp_edema: str | None = None
    died_due_to_icans: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ICANSResult(RuleResult):
    """ASTCT ICANS grade 0-5 and the ICE or CAPD total it used.

    ``grade`` is ``None`` unless ``status`` is ``ok``. ``ice_score`` / ``capd_score`` are the
    exact totals (given, or summed from complete items) whenever the input is valid, also when
    the grade is ``cannot_grade`` (ADR 0126).
    """

    grade: int | None = None
    ice_score: int | None = None
    capd_score: int | None = None


@dataclass(frozen=True, slots=True)
class Domain:
    """The lowest and highest contribution of one domain over the unknown inputs.

    ``reason`` is the domain's code when it is determined (``low == high``) and has one;
    ``unknown`` the null input fields of the domain, in Appendix A order.
    """

    low: int
    high: int
    reason: str | None = None
    unknown: tuple[str, ...] = ()


# --- validation ------------------------------------------------------------------------------

Checker = Callable[[ICANSObservation], list[InvalidObservation]]


def _flag(field: str) -> Checker:
    """A checker for a yes/no field: ``True``, ``False`` or ``None``."""

    def check(observation: ICANSObservation) -> list[InvalidObservation]:
        value = getattr(observation, field)
        if value is None or isinstance(value, bool):
            return []
        return [InvalidObservation(field, value, "true, false or null")]

    return check


def _word(field: str, vocabulary: tuple[str, ...]) -> Checker:
    """A checker for an enumerated field of Appendix A."""

    def check(observation: ICANSObservation) -> list[InvalidObservation]:
        value = getattr(observation, field)
        if value is None or (isinstance(value, str) and value in vocabulary):
            return []
        return [InvalidObservation(field, value, f"one of {', '.join(vocabulary)} or null")]

    return check


def _age(observation: ICANSObservation) -> list[InvalidObservation]:
    if observation.age_years is None:
        return []
    try:
        units.check_range("age_years", observation.age_years, units.AGE_YEARS_RANGE)
    except InvalidObservation as error:
        return [error]
    return []


def _ice_score(observation: ICANSObservation) -> list[InvalidObservation]:
    problem = ice.check_ice_score(observation.ice_score)
    return [] if problem is None else [problem]


def _capd_score(observation: ICANSObservation) -> list[InvalidObservation]:
    problem = capd.check_capd_score(observation.capd_score)
    return [] if problem is None else [problem]


def _ice_items(observation: ICANSObservation) -> list[InvalidObservation]:
    items = observation.ice_items
    if items is None:
        return []
    if not isinstance(items, ICEItems):
        return [InvalidObservation("ice_items", items, "the eight ICE items (b.1)")]
    return ice.ice_item_problems(items)


def _capd_items(observation: ICANSObservation) -> list[InvalidObservation]:
    items = observation.capd_items
    if items is None:
        return []
    if not isinstance(items, CAPDItems):
        return [InvalidObservation("capd_items", items, "the eight CAPD items (b.5)")]
    return capd.capd_item_problems(items)


# One checker per field, in Appendix A order (the order of the ``invalid:`` reasons).
_CHECKERS: tuple[Checker, ...] = (
    _age,
    _flag("developmental_delay"),
    _word("tool", ICANS_TOOLS),
    _ice_score,
    _ice_items,
    _word("ice_not_performable_reason", NOT_PERFORMABLE_REASONS),
    _capd_score,
    _capd_items,
    _word("capd_not_performable_reason", NOT_PERFORMABLE_REASONS),
    _word("consciousness", CONSCIOUSNESS),
    _flag("consciousness_attributable_to_other_cause"),
    _word("seizure", SEIZURE),
    _word("motor", MOTOR),
    _word("icp_edema", ICP_EDEMA),
    _flag("died_due_to_icans"),
)


def ice_performed(observation: ICANSObservation) -> bool:
    """True when an ICE total or at least one ICE item is known."""
    items = observation.ice_items
    return observation.ice_score is not None or (items is not None and ice.known_items(items))


def capd_performed(observation: ICANSObservation) -> bool:
    """True when a CAPD total or at least one CAPD item is known."""
    items = observation.capd_items
    return observation.capd_score is not None or (items is not None and capd.known_items(items))


def ice_data(observation: ICANSObservation) -> bool:
    """True when the record holds any ICE input (a total, an item or a not-performable reason)."""
    return ice_performed(observation) or observation.ice_not_performable_reason is not None


def capd_data(observation: ICANSObservation) -> bool:
    """True when the record holds any CAPD input."""
    return capd_performed(observation) or observation.capd_not_performable_reason is not None


def _stated_tool_problem(observation: ICANSObservation) -> InvalidObservation | None:
    """ADR 0123: the data of one tool contradict a ``tool`` naming the other, or both are given."""
    tool, has_ice, has_capd = observation.tool, ice_data(observation), capd_data(observation)
    if tool == TOOL_ICE and has_capd:
        return InvalidObservation("tool", tool, "CAPD, since CAPD data are given")
    if tool == TOOL_CAPD and has_ice:
        return InvalidObservation("tool", tool, "ICE, since ICE data are given")
    if tool is None and has_ice and has_capd:
        return InvalidObservation("tool", tool, "ICE or CAPD, since data of both are given")
    return None


def _age_tool_problem(observation: ICANSObservation) -> InvalidObservation | None:
    """ADR 0124: ICE below age 12 (b.5 [S]); CAPD from 12 without developmental delay."""
    age = observation.age_years
    tool = observation.tool or (
        TOOL_ICE if ice_data(observation) else TOOL_CAPD if capd_data(observation) else None
    )
    if age is None or tool is None:
        return None
    if tool == TOOL_ICE and age < ICE_MIN_AGE_YEARS:
        return InvalidObservation("tool", observation.tool, "CAPD below age 12 (b.5)")
    if tool == TOOL_CAPD and age >= ICE_MIN_AGE_YEARS and observation.developmental_delay is False:
        return InvalidObservation(
            "tool", observation.tool, "ICE from age 12 without developmental delay (b.5)"
        )
    return None


def _total_problem(
    field: str, total: int | None, bounds: tuple[int, int] | None
) -> InvalidObservation | None:
    """ADR 0122: a total given with items must lie in the items' range (equal them if complete)."""
    if total is None or bounds is None or bounds[0] <= total <= bounds[1]:
        return None
    low, high = bounds
    expected = f"{low}, the total of its items" if low == high else f"from {low} to {high}"
    return InvalidObservation(field, total, f"{expected} (ADR 0122)")


def _ice_bounds(observation: ICANSObservation) -> tuple[int, int] | None:
    items = observation.ice_items
    return ice.ice_score_range(items) if items is not None and ice.known_items(items) else None


def _capd_bounds(observation: ICANSObservation) -> tuple[int, int] | None:
    items = observation.capd_items
    return capd.capd_score_range(items) if items is not None and capd.known_items(items) else None


def _reason_problem(field: str, reason: str | None, performed: bool) -> InvalidObservation | None:
    """ADR 0122: a not-performable reason contradicts a total or items of the same tool."""
    if reason is None or not performed:
        return None
    return InvalidObservation(field, reason, "null when the assessment was performed")


def _consistency(observation: ICANSObservation) -> list[InvalidObservation]:
    """Problems across fields (only looked for once every field is valid on its own)."""
    tool_problem = _stated_tool_problem(observation) or _age_tool_problem(observation)
    found = (
        tool_problem,
        _total_problem("ice_score", observation.ice_score, _ice_bounds(observation)),
        _reason_problem(
            "ice_not_performable_reason",
            observation.ice_not_performable_reason,
            ice_performed(observation),
        ),
        _total_problem("capd_score", observation.capd_score, _capd_bounds(observation)),
        _reason_problem(
            "capd_not_performable_reason",
            observation.capd_not_performable_reason,
            capd_performed(observation),
        ),
    )
    return [problem for problem in found if problem is not None]


def check(observation: ICANSObservation) -> list[InvalidObservation]:
    """Every problem of ``observation``: each field on its own, else across fields."""
    errors = [error for checker in _CHECKERS for error in checker(observation)]
    return errors or _consistency(observation)


# --- domains ---------------------------------------------------------------------------------


def assessment_tool(observation: ICANSObservation) -> str:
    """The encephalopathy tool of a valid observation (ADR 0123).

    ``tool`` if stated; else the tool whose data are present; else (no data at all) CAPD for a
    child under 12 or a patient with developmental delay, ICE otherwise. Without data the
    choice only decides which total ``missing`` names.
    """
    if observation.tool is not None:
        return observation.tool
    if ice_data(observation):
        return TOOL_ICE
    if capd_data(observation):
        return TOOL_CAPD
    age = observation.age_years
    child = age is not None and age < ICE_MIN_AGE_YEARS
    return TOOL_CAPD if child or observation.developmental_delay is True else TOOL_ICE


def ice_domain(score: int) -> int:
    """b.2: ICE 10 -> 0, 7-9 -> 1, 3-6 -> 2, 0-2 -> 3 (b.4: ICE 0 while awake -> 3)."""
    if score == ice.ICE_MAX_SCORE:
        return NONE
    if score >= ICE_BAND_1_MIN:
        return GRADE_1
    if score >= ICE_BAND_2_MIN:
        return GRADE_2
    return GRADE_3


def capd_domain(score: int) -> int:
    """b.5: CAPD 0 -> 0 [S], 1-8 -> 1, >= 9 -> 3."""
    if score == capd.CAPD_MIN_SCORE:
        return NONE
    return GRADE_1 if score < CAPD_POSITIVE_MIN else GRADE_3


def _assessment_domain(
    reason: str | None,
    total: int | None,
    items_range: tuple[int, int] | None,
    unknown: tuple[tuple[str, ...], tuple[str, ...]],
    band: Callable[[int], int],
    codes: dict[int, str],
) -> Domain:
    """The encephalopathy domain from one tool (b.4, b.5): its total, items or reason.

    ``unknown`` = (the field naming an unknown total, the unknown items). ``band`` is
    decreasing (ICE) or increasing (CAPD) in the total, so both ends of the items' range are
    tried.
    """
    whole, items_unknown = unknown
    if reason == UNAROUSABLE:
        return Domain(GRADE_4, GRADE_4, codes[GRADE_4])
    if total is not None:
        items_range = (total, total)
    if reason == OTHER_CAUSE or items_range is None:
        return Domain(NONE, TOP_DOMAIN, unknown=whole)
    ends = (band(items_range[0]), band(items_range[1]))
    low, high = min(ends), max(ends)
    if low != high:
        return Domain(low, high, unknown=items_unknown)
    return Domain(low, high, codes.get(low))


def _encephalopathy(observation: ICANSObservation, tool: str) -> Domain:
    if tool == TOOL_ICE:
        items = observation.ice_items
        return _assessment_domain(
            observation.ice_not_performable_reason,
            observation.ice_score,
            _ice_bounds(observation),
            (("ice_score",), ice.unknown_items(items) if items is not None else ()),
            ice_domain,
            ICE_REASONS,
        )
    capd_items = observation.capd_items
    return _assessment_domain(
        observation.capd_not_performable_reason,
        observation.capd_score,
        _capd_bounds(observation),
        (("capd_score",), capd.unknown_items(capd_items) if capd_items is not None else ()),
        capd_domain,
        CAPD_REASONS,
    )


def _consciousness(observation: ICANSObservation) -> Domain:
    """b.2 with section 0.5: attributed to another cause -> 0; unknown attribution may be."""
    level = observation.consciousness
    other_cause = observation.consciousness_attributable_to_other_cause
    value = None if level is None else CONSCIOUSNESS_DOMAIN[level]
    if other_cause is True:
        reason = REASON_CONSCIOUSNESS_OTHER_CAUSE if value else None
        return Domain(NONE, NONE, reason)
    flag_unknown = ("consciousness_attributable_to_other_cause",) if other_cause is None else ()
    if level is None or value is None:
        return Domain(NONE, TOP_DOMAIN, unknown=("consciousness", *flag_unknown))
    if value and flag_unknown:
        return Domain(NONE, value, unknown=flag_unknown)
    return Domain(value, value, CONSCIOUSNESS_REASONS.get(level))


def _plain(field: str, value: str | None, table: dict[str, int], codes: dict[str, str]) -> Domain:
    """A domain read from one word (seizure, motor, edema: b.2)."""
    if value is None:
        return Domain(NONE, max(table.values()), unknown=(field,))
    return Domain(table[value], table[value], codes.get(value))


def domains(observation: ICANSObservation) -> tuple[Domain, ...]:
    """The five domains of a valid observation, in Appendix A order of their inputs."""
    return (
        _encephalopathy(observation, assessment_tool(observation)),
        _consciousness(observation),
        _plain("seizure", observation.seizure, SEIZURE_DOMAIN, SEIZURE_REASONS),
        _plain("motor", observation.motor, MOTOR_DOMAIN, MOTOR_REASONS),
        _plain("icp_edema", observation.icp_edema, EDEMA_DOMAIN, EDEMA_REASONS),
    )


def reported_scores(observation: ICANSObservation) -> tuple[int | None, int | None]:
    """The exact ICE and CAPD totals of a valid observation (given, or from complete items)."""
    tool = assessment_tool(observation)
    ice_bounds, capd_bounds = _ice_bounds(observation), _capd_bounds(observation)
    ice_total = observation.ice_score
    if ice_total is None and ice_bounds is not None and ice_bounds[0] == ice_bounds[1]:
        ice_total = ice_bounds[0]
    capd_total = observation.capd_score
    if capd_total is None and capd_bounds is not None and capd_bounds[0] == capd_bounds[1]:
        capd_total = capd_bounds[0]
    if tool == TOOL_ICE:
        return ice_total, None
    return None, capd_total


# --- grading ---------------------------------------------------------------------------------


def _invalid(errors: list[InvalidObservation]) -> ICANSResult:
    return ICANSResult(
        status=Status.INVALID_INPUT,
        criteria=CRITERIA,
        reasons=tuple(invalid_reason(error.problem.field) for error in errors),
        problems=invalid_results_problems(errors),
    )


def grade_icans(observation: ICANSObservation) -> ICANSResult:
    """ASTCT 2019 ICANS grade of one assessment (b.1-b.6 with section 0.3 determinacy).

    ``died_due_to_icans`` true gives 5 whatever else is recorded (b.3); unknown counts as not
    recorded (ADR 0125). ``missing`` lists the unknown inputs of the domains that could still
    raise the grade (ADR 0127). Never raises: a value outside its domain gives
    ``invalid_input`` naming the field.
    """
    errors = check(observation)
    if errors:
        return _invalid(errors)
    ice_total, capd_total = reported_scores(observation)
    if observation.died_due_to_icans:
        return ICANSResult(
            status=Status.OK,
            criteria=CRITERIA,
            grade=GRADE_DEATH,
            ice_score=ice_total,
            capd_score=capd_total,
            reasons=(REASON_DIED,),
        )
    found = domains(observation)
    low = max(domain.low for domain in found)
    high = max(domain.high for domain in found)
    if low != high:
        missing = tuple(field for domain in found if domain.high > low for field in domain.unknown)
        return ICANSResult(
            status=Status.CANNOT_GRADE,
            criteria=CRITERIA,
            ice_score=ice_total,
            capd_score=capd_total,
            missing=missing,
        )
    return ICANSResult(
        status=Status.OK,
        criteria=CRITERIA,
        grade=low,
        ice_score=ice_total,
        capd_score=capd_total,
        reasons=tuple(domain.reason for domain in found if domain.reason is not None),
    )
