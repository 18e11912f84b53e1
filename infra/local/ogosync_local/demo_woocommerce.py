"""`make demo`, the WooCommerce merchant beside the Centra and the Shopify ones: the same four flows through the
registry's WooCommerce adapter, on the WooCommerce simulator (REST API wc/v3, batch endpoints, HMAC-signed webhooks
that WooCommerce never retries, the Shipment Tracking extension switched on).

The merchant sets the integration up with the CLI (consumer key and secret, the shop's root URL); the set-up check
is shown refusing plain permalinks and a read-only key before it accepts the read/write key. Then "Refresh" and
"Create product": simple products and variations become myOGO products with their EAN (`global_unique_id`, else the
`_nettivarasto_eancode` meta, which a variation inherits from its parent); a product without SKU and two variations
sharing one are reported, never sent; an item marked `_nettivarasto_no_export` = yes is skipped. Orders: paid
(`processing`) ones, one `pending`, one `on-hold`, one with a shipping method without a myOGO code; webhooks come
twice or never; the receiver, the worker and the poll bring each paid order to myOGO once. myOGO ships: each order
gets one tracking write. The stock sync writes `stock_quantity` through the batch routes; WooCommerce has no
compare-and-swap, so a sale between the read and the write is overwritten and corrected by the next run.

The check of what is in transit mirrors the stock rule (docs/api/woocommerce.md and ogosync/sync/stock.py): the
lines of orders that myOGO does not have and whose units WooCommerce took from its stock (`processing` and
`on-hold`; a `pending` order holds none until it is paid).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ogosync.models import Flow
from ogosync_local.demo_platform import Cli, DemoOrders, refresh_and_create
from ogosync_local.serve import write_private
from ogosync_local.stack import LocalStack, WooCommerceMerchant

INTEGRATION = "acme-woo"
SHIPPING_MAP = {"Flat rate": "POSTI-PAKETTI", "Local pickup": "POSTI-NOUTO"}
UNMAPPED_METHOD = "Express"
MUG_SKU, MUG_EAN, MUG_UNITS = "MUG-WHT", "6400000000011", 30  # a simple product with its global_unique_id
HOODIE_EAN = "6400000000028"  # the parent's `_nettivarasto_eancode`, inherited by a variation without its own
HOODIE = {  # SKU -> (size, own global_unique_id, units in the warehouse)
    "HOOD-GRY-S": ("S", "6400000000035", 12),
    "HOOD-GRY-M": ("M", "", 20),
}
EXPECTED_EAN = {MUG_SKU: MUG_EAN, "HOOD-GRY-S": "6400000000035", "HOOD-GRY-M": HOODIE_EAN}
NO_EXPORT_SKU = "WRAP"
HOLDING_STOCK = frozenset({"processing", "on-hold"})  # WooCommerce took their units from stock_quantity
TRACKING_ROUTE = "PUT /wp-json/wc/v3/orders/{id}"
Section = Callable[[str], str]


def run_woocommerce(stack: LocalStack, folder: Path, cli: Cli, section: Section) -> bool:
    """The WooCommerce merchant's whole cycle on the running stack; True when every flow converged."""
    site = _set_up(stack, folder, cli, section)
    products_ok = _products(stack, site, cli, section)
    placed, held = _place_orders(site)
    orders = DemoOrders(stack, INTEGRATION, site.merchant_id, placed, held)
    _orders_to_myogo(site, orders, section)
    orders_ok = orders.summary(
        section("Summary: WooCommerce orders (store -> myOGO)"), "paid (processing) and shippable"
    )
    tracking_ok = _ship_and_track(stack, site, section)
    stock_ok = _stock(stack, site, section)
    calls = ", ".join(f"{name} {count}" for name, count in sorted(site.woocommerce.calls.items()))
    print(f"   WooCommerce REST calls: {calls}")
    return products_ok and orders_ok and tracking_ok and stock_ok


# ---- set-up -----------------------------------------------------------------------------------------------------


def _set_up(stack: LocalStack, folder: Path, cli: Cli, section: Section) -> WooCommerceMerchant:
    print(section("WooCommerce: the merchant sets the integration up with the ogosync CLI"))
    site = stack.add_woocommerce_merchant(INTEGRATION, shipping_codes=set(SHIPPING_MAP.values()))
    site.woocommerce.configure(shipment_tracking=True)  # the Shipment Tracking extension is active in this shop
    store = site.secret_values["store"]
    flat = {name: value for name, value in site.secret_values.items() if name != "store"}
    good = folder / "woocommerce-credentials.json"
    write_private(good, flat | {"consumer_key": store["consumer_key"], "consumer_secret": store["consumer_secret"]})
    read_only = folder / "woocommerce-read-only.json"
    site.woocommerce.add_key("ck_demo_read_only", "cs_demo_read_only", "read")
    write_private(read_only, flat | {"consumer_key": "ck_demo_read_only", "consumer_secret": "cs_demo_read_only"})
    create = [
        "integrations", "create", INTEGRATION, "--platform", "woocommerce", "--merchant-name", "Acme Home",
        "--store-url", site.woocommerce.root_url, "--myogo-url", stack.myogo.root_url,
        "--myogo-token-url", stack.myogo_token_url, "--warehouse", "TLL", "--time-zone", "Europe/Helsinki",
        "--set", "order_poll_minutes=1",
    ]  # fmt: skip
    print("   The set-up check reads the REST index at /wp-json/ (pretty permalinks, wc/v3 served), reads orders with")
    print("   the key and sends an empty batch write (only a read/write key may):")
    site.woocommerce.configure(plain_permalinks=True)
    _refused(cli, [*create, "--credentials-file", str(good), "--json"], "Settings -> Permalinks is Plain")
    site.woocommerce.configure(plain_permalinks=False)
    _refused(cli, [*create, "--credentials-file", str(read_only), "--json"], "a read-only key")
    cli([*create, "--credentials-file", str(good)], 0)
    index = httpx.get(f"{site.woocommerce.root_url}/wp-json/", timeout=10).json()
    print(f"   the shop's REST API serves: {', '.join(index['namespaces'])}")
    cli(["integrations", "webhook", INTEGRATION], 0)
    print("   the merchant adds the two webhooks in WooCommerce as instructed; WooCommerce lists:")
    for hook in site.woocommerce.webhooks():
        print(f"      {hook['topic']:<14} {hook['status']:<7} -> {hook['delivery_url']}")
    for method, code in SHIPPING_MAP.items():
        cli(["shipping", "set", INTEGRATION, method, code], 0)
    return site


def _refused(cli: Cli, command: list[str], case: str) -> None:
    answer = json.loads(cli(command, 1))
    print(f"   refused ({case}): {answer.get('message', answer)}")


# ---- products -----------------------------------------------------------------------------------------------------


def _products(stack: LocalStack, site: WooCommerceMerchant, cli: Cli, section: Section) -> bool:
    print(section('WooCommerce products: "Refresh", then "Create product"'))
    _stock_the_shop(site)
    listed = refresh_and_create(stack, INTEGRATION, cli)
    in_myogo = stack.myogo.products(site.merchant_id)
    for sku, (_, _, units) in HOODIE.items():
        stack.myogo.set_stock(site.merchant_id, sku, units)  # the goods arrive at the warehouse
    stack.myogo.set_stock(site.merchant_id, MUG_SKU, MUG_UNITS)
    for sku in sorted(in_myogo):
        print(f"   in myOGO: {sku:<11} {in_myogo[sku]['name']:<22} EAN {in_myogo[sku].get('eanCode')}")
    listed_skus = {row["sku"] for row in listed["rows"]}
    print(f"   {NO_EXPORT_SKU} (_nettivarasto_no_export = yes): listed {NO_EXPORT_SKU in listed_skus}, "
          f"in myOGO {NO_EXPORT_SKU in in_myogo}")  # fmt: skip
    eans = {sku: in_myogo[sku].get("eanCode") for sku in EXPECTED_EAN if sku in in_myogo}
    return set(in_myogo) == set(EXPECTED_EAN) and eans == EXPECTED_EAN and listed["counts"]["error"] == 3


def _stock_the_shop(site: WooCommerceMerchant) -> None:
    shop = site.woocommerce
    shop.add_product(
        "Mug", sku=MUG_SKU, global_unique_id=MUG_EAN, price="12.00", stock_quantity=MUG_UNITS,
        description="<p>A <b>stoneware</b> mug</p>",
    )  # fmt: skip
    shop.add_product(
        "Hoodie",
        price="49.00",
        description="<p>Hoodie by <b>Acme</b></p>",
        meta={"_nettivarasto_eancode": HOODIE_EAN},
        variations=[
            {"sku": sku, "attributes": {"Size": size}, "global_unique_id": gtin, "stock_quantity": units}
            for sku, (size, gtin, units) in HOODIE.items()
        ],
    )
    # What the merchant has to fix in WooCommerce: a product without SKU and two variations sharing one.
    shop.add_product("Gift card", sku="", price="25.00")
    shop.add_product("Socks", variations=[{"sku": "SOCK", "attributes": {"Colour": c}} for c in ("White", "Black")])
    # Never sent to the warehouse, as the merchant marked it.
    shop.add_product("Gift wrap", sku=NO_EXPORT_SKU, meta={"_nettivarasto_no_export": "yes"})


# ---- orders -------------------------------------------------------------------------------------------------------


def _place_orders(site: WooCommerceMerchant) -> tuple[list[str], dict[str, str]]:
    shop, skus = site.woocommerce, [MUG_SKU, *HOODIE]
    placed = []
    for n in range(8):
        method = "Local pickup" if n % 4 == 0 else "Flat rate"
        order = shop.add_order([{"sku": skus[n % len(skus)], "quantity": 1 + n % 2}], shipping_method=method)
        placed.append(str(order["id"]))
    held = {
        str(shop.add_order([{"sku": skus[0], "quantity": 1}], status="pending")["id"]): "pending (not paid)",
        str(shop.add_order([{"sku": skus[1], "quantity": 1}], status="on-hold")["id"]): "on-hold in WooCommerce",
        str(shop.add_order([{"sku": skus[2], "quantity": 1}], shipping_method=UNMAPPED_METHOD)["id"]): (
            f"shipping method '{UNMAPPED_METHOD}' has no myOGO code"
        ),
    }
    return placed, held


def _orders_to_myogo(site: WooCommerceMerchant, orders: DemoOrders, section: Section) -> None:
    print(section("WooCommerce orders: signed webhooks (twice or never, never retried), the worker, the poll"))
    deliveries = site.woocommerce.deliver_webhooks(duplicate_rate=0.3, loss_rate=0.25, reorder=True, seed=5)
    lost, twice = sum(1 for d in deliveries if d.lost), sum(1 for d in deliveries if d.duplicated)
    print(
        f"   {len(deliveries) - lost - twice} delivered, {twice} twice (the same X-WC-Webhook-Delivery-ID), {lost} lost"
    )
    orders.work_then_poll("modified_after")


# ---- shipping and tracking ------------------------------------------------------------------------------------------


def _ship_and_track(stack: LocalStack, site: WooCommerceMerchant, section: Section) -> bool:
    print(section("WooCommerce tracking: myOGO ships, each order gets one tracking write"))
    stack.myogo.advance(2)
    for _ in range(3):
        stack.enqueue_flow(INTEGRATION, Flow.TRACKING)
        stack.run_flow(Flow.TRACKING, redeliver_failures=True)
        if not _tracking_problems(stack, site):
            break
    shipped = _shipped(stack, site)
    for reference in sorted(shipped):
        order = site.woocommerce.order(reference)
        meta = {row["key"]: row["value"] for row in order["meta_data"]}
        entries = [row["tracking_number"] for row in order["shipment_trackings"]]
        notes = sum(1 for note in order["notes"] if note["customer_note"])
        print(
            f"      order {reference:<6} {order['status']:<9} ogoship_tracking {meta.get('ogoship_tracking')!r}, "
            f"Shipment Tracking {entries}, customer notes {notes}"
        )
    writes = site.woocommerce.calls[TRACKING_ROUTE]
    problems = _tracking_problems(stack, site)
    print(f"   shipped in myOGO {len(shipped)}; order writes (PUT) {writes}; not tracked exactly once: {problems}")
    return bool(shipped) and not problems and writes == len(shipped)


def _shipped(stack: LocalStack, site: WooCommerceMerchant) -> dict[str, dict[str, Any]]:
    orders = stack.myogo.orders(site.merchant_id)
    return {order["reference"]: order for order in orders.values() if order["status"] == "shipped"}


def _tracking_problems(stack: LocalStack, site: WooCommerceMerchant) -> list[str]:
    """Shipped orders whose WooCommerce order lacks exactly one tracking write: the meta with myOGO's tracking codes
    and link, one Shipment Tracking entry per code, one customer note, status completed and its e-mail once."""
    problems = []
    for reference, shipped in _shipped(stack, site).items():
        numbers = [code.strip() for code in (shipped["trackingNumber"] or "").split(",") if code.strip()]
        order = site.woocommerce.order(reference)
        meta = {row["key"]: row["value"] for row in order["meta_data"]}
        tracked = (
            meta.get("ogoship_tracking") == ", ".join(numbers)
            and meta.get("ogoship_tracking_url") == (shipped["trackingUrl"] or "")
            and [row["tracking_number"] for row in order["shipment_trackings"]] == numbers
            and sum(1 for note in order["notes"] if note["customer_note"]) == 1
            and order["status"] == "completed"
            and order["emails"].count("customer_completed_order") == 1
        )
        if not tracked:
            problems.append(reference)
    return problems


# ---- stock --------------------------------------------------------------------------------------------------------


def _stock(stack: LocalStack, site: WooCommerceMerchant, section: Section) -> bool:
    print(section("WooCommerce stock: stock_quantity through the batch routes, no compare-and-swap"))
    _stock_run(stack, site)
    sku = next(iter(HOODIE))
    stack.myogo.set_stock(site.merchant_id, sku, stack.myogo.stock(site.merchant_id, sku)["stock"] + 10)
    site.woocommerce.sell(sku, before_next_stock_write=True)
    print(f"   10 x {sku} arrive in myOGO; a shopper buys one between the stock run's read and its write")
    _stock_run(stack, site)
    overwritten = _stock_problems(stack, site)
    print(f"   the sale was overwritten (WooCommerce takes the last write): SKUs off by it {overwritten}")
    _stock_run(stack, site)
    corrected = _stock_problems(stack, site)
    print(f"   the next run counts the sale's order as in transit: SKUs still off {corrected}")
    unchanged = _stock_run(stack, site)
    print(f"   a run with nothing changed writes {unchanged.get('written', 0)}")
    print(f"   SKUs not sold at max(0, myOGO available - in transit): {len(corrected)}")
    return overwritten == [sku] and not corrected and unchanged.get("written", 0) == 0


def _stock_run(stack: LocalStack, site: WooCommerceMerchant) -> dict[str, int]:
    batches_before = len(site.woocommerce.batch_sizes)
    stack.enqueue_flow(INTEGRATION, Flow.STOCK)
    stack.run_flow(Flow.STOCK, redeliver_failures=True)
    counts = dict(stack.state().get_cursor(INTEGRATION, Flow.STOCK).last_counts)
    shown = ("full", "written", "unchanged", "in_transit_units")
    batches = site.woocommerce.batch_sizes[batches_before:]
    print("   stock run: " + ", ".join(f"{name} {counts.get(name, 0)}" for name in shown) + f"; batch sizes {batches}")
    return counts


def _stock_problems(stack: LocalStack, site: WooCommerceMerchant) -> list[str]:
    """SKUs whose stock_quantity is not max(0, myOGO available - in transit), where in transit are the lines of
    orders holding the shop's stock that myOGO does not have."""
    in_myogo = Counter(order["reference"] for order in stack.myogo.orders(site.merchant_id).values())
    transit: Counter[str] = Counter()
    for order_id in site.woocommerce.order_ids():
        order = site.woocommerce.order(order_id)
        if order["status"] in HOLDING_STOCK and not in_myogo[str(order_id)]:
            for line in order["line_items"]:
                transit[line["sku"]] += line["quantity"]
    problems = []
    for sku in EXPECTED_EAN:
        expected = max(0, stack.myogo.stock(site.merchant_id, sku)["stockAvailable"] - transit[sku])
        if site.woocommerce.stock(sku)["stock_quantity"] != expected:
            problems.append(sku)
    return problems
