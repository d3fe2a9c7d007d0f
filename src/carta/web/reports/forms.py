"""The Analytics page's filter form (GET): grouping, which patients, and the comparison.

A value outside the choices (a center the user may not view, a column that does not exist,
a date that is not one) is a form error shown next to its field; no analysis runs then.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from carta.web.accounts.models import Center
from carta.web.registry import selectors
from carta.web.registry.models.diagnosis import Disease
from carta.web.registry.templatetags.carta_ui import center_label, product_label
from carta.web.reports.analyses import GROUP_COLUMNS, Filters, Options
from carta.web.reports.labels import column_label

DEFAULT_GROUP = "target_antigen"
DEFAULT_COMPARE = "ld_regimen"


class CenterChoice(forms.ModelChoiceField):
    """A center among the user's, shown by its name in the page's language."""

    def label_from_instance(self, obj: Any) -> str:
        return center_label(obj)


def _column_choices() -> list[tuple[str, str]]:
    return [(column, column_label(column)) for column in GROUP_COLUMNS]


class AnalyticsForm(forms.Form):
    """What to analyse; every field is optional (the defaults group by target antigen)."""

    group_by = forms.ChoiceField(label=_("Group by"), required=False)
    product = forms.ChoiceField(label=_("Product"), required=False)
    disease = forms.ChoiceField(label=_("Disease"), required=False)
    center = CenterChoice(label=_("Center"), queryset=Center.objects.none(), required=False)
    infused_from = forms.DateField(
        label=_("Infused from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    infused_to = forms.DateField(
        label=_("Infused up to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    compare_by = forms.ChoiceField(label=_("Compare protocols by"), required=False)
    arm_reference = forms.CharField(label=_("Reference arm"), required=False, max_length=100)
    arm_compared = forms.CharField(label=_("Compared arm"), required=False, max_length=100)

    def __init__(self, *args: Any, centers: QuerySet[Center], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fields = self.fields
        columns = _column_choices()
        fields["group_by"].choices = [("none", _("no grouping (all patients)")), *columns]
        fields["compare_by"].choices = columns
        fields["product"].choices = [
            ("", _("all products")),
            *((product.code, product_label(product)) for product in selectors.products()),
        ]
        fields["disease"].choices = [("", _("all diseases")), *Disease.choices]
        center_field = fields["center"]
        center_field.queryset = centers
        center_field.empty_label = _("all your centers")
        fields["group_by"].initial = DEFAULT_GROUP
        fields["compare_by"].initial = DEFAULT_COMPARE

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("infused_from"), cleaned.get("infused_to")
        if start and end and start > end:
            self.add_error("infused_to", _("The end of the period is before its start."))
        reference, compared = cleaned.get("arm_reference"), cleaned.get("arm_compared")
        if bool(reference) != bool(compared):
            self.add_error(
                "arm_compared" if reference else "arm_reference",
                _("Choose both arms, or neither for the two largest groups."),
            )
        elif reference and reference == compared:
            self.add_error("arm_compared", _("Choose two different arms."))
        return cleaned

    def options(self) -> Options:
        """The analysis options of a valid form (or the defaults of an unbound one)."""
        data = self.cleaned_data if self.is_bound else {}
        group = data.get("group_by") or DEFAULT_GROUP
        center = data.get("center")
        reference, compared = data.get("arm_reference"), data.get("arm_compared")
        return Options(
            group=None if group == "none" else group,
            filters=Filters(
                product=data.get("product") or None,
                disease=data.get("disease") or None,
                center=center.code if center is not None else None,
                infused_from=data.get("infused_from"),
                infused_to=data.get("infused_to"),
            ),
            compare_by=data.get("compare_by") or DEFAULT_COMPARE,
            arms=(reference, compared) if reference and compared else None,
        )
