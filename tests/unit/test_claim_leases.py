"""No external write after a claim may have run out (issue 10 item 5, design invariant 8).

A slow myOGO (429 with Retry-After until the order claim's lease has passed) and a webhook worker racing the poll
give one POST; a worker whose claim was taken over stops without writing, for orders and for shipment pushes; the
myOGO calls of one import keep to a deadline before the lease ends. All on a fake clock: no test waits.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from ogosync.errors import ConfigurationError, TransientPlatformError
from ogosync.http import HttpClient, RetryPolicy
from ogosync.models import BindingStatus, ShippedLine, StoreShipment, WarehouseOrderChange, WarehouseOrderState
from ogosync.sync.orders import ImportOutcome, ImportResult, OrderDeps, import_order_by_id, poll_orders
from ogosync.sync.tracking import TrackingDeps, TrackingOutcome, apply_change
from ogosync.warehouse.myogo import PLATFORM, MyOgoAccount, MyOgoWarehouse
from tests.factories import T0, make_integration, make_order
from tests.fakes import FakeStore, FakeWarehouse, InMemoryState
from tests.fakes_tracking import FakeShipmentStore, FakeTrackingWarehouse, InMemoryTracking

SKU = "TSHIRT-BLK-M"
LEASE = 120
MARGIN = 30.0
BASE = "http://myogo.test"


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(minutes=5)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class SlowMyOgo:
    """myOGO behind httpx.MockTransport on the fake clock: every call takes `call_s`; POSTs of orders answer 429
    (Retry-After 30 s) for `busy_s` from the first one (so until the claim made before it has run out), after
    that they are processed: stored, or refused as a repeated reference, as myOGO does. The first call that ends
    after the busy time runs `meanwhile` before it is answered: another worker, racing the one in flight."""

    def __init__(self, clock: Clock, busy_s: float, call_s: float = 5.0) -> None:
        self.clock = clock
        self.busy_s = busy_s
        self.busy_until: datetime | None = None
        self.call_s = call_s
        self.meanwhile: list[Callable[[], None]] = []
        self.orders: dict[str, dict[str, Any]] = {}
        self.posts: Counter[str] = Counter()  # "refused" (429) and "processed"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.clock.advance(self.call_s)
        posting = request.method == "POST" and request.url.path == "/api/v1/Orders"
        if posting and self.busy_until is None:
            self.busy_until = self.clock() + timedelta(seconds=self.busy_s)
        if self.busy_until is not None and self.clock() >= self.busy_until and self.meanwhile:
            self.meanwhile.pop()()
        path = request.url.path
        if path == "/OAuth/Token":
            return httpx.Response(200, json={"access_token": "tok", "expires_in": 5400})
        if path == "/api/v1/Products":
            return httpx.Response(200, json=[{"code": request.url.params["code"]}])
        if path == "/api/v1/Orders" and request.method == "GET":
            found = self.orders.get(request.url.params["reference"])
            return httpx.Response(200, json=[found] if found else [])
        if self.busy_until is not None and self.clock() < self.busy_until:
            self.posts["refused"] += 1
            return httpx.Response(429, headers={"Retry-After": "30"}, json={"message": "Too many requests"})
        self.posts["processed"] += 1
        order = json.loads(request.content)
        if order["reference"] in self.orders:
            return httpx.Response(400, json={"message": "order with same reference already exists"})
        self.orders[order["reference"]] = {**order, "id": f"id-{order['reference']}", "status": "new"}
        return httpx.Response(200, json=self.orders[order["reference"]])


def _myogo_client(sim: SlowMyOgo, clock: Clock, sleep: Callable[[float], None], merchant: str) -> MyOgoWarehouse:
    """The real myOGO adapter and HTTP client, on the fake clock and transport."""
    transport = httpx.MockTransport(sim)

    def http(url: str) -> HttpClient:
        return HttpClient(PLATFORM, url, transport=transport, sleep=sleep, clock=clock, retry=RetryPolicy())

    account = MyOgoAccount(BASE, f"{BASE}/OAuth/Token", merchant, "secret", "client", "client-secret")
    return MyOgoWarehouse(account, clock=clock, http=http(BASE), token_http=http(f"{BASE}/OAuth/Token"))


def test_a_slow_myogo_answering_429_until_the_lease_ends_and_a_racing_webhook_worker_give_one_post() -> None:
    clock = Clock()
    state, store = InMemoryState(), FakeStore([make_order("1001", placed_at=T0)])
    integration = make_integration(f"lease-{id(clock)}")  # its own myOGO token cache entry
    state.put_integration(integration)
    state.put_shipping_mapping(integration.id, "standard", "POSTI")
    myogo = SlowMyOgo(clock, busy_s=LEASE)
    outcomes: list[ImportOutcome] = []

    def webhook_worker() -> None:
        """The webhook's import job: while the poll's call is in flight once the lease has passed, and again
        (redelivered) after the poll."""
        worker = OrderDeps(state, store, _myogo_client(myogo, clock, clock.advance, integration.id), clock=clock)
        outcomes.append(import_order_by_id(integration, "1001", worker).outcome)

    myogo.meanwhile.append(webhook_worker)
    poll = OrderDeps(
        state, store, _myogo_client(myogo, clock, clock.advance, integration.id), clock=clock, sleep=clock.advance
    )
    poll_orders(integration, poll, owner="poll")
    webhook_worker()

    assert myogo.posts["processed"] == 1
    assert list(myogo.orders) == ["1001"]
    assert ImportOutcome.CREATED in outcomes
    binding = state.get_order_binding(integration.id, "1001")
    assert binding is not None and binding.status is BindingStatus.SENT


def test_a_worker_whose_claim_was_taken_over_stops_without_posting() -> None:
    clock = Clock()
    state, store, warehouse = InMemoryState(), FakeStore([make_order("1001")]), FakeWarehouse([SKU])
    integration = make_integration()
    state.put_shipping_mapping(integration.id, "standard", "POSTI")
    other = OrderDeps(state, store, warehouse, clock=clock)
    taken_over: list[ImportResult] = []

    def paused(seconds: float) -> None:  # the first worker stalls past its lease; another one sends the order
        clock.advance(seconds + LEASE)
        taken_over.append(import_order_by_id(integration, "1001", other))

    warehouse.fail_creates = [TransientPlatformError("myogo", "gateway timeout", 504)]
    first = OrderDeps(state, store, warehouse, clock=clock, sleep=paused)

    result = import_order_by_id(integration, "1001", first)

    assert [r.outcome for r in taken_over] == [ImportOutcome.CREATED]
    assert result.outcome is ImportOutcome.ALREADY_SENT
    assert warehouse.creates == 2  # the first worker's failed POST and the other's; none after the takeover
    assert warehouse.accepted == ["1001"]


def test_every_myogo_call_of_an_import_keeps_to_the_leases_end_minus_the_margin() -> None:
    clock = Clock()
    state, store, warehouse = InMemoryState(), FakeStore([make_order("1001")]), FakeWarehouse([SKU])
    integration = make_integration()
    state.put_shipping_mapping(integration.id, "standard", "POSTI")
    warehouse.fail_creates = [TransientPlatformError("myogo", "bad gateway", 502)]
    claimed_at = clock()
    deps = OrderDeps(state, store, warehouse, clock=clock, sleep=clock.advance)

    assert import_order_by_id(integration, "1001", deps).outcome is ImportOutcome.CREATED

    assert warehouse.deadlines == [claimed_at + timedelta(seconds=LEASE - MARGIN)] * 3  # POST, look-up, POST
    binding = state.get_order_binding(integration.id, "1001")
    assert binding is not None and binding.status is BindingStatus.SENT


@pytest.mark.parametrize("margin", [-1.0, float(LEASE), LEASE + 1.0])
def test_a_margin_outside_the_lease_is_refused(margin: float) -> None:
    with pytest.raises(ConfigurationError):
        OrderDeps(InMemoryState(), FakeStore(), FakeWarehouse(), claim_lease_seconds=LEASE, claim_margin_seconds=margin)


def test_a_push_whose_claim_was_taken_over_writes_nothing_to_the_store() -> None:
    clock = Clock()
    state, store, warehouse = InMemoryState(), FakeShipmentStore(), FakeTrackingWarehouse()
    tracking = InMemoryTracking(state)
    integration = make_integration()
    store.put(make_order("1001"))
    state.claim_order(integration.id, "1001", "1001", "t", T0, 60)
    state.mark_order_sent(
        integration.id, "1001", "t", WarehouseOrderState(reference="1001", status="new"), T0, was_held=False
    )
    shipped = WarehouseOrderChange(
        reference="1001", status="shipped", tracking_numbers=["JJFI1"], lines=[ShippedLine(code=SKU, quantity=1)]
    )
    deps = TrackingDeps(state, tracking, store, warehouse, clock=clock, claim_lease_seconds=LEASE)
    read_shipments = store.order_shipments
    pushed_by_other: list[TrackingOutcome] = []
    stalls = iter([True])

    def stalled_read(order_id: str) -> list[StoreShipment]:  # the first pusher stalls past its lease meanwhile
        shipments = read_shipments(order_id)
        if next(stalls, False):
            clock.advance(LEASE + 1)
            view = tracking.get_tracking(integration.id, ["1001"])["1001"]
            pushed_by_other.append(apply_change(integration, shipped, view, deps))
        return shipments

    store.order_shipments = stalled_read  # type: ignore[method-assign]

    outcome = apply_change(integration, shipped, tracking.get_tracking(integration.id, ["1001"])["1001"], deps)

    assert pushed_by_other == [TrackingOutcome.PUSHED]
    assert outcome is TrackingOutcome.ALREADY_PUSHED
    assert len(store.created) == 1


def test_the_store_write_of_a_push_keeps_to_the_leases_end_minus_the_margin() -> None:
    clock = Clock()
    state, store, warehouse = InMemoryState(), FakeShipmentStore(), FakeTrackingWarehouse()
    tracking = InMemoryTracking(state)
    integration = make_integration()
    store.put(make_order("1001"))
    state.claim_order(integration.id, "1001", "1001", "t", T0, 60)
    sent = WarehouseOrderState(reference="1001", status="new")
    state.mark_order_sent(integration.id, "1001", "t", sent, T0, was_held=False)
    shipped = WarehouseOrderChange(
        reference="1001", status="shipped", tracking_numbers=["JJFI1"], lines=[ShippedLine(code=SKU, quantity=1)]
    )
    deps = TrackingDeps(state, tracking, store, warehouse, clock=clock, claim_lease_seconds=LEASE)
    claimed_at = clock()

    outcome = apply_change(integration, shipped, tracking.get_tracking(integration.id, ["1001"])["1001"], deps)

    assert outcome is TrackingOutcome.PUSHED
    assert store.deadlines == [claimed_at + timedelta(seconds=LEASE - MARGIN)]
