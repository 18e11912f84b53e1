"""The product adapters over real HTTP against the simulators: paging, pricelists, codes that need encoding."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ogosync.errors import AlreadyExistsError
from ogosync.models import WarehouseProduct
from ogosync.stores.centra.client import CentraStore
from ogosync.warehouse.myogo import MyOgoAccount, MyOgoWarehouse
from ogosync_local.sim import CentraSimulator, MyOgoSimulator

pytestmark = pytest.mark.integration


@pytest.fixture
def myogo() -> Iterator[tuple[MyOgoSimulator, MyOgoWarehouse]]:
    with MyOgoSimulator() as sim:
        sim.add_merchant("m1", "secret-1")
        account = MyOgoAccount(sim.base_url, f"{sim.base_url}/OAuth/Token", "m1", "secret-1", "123456", "abcdef")
        warehouse = MyOgoWarehouse(account)
        yield sim, warehouse
        warehouse.close()


def test_the_centra_catalog_is_read_in_pages_with_the_named_pricelist() -> None:
    with CentraSimulator(api_key="k") as sim:
        for n in range(7):
            sim.add_product(
                "TS", "BLK", str(n), ean=f"735{n}", extra={"prices": [
                    {"id": 1, "pricelist": "SEK", "price": 299, "currency": "SEK"},
                    {"id": 2, "pricelist": "Europe", "price": 29.9, "currency": "EUR"},
                ]},
            )  # fmt: skip
        store = CentraStore(sim.base_url, "k", ZoneInfo("Europe/Stockholm"), page_size=3, pricelist="Europe")

        products = list(store.products())

        assert [product.sku for product in products] == [f"TSBLK{n}" for n in range(7)]
        assert {(product.price, product.currency) for product in products} == {(Decimal("29.9"), "EUR")}
        assert sim.calls["GET /products"] == 3
        store.close()


def test_myogo_products_are_created_listed_and_updated_by_any_code(
    myogo: tuple[MyOgoSimulator, MyOgoWarehouse],
) -> None:
    sim, warehouse = myogo
    odd = "JACKET/BLK 42?"
    for code in [odd, *(f"P{n:03d}" for n in range(300))]:
        warehouse.create_product(WarehouseProduct(code=code, name=code, ean_code="111", language_code="en"))

    listed = list(warehouse.list_products())
    updated = warehouse.update_product(
        odd, WarehouseProduct(code=odd, name="Jacket", ean_code="222", language_code="fi")
    )

    assert len(listed) == 301 and sim.calls["GET /api/v1/Products"] == 2
    assert (updated.name, updated.language_code, updated.ean_code) == ("Jacket", "fi", "111")  # the EAN stays
    assert sim.products("m1")[odd]["name"] == "Jacket"
    with pytest.raises(AlreadyExistsError):
        warehouse.create_product(WarehouseProduct(code="P000", name="again", language_code="en"))
    found = warehouse.find_product(odd)
    assert found is not None and found.name == "Jacket"
