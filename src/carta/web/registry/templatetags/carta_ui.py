"""Template helpers of the registry pages: names in the active language, grade badges with
colour *and* text, and reason codes as sentences (:mod:`carta.web.reasons`)."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

from carta.web import reasons

register = template.Library()

MAX_GRADE = 5


def chinese() -> bool:
    """Is the page being rendered in Chinese?"""
    return (get_language() or "").lower().startswith("zh")


def product_label(product: Any) -> str:
    """A product by its brand in the active language, with its short code."""
    if product is None:
        return ""
    brand = (product.brand_name_zh if chinese() else "") or product.brand_name or product.inn
    return f"{brand} ({product.code})" if brand else str(product.code)


def center_label(center: Any) -> str:
    """A center by code and name in the active language."""
    if center is None:
        return ""
    name = (center.name_zh if chinese() else "") or center.name
    return f"{center.code} {name}"


def reason(code: str) -> str:
    """One reason code as a sentence."""
    return reasons.reason_text(str(code))


def reason_list(codes: Iterable[str] | None) -> list[str]:
    """Reason codes as sentences."""
    return reasons.reason_texts(codes or ())


def missing_list(fields: Iterable[str] | None) -> list[str]:
    """Missing rule inputs by their labels."""
    return reasons.missing_texts(fields or ())


def visit_status(word: str) -> str:
    """A follow-up visit's status in words."""
    return str(reasons.VISIT_STATUS_TEXT.get(str(word), word))


def agreement_text(word: str) -> str:
    """How the recorded grade compares with the computed one, in words."""
    return str(reasons.AGREEMENT_TEXT.get(str(word), word))


def risk_group(word: str | None) -> str:
    """A CAR-HEMATOTOX risk group in words."""
    return "" if word is None else str(reasons.RISK_GROUP_TEXT.get(word, word))


def percent(value: float | None) -> str:
    """A share in percent with one decimal; a dash when there is nothing to divide."""
    return "—" if value is None else f"{value:.1f} %"


def grade_badge(grade: int | None, status: str | None = "ok") -> SafeString:
    """A grade as a coloured badge that also says the grade in words (not colour alone)."""
    return _badge(get_language() or "", grade, str(status) if status is not None else None)


@functools.lru_cache(maxsize=256)
def _badge(language: str, grade: int | None, status: str | None) -> SafeString:
    """The badge HTML for one language, grade and status (a page shows a hundred of them)."""
    if status == "ok" and grade is not None and 0 <= grade <= MAX_GRADE:
        text = _("Grade %(grade)s") % {"grade": grade}
        return format_html('<span class="grade g{}" title="{}">{}</span>', grade, text, text)
    words = {
        "cannot_grade": _("not determined"),
        "invalid_input": _("invalid input"),
        "cannot_compute": _("cannot be computed"),
    }
    text = words.get(status or "", _("not graded"))
    return format_html('<span class="grade gna" title="{}">{}</span>', text, text)


def visit_label(key: str) -> str:
    """A follow-up visit key (``day_28``, ``year_2``) in words."""
    from carta.web.registry.models import FollowUpVisit

    return str(_labels(FollowUpVisit._meta, "visit", get_language() or "").get(key, key))


def choice_label(record: Any, name: str) -> Any:
    """``record.get_<name>_display()``: the same value, from labels translated once per process
    and language (Django rebuilds and translates the field's whole choices dict per call)."""
    value = getattr(record, name)
    return _labels(record._meta, name, get_language() or "").get(value, value)


@functools.lru_cache(maxsize=256)
def _labels(options: Any, name: str, language: str) -> dict[Any, str]:
    """A choice field's labels in ``language`` (which keys the cache) by stored value;
    ``options`` is the model's ``_meta``."""
    field = options.get_field(name)
    return {value: str(label) for value, label in field.flatchoices}


SUPERSCRIPTS = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def cells(value: float | None) -> str:
    """A cell count as a readable power of ten: ``92260000.0`` -> ``9.23 × 10⁷``."""
    if value is None:
        return "—"
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa} × 10{str(int(exponent)).translate(SUPERSCRIPTS)}"


def join_list(items: Iterable[Any] | None) -> str:
    """Items joined with the active language's list separator (", " or "、")."""
    return pgettext("list separator", ", ").join(str(item) for item in items or ())


# Registered by call, not as decorators: Django's decorators are untyped to mypy.
for _filter in (
    product_label,
    center_label,
    reason,
    reason_list,
    missing_list,
    visit_status,
    visit_label,
    agreement_text,
    risk_group,
    percent,
    cells,
    join_list,
):
    register.filter(_filter.__name__, _filter)
register.simple_tag(grade_badge, name="grade_badge")
