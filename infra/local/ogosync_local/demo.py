"""`make demo`: the order flow on the embedded local stack, through the real handler code, with a summary.

The integration and its shipping methods are set up with the ogosync CLI, the same commands as in the README.

A Centra store takes paid orders, some on hold, some waiting for payment, some with a shipping method that has no
myOGO mapping and one with a SKU myOGO does not know. Webhooks arrive twice or not at all and myOGO answers 5xx
now and then. The receiver, the order worker and the scheduled poll bring every paid order to myOGO once and keep
the others back with a reason. Exits 1 when the flow did not converge.
"""

from __future__ import annotations

import shlex
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ogosync.models import BindingStatus, Flow
from ogosync_cli.main import main as ogosync
from ogosync_local.serve import write_private
from ogosync_local.sim import FaultConfig
from ogosync_local.stack import CentraMerchant, LocalStack

INTEGRATION = "acme-centra"
CATALOG = {  # Centra size (product, variant, size SKU) -> units in the warehouse
    ("TS100", "BLK", "M"): 40,
    ("TS100", "BLK", "L"): 25,
    ("HD200", "GRY", "S"): 12,
}
UNKNOWN_TO_MYOGO = ("CP300", "RED", "OS")
SHIPPING_MAP = {"standard": "POSTI-PAKETTI", "pickup": "POSTI-NOUTO"}


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


def _stock_the_store(stack: LocalStack, setup: CentraMerchant) -> None:
    for index, ((sku, variant, size), units) in enumerate([*CATALOG.items(), (UNKNOWN_TO_MYOGO, 5)]):
        setup.centra.add_product(
            sku=sku, variant_sku=variant, size_sku=size, ean=f"73500000{index:05d}", name=f"Product {sku}", stock=units
        )
        if (sku, variant, size) in CATALOG:  # in myOGO already (product sync is its own flow)
            stack.myogo.add_product(setup.merchant_id, f"{sku}{variant}{size}", stock=units)


def _set_up_with_the_cli(stack: LocalStack, folder: Path) -> CentraMerchant:
    """What a merchant does (seed 004): the integration, the webhook to paste into Centra, the shipping methods."""
    setup = stack.add_centra_merchant(INTEGRATION, shipping_codes=set(SHIPPING_MAP.values()))
    credentials = folder / "credentials.json"
    write_private(credentials, setup.secret_values)
    print(_section("0. The merchant sets the integration up with the ogosync CLI"))
    commands = [
        ["integrations", "create", INTEGRATION, "--merchant-name", "Acme Apparel", "--store-url", setup.centra.base_url,
         "--myogo-url", stack.myogo.root_url, "--myogo-token-url", stack.myogo_token_url, "--warehouse", "TLL",
         "--time-zone", setup.time_zone, "--set", "order_poll_minutes=1", "--credentials-file", str(credentials)],
        ["integrations", "webhook", INTEGRATION],
        *(["shipping", "set", INTEGRATION, method, code] for method, code in SHIPPING_MAP.items()),
    ]  # fmt: skip
    for command in commands:
        print(f"   $ ogosync {shlex.join(command)}")
        if ogosync(["--api-url", stack.operator.base_url, *command]) != 0:
            raise SystemExit(f"ogosync {command[0]} {command[1]} failed")
    return setup


def run() -> int:
    started = time.monotonic()
    with LocalStack(quiet=True) as stack, tempfile.TemporaryDirectory() as folder:
        setup = _set_up_with_the_cli(stack, Path(folder))
        _stock_the_store(stack, setup)
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


def _converged(stack: LocalStack, setup: CentraMerchant, placed: Placed) -> bool:
    in_myogo = Counter(order["reference"] for order in stack.myogo.orders(setup.merchant_id).values())
    bindings = stack.state().get_order_bindings(INTEGRATION, list(placed.held_expected))
    return all(in_myogo[order_id] == 1 for order_id in placed.paid) and all(
        order_id in bindings and bindings[order_id].status is BindingStatus.HELD for order_id in placed.held_expected
    )


def _summary(stack: LocalStack, setup: CentraMerchant, placed: Placed, seconds: float) -> int:
    myogo_orders = list(stack.myogo.orders(setup.merchant_id).values())
    references = Counter(order["reference"] for order in myogo_orders)
    duplicates = sum(count - 1 for count in references.values())
    bindings = stack.state().get_order_bindings(INTEGRATION, list(setup.centra.orders))
    held = {order_id: b for order_id, b in bindings.items() if b.status is BindingStatus.HELD}
    missing = [order_id for order_id in placed.paid if references[order_id] != 1]
    unexplained = [order_id for order_id in placed.held_expected if order_id not in held or not held[order_id].holds]
    wrongly_sent = [order_id for order_id in placed.held_expected if references[order_id]]

    print(_section("Summary"))
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
    print(
        f"   dead-lettered messages            {stack.queue_depth('OrderDLQ') + stack.queue_depth('OrderPollDLQ'):>4}"
    )
    print(
        f"   myOGO calls                       {sum(stack.myogo.calls.values()):>4}   "
        f"Centra calls {sum(setup.centra.calls.values())}"
    )
    print(f"   took {seconds:.1f} s")
    ok = not (duplicates or missing or unexplained or wrongly_sent)
    print(
        "\nCONVERGED: every paid order is in myOGO exactly once; every held order has a reason."
        if ok
        else f"\nNOT CONVERGED: missing={missing} unexplained={unexplained} wrongly_sent={wrongly_sent}"
    )
    return 0 if ok else 1


def _section(title: str) -> str:
    return f"\n== {title}"


if __name__ == "__main__":
    sys.exit(run())
