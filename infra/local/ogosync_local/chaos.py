"""`make chaos`: orders through the whole cycle while everything around ogosync misbehaves, then the verdict.

One Centra merchant on the local stack. Its paid orders go store -> myOGO (webhooks, the order worker, the scheduled
poll), the warehouse ships them, tracking comes back to Centra (myOGO webhooks and the tracking poll) and the stock
sync makes Centra sell what myOGO has. Meanwhile both simulators answer 5xx, 429 with Retry-After and hang past the
client's timeout at the configured rates, Centra's webhooks arrive twice, out of order or not at all, and the worker
is killed (a BaseException the engines cannot catch, as a Lambda timeout or crash) at chosen points, among them
after myOGO accepted an order and before ogosync recorded it. A killed invocation deletes nothing from its queue:
SQS redelivers it after the visibility timeout, to a new container (the runtime's caches are dropped). Between the
webhooks' work and the scheduled polls the merchant changes the integration's reference prefix: orders recorded
before keep their references, in myOGO and in tracking.

The verdict: exactly one myOGO order per paid store order, every shipped order's tracking in Centra exactly once,
Centra's stock as the stock rule says, and every message left in a DLQ named in the report.

`python -m ogosync_local.chaos --orders 1000` (the default); `--markdown FILE` writes the tables into FILE between
the `chaos` markers. Test equipment: `make test` runs a small version (tests/e2e/test_chaos.py).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from unittest import mock

from ogosync import runtime
from ogosync.aws.sqs import SqsJobQueue
from ogosync.http import HttpClient
from ogosync.models import BindingStatus, Flow, HoldReason, OrderBinding
from ogosync.state.dynamo import DynamoStateRepository
from ogosync.state.stock import DynamoStockLedger
from ogosync.state.table import key
from ogosync.state.tracking import DynamoTrackingRepository
from ogosync.stores.centra.client import CentraStore
from ogosync.warehouse.myogo import MyOgoWarehouse
from ogosync_local.lambdas import DrainReport, LambdaContext, load_handler
from ogosync_local.markdown import replace_section, table
from ogosync_local.sim import FaultConfig
from ogosync_local.sim.server import SimServer
from ogosync_local.stack import FLOW_FUNCTIONS, FLOW_QUEUES, CentraSetup, LocalStack

INTEGRATION = "chaos-centra"
SHIPPING_MAP = {"standard": "POSTI-PAKETTI"}
WAREHOUSE_UNITS = 1_000_000  # enough that no order is refused for stock
DLQS = ("OrderDLQ", "OrderPollDLQ", "StockSyncDLQ", "TrackingSyncDLQ")
ADAPTERS = (DynamoStateRepository, DynamoTrackingRepository, DynamoStockLedger, MyOgoWarehouse, CentraStore)
When = Literal["before", "after"]
# Where the worker dies: (class, method, before or after the call). "after" on a platform write means the platform
# did it and ogosync never learned; "before" on a state write means the write never happened.
KILL_POINTS: tuple[tuple[type, str, When], ...] = (
    (DynamoStateRepository, "claim_order", "after"),
    (MyOgoWarehouse, "create_order", "after"),
    (DynamoStateRepository, "mark_order_sent", "before"),
    (SqsJobQueue, "send", "after"),
    (DynamoTrackingRepository, "claim_push", "after"),
    (CentraStore, "create_shipment", "after"),
    (DynamoTrackingRepository, "mark_pushed", "before"),
    (DynamoStockLedger, "record_published", "before"),
    (DynamoStateRepository, "save_cursor", "before"),
)


class WorkerKilled(BaseException):
    """The Lambda container died mid-invocation; nothing after this point of the invocation runs."""


@dataclass
class ChaosConfig:
    orders: int = 1000
    products: int = 40
    error_rate: float = 0.10
    rate_limit_rate: float = 0.05
    timeout_rate: float = 0.02
    retry_after_s: float = 1.0
    duplicate_rate: float = 0.20
    loss_rate: float = 0.05
    kill_rate: float = 0.10  # share of the invocations killed
    kill_reach: int = 20  # a killed invocation dies at one of its first this many passes through a kill point
    client_timeout_s: float = 0.5  # the simulators hang twice this long; the deployed timeout is 10 s
    seed: int = 20261124
    max_rounds: int = 12
    kill_points: tuple[tuple[type, str, When], ...] = KILL_POINTS
    # Chaos runs on the clock, unlike the local stack's defaults (stack.py): SQS redelivers a failed or killed
    # message this soon (deployed: 6 x timeout), and a dead worker's claim runs out this soon (deployed: 120 s).
    # A slow machine only shortens these in effect (a failure slower than the timeout is visible again at once; an
    # import slower than the lease less its margin stops calling myOGO): the run then needs more rounds.
    visibility_timeout_s: int = 1
    claim_lease_seconds: int = 2
    new_reference_prefix: str = "CH-"  # the prefix the merchant changes to mid-run ("" = no change)
    # Odd store data and ordinary merchant actions (issue 10), each a share of the paid orders, disjoint:
    garbled_share: float = 0.02  # served unreadable (a null line) until the merchant mends the plugin's data
    object_lines_share: float = 0.05  # products served as a JSON object, as PHP's json_encode makes of a filtered list
    pending_share: float = 0.05  # Pending in Centra (authorised, not confirmed): shipped by myOGO, confirmed later
    cancel_share: float = 0.03  # cancelled in Centra after ogosync sent them, while myOGO's order is still NEW
    late_cancel_share: float = 0.01  # cancelled after the warehouse started collecting: a person must stop them
    hidden_share: float = 0.02  # hidden by the plugin while their webhooks come, visible only later (no webhook then)


class Killer:
    """Kills a share `rate` of the invocations, each at a random one of its first `reach` passes through a kill
    point. Once dead, every adapter call of the same invocation dies too (a dead process runs no `finally` that
    writes state, such as releasing a flow lock)."""

    def __init__(
        self,
        rate: float,
        seed: int,
        points: tuple[tuple[type, str, When], ...] = KILL_POINTS,
        reach: int = 20,
        adapters: tuple[type, ...] = ADAPTERS,
    ) -> None:
        self._adapters = adapters
        self._points = {(cls, name): when for cls, name, when in points}
        self._rate = rate
        self._reach = reach
        self._rng = random.Random(seed)
        self._fuse: int | None = None  # kill-point passes left before the death of this invocation
        self.dead = False
        self.kills: Counter[str] = Counter()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        with contextlib.ExitStack() as patches:
            for cls in (*self._adapters, SqsJobQueue):
                for name, method in vars(cls).items():
                    if callable(method) and not name.startswith("_"):
                        wrapped = self._wrap(f"{cls.__name__}.{name}", method, self._points.get((cls, name)))
                        patches.enter_context(mock.patch.object(cls, name, wrapped))
            yield

    @contextlib.contextmanager
    def invocation(self) -> Iterator[None]:
        """One invocation, which may die (WorkerKilled leaves this block)."""
        self._fuse = self._rng.randint(1, self._reach) if self._rng.random() < self._rate else None
        try:
            yield
        finally:
            self._fuse, self.dead = None, False

    def _wrap(self, label: str, method: Callable[..., Any], when: When | None) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            self._check(label, when == "before")
            answer = method(*args, **kwargs)
            self._check(label, when == "after")
            return answer

        return call

    def _check(self, label: str, at_kill_point: bool) -> None:
        if self.dead:
            raise WorkerKilled(label)
        if at_kill_point and self._fuse is not None:
            self._fuse -= 1
            if self._fuse == 0:
                self.dead = True
                self.kills[label] += 1
                raise WorkerKilled(label)


@dataclass
class Cohorts:
    """The orders picked for each kind of odd data or merchant action (disjoint sets of store order ids)."""

    garbled: set[str] = field(default_factory=set)
    object_lines: set[str] = field(default_factory=set)
    pending: set[str] = field(default_factory=set)
    cancelled: set[str] = field(default_factory=set)
    late_cancelled: set[str] = field(default_factory=set)
    hidden: set[str] = field(default_factory=set)

    @classmethod
    def pick(cls, order_ids: list[str], config: ChaosConfig) -> Cohorts:
        shuffled = random.Random(config.seed + 7).sample(order_ids, len(order_ids))
        shares = (
            config.garbled_share,
            config.object_lines_share,
            config.pending_share,
            config.cancel_share,
            config.late_cancel_share,
            config.hidden_share,
        )
        picked: list[set[str]] = []
        start = 0
        for share in shares:
            size = round(share * len(order_ids))
            picked.append(set(shuffled[start : start + size]))
            start += size
        return cls(*picked)


@dataclass
class ChaosReport:
    config: ChaosConfig
    seconds: float = 0.0
    webhooks: Counter[str] = field(default_factory=Counter)
    faults: dict[str, Counter[str]] = field(default_factory=dict)
    kills: Counter[str] = field(default_factory=Counter)
    invocations: Counter[str] = field(default_factory=Counter)
    rounds: Counter[str] = field(default_factory=Counter)
    paid_orders: int = 0
    myogo_orders: int = 0
    duplicates: int = 0
    missing: list[str] = field(default_factory=list)
    shipped: int = 0
    tracking_problems: list[str] = field(default_factory=list)
    stock_checked: int = 0
    stock_problems: list[str] = field(default_factory=list)
    dead_letters: dict[str, list[str]] = field(default_factory=dict)
    cohorts: Cohorts = field(default_factory=Cohorts)
    held_unreadable: int = 0  # garbled orders ogosync held as unreadable before the merchant mended them
    cancelled_in_myogo: int = 0  # of the orders cancelled in Centra while myOGO's order was NEW
    cancelled_shipped: list[str] = field(default_factory=list)  # of those, shipped anyway: must be none
    late_cancels_for_a_person: int = 0  # cancelled after collecting began, shown to a person (alarmed)
    hidden_before: int = 0  # hidden orders in myOGO before they became visible (must be none: nothing to read)

    @property
    def converged(self) -> bool:
        return not (
            self.duplicates
            or self.cancelled_shipped
            or self.hidden_before
            or self.held_unreadable != len(self.cohorts.garbled)
            or self.cancelled_in_myogo != len(self.cohorts.cancelled)
            or self.late_cancels_for_a_person != len(self.cohorts.late_cancelled)
            or self.missing
            or self.tracking_problems
            or self.stock_problems
            or self.myogo_orders != self.paid_orders
            or self.shipped != self.paid_orders - len(self.cohorts.cancelled)
        )


class ChaosRun:
    """One merchant's store through the whole cycle (Centra's here; chaos_shopify.py runs a Shopify store through
    the same scenario and verdict by overriding the store's side)."""

    integration_id = INTEGRATION
    adapters: tuple[type, ...] = ADAPTERS  # the classes whose calls may be where a worker dies

    def __init__(self, stack: LocalStack, config: ChaosConfig) -> None:
        self.stack = stack
        self.config = config
        self.killer = Killer(config.kill_rate, config.seed, config.kill_points, config.kill_reach, self.adapters)
        self.report = ChaosReport(config)
        self.setup: CentraSetup
        self.cohorts = Cohorts()

    # ---- the scenario -----------------------------------------------------------------------------

    def run(self) -> ChaosReport:
        started = time.monotonic()
        self._set_up()
        timeout = {"timeout": self.config.client_timeout_s}
        with self.killer.installed(), mock.patch.dict(HttpClient.__init__.__kwdefaults__, timeout):
            self._inject_faults()
            self._orders_to_myogo()
            self._ship_and_track()
            self._sync_stock()
        self.report.seconds = time.monotonic() - started
        self._verdict()
        return self.report

    def _set_up(self) -> None:
        codes = [f"CH{n:04d}BLKM" for n in range(self.config.products)]
        self.setup = self.stack.add_centra_store(
            self.integration_id, shipping_map=SHIPPING_MAP, products=dict.fromkeys(codes, WAREHOUSE_UNITS)
        )
        for n, code in enumerate(codes):
            self.setup.centra.add_product(code[:-4], "BLK", "M", ean=f"7351{n:09d}", stock=WAREHOUSE_UNITS)
        self.stack.seed_sku_bindings(self.integration_id)
        self.stack.register_myogo_webhook(self.integration_id)
        # The plugin set up as the README says: Cancelled orders are returned too, so a cancellation after sending is
        # told from a deleted order (without it, such an order is shown to a person instead of cancelled in myOGO).
        self.setup.centra.statuses_returned = self.setup.centra.statuses_returned | {"Cancelled"}
        rng = random.Random(self.config.seed)
        for _ in range(self.config.orders):
            lines = [{"product": code, "qty": rng.randint(1, 3)} for code in rng.sample(codes, rng.randint(1, 3))]
            self.setup.centra.add_order(lines)
        self.report.paid_orders = self.config.orders
        self.cohorts = self.report.cohorts = Cohorts.pick(list(self._store_order_ids()), self.config)
        self._odd_store_data()

    def _odd_store_data(self) -> None:
        """Before any webhook is delivered: Pending orders, lines as a JSON object, and unreadable orders."""
        centra = self.setup.centra
        for order_id in self.cohorts.pending:
            centra.update_order(order_id, status="Pending")
        for order_id in self.cohorts.object_lines:
            lines = centra.orders[order_id]["products"]
            centra.garble_order(order_id, products={str(n): line for n, line in enumerate(lines, start=1)})
        for order_id in self.cohorts.garbled:
            centra.garble_order(order_id, products=[None])
        for order_id in self.cohorts.hidden:
            centra.hide_order(order_id)

    def _inject_faults(self) -> None:
        config = self.config
        faults = FaultConfig(
            error_rate=config.error_rate,
            rate_limit_rate=config.rate_limit_rate,
            retry_after_s=config.retry_after_s,
            timeout_rate=config.timeout_rate,
            hang_s=2 * config.client_timeout_s,
        )
        for offset, simulator in enumerate((self.stack.myogo, self._store_simulator())):
            simulator.faults.configure(FaultConfig(**{**faults.__dict__, "seed": config.seed + offset}))

    def _store_simulator(self) -> SimServer:
        return self.setup.centra

    def _orders_to_myogo(self) -> None:
        deliveries = self.setup.centra.deliver_webhooks(
            duplicate_rate=self.config.duplicate_rate, loss_rate=self.config.loss_rate, reorder=True, seed=1
        )
        self.report.webhooks.update(
            "lost" if d.lost else "duplicate" if d.duplicated else f"answered {d.status}" for d in deliveries
        )
        self._drain("order_import", self.stack.aws.queue_urls["OrderQueue"], batch_size=10)
        self._change_reference_prefix()
        garbled, hidden = self.cohorts.garbled, self.cohorts.hidden
        self._until(
            Flow.ORDERS,
            lambda: not (set(self._order_problems()) - garbled - hidden) and self._held_unreadable() == len(garbled),
        )
        self.report.held_unreadable = self._held_unreadable()
        self.report.hidden_before = len(hidden - set(self._not_once_in_myogo()))  # must be 0: they were not visible
        for order_id in garbled:  # the merchant mends the plugin's data: the held orders go through by themselves
            self.setup.centra.repair_order(order_id)
        for order_id in hidden:  # visible at last, and no webhook comes for them now: the poll must find them
            self.setup.centra.hide_order(order_id, hidden=False)
        self._until(Flow.ORDERS, lambda: not self._order_problems())
        self._cancel_after_sending()

    def _held_unreadable(self) -> int:
        bindings = self._bindings()
        return sum(
            1
            for order_id in self.cohorts.garbled
            if order_id in bindings
            and any(h.reason is HoldReason.UNREADABLE_IN_STORE for h in bindings[order_id].holds)
        )

    def _cancel_after_sending(self) -> None:
        """The merchant cancels orders in Centra after ogosync sent them; myOGO has not started on them."""
        for order_id in self.cohorts.cancelled:
            self.setup.centra.update_order(order_id, status="Cancelled")
        self._until(Flow.ORDERS, lambda: not self._not_cancelled_in_myogo())

    def _not_cancelled_in_myogo(self) -> list[str]:
        statuses = self._myogo_statuses()
        return [order_id for order_id in self.cohorts.cancelled if statuses.get(order_id) != "cancelled"]

    def _myogo_statuses(self) -> dict[str, str]:
        orders, bindings = self.stack.myogo.orders(self.merchant_id), self._bindings()
        return {
            order_id: orders[binding.reference]["status"]
            for order_id, binding in bindings.items()
            if binding.reference in orders
        }

    def _change_reference_prefix(self) -> None:
        """The merchant sets a new reference prefix, recorded as the operator's update records it (the old one is
        kept in past_reference_prefixes); the containers read the integration afresh."""
        if not self.config.new_reference_prefix:
            return
        state = self.stack.state()
        before = state.get_integration(self.integration_id)
        assert before is not None
        settings = before.settings.model_copy(update={"reference_prefix": self.config.new_reference_prefix})
        past = [*before.past_reference_prefixes, before.settings.reference_prefix]
        state.put_integration(before.model_copy(update={"settings": settings, "past_reference_prefixes": past}))
        runtime.reset()

    def _ship_and_track(self) -> None:
        self.stack.myogo.advance(1)  # new -> collecting
        for order_id in self.cohorts.late_cancelled:  # too late for ogosync to stop: a person must
            self.setup.centra.update_order(order_id, status="Cancelled")
        self._until(Flow.ORDERS, lambda: len(self._late_cancels_for_a_person()) == len(self.cohorts.late_cancelled))
        self.stack.myogo.advance(1)  # collecting -> shipped
        self.stack.myogo.deliver_webhooks()  # hints to the tracking queue
        # Centra takes no shipment of a Pending order: those wait, retried on each tracking poll, until confirmed.
        self._until(Flow.TRACKING, lambda: set(self._tracking_problems()) <= self.cohorts.pending)
        for order_id in self.cohorts.pending:
            self.setup.centra.update_order(order_id, status="Confirmed")
        self._until(Flow.TRACKING, lambda: not self._tracking_problems())

    def _late_cancels_for_a_person(self) -> list[str]:
        attention_orders = self.stack.aftercare_state().attention_orders(self.integration_id)
        attention = {order.store_order_id for order in attention_orders}
        return sorted(attention & self.cohorts.late_cancelled)

    def _sync_stock(self) -> None:
        for code in list(self.stack.myogo.products(self.setup.merchant_id))[::3]:
            self.stack.myogo.set_stock(self.setup.merchant_id, code, WAREHOUSE_UNITS // 2)  # a stock count
        self._until(Flow.STOCK, lambda: not self._stock_problems())

    def _until(self, flow: Flow, converged: Callable[[], bool]) -> None:
        """Scheduled runs of the flow (with everything they enqueue) until it converges or the rounds run out."""
        queue = self.stack.aws.queue_urls[FLOW_QUEUES[flow]]
        for _ in range(self.config.max_rounds):
            self._drain(FLOW_FUNCTIONS[flow], queue, batch_size=1)
            if converged():
                return
            self.report.rounds[flow] += 1
            self.stack.enqueue_flow(self.integration_id, flow)
        self._drain(FLOW_FUNCTIONS[flow], queue, batch_size=1)

    # ---- the Lambda runner, with deaths ------------------------------------------------------------

    def _drain(self, function: str, queue_url: str, *, batch_size: int) -> DrainReport:
        """Like lambdas.drain_queue, but an invocation may die: its batch stays in the queue for redelivery, and
        the next invocation starts in a new container (a dead worker's flow lock outlives it until its TTL, which
        the run lets pass at once)."""
        sqs, report = self.stack.aws.client("sqs"), DrainReport()
        idle_until = time.monotonic() + 2 * self.config.visibility_timeout_s + 1
        while time.monotonic() < idle_until:
            messages = sqs.receive_message(
                QueueUrl=queue_url, MaxNumberOfMessages=batch_size, AttributeNames=["All"], WaitTimeSeconds=0
            ).get("Messages", [])
            if not messages:
                time.sleep(0.2)
                continue
            failed = self._invoke(function, messages)
            idle_until = time.monotonic() + 2 * self.config.visibility_timeout_s + 1
            self.report.invocations[function] += 1
            report.received += len(messages)
            report.failed += len(failed)
            done = [m for m in messages if m["MessageId"] not in failed]
            for start in range(0, len(done), 10):
                entries = [{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start:][:10])]
                sqs.delete_message_batch(QueueUrl=queue_url, Entries=entries)
        return report

    def _invoke(self, function: str, messages: list[dict[str, Any]]) -> set[str]:
        event = {"Records": [_sqs_record(message) for message in messages]}
        try:
            with self.killer.invocation():
                answer = load_handler(function)(event, _context(function))
        except WorkerKilled:
            self.report.kills[function] += 1
            runtime.reset()  # a new container takes the redelivery
            self._let_locks_expire()
            return {message["MessageId"] for message in messages}
        return {failure["itemIdentifier"] for failure in answer.get("batchItemFailures", [])}

    def _let_locks_expire(self) -> None:
        dynamodb = self.stack.aws.client("dynamodb")
        for flow in Flow:
            dynamodb.delete_item(TableName=self.stack.aws.table_name, Key=key(self.integration_id, f"LOCK#{flow}"))

    # ---- what must hold -----------------------------------------------------------------------------

    def _order_problems(self) -> list[str]:
        """Paid orders not exactly once in myOGO, or not recorded as sent (the tracking flow waits for the record)."""
        bindings = self._bindings()
        unrecorded = [
            o for o in self._store_order_ids() if o not in bindings or bindings[o].status is not BindingStatus.SENT
        ]
        return self._not_once_in_myogo() + unrecorded

    @property
    def merchant_id(self) -> str:
        return self.setup.merchant_id

    def _store_order_ids(self) -> list[str]:
        return list(self.setup.centra.orders)

    def _store_shipped(self, order_id: str) -> bool:
        return bool(self.setup.centra.shipments(order_id))

    def _store_faults(self) -> dict[str, Counter[str]]:
        return {"Centra": self.setup.centra.faults.injected}

    def _bindings(self) -> dict[str, OrderBinding]:
        return self.stack.state().get_order_bindings(self.integration_id, list(self._store_order_ids()))

    def _copies_in_myogo(self) -> Counter[str]:
        """myOGO orders per paid store order, under every reference prefix the integration has used."""
        references = Counter(order["reference"] for order in self.stack.myogo.orders(self.merchant_id).values())
        integration = self.stack.state().get_integration(self.integration_id)
        assert integration is not None
        return Counter(
            {
                order_id: sum(references[prefix + order_id] for prefix in integration.reference_prefixes())
                for order_id in self._store_order_ids()
            }
        )

    def _not_once_in_myogo(self) -> list[str]:
        copies = self._copies_in_myogo()
        return [order_id for order_id in self._store_order_ids() if copies[order_id] != 1]

    def _tracking_problems(self) -> list[str]:
        """Paid orders without exactly one shipped Centra shipment carrying myOGO's tracking number (orders
        cancelled in Centra are not shipped: checked by the verdict)."""
        problems = []
        orders, bindings = self.stack.myogo.orders(self.merchant_id), self._bindings()
        for order_id in self.setup.centra.orders.keys() - self.cohorts.cancelled - self.cohorts.late_cancelled:
            order = orders.get(bindings[order_id].reference) if order_id in bindings else None
            shipments = [(s["shippedDate"] != "", s["trackingNumber"]) for s in self.setup.centra.shipments(order_id)]
            if order is None or order["status"] != "shipped" or shipments != [(True, order["trackingNumber"])]:
                problems.append(order_id)
        return problems

    def _stock_problems(self) -> list[str]:
        """Bound SKUs Centra does not sell at max(0, myOGO available - units paid in Centra and not in myOGO)."""
        in_myogo = self._copies_in_myogo()
        transit: Counter[str] = Counter()
        for order_id, order in self.setup.centra.orders.items():
            holds_stock = order["orderStatus"] in ("Pending", "Confirmed", "Processing")
            if holds_stock and not in_myogo[order_id]:
                for line in order["products"]:
                    transit[line["sku"] + line["variantSku"] + line["sizeSku"]] += line["qty"]
        problems = []
        for code in self.stack.myogo.products(self.setup.merchant_id):
            expected = max(0, self.stack.myogo.stock(self.setup.merchant_id, code)["stockAvailable"] - transit[code])
            if self.setup.centra.stock(code)["availableStock"] != expected:
                problems.append(code)
        return problems

    def _verdict(self) -> None:
        report, myogo = self.report, self.stack.myogo
        orders = list(myogo.orders(self.merchant_id).values())
        references = Counter(order["reference"] for order in orders)
        report.myogo_orders = len(references)
        # extra myOGO orders of one paid order, under one reference or under two prefixes
        report.duplicates = sum(max(0, copies - 1) for copies in self._copies_in_myogo().values())
        report.missing = self._not_once_in_myogo()
        report.shipped = sum(1 for order in orders if order["status"] == "shipped")
        report.tracking_problems = self._tracking_problems()
        report.stock_checked = len(myogo.products(self.merchant_id))
        report.stock_problems = self._stock_problems()
        statuses = self._myogo_statuses()
        report.cancelled_in_myogo = sum(1 for o in self.cohorts.cancelled if statuses.get(o) == "cancelled")
        report.cancelled_shipped = sorted(
            o for o in self.cohorts.cancelled if statuses.get(o) == "shipped" or self._store_shipped(o)
        )
        report.late_cancels_for_a_person = len(self._late_cancels_for_a_person())
        report.faults = {"myOGO": myogo.faults.injected, **self._store_faults()}
        report.kills = report.kills + Counter({f"at {point}": n for point, n in self.killer.kills.items()})
        report.dead_letters = {dlq: self._dead_letters(dlq) for dlq in DLQS}

    def _dead_letters(self, dlq: str) -> list[str]:
        sqs, url = self.stack.aws.client("sqs"), self.stack.aws.queue_urls[dlq]
        found: dict[str, str] = {}
        for _ in range(20):
            messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=60).get(
                "Messages", []
            )
            if not messages:
                break
            for message in messages:
                body = json.loads(message["Body"])
                found[message["MessageId"]] = body.get("order_id") or body.get("reference") or body.get("flow", "?")
        return sorted(found.values())


def _sqs_record(message: dict[str, Any]) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-north-1:000000000000:local",
        "awsRegion": "eu-north-1",
    }


def _context(function: str) -> LambdaContext:
    return LambdaContext(function_name=f"ogosync-{function}")


def run_chaos(config: ChaosConfig) -> ChaosReport:
    with LocalStack(
        quiet=True, visibility_timeout_s=config.visibility_timeout_s, claim_lease_seconds=config.claim_lease_seconds
    ) as stack:
        return ChaosRun(stack, config).run()


# ---- the tables -----------------------------------------------------------------------------------


# What each cohort is, in a Centra store; chaos_shopify.py gives Shopify's words (the same verdicts).
CENTRA_WORDS = {
    "store": "Centra",
    "garbled": "unreadable orders held (then mended in Centra, then sent)",
    "object_lines": "orders with lines as a JSON object, sent",
    "pending": "Pending orders shipped, tracking in Centra once confirmed",
    "hidden": "orders visible only after their webhooks, sent without one",
}


def render(report: ChaosReport, command: str, words: dict[str, str] = CENTRA_WORDS) -> str:
    config, cohorts, store = report.config, report.cohorts, words["store"]
    faults = [
        [name, str(counts["5xx"]), str(counts["429"]), str(counts["timeout"])] for name, counts in report.faults.items()
    ]
    must_hold = [
        [f"paid orders in {store}", str(report.paid_orders), ""],
        ["orders in myOGO", str(report.myogo_orders), f"= {report.paid_orders}"],
        ["duplicate myOGO orders", str(report.duplicates), "0"],
        ["paid orders not exactly once in myOGO", str(len(report.missing)), "0"],
        ["orders shipped in myOGO", str(report.shipped), f"= {report.paid_orders - len(cohorts.cancelled)}"],
        [f"orders without exactly one shipment with tracking in {store}", str(len(report.tracking_problems)), "0"],
        [f"SKUs whose {store} stock differs from the stock rule", str(len(report.stock_problems)), "0"],
        [f"(of {report.stock_checked} SKUs checked)", "", ""],
        [words["garbled"], str(report.held_unreadable), f"= {len(cohorts.garbled)}"],
        [words["object_lines"], str(len(cohorts.object_lines - set(report.missing))),
         f"= {len(cohorts.object_lines)}"],
        [words["pending"], str(len(cohorts.pending - set(report.tracking_problems))), f"= {len(cohorts.pending)}"],
        [f"cancelled in {store} after sending, cancelled in myOGO", str(report.cancelled_in_myogo),
         f"= {len(cohorts.cancelled)}"],
        ["cancelled orders shipped that could have been stopped", str(len(report.cancelled_shipped)), "0"],
        [words["hidden"], str(len(cohorts.hidden - set(report.missing))), f"= {len(cohorts.hidden)}"],
        ["cancelled after collecting began, shown to a person (alarm)", str(report.late_cancels_for_a_person),
         f"= {len(cohorts.late_cancelled)}"],
    ]  # fmt: skip
    dead = [[dlq, str(len(items)), ", ".join(items[:10]) + (" ..." if len(items) > 10 else "")] for dlq, items in
            report.dead_letters.items()]  # fmt: skip
    verdict = "CONVERGED" if report.converged else "NOT CONVERGED"
    prefix = (
        f", reference prefix changed mid-run to {config.new_reference_prefix!r}" if config.new_reference_prefix else ""
    )
    return "\n\n".join(
        [
            f"`{command}` ({config.orders} orders, seed {config.seed}{prefix}): **{verdict}** "
            f"in {report.seconds:.0f} s.",
            table(["must hold", "measured", "expected"], must_hold),
            "Faults injected (random, per API call of the simulator):",
            table(["simulator", "5xx", "429 + Retry-After", "timeouts"], faults),
            f"{store} webhook deliveries (`reorder=True`) and other store events:",
            table(["delivery", "count"], [[name, str(n)] for name, n in sorted(report.webhooks.items())]),
            "Workers killed (whole invocations lost, redelivered by SQS), by function and by point:",
            table(["where", "kills"], [[name, str(n)] for name, n in sorted(report.kills.items())]),
            "Invocations, and scheduled runs until each flow converged (after the webhooks' own work):",
            table(["function", "invocations"], [[name, str(n)] for name, n in sorted(report.invocations.items())]),
            table(["flow", "scheduled runs enqueued"], [[str(f), str(n)] for f, n in sorted(report.rounds.items())]),
            "Messages left in a DLQ (each is alarmed on and listed here; the poll brought its order through):",
            table(["DLQ", "messages", "what"], dead),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=ChaosConfig.orders)
    parser.add_argument("--seed", type=int, default=ChaosConfig.seed)
    parser.add_argument("--markdown", type=Path, help="write the tables into this file between the chaos markers")
    args = parser.parse_args(argv)
    report = run_chaos(ChaosConfig(orders=args.orders, seed=args.seed))
    text = render(report, f"make chaos  # python -m ogosync_local.chaos --orders {args.orders}")
    print(text)
    if args.markdown:
        replace_section(args.markdown, "chaos", text)
    return 0 if report.converged else 1


if __name__ == "__main__":
    sys.exit(main())
