"""``/api/products``: the CAR-T product catalogue (read-only; not patient data)."""

from __future__ import annotations

from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Path, Router

from carta.web.api.endpoints.common import product_out
from carta.web.api.schemas.common import ERRORS
from carta.web.api.schemas.fields import Text
from carta.web.api.schemas.products import ProductOut
from carta.web.registry import selectors

router = Router(tags=["products"])

ProductCode = Annotated[Text, Path(max_length=32, description="Catalogue code (`axi-cel`).")]


@router.get("/products", response={200: list[ProductOut], **ERRORS})
def list_products(request: HttpRequest) -> Any:
    """The products of the current catalogue, by code."""
    return [product_out(product) for product in selectors.products().order_by("code")]


@router.get("/products/{code}", response={200: ProductOut, **ERRORS})
def get_product(request: HttpRequest, code: ProductCode) -> Any:
    """One product of the catalogue."""
    return product_out(selectors.products().get(code=code))
