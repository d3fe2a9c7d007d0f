"""Treatments given for CRS, ICANS and related toxicities (CIBMTR form 4100)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from carta.web.registry.models.assessment import FIRST_DAY, LAST_DAY
from carta.web.registry.models.patient import Patient
from carta.web.registry.models.treatment import Infusion
from carta.web.registry.validators import between

MAX_DOSE = 100_000.0


class Agent(models.TextChoices):
    """What was given. All but ``other`` count as antipyretic or anti-cytokine therapy for the
    CRS fever waiver (reference a.2)."""

    TOCILIZUMAB = "tocilizumab", _("tocilizumab")
    CORTICOSTEROID = "corticosteroid", _("corticosteroid")
    ANAKINRA = "anakinra", _("anakinra")
    SILTUXIMAB = "siltuximab", _("siltuximab")
    ANTIPYRETIC = "antipyretic", _("antipyretic")
    OTHER = "other", _("other")


class DoseUnit(models.TextChoices):
    """The unit of a treatment dose."""

    MG = "mg", _("mg")
    MG_PER_KG = "mg_per_kg", _("mg/kg")
    MG_PER_M2 = "mg_per_m2", _("mg/m2")


class Indication(models.TextChoices):
    """The toxicity a treatment was given for."""

    CRS = "crs", _("CRS")
    ICANS = "icans", _("ICANS")
    IEC_HS = "iec_hs", _("IEC-HS")
    OTHER = "other", _("other")


class ToxicityTreatment(models.Model):
    """One treatment given on a day after an infusion (day 0 = infusion day).

    ``agent_detail`` names the drug when the agent is a class (``dexamethasone`` for a
    corticosteroid).
    """

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="treatments", verbose_name=_("patient")
    )
    infusion = models.ForeignKey(
        Infusion, on_delete=models.PROTECT, related_name="treatments", verbose_name=_("infusion")
    )
    day = models.SmallIntegerField(_("day after infusion"), validators=between(FIRST_DAY, LAST_DAY))
    agent = models.CharField(_("agent"), max_length=16, choices=Agent.choices)
    agent_detail = models.CharField(_("drug"), max_length=100, blank=True)
    dose = models.FloatField(_("dose"), null=True, blank=True, validators=between(0, MAX_DOSE))
    dose_unit = models.CharField(
        _("dose unit"), max_length=10, choices=DoseUnit.choices, blank=True
    )
    indication = models.CharField(
        _("given for"), max_length=8, choices=Indication.choices, blank=True
    )

    class Meta:
        verbose_name = _("toxicity treatment")
        verbose_name_plural = _("toxicity treatments")
        ordering = ("infusion_id", "day", "pk")

    def __str__(self) -> str:
        return f"{self.agent} day {self.day}"
