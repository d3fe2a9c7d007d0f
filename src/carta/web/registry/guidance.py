"""Management guidance beside the computed CRS and ICANS grades: the bridge from the patient
page to :mod:`carta.clinical.guidance` (reference text; ADR 0420, ADR 0431).

Nothing here decides anything: for each computed grade on the page it looks up what the
consensus guidelines tie to that grade, in the page's language, with the sources cited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import get_language

from carta.clinical import guidance as catalogue

DJANGO_TO_CATALOGUE = {"zh-hans": catalogue.SIMPLIFIED_CHINESE, "en": catalogue.ENGLISH}


def catalogue_language(language: str | None = None) -> str:
    """The catalogue's language for a Django language code (English by default)."""
    code = (language or get_language() or "en").lower()
    return DJANGO_TO_CATALOGUE.get(code, catalogue.ENGLISH)


@dataclass(frozen=True, slots=True)
class CitedStep:
    text: str
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ShownGuidance:
    """One grade's guidance as the page shows it."""

    syndrome: str
    grade: int
    days: list[int]
    definition: str
    steps: list[CitedStep]
    citations: list[tuple[str, str, str]]  # key, citation, link
    label: str
    notice: str
    version: str

    @property
    def anchor(self) -> str:
        return f"guidance-{self.syndrome}-{self.grade}"


def grades_guidance(day_rows: Iterable[Any], language: str | None = None) -> list[ShownGuidance]:
    """The guidance of every computed grade on the page (CRS first), with the days it was
    computed; grades without guidance (0, 5, not determined) are left out."""
    days: dict[tuple[str, int], list[int]] = {}
    for row in day_rows:
        for syndrome in ("crs", "icans"):
            cell = getattr(row, syndrome)
            if cell.status == "ok" and cell.grade is not None:
                days.setdefault((syndrome, cell.grade), []).append(row.assessment.day)
    lang = catalogue_language(language)
    shown = []
    for (syndrome, grade), on_days in sorted(days.items()):
        entry = catalogue.guidance_for(syndrome, grade)
        if entry is None:
            continue
        shown.append(
            ShownGuidance(
                syndrome=syndrome,
                grade=grade,
                days=sorted(set(on_days)),
                definition=entry.definition.in_language(lang),
                steps=[CitedStep(s.text.in_language(lang), s.sources) for s in entry.steps],
                citations=[(s.key, s.citation, s.link) for s in entry.sources],
                label=catalogue.LABEL.in_language(lang),
                notice=catalogue.NOTICE.in_language(lang),
                version=catalogue.CATALOGUE_VERSION,
            )
        )
    return shown
