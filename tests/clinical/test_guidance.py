"""The guidance catalogue: every grade covered, both languages, cited, marked as reference."""

from __future__ import annotations

import re

import pytest

from carta.clinical import guidance
from carta.clinical.guidance import (
    GUIDANCE,
    LANGUAGES,
    NOTICE,
    SOURCES,
    Syndrome,
    guidance_for,
)

CJK = re.compile(r"[\u4e00-\u9fff]")
GRADES = range(guidance.MIN_GRADE, guidance.MAX_GRADE + 1)


@pytest.mark.parametrize("syndrome", list(Syndrome))
@pytest.mark.parametrize("grade", GRADES)
def test_every_grade_has_cited_steps_in_both_languages(syndrome: Syndrome, grade: int) -> None:
    entry = guidance_for(syndrome.value, grade)
    assert entry is not None and entry.syndrome is syndrome and entry.grade == grade
    assert entry.steps
    for step in (*entry.steps,):
        assert step.text.en.strip() and not CJK.search(step.text.en)
        assert CJK.search(step.text.zh_hans)
        assert step.sources and all(key in SOURCES for key in step.sources)
    assert CJK.search(entry.definition.zh_hans) and entry.definition.en


def test_grades_without_management_have_none() -> None:
    assert guidance_for("crs", 0) is None
    assert guidance_for("icans", 5) is None
    assert guidance_for("crs", None) is None
    with pytest.raises(ValueError):
        guidance_for("hlh", 2)


def test_crs_steps_name_tocilizumab_and_corticosteroids_by_grade() -> None:
    def text(grade: int) -> str:
        entry = guidance_for("crs", grade)
        assert entry is not None
        return " ".join(step.text.en for step in entry.steps)

    assert "Tocilizumab 8 mg/kg" in text(2) and "800 mg" in text(2)
    assert "dexamethasone 10 mg" in text(2)
    assert "dexamethasone 10 mg IV every 6 hours" in text(3)
    assert "methylprednisolone" in text(4)
    assert "methylprednisolone" not in text(1)


def test_icans_reserves_tocilizumab_for_concurrent_crs() -> None:
    for grade in GRADES:
        entry = guidance_for("icans", grade)
        assert entry is not None
        for step in entry.steps:
            if "ocilizumab" in step.text.en:
                assert "CRS" in step.text.en and "CRS" in step.text.zh_hans


def test_doses_agree_between_the_languages() -> None:
    number = re.compile(r"\d[\d,]*(?:\.\d+)?")
    for entry in GUIDANCE.values():
        for step in entry.steps:
            english = {n.replace(",", "") for n in number.findall(step.text.en)}
            chinese = {n.replace(",", "") for n in number.findall(step.text.zh_hans)}
            assert english == chinese, step.text.en


def test_display_lines_are_marked_as_reference_information() -> None:
    entry = guidance_for("icans", 3)
    assert entry is not None
    for language in LANGUAGES:
        lines = entry.lines(language)
        assert lines[-1] == NOTICE.in_language(language)
        assert lines[0].endswith(guidance.LABEL.in_language(language))
        assert lines[2].startswith("1. ")
    with pytest.raises(ValueError):
        entry.lines("fr")
    assert [source.key for source in entry.sources] == ["ASCO 2021", "EBMT/JACIE/EHA 2022"]


def test_every_source_has_a_citation_and_a_link() -> None:
    for key, source in SOURCES.items():
        assert source.key == key
        assert source.citation and source.link.startswith("https://")
