"""In-memory fakes for the stock flow: the ledger (same contract as DynamoStockLedger, see
tests/integration/test_stock_tracking_state_contract.py), a store that takes stock, and myOGO's stock."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from ogosync.errors import OgosyncError
from ogosync.models import (
    PublishedStock,
    StockBatchResult,
    StockRunState,
    StockToPublish,
    StoreOrder,
    StoreStockWrite,
    UnreadableWarehouseRecord,
    WarehouseStockLevel,
)
from tests.fakes import FakeStore


class InMemoryStockLedger:
    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], PublishedStock] = {}
        self.run_states: dict[str, StockRunState] = {}

    def published(self, integration_id: str, skus: Sequence[str]) -> dict[str, PublishedStock]:
        return {sku: self.entries[(integration_id, sku)] for sku in skus if (integration_id, sku) in self.entries}

    def all_published(self, integration_id: str) -> dict[str, PublishedStock]:
        return {sku: entry for (owner, sku), entry in self.entries.items() if owner == integration_id}

    def record_published(self, entries: Sequence[PublishedStock]) -> None:
        for entry in entries:
            self.entries[(entry.integration_id, entry.sku)] = entry

    def run_state(self, integration_id: str) -> StockRunState:
        return self.run_states.get(integration_id) or StockRunState(integration_id=integration_id)

    def save_run_state(self, state: StockRunState) -> None:
        self.run_states[state.integration_id] = state


class FakeStockStore(FakeStore):
    """A store (orders, as FakeStore) that sells `sellable[sku]` units and holds `allocated[sku]` for its orders.

    Writes are batched like a real adapter; `fail_on_batch` (1-based) makes that batch raise before it is applied.
    """

    def __init__(self, batch_size: int = 2) -> None:
        super().__init__()
        self.batch_size = batch_size
        self.allocated: dict[str, int] = {}
        self.sellable: dict[str, int] = {}
        self.unknown: set[str] = set()
        self.batches: list[list[tuple[str, int]]] = []
        self.fail_on_batch: int | None = None
        # A store with a compare-and-swap (Shopify's): a sale placed after the engine read what is in transit, and
        # before its write, makes the write of that SKU come back stale. Each entry is (SKU, the sale's order).
        self.sales_before_write: list[tuple[str, StoreOrder]] = []

    @property
    def writes(self) -> list[tuple[str, int]]:
        return [write for batch in self.batches for write in batch]

    def publish_stock(self, items: Sequence[StockToPublish]) -> Iterator[StockBatchResult]:
        for start in range(0, len(items), self.batch_size):
            if self.fail_on_batch == start // self.batch_size + 1:
                raise OgosyncError("store answered 503")
            batch = items[start : start + self.batch_size]
            stale = self._sold_meanwhile({item.binding.sku for item in batch})
            known = [item for item in batch if item.binding.sku not in self.unknown | stale]
            self.batches.append([(item.binding.sku, item.quantity) for item in known])
            for item in known:
                self.sellable[item.binding.sku] = item.quantity
            yield StockBatchResult(
                written=[
                    StoreStockWrite(
                        sku=item.binding.sku,
                        quantity=item.quantity,
                        store_quantity=item.quantity + self.allocated.get(item.binding.sku, 0),
                    )
                    for item in known
                ],
                not_found=sorted(item.binding.sku for item in batch if item.binding.sku in self.unknown),
                stale=sorted(stale),
            )

    def _sold_meanwhile(self, skus: set[str]) -> set[str]:
        first = {}  # one sale per SKU and write
        for sku, order in self.sales_before_write:
            if sku in skus:
                first.setdefault(sku, order)
        sold = list(first.items())
        for sku, order in sold:
            self.sales_before_write.remove((sku, order))
            self.put(order)
            self.sellable[sku] = self.sellable.get(sku, 0) - 1
        return {sku for sku, _ in sold}


class FakeStockWarehouse:
    """myOGO's stock levels by code; counts its calls."""

    def __init__(self) -> None:
        self.levels: dict[str, WarehouseStockLevel] = {}
        self.calls = {"list": 0, "one": 0}
        self.unreadable: list[WarehouseStockLevel | UnreadableWarehouseRecord] = []  # rows listed after the others

    def set(self, code: str, available: int, modified: datetime) -> None:
        self.levels[code] = WarehouseStockLevel(code=code, available=available, physical=available, modified=modified)

    def stock_levels(
        self, modified_after: datetime | None
    ) -> Iterator[WarehouseStockLevel | UnreadableWarehouseRecord]:
        self.calls["list"] += 1
        levels = sorted(self.levels.values(), key=lambda level: (level.modified, level.code))
        return iter(
            [
                level
                for level in levels
                if modified_after is None or (level.modified is not None and level.modified > modified_after)
            ]
            + self.unreadable
        )

    def stock_level(self, code: str) -> WarehouseStockLevel | None:
        self.calls["one"] += 1
        return self.levels.get(code)
