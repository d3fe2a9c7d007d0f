"""Words for the analytics page: column names, group values and model terms in the page's
language. The data keep their codes (``lbcl``, ``low``); only what is shown is translated."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carta.web.registry.models.diagnosis import Disease
from carta.web.registry.models.outcome import ResponseCategory

COLUMN_LABELS = {
    "product_code": gettext_lazy("product"),
    "target_antigen": gettext_lazy("target antigen"),
    "disease": gettext_lazy("disease"),
    "center_id": gettext_lazy("center"),
    "dose_band": gettext_lazy("dose band"),
    "ld_regimen": gettext_lazy("lymphodepletion regimen"),
    "age_at_infusion_years": gettext_lazy("age at infusion (years)"),
    "sex": gettext_lazy("sex"),
    "prior_lines": gettext_lazy("prior lines of therapy"),
    "vein_to_vein_days": gettext_lazy("vein-to-vein time (days)"),
    # The term of carta.analytics.regression.vein_to_vein_association at 7 days.
    "vein_to_vein_days_per_7": gettext_lazy("vein-to-vein time, per 7 days longer"),
}
DOSE_BANDS = {
    "low": gettext_lazy("low dose (lowest third)"),
    "middle": gettext_lazy("middle dose"),
    "high": gettext_lazy("high dose (highest third)"),
}
SEXES = {"female": gettext_lazy("female"), "male": gettext_lazy("male")}


def column_label(column: str) -> str:
    """The column's name for people."""
    return str(COLUMN_LABELS.get(column, column))


def value_label(column: str | None, value: object) -> str:
    """A group value for people: diseases, dose bands and sexes in words, codes as they are."""
    text = str(value)
    if column == "disease":
        return str(Disease(text).label) if text in Disease.values else text
    if column == "dose_band":
        return str(DOSE_BANDS.get(text, text))
    if column == "sex":
        return str(SEXES.get(text, text))
    if text == "all":
        return _("all patients")
    return text


def group_labels(column: str | None, levels: tuple[str, ...]) -> dict[str, str]:
    """Each group value of ``column`` and its label."""
    return {level: value_label(column, level) for level in levels}


def term_label(term: str) -> str:
    """A model term (``age_at_infusion_years``, ``sex=male``) for people."""
    column, _separator, level = term.partition("=")
    if not level:
        return column_label(column)
    return f"{column_label(column)}: {value_label(column, level)}"


def response_label(word: str) -> str:
    """A best-response word (``cr``, ``not_evaluable``) for people."""
    if word == "not_evaluable":
        return _("not evaluable")
    return str(ResponseCategory(word).label) if word in ResponseCategory.values else word
