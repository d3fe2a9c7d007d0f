"""The adapters between registry rows and carta.clinical (pure functions, no database)."""

from __future__ import annotations

import pytest

from carta.clinical import vocabulary
from carta.clinical.results import Status
from carta.clinical.scores import capd, ice
from carta.web.registry import adapters, choices
from carta.web.registry.adapters import DayGrade, WaiverInputs, derive_fever_waiver
from carta.web.registry.models import DailyAssessment

OK_0 = Status.OK.value
UNDETERMINED = Status.CANNOT_GRADE.value


def day(number: int, grade: int | None, status: str = OK_0) -> DayGrade:
    return DayGrade(number, status if grade is not None else UNDETERMINED, grade)


@pytest.mark.parametrize(
    ("history", "therapy", "today", "expected"),
    [
        # nothing before: no waiver
        ([], [], 1, WaiverInputs(False, False)),
        # CRS on day 1, tocilizumab on day 1, assessed day 2: waiver
        ([day(1, 1)], [1], 2, WaiverInputs(True, True)),
        # tocilizumab given today after CRS yesterday counts
        ([day(1, 2)], [2], 2, WaiverInputs(True, True)),
        # prophylaxis on day 0 before any CRS: not counted
        ([day(0, 0), day(1, 1)], [0], 2, WaiverInputs(True, False)),
        # therapy on a day without assessment and no CRS before it: unknown
        ([day(1, 1)], [0], 2, WaiverInputs(True, None)),
        # therapy recorded today counts as given; without CRS before, there is no waiver
        ([], [1], 1, WaiverInputs(False, True)),
        # a cannot_grade day whose fever is certain counts as CRS
        ([DayGrade(1, UNDETERMINED, None, certain=True)], [], 2, WaiverInputs(True, False)),
        # therapy after today does not count
        ([day(1, 1)], [3], 2, WaiverInputs(True, False)),
        # an undetermined earlier day: previously diagnosed unknown
        ([day(1, None)], [], 2, WaiverInputs(None, False)),
        # ... unless another earlier day is certainly CRS
        ([day(1, None), day(2, 1)], [2], 3, WaiverInputs(True, True)),
        # today's own row and later rows are not "earlier"
        ([day(2, 1), day(3, 2)], [], 2, WaiverInputs(False, False)),
    ],
)
def test_derive_fever_waiver(
    history: list[DayGrade], therapy: list[int], today: int, expected: WaiverInputs
) -> None:
    assert derive_fever_waiver(history, therapy, today) == expected


@pytest.mark.parametrize(
    ("age", "year_of_birth", "infusion_year", "expected"),
    [
        (30, None, 2025, 30.0),
        (None, None, 2025, None),
        (None, 2013, 2025, None),  # 11 or 12 at infusion: unknown
        (None, 2012, 2025, 12.0),  # 12 or 13: ICE age either way
        (None, 2014, 2025, 10.0),  # 10 or 11: CAPD age either way
        (None, 1960, 2025, 64.0),
    ],
)
def test_age_for_icans(
    age: int | None, year_of_birth: int | None, infusion_year: int, expected: float | None
) -> None:
    assert adapters.age_for_icans(age, year_of_birth, infusion_year) == expected


@pytest.mark.parametrize(
    ("status", "computed", "recorded", "expected"),
    [
        ("ok", 2, 2, "agree"),
        ("ok", 2, 3, "disagree"),
        ("ok", 2, None, "not_recorded"),
        ("cannot_grade", None, 1, "not_determinable"),
    ],
)
def test_agreement(status: str, computed: int | None, recorded: int | None, expected: str) -> None:
    assert adapters.agreement(status, computed, recorded) == expected


@pytest.mark.parametrize(
    ("country", "region"), [("CN", "CN"), ("US", "US"), ("GB", "GB"), ("DE", "EU"), ("BR", None)]
)
def test_label_region(country: str, region: str | None) -> None:
    assert adapters.label_region(country) == region


def test_every_observation_field_is_a_model_field() -> None:
    names = {field.name for field in DailyAssessment._meta.get_fields()}
    assert set(adapters.OBSERVATION_FIELDS) <= names


def test_every_ice_and_capd_item_has_a_model_field() -> None:
    names = {field.name for field in DailyAssessment._meta.get_fields()}
    assert {f"ice_{item}" for item in ice.ITEM_MAX} <= names
    assert {f"capd_{item}" for item in capd.ITEMS} <= names


def test_item_fields_map_to_appendix_a_names() -> None:
    assert adapters.APPENDIX_NAMES["ice_writes_sentence"] == "ice_items.writes_sentence"
    assert adapters.MODEL_FIELDS["capd_items.eye_contact"] == "capd_eye_contact"


def test_model_choices_are_the_clinical_vocabulary() -> None:
    pairs = [
        (choices.OXYGEN_DEVICES, vocabulary.OXYGEN_DEVICES),
        (choices.CONSCIOUSNESS, vocabulary.CONSCIOUSNESS),
        (choices.SEIZURE, vocabulary.SEIZURE),
        (choices.MOTOR, vocabulary.MOTOR),
        (choices.ICP_EDEMA, vocabulary.ICP_EDEMA),
        (choices.CAPD_FREQUENCIES, vocabulary.CAPD_FREQUENCIES),
        (choices.VASOPRESSORS, vocabulary.VASOPRESSORS),
    ]
    for model_choices, words in pairs:
        assert tuple(value for value, _label in model_choices) == words


def test_a_vocabulary_word_without_a_label_fails_loudly() -> None:
    with pytest.raises(LookupError, match="new_word"):
        choices.from_vocabulary(("none", "new_word"), {"none": "none"})  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("values", "certain"),
    [
        ({"temperature_c": 39.0, "fever_attributable_to_other_cause": False}, True),
        ({"temperature_c": 39.0}, False),  # the fever may have another cause
        ({"temperature_c": 37.0, "hypotension": "present"}, False),
    ],
)
def test_crs_certainly_present(values: dict[str, object], certain: bool) -> None:
    assert adapters.crs_certainly_present(values) is certain


def test_grade_assessment_maps_problems_to_model_fields() -> None:
    graded = adapters.grade_assessment(
        {"ice_naming_objects_correct": 5, "temperature_c": 20.0},
        age_years=40.0,
        waiver=WaiverInputs(False, False),
    )
    assert set(graded.problems()) == {"ice_naming_objects_correct", "temperature_c"}
