"""The day-by-day table of the patient page, rendered in Python.

A patient followed for a month has thirty-odd rows of two results each; written with template
tags the rows cost the page more than everything else on it together (ADR 0233), so they are
built here with ``format_html`` - escaped like the templates, and translated the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from carta.web import reasons
from carta.web.registry.templatetags.carta_ui import agreement_text, grade_badge, join_list

register = template.Library()

DISAGREE = "disagree"


def _computed(cell: Any, css: str, unknown_label: str) -> SafeString:
    texts = reasons.reason_texts(cell.reasons)
    listed = (
        format_html(
            '<ul class="reasons">{}</ul>',
            format_html_join("", "<li>{}</li>", ((t,) for t in texts)),
        )
        if texts
        else ""
    )
    missing = (
        format_html(
            '<div class="missing">{} {}</div>',
            unknown_label,
            join_list(reasons.missing_texts(cell.missing)),
        )
        if cell.missing
        else ""
    )
    return format_html(
        '<td class="{}">{}{}{}</td>', css, grade_badge(cell.grade, cell.status), listed, missing
    )


def _recorded(cell: Any, css: str) -> SafeString:
    badge = (
        grade_badge(cell.recorded)
        if cell.recorded is not None
        else mark_safe('<span class="muted">—</span>')
    )
    note = (
        format_html('<span class="disagreement">≠ {}</span>', agreement_text(cell.agreement))
        if cell.agreement == DISAGREE
        else ""
    )
    return format_html('<td class="{}">{}{}</td>', css, badge, note)


SENTINEL = 987_654_321  # a key no row has, replaced by each row's key


def _url_maker(name: str, *args: Any) -> Any:
    """``reverse(name, args=[*args, key])`` for many keys with one ``reverse`` call."""
    before, after = reverse(name, args=[*args, SENTINEL]).split(str(SENTINEL))
    return lambda key: f"{before}{int(key)}{after}"


def day_rows(rows: Iterable[Any], patient: Any, can_change: bool, numbered: bool) -> SafeString:
    """The ``<tr>`` of each day: day, date, CRS and ICANS (computed with reasons, recorded,
    disagreement) and the links to correct the day and read its history."""
    unknown_label, edit, history = _("Unknown:"), _("Edit"), _("History")
    edit_url = _url_maker("registry:assessment_edit", patient.pk)
    history_url = _url_maker("registry:record_history", patient.pk, "assessment")
    html = []
    for row in rows:
        day = row.assessment
        cells = []
        for syndrome in ("crs", "icans"):
            cell = getattr(row, syndrome)
            css = f"{syndrome}-disagree" if cell.agreement == DISAGREE else ""
            cells.append(_computed(cell, css, unknown_label))
            cells.append(_recorded(cell, css))
        links = []
        if can_change:
            links.append(format_html('<a href="{}">{}</a>', edit_url(day.pk), edit))
        links.append(format_html('<a href="{}">{}</a>', history_url(day.pk), history))
        number = (
            format_html('<br><small class="muted">#{}</small>', row.infusion.number)
            if numbered
            else ""
        )
        disagree = DISAGREE in (row.crs.agreement, row.icans.agreement)
        html.append(
            format_html(
                '<tr class="{}"><td class="num">{}{}</td><td class="date">{}</td>{}'
                '<td class="row-links">{}</td></tr>',
                DISAGREE if disagree else "",
                day.day,
                number,
                row.when.isoformat(),
                mark_safe("".join(cells)),
                mark_safe("".join(links)),
            )
        )
    return mark_safe("\n".join(html))


register.simple_tag(day_rows, name="day_rows")
