"""The upload form: the file, the center to import into, and what a CSV file holds."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from carta.web.accounts.models import Center
from carta.web.imports.tables import KIND_LABELS, KINDS, MAX_UPLOAD_BYTES


class UploadForm(forms.Form):
    """``center`` is limited to the centers the user may import into."""

    file = forms.FileField(
        label=_("Export file"),
        help_text=_("A .csv file, or an .xlsx workbook with sheets named after what they hold."),
    )
    center = forms.ModelChoiceField(queryset=Center.objects.none(), label=_("Import into"))
    kind = forms.ChoiceField(
        label=_("The CSV file holds"),
        choices=[(kind, KIND_LABELS[kind]) for kind in KINDS],
        required=False,
        help_text=_("Only for a CSV file; a workbook's sheets say it by their names."),
    )

    def __init__(self, *args: Any, centers: list[Center], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        center_field = self.fields["center"]
        assert isinstance(center_field, forms.ModelChoiceField)
        center_field.queryset = Center.objects.filter(pk__in=[center.pk for center in centers])
        if len(centers) == 1:
            center_field.initial = centers[0].pk

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(megabytes)d MB; split it.")
                % {"megabytes": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        name = upload.name.lower()
        if not name.endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload
