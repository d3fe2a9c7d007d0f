"""The patient list's table rows, written in Python (ADR 0292).

A row rendered by the template engine cost more than everything else on the page: a dozen
variable look-ups and filters, an included template, a ``{% url %}`` (Django's ``reverse``) and
translated labels, 25 times a page. :func:`patient_rows` writes the same HTML: the detail URL
reversed once per page, each label translated and the synthetic badge rendered once per page,
each value shown as ``{{ value }}`` shows it (localized, then escaped). A test renders the
list's former row template next to it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django import template
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from carta.web.registry.html import shown, url_maker
from carta.web.registry.templatetags.carta_ui import center_label, choice_label, grade_badge

register = template.Library()

NO_VALUE = "—"


class _Cells:
    """The cells many rows repeat (a center, a sex, an age, a grade badge, a status, the
    synthetic badge), each made once per page."""

    def __init__(self) -> None:
        self.year_of_birth = shown(_("year of birth"))
        badge = get_template("registry/_synthetic.html")
        self.synthetic = {flag: badge.render({"synthetic": flag}) for flag in (False, True)}
        self._made: dict[tuple[str, Any], str] = {}

    def cell(self, kind: str, key: Any, make: Callable[[], Any]) -> str:
        """``make()`` shown, made once per ``kind`` and ``key``."""
        if (kind, key) not in self._made:
            self._made[kind, key] = shown(make())
        return self._made[kind, key]


def _age(patient: Any, cells: _Cells) -> str:
    age, year = patient.age_at_infusion, patient.year_of_birth
    if age is not None:
        return cells.cell("number", age, lambda: age)
    if year:
        shown = cells.cell("number", year, lambda: year)
        return f'<span title="{cells.year_of_birth}">{shown}*</span>'
    return NO_VALUE


def _grade(grade: int | None, cells: _Cells) -> str:
    if grade is None:
        return f'<span class="muted">{NO_VALUE}</span>'
    return cells.cell("grade", grade, lambda: grade_badge(grade))


def _row(row: Mapping[str, Any], url: Callable[[int], str], cells: _Cells) -> str:
    patient = row["patient"]
    infused_on = patient.first_infused_on
    status = row["status"]
    return (
        "\n      <tr>\n"
        f'        <td><a href="{url(patient.pk)}">{shown(patient.registry_id)}</a> '
        f"{cells.synthetic[bool(patient.is_synthetic)]}</td>\n"
        f"        <td>{cells.cell('center', patient.center_id, lambda: center_label(patient.center))}"
        "</td>\n"
        f"        <td>{cells.cell('sex', patient.sex, lambda: choice_label(patient, 'sex'))}</td>\n"
        f'        <td class="num">{_age(patient, cells)}</td>\n'
        f"        <td>{shown(row['disease'] or NO_VALUE)}</td>\n"
        f"        <td>{shown(row['product'] or NO_VALUE)}</td>\n"
        f'        <td class="date">{infused_on.isoformat() if infused_on else NO_VALUE}</td>\n'
        f'        <td><span class="badge status-{shown(status)}">'
        f"{cells.cell('status', status, lambda: row['status_label'])}</span></td>\n"
        f"        <td>{_grade(patient.max_crs, cells)}</td>\n"
        f"        <td>{_grade(patient.max_icans, cells)}</td>\n"
        "      </tr>\n    "
    )


def patient_rows(rows: Iterable[Mapping[str, Any]]) -> SafeString:
    """The list's ``<tr>`` rows (``rows`` as the view makes them: the annotated patient, its
    product and disease labels, status word and label)."""
    url, cells = url_maker("registry:patient_detail"), _Cells()
    return mark_safe("".join(_row(row, url, cells) for row in rows))


# Registered by call, not as a decorator: Django's decorators are untyped to mypy.
register.simple_tag(patient_rows, name="patient_rows")
