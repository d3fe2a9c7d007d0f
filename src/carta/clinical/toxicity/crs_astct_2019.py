"""ASTCT 2019 consensus grading of cytokine release syndrome (CRS), one observation at a time.

Reference section a (Lee DW et al., Biol Blood Marrow Transplant 2019;25(4):625-638), with the
global conventions of section 0 (units, status words, the determinacy rule 0.3, rounding 0.4,
attribution 0.5) and the field names of Appendix A.

The grade of a.8 is a function of four *components*: fever ``F`` (0/1), fever waiver ``W``
(0/1), hypotension tier ``H`` (0, 2, 3, 4) and hypoxia tier ``X`` (0, 2, 3, 4)::

    died_due_to_crs -> 5;  F -> max(1, H, X);  W -> max(H, X);  otherwise 0

Every input feeds exactly one component, so an observation with unknown inputs gives each
component a lowest and a highest possible value (a :class:`Component`). The grade is monotone
in each component, hence it is determined exactly when the grade of all the lows equals the
grade of all the highs (section 0.3); otherwise the result is ``cannot_grade``.

The component functions (``fever_component`` ...) and :func:`grade_components` are public: the
vectorised twin, :mod:`carta.analytics.rules.crs`, classifies each row's inputs into a few
states per component and tabulates these functions once (ADR 0105). The reason codes, the
``missing`` order and the [S] choices are documented in ``docs/criteria/crs.md`` and ADRs
0101-0105.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from carta.clinical import units
from carta.clinical.citations import ASTCT_CRS
from carta.clinical.errors import InvalidObservation, invalid_results_problems, run_checks
from carta.clinical.results import Criteria, RuleResult, Status, invalid_reason
from carta.clinical.vocabulary import HYPOTENSION, OXYGEN_DEVICES, VASOPRESSORS

CRITERIA: Criteria = ASTCT_CRS

# --- thresholds (reference section a) ------------------------------------------------------
# a.1: fever is a temperature >= 38.0 degC after rounding half-up to 0.1 degC (section 0.4);
# compared in tenths of a degree so that 37.95 (-> 38.0) is fever and 37.94 is not.
FEVER_DECI_CELSIUS = 380
# a.4: nasal cannula at <= 6 L/min is low-flow; > 6 L/min is high-flow (consensus boundary,
# a.9: not CancerCalc's ">= 6" nor cliot's "< 6"). Flow is compared as given (section 0.4).
LOW_FLOW_MAX_L_MIN = 6.0

# --- tier values (a.3, a.4, a.5, a.7) ------------------------------------------------------
GRADE_NONE = 0
GRADE_FEVER_ONLY = 1  # a.5: fever alone is grade 1
TIER_NONE = 0
TIER_LOW = 2  # a.3 fluids only / a.4 low-flow O2
TIER_HIGH = 3  # a.3 one vasopressor (+/- vasopressin) / a.4 high-flow or mask
TIER_TOP = 4  # a.3 >= 2 distinct non-vasopressin vasopressors / a.4 positive pressure
GRADE_DEATH = 5  # a.7
MULTIPLE_VASOPRESSORS = 2  # a.3 counting rule: n >= 2 distinct non-vasopressin agents

# --- vocabulary (Appendix A) ---------------------------------------------------------------
HYPOTENSION_NONE = "none"
HYPOTENSION_PRESENT = "present"
VASOPRESSIN = "vasopressin"
OXYGEN_NONE = "none"
NASAL_CANNULA = "nasal_cannula"
# a.4 device rules [S]: the tier of every device except the nasal cannula, whose tier depends
# on the flow (and is unknown, 2 or 3, when the flow is missing).
DEVICE_TIER: dict[str, int] = {
    OXYGEN_NONE: TIER_NONE,
    "blow_by": TIER_LOW,
    "high_flow_nasal_cannula": TIER_HIGH,
    "simple_facemask": TIER_HIGH,
    "non_rebreather": TIER_HIGH,
    "venturi_mask": TIER_HIGH,
    "cpap": TIER_TOP,
    "bipap": TIER_TOP,
    "mechanical_ventilation": TIER_TOP,
}

# --- reason codes, in the fixed order they appear in ``reasons`` ---------------------------
REASON_DIED = "crs.died"
REASON_FEVER = "crs.fever"
REASON_FEVER_OTHER_CAUSE = "crs.fever.other_cause"
REASON_FEVER_WAIVER = "crs.fever_waiver"
REASON_NO_FEVER = "crs.no_fever"
HYPOTENSION_REASONS: dict[int, str] = {
    TIER_LOW: "crs.hypotension.fluids",
    TIER_HIGH: "crs.hypotension.one_vasopressor",
    TIER_TOP: "crs.hypotension.multiple_vasopressors",
}
REASON_HYPOTENSION_OTHER_CAUSE = "crs.hypotension.other_cause"
HYPOXIA_REASONS: dict[int, str] = {
    TIER_LOW: "crs.hypoxia.low_flow",
    TIER_HIGH: "crs.hypoxia.high_flow",
    TIER_TOP: "crs.hypoxia.positive_pressure",
}
REASON_HYPOXIA_OTHER_CAUSE = "crs.hypoxia.other_cause"
REASON_ORDER: tuple[str, ...] = (
    REASON_DIED,
    REASON_FEVER,
    REASON_FEVER_OTHER_CAUSE,
    REASON_FEVER_WAIVER,
    REASON_NO_FEVER,
    *HYPOTENSION_REASONS.values(),
    REASON_HYPOTENSION_OTHER_CAUSE,
    *HYPOXIA_REASONS.values(),
    REASON_HYPOXIA_OTHER_CAUSE,
)

# Input fields in Appendix A order: the order of ``missing`` and of ``invalid:`` reasons.
# ``missing`` names the canonical ``temperature_c`` for an unknown temperature.
FIELD_ORDER: tuple[str, ...] = (
    "temperature_c",
    "temperature_f",
    "fever_attributable_to_other_cause",
    "crs_previously_diagnosed",
    "antipyretic_or_anticytokine_given",
    "hypotension",
    "vasopressors",
    "hypotension_attributable_to_other_cause",
    "oxygen_device",
    "oxygen_flow_l_min",
    "hypoxia_attributable_to_other_cause",
    "died_due_to_crs",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class CRSObservation:
    """One CRS assessment (Appendix A names; ``None`` = unknown, section 0.3).

    ``vasopressors`` is the tuple of agents currently required for blood-pressure support
    (``()`` = none, ``None`` = unknown); repeated agents count once. ``organ_toxicity_ctcae`` is
    accepted and ignored: organ toxicities do not change the ASTCT CRS grade (a.6).
    """

    temperature_c: float | None = None
    temperature_f: float | None = None
    fever_attributable_to_other_cause: bool | None = None
    crs_previously_diagnosed: bool | None = None
    antipyretic_or_anticytokine_given: bool | None = None
    hypotension: str | None = None
    vasopressors: tuple[str, ...] | None = None
    hypotension_attributable_to_other_cause: bool | None = None
    oxygen_device: str | None = None
    oxygen_flow_l_min: float | None = None
    hypoxia_attributable_to_other_cause: bool | None = None
    died_due_to_crs: bool | None = None
    organ_toxicity_ctcae: object | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CRSResult(RuleResult):
    """ASTCT CRS grade 0-5; ``None`` unless ``status`` is ``ok``."""

    grade: int | None = None


@dataclass(frozen=True, slots=True)
class _Checked:
    """The observation after validation: words checked, temperature rounded, agents a set."""

    temperature_deci: int | None
    fever_other_cause: bool | None
    previously_diagnosed: bool | None
    treated: bool | None
    hypotension: str | None
    agents: frozenset[str] | None
    hypotension_other_cause: bool | None
    oxygen_device: str | None
    oxygen_flow: float | None
    hypoxia_other_cause: bool | None
    died: bool | None


# --- validation ------------------------------------------------------------------------------


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _temperature_deci(observation: CRSObservation) -> int | None:
    """Temperature in tenths of a degC (section 0.4); degF converted first (section 0.1).

    The plausible range is checked on the degC value, but the error names the field given.
    """
    picked = units.pick_one(
        "temperature_c", observation.temperature_c, "temperature_f", observation.temperature_f
    )
    if picked is None:
        return None
    field, value = picked
    if field == "temperature_c":
        return units.deci_celsius(units.check_range(field, value, units.TEMPERATURE_C_RANGE))
    expected = f"{units.TEMPERATURE_C_RANGE.describe()} after conversion from degF"
    if not _is_number(value):
        raise InvalidObservation(field, value, expected)
    try:
        celsius = units.check_range(
            field, units.fahrenheit_to_celsius(value), units.TEMPERATURE_C_RANGE
        )
    except InvalidObservation:
        raise InvalidObservation(field, value, expected) from None
    return units.deci_celsius(celsius)


def _flag(field: str) -> Callable[[CRSObservation], bool | None]:
    """A checker for a yes/no field: ``True``, ``False`` or ``None``; anything else is invalid."""

    def check(observation: CRSObservation) -> bool | None:
        value = getattr(observation, field)
        if value is None or isinstance(value, bool):
            return value
        raise InvalidObservation(field, value, "true, false or null")

    return check


def _word(field: str, vocabulary: tuple[str, ...]) -> Callable[[CRSObservation], str | None]:
    """A checker for an enumerated field of Appendix A."""

    def check(observation: CRSObservation) -> str | None:
        value = getattr(observation, field)
        if value is None or (isinstance(value, str) and value in vocabulary):
            return value
        raise InvalidObservation(field, value, f"one of {', '.join(vocabulary)} or null")

    return check


def _agents(observation: CRSObservation) -> frozenset[str] | None:
    """The distinct vasopressors (a.3 counting rule step 1); words outside a.3.4 are invalid.

    Vasopressors while ``hypotension`` is ``none`` contradict each other and are refused
    (ADR 0102).
    """
    agents = observation.vasopressors
    if agents is None:
        return None
    expected = f"a list of {', '.join(VASOPRESSORS)}"
    if isinstance(agents, str) or not isinstance(agents, tuple | list):
        raise InvalidObservation("vasopressors", agents, expected)
    if any(not isinstance(agent, str) or agent not in VASOPRESSORS for agent in agents):
        raise InvalidObservation("vasopressors", agents, expected)
    if agents and observation.hypotension == HYPOTENSION_NONE:
        raise InvalidObservation("vasopressors", agents, "no vasopressor when hypotension is none")
    return frozenset(agents)


def _oxygen_flow(observation: CRSObservation) -> float | None:
    flow = observation.oxygen_flow_l_min
    if flow is None:
        return None
    return units.check_range("oxygen_flow_l_min", flow, units.OXYGEN_FLOW_RANGE)


# One checker per field group, in Appendix A order (the order of the ``invalid:`` reasons).
_CHECKERS: tuple[Callable[[CRSObservation], object], ...] = (
    _temperature_deci,
    _flag("fever_attributable_to_other_cause"),
    _flag("crs_previously_diagnosed"),
    _flag("antipyretic_or_anticytokine_given"),
    _word("hypotension", HYPOTENSION),
    _agents,
    _flag("hypotension_attributable_to_other_cause"),
    _word("oxygen_device", OXYGEN_DEVICES),
    _oxygen_flow,
    _flag("hypoxia_attributable_to_other_cause"),
    _flag("died_due_to_crs"),
)


def _check(observation: CRSObservation) -> _Checked | list[InvalidObservation]:
    """The checked observation, or every problem found (one per field, Appendix A order)."""
    values, errors = run_checks(observation, _CHECKERS)
    if errors:
        return errors
    return _Checked(*values)  # type: ignore[arg-type]


# --- components --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Component:
    """One component of a.8 over the unknown inputs (section 0.3).

    ``low``/``high``: the lowest and highest value it can take; ``discounted``: a finding known
    to be present but attributed to another cause (section 0.5), reported by a reason code;
    ``unknown``: the unknown inputs that can still change it (empty when determined).
    """

    low: int
    high: int
    discounted: bool = False
    unknown: tuple[str, ...] = ()

    @property
    def determined(self) -> bool:
        """True when the unknown inputs cannot change the value."""
        return self.low == self.high


def _attributed(
    low: int, high: int, other_cause: bool | None, field: str, unknown: tuple[str, ...]
) -> Component:
    """Section 0.5: a finding attributed to another cause counts 0; unknown attribution may.

    ``unknown`` lists the unknown inputs of the finding itself; ``field`` is the attribution
    flag, listed when it is unknown and could matter.
    """
    if other_cause is True:
        return Component(TIER_NONE, TIER_NONE, discounted=low > TIER_NONE)
    if other_cause is None and high > TIER_NONE:
        return Component(TIER_NONE, high, unknown=(*unknown, field))
    if low == high:
        return Component(low, high)
    return Component(low, high, unknown=unknown)


def fever_component(temperature_deci: int | None, other_cause: bool | None) -> Component:
    """a.1: 1 if the rounded temperature is >= 38.0 degC and not explained by another cause.

    ``temperature_deci`` is the temperature in tenths of a degC (section 0.4), ``None`` if
    unknown.
    """
    if temperature_deci is None:
        return _attributed(
            0, 1, other_cause, "fever_attributable_to_other_cause", ("temperature_c",)
        )
    hot = int(temperature_deci >= FEVER_DECI_CELSIUS)
    return _attributed(hot, hot, other_cause, "fever_attributable_to_other_cause", ())


def waiver_component(previously_diagnosed: bool | None, treated: bool | None) -> Component:
    """a.2: the fever waiver needs both prior CRS and antipyretic/anti-cytokine treatment."""
    flags = {
        "crs_previously_diagnosed": previously_diagnosed,
        "antipyretic_or_anticytokine_given": treated,
    }
    if any(flag is False for flag in flags.values()):
        return Component(0, 0)
    if all(flag is True for flag in flags.values()):
        return Component(1, 1)
    return Component(0, 1, unknown=tuple(name for name, flag in flags.items() if flag is None))


def vasopressor_tier(agents: frozenset[str]) -> int:
    """a.3 counting rule for a non-empty set of distinct agents: 4, or 3 (vasopressin alone too)."""
    others = len(agents - {VASOPRESSIN})
    return TIER_TOP if others >= MULTIPLE_VASOPRESSORS else TIER_HIGH


def hypotension_component(
    hypotension: str | None, agents: frozenset[str] | None, other_cause: bool | None
) -> Component:
    """a.3 hypotension tier from the treatment required; listed vasopressors imply hypotension.

    ``agents`` is the set of distinct vasopressors (``None`` = unknown). ``hypotension`` "none"
    with vasopressors is refused before this point (ADR 0102).
    """
    field = "hypotension_attributable_to_other_cause"
    if hypotension == HYPOTENSION_NONE:
        return Component(TIER_NONE, TIER_NONE)
    if agents:
        tier = vasopressor_tier(agents)
        return _attributed(tier, tier, other_cause, field, ())
    unknown = ("hypotension",) if hypotension is None else ()
    low = TIER_LOW if hypotension == HYPOTENSION_PRESENT else TIER_NONE
    if agents is None:
        return _attributed(low, TIER_TOP, other_cause, field, (*unknown, "vasopressors"))
    return _attributed(low, TIER_LOW, other_cause, field, unknown)


def hypoxia_component(
    device: str | None, flow: float | None, other_cause: bool | None
) -> Component:
    """a.4 hypoxia tier; the nasal cannula is classified by flow (<= 6 L/min low-flow)."""
    field = "hypoxia_attributable_to_other_cause"
    if device is None:
        unknown = ("oxygen_device",) if flow is not None else ("oxygen_device", "oxygen_flow_l_min")
        return _attributed(TIER_NONE, TIER_TOP, other_cause, field, unknown)
    if device != NASAL_CANNULA:
        tier = DEVICE_TIER[device]
        return _attributed(tier, tier, other_cause, field, ())
    if flow is None:
        return _attributed(TIER_LOW, TIER_HIGH, other_cause, field, ("oxygen_flow_l_min",))
    tier = TIER_LOW if flow <= LOW_FLOW_MAX_L_MIN else TIER_HIGH
    return _attributed(tier, tier, other_cause, field, ())


def _grade(fever: int, waiver: int, hypotension: int, hypoxia: int) -> int:
    """a.8 without the death override: monotone non-decreasing in every argument."""
    if fever:
        return max(GRADE_FEVER_ONLY, hypotension, hypoxia)
    if waiver:
        return max(hypotension, hypoxia)
    return GRADE_NONE


# --- reasons -----------------------------------------------------------------------------------


def _entry_reasons(fever: Component, waiver: Component) -> list[str]:
    """Fever codes (a.1, a.2): which entry criterion holds, or why there is none."""
    if fever.low:
        return [REASON_FEVER]
    reasons = [REASON_FEVER_OTHER_CAUSE] if fever.discounted else []
    reasons.append(REASON_FEVER_WAIVER if waiver.low else REASON_NO_FEVER)
    return reasons


def _tier_reasons(part: Component, codes: dict[int, str], discounted: str) -> list[str]:
    """The code of a determined hypotension or hypoxia tier, or of a discounted finding."""
    if not part.determined:
        return []
    if part.low in codes:
        return [codes[part.low]]
    return [discounted] if part.discounted else []


def _reasons(
    fever: Component, waiver: Component, hypotension: Component, hypoxia: Component
) -> tuple[str, ...]:
    """Reason codes of an ``ok`` grade, in :data:`REASON_ORDER` (docs/criteria/crs.md)."""
    reasons = _entry_reasons(fever, waiver)
    if fever.low or waiver.low:
        reasons += _tier_reasons(hypotension, HYPOTENSION_REASONS, REASON_HYPOTENSION_OTHER_CAUSE)
        reasons += _tier_reasons(hypoxia, HYPOXIA_REASONS, REASON_HYPOXIA_OTHER_CAUSE)
    return tuple(reasons)


# --- public ----------------------------------------------------------------------------------


def grade_components(
    died: bool | None,
    fever: Component,
    waiver: Component,
    hypotension: Component,
    hypoxia: Component,
) -> CRSResult:
    """The grade of a.8 from valid inputs reduced to their components (section 0.3).

    ``died`` true gives 5 whatever else is recorded (a.7); unknown counts as not recorded
    (ADR 0101). The grade is monotone in each component, so it is determined exactly when the
    grade of all the lows equals the grade of all the highs. ``missing`` then lists the
    unknown inputs of every undetermined component, in Appendix A order.
    """
    if died:
        return CRSResult(
            status=Status.OK, criteria=CRITERIA, grade=GRADE_DEATH, reasons=(REASON_DIED,)
        )
    parts = (fever, waiver, hypotension, hypoxia)
    low = _grade(*(part.low for part in parts))
    if low != _grade(*(part.high for part in parts)):
        unknown = {field for part in parts for field in part.unknown}
        return CRSResult(
            status=Status.CANNOT_GRADE,
            criteria=CRITERIA,
            missing=tuple(field for field in FIELD_ORDER if field in unknown),
        )
    return CRSResult(status=Status.OK, criteria=CRITERIA, grade=low, reasons=_reasons(*parts))


def _invalid(errors: list[InvalidObservation]) -> CRSResult:
    return CRSResult(
        status=Status.INVALID_INPUT,
        criteria=CRITERIA,
        reasons=tuple(invalid_reason(error.problem.field) for error in errors),
        problems=invalid_results_problems(errors),
    )


def grade_crs(observation: CRSObservation) -> CRSResult:
    """ASTCT 2019 CRS grade of one assessment (reference a.8 with section 0.3 determinacy).

    Never raises: a value outside its domain gives ``invalid_input`` naming every such field.
    """
    checked = _check(observation)
    if isinstance(checked, list):
        return _invalid(checked)
    return grade_components(
        checked.died,
        fever_component(checked.temperature_deci, checked.fever_other_cause),
        waiver_component(checked.previously_diagnosed, checked.treated),
        hypotension_component(checked.hypotension, checked.agents, checked.hypotension_other_cause),
        hypoxia_component(checked.oxygen_device, checked.oxygen_flow, checked.hypoxia_other_cause),
    )
