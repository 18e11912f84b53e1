"""`make demo`: the whole cycle on the embedded local stack, through the real handler code, with a summary per flow.

The integration, its shipping methods, its products and the myOGO webhook are set up with the ogosync CLI, the same
commands as in the README.

Products first, as a merchant starts: "Refresh" shows every Centra size with its state (two sizes that share a SKU
and one without a SKU are errors, never sent), "Create product" puts the rest in myOGO, two products change in
Centra and the scheduled product sync sends exactly those. A size added to Centra afterwards waits for the merchant
(create_new_products is off), so an order for it is held as a SKU myOGO does not know.

Then orders: some on hold, some waiting for payment, some with a shipping method that has no myOGO mapping.
Webhooks arrive twice or not at all and myOGO answers 5xx now and then. The receiver, the order worker and the
scheduled poll bring every paid order to myOGO once and keep the others back with a reason. Then the warehouse
ships them: myOGO's webhook and the tracking poll bring each shipment with its tracking codes back to Centra once,
and the stock sync makes Centra sell what myOGO has, less what is sold and not yet in myOGO. Then a Shopify merchant
(demo_shopify.py) and a WooCommerce one (demo_woocommerce.py) go through the same cycle. Exits 1 when a flow did
not converge.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import shlex
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ogosync.models import BindingStatus, Flow
from ogosync_cli.main import main as ogosync
from ogosync_local.demo_shopify import run_shopify
from ogosync_local.demo_woocommerce import run_woocommerce
from ogosync_local.serve import write_private
from ogosync_local.sim import FaultConfig
from ogosync_local.stack import CentraMerchant, LocalStack

INTEGRATION = "acme-centra"
CATALOG = {  # Centra size (product, variant, size SKU) -> units in the warehouse
    ("TS100", "BLK", "M"): 40,
    ("TS100", "BLK", "L"): 25,
    ("HD200", "GRY", "S"): 12,
}
NAMES = {"TS100": "Basic T-shirt", "HD200": "Hoodie", "CP300": "Cap"}
UNKNOWN_TO_MYOGO = ("CP300", "RED", "OS")  # added to Centra after the product sync
CHANGES: dict[str, dict[str, Any]] = {  # made in Centra between "Create product" and the scheduled sync
    "TS100BLKM": {"description": "Basic T-shirt, now in 100% organic cotton"},
    "HD200GRYS": {"prices": [{"id": 19, "pricelist": "EUR", "price": 49.0, "currency": "EUR", "campaigns": []}]},
}
SHIPPING_MAP = {"standard": "POSTI-PAKETTI", "pickup": "POSTI-NOUTO"}
PRODUCT_URL_TEMPLATE = "https://acme.example/products/{sku}"


@dataclass
class Placed:
    paid: list[str] = field(default_factory=list)
    held_expected: dict[str, str] = field(default_factory=dict)  # order -> why it must be held


def _place_orders(setup: CentraMerchant) -> Placed:
    centra, placed = setup.centra, Placed()
    sizes = ["".join(size) for size in CATALOG]
    for n in range(14):
        order = centra.add_order(
            [{"product": sizes[n % len(sizes)], "qty": 1 + n % 2}], shipping_list="pickup" if n % 4 == 0 else "standard"
        )
        placed.paid.append(order["orderId"])
    for _ in range(2):
        placed.held_expected[centra.add_order([{"product": sizes[0]}], hold=True)["orderId"]] = "on hold in Centra"
    order = centra.add_order([{"product": sizes[1]}], waiting_for_payment=True)
    placed.held_expected[order["orderId"]] = "waiting for payment"
    for _ in range(2):
        order = centra.add_order([{"product": sizes[2]}], shipping_list="express")
        placed.held_expected[order["orderId"]] = "shipping method 'express' has no myOGO code"
    order = centra.add_order([{"product": "".join(UNKNOWN_TO_MYOGO)}])
    placed.held_expected[order["orderId"]] = "SKU unknown to myOGO"
    return placed


def _stock_the_store(setup: CentraMerchant) -> None:
    for index, ((sku, variant, size), units) in enumerate(CATALOG.items()):
        setup.centra.add_product(
            sku, variant, size, ean=f"73500000{index:05d}", name=NAMES[sku], variant=variant, size=size,
            description=f"{NAMES[sku]} by Acme", price=59.0, currency="EUR", stock=units,
        )  # fmt: skip
    # What the merchant has to fix in Centra: two sizes whose SKUs add up to the same code, and one without a SKU.
    setup.centra.add_product("SO", "CKWHT", "", ean="7350000000901", name="Sock", variant="White")
    setup.centra.add_product("SOCK", "WHT", "", ean="7350000000902", name="Sock", variant="Off-white")
    setup.centra.add_product("", name="Gift card")


def _products_cli(stack: LocalStack, command: list[str], expect: int = 0) -> dict[str, Any]:
    """A product command of the CLI, its JSON answer read back; the product worker drains its queue meanwhile."""
    with stack.background_workers(Flow.PRODUCTS):
        output = _cli(stack, ["products", command[0], INTEGRATION, *command[1:], "--json"], expect)
    answer: dict[str, Any] = json.loads(output)
    return answer


def _refresh(stack: LocalStack) -> dict[str, Any]:
    """ "Refresh", then the whole report (every page)."""
    _products_cli(stack, ["refresh", "--wait"])
    return _products_cli(stack, ["list", "--page-size", "500"])


def _sync_products(stack: LocalStack, setup: CentraMerchant) -> None:
    print(_section("0. Products: the store is dominant"))
    refreshed = _refresh(stack)
    print(f"   Refresh: {_nonzero(refreshed['counts'])}")
    for row in refreshed["rows"]:
        for problem in row["problems"]:
            print(f"      {row['sku'] or '(no SKU)':<10} {row['name']:<18} {problem['kind']}: {problem['detail']}")
    # Exit status 1: the products in error (no SKU, a shared SKU) could not be created, as the merchant is told.
    created = _products_cli(stack, ["create", "--all", "--wait"], expect=1)
    print(f"   Create product (all): {_nonzero(created['counts'])}")

    before = stack.myogo.products(setup.merchant_id)
    for sku, fields in CHANGES.items():
        setup.centra.update_product(sku, **fields)
    calls_before = Counter(stack.myogo.calls)
    stack.enqueue_flow(INTEGRATION, Flow.PRODUCTS)
    stack.run_flow(Flow.PRODUCTS)
    cursor = stack.state().get_cursor(INTEGRATION, Flow.PRODUCTS)
    print(f"   Two products changed in Centra; the scheduled sync: {_nonzero(cursor.last_counts)}")
    print(f"   its myOGO calls: {dict(stack.myogo.calls - calls_before)}")
    after = stack.myogo.products(setup.merchant_id)
    for code, product in sorted(after.items()):
        for name, value in product.items():
            if name != "editTime" and before.get(code, {}).get(name) != value:
                print(f"      {code} {name}: {before.get(code, {}).get(name)!r} -> {value!r}")

    sku, variant, size = UNKNOWN_TO_MYOGO
    setup.centra.add_product(sku, variant, size, ean="7350000000999", name=NAMES[sku], price=19.0, stock=5)
    print(f'   {sku}{variant}{size} is added to Centra after the sync: it waits for "Create product"')


def _products_converged(stack: LocalStack, setup: CentraMerchant) -> tuple[bool, dict[str, int]]:
    """Every valid size is linked with its current content, the late one waits, the faulty ones were never sent."""
    report = _refresh(stack)
    states = {row["sku"]: row["state"] for row in report["rows"] if row["state"] != "error"}
    catalog = {"".join(size) for size in CATALOG}
    in_myogo = stack.myogo.products(setup.merchant_id)
    price = Decimal(str(in_myogo["HD200GRYS"]["salesPrice"]))  # an exact JSON number on the wire (docs/api/myogo.md)
    changes_arrived = in_myogo["TS100BLKM"]["description"] == CHANGES["TS100BLKM"]["description"] and price == Decimal(
        str(CHANGES["HD200GRYS"]["prices"][0]["price"])
    )
    ok = (
        states == {**dict.fromkeys(catalog, "linked"), "".join(UNKNOWN_TO_MYOGO): "not_in_myogo"}
        and set(in_myogo) - {ONLY_IN_MYOGO} == catalog  # GIFTWRAP is myOGO's own, never the store's
        and report["counts"]["error"] == 3
        and changes_arrived
    )
    return ok, report["counts"]


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {name: count for name, count in sorted(counts.items()) if count}


def _set_up_with_the_cli(stack: LocalStack, folder: Path) -> CentraMerchant:
    """What a merchant does (seed 004): the integration, the webhook to paste into Centra, the shipping methods."""
    setup = stack.add_centra_merchant(INTEGRATION, shipping_codes=set(SHIPPING_MAP.values()))
    credentials = folder / "credentials.json"
    write_private(credentials, setup.secret_values)
    print(_section("0. The merchant sets the integration up with the ogosync CLI"))
    commands = [
        ["integrations", "create", INTEGRATION, "--merchant-name", "Acme Apparel", "--store-url", setup.centra.base_url,
         "--myogo-url", stack.myogo.root_url, "--myogo-token-url", stack.myogo_token_url, "--warehouse", "TLL",
         "--time-zone", setup.time_zone, "--set", "order_poll_minutes=1",
         "--set", f"product_url_template={PRODUCT_URL_TEMPLATE}", "--credentials-file", str(credentials)],
        ["integrations", "webhook", INTEGRATION],
        *(["shipping", "set", INTEGRATION, method, code] for method, code in SHIPPING_MAP.items()),
    ]  # fmt: skip
    for command in commands:
        _cli(stack, command)
    return setup


def _cli(stack: LocalStack, command: list[str], expect: int = 0) -> str:
    """Run an ogosync command as the merchant would (shown); its output is printed, or returned with --json.
    `expect`: the exit status the command must end with."""
    print(f"   $ ogosync {shlex.join(command)}")
    output = io.StringIO()
    with contextlib.redirect_stdout(output) if "--json" in command else contextlib.nullcontext():
        code = ogosync(["--api-url", stack.operator.base_url, *command])
    if code != expect:
        raise SystemExit(f"ogosync {command[0]} {command[1]} failed: {output.getvalue()}")
    return output.getvalue()


def run() -> int:
    started = time.monotonic()
    with LocalStack(quiet=True) as stack, tempfile.TemporaryDirectory() as folder:
        setup = _set_up_with_the_cli(stack, Path(folder))
        _stock_the_store(setup)
        _sync_products(stack, setup)
        _goods_arrive(stack, setup)
        _connect_back_from_myogo(stack, setup, Path(folder))
        placed = _place_orders(setup)
        stack.myogo.faults.configure(FaultConfig(error_rate=0.1, seed=7))

        deliveries = setup.centra.deliver_webhooks(duplicate_rate=0.3, loss_rate=0.25, reorder=True, seed=11)
        print(_section("1. Centra delivers webhooks to the receiver"))
        lost = sum(1 for d in deliveries if d.lost)
        twice = sum(1 for d in deliveries if d.duplicated)
        print(
            f"   {len(deliveries) - lost - twice} delivered, {twice} delivered twice, {lost} lost; "
            f"receiver answered {dict(Counter(stack.gateway.responses))}"
        )

        print(_section("2. The order worker imports what the webhooks named"))
        report = stack.run_order_workers(redeliver_failures=True)
        print(f"   {report.received} messages in {report.invocations} batches, {report.failed} retried later")

        print(_section("3. The scheduled poll (the source of truth) catches what was lost"))
        for _ in range(3):
            stack.run_scheduler()
            stack.run_flow(Flow.ORDERS, redeliver_failures=True)
            cursor = stack.state().get_cursor(INTEGRATION, Flow.ORDERS)
            print(f"   poll: {dict(sorted(cursor.last_counts.items()))}; watermark {cursor.watermark:%H:%M:%S} UTC")
            if _converged(stack, setup, placed):
                break
        _ship_and_track(stack, setup)
        reconciliation = _sync_stock(stack, setup)
        products_ok = _product_summary(stack, setup)
        orders_ok = _summary(stack, setup, placed)
        back_ok = _back_summary(stack, setup, reconciliation)
        print(f"   myOGO calls {sum(stack.myogo.calls.values())}, Centra calls {sum(setup.centra.calls.values())}")
        stack.myogo.faults.configure(FaultConfig())
        shopify_ok = run_shopify(stack, Path(folder), functools.partial(_cli, stack), _section)
        woocommerce_ok = run_woocommerce(stack, Path(folder), functools.partial(_cli, stack), _section)
        converged = products_ok and orders_ok and back_ok and shopify_ok and woocommerce_ok
        print(f"   took {time.monotonic() - started:.1f} s")
        print(
            "\nCONVERGED: for the Centra, the Shopify and the WooCommerce merchant, every valid product is in myOGO "
            "with its current content and the faulty ones were never sent; every paid order is in myOGO exactly once "
            "and every held one has a reason; every shipped order has one shipment with its tracking in the store; "
            "the store sells what myOGO has, less what is in transit."
            if converged
            else "\nNOT CONVERGED (see above)"
        )
        return 0 if converged else 1


def _converged(stack: LocalStack, setup: CentraMerchant, placed: Placed) -> bool:
    in_myogo = Counter(order["reference"] for order in stack.myogo.orders(setup.merchant_id).values())
    bindings = stack.state().get_order_bindings(INTEGRATION, list(placed.held_expected))
    return all(in_myogo[order_id] == 1 for order_id in placed.paid) and all(
        order_id in bindings and bindings[order_id].status is BindingStatus.HELD for order_id in placed.held_expected
    )


def _summary(stack: LocalStack, setup: CentraMerchant, placed: Placed) -> bool:
    myogo_orders = list(stack.myogo.orders(setup.merchant_id).values())
    references = Counter(order["reference"] for order in myogo_orders)
    duplicates = sum(count - 1 for count in references.values())
    bindings = stack.state().get_order_bindings(INTEGRATION, list(setup.centra.orders))
    held = {order_id: b for order_id, b in bindings.items() if b.status is BindingStatus.HELD}
    missing = [order_id for order_id in placed.paid if references[order_id] != 1]
    unexplained = [order_id for order_id in placed.held_expected if order_id not in held or not held[order_id].holds]
    wrongly_sent = [order_id for order_id in placed.held_expected if references[order_id]]

    print(_section("Summary: orders (store -> myOGO)"))
    print(f"   orders in the Centra store        {len(setup.centra.orders):>4}")
    print(f"   paid and shippable                {len(placed.paid):>4}")
    statuses = Counter(order["status"].upper() for order in myogo_orders)
    print(
        f"   orders in myOGO                   {len(myogo_orders):>4}   "
        + ", ".join(f"{status} {count}" for status, count in sorted(statuses.items()))
    )
    print(f"   held in ogosync, with reasons     {len(held):>4}")
    for order_id, binding in sorted(held.items()):
        reasons = "; ".join(f"{hold.reason.value}: {hold.detail}" for hold in binding.holds)
        print(f"      order {order_id:<6} {reasons}")
    print(f"   duplicates in myOGO (must be 0)   {duplicates:>4}")
    print(f"   paid orders missing in myOGO      {len(missing):>4}")
    dead = sum(stack.queue_depth(dlq) for dlq in ("OrderDLQ", "OrderPollDLQ"))
    print(f"   dead-lettered messages            {dead:>4}")
    ok = not (duplicates or missing or unexplained or wrongly_sent)
    if not ok:
        print(f"   NOT CONVERGED: missing={missing} unexplained={unexplained} wrongly_sent={wrongly_sent}")
    return ok


def _product_summary(stack: LocalStack, setup: CentraMerchant) -> bool:
    ok, states = _products_converged(stack, setup)
    print(_section("Summary: products (store -> myOGO)"))
    print(f"   store products linked in myOGO    {states['linked']:>4}")
    print(f'   waiting for "Create product"      {states["not_in_myogo"]:>4}')
    print(f"   in error, never sent              {states['error']:>4}")
    print(f"   dead-lettered messages            {stack.queue_depth('ProductSyncDLQ'):>4}")
    if not ok:
        print("   NOT CONVERGED: products differ from what the store says")
    return ok


def _section(title: str) -> str:
    return f"\n== {title}"


# ---- stock and tracking (myOGO -> store) ----------------------------------------------------------

FRESH_ORDER = ("TS100BLKL", 3)  # paid in Centra just before a stock run
INBOUND = ("HD200GRYS", 30)  # arrives at the warehouse
ONLY_IN_MYOGO = "GIFTWRAP"  # a myOGO product the store does not sell


def _goods_arrive(stack: LocalStack, setup: CentraMerchant) -> None:
    """The merchant's goods arrive at the warehouse: myOGO now has stock of every linked product."""
    for (sku, variant, size), units in CATALOG.items():
        stack.myogo.set_stock(setup.merchant_id, f"{sku}{variant}{size}", units)


def _connect_back_from_myogo(stack: LocalStack, setup: CentraMerchant, folder: Path) -> None:
    """myOGO has a product of its own; the merchant registers myOGO's OrderShipped webhook and gives its key."""
    stack.myogo.add_product(setup.merchant_id, ONLY_IN_MYOGO, stock=500)
    print(_section("Back from myOGO: the merchant registers myOGO's webhook and gives ogosync its key"))
    key = stack.myogo_webhook_key(setup)
    credentials = folder / "credentials.json"
    write_private(credentials, {**setup.secret_values, "myogo_webhook_key": key})
    _cli(stack, ["integrations", "update", INTEGRATION, "--credentials-file", str(credentials)])
    stack.expire_cached_credentials()
    stack.myogo.multi_parcel_every = 3  # every third shipment leaves in two parcels


def _ship_and_track(stack: LocalStack, setup: CentraMerchant) -> None:
    print(_section("4. The warehouse clock ships: myOGO moves orders NEW -> COLLECTING -> SHIPPED"))
    stack.myogo.advance(2)
    shipped = _shipped_in_myogo(stack, setup)
    parcels = sum(len(order["trackingNumber"].split(",")) for order in shipped.values())
    print(f"   {len(shipped)} orders shipped in {parcels} parcels")

    print(_section("5. myOGO's webhook and the tracking poll bring each shipment to Centra"))
    deliveries = stack.myogo.deliver_webhooks()
    answers = dict(Counter(delivery.status for delivery in deliveries))
    print(f"   myOGO posted {len(deliveries)} OrderShipped webhooks; receiver answered {answers}")
    for _ in range(3):
        stack.enqueue_flow(INTEGRATION, Flow.TRACKING)
        report = stack.run_flow(Flow.TRACKING, redeliver_failures=True)
        counts = dict(sorted(stack.state().get_cursor(INTEGRATION, Flow.TRACKING).last_counts.items()))
        print(f"   tracking worker: {report.received} jobs (webhook hints, then the poll), {report.failed} retried")
        print(f"   tracking poll: {counts}")
        if not _tracking_problems(stack, setup):
            break
    for order_id, order in sorted(shipped.items()):
        shipment = setup.centra.shipments(order_id)[0]
        print(
            f"      order {order_id:<6} shipment {shipment['shipmentId']:<8} tracking "
            f"{shipment['trackingNumber']:<37} {order['trackingUrl']}"
        )


def _sync_stock(stack: LocalStack, setup: CentraMerchant) -> dict[str, int]:
    """Three stock runs; returns the first one's counts (the reconciliation, which sees every myOGO SKU)."""
    print(_section("6. The stock sync makes Centra sell what myOGO has (the first run reconciles every SKU)"))
    reconciliation = _stock_run(stack, setup)

    code, units = INBOUND
    stack.myogo.set_stock(setup.merchant_id, code, stack.myogo.stock(setup.merchant_id, code)["stock"] + units)
    sku, qty = FRESH_ORDER
    fresh = setup.centra.add_order([{"product": sku, "qty": qty}])["orderId"]
    print(_section(f"7. {units} x {code} arrive in myOGO; order {fresh} ({qty} x {sku}) is paid, not in myOGO yet"))
    _stock_run(stack, setup)

    print(_section(f"8. The order poll sends order {fresh} to myOGO; the stock run does not subtract it twice"))
    stack.enqueue_flow(INTEGRATION, Flow.ORDERS)
    stack.run_flow(Flow.ORDERS, redeliver_failures=True)
    _stock_run(stack, setup)
    return reconciliation


def _stock_run(stack: LocalStack, setup: CentraMerchant) -> dict[str, int]:
    stack.enqueue_flow(INTEGRATION, Flow.STOCK)
    if stack.run_flow(Flow.STOCK).failed:  # myOGO answers 5xx now and then: SQS redelivers the job, which resumes
        stack.run_flow(Flow.STOCK, redeliver_failures=True)
    counts = stack.state().get_cursor(INTEGRATION, Flow.STOCK).last_counts
    shown = ("full", "levels", "written", "unchanged", "in_transit_units", "unbound")
    print("   stock run: " + ", ".join(f"{name} {counts.get(name, 0)}" for name in shown))
    published = stack.stock_ledger().all_published(INTEGRATION)
    transit = _in_transit(stack, setup)
    header = f"{'SKU':<11} {'myOGO available':>15} {'in transit':>10} {'published':>9}"
    print(f"      {header}   Centra physical / allocated / sells")
    for code in sorted(published):
        row = setup.centra.stock(code)
        print(
            f"      {code:<11} {stack.myogo.stock(setup.merchant_id, code)['stockAvailable']:>15} "
            f"{transit[code]:>10} {published[code].quantity:>9}   "
            f"{row['physicalStock']:>15} / {row['allocatedStock']:>9} / {row['availableStock']:>5}"
        )
    return counts


def _shipped_in_myogo(stack: LocalStack, setup: CentraMerchant) -> dict[str, dict[str, Any]]:
    orders = stack.myogo.orders(setup.merchant_id)
    return {reference: order for reference, order in orders.items() if order["status"] == "shipped"}


def _in_transit(stack: LocalStack, setup: CentraMerchant) -> Counter[str]:
    """Units of Centra orders that hold stock there (paid or waiting for payment, not shipped) and that myOGO does not
    have: an unpaid order's units are not sold twice once it is paid."""
    in_myogo = set(stack.myogo.orders(setup.merchant_id))
    units: Counter[str] = Counter()
    for order_id, order in setup.centra.orders.items():
        if order["orderStatus"] in ("Pending", "Confirmed", "Processing") and order_id not in in_myogo:
            for line in order["products"]:
                units[line["sku"] + line["variantSku"] + line["sizeSku"]] += line["qty"]
    return units


def _tracking_problems(stack: LocalStack, setup: CentraMerchant) -> list[str]:
    """Shipped myOGO orders without exactly one shipped Centra shipment carrying myOGO's tracking."""
    problems = []
    for order_id, order in _shipped_in_myogo(stack, setup).items():
        shipments = setup.centra.shipments(order_id)
        if [(s["shippedDate"] != "", s["trackingNumber"]) for s in shipments] != [(True, order["trackingNumber"])]:
            problems.append(order_id)
    return problems


def _stock_problems(stack: LocalStack, setup: CentraMerchant) -> list[str]:
    """Bound SKUs that Centra does not sell at max(0, myOGO available - in transit)."""
    transit = _in_transit(stack, setup)
    problems = []
    for code in stack.stock_ledger().all_published(INTEGRATION):
        expected = max(0, stack.myogo.stock(setup.merchant_id, code)["stockAvailable"] - transit[code])
        if setup.centra.stock(code)["availableStock"] != expected:
            problems.append(code)
    return problems


def _back_summary(stack: LocalStack, setup: CentraMerchant, reconciliation: dict[str, int]) -> bool:
    shipped = _shipped_in_myogo(stack, setup)
    shipments = sum(len(setup.centra.shipments(order_id)) for order_id in shipped)
    tracking_problems = _tracking_problems(stack, setup)
    print(_section("Summary: tracking (myOGO -> store)"))
    print(f"   orders shipped in myOGO           {len(shipped):>4}")
    print(f"   shipments in Centra               {shipments:>4}   each shipped, with myOGO's tracking codes")
    print(f"   orders without exactly that       {len(tracking_problems):>4}{_listed(tracking_problems)}")
    stock_problems = _stock_problems(stack, setup)
    published = len(stack.stock_ledger().all_published(INTEGRATION))
    print(_section("Summary: stock (myOGO -> store)"))
    print(f"   SKUs published to Centra          {published:>4}   each sold at max(0, myOGO available - in transit)")
    print(f"   Centra not selling that value     {len(stock_problems):>4}{_listed(stock_problems)}")
    unbound = reconciliation.get("unbound", 0)
    print(f"   myOGO SKUs without a store item   {unbound:>4}   reported by the reconciliation, not guessed")
    dead = stack.queue_depth("StockSyncDLQ") + stack.queue_depth("TrackingSyncDLQ")
    print(f"   dead-lettered messages            {dead:>4}")
    return not (tracking_problems or stock_problems or shipments != len(shipped) or dead)


def _listed(codes: list[str]) -> str:
    return f"   {' '.join(codes)}" if codes else ""


if __name__ == "__main__":
    sys.exit(run())
