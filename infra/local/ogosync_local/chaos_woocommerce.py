"""`make chaos`, WooCommerce's part: the scenario and verdict of chaos.py for one WooCommerce merchant.

Its paid (processing) orders go store -> myOGO (signed order.created and order.updated webhooks, the order worker,
and the scheduled poll by `modified_after`, the main path: WooCommerce never retries a webhook and disables one after
repeated failures), the warehouse ships them, ONE tracking write per order comes back (the order's meta and status
completed in one PUT, then a customer note, best effort), and the stock sync writes `stock_quantity` through the
batch routes. Meanwhile myOGO and the site answer 5xx, 429 with Retry-After and hang, the site refuses some items
inside a batch's 200 answer and refuses batches over its item limit with 413, webhooks arrive twice (the same
X-WC-Webhook-Delivery-ID), out of order or not at all, and workers are killed, among other points right after the site
accepted the tracking write and before ogosync recorded it.

The merchant's ordinary actions, each a share of the orders: orders placed pending and paid later, orders placed
on-hold and released, orders cancelled after ogosync sent them (cancelled in myOGO while NEW) and after the warehouse
began collecting (shown to a person), and sales made between the stock flow's read and its write. WooCommerce has no
compare-and-swap, so such a sale is overwritten: the run measures how often that made the written value wrong (the
site's stock right after our write differed from the stock rule) and after how many scheduled stock runs the site
was right again. The verdict is chaos.py's, plus: every such wrong value corrected.

Uncertain: the simulator's sale lands right before the write reaches the site, the worst moment; a real sale may
land anywhere between the read and the write, with the same outcome.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ogosync.models import Flow
from ogosync.state.dynamo import DynamoStateRepository
from ogosync.state.stock import DynamoStockLedger
from ogosync.state.tracking import DynamoTrackingRepository
from ogosync.stores.woocommerce.store import TRACKING_META, WooCommerceStore
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
from ogosync_local.lambdas import DrainReport
from ogosync_local.markdown import table
from ogosync_local.sim.server import SimServer
from ogosync_local.sim.webhooks import DeliveryRecord
from ogosync_local.stack import FLOW_FUNCTIONS, LocalStack, WooCommerceSetup

INTEGRATION = "chaos-woocommerce"
SHIPPING_MAP = {"Flat rate": "POSTI-PAKETTI"}  # the simulator's shipping method title
ADAPTERS = (DynamoStateRepository, DynamoTrackingRepository, DynamoStockLedger, MyOgoWarehouse, WooCommerceStore)
# chaos.py's points, with WooCommerce's store write in place of Centra's: the worker dies after the site took the
# tracking write (and the note), before ogosync recorded it.
WOOCOMMERCE_KILL_POINTS: tuple[tuple[type, str, When], ...] = (
    *(point for point in KILL_POINTS if point[0].__name__ != "CentraStore"),
    (WooCommerceStore, "push_shipment", "after"),
)
HOLDS_STOCK = frozenset({"pending", "processing", "on-hold"})  # paid or waiting for payment: in transit till sent


@dataclass
class StaleWrite:
    """One sale between a stock read and its write: the value written over it, and the stock runs (drains of the
    stock queue that ran something, counted from the start) at which it happened and at which the site was right."""

    sku: str
    written: int | None
    run: int
    changed: bool = False
    corrected_run: int | None = None


@dataclass
class WooCommerceChaosReport(ChaosReport):
    stale_writes: list[StaleWrite] = field(default_factory=list)
    notes_missing: list[str] = field(default_factory=list)  # shipped orders without the customer note (best effort)
    batch_item_errors: int = 0
    batch_refusals: int = 0
    webhook_statuses: Counter[str] = field(default_factory=Counter)

    @property
    def changed_writes(self) -> list[StaleWrite]:
        return [write for write in self.stale_writes if write.changed]

    @property
    def uncorrected(self) -> list[StaleWrite]:
        return [write for write in self.changed_writes if write.corrected_run is None]

    @property
    def runs_to_correct(self) -> int:
        """The most scheduled stock runs after the one that wrote a wrong value until the site was right."""
        return max(((write.corrected_run or write.run) - write.run for write in self.changed_writes), default=0)

    @property
    def converged(self) -> bool:
        return super().converged and not self.uncorrected


class WooCommerceChaosRun(PlatformChaosRun):
    integration_id = INTEGRATION
    adapters = ADAPTERS

    def __init__(self, stack: LocalStack, config: ChaosConfig) -> None:
        super().__init__(stack, config)
        self.report: WooCommerceChaosReport = WooCommerceChaosReport(config)
        self.shop: WooCommerceSetup
        self.product_ids: dict[str, int] = {}
        self.stock_runs = 0

    # ---- the scenario -----------------------------------------------------------------------------

    def _set_up(self) -> None:
        codes = [f"WC{n:04d}BLKM" for n in range(self.config.products)]
        self.shop = self.stack.add_woocommerce_store(
            INTEGRATION, shipping_map=SHIPPING_MAP, products=dict.fromkeys(codes, WAREHOUSE_UNITS)
        )
        site = self.shop.woocommerce
        made = [
            site.add_product(f"Tee {n}", sku=code, global_unique_id=f"7353{n:09d}", stock_quantity=WAREHOUSE_UNITS)
            for n, code in enumerate(codes)
        ]
        self.product_ids = {product["sku"]: product["id"] for product in made}
        self.stack.seed_woocommerce_bindings(INTEGRATION, made)
        self.stack.register_myogo_webhook(INTEGRATION)
        self._place_orders(codes)

    def _place(self, place: str, lines: list[dict[str, Any]], cohorts: Cohorts) -> str:
        """An order placed pending (paid later), on-hold (released later) or processing (paid)."""
        status = "pending" if place in cohorts.pending else "on-hold" if place in cohorts.hidden else "processing"
        return str(self.shop.woocommerce.add_order(lines, status=status)["id"])

    def _store_simulator(self) -> SimServer:
        return self.shop.woocommerce

    def _store_deliveries(self, duplicate_rate: float, loss_rate: float) -> list[DeliveryRecord]:
        site = self.shop.woocommerce
        return site.deliver_webhooks(duplicate_rate=duplicate_rate, loss_rate=loss_rate, reorder=True, seed=1)

    def _pay_and_release(self, pending: set[str], held: set[str]) -> None:
        for order_id in pending | held:  # paid at last, or released by the merchant
            self.shop.woocommerce.update_order(order_id, status="processing")

    def _cancel_in_store(self, order_id: str) -> None:
        self.shop.woocommerce.cancel_order(order_id)

    def _sync_stock(self) -> None:
        site, merchant = self.shop.woocommerce, self.shop.merchant_id
        codes = list(self.stack.myogo.products(merchant))
        for code in codes[::3]:
            self.stack.myogo.set_stock(merchant, code, WAREHOUSE_UNITS // 2)  # a stock count
        for code in codes[1::7]:  # a shopper buys between the stock run's read and its write
            site.sell(code, before_next_stock_write=True)
        site.configure(batch_limit=max(1, len(codes) // 2))  # the host's limit: the adapter takes it from the 413
        # A plugin refuses writes to these products (an error inside the batch's 200) until the merchant fixes it.
        site.fail_ids(self.product_ids[code] for code in codes[2::7])
        self._until(Flow.STOCK, lambda: site.batch_item_errors > 0)
        site.fail_ids([])
        self._until(Flow.STOCK, lambda: not self._stock_problems())
        # The sales are paid orders like any other: they reach myOGO once, are shipped and tracked, and the stock
        # rule holds after them.
        self._deliver_store_webhooks()
        self._until(Flow.ORDERS, lambda: not self._order_problems())
        self.stack.myogo.advance(2)
        self._until(Flow.TRACKING, lambda: not self._tracking_problems())
        self._until(Flow.STOCK, lambda: not self._stock_problems())

    def _drain(self, function: str, queue_url: str, *, batch_size: int) -> DrainReport:
        """chaos.py's drain; after each stock run, the sales that landed between its read and its write are
        judged against the stock rule, and the wrong values written before are checked for correction."""
        drained = super()._drain(function, queue_url, batch_size=batch_size)
        if function == FLOW_FUNCTIONS[Flow.STOCK] and drained.received:
            self.stock_runs += 1
            self._judge_stale_writes()
        return drained

    def _judge_stale_writes(self) -> None:
        """Only the sales change the stock rule during a stock run (no order reaches myOGO then), so the rule now
        is the rule right after each write of this run."""
        site, report = self.shop.woocommerce, self.report
        expected = self._expected_stock()
        for sale in site.sales_before_writes[len(report.stale_writes) :]:
            write = StaleWrite(sale["sku"], sale["written"], self.stock_runs)
            write.changed = write.written != expected[write.sku]
            report.stale_writes.append(write)
        for write in report.changed_writes:
            if write.corrected_run is None and site.stock(write.sku)["stock_quantity"] == expected[write.sku]:
                write.corrected_run = self.stock_runs

    # ---- what must hold -----------------------------------------------------------------------------

    @property
    def merchant_id(self) -> str:
        return self.shop.merchant_id

    def _store_order_ids(self) -> list[str]:
        return [str(order_id) for order_id in self.shop.woocommerce.order_ids()]

    def _tracking_problems(self) -> list[str]:
        """Orders not cancelled that are not completed once with myOGO's tracking numbers in their meta, or carry
        more than one customer note (the note is best effort: one missing is counted, not a problem)."""
        problems = []
        orders, bindings = self.stack.myogo.orders(self.shop.merchant_id), self._bindings()
        for order_id in set(self._store_order_ids()) - self.cohorts.cancelled - self.cohorts.late_cancelled:
            order = orders.get(bindings[order_id].reference) if order_id in bindings else None
            found = self.shop.woocommerce.order(order_id)
            notes = [note for note in found["notes"] if note["customer_note"]]
            completed = found["status"] == "completed" and found["emails"].count("customer_completed_order") == 1
            tracked = order is not None and _numbers(_meta(found).get(TRACKING_META)) == _numbers(
                order["trackingNumber"]
            )
            if order is None or order["status"] != "shipped" or not (completed and tracked) or len(notes) > 1:
                problems.append(order_id)
        return problems

    def _expected_stock(self) -> dict[str, int]:
        """The stock rule: max(0, myOGO available - units of site orders paid or waiting for payment, not in myOGO)."""
        in_myogo = self._copies_in_myogo()
        transit: Counter[str] = Counter()
        for order_id in self._store_order_ids():
            order = self.shop.woocommerce.order(order_id)
            if order["status"] in HOLDS_STOCK and not in_myogo[order_id]:
                for line in order["line_items"]:
                    transit[line["sku"]] += line["quantity"]
        merchant = self.shop.merchant_id
        return {
            code: max(0, self.stack.myogo.stock(merchant, code)["stockAvailable"] - transit[code])
            for code in self.stack.myogo.products(merchant)
        }

    def _stock_problems(self) -> list[str]:
        """Bound SKUs whose stock_quantity on the site differs from the stock rule."""
        site = self.shop.woocommerce
        return [code for code, want in self._expected_stock().items() if site.stock(code)["stock_quantity"] != want]

    def _store_shipped(self, order_id: str) -> bool:
        found = self.shop.woocommerce.order(order_id)
        return found["status"] == "completed" or bool(_meta(found).get(TRACKING_META))

    def _store_faults(self) -> dict[str, Counter[str]]:
        return {"WooCommerce": self.shop.woocommerce.faults.injected}

    def _verdict(self) -> None:
        site, report = self.shop.woocommerce, self.report
        report.paid_orders = len(self._store_order_ids())
        super()._verdict()
        shipped = set(self._store_order_ids()) - self.cohorts.cancelled - self.cohorts.late_cancelled
        report.notes_missing = sorted(
            order_id for order_id in shipped if not any(n["customer_note"] for n in site.order(order_id)["notes"])
        )
        report.batch_item_errors, report.batch_refusals = site.batch_item_errors, site.batch_refusals
        report.webhook_statuses = Counter(hook["status"] for hook in site.webhooks())


def _meta(order: dict[str, Any]) -> dict[str, Any]:
    return {row["key"]: row["value"] for row in order["meta_data"]}


def _numbers(tracking: Any) -> list[str]:
    return [number.strip() for number in str(tracking or "").split(",") if number.strip()]


WOOCOMMERCE_WORDS = {
    "store": "WooCommerce",
    "garbled": "unreadable orders held (none here: see tests/unit/test_woocommerce_mapping.py)",
    "object_lines": "orders with lines as a JSON object (a Centra quirk: none)",
    "pending": "orders placed pending, held, paid later: sent, shipped, tracked",
    "hidden": "orders placed on-hold, held with that reason, released: sent",
}


def render_woocommerce(report: WooCommerceChaosReport, command: str) -> str:
    """chaos.py's tables, then WooCommerce's own: the sales between the stock read and write, the batch faults, the
    customer notes and the webhooks' state at the end."""
    changed = report.changed_writes
    corrected = len(changed) - len(report.uncorrected)
    stale = [
        ["sales between the stock flow's read and its write", str(len(report.stale_writes)), ""],
        ["of which changed the written value (site != stock rule right after our write)", str(len(changed)), ""],
        ["of those, corrected by a later stock run", str(corrected), f"= {len(changed)}"],
        ["stock runs after the wrong write until the site was right (at most)", str(report.runs_to_correct), ""],
        ["SKUs off the stock rule at the end", str(len(report.stock_problems)), "0"],
    ]
    specifics = [
        ["items refused inside a batch's 200 answer (written by a later run)", str(report.batch_item_errors)],
        ["batch calls refused with 413 (the adapter takes the limit the site names)", str(report.batch_refusals)],
        ["shipped orders without the customer note (best effort, after a lost answer)", str(len(report.notes_missing))],
        *[[f"webhooks {status} at the end", str(n)] for status, n in sorted(report.webhook_statuses.items())],
    ]  # fmt: skip
    return "\n\n".join(
        [
            render(report, command, WOOCOMMERCE_WORDS),
            "Sales between the stock read and write (WooCommerce has no compare-and-swap: the write wins, the next "
            "run corrects it):",
            table(["measure", "measured", "expected"], stale),
            "WooCommerce's own faults and best-effort parts:",
            table(["what", "count"], specifics),
        ]
    )


def woocommerce_config(config: ChaosConfig) -> ChaosConfig:
    """The Centra run's configuration for WooCommerce: no unreadable orders and no lines as a JSON object (Centra
    plugin quirks the simulator does not make); WooCommerce's own kill point."""
    return ChaosConfig(
        **{
            **config.__dict__,
            "garbled_share": 0.0,
            "object_lines_share": 0.0,
            "kill_points": WOOCOMMERCE_KILL_POINTS,
        }
    )


def run_woocommerce_chaos(config: ChaosConfig) -> WooCommerceChaosReport:
    with LocalStack(
        quiet=True, visibility_timeout_s=config.visibility_timeout_s, claim_lease_seconds=config.claim_lease_seconds
    ) as stack:
        run = WooCommerceChaosRun(stack, woocommerce_config(config))
        run.run()
        return run.report


def main(argv: list[str] | None = None) -> int:
    return chaos_main(argv, "woocommerce", run_woocommerce_chaos, render_woocommerce)


if __name__ == "__main__":
    sys.exit(main())
