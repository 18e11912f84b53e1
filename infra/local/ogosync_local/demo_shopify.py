"""`make demo`, the Shopify merchant beside the Centra one: the same four flows through the registry's Shopify
adapter, on the Shopify simulator (GraphQL Admin API 2026-04, cost-based throttling, bulk operations, fulfillment
orders per location, inventory with compare-and-swap, HMAC-signed webhooks).

The merchant sets the integration up with the CLI (client id and secret, the warehouse's location as
`--option location_id`), then "Refresh" and "Create product" (a variant without SKU and two variants sharing one are
reported, never sent). Orders: paid ones, one unpaid, one on a fulfillment hold, one with a shipping method without
a myOGO code, and one Shopify ships from its own location only. Webhooks come twice or never and Shopify throttles;
the receiver, the worker and the poll bring each paid order to myOGO once. myOGO ships: each order gets one
fulfillment with every tracking number. The stock sync sets `available` at the warehouse's location; a sale made
between its read and its write is not overwritten, the value is recomputed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ogosync.models import Flow
from ogosync_local.demo_platform import Cli, DemoOrders, refresh_and_create
from ogosync_local.serve import write_private
from ogosync_local.stack import LocalStack, ShopifyMerchant

INTEGRATION = "acme-shopify"
SHIPPING_MAP = {"Standard": "POSTI-PAKETTI", "Pickup point": "POSTI-NOUTO"}
VARIANTS = {  # SKU -> (product, variant title, units in the warehouse)
    "HOOD-GRY-S": ("Hoodie", "Grey / S", 12),
    "HOOD-GRY-M": ("Hoodie", "Grey / M", 20),
    "MUG-WHT": ("Mug", "Default Title", 30),
}


def run_shopify(stack: LocalStack, folder: Path, cli: Cli, section: Callable[[str], str]) -> bool:
    """The Shopify merchant's whole cycle on the running stack; True when every flow converged."""
    shop = _set_up(stack, folder, cli, section)
    products_ok = _products(stack, shop, cli, section)
    placed, held = _place_orders(shop)
    orders = DemoOrders(stack, INTEGRATION, shop.merchant_id, placed, held)
    _orders_to_myogo(shop, orders, section)
    orders_ok = orders.summary(section("Summary: Shopify orders (store -> myOGO)"), "paid and shippable")
    tracking_ok = _ship_and_track(stack, shop, section)
    stock_ok = _stock(stack, shop, section)
    shopify = shop.shopify
    calls = ", ".join(f"{name} {count}" for name, count in sorted(shopify.operation_calls.items()))
    print(f"   Shopify GraphQL operations: {calls}")
    print(f"   quantities per inventorySetQuantities call: {shopify.inventory_call_sizes}")
    return products_ok and orders_ok and tracking_ok and stock_ok


def _set_up(stack: LocalStack, folder: Path, cli: Cli, section: Callable[[str], str]) -> ShopifyMerchant:
    print(section("Shopify: the merchant sets the integration up with the ogosync CLI"))
    shop = stack.add_shopify_merchant(INTEGRATION, shipping_codes=set(SHIPPING_MAP.values()))
    store = shop.secret_values["store"]
    credentials = folder / "shopify-credentials.json"
    flat = {name: value for name, value in shop.secret_values.items() if name != "store"}
    write_private(credentials, {**flat, "client_id": store["client_id"], "client_secret": store["client_secret"]})
    commands = [
        ["integrations", "create", INTEGRATION, "--platform", "shopify", "--merchant-name", "Acme Nordic",
         "--store-url", shop.shopify.base_url, "--myogo-url", stack.myogo.root_url,
         "--myogo-token-url", stack.myogo_token_url, "--warehouse", "TLL", "--time-zone", "Europe/Helsinki",
         "--option", f"location_id={shop.location_id}", "--set", "order_poll_minutes=1",
         "--credentials-file", str(credentials)],
        ["integrations", "webhook", INTEGRATION],
        *(["shipping", "set", INTEGRATION, method, code] for method, code in SHIPPING_MAP.items()),
    ]  # fmt: skip
    for command in commands:
        cli(command, 0)
    return shop


def _products(stack: LocalStack, shop: ShopifyMerchant, cli: Cli, section: Callable[[str], str]) -> bool:
    print(section('Shopify products: "Refresh" (one bulk operation), then "Create product"'))
    by_product: dict[str, list[dict[str, Any]]] = {}
    for sku, (product, title, units) in VARIANTS.items():
        variant = {"sku": sku, "title": title, "price": "39.00", "barcode": f"64{len(by_product):011d}"}
        by_product.setdefault(product, []).append(variant | {"stock": units, "location_id": shop.location_id})
    for product, variants in by_product.items():
        shop.shopify.add_product(product, variants, description_html=f"<p>{product} by <b>Acme</b></p>")
    # What the merchant has to fix in Shopify: a variant without SKU and two variants sharing one.
    shop.shopify.add_product("Gift card", [{"sku": "", "price": "25.00"}])
    shop.shopify.add_product("Socks", [{"sku": "SOCK", "title": "White"}, {"sku": "SOCK", "title": "Black"}])
    listed = refresh_and_create(stack, INTEGRATION, cli)
    in_myogo = stack.myogo.products(shop.merchant_id)
    for sku, (_, _, units) in VARIANTS.items():
        stack.myogo.set_stock(shop.merchant_id, sku, units)  # the goods arrive at the warehouse
    names = {sku: in_myogo[sku]["name"] for sku in VARIANTS if sku in in_myogo}
    print(f"   in myOGO: {names}")
    return set(in_myogo) == set(VARIANTS) and listed["counts"]["error"] == 3


def _place_orders(shop: ShopifyMerchant) -> tuple[list[str], dict[str, str]]:
    shopify, warehouse = shop.shopify, shop.location_id
    skus = list(VARIANTS)
    placed = []
    for n in range(8):
        lines = [{"sku": skus[n % len(skus)], "quantity": 1 + n % 2}]
        title = "Pickup point" if n % 4 == 0 else "Standard"
        placed.append(str(shopify.add_order(lines, location_id=warehouse, shipping_title=title)["legacyResourceId"]))
    held = {
        str(shopify.add_order([{"sku": skus[0], "quantity": 1}], location_id=warehouse, financial_status="PENDING")[
            "legacyResourceId"
        ]): "waiting for payment",
        str(shopify.add_order(
            [{"sku": skus[1], "quantity": 1}], location_id=warehouse, hold_reason="INCORRECT_ADDRESS",
            hold_notes="the customer is checking the address",
        )["legacyResourceId"]): "on a fulfillment hold in Shopify",
        str(shopify.add_order([{"sku": skus[2], "quantity": 1}], location_id=warehouse, shipping_title="Express")[
            "legacyResourceId"
        ]): "shipping method 'Express' has no myOGO code",
    }  # fmt: skip
    elsewhere = shopify.add_order([{"sku": skus[2], "quantity": 1}], location_id=str(shopify.default_location_id))
    held[str(elsewhere["legacyResourceId"])] = "shipped by the shop from its own location (skipped)"
    return placed, held


def _orders_to_myogo(shop: ShopifyMerchant, orders: DemoOrders, section: Callable[[str], str]) -> None:
    print(section("Shopify orders: webhooks (twice or never), the worker, the poll; Shopify throttles"))
    shop.shopify.throttle(next_calls=2, status=429)
    deliveries = shop.shopify.deliver_webhooks(duplicate_rate=0.3, loss_rate=0.25, reorder=True, seed=5)
    lost, twice = sum(1 for d in deliveries if d.lost), sum(1 for d in deliveries if d.duplicated)
    print(f"   {len(deliveries) - lost - twice} delivered, {twice} twice (the same X-Shopify-Event-Id), {lost} lost")
    orders.work_then_poll("updated_at search")


def _ship_and_track(stack: LocalStack, shop: ShopifyMerchant, section: Callable[[str], str]) -> bool:
    print(section("Shopify tracking: myOGO ships, each order gets one fulfillment with every tracking number"))
    stack.myogo.advance(2)
    for _ in range(3):
        stack.enqueue_flow(INTEGRATION, Flow.TRACKING)
        stack.run_flow(Flow.TRACKING, redeliver_failures=True)
        if not _tracking_problems(stack, shop):
            break
    orders = stack.myogo.orders(shop.merchant_id)
    shipped = sorted(reference for reference, order in orders.items() if order["status"] == "shipped")
    for reference in shipped:
        fulfillments = shop.shopify.fulfillments(reference)
        numbers = [row.get("number") for f in fulfillments for row in f["trackingInfo"]]
        print(f"      order {reference:<8} {len(fulfillments)} fulfillment, tracking {numbers}")
    problems = _tracking_problems(stack, shop)
    print(f"   shipped in myOGO {len(shipped)}, without exactly one fulfillment with its tracking: {len(problems)}")
    return bool(shipped) and not problems


def _tracking_problems(stack: LocalStack, shop: ShopifyMerchant) -> list[str]:
    problems = []
    for reference, order in stack.myogo.orders(shop.merchant_id).items():
        if order["status"] != "shipped":
            continue
        fulfillments = shop.shopify.fulfillments(reference)
        numbers = [row.get("number") for f in fulfillments for row in f["trackingInfo"]]
        if len(fulfillments) != 1 or numbers != order["trackingNumber"].split(","):
            problems.append(reference)
    return problems


def _stock(stack: LocalStack, shop: ShopifyMerchant, section: Callable[[str], str]) -> bool:
    print(section("Shopify stock: available at the warehouse's location, with a compare-and-swap"))
    _stock_run(stack, shop)
    sku = next(iter(VARIANTS))
    stack.myogo.set_stock(shop.merchant_id, sku, stack.myogo.stock(shop.merchant_id, sku)["stock"] + 10)
    shop.shopify.sell(sku, location_id=shop.location_id, before_next_stock_write=True)
    print(f"   10 x {sku} arrive in myOGO; a shopper buys one between the stock run's read and its write")
    counts = _stock_run(stack, shop)
    print(f"   the write was refused as stale and recomputed: stale_recomputed {counts.get('stale_recomputed', 0)}")
    unchanged = _stock_run(stack, shop)
    print(f"   a run with nothing changed writes {unchanged.get('written', 0)}")
    problems = _stock_problems(stack, shop)
    print(f"   SKUs not sold at max(0, myOGO available - in transit): {len(problems)} {problems}")
    return not problems and counts.get("stale_recomputed", 0) >= 1 and unchanged.get("written", 0) == 0


def _stock_run(stack: LocalStack, shop: ShopifyMerchant) -> dict[str, int]:
    stack.enqueue_flow(INTEGRATION, Flow.STOCK)
    stack.run_flow(Flow.STOCK, redeliver_failures=True)
    counts = dict(stack.state().get_cursor(INTEGRATION, Flow.STOCK).last_counts)
    shown = ("full", "written", "unchanged", "in_transit_units", "stale_recomputed")
    print("   stock run: " + ", ".join(f"{name} {counts.get(name, 0)}" for name in shown))
    return counts


def _stock_problems(stack: LocalStack, shop: ShopifyMerchant) -> list[str]:
    """SKUs whose `available` at the warehouse's location is not max(0, myOGO available - in transit), where in
    transit are the warehouse's lines of orders not cancelled and not in myOGO."""
    in_myogo = Counter(order["reference"] for order in stack.myogo.orders(shop.merchant_id).values())
    transit: Counter[str] = Counter()
    for order_id in shop.shopify.order_ids():
        order = shop.shopify.order(order_id)
        if order["cancelledAt"] is not None or in_myogo[order_id]:
            continue
        for fulfillment_order in order["fulfillmentOrders"]:
            if fulfillment_order["locationId"] == shop.location_id:
                for line in fulfillment_order["lineItems"]:
                    transit[line["sku"]] += line["totalQuantity"]
    problems = []
    for sku in VARIANTS:
        expected = max(0, stack.myogo.stock(shop.merchant_id, sku)["stockAvailable"] - transit[sku])
        if shop.shopify.inventory(sku, shop.location_id).get("available") != expected:
            problems.append(sku)
    return problems
