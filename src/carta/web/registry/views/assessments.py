"""The daily assessment form: the grade and its reasons appear as the user types (an htmx
preview computed on the server by :func:`services.preview_daily_assessment`), and saving
stores the computed grades with their criteria version (ADR 0236)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from carta.web.registry import services
from carta.web.registry.forms import AssessmentForm, assessment_initial
from carta.web.registry.models import DailyAssessment, Patient
from carta.web.registry.views.common import (
    methods,
    patient_or_404,
    record_or_404,
    run_service,
    signed_in,
)


def _save(request: HttpRequest, patient: Patient, form: AssessmentForm) -> DailyAssessment | None:
    data = form.cleaned_data
    return run_service(
        form,
        lambda: services.record_daily_assessment(
            actor=request.user,
            patient=patient,
            day=data["day"],
            infusion=data["infusion"],
            reason=data.get("reason") or None,
            **form.observations(),
        ),
    )


def _saved(request: HttpRequest, patient: Patient, row: DailyAssessment) -> HttpResponse:
    messages.success(request, _("Day %(day)s saved with its computed grades.") % {"day": row.day})
    return redirect("registry:patient_detail", pk=patient.pk)


def _form_page(
    request: HttpRequest, patient: Patient, form: AssessmentForm, row: DailyAssessment | None
) -> HttpResponse:
    context = {"form": form, "patient": patient, "row": row}
    return render(request, "registry/assessment_form.html", context)


@signed_in
@methods("GET", "POST")
def assessment_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a day (re-recording a day already stored needs a reason)."""
    patient = patient_or_404(request, pk, "change")
    initial: dict[str, Any] = {}
    if request.GET.get("day", "").lstrip("-").isdigit():
        initial["day"] = int(request.GET["day"])
    form = AssessmentForm(request.POST or None, patient=patient, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        row = _save(request, patient, form)
        if row is not None:
            return _saved(request, patient, row)
    return _form_page(request, patient, form, None)


@signed_in
@methods("GET", "POST")
def assessment_edit(request: HttpRequest, pk: int, assessment_pk: int) -> HttpResponse:
    """Re-record a stored day with a reason; its grades (and later days') are recomputed."""
    patient = patient_or_404(request, pk, "change")
    row = record_or_404(request, DailyAssessment, assessment_pk, patient)
    form = AssessmentForm(
        request.POST or None,
        patient=patient,
        user=request.user,
        initial=assessment_initial(row),
        fixed_day=True,
    )
    if request.method == "POST" and form.is_valid():
        saved = _save(request, patient, form)
        if saved is not None:
            return _saved(request, patient, saved)
    return _form_page(request, patient, form, row)


@signed_in
@methods("POST")
def assessment_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The grades the form's current values would get; nothing is saved.

    Field errors (a temperature that is not a number) are listed instead of a grade; the
    rules' own invalid-input problems come back in the result.
    """
    patient = patient_or_404(request, pk, "change")
    stored = request.GET.get("assessment", "")
    if stored.isdigit():  # correcting a stored day: its day and infusion are not posted
        row = record_or_404(request, DailyAssessment, int(stored), patient)
        form = AssessmentForm(
            request.POST,
            patient=patient,
            user=request.user,
            initial=assessment_initial(row),
            fixed_day=True,
        )
    else:
        form = AssessmentForm(request.POST, patient=patient, user=request.user)
    context: dict[str, Any] = {"form": form, "result": None, "problems": {}}
    if form.is_valid():
        data = form.cleaned_data
        try:
            result = services.preview_daily_assessment(
                actor=request.user,
                patient=patient,
                day=data["day"],
                infusion=data["infusion"],
                **form.observations(),
            )
        except ValidationError as error:
            form.attach(error)
        else:
            context.update(result=result, problems=_problems(form, result.problems()))
    return render(request, "registry/_assessment_preview.html", context)


def _problems(form: AssessmentForm, problems: dict[str, list[str]]) -> dict[str, list[str]]:
    """The rules' invalid inputs by field label."""
    labelled: dict[str, list[str]] = {}
    for name, messages_ in problems.items():
        label = str(form.fields[name].label) if name in form.fields else _("Assessment")
        labelled.setdefault(label, []).extend(messages_)
    return labelled
