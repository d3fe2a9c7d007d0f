"""The patient list (search, filters, pages), and creating and editing a patient."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from carta.web.accounts import access
from carta.web.registry import selectors, services
from carta.web.registry.forms import (
    PatientEditForm,
    PatientFilterForm,
    PatientForm,
    patient_initial,
)
from carta.web.registry.models import Diagnosis
from carta.web.registry.templatetags.carta_ui import product_label
from carta.web.registry.views import queries
from carta.web.registry.views.common import (
    methods,
    page_number,
    patient_or_404,
    run_service,
    signed_in,
)

PAGE_SIZE = 25


@signed_in
def patient_list(request: HttpRequest) -> HttpResponse:
    """The patients of the user's centers, searchable by registry ID and filtered."""
    products = list(selectors.products())
    form = PatientFilterForm(
        request.GET or None,
        centers=access.centers(request.user, "view"),
        products=[(product.code, product_label(product)) for product in products],
        statuses=queries.STATUS_CHOICES,
    )
    filters = form.filters() if request.GET else {}
    patients = queries.annotated_patients(request.user, **filters)
    page = Paginator(patients, PAGE_SIZE).get_page(page_number(request))
    names = {product.pk: product_label(product) for product in products}
    diseases = dict(Diagnosis._meta.get_field("disease").choices or [])
    rows = []
    for patient in page:
        status = queries.status_of(patient)
        rows.append(
            {
                "patient": patient,
                "product": names.get(patient.first_product_id, ""),
                "disease": diseases.get(patient.disease, ""),
                "status": status,
                "status_label": queries.STATUS_LABELS[status],
            }
        )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": rows,
        "query": query.urlencode(),
        "can_create": access.centers(request.user, "change").exists(),
    }
    return render(request, "registry/patient_list.html", context)


@signed_in
@methods("GET", "POST")
def patient_create(request: HttpRequest) -> HttpResponse:
    """Register a patient at one of the user's centers."""
    if not access.centers(request.user, "change").exists():
        raise PermissionDenied
    form = PatientForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        patient = run_service(
            form, lambda: services.create_patient(actor=request.user, **form.patient_values())
        )
        if patient is not None:
            messages.success(request, _("Patient %(id)s registered.") % {"id": patient.registry_id})
            return redirect("registry:patient_detail", pk=patient.pk)
    return render(request, "registry/patient_form.html", {"form": form})


@signed_in
@methods("GET", "POST")
def patient_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a patient's pseudonymous fields, with a reason."""
    patient = patient_or_404(request, pk, "change")
    form = PatientEditForm(request.POST or None, initial=patient_initial(patient))
    if request.method == "POST" and form.is_valid():
        updated = run_service(
            form,
            lambda: services.update_patient(
                actor=request.user,
                patient=patient,
                reason=form.cleaned_data["reason"],
                **form.changes(),
            ),
        )
        if updated is not None:
            messages.success(request, _("Changes saved."))
            return redirect("registry:patient_detail", pk=patient.pk)
    context = {"form": form, "patient": patient}
    return render(request, "registry/patient_edit.html", context)
