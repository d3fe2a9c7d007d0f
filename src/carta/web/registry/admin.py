"""The Django admin for data managers: scoped to the user's centers, writing through services.

Lists show only rows of centers the user may view; a change goes through
:func:`services.update_record` with the reason typed on the form, so it is validated and
audited like any other write. Deleting is left to the services (a deletion needs a reason);
identifying fields are shown only to users who may identify the patient.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from carta.web.accounts import access
from carta.web.accounts.roles import Action
from carta.web.registry import models as registry
from carta.web.registry import services

REASON_FIELD = "change_reason"


class ReasonForm(forms.ModelForm):
    """A model form with the reason every change must give."""

    change_reason = forms.CharField(
        label=_("Reason for the change"), required=False, widget=forms.TextInput
    )

    def clean(self) -> dict[str, Any]:
        """Editing an existing record needs a reason."""
        cleaned: dict[str, Any] = super().clean()
        if self.instance.pk and not (cleaned.get(REASON_FIELD) or "").strip():
            self.add_error(REASON_FIELD, _("Give the reason for this change."))
        return cleaned


class ScopedAdmin(admin.ModelAdmin):
    """Rows and permissions from :mod:`carta.web.accounts.access`, writes through services."""

    form = ReasonForm
    view_action: Action = "view"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return access.restrict(super().get_queryset(request), request.user, self.view_action)

    def _allowed(self, request: HttpRequest, obj: Any, action: Action) -> bool:
        if not (request.user.is_active and request.user.is_staff):
            return False
        if obj is None:
            return True
        rows = type(obj)._default_manager.filter(pk=obj.pk)
        return access.restrict(rows, request.user, action).exists()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, None, "view")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj, self.view_action)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, None, "change")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj, "change")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        """Choices limited to the patients and centers the user may change."""
        related = db_field.related_model
        if related is registry.Patient or related._meta.label_lower == "accounts.center":
            kwargs["queryset"] = access.restrict(related.objects.all(), request.user, "change")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """Create or change through the services (validated, audited, one transaction)."""
        fields = {
            name: form.cleaned_data[name] for name in form.changed_data if name != REASON_FIELD
        }
        reason = form.cleaned_data.get(REASON_FIELD, "")
        if change:
            original = type(obj)._default_manager.get(pk=obj.pk)
            saved = services.update_record(
                actor=request.user, record=original, reason=reason, **fields
            )
        else:
            values = {name: form.cleaned_data[name] for name in form.fields if name != REASON_FIELD}
            saved = self._create(request, type(obj), values, reason)
        obj.pk = saved.pk

    def _create(
        self, request: HttpRequest, model: type[models.Model], values: dict[str, Any], reason: str
    ) -> Any:
        if model is registry.Patient:
            return services.create_patient(actor=request.user, **values)
        return services.create_record(actor=request.user, model=model, reason=reason, **values)


def _register(model: type[models.Model], **options: Any) -> None:
    attributes = {
        "list_select_related": ("patient",) if hasattr(model, "patient_id") else (),
        **options,
    }
    admin.site.register(model, type(f"{model.__name__}Admin", (ScopedAdmin,), attributes))


_register(
    registry.Patient,
    list_display=("registry_id", "center", "sex", "year_of_birth", "is_synthetic"),
    list_filter=("center", "is_synthetic", "sex"),
    search_fields=("registry_id",),
    list_select_related=("center",),
)
_register(registry.PatientIdentity, view_action="identify", list_display=("patient",))
_register(registry.Consent, list_display=("patient", "consent_type", "signed_on", "withdrawn_on"))
_register(registry.Diagnosis, list_display=("patient", "disease", "subtype", "prior_lines"))
_register(registry.Apheresis, list_display=("patient", "collected_on"))
_register(registry.ProductLot, list_display=("patient", "product", "chain_of_identity"))
_register(registry.BridgingTherapy, list_display=("patient", "kind", "started_on"))
_register(registry.Lymphodepletion, list_display=("patient", "regimen", "first_day", "last_day"))
_register(
    registry.Infusion,
    list_display=("patient", "number", "product", "infused_on", "dose_check_status"),
    readonly_fields=("dose_check_status", "dose_within_label", "dose_check_reasons"),
)
_register(
    registry.DailyAssessment,
    list_display=("patient", "day", "crs_grade", "icans_grade", "recorded_crs_grade"),
    readonly_fields=(
        "crs_status",
        "crs_grade",
        "crs_reasons",
        "crs_missing",
        "crs_criteria",
        "icans_status",
        "icans_grade",
        "icans_reasons",
        "icans_missing",
        "icans_criteria",
    ),
)
_register(registry.ToxicityTreatment, list_display=("patient", "day", "agent", "dose"))
_register(
    registry.ResponseAssessment, list_display=("patient", "assessed_on", "criteria", "category")
)
_register(registry.FollowUpVisit, list_display=("patient", "visit", "done_on"))
_register(registry.Death, list_display=("patient", "died_on", "cause"))


@admin.register(registry.Product)
class ProductAdmin(admin.ModelAdmin):
    """The catalogue, read-only (it is kept in step with :mod:`carta.clinical.products`)."""

    list_display = ("code", "inn", "brand_name", "brand_name_zh", "target", "in_catalogue")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_module_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
