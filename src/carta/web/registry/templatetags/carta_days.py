"""The patient page's row-by-row tables and record links, rendered in Python.

A patient followed for a month has thirty-odd day rows of two results each, a few treatments,
responses and follow-up visits, each row with its links; written with template tags the rows
cost the page more than everything else on it together (ADR 0233, ADR 0289). They are built
here as the templates would build them - every value escaped, numbers localized, the same
gettext messages - with each URL pattern reversed once per page and each repeated cell once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django import template
from django.template.context import Context
from django.urls import reverse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from carta.web import reasons
from carta.web.registry.html import KIND_SENTINEL, shown, url_maker
from carta.web.registry.templatetags.carta_ui import (
    agreement_text,
    choice_label,
    grade_badge,
    join_list,
    visit_label,
    visit_status,
)

register = template.Library()

DISAGREE = "disagree"
NO_VALUE = "—"


def _iso(value: Any) -> str:
    """A date as ``{{ value|date:"Y-m-d" }}`` shows it (nothing for no date)."""
    return "" if value in (None, "") else str(value.isoformat())


class PageLinks:
    """The links of one patient's page, each URL pattern reversed once (Django's ``reverse``
    costs more than the rest of a row)."""

    def __init__(self, patient_pk: int) -> None:
        self.patient_pk = patient_pk
        self._makers: dict[str, Callable[..., str]] = {}

    def _maker(self, name: str) -> Callable[..., str]:
        if name not in self._makers:
            self._makers[name] = url_maker(f"registry:{name}", self.patient_pk, KIND_SENTINEL)
        return self._makers[name]

    def create(self, kind: str) -> str:
        """``{% url 'registry:record_create' patient.pk kind %}``."""
        if "record_create" not in self._makers:
            url = reverse("registry:record_create", args=[self.patient_pk, KIND_SENTINEL])
            before, after = (conditional_escape(part) for part in url.split(KIND_SENTINEL))
            self._makers["record_create"] = lambda kind: f"{before}{kind}{after}"
        return self._makers["record_create"](kind)

    def edit(self, kind: str, pk: int) -> str:
        """``{% url 'registry:record_edit' patient.pk kind pk %}``."""
        return self._maker("record_edit")(kind, pk)

    def history(self, kind: str, pk: int) -> str:
        """``{% url 'registry:record_history' patient.pk kind pk %}``."""
        return self._maker("record_history")(kind, pk)

    def row_links(self, kind: str, pk: int, can_change: bool) -> str:
        """The record's "Edit" (for a viewer who may change it) and "History" links."""
        history = f'<a href="{self.history(kind, pk)}">{conditional_escape(_("History"))}</a>'
        if not can_change:
            return history
        return f'<a href="{self.edit(kind, pk)}">{conditional_escape(_("Edit"))}</a>{history}'


def _links(context: Context) -> PageLinks:
    """The page's links, made once per rendering of the page body."""
    patient_pk = context["patient"].pk
    links = context.render_context.get("carta_page_links")
    if not isinstance(links, PageLinks) or links.patient_pk != patient_pk:
        links = PageLinks(patient_pk)
        context.render_context["carta_page_links"] = links
    return links


def create_url(context: Context, kind: str) -> SafeString:
    """The URL recording a new ``kind`` of record for the page's patient (escaped)."""
    return mark_safe(_links(context).create(kind))


def row_links(context: Context, kind: str, pk: int) -> SafeString:
    """A record's "Edit" link (for a viewer who may change it) and its "History" link."""
    return mark_safe(_links(context).row_links(kind, pk, bool(context.get("can_change"))))


def history_link(context: Context, kind: str, pk: int) -> SafeString:
    """A record's "History" link alone."""
    url = _links(context).history(kind, pk)
    return mark_safe(f'<a href="{url}">{conditional_escape(_("History"))}</a>')


# --- the day-by-day grades ----------------------------------------------------------------------


def _computed(cell: Any, css: str, unknown_label: str) -> str:
    texts = reasons.reason_texts(cell.reasons)
    listed = (
        '<ul class="reasons">'
        + "".join(f"<li>{conditional_escape(text)}</li>" for text in texts)
        + "</ul>"
        if texts
        else ""
    )
    missing = (
        f'<div class="missing">{conditional_escape(unknown_label)} '
        f"{conditional_escape(join_list(reasons.missing_texts(cell.missing)))}</div>"
        if cell.missing
        else ""
    )
    badge = grade_badge(cell.grade, cell.status)
    return f'<td class="{conditional_escape(css)}">{badge}{listed}{missing}</td>'


def _recorded(cell: Any, css: str) -> str:
    badge = (
        grade_badge(cell.recorded)
        if cell.recorded is not None
        else mark_safe('<span class="muted">—</span>')
    )
    note = (
        f'<span class="disagreement">≠ {conditional_escape(agreement_text(cell.agreement))}</span>'
        if cell.agreement == DISAGREE
        else ""
    )
    return f'<td class="{conditional_escape(css)}">{badge}{note}</td>'


class _CellCache:
    """Each distinct cell of one table built once: a month of days repeats a handful."""

    def __init__(self) -> None:
        self.unknown_label = _("Unknown:")
        self._cells: dict[tuple[Any, ...], str] = {}

    def cells(self, syndrome: str, cell: Any) -> str:
        css = f"{syndrome}-disagree" if cell.agreement == DISAGREE else ""
        key = (
            css,
            cell.status,
            cell.grade,
            tuple(str(code) for code in cell.reasons or ()),
            tuple(str(name) for name in cell.missing or ()),
            cell.recorded,
            cell.agreement,
        )
        html = self._cells.get(key)
        if html is None:
            html = _computed(cell, css, self.unknown_label) + _recorded(cell, css)
            self._cells[key] = html
        return html


def day_rows(rows: Iterable[Any], patient: Any, can_change: bool, numbered: bool) -> SafeString:
    """The ``<tr>`` of each day: day, date, CRS and ICANS (computed with reasons, recorded,
    disagreement) and the links to correct the day and read its history."""
    edit, history = conditional_escape(_("Edit")), conditional_escape(_("History"))
    edit_url = url_maker("registry:assessment_edit", patient.pk)
    history_url = url_maker("registry:record_history", patient.pk, "assessment")
    cache = _CellCache()
    html = []
    for row in rows:
        day = row.assessment
        cells = cache.cells("crs", row.crs) + cache.cells("icans", row.icans)
        links = f'<a href="{history_url(day.pk)}">{history}</a>'
        if can_change:
            links = f'<a href="{edit_url(day.pk)}">{edit}</a>{links}'
        number = (
            f'<br><small class="muted">#{shown(row.infusion.number)}</small>' if numbered else ""
        )
        disagree = DISAGREE in (row.crs.agreement, row.icans.agreement)
        html.append(
            f'<tr class="{DISAGREE if disagree else ""}"><td class="num">{shown(day.day)}'
            f'{number}</td><td class="date">{row.when.isoformat()}</td>{cells}'
            f'<td class="row-links">{links}</td></tr>'
        )
    return mark_safe("\n".join(html))


# --- treatments, responses and follow-up visits -------------------------------------------------


def _label_or_dash(record: Any, name: str) -> str:
    """``{{ record.get_<name>_display|default:"—" }}``."""
    return shown(choice_label(record, name) or NO_VALUE)


def treatment_rows(context: Context, treatments: Iterable[Any]) -> SafeString:
    """The ``<tr>`` of each toxicity treatment: day, agent, dose, indication, links."""
    links = _links(context)
    can_change = bool(context.get("can_change"))
    html = []
    for t in treatments:
        detail = f" ({shown(t.agent_detail)})" if t.agent_detail else ""
        dose = (
            f"{shown(t.dose)} {shown(choice_label(t, 'dose_unit'))}"
            if t.dose is not None
            else NO_VALUE
        )
        html.append(
            f'<tr><td class="num">{shown(t.day)}</td>'
            f"<td>{shown(choice_label(t, 'agent'))}{detail}</td><td>{dose}</td>"
            f"<td>{_label_or_dash(t, 'indication')}</td>\n"
            f'      <td class="row-links">{links.row_links("treatment", t.pk, can_change)}</td>'
            "</tr>"
        )
    return mark_safe("".join(html))


def response_rows(context: Context, responses: Iterable[Any]) -> SafeString:
    """The ``<tr>`` of each response assessment: date (and day), response, criteria, MRD,
    links."""
    links = _links(context)
    can_change = bool(context.get("can_change"))
    html = []
    for r in responses:
        day = (
            ' <small class="muted">(' + _("day %(day)s") % {"day": shown(r.day)} + ")</small>"
            if r.day is not None
            else ""
        )
        html.append(
            f"<tr><td>{_iso(r.assessed_on)}{day}</td>"
            f"<td>{shown(choice_label(r, 'category'))}</td>"
            f"<td>{shown(choice_label(r, 'criteria'))}</td>"
            f"<td>{_label_or_dash(r, 'mrd')}</td>\n"
            f'      <td class="row-links">{links.row_links("response", r.pk, can_change)}</td>'
            "</tr>"
        )
    return mark_safe("".join(html))


def follow_up_rows(follow_up: Any) -> SafeString:
    """The ``<tr>`` of each visit shown for one infusion: visit, window, status, done on."""
    html = []
    for state in follow_up.states:
        visit = state.visit
        done_on = follow_up.done_on.get(visit.key)
        html.append(
            f"\n      <tr><td>{shown(visit_label(visit.key))}</td>"
            f"<td>{_iso(visit.window_start)} – {_iso(visit.window_end)}</td>\n"
            f'      <td><span class="badge {shown(state.status)}">'
            f"{shown(visit_status(state.status))}</span></td>\n"
            f"      <td>{_iso(done_on)}</td></tr>\n    "
        )
    return mark_safe("".join(html))


register.simple_tag(day_rows, name="day_rows")
register.simple_tag(treatment_rows, name="treatment_rows", takes_context=True)
register.simple_tag(response_rows, name="response_rows", takes_context=True)
register.simple_tag(follow_up_rows, name="follow_up_rows")
register.simple_tag(create_url, name="create_url", takes_context=True)
register.simple_tag(row_links, name="row_links", takes_context=True)
register.simple_tag(history_link, name="history_link", takes_context=True)
