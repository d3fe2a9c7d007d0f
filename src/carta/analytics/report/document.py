"""The report as a small document model: sections holding paragraphs, notes, tables and
figures, ready to be rendered (:mod:`carta.analytics.report.html`).

Numbers are formatted when the document is built (the document is what a reader sees); the
frames behind each section are kept in :attr:`Section.data` for tests and for anyone who wants
the unformatted values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import polars as pl


@dataclass(frozen=True, slots=True)
class Paragraph:
    """Running text."""

    text: str


@dataclass(frozen=True, slots=True)
class Note:
    """A notice: why a section or part of it is absent, or a caveat to read before the numbers."""

    text: str


@dataclass(frozen=True, slots=True)
class Table:
    """A table of text cells; ``header_rows`` marks rows that head a block (a variable's name)."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    header_rows: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure as SVG text (glyphs drawn as paths: no font needed to show it)."""

    caption: str
    svg: str


Block = Paragraph | Note | Table | Figure


@dataclass(frozen=True, slots=True)
class Section:
    """One section: an anchor ``key``, a heading, its blocks and the frames behind them."""

    key: str
    title: str
    blocks: tuple[Block, ...]
    data: Mapping[str, pl.DataFrame] = field(default_factory=dict)

    @property
    def available(self) -> bool:
        """False when the section holds only notes (its inputs were absent)."""
        return any(not isinstance(block, Note) for block in self.blocks)


@dataclass(frozen=True, slots=True)
class Report:
    """The whole report: title block facts, then the sections in order."""

    title: str
    lang: str
    facts: tuple[tuple[str, str], ...]
    synthetic: bool
    sections: tuple[Section, ...]

    def section(self, key: str) -> Section:
        """The section called ``key`` (``cohort``, ``survival`` ...)."""
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(f"no section {key!r}; the sections are {[s.key for s in self.sections]}")
