"""Keeping the Product table in step with :data:`carta.clinical.products.PRODUCTS`."""

from __future__ import annotations

from typing import Any

from carta.clinical import products as catalogue


def product_row(product: catalogue.Product) -> dict[str, Any]:
    """The Product columns of one catalogue entry (the first brand, Latin and Chinese names)."""
    latin = next((brand.name for brand in product.brands if brand.name), "")
    native = next((brand.native_name for brand in product.brands if brand.native_name), "")
    return {
        "inn": product.inn or "",
        "brand_name": latin or "",
        "brand_name_zh": native or "",
        "company": product.company,
        "target": product.target,
        "costimulatory_domain": product.costimulatory_domain or "",
        "in_catalogue": True,
    }


def sync_products(product_model: Any) -> int:
    """Insert or update a row per catalogue product; rows no longer in it are kept but marked
    ``in_catalogue=False`` (infusions still point at them). Returns the catalogue size.

    ``product_model`` is the Product model, or its historical version inside a migration.
    """
    codes = []
    for product in catalogue.PRODUCTS:
        product_model.objects.update_or_create(code=product.code, defaults=product_row(product))
        codes.append(product.code)
    product_model.objects.exclude(code__in=codes).update(in_catalogue=False)
    return len(codes)
