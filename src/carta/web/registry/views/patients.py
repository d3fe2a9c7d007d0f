"""The patient list (search, filters, pages), and creating and editing a patient."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from carta.web.accounts import access
from carta.web.accounts.models import Center
from carta.web.registry import selectors, services
from carta.web.registry.forms import (
    PatientEditForm,
    PatientFilterForm,
    PatientForm,
    patient_initial,
)
from carta.web.registry.models import Diagnosis, Patient, Product
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
    """The patients of the user's centers, searchable by registry ID and filtered.

    Permissions come from the request's grants (ADR 0290): the centers to choose from, the
    patients listed and whether the user may register one, without permission subqueries
    (ADR 0292)."""
    grants = access.grants(request.user)
    centers = list(_viewable_centers(grants))
    products = list(selectors.products())
    form = PatientFilterForm(
        request.GET or None,
        centers=centers,
        products=[(product.code, product_label(product)) for product in products],
        statuses=queries.STATUS_CHOICES,
    )
    filters = form.filters() if request.GET else {}
    patients = queries.listed_patients(grants, **filters)
    page = Paginator(patients, PAGE_SIZE).get_page(page_number(request))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "rows": _rows(queries.page_with_columns(page.object_list), products, centers),
        "query": query.urlencode(),
        "can_create": _may_register(grants, centers),
    }
    return render(request, "registry/patient_list.html", context)


def _rows(
    patients: list[Patient], products: list[Product], centers: list[Center]
) -> list[dict[str, Any]]:
    """The table's rows: each patient with its center (from ``centers``, already read), the
    labels of its first product and latest disease, and its status word and label."""
    names = {product.pk: product_label(product) for product in products}
    diseases = {
        value: str(label) for value, label in Diagnosis._meta.get_field("disease").flatchoices
    }
    centers_by_key = {center.pk: center for center in centers}
    rows = []
    for patient in patients:
        if patient.center_id in centers_by_key:  # always: only these centers are listed
            patient.center = centers_by_key[patient.center_id]
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
    return rows


def _viewable_centers(grants: access.Grants) -> QuerySet[Center]:
    """The centers whose patients ``grants`` may view (``access.centers(user, "view")``)."""
    visible = grants.centers("view")
    return Center.objects.all() if visible is None else Center.objects.filter(pk__in=visible)


def _may_register(grants: access.Grants, viewable: list[Center]) -> bool:
    """``access.centers(user, "change").exists()``, without the query: a user who may change
    at every center may view at every center, so ``viewable`` is then every center."""
    changeable = grants.centers("change")
    return bool(viewable) if changeable is None else bool(changeable)


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
