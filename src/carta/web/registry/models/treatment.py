"""Bridging therapy, lymphodepletion and the CAR-T infusion (CIBMTR forms 4000 and 4006)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from carta.clinical.products import CELLS_PER_KG_RANGE, TOTAL_CELLS_RANGE
from carta.web.registry.choices import GradeStatus
from carta.web.registry.models.patient import Patient
from carta.web.registry.models.product import Product, ProductLot
from carta.web.registry.validators import between, within

MAX_DOSE_MG_M2 = 5000.0  # plausibility bound: catches a dose typed in the wrong unit
EARLIEST_LYMPHODEPLETION_DAY = -30


class BridgingKind(models.TextChoices):
    """The kind of therapy given between apheresis and lymphodepletion."""

    CHEMOTHERAPY = "chemotherapy", _("chemotherapy")
    RADIOTHERAPY = "radiotherapy", _("radiotherapy")
    IMMUNOTHERAPY = "immunotherapy", _("immunotherapy")
    TARGETED = "targeted", _("targeted therapy")
    CORTICOSTEROIDS = "corticosteroids", _("corticosteroids")
    OTHER = "other", _("other")


class BridgingTherapy(models.Model):
    """A therapy given to control the disease while the product is manufactured."""

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="bridging", verbose_name=_("patient")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=BridgingKind.choices)
    regimen = models.CharField(_("regimen"), max_length=200, blank=True)
    started_on = models.DateField(_("started on"))
    ended_on = models.DateField(_("ended on"), null=True, blank=True)

    class Meta:
        verbose_name = _("bridging therapy")
        verbose_name_plural = _("bridging therapies")
        ordering = ("started_on", "pk")
        constraints = (
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="bridging_ends_after_start",
                violation_error_message=_("Bridging therapy ends on or after it starts."),
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} {self.started_on}"


class LymphodepletionRegimen(models.TextChoices):
    """Conditioning regimen before the infusion."""

    FLU_CY = "flu_cy", _("fludarabine + cyclophosphamide")
    BENDAMUSTINE = "bendamustine", _("bendamustine")
    CYCLOPHOSPHAMIDE = "cyclophosphamide", _("cyclophosphamide alone")
    OTHER = "other", _("other")


class Lymphodepletion(models.Model):
    """Lymphodepleting chemotherapy: agents with daily doses in mg/m2, and the days given
    (relative to the infusion, day 0; e.g. -5 to -3)."""

    patient = models.ForeignKey(
        Patient,
        on_delete=models.PROTECT,
        related_name="lymphodepletions",
        verbose_name=_("patient"),
    )
    regimen = models.CharField(_("regimen"), max_length=16, choices=LymphodepletionRegimen.choices)
    fludarabine_mg_m2_per_day = models.FloatField(
        _("fludarabine (mg/m2/day)"), null=True, blank=True, validators=between(0, MAX_DOSE_MG_M2)
    )
    cyclophosphamide_mg_m2_per_day = models.FloatField(
        _("cyclophosphamide (mg/m2/day)"),
        null=True,
        blank=True,
        validators=between(0, MAX_DOSE_MG_M2),
    )
    bendamustine_mg_m2_per_day = models.FloatField(
        _("bendamustine (mg/m2/day)"), null=True, blank=True, validators=between(0, MAX_DOSE_MG_M2)
    )
    other_agents = models.CharField(_("other agents"), max_length=200, blank=True)
    first_day = models.SmallIntegerField(
        _("first day"), validators=between(EARLIEST_LYMPHODEPLETION_DAY, 0)
    )
    last_day = models.SmallIntegerField(
        _("last day"), validators=between(EARLIEST_LYMPHODEPLETION_DAY, 0)
    )
    started_on = models.DateField(_("started on"), null=True, blank=True)

    class Meta:
        verbose_name = _("lymphodepletion")
        verbose_name_plural = _("lymphodepletions")
        ordering = ("pk",)
        constraints = (
            models.CheckConstraint(
                condition=Q(first_day__lte=F("last_day")) & Q(last_day__lte=0),
                name="lymphodepletion_days_before_infusion",
                violation_error_message=_(
                    "Lymphodepletion runs from its first to its last day, before day 0."
                ),
            ),
        )

    def __str__(self) -> str:
        return f"{self.regimen} day {self.first_day}..{self.last_day}"


class Infusion(models.Model):
    """A CAR-T infusion (day 0): product, lot, date and cell dose (CAR+ viable T cells).

    ``number`` orders a patient's infusions (1 = first; a split regimen or a re-infusion adds
    more). The ``dose_check_*`` fields store the labelled-dose check computed by the service
    through :mod:`carta.clinical.products`: a warning, never a refusal.
    """

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="infusions", verbose_name=_("patient")
    )
    number = models.PositiveSmallIntegerField(_("infusion number"), default=1)
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="infusions", verbose_name=_("product")
    )
    product_lot = models.ForeignKey(
        ProductLot,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="infusions",
        verbose_name=_("product lot"),
    )
    infused_on = models.DateField(_("infused on"))
    cell_dose_total = models.FloatField(
        _("cell dose, total (CAR+ viable T cells)"),
        null=True,
        blank=True,
        validators=within(TOTAL_CELLS_RANGE),
    )
    cell_dose_per_kg = models.FloatField(
        _("cell dose per kg (CAR+ viable T cells/kg)"),
        null=True,
        blank=True,
        validators=within(CELLS_PER_KG_RANGE),
    )
    dose_check_status = models.CharField(
        _("dose check"), max_length=16, choices=GradeStatus.choices, blank=True, editable=False
    )
    dose_within_label = models.BooleanField(
        _("dose within label"), null=True, blank=True, editable=False
    )
    dose_check_reasons = models.JSONField(
        _("dose check reasons"), default=list, blank=True, editable=False
    )
    dose_check_criteria = models.CharField(
        _("dose check criteria"), max_length=64, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("infusion")
        verbose_name_plural = _("infusions")
        ordering = ("patient_id", "number")
        constraints = (
            models.UniqueConstraint(
                fields=["patient", "number"], name="infusion_number_unique_per_patient"
            ),
        )

    def __str__(self) -> str:
        return f"infusion {self.number} {self.infused_on}"
