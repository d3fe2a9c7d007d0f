"""The outcome report: ``build_report(cohort, ...)`` -> :class:`Report`, rendered to one
self-contained HTML file (:func:`render_html`) and to PDF (:func:`html_to_pdf`), in English or
Simplified Chinese. See docs/report.md.
"""

from carta.analytics.report.build import build_report
from carta.analytics.report.common import default_covariates
from carta.analytics.report.document import Figure, Note, Paragraph, Report, Section, Table
from carta.analytics.report.filters import apply_filters, parse_filters
from carta.analytics.report.html import render_html
from carta.analytics.report.pdf import PdfUnavailableError, find_chromium, html_to_pdf
from carta.analytics.report.source import ReportData, read_report_data
from carta.analytics.report.text import LANGUAGES

__all__ = [
    "LANGUAGES",
    "Figure",
    "Note",
    "Paragraph",
    "PdfUnavailableError",
    "Report",
    "ReportData",
    "Section",
    "Table",
    "apply_filters",
    "build_report",
    "default_covariates",
    "find_chromium",
    "html_to_pdf",
    "parse_filters",
    "read_report_data",
    "render_html",
]
