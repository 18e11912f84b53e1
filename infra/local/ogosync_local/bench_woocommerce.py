"""`make bench`, WooCommerce's part: one WooCommerce merchant on the local stack, each flow measured against its
floor by what the WooCommerce simulator counts (REST calls per route, items per accepted batch, 413 refusals) and
what myOGO's simulator counts, with every call to both simulators answered after `--latency-ms` (20 ms, as the
Centra bench).

The floors (API facts: docs/api/woocommerce.md):
- products: the catalog in pages of 100 (`_fields` trimmed), ceil(products / 100) pages, plus one page of
  variations per variable product (up to 100 variations each), plus the shop's currency;
- orders: one myOGO create an order, ceil(orders / 100) pages of `GET /orders` per poll and no read of an order
  by id;
- tracking: per shipment one read of the order (its lines and status are checked before the write) and the
  writes: ONE `PUT /orders/{id}` (meta and status), one customer note, and one Shipment Tracking entry per tracking
  number when the extension is active (its presence is read from `GET /wp-json/`, again when that read is 15
  minutes old);
- stock: only the SKUs whose value changed, in batch calls of at most 100 per route: ceil(n / 100) calls of
  `/products/batch` for simple products and, per variable product, ceil(n / 100) calls of its own
  `/products/{id}/variations/batch`; nothing written when nothing changed. With a shop whose batch limit is lower
  (the `woocommerce_rest_batch_items_limit` filter), the floor is one refused call per container (nothing tells the
  limit before; its 413 names it) and then calls of the limit's size.

The stack is bench.py's: moto in its own process, the state table in DynamoDB Local. Uncertain: the simulator
answers at once plus the set latency; a real shop's PHP takes far longer per call, so the
seconds here are a lower bound and the call counts are what carries over.

`python -m ogosync_local.bench_woocommerce --simple 1000 --variable 100 --variations 10 --orders 500 --changed 600
[--markdown docs/benchmarks.md]`
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ogosync.models import Flow, IntegrationSettings
from ogosync.stores.woocommerce.client import MAX_PER_PAGE
from ogosync.stores.woocommerce.store import STOCK_BATCH_SIZE
from ogosync_local.markdown import replace_section, table
from ogosync_local.sim.faults import FaultConfig
from ogosync_local.stack import LocalStack, WooCommerceSetup

INTEGRATION = "bench-woocommerce"
SHIPPING_METHOD = "Flat rate"
API = "/wp-json/wc/v3"
PRODUCT_PAGES = f"GET {API}/products"
VARIATION_PAGES = f"GET {API}/products/{{id}}/variations"
ORDER_PAGES = f"GET {API}/orders"
ORDER_READS = f"GET {API}/orders/{{id}}"
ORDER_WRITES = f"PUT {API}/orders/{{id}}"
NOTES = f"POST {API}/orders/{{id}}/notes"
TRACKING_ENTRIES = "POST /wp-json/wc-shipment-tracking/v3/orders/{id}/shipment-trackings"
PRODUCT_BATCHES = f"POST {API}/products/batch"
VARIATION_BATCHES = f"POST {API}/products/{{id}}/variations/batch"
CURRENCY_READS = (f"GET {API}/data/currencies/current", f"GET {API}/system_status")
SMALL_BATCH_LIMIT = 30  # the 413 case: a shop whose filter allows 30 items a batch


@dataclass
class Run:
    name: str
    items: int
    seconds: float
    calls: Counter[str]
    myogo: int
    floor: str
    measured: str
    meets: bool

    @property
    def per_second(self) -> float:
        return self.items / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Catalog:
    """The shop's SKUs: simple products, and variations grouped by their parent's id."""

    simple: list[str] = field(default_factory=list)
    variations: dict[str, list[str]] = field(default_factory=dict)
    made: list[dict[str, Any]] = field(default_factory=list)

    @property
    def skus(self) -> list[str]:
        return [*self.simple, *(sku for skus in self.variations.values() for sku in skus)]

    def batch_floor(self, skus: Iterable[str], limit: int = STOCK_BATCH_SIZE) -> tuple[int, int]:
        """(product batch calls, variation batch calls) that writing these SKUs needs at `limit` items a call."""
        chosen = set(skus)
        simple = sum(sku in chosen for sku in self.simple)
        per_parent = [sum(sku in chosen for sku in skus) for skus in self.variations.values()]
        return math.ceil(simple / limit), sum(math.ceil(count / limit) for count in per_parent)


@dataclass
class WooCommerceBench:
    simple: int
    variable: int
    variations: int
    orders: int
    changed: int
    latency_ms: float
    runs: list[Run] = field(default_factory=list)
    items_per_batch: list[int] = field(default_factory=list)


def bench_woocommerce(
    simple: int, variable: int, variations: int, orders: int, changed: int, latency_ms: float = 20
) -> WooCommerceBench:
    bench = WooCommerceBench(simple, variable, variations, orders, changed, latency_ms)
    # As bench.py: moto in its own process and the table in DynamoDB Local (moto's transactions copy the table)
    with LocalStack(quiet=True, moto_process=True, dynamodb_local=True) as stack:
        catalog = Catalog()
        codes = [_simple_sku(n) for n in range(simple)]
        codes += [_variation_sku(p, v) for p in range(variable) for v in range(variations)]
        shop = stack.add_woocommerce_store(
            INTEGRATION,
            shipping_map={SHIPPING_METHOD: "POSTI-PAKETTI"},
            products=dict.fromkeys(codes, 1000),
            settings=IntegrationSettings(order_poll_minutes=1),
        )
        _fill(shop, catalog, simple, variable, variations)
        for simulator in (stack.myogo, shop.woocommerce):
            simulator.faults.configure(FaultConfig(latency_ms=latency_ms))
        _products(bench, stack, shop, catalog, variable)
        stack.seed_woocommerce_bindings(INTEGRATION, catalog.made)
        skus = catalog.skus
        for n in range(orders):
            shop.woocommerce.add_order([{"sku": skus[n % len(skus)], "quantity": 1}], shipping_method=SHIPPING_METHOD)
        _orders(bench, stack, shop, orders)
        _tracking(bench, stack, shop)
        _stock(bench, stack, shop, catalog, changed)
        bench.items_per_batch = list(shop.woocommerce.batch_sizes)
    return bench


def _fill(shop: WooCommerceSetup, catalog: Catalog, simple: int, variable: int, variations: int) -> None:
    site = shop.woocommerce
    for n in range(simple):
        made = site.add_product(f"Product {n}", sku=_simple_sku(n), stock_quantity=1000)
        catalog.simple.append(_simple_sku(n))
        catalog.made.append(made)
    for p in range(variable):
        skus = [_variation_sku(p, v) for v in range(variations)]
        specs = [{"sku": sku, "attributes": {"Size": sku[-3:]}, "stock_quantity": 1000} for sku in skus]
        made = site.add_product(f"Variable product {p}", variations=specs)
        catalog.variations[str(made["id"])] = skus
        catalog.made.append(made)


def _simple_sku(n: int) -> str:
    return f"WS{n:05d}"


def _variation_sku(product: int, variation: int) -> str:
    return f"WV{product:04d}-{variation:03d}"


def _products(
    bench: WooCommerceBench, stack: LocalStack, shop: WooCommerceSetup, catalog: Catalog, variable: int
) -> None:
    window = _Window(stack, shop)
    window.run(Flow.PRODUCTS)
    items = len(catalog.skus)
    product_pages, variation_pages = window.calls[PRODUCT_PAGES], window.calls[VARIATION_PAGES]
    listed = len(catalog.simple) + variable
    pages_floor = math.ceil(listed / MAX_PER_PAGE)
    variations_floor = sum(math.ceil(len(skus) / MAX_PER_PAGE) for skus in catalog.variations.values())
    currency = sum(window.calls[route] for route in CURRENCY_READS)
    reads = product_pages + variation_pages + currency
    bench.runs.append(
        window.finish(
            "products: the catalog read (scheduled sync)",
            items,
            f"{pages_floor} product pages + {variations_floor} variation pages + 1 currency read "
            f"({(pages_floor + variations_floor + 1) / max(items, 1):.3f} reads an item)",
            f"{product_pages} + {variation_pages} + {currency} ({reads / max(items, 1):.3f} reads an item)",
            product_pages == pages_floor and variation_pages == variations_floor and currency <= 1,
        )
    )


def _orders(bench: WooCommerceBench, stack: LocalStack, shop: WooCommerceSetup, orders: int) -> None:
    window = _Window(stack, shop)
    polls = window.run(Flow.ORDERS)
    created = stack.state().get_cursor(INTEGRATION, Flow.ORDERS).last_counts.get("created", 0)
    pages, by_id = window.calls[ORDER_PAGES], window.calls[ORDER_READS]
    per_poll = math.ceil(orders / MAX_PER_PAGE)
    bench.runs.append(
        window.finish(
            "orders: the poll sends each paid order",
            orders,
            f"{orders} myOGO creates, {per_poll} order pages a poll, 0 reads by id",
            f"{created} created, {pages} pages in {polls} poll(s), {by_id} reads by id",
            created == orders and pages == per_poll * polls and by_id == 0,
        )
    )


def _tracking(bench: WooCommerceBench, stack: LocalStack, shop: WooCommerceSetup) -> None:
    """Half the orders shipped without the Shipment Tracking extension, the other half after the merchant installed
    it, in a fresh container (a warm one reads the REST index again after `INDEX_MAX_AGE`)."""
    references = sorted(stack.myogo.orders(shop.merchant_id))
    half = references[: len(references) // 2]
    for reference in half:
        for status in ("collecting", "shipped"):
            stack.myogo.set_status(shop.merchant_id, reference, status)
    _tracking_run(bench, stack, shop, len(half), "tracking: shipped orders, no Shipment Tracking extension", 0)
    shop.woocommerce.configure(shipment_tracking=True)
    stack.expire_cached_credentials()  # a fresh container: the functions build their adapters afresh
    stack.myogo.advance(2)
    rest = len(references) - len(half)
    _tracking_run(bench, stack, shop, rest, "tracking: shipped orders, Shipment Tracking extension active", 1)


def _tracking_run(
    bench: WooCommerceBench, stack: LocalStack, shop: WooCommerceSetup, shipments: int, name: str, entries: int
) -> None:
    window = _Window(stack, shop)
    window.run(Flow.TRACKING)
    reads, puts, notes = window.calls[ORDER_READS], window.calls[ORDER_WRITES], window.calls[NOTES]
    tracked = window.calls[TRACKING_ENTRIES]
    writes = puts + notes + tracked
    floor_writes = 2 + entries
    bench.runs.append(
        window.finish(
            name,
            shipments,
            f"a shipment: 1 read, {floor_writes} writes (1 PUT, 1 note{', 1 tracking entry' if entries else ''})",
            f"{reads} reads, {writes} writes ({puts} PUT, {notes} notes, {tracked} tracking entries)",
            reads == shipments and puts == shipments and notes == shipments and tracked == shipments * entries,
        )
    )


def _stock(bench: WooCommerceBench, stack: LocalStack, shop: WooCommerceSetup, catalog: Catalog, changed: int) -> None:
    skus = catalog.skus
    _stock_run(bench, stack, shop, catalog, "stock: the first run (a reconciliation)", skus)
    chosen = _spread(catalog, changed)
    for sku in chosen:
        stack.myogo.set_stock(shop.merchant_id, sku, 500)
    _stock_run(bench, stack, shop, catalog, "stock: SKUs changed in myOGO", chosen)
    _stock_run(bench, stack, shop, catalog, "stock: nothing changed", [])
    shop.woocommerce.configure(batch_limit=SMALL_BATCH_LIMIT)
    for round_number, quantity in enumerate((400, 300), start=1):
        refused = catalog.simple[:STOCK_BATCH_SIZE]
        for sku in refused:
            stack.myogo.set_stock(shop.merchant_id, sku, quantity)
        name = f"stock: a shop limited to {SMALL_BATCH_LIMIT} items a batch (run {round_number})"
        _stock_run(bench, stack, shop, catalog, name, refused, limit=SMALL_BATCH_LIMIT)


def _spread(catalog: Catalog, changed: int) -> list[str]:
    """Half the changed SKUs simple products, half variations (filling one parent after another)."""
    variations = [sku for skus in catalog.variations.values() for sku in skus]
    simple = catalog.simple[: changed - min(changed // 2, len(variations))]
    return [*simple, *variations[: changed - len(simple)]]


def _stock_run(
    bench: WooCommerceBench,
    stack: LocalStack,
    shop: WooCommerceSetup,
    catalog: Catalog,
    name: str,
    skus: Sequence[str],
    limit: int = STOCK_BATCH_SIZE,
) -> None:
    refusals_before = shop.woocommerce.batch_refusals
    window = _Window(stack, shop)
    window.run(Flow.STOCK)
    written = stack.state().get_cursor(INTEGRATION, Flow.STOCK).last_counts.get("written", 0)
    refused = shop.woocommerce.batch_refusals - refusals_before
    products, variations = window.calls[PRODUCT_BATCHES], window.calls[VARIATION_BATCHES]
    floor_products, floor_variations = catalog.batch_floor(skus, limit)
    accepted = products + variations - refused
    if not skus:
        floor, meets = "0 writes", products + variations == 0
    elif limit < STOCK_BATCH_SIZE:
        floor = f"<= 1 refused + {floor_products + floor_variations} calls of <= {limit}"
        meets = refused <= 1 and accepted == floor_products + floor_variations
    else:
        floor = f"{floor_products} product + {floor_variations} variation batches of <= {limit}"
        meets = products == floor_products and variations == floor_variations
    measured = f"{products} product + {variations} variation batches ({refused} refused), {written} written"
    bench.runs.append(window.finish(name, len(skus), floor, measured, meets and written == len(skus)))


class _Window:
    """What the simulators count while one flow's scheduled job runs (all the jobs it queues for itself too)."""

    def __init__(self, stack: LocalStack, shop: WooCommerceSetup) -> None:
        self._stack, self._shop = stack, shop
        self._calls = Counter(shop.woocommerce.calls)
        self._myogo = sum(stack.myogo.calls.values())
        self._started = time.monotonic()
        self.calls: Counter[str] = Counter()
        self.seconds = 0.0

    def run(self, flow: Flow) -> int:
        """The flow's job and every follow-up it queues; returns the worker's invocations."""
        self._stack.enqueue_flow(INTEGRATION, flow)
        report = self._stack.run_flow(flow, redeliver_failures=True)
        self.seconds = time.monotonic() - self._started
        self.calls = Counter(self._shop.woocommerce.calls) - self._calls
        return report.invocations

    def finish(self, name: str, items: int, floor: str, measured: str, meets: bool) -> Run:
        myogo = sum(self._stack.myogo.calls.values()) - self._myogo
        return Run(name, items, self.seconds, self.calls, myogo, floor, measured, meets)


def render(bench: WooCommerceBench, command: str) -> str:
    rows = [
        [
            run.name,
            str(run.items),
            f"{run.seconds:.1f}",
            f"{run.per_second:.0f}" if run.items else "-",
            ", ".join(f"{_short(route)} {count}" for route, count in sorted(run.calls.items())) or "-",
            str(run.myogo),
            run.floor,
            run.measured,
            "yes" if run.meets else "**no**",
        ]
        for run in bench.runs
    ]
    sizes = Counter(bench.items_per_batch)
    spread = ", ".join(f"{size} x {count}" for size, count in sorted(sizes.items(), reverse=True))
    header = ["run", "items", "s", "items/s", "WooCommerce calls", "myOGO calls", "floor", "measured", "floor met"]
    return "\n\n".join(
        [
            f"`{command}` ({bench.simple} simple products, {bench.variable} variable ones of {bench.variations} "
            f"variations; every call to WooCommerce and myOGO answered after {bench.latency_ms:g} ms; times are "
            "this 2-core machine's, shared):",
            table(header, rows),
            f"Items per accepted batch call (largest allowed: {STOCK_BATCH_SIZE}): {spread or '-'}.",
        ]
    )


def _short(route: str) -> str:
    return route.replace(API, "").replace("/wp-json/wc-shipment-tracking/v3", "(tracking)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--simple", type=int, default=1000)
    parser.add_argument("--variable", type=int, default=100)
    parser.add_argument("--variations", type=int, default=10)
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--changed", type=int, default=600)
    parser.add_argument("--latency-ms", type=float, default=20)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    command = "python -m ogosync_local.bench_woocommerce " + " ".join(sys.argv[1:] if argv is None else argv)
    bench = bench_woocommerce(args.simple, args.variable, args.variations, args.orders, args.changed, args.latency_ms)
    text = render(bench, command)
    print(text)
    if args.markdown:
        replace_section(args.markdown, "bench-woocommerce", text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
