"""In-memory fakes of the product flow's ports: a store catalog, myOGO's products, product refusals.

FakeMyOgoProducts behaves as the reference describes myOGO: a code is unique, an update keeps an EAN myOGO already
has, and every call is counted so that tests can say how many reads and writes a run made.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from decimal import Decimal
from typing import Any

from ogosync.errors import (
    AlreadyExistsError,
    NotFoundError,
    OgosyncError,
    RejectedByPlatformError,
    TransientPlatformError,
)
from ogosync.models import ProductRefusal, StoreProduct, WarehouseProduct, WarehouseProductState


def store_product(sku: str | None, item_id: int, **changes: Any) -> StoreProduct:
    values: dict[str, Any] = {
        "store_ids": {"productId": str(item_id // 10), "stockItemId": str(item_id)},
        "sku": sku,
        "ean": f"735{item_id:010d}",
        "name": f"Product {sku or item_id}",
        "description": f"About {sku or item_id}",
        "price": Decimal("29.90"),
        "currency": "EUR",
        "image_url": f"https://cdn.example/{item_id}.jpg",
    }
    values.update(changes)
    return StoreProduct(**values)


class FakeCatalog:
    """A store's catalog; `products` is the list a run reads."""

    def __init__(self, products: Sequence[StoreProduct] = ()) -> None:
        self.items = list(products)
        self.reads = 0

    def products(self) -> Iterator[StoreProduct]:
        self.reads += 1
        return iter(list(self.items))

    def close(self) -> None:
        return None

    def change(self, sku: str, **changes: Any) -> None:
        self.items = [item.model_copy(update=changes) if item.sku == sku else item for item in self.items]

    def remove(self, sku: str) -> None:
        self.items = [item for item in self.items if item.sku != sku]


class FakeMyOgoProducts:
    """myOGO's products by code, with scripted failures.

    `fail_write_number`: the Nth write (create or update, counted from 1) raises `failure` before anything is
    stored, and so do the ones after it in the same run, until `heal()`: myOGO is down from there on.
    `refuse`: code -> the 400 message myOGO answers a write of it with.
    `lose_create_answers`: creates are stored, then a timeout is raised (the answer was lost).
    """

    def __init__(self) -> None:
        self.products: dict[str, WarehouseProductState] = {}
        self.calls: Counter[str] = Counter()
        self.written: list[str] = []  # codes, in the order of accepted writes
        self.refuse: dict[str, str] = {}
        self.fail_write_number: int | None = None
        self.failure: OgosyncError = OgosyncError("myOGO is down")
        self.lose_create_answers = False

    @property
    def writes(self) -> int:
        return self.calls["create"] + self.calls["update"]

    def heal(self) -> None:
        self.fail_write_number = None

    def add(self, product: WarehouseProduct) -> None:
        """A product made in myOGO by hand."""
        self.products[product.code] = self._state(product, None)

    def list_products(self) -> Iterator[WarehouseProductState]:
        self.calls["list"] += 1
        return iter(list(self.products.values()))

    def find_product(self, code: str) -> WarehouseProductState | None:
        self.calls["find"] += 1
        return self.products.get(code)

    def create_product(self, product: WarehouseProduct) -> WarehouseProductState:
        self.calls["create"] += 1
        self._check_write(product.code)
        if product.code in self.products:
            raise AlreadyExistsError("myogo", f"Product with code '{product.code}' already exists", 400)
        self.products[product.code] = state = self._state(product, None)
        self.written.append(product.code)
        if self.lose_create_answers:
            raise TransientPlatformError("myogo", "POST api/v1/Products timed out")
        return state

    def update_product(self, code: str, product: WarehouseProduct) -> WarehouseProductState:
        self.calls["update"] += 1
        self._check_write(code)
        current = self.products.get(code)
        if current is None:
            raise NotFoundError("myogo", f"Product with code '{code}' not found", 404)
        self.products[code] = state = self._state(product, current)
        self.written.append(code)
        return state

    def _check_write(self, code: str) -> None:
        if self.fail_write_number is not None and self.writes >= self.fail_write_number:
            raise self.failure
        if code in self.refuse:
            raise RejectedByPlatformError("myogo", self.refuse[code], 400)

    @staticmethod
    def _state(product: WarehouseProduct, current: WarehouseProductState | None) -> WarehouseProductState:
        values = product.model_dump()
        if current is not None and current.ean_code:
            values["ean_code"] = current.ean_code  # "Existing EAN code will not be overwritten"
        return WarehouseProductState(id=current.id if current else f"id-{product.code}", **values)


class InMemoryProductRefusals:
    def __init__(self) -> None:
        self.refusals: dict[tuple[str, str], ProductRefusal] = {}

    def all_product_refusals(self, integration_id: str) -> list[ProductRefusal]:
        return [refusal for (owner, _), refusal in self.refusals.items() if owner == integration_id]

    def put_product_refusal(self, refusal: ProductRefusal) -> None:
        self.refusals[(refusal.integration_id, refusal.sku)] = refusal

    def delete_product_refusals(self, integration_id: str, skus: Sequence[str]) -> None:
        for sku in skus:
            self.refusals.pop((integration_id, sku), None)
