"""`make chaos`, Shopify's part: the scenario and verdict of chaos.py for one Shopify merchant.

Its paid orders go store -> myOGO (orders/create and orders/updated webhooks, the order worker, the scheduled poll
by `updated_at`), the warehouse ships them, one fulfillment per order comes back to Shopify with every tracking
number (myOGO webhooks and the tracking poll), and the stock sync sets `available` at the warehouse's location with
a compare-and-swap. Meanwhile myOGO and Shopify answer 5xx, 429 and hang, Shopify throttles GraphQL calls (THROTTLED
as HTTP 200 and as 429), webhooks arrive twice (the same X-Shopify-Event-Id), out of order or not at all, and
workers are killed, among other points right after Shopify accepted a fulfillment and before ogosync recorded it.

The merchant's ordinary actions, each a share of the orders: orders placed unpaid and paid later, orders put on a
fulfillment hold and released, orders cancelled after ogosync sent them (cancelled in myOGO while NEW) and after the
warehouse began collecting (shown to a person), and sales made between the stock flow's read and its write (the
compare-and-swap refuses the write, the value is recomputed). The verdict is chaos.py's.
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

from ogosync.models import Flow
from ogosync.state.dynamo import DynamoStateRepository
from ogosync.state.stock import DynamoStockLedger
from ogosync.state.tracking import DynamoTrackingRepository
from ogosync.stores.shopify.store import ShopifyStore
from ogosync.warehouse.myogo import MyOgoWarehouse
from ogosync_local.chaos import (
    KILL_POINTS,
    WAREHOUSE_UNITS,
    ChaosConfig,
    ChaosReport,
    Cohorts,
    When,
    render,
)
from ogosync_local.chaos_platform import PlatformChaosRun, chaos_main
from ogosync_local.sim.server import SimServer
from ogosync_local.sim.webhooks import DeliveryRecord
from ogosync_local.stack import LocalStack, ShopifySetup

INTEGRATION = "chaos-shopify"
SHIPPING_MAP = {"Standard": "POSTI-PAKETTI"}
ADAPTERS = (DynamoStateRepository, DynamoTrackingRepository, DynamoStockLedger, MyOgoWarehouse, ShopifyStore)
# chaos.py's points, with Shopify's store write in place of Centra's: the worker dies after Shopify made the
# fulfillment, before ogosync recorded it.
SHOPIFY_KILL_POINTS: tuple[tuple[type, str, When], ...] = (
    *(point for point in KILL_POINTS if point[0].__name__ != "CentraStore"),
    (ShopifyStore, "push_shipment", "after"),
)
THROTTLED_BURSTS = 3  # GraphQL answers THROTTLED this many times in a row, at each of the order, stock, tracking runs


class ShopifyChaosRun(PlatformChaosRun):
    integration_id = INTEGRATION
    adapters = ADAPTERS

    def __init__(self, stack: LocalStack, config: ChaosConfig) -> None:
        super().__init__(stack, config)
        self.shop: ShopifySetup
        self.sales_between_read_and_write = 0

    # ---- the scenario -----------------------------------------------------------------------------

    def _set_up(self) -> None:
        codes = [f"SH{n:04d}BLKM" for n in range(self.config.products)]
        self.shop = self.stack.add_shopify_store(
            INTEGRATION, shipping_map=SHIPPING_MAP, products=dict.fromkeys(codes, WAREHOUSE_UNITS)
        )
        made = [
            self.shop.shopify.add_product(
                f"Tee {n}",
                [{"sku": code, "barcode": f"7352{n:09d}", "price": "19.90", "stock": WAREHOUSE_UNITS,
                  "location_id": self.shop.location_id}],
            )
            for n, code in enumerate(codes)
        ]  # fmt: skip
        self.stack.seed_shopify_bindings(INTEGRATION, made)
        self.stack.register_myogo_webhook(INTEGRATION)
        self._place_orders(codes)

    def _place(self, place: str, lines: list[dict[str, Any]], cohorts: Cohorts) -> str:
        """An order placed unpaid (pending: paid later) or on a fulfillment hold (hidden: released later), else paid."""
        order = self.shop.shopify.add_order(
            lines,
            location_id=self.shop.location_id,
            financial_status="PENDING" if place in cohorts.pending else "PAID",
            hold_reason="INCORRECT_ADDRESS" if place in cohorts.hidden else None,
            hold_notes="the customer asked to change the address",
        )
        return str(order["legacyResourceId"])

    def _store_simulator(self) -> SimServer:
        return self.shop.shopify

    def _throttle(self, status: int) -> None:
        self.shop.shopify.throttle(next_calls=THROTTLED_BURSTS, status=status)
        self.report.webhooks[f"THROTTLED bursts (HTTP {status})"] += 1

    def _before_orders(self) -> None:
        self._throttle(200)

    def _before_tracking(self) -> None:
        self._throttle(429)

    def _store_deliveries(self, duplicate_rate: float, loss_rate: float) -> list[DeliveryRecord]:
        return self.shop.shopify.deliver_webhooks(
            duplicate_rate=duplicate_rate, loss_rate=loss_rate, reorder=True, seed=1
        )

    def _pay_and_release(self, pending: set[str], held: set[str]) -> None:
        for order_id in pending:
            self.shop.shopify.mark_paid(order_id)
        for order_id in held:
            self.shop.shopify.release_order(order_id)

    def _cancel_in_store(self, order_id: str) -> None:
        self.shop.shopify.cancel_order(order_id)

    def _sync_stock(self) -> None:
        codes = list(self.stack.myogo.products(self.shop.merchant_id))
        for code in codes[::3]:
            self.stack.myogo.set_stock(self.shop.merchant_id, code, WAREHOUSE_UNITS // 2)  # a stock count
        for code in codes[1::7]:  # a shopper buys between the stock run's read and its write
            self.shop.shopify.sell(code, location_id=self.shop.location_id, before_next_stock_write=True)
            self.sales_between_read_and_write += 1
        self._until(Flow.STOCK, lambda: not self._stock_problems())
        # The sales are paid orders like any other: they reach myOGO once, are shipped and tracked, and the stock
        # rule holds after them.
        self._deliver_store_webhooks()
        self._until(Flow.ORDERS, lambda: not self._order_problems())
        self.stack.myogo.advance(2)
        self._until(Flow.TRACKING, lambda: not self._tracking_problems())
        self._until(Flow.STOCK, lambda: not self._stock_problems())

    # ---- what must hold -----------------------------------------------------------------------------

    @property
    def merchant_id(self) -> str:
        return self.shop.merchant_id

    def _store_order_ids(self) -> list[str]:
        return self.shop.shopify.order_ids()

    def _tracking_problems(self) -> list[str]:
        """Orders not cancelled without exactly one fulfillment carrying every tracking number myOGO gave."""
        problems = []
        orders, bindings = self.stack.myogo.orders(self.shop.merchant_id), self._bindings()
        for order_id in set(self._store_order_ids()) - self.cohorts.cancelled - self.cohorts.late_cancelled:
            order = orders.get(bindings[order_id].reference) if order_id in bindings else None
            fulfillments = self.shop.shopify.fulfillments(order_id)
            if order is None or order["status"] != "shipped" or len(fulfillments) != 1:
                problems.append(order_id)
                continue
            numbers = [row.get("number") for row in fulfillments[0]["trackingInfo"]]
            if numbers != order["trackingNumber"].split(","):
                problems.append(order_id)
        return problems

    def _stock_problems(self) -> list[str]:
        """Bound SKUs Shopify does not sell at max(0, myOGO available - units paid in Shopify, not in myOGO)."""
        in_myogo = self._copies_in_myogo()
        transit: Counter[str] = Counter()
        for order_id in self._store_order_ids():
            order = self.shop.shopify.order(order_id)
            if order["cancelledAt"] is None and not in_myogo[order_id]:
                for fulfillment_order in order["fulfillmentOrders"]:
                    for line in fulfillment_order["lineItems"]:
                        transit[line["sku"]] += line["totalQuantity"]
        problems = []
        for code in self.stack.myogo.products(self.shop.merchant_id):
            expected = max(0, self.stack.myogo.stock(self.shop.merchant_id, code)["stockAvailable"] - transit[code])
            if self.shop.shopify.inventory(code, self.shop.location_id).get("available") != expected:
                problems.append(code)
        return problems

    def _store_shipped(self, order_id: str) -> bool:
        return bool(self.shop.shopify.fulfillments(order_id))

    def _store_faults(self) -> dict[str, Counter[str]]:
        return {"Shopify": self.shop.shopify.faults.injected}

    def _verdict(self) -> None:
        self.report.paid_orders = len(self._store_order_ids())
        super()._verdict()
        self.report.webhooks["sales between the stock read and write"] = self.sales_between_read_and_write


SHOPIFY_WORDS = {
    "store": "Shopify",
    "garbled": "unreadable orders held (none: GraphQL answers typed data)",
    "object_lines": "orders with lines as a JSON object (a Centra quirk: none)",
    "pending": "orders placed unpaid, held, paid later: sent, shipped, tracked",
    "hidden": "orders on a fulfillment hold, held with its reason, released: sent",
}


def shopify_config(config: ChaosConfig) -> ChaosConfig:
    """The Centra run's configuration for Shopify: no unreadable orders (GraphQL answers typed data) and no lines as
    a JSON object (a Centra plugin quirk); Shopify's own kill point."""
    return ChaosConfig(
        **{
            **config.__dict__,
            "garbled_share": 0.0,
            "object_lines_share": 0.0,
            "kill_points": SHOPIFY_KILL_POINTS,
        }
    )


def run_shopify_chaos(config: ChaosConfig) -> ChaosReport:
    with LocalStack(
        quiet=True, visibility_timeout_s=config.visibility_timeout_s, claim_lease_seconds=config.claim_lease_seconds
    ) as stack:
        return ShopifyChaosRun(stack, shopify_config(config)).run()


def main(argv: list[str] | None = None) -> int:
    return chaos_main(
        argv, "shopify", run_shopify_chaos, lambda report, command: render(report, command, SHOPIFY_WORDS)
    )


if __name__ == "__main__":
    sys.exit(main())
