"""/api/products: the catalogue, read-only, for every signed-in user."""

from __future__ import annotations

from carta.clinical.products import PRODUCTS
from tests.web.api.conftest import ApiClient
from tests.web.conftest import Network


def test_every_catalogue_product_is_listed(api: ApiClient, network: Network) -> None:
    listed = api.get("/products", network.nobody).json()
    assert [row["code"] for row in listed] == sorted(product.code for product in PRODUCTS)


def test_one_product(api: ApiClient, network: Network) -> None:
    product = api.get("/products/axi-cel", network.analyst).json()
    assert product["brand_name"] == "Yescarta"
    assert product["target"].upper() == "CD19"


def test_an_unknown_product_is_not_found(api: ApiClient, network: Network) -> None:
    assert api.get("/products/no-such-cel", network.analyst).status_code == 404


def test_the_catalogue_cannot_be_written(api: ApiClient, network: Network) -> None:
    body = {"code": "new-cel"}
    assert api.post("/products", network.network_admin, body).status_code == 405
