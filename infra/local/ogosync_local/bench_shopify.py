"""`make bench`, Shopify's part: one Shopify merchant on the local stack, each flow measured against its floor by
what the Shopify simulator counts (GraphQL operations by name, quantities per inventorySetQuantities call) and what
myOGO's simulator counts.

The floors: a catalog read with ONE bulk operation whatever its size (not a page of a connection per 250 variants);
an order costs one myOGO create and no Shopify call beyond its share of the poll's pages; a shipment costs one
`fulfillmentCreate` and one read of the order; stock is written in calls of up to 250 quantities, only for SKUs whose
value changed, and a run with nothing changed writes nothing.

`python -m ogosync_local.bench_shopify --variants 2000 --orders 500 --changed 600 [--markdown docs/benchmarks.md]`
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ogosync.models import Flow, IntegrationSettings
from ogosync_local.markdown import replace_section, table
from ogosync_local.stack import LocalStack, ShopifySetup

INTEGRATION = "bench-shopify"
VARIANTS_PER_PRODUCT = 10
INVENTORY_BATCH = 250  # Shopify's largest input array (docs/api/shopify.md, "Stock")


@dataclass
class Run:
    name: str
    items: int
    seconds: float
    shopify: Counter[str]
    myogo: int
    floor: str
    measured: str


@dataclass
class ShopifyBench:
    variants: int
    orders: int
    changed: int
    runs: list[Run] = field(default_factory=list)
    quantities_per_call: list[int] = field(default_factory=list)


def bench_shopify(variants: int, orders: int, changed: int) -> ShopifyBench:
    bench = ShopifyBench(variants, orders, changed)
    with LocalStack(quiet=True) as stack:
        codes = [f"BS{n:05d}" for n in range(variants)]
        shop = stack.add_shopify_store(
            INTEGRATION,
            shipping_map={"Standard": "POSTI-PAKETTI"},
            products=dict.fromkeys(codes, 1000),
            settings=IntegrationSettings(order_poll_minutes=1),
        )
        made = []
        for start in range(0, variants, VARIANTS_PER_PRODUCT):
            batch = codes[start : start + VARIANTS_PER_PRODUCT]
            specs = [
                {"sku": code, "title": code[-2:], "stock": 1000, "location_id": shop.location_id} for code in batch
            ]
            made.append(shop.shopify.add_product(f"Product {start // VARIANTS_PER_PRODUCT}", specs))
        _measure(bench, stack, shop, "products: the catalog read (scheduled sync)", variants, Flow.PRODUCTS)
        stack.seed_shopify_bindings(INTEGRATION, made)
        for n in range(orders):
            shop.shopify.add_order([{"sku": codes[n % variants], "quantity": 1}], location_id=shop.location_id)
        _measure(bench, stack, shop, "orders: the poll sends each paid order", orders, Flow.ORDERS)
        stack.myogo.advance(2)
        _measure(bench, stack, shop, "tracking: one fulfillment per shipped order", orders, Flow.TRACKING)
        _measure(bench, stack, shop, "stock: the first run (a reconciliation)", variants, Flow.STOCK)
        for code in codes[:changed]:
            stack.myogo.set_stock(shop.merchant_id, code, 500)
        _measure(bench, stack, shop, "stock: SKUs changed in myOGO", changed, Flow.STOCK)
        _measure(bench, stack, shop, "stock: nothing changed", 0, Flow.STOCK)
        bench.quantities_per_call = list(shop.shopify.inventory_call_sizes)
    return bench


def _measure(bench: ShopifyBench, stack: LocalStack, shop: ShopifySetup, name: str, items: int, flow: Flow) -> None:
    before_shopify, before_myogo = Counter(shop.shopify.operation_calls), sum(stack.myogo.calls.values())
    started = time.monotonic()
    stack.enqueue_flow(INTEGRATION, flow)
    stack.run_flow(flow, redeliver_failures=True)
    seconds = time.monotonic() - started
    shopify = Counter(shop.shopify.operation_calls) - before_shopify
    myogo = sum(stack.myogo.calls.values()) - before_myogo
    counts = stack.state().get_cursor(INTEGRATION, flow).last_counts
    floor, measured = _floor(flow, name, items, shopify, counts)
    bench.runs.append(Run(name, items, seconds, shopify, myogo, floor, measured))


def _floor(flow: Flow, name: str, items: int, shopify: Counter[str], counts: dict[str, int]) -> tuple[str, str]:
    if flow is Flow.PRODUCTS:
        return "1 bulk operation", f"{shopify['BulkOperationRunQuery']} bulk operation, 0 connection pages"
    if flow is Flow.ORDERS:
        return "1 myOGO create an order", f"{counts.get('created', 0)} created"
    if flow is Flow.TRACKING:
        return "1 fulfillmentCreate an order", f"{shopify['FulfillmentCreate']} fulfillmentCreate"
    writes = shopify["InventorySetQuantities"]
    if "nothing" in name:
        return "0 writes", f"{writes} writes, {counts.get('written', 0)} written"
    return (
        f"{math.ceil(items / INVENTORY_BATCH)} calls of <= 250",
        f"{writes} calls, {counts.get('written', 0)} written",
    )


def render(bench: ShopifyBench, command: str) -> str:
    rows = [
        [
            run.name,
            str(run.items),
            f"{run.seconds:.1f}",
            ", ".join(f"{name} {count}" for name, count in sorted(run.shopify.items())) or "-",
            str(run.myogo),
            run.floor,
            run.measured,
        ]
        for run in bench.runs
    ]
    sizes = Counter(bench.quantities_per_call)
    spread = ", ".join(f"{size} x {count}" for size, count in sorted(sizes.items(), reverse=True))
    return "\n\n".join(
        [
            f"`{command}` (the simulators answer at once; times are this 2-core machine's, shared):",
            table(["run", "items", "s", "Shopify GraphQL operations", "myOGO calls", "floor", "measured"], rows),
            f"Quantities per `inventorySetQuantities` call (largest allowed: {INVENTORY_BATCH}): {spread or '-'}.",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=2000)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--changed", type=int, default=600)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    command = "python -m ogosync_local.bench_shopify " + " ".join(sys.argv[1:] if argv is None else argv)
    text = render(bench_shopify(args.variants, args.orders, args.changed), command)
    print(text)
    if args.markdown:
        replace_section(args.markdown, "bench-shopify", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
