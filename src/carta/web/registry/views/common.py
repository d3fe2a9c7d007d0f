"""What every registry view shares: finding the patient (or a 404), checking the action, and
running a service with its errors shown on the form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from carta.web.accounts import access
from carta.web.accounts.roles import Action
from carta.web.registry import selectors
from carta.web.registry.forms import ServiceForm
from carta.web.registry.models import Patient

T = TypeVar("T")
ModelT = TypeVar("ModelT", bound=models.Model)
ViewT = TypeVar("ViewT", bound=Callable[..., HttpResponse])


def signed_in(view: ViewT) -> ViewT:
    """Django's ``login_required`` (typed): anonymous visitors go to the sign-in page."""
    return cast(ViewT, login_required(view))


def methods(*names: str) -> Callable[[ViewT], ViewT]:
    """Django's ``require_http_methods`` (typed): other methods get a 405."""

    def decorate(view: ViewT) -> ViewT:
        return cast(ViewT, require_http_methods(list(names))(view))

    return decorate


def patient_or_404(request: HttpRequest, pk: int, action: Action = "view") -> Patient:
    """The patient if the user may see it (else 404, ADR 0203), checked for ``action``:
    a patient the user sees but may not change is a 403 (``PermissionDenied``)."""
    grants = access.grants(request.user)  # one query answers both questions (ADR 0287)
    try:
        patient = selectors.patient_for(grants, pk)
    except Patient.DoesNotExist as missing:
        raise Http404 from missing
    if not grants.may(patient.center_id, action):
        raise PermissionDenied(f"{action} not allowed on this record")
    return patient


def record_or_404(request: HttpRequest, model: type[ModelT], pk: int, patient: Patient) -> ModelT:
    """One of ``patient``'s records of ``model``; 404 when it is not this patient's or not
    visible."""
    try:
        record = selectors.get_record(request.user, model, pk)
    except ObjectDoesNotExist as missing:
        raise Http404 from missing
    owner_id = record.pk if isinstance(record, Patient) else getattr(record, "patient_id", None)
    if owner_id != patient.pk:
        raise Http404
    return record


def run_service(form: ServiceForm, call: Callable[[], T]) -> T | None:
    """``call()``; a ``ValidationError`` goes onto ``form`` and gives ``None``.

    The services write nothing when they raise (one transaction each), so showing the form
    again with the errors is all there is to do.
    """
    try:
        return call()
    except ValidationError as error:
        form.attach(error)
        return None


def can(request: HttpRequest, patient: Patient, action: Action) -> bool:
    """May the user ``action`` this patient's records (for showing or hiding buttons)?"""
    return access.can(request.user, patient.center, action)


def page_number(request: HttpRequest) -> Any:
    """The requested page of a list (the paginator copes with nonsense)."""
    return request.GET.get("page") or 1
