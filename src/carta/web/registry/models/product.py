"""CAR-T products (seeded from :mod:`carta.clinical.products`) and manufactured lots (CIBMTR
form 4003, cellular therapy product)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from carta.web.accounts.models import Center
from carta.web.registry.models.patient import Patient


class Product(models.Model):
    """A CAR-T product of the catalogue (reference section k).

    ``code`` is the catalogue's stable key (``axi-cel``); rows are kept in step with
    :data:`carta.clinical.products.PRODUCTS` by :func:`carta.web.registry.catalogue.sync_products`.
    Labelled doses and published toxicity rates stay in the catalogue, not in the database.
    """

    code = models.CharField(_("code"), max_length=32, unique=True)
    inn = models.CharField(_("INN"), max_length=100, blank=True)
    brand_name = models.CharField(_("brand"), max_length=100, blank=True)
    brand_name_zh = models.CharField(_("Chinese brand"), max_length=100, blank=True)
    company = models.CharField(_("company"), max_length=200)
    target = models.CharField(_("target antigen"), max_length=32)
    costimulatory_domain = models.CharField(_("costimulatory domain"), max_length=32, blank=True)
    in_catalogue = models.BooleanField(_("in the current catalogue"), default=True)

    class Meta:
        verbose_name = _("CAR-T product")
        verbose_name_plural = _("CAR-T products")
        ordering = ("code",)

    def __str__(self) -> str:
        return self.brand_name or self.inn or self.code


class Apheresis(models.Model):
    """A leukapheresis collection of the patient's T cells for manufacturing.

    ``center`` is the collection center when it is not the patient's own (blank otherwise).
    """

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="aphereses", verbose_name=_("patient")
    )
    collected_on = models.DateField(_("collected on"))
    center = models.ForeignKey(
        Center,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("collection center"),
    )

    class Meta:
        verbose_name = _("apheresis")
        verbose_name_plural = _("aphereses")
        ordering = ("collected_on", "pk")

    def __str__(self) -> str:
        return f"apheresis {self.collected_on}"


class ProductLot(models.Model):
    """A manufactured lot of a product for this patient, with its chain-of-identity ID.

    The chain-of-identity identifier links the patient's cells from collection to infusion
    and is unique across the registry.
    """

    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="product_lots", verbose_name=_("patient")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="lots", verbose_name=_("product")
    )
    apheresis = models.ForeignKey(
        Apheresis,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="lots",
        verbose_name=_("apheresis"),
    )
    lot_number = models.CharField(_("lot number"), max_length=64)
    chain_of_identity = models.CharField(_("chain-of-identity ID"), max_length=64, unique=True)
    manufactured_on = models.DateField(_("manufactured on"), null=True, blank=True)
    manufacturing_site = models.CharField(_("manufacturing site"), max_length=200, blank=True)
    out_of_specification = models.BooleanField(_("out of specification"), null=True, blank=True)

    class Meta:
        verbose_name = _("product lot")
        verbose_name_plural = _("product lots")
        ordering = ("pk",)

    def __str__(self) -> str:
        return self.chain_of_identity
