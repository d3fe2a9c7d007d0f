"""Every reason code the clinical rules can emit reads as a sentence, in English and in
Simplified Chinese; every rule input the pages may name has a label."""

from __future__ import annotations

import dataclasses
import functools
import importlib
import pkgutil
import random
import re
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

import carta.clinical
from carta.clinical import body, products, vocabulary
from carta.clinical.inputs import observation_from_mapping
from carta.clinical.scores import car_hematotox, easix
from carta.clinical.toxicity import ctcae_v5
from carta.clinical.toxicity.crs_astct_2019 import FIELD_ORDER as CRS_FIELDS
from carta.clinical.toxicity.crs_astct_2019 import CRSObservation, grade_crs
from carta.clinical.toxicity.icans_astct_2019 import FIELD_ORDER as ICANS_FIELDS
from carta.clinical.toxicity.icans_astct_2019 import ICANSObservation, grade_icans
from carta.web import reasons
from carta.web.registry import adapters

DOCS = Path(__file__).resolve().parents[3] / "docs" / "criteria"
CJK = re.compile(r"[\u4e00-\u9fff]")
RULE_PREFIXES = (
    "crs.",
    "icans.",
    "dose.",
    "bsa.",
    "car_hematotox.",
    "easix.",
    "m_easix.",
    "ctcae.",
    "igg.",
    "icaht.",
    "kinetics.",
)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [item for item in value.values() if isinstance(item, str)]
    if isinstance(value, tuple | list | frozenset | set):
        return [item for item in value if isinstance(item, str)]
    return []


def declared_codes() -> set[str]:
    """Every reason code constant of carta.clinical and the adapters (``REASON*`` names)."""
    codes: set[str] = set()
    modules = [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(carta.clinical.__path__, "carta.clinical.")
    ]
    for module in [*modules, adapters]:
        for name, value in vars(module).items():
            if "REASON" in name:
                codes.update(code for code in _strings(value) if code.startswith(RULE_PREFIXES))
    codes.update(
        ctcae_v5.lab_reason(term, band)
        for term in vocabulary.CTCAE_LAB_TERMS
        for band in ctcae_v5.LAB_BANDS
    )
    return codes


def documented_codes() -> set[str]:
    """The reason codes written in docs/criteria/*.md."""
    found: set[str] = set()
    for page in DOCS.glob("*.md"):
        for code in re.findall(r"`([a-z_0-9]+(?:\.[a-z_0-9]+)+)`", page.read_text("utf-8")):
            if code.startswith(RULE_PREFIXES):
                found.add(code)
    return found


@functools.cache
def emitted_codes() -> frozenset[str]:
    """Codes the CRS and ICANS rules actually return over a seeded sweep of inputs."""
    rng = random.Random(0)
    words = {
        "hypotension": vocabulary.HYPOTENSION,
        "oxygen_device": vocabulary.OXYGEN_DEVICES,
        "tool": vocabulary.ICANS_TOOLS,
        "consciousness": vocabulary.CONSCIOUSNESS,
        "seizure": vocabulary.SEIZURE,
        "motor": vocabulary.MOTOR,
        "icp_edema": vocabulary.ICP_EDEMA,
        "ice_not_performable_reason": vocabulary.NOT_PERFORMABLE_REASONS,
        "capd_not_performable_reason": vocabulary.NOT_PERFORMABLE_REASONS,
    }
    flags = [
        "fever_attributable_to_other_cause",
        "crs_previously_diagnosed",
        "antipyretic_or_anticytokine_given",
        "hypotension_attributable_to_other_cause",
        "hypoxia_attributable_to_other_cause",
        "died_due_to_crs",
        "developmental_delay",
        "consciousness_attributable_to_other_cause",
        "died_due_to_icans",
    ]
    codes: set[str] = set()
    for _ in range(600):
        values: dict[str, Any] = {name: rng.choice(options) for name, options in words.items()}
        values.update({name: rng.random() < 0.15 for name in flags})
        values["temperature_c"] = rng.choice([36.5, 38.4, 39.9])
        values["vasopressors"] = rng.sample(vocabulary.VASOPRESSORS, rng.choice([0, 0, 1, 2]))
        if values["vasopressors"]:
            values["hypotension"] = "present"
        values["oxygen_flow_l_min"] = rng.choice([2.0, 8.0])
        values["age_years"] = rng.choice([8.0, 40.0])
        tool = "ICE" if values["age_years"] >= 12 else "CAPD"
        values["tool"] = tool
        for prefix in ("ice", "capd"):
            values.pop(f"{prefix}_not_performable_reason")
        if rng.random() < 0.1:
            values[f"{tool.lower()}_not_performable_reason"] = "unarousable"
            values["consciousness"] = vocabulary.CONSCIOUSNESS[-1]
        elif tool == "ICE":
            values["ice_score"] = rng.randint(0, 10)
        else:
            values["capd_score"] = rng.randint(0, 32)
        codes.update(grade_crs(observation_from_mapping(CRSObservation, values)).reasons)
        codes.update(grade_icans(observation_from_mapping(ICANSObservation, values)).reasons)
    return frozenset(codes)


def test_the_sweep_reaches_most_crs_and_icans_codes() -> None:
    reached = {code for code in emitted_codes() if not code.startswith("invalid:")}
    assert len(reached) >= 30, sorted(reached)


@pytest.mark.parametrize(
    "source", [declared_codes, documented_codes, emitted_codes], ids=lambda f: f.__name__
)
def test_every_code_has_a_sentence(source: Any) -> None:
    codes = source()
    assert codes
    unknown = sorted(code for code in codes if not reasons.known(code))
    assert unknown == []
    for code in codes:
        assert reasons.reason_text(code) != code


def test_the_declared_and_documented_codes_agree() -> None:
    """A documented code nobody declares, or the reverse, is a typo somewhere."""
    documented = documented_codes()
    declared = declared_codes()
    assert documented - declared == set()


def test_every_sentence_is_in_the_chinese_catalogue(chinese_catalogue: None) -> None:
    codes = declared_codes() | set(reasons.REASON_TEXT)
    with translation.override("en"):
        english = {code: reasons.reason_text(code) for code in codes}
    with translation.override("zh-hans"):
        chinese = {code: reasons.reason_text(code) for code in codes}
    untranslated = sorted(code for code in codes if not CJK.search(chinese[code]))
    assert untranslated == []
    assert all(chinese[code] != english[code] for code in codes)


def _observation_fields(cls: Any) -> list[str]:
    return [field.name for field in dataclasses.fields(cls)]


INPUT_FIELDS = sorted(
    {
        *CRS_FIELDS,
        *ICANS_FIELDS,
        *(field for field in _observation_fields(products.CellDose)),
        *_observation_fields(body.BodyMeasurements),
        *_observation_fields(car_hematotox.CARHematotoxObservation),
        *_observation_fields(easix.EASIXObservation),
        *_observation_fields(easix.MEASIXObservation),
        *adapters.APPENDIX_NAMES.values(),
    }
)


@pytest.mark.parametrize("field", INPUT_FIELDS)
def test_every_rule_input_has_a_label(field: str, chinese_catalogue: None) -> None:
    with translation.override("en"):
        label = reasons.field_label(field)
        assert reasons.reason_text(f"invalid:{field}") == f"Invalid value: {label}."
    with translation.override("zh-hans"):
        assert CJK.search(reasons.field_label(field))  # a label, not the raw field name


def test_an_unknown_code_is_shown_as_it_is() -> None:
    assert reasons.reason_text("crs.something_new") == "crs.something_new"
    assert not reasons.known("crs.something_new")
    assert reasons.reason_text("ctcae.anemia.sideways") == "ctcae.anemia.sideways"


def test_ctcae_codes_are_put_together_from_term_and_band() -> None:
    with translation.override("en"):
        text = reasons.reason_text("ctcae.anemia.below_grade_2_cutoff")
    assert text == "Anemia: below the grade 2 cut-off (grade 2)"
