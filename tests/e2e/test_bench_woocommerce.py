"""`make bench`'s WooCommerce part at a tiny size: every flow meets its floor of calls (catalog pages per item,
order pages per poll, writes per shipment, batch calls per route, one refused call for a shop with a lower batch
limit). The floors are counted by the simulators, never timed."""

from __future__ import annotations

import pytest

from ogosync.stores.woocommerce.store import STOCK_BATCH_SIZE
from ogosync_local.bench_woocommerce import (
    NOTES,
    ORDER_WRITES,
    PRODUCT_BATCHES,
    SMALL_BATCH_LIMIT,
    TRACKING_ENTRIES,
    VARIATION_BATCHES,
    bench_woocommerce,
    render,
)

pytestmark = pytest.mark.e2e


def test_every_woocommerce_flow_meets_its_floor_at_a_tiny_size() -> None:
    bench = bench_woocommerce(simple=120, variable=3, variations=5, orders=30, changed=40, latency_ms=0)

    assert [run.name for run in bench.runs if not run.meets] == []
    runs = {run.name: run for run in bench.runs}
    products = runs["products: the catalog read (scheduled sync)"]
    assert sum(products.calls.values()) <= 2 + 3 + 1  # 2 pages of 100 products, 3 of variations, the currency
    for name, entries in (
        ("tracking: shipped orders, no Shipment Tracking extension", 0),
        ("tracking: shipped orders, Shipment Tracking extension active", 1),
    ):
        run = runs[name]
        assert run.items == 15
        assert (run.calls[ORDER_WRITES], run.calls[NOTES], run.calls[TRACKING_ENTRIES]) == (15, 15, 15 * entries)
    unchanged = runs["stock: nothing changed"]
    assert unchanged.calls[PRODUCT_BATCHES] + unchanged.calls[VARIATION_BATCHES] == 0
    limited = runs[f"stock: a shop limited to {SMALL_BATCH_LIMIT} items a batch (run 1)"]
    assert limited.calls[PRODUCT_BATCHES] == 1 + 4  # one 413, then ceil(100 / 30) calls
    assert max(bench.items_per_batch) <= STOCK_BATCH_SIZE
    assert "| products: the catalog read" in render(bench, "bench")
