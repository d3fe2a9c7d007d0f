"""The CAR-T product catalogue (read-only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ninja import Schema

from carta.web.api.schemas.fields import model_schema
from carta.web.registry.models import Product

PRODUCT_FIELDS = (
    "code",
    "inn",
    "brand_name",
    "brand_name_zh",
    "company",
    "target",
    "costimulatory_domain",
    "in_catalogue",
)

if TYPE_CHECKING:  # mypy sees the base class; the running code builds it from the model
    ProductOut = Schema
else:
    ProductOut = model_schema("ProductOut", Product, PRODUCT_FIELDS, direction="output")
