"""`make demo`: the product and order flows on the embedded local stack, through the real handler code.

Products first, as a merchant starts: "Refresh" shows every Centra size with its state (two sizes that share a SKU
and one without a SKU are errors, never sent), "Create product" puts the rest in myOGO, two products change in
Centra and the scheduled product sync sends exactly those. A size added to Centra afterwards waits for the merchant
(create_new_products is off), so an order for it is held as a SKU myOGO does not know.

Then orders: some on hold, some waiting for payment, some with a shipping method that has no myOGO mapping.
Webhooks arrive twice or not at all and myOGO answers 5xx now and then. The receiver, the order worker and the
scheduled poll bring every paid order to myOGO once and keep the others back with a reason. Exits 1 when either
flow did not converge.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

from ogosync.models import BindingStatus, Flow, IntegrationSettings, ProductAdminRequest
from ogosync_local.sim import FaultConfig
from ogosync_local.stack import CentraSetup, LocalStack

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
SETTINGS = IntegrationSettings(order_poll_minutes=1, product_url_template="https://acme.example/products/{sku}")


@dataclass
class Placed:
    paid: list[str] = field(default_factory=list)
    held_expected: dict[str, str] = field(default_factory=dict)  # order -> why it must be held


def _place_orders(setup: CentraSetup) -> Placed:
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


def _stock_the_store(setup: CentraSetup) -> None:
    for index, ((sku, variant, size), units) in enumerate(CATALOG.items()):
        setup.centra.add_product(
            sku, variant, size, ean=f"73500000{index:05d}", name=NAMES[sku], variant=variant, size=size,
            description=f"{NAMES[sku]} by Acme", price=59.0, currency="EUR", stock=units,
        )  # fmt: skip
    # What the merchant has to fix in Centra: two sizes whose SKUs add up to the same code, and one without a SKU.
    setup.centra.add_product("SO", "CKWHT", "", ean="7350000000901", name="Sock", variant="White")
    setup.centra.add_product("SOCK", "WHT", "", ean="7350000000902", name="Sock", variant="Off-white")
    setup.centra.add_product("", name="Gift card")


def _admin(stack: LocalStack, action: Literal["refresh", "create"], **request: Any) -> dict[str, Any]:
    return stack.product_admin(ProductAdminRequest(action=action, integration_id=INTEGRATION, **request))


def _sync_products(stack: LocalStack, setup: CentraSetup) -> None:
    print(_section("0. Products: the store is dominant"))
    refreshed = _admin(stack, "refresh")
    print(f"   Refresh: {_nonzero(refreshed['counts'])}")
    for row in refreshed["rows"]:
        for problem in row["problems"]:
            print(f"      {row['sku'] or '(no SKU)':<10} {row['name']:<18} {problem['kind']}: {problem['detail']}")
    created = _admin(stack, "create")
    print(f"   Create product (all): {_nonzero(created['counts'])}")

    before = stack.myogo.products(setup.merchant_id)
    for sku, fields in CHANGES.items():
        setup.centra.update_product(sku, **fields)
    calls_before = Counter(stack.myogo.calls)
    stack.enqueue_product_sync(INTEGRATION)
    stack.run_product_syncs()
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


def _products_converged(stack: LocalStack, setup: CentraSetup) -> tuple[bool, dict[str, int]]:
    """Every valid size is linked with its current content, the late one waits, the faulty ones were never sent."""
    report = _admin(stack, "refresh")
    states = {row["sku"]: row["state"] for row in report["rows"] if row["state"] != "error"}
    catalog = {"".join(size) for size in CATALOG}
    in_myogo = stack.myogo.products(setup.merchant_id)
    changes_arrived = in_myogo["TS100BLKM"]["description"] == CHANGES["TS100BLKM"]["description"] and in_myogo[
        "HD200GRYS"
    ]["salesPrice"] == str(CHANGES["HD200GRYS"]["prices"][0]["price"])
    ok = (
        states == {**dict.fromkeys(catalog, "linked"), "".join(UNKNOWN_TO_MYOGO): "not_in_myogo"}
        and set(in_myogo) == catalog
        and report["counts"]["error"] == 3
        and changes_arrived
    )
    return ok, report["counts"]


def _nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {name: count for name, count in sorted(counts.items()) if count}


def run() -> int:
    started = time.monotonic()
    with LocalStack(quiet=True) as stack:
        setup = stack.add_centra_store(INTEGRATION, shipping_map=SHIPPING_MAP, settings=SETTINGS)
        _stock_the_store(setup)
        _sync_products(stack, setup)
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
        report = stack.run_order_workers(wait_for_retries_s=3)
        print(f"   {report.received} messages in {report.invocations} batches, {report.failed} retried later")

        print(_section("3. The scheduled poll (the source of truth) catches what was lost"))
        for _ in range(3):
            stack.run_scheduler()
            stack.run_polls(wait_for_retries_s=2)
            cursor = stack.state().get_cursor(INTEGRATION, Flow.ORDERS)
            print(f"   poll: {dict(sorted(cursor.last_counts.items()))}; watermark {cursor.watermark:%H:%M:%S} UTC")
            if _converged(stack, setup, placed):
                break
        return _summary(stack, setup, placed, time.monotonic() - started)


def _converged(stack: LocalStack, setup: CentraSetup, placed: Placed) -> bool:
    in_myogo = Counter(order["reference"] for order in stack.myogo.orders(setup.merchant_id).values())
    bindings = stack.state().get_order_bindings(INTEGRATION, list(placed.held_expected))
    return all(in_myogo[order_id] == 1 for order_id in placed.paid) and all(
        order_id in bindings and bindings[order_id].status is BindingStatus.HELD for order_id in placed.held_expected
    )


def _summary(stack: LocalStack, setup: CentraSetup, placed: Placed, seconds: float) -> int:
    myogo_orders = list(stack.myogo.orders(setup.merchant_id).values())
    references = Counter(order["reference"] for order in myogo_orders)
    duplicates = sum(count - 1 for count in references.values())
    bindings = stack.state().get_order_bindings(INTEGRATION, list(setup.centra.orders))
    held = {order_id: b for order_id, b in bindings.items() if b.status is BindingStatus.HELD}
    missing = [order_id for order_id in placed.paid if references[order_id] != 1]
    unexplained = [order_id for order_id in placed.held_expected if order_id not in held or not held[order_id].holds]
    wrongly_sent = [order_id for order_id in placed.held_expected if references[order_id]]
    products_ok, product_states = _products_converged(stack, setup)

    print(_section("Summary"))
    print(f"   store products linked in myOGO    {product_states['linked']:>4}")
    print(f'   waiting for "Create product"      {product_states["not_in_myogo"]:>4}')
    print(f"   in error, never sent              {product_states['error']:>4}")
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
    dead = sum(stack.queue_depth(dlq) for dlq in ("OrderDLQ", "OrderPollDLQ", "ProductSyncDLQ"))
    print(f"   dead-lettered messages            {dead:>4}")
    print(
        f"   myOGO calls                       {sum(stack.myogo.calls.values()):>4}   "
        f"Centra calls {sum(setup.centra.calls.values())}"
    )
    print(f"   took {seconds:.1f} s")
    ok = products_ok and not (duplicates or missing or unexplained or wrongly_sent)
    print(
        "\nCONVERGED: every valid store product is in myOGO with its current content and the faulty ones were never"
        " sent; every paid order is in myOGO exactly once; every held order has a reason."
        if ok
        else f"\nNOT CONVERGED: products_ok={products_ok} missing={missing} unexplained={unexplained}"
        f" wrongly_sent={wrongly_sent}"
    )
    return 0 if ok else 1


def _section(title: str) -> str:
    return f"\n== {title}"


if __name__ == "__main__":
    sys.exit(run())
