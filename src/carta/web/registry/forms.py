"""The registry's forms: they parse and show input, the services validate and write.

Fields are built from the models (:func:`django.forms.models.fields_for_model`), so labels,
choices and plausible ranges have one source. Forms are plain ``Form`` classes, not
``ModelForm``: a form never saves or validates a model instance; the view hands
``cleaned_data`` to a service and :meth:`ServiceForm.attach` puts the service's
``ValidationError`` next to the field it names (ADR 0235).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterable, Mapping
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.forms.models import fields_for_model
from django.utils.translation import gettext_lazy as _

from carta.web.accounts import access
from carta.web.accounts.models import Center
from carta.web.registry import adapters, selectors
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
    PatientIdentity,
    Product,
    ProductLot,
    ResponseAssessment,
    ToxicityTreatment,
)
from carta.web.registry.templatetags.carta_ui import center_label, product_label
from carta.web.registry.widgets import PlainSelect, PlainTextInput

NONE_WORD = "none"
PATIENT_FIELDS = (
    "registry_id",
    "sex",
    "year_of_birth",
    "age_at_infusion",
    "weight_kg",
    "height_cm",
    "is_synthetic",
)
IDENTITY_FIELDS = ("full_name", "national_id", "medical_record_number", "phone", "date_of_birth")
IDENTITY_PREFIX = "identity_"


class DateInput(forms.DateInput):
    """The browser's date picker; the value travels as ISO ``YYYY-MM-DD``."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class UnknownYesNo(forms.NullBooleanSelect):
    """Yes / no / unknown, with "unknown" first: an unanswered question is unknown."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs)
        self.choices = [("unknown", _("unknown")), ("true", _("yes")), ("false", _("no"))]


def _tune(field: forms.Field, *, blank_label: Any) -> forms.Field:
    """Date pickers, unknown-first yes/no, and a blank choice that says what blank means."""
    if isinstance(field, forms.NullBooleanField):
        field.widget = UnknownYesNo()
    elif isinstance(field, forms.DateField):
        field.widget = DateInput()
    elif isinstance(field, forms.TypedChoiceField):
        field.choices = [("", blank_label), *[c for c in field.choices if c[0] != ""]]
    return field


def model_form_fields(
    model: type[models.Model], names: Iterable[str], *, blank_label: Any = "—"
) -> dict[str, forms.Field]:
    """Form fields of ``model`` for ``names``, in that order, labelled from the model.

    The model's validators (plausible ranges) are checked by the form too, so every bad value
    is reported at once, not only after the other fields are fixed.
    """
    names = list(names)
    built = fields_for_model(model, fields=names, apply_limit_choices_to=False)
    fields = {}
    for name, field in built.items():
        if field is None:
            continue
        for validator in model._meta.get_field(name).validators:
            if validator not in field.validators:
                field.validators.append(validator)
        fields[name] = _tune(field, blank_label=blank_label)
    return fields


class ServiceForm(forms.Form):
    """A form whose data goes to a service; the service's errors come back to its fields."""

    def attach(self, error: ValidationError) -> None:
        """Show ``error`` (from a service) next to the fields it names; others on top."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, errors in error.error_dict.items():
            target = self.field_for_error(name)
            for item in errors:
                self.add_error(target, item)

    def field_for_error(self, name: str) -> str | None:
        """The form field that shows a service error about ``name`` (``None``: the top)."""
        if name == NON_FIELD_ERRORS or name not in self.fields:
            return None
        return name


def choice_label(row: Any) -> str:
    """How a linked record reads in a drop-down, in the active language."""
    if isinstance(row, Infusion):
        return str(
            _("Infusion %(number)s, %(date)s") % {"number": row.number, "date": row.infused_on}
        )
    if isinstance(row, Product):
        return product_label(row)
    if isinstance(row, Center):
        return center_label(row)
    if isinstance(row, ProductLot):
        return f"{row.lot_number} ({row.chain_of_identity})"
    if isinstance(row, Apheresis):
        return str(_("Apheresis %(date)s") % {"date": row.collected_on})
    return str(row)


def _label_choices(fields: Iterable[forms.Field]) -> None:
    for field in fields:
        if isinstance(field, forms.ModelChoiceField):
            field.label_from_instance = choice_label


def _reason_field(*, required: bool) -> forms.CharField:
    return forms.CharField(
        label=_("Reason for the change"),
        required=required,
        max_length=500,
        help_text=_("Kept in the audit history."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


# --- patients ---------------------------------------------------------------------------------


class PatientForm(ServiceForm):
    """A new patient: center, pseudonymous fields and, for the center's own staff, the
    identifying fields (kept apart, ADR 0205)."""

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["center"] = forms.ModelChoiceField(
            label=_("Center"), queryset=access.centers(user, "change"), empty_label=None
        )
        self.fields.update(model_form_fields(Patient, PATIENT_FIELDS))
        self.show_identity = access.centers(user, "identify").exists()
        if self.show_identity:
            for name, field in model_form_fields(PatientIdentity, IDENTITY_FIELDS).items():
                field.required = False
                self.fields[IDENTITY_PREFIX + name] = field
        _label_choices(self.fields.values())

    def field_for_error(self, name: str) -> str | None:
        if IDENTITY_PREFIX + name in self.fields:
            return IDENTITY_PREFIX + name
        return super().field_for_error(name)

    def patient_values(self) -> dict[str, Any]:
        """The keyword arguments of :func:`services.create_patient` (less the actor)."""
        data = self.cleaned_data
        values = {name: data[name] for name in ("center", *PATIENT_FIELDS)}
        identity = {
            name: data[IDENTITY_PREFIX + name]
            for name in IDENTITY_FIELDS
            if data.get(IDENTITY_PREFIX + name) not in (None, "")
        }
        values["identity"] = identity or None
        return values

    def identity_fields(self) -> list[forms.BoundField]:
        """The identifying fields, for their own fieldset."""
        return [self[name] for name in self.fields if name.startswith(IDENTITY_PREFIX)]

    def pseudonymous_fields(self) -> list[forms.BoundField]:
        """Every field but the identifying ones."""
        return [self[name] for name in self.fields if not name.startswith(IDENTITY_PREFIX)]


class PatientEditForm(ServiceForm):
    """Changes to a patient's pseudonymous fields, with the reason."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(model_form_fields(Patient, PATIENT_FIELDS))
        self.fields["reason"] = _reason_field(required=True)

    def changes(self) -> dict[str, Any]:
        """The fields to hand to :func:`services.update_patient`."""
        return {name: self.cleaned_data[name] for name in PATIENT_FIELDS}


def patient_initial(patient: Patient) -> dict[str, Any]:
    """The edit form's starting values."""
    return {name: getattr(patient, name) for name in PATIENT_FIELDS}


# --- the daily assessment ---------------------------------------------------------------------


class VasopressorField(forms.MultipleChoiceField):
    """Vasopressors as check boxes: nothing ticked = unknown, "none" = none given."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=[(NONE_WORD, _("none")), *VASOPRESSORS],
            required=False,
            label=_("Vasopressors"),
            help_text=_("Leave all unticked when not known."),
            **kwargs,
        )

    def clean(self, value: Any) -> list[str] | None:
        words = super().clean(value)
        if not words:
            return None
        if NONE_WORD in words:
            if len(words) > 1:
                raise ValidationError(
                    _("Tick either none or the vasopressors given."), code="none_and_some"
                )
            return []
        return list(words)


def vasopressor_initial(value: list[str] | None) -> list[str]:
    """The stored list as ticked boxes (``[]`` = the "none" box)."""
    if value is None:
        return []
    return list(value) or [NONE_WORD]


class AssessmentForm(ServiceForm):
    """One day's Appendix A observations, labs and recorded grades.

    ``reason`` is needed when the day was recorded before (the service says so).
    """

    GROUPS: tuple[tuple[Any, tuple[str, ...]], ...] = (
        (_("Fever"), ("temperature_c", "fever_attributable_to_other_cause")),
        (
            _("Blood pressure"),
            ("hypotension", "vasopressors", "hypotension_attributable_to_other_cause"),
        ),
        (
            _("Oxygen"),
            ("oxygen_device", "oxygen_flow_l_min", "hypoxia_attributable_to_other_cause"),
        ),
        (_("Outcome of CRS"), ("died_due_to_crs",)),
        (
            _("Encephalopathy assessment"),
            ("tool", "developmental_delay", "ice_score", "ice_not_performable_reason"),
        ),
        (_("ICE items (instead of the total)"), tuple(adapters.ICE_ITEM_FIELDS)),
        (_("CAPD (children under 12)"), ("capd_score", "capd_not_performable_reason")),
        (_("CAPD items (instead of the total)"), tuple(adapters.CAPD_ITEM_FIELDS)),
        (
            _("Neurological findings"),
            (
                "consciousness",
                "consciousness_attributable_to_other_cause",
                "seizure",
                "motor",
                "icp_edema",
                "died_due_to_icans",
            ),
        ),
        (_("Laboratory"), adapters.LAB_FIELDS),
        (_("Grades recorded by the clinician"), adapters.RECORDED_FIELDS),
    )

    def __init__(
        self, *args: Any, patient: Patient, user: Any, fixed_day: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["infusion"] = forms.ModelChoiceField(
            label=_("Infusion"),
            queryset=selectors.infusions(user, patient).order_by("-number"),
            empty_label=None,
        )
        self.fields.update(copy.deepcopy(_assessment_fields()))
        self.fields["reason"] = _reason_field(required=False)
        if fixed_day:  # correcting a stored day: it stays that day (the initial values count)
            self.fields["infusion"].disabled = True
            self.fields["day"].disabled = True
        _label_choices(self.fields.values())

    def groups(self) -> list[tuple[Any, list[forms.BoundField]]]:
        """The observation fields in their fieldsets, in Appendix A order."""
        return [(title, [self[name] for name in names]) for title, names in self.GROUPS]

    def observations(self) -> dict[str, Any]:
        """The observations to hand to the service (absent = unknown)."""
        return {
            name: self.cleaned_data.get(name)
            for name in adapters.OBSERVATION_FIELDS
            if name in self.cleaned_data
        }


@functools.cache
def _assessment_fields() -> dict[str, forms.Field]:
    """The day and observation fields, built from the model once per process (each form gets
    a deep copy, as Django gives every form a copy of its declared fields); their labels and
    choices are lazy translations, read in the language of each request."""
    fields = model_form_fields(DailyAssessment, ["day"])
    observed = [name for name in adapters.OBSERVATION_FIELDS if name != "vasopressors"]
    built = model_form_fields(DailyAssessment, observed, blank_label=_("unknown"))
    built["vasopressors"] = VasopressorField()
    for name in adapters.OBSERVATION_FIELDS:
        built[name].required = False
        fields[name] = built[name]
    return fields


def assessment_initial(row: DailyAssessment) -> dict[str, Any]:
    """The form's values for a stored day (to re-record it)."""
    initial = {name: getattr(row, name) for name in adapters.OBSERVATION_FIELDS}
    initial["vasopressors"] = vasopressor_initial(row.vasopressors)
    initial.update(infusion=row.infusion_id, day=row.day)
    return initial


# --- the other records of the journey ---------------------------------------------------------


class RecordForm(ServiceForm):
    """A record of the patient's journey, its fields taken from the model.

    Subclasses name the ``model`` and ``field_names``; links to the patient's other records
    (infusion, lot, apheresis) offer only this patient's rows.
    """

    model: type[models.Model] = Diagnosis
    field_names: tuple[str, ...] = ()

    def __init__(
        self, *args: Any, patient: Patient, user: Any, editing: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields.update(model_form_fields(self.model, self.field_names))
        for name, field in self.fields.items():
            if isinstance(field, forms.ModelChoiceField):
                field.queryset = self._choices_for(name, patient, user)
        if editing:
            self.fields["reason"] = _reason_field(required=True)
        _label_choices(self.fields.values())

    def _choices_for(self, name: str, patient: Patient, user: Any) -> Any:
        if name == "infusion":
            return selectors.infusions(user, patient)
        if name == "product":
            return selectors.products()
        if name == "center":
            return access.centers(user, "view")
        related = self.model._meta.get_field(name).related_model
        return selectors.records(user, related).filter(patient=patient)

    def values(self) -> dict[str, Any]:
        """The record's fields for the service."""
        return {name: self.cleaned_data[name] for name in self.field_names}


def record_initial(record: models.Model, names: Iterable[str]) -> dict[str, Any]:
    """A stored record's values as a form's initial data (links by key)."""
    initial = {}
    for name in names:
        field = record._meta.get_field(name)
        initial[name] = getattr(record, field.attname)
    return initial


def _record_form(model: type[models.Model], names: tuple[str, ...]) -> type[RecordForm]:
    attributes: Mapping[str, Any] = {"model": model, "field_names": names}
    return type(f"{model.__name__}Form", (RecordForm,), dict(attributes))


InfusionForm = _record_form(
    Infusion,
    ("number", "product", "product_lot", "infused_on", "cell_dose_total", "cell_dose_per_kg"),
)
TreatmentForm = _record_form(
    ToxicityTreatment,
    ("infusion", "day", "agent", "agent_detail", "dose", "dose_unit", "indication"),
)
ResponseForm = _record_form(
    ResponseAssessment, ("infusion", "assessed_on", "day", "criteria", "category", "mrd")
)
FollowUpForm = _record_form(FollowUpVisit, ("infusion", "visit", "done_on"))
DeathForm = _record_form(Death, ("died_on", "cause", "cause_detail"))
DiagnosisForm = _record_form(
    Diagnosis,
    (
        "disease",
        "subtype",
        "diagnosed_on",
        "stage",
        "prior_lines",
        "prior_autologous_hct",
        "prior_allogeneic_hct",
        "prior_car_t",
        "target_antigen",
        "target_antigen_status",
    ),
)
ApheresisForm = _record_form(Apheresis, ("collected_on", "center"))
LotForm = _record_form(
    ProductLot,
    (
        "product",
        "apheresis",
        "lot_number",
        "chain_of_identity",
        "manufactured_on",
        "manufacturing_site",
        "out_of_specification",
    ),
)
BridgingForm = _record_form(BridgingTherapy, ("kind", "regimen", "started_on", "ended_on"))
LymphodepletionForm = _record_form(
    Lymphodepletion,
    (
        "regimen",
        "fludarabine_mg_m2_per_day",
        "cyclophosphamide_mg_m2_per_day",
        "bendamustine_mg_m2_per_day",
        "other_agents",
        "first_day",
        "last_day",
        "started_on",
    ),
)
ConsentForm = _record_form(Consent, ("consent_type", "signed_on", "withdrawn_on"))


# --- the patient list's filters -------------------------------------------------------------


class PatientFilterForm(forms.Form):
    """Search and filters of the patient list (all optional; bad values are ignored).

    The page renders this form on every request: its widgets write Django's HTML without
    Django's widget templates (:mod:`carta.web.registry.widgets`), and the centers come as
    rows read once (the choices and the check of a chosen center, where a model choice field
    would read them twice)."""

    q = forms.CharField(
        label=_("Registry ID"), required=False, max_length=32, widget=PlainTextInput
    )
    # A character field whose choices are the widget's: ``clean_center`` checks the key as a
    # model choice field does (``int`` of the text: " 1" and "01" name center 1).
    center = forms.CharField(label=_("Center"), required=False, strip=False, widget=PlainSelect)
    disease = forms.ChoiceField(label=_("Disease"), required=False, widget=PlainSelect)
    product = forms.ChoiceField(label=_("Product"), required=False, widget=PlainSelect)
    status = forms.ChoiceField(label=_("Status"), required=False, widget=PlainSelect)
    synthetic = forms.ChoiceField(
        label=_("Synthetic"),
        required=False,
        choices=[("", _("all")), ("yes", _("synthetic only")), ("no", _("real only"))],
        widget=PlainSelect,
    )

    def __init__(
        self,
        *args: Any,
        centers: Iterable[Center],
        products: Iterable[tuple[str, str]],
        statuses: Iterable[tuple[str, Any]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.centers = {center.pk: center for center in centers}
        center_choices = [(center.pk, choice_label(center)) for center in self.centers.values()]
        self.fields["center"].widget.choices = [("", str(_("all centers"))), *center_choices]
        disease_choices = Diagnosis._meta.get_field("disease").choices or []
        self.fields["disease"].choices = [("", _("all diseases")), *disease_choices]
        self.fields["product"].choices = [("", _("all products")), *products]
        self.fields["status"].choices = [("", _("any status")), *statuses]

    def clean_center(self) -> Center | None:
        """The chosen center among those given (``None``: all)."""
        value = self.cleaned_data.get("center")
        if value in self.fields["center"].empty_values:
            return None
        try:
            return self.centers[int(value)]
        except (KeyError, ValueError, TypeError):
            raise ValidationError(
                forms.ModelChoiceField.default_error_messages["invalid_choice"],
                code="invalid_choice",
            ) from None

    def filters(self) -> dict[str, Any]:
        """The valid filters (an invalid one is dropped rather than failing the page)."""
        if self.is_valid():
            return dict(self.cleaned_data)
        return {name: self.cleaned_data.get(name) for name in self.fields}
