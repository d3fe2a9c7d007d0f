"""Recording and correcting the records of a patient's journey (infusion, treatment,
response, follow-up visit, death, diagnosis ...), one generic view over a table of kinds, and
each record's audit history (read-only)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from carta.web.audit.models import AuditEvent
from carta.web.registry import forms, selectors, services
from carta.web.registry.choices import VASOPRESSORS
from carta.web.registry.models import (
    Apheresis,
    BridgingTherapy,
    Consent,
    DailyAssessment,
    Death,
    Diagnosis,
    FollowUpVisit,
    Infusion,
    Lymphodepletion,
    Patient,
    ProductLot,
    ResponseAssessment,
    ToxicityTreatment,
)
from carta.web.registry.templatetags.carta_ui import join_list
from carta.web.registry.views.common import (
    methods,
    patient_or_404,
    record_or_404,
    run_service,
    signed_in,
)


@dataclass(frozen=True, slots=True)
class RecordKind:
    """A kind of record: its model, form, the service that records it, and its title."""

    model: type[models.Model]
    form: type[forms.RecordForm] | None
    record: Callable[..., Any] | None
    title: Promise


KINDS: dict[str, RecordKind] = {
    "diagnosis": RecordKind(
        Diagnosis, forms.DiagnosisForm, services.record_diagnosis, gettext_lazy("Diagnosis")
    ),
    "consent": RecordKind(
        Consent, forms.ConsentForm, services.record_consent, gettext_lazy("Consent")
    ),
    "apheresis": RecordKind(
        Apheresis, forms.ApheresisForm, services.record_apheresis, gettext_lazy("Apheresis")
    ),
    "lot": RecordKind(
        ProductLot, forms.LotForm, services.record_product_lot, gettext_lazy("Product lot")
    ),
    "bridging": RecordKind(
        BridgingTherapy,
        forms.BridgingForm,
        services.record_bridging_therapy,
        gettext_lazy("Bridging therapy"),
    ),
    "lymphodepletion": RecordKind(
        Lymphodepletion,
        forms.LymphodepletionForm,
        services.record_lymphodepletion,
        gettext_lazy("Lymphodepletion"),
    ),
    "infusion": RecordKind(
        Infusion, forms.InfusionForm, services.record_infusion, gettext_lazy("Infusion")
    ),
    "treatment": RecordKind(
        ToxicityTreatment,
        forms.TreatmentForm,
        services.record_toxicity_treatment,
        gettext_lazy("Toxicity treatment"),
    ),
    "response": RecordKind(
        ResponseAssessment,
        forms.ResponseForm,
        services.record_response,
        gettext_lazy("Response assessment"),
    ),
    "follow-up": RecordKind(
        FollowUpVisit,
        forms.FollowUpForm,
        services.record_follow_up_visit,
        gettext_lazy("Follow-up visit"),
    ),
    "death": RecordKind(Death, forms.DeathForm, services.record_death, gettext_lazy("Death")),
    # Read-only here: the patient and the daily assessment have their own forms.
    "patient": RecordKind(Patient, None, None, gettext_lazy("Patient")),
    "assessment": RecordKind(DailyAssessment, None, None, gettext_lazy("Daily assessment")),
}


def _kind(slug: str, *, editable: bool = True) -> RecordKind:
    kind = KINDS.get(slug)
    if kind is None or (editable and kind.form is None):
        raise Http404
    return kind


def _saved_message(request: HttpRequest, record: Any) -> None:
    """Say it was saved, and say loudly when an infusion's dose is outside its label."""
    messages.success(request, _("Saved."))
    if isinstance(record, Infusion) and record.dose_within_label is False:
        messages.warning(
            request,
            _("The cell dose is outside the labelled range: check the infusion record."),
        )


@signed_in
@methods("GET", "POST")
def record_create(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """Record a new ``kind`` for the patient."""
    spec = _kind(kind)
    patient = patient_or_404(request, pk, "change")
    assert spec.form is not None and spec.record is not None
    form = spec.form(request.POST or None, patient=patient, user=request.user)
    record_with = spec.record
    if request.method == "POST" and form.is_valid():
        record = run_service(
            form, lambda: record_with(actor=request.user, patient=patient, **form.values())
        )
        if record is not None:
            _saved_message(request, record)
            return redirect("registry:patient_detail", pk=patient.pk)
    context = {"form": form, "patient": patient, "title": spec.title, "editing": False}
    return render(request, "registry/record_form.html", context)


@signed_in
@methods("GET", "POST")
def record_edit(request: HttpRequest, pk: int, kind: str, record_pk: int) -> HttpResponse:
    """Correct a stored record, with a reason (audited before and after)."""
    spec = _kind(kind)
    patient = patient_or_404(request, pk, "change")
    record = record_or_404(request, spec.model, record_pk, patient)
    assert spec.form is not None
    initial = forms.record_initial(record, spec.form.field_names)
    form = spec.form(
        request.POST or None, patient=patient, user=request.user, initial=initial, editing=True
    )
    if request.method == "POST" and form.is_valid():
        updated = run_service(
            form,
            lambda: services.update_record(
                actor=request.user,
                record=record,
                reason=form.cleaned_data["reason"],
                **form.values(),
            ),
        )
        if updated is not None:
            _saved_message(request, updated)
            return redirect("registry:patient_detail", pk=patient.pk)
    context = {
        "form": form,
        "patient": patient,
        "title": spec.title,
        "editing": True,
        "record": record,
        "kind": kind,
    }
    return render(request, "registry/record_form.html", context)


@dataclass(frozen=True, slots=True)
class Change:
    """One field of an audit event: its label, the value before and after (as shown)."""

    label: str
    before: Any
    after: Any


ACTION_TEXT = {
    "create": pgettext_lazy("audit action", "created"),
    "update": pgettext_lazy("audit action", "changed"),
    "delete": pgettext_lazy("audit action", "deleted"),
}
LIST_CHOICES = {"vasopressors": dict(VASOPRESSORS)}


def _shown(field: Any, value: Any) -> Any:
    """A stored JSON value in words: choices by their label, yes/no, lists joined."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        labels = LIST_CHOICES.get(getattr(field, "name", ""), {})
        return join_list(labels.get(item, item) for item in value) if value else _("none")
    choices = dict(field.flatchoices) if getattr(field, "choices", None) else {}
    return choices.get(value, value)


def _changes(model: type[models.Model], event: AuditEvent) -> list[Change]:
    names = list(dict.fromkeys([*event.before, *event.after]))
    fields = {field.name: field for field in model._meta.concrete_fields}
    changes = []
    for name in names:
        field = fields.get(name)
        label = str(field.verbose_name) if field is not None else name
        changes.append(
            Change(
                label, _shown(field, event.before.get(name)), _shown(field, event.after.get(name))
            )
        )
    return changes


@signed_in
def record_history(request: HttpRequest, pk: int, kind: str, record_pk: int) -> HttpResponse:
    """Who changed what and why, oldest first (the audit trail cannot be edited)."""
    spec = _kind(kind, editable=False)
    patient = patient_or_404(request, pk)
    record = record_or_404(request, spec.model, record_pk, patient)
    events = [
        (event, ACTION_TEXT.get(event.action, event.action), _changes(spec.model, event))
        for event in selectors.audit_history(request.user, record)
    ]
    context = {"patient": patient, "record": record, "title": spec.title, "events": events}
    return render(request, "registry/audit_history.html", context)
