"""The tracking engine over in-memory fakes: a SHIPPED order reaches the store once, whatever happens around it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from ogosync.errors import ConcurrencyConflictError, OgosyncError, TransientPlatformError
from ogosync.models import (
    Flow,
    Integration,
    IntegrationSettings,
    ShippedLine,
    StoreShipment,
    TrackingStatus,
    UnreadableWarehouseRecord,
    WarehouseOrderChange,
    WarehouseOrderState,
)
from ogosync.sync.orders import FUTURE_SKEW
from ogosync.sync.tracking import (
    STORE_WAIT_ALARM_HOURS,
    WAITING_RETRY_LIMIT,
    TrackingDeps,
    TrackingOutcome,
    TrackingRunResult,
    handle_tracking_hint,
    poll_tracking,
)
from tests.factories import T0, make_integration, make_order
from tests.fakes import InMemoryState
from tests.fakes_aftercare import InMemoryAftercare
from tests.fakes_tracking import FakeShipmentStore, FakeTrackingWarehouse, InMemoryTracking

TEE, CAP = "TS100BLKM", "CP300REDOS"


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    integration: Integration
    deps: TrackingDeps
    clock: Clock
    state: InMemoryState
    tracking: InMemoryTracking
    store: FakeShipmentStore
    warehouse: FakeTrackingWarehouse

    def poll(self) -> TrackingRunResult:
        result = poll_tracking(self.integration, self.deps, owner="test")
        assert result is not None
        return result

    def sent(self, order_id: str, *skus: str) -> None:
        """A store order the order flow sent to myOGO."""
        self.store.put(make_order(order_id, skus=skus or (TEE,)))
        reference = self.integration.myogo_reference(order_id)
        self.state.claim_order(self.integration.id, order_id, reference, "t", T0, 60)
        state = WarehouseOrderState(id=f"id-{order_id}", reference=reference, status="new")
        self.state.mark_order_sent(self.integration.id, order_id, "t", state, T0, was_held=False)

    def myogo(self, order_id: str, status: str, *codes: str, tracking: tuple[str, ...] = ("JJFI1",)) -> None:
        """myOGO's state of the order, edited a minute ago."""
        self.warehouse.put(
            WarehouseOrderChange(
                reference=self.integration.myogo_reference(order_id),
                status=status,
                tracking_numbers=list(tracking) if status == "shipped" else [],
                tracking_url="https://posti.example/JJFI1" if status == "shipped" else None,
                shipping_code="POSTI",
                lines=[ShippedLine(code=code, quantity=1) for code in (codes or (TEE,))],
                edited_at=self.clock.now - timedelta(minutes=1),
            )
        )

    def view(self, order_id: str):  # type: ignore[no-untyped-def]
        return self.tracking.get_tracking(self.integration.id, [order_id])[order_id]


@pytest.fixture
def world() -> World:
    state = InMemoryState()
    integration = make_integration(settings=IntegrationSettings(reference_prefix="ACME-"))
    state.put_integration(integration)
    tracking, store, warehouse, clock = InMemoryTracking(state), FakeShipmentStore(), FakeTrackingWarehouse(), Clock()
    deps = TrackingDeps(state=state, tracking=tracking, store=store, warehouse=warehouse, clock=clock)
    return World(integration, deps, clock, state, tracking, store, warehouse)


def test_a_shipped_order_gets_one_shipment_with_its_lines_carrier_and_every_tracking_code(world: World) -> None:
    world.sent("1001", TEE, CAP)
    world.myogo("1001", "shipped", TEE, CAP, tracking=("JJFI1", "JJFI2"))

    first = world.poll()
    again = world.poll()

    assert first.counts["pushed"] == 1 and again.counts["already_pushed"] == 1
    ((order_id, lines, pushed),) = world.store.created
    assert (order_id, lines) == ("1001", {"1": 1, "2": 1})
    assert (pushed.carrier, pushed.tracking_numbers) == ("POSTI", ["JJFI1", "JJFI2"])
    view = world.view("1001")
    assert (view.tracking_status, view.store_shipment_id, view.myogo_status) == (
        TrackingStatus.PUSHED,
        "1001-1",
        "shipped",
    )
    assert view.tracking_url == "https://posti.example/JJFI1"


def test_a_retry_after_the_store_accepted_the_shipment_creates_no_second_one(world: World) -> None:
    world.sent("1001")
    world.myogo("1001", "shipped")
    world.store.fail_after_accept = [TransientPlatformError("centra", "read timed out")]

    first = world.poll()  # the store created it, but we never saw its answer
    assert first.counts["failed"] == 1 and world.view("1001").tracking_status is TrackingStatus.FAILED
    second = world.poll()

    assert second.counts["recovered"] == 1
    assert len(world.store.shipments["1001"]) == 1 and len(world.store.created) == 1
    assert world.view("1001").tracking_status is TrackingStatus.PUSHED


def test_a_worker_dying_after_the_store_accepted_leaves_a_claim_that_the_retry_resolves_by_looking(
    world: World,
) -> None:
    world.sent("1001")
    world.myogo("1001", "shipped")
    world.tracking.fail_next_mark_pushed = True
    reference = world.integration.myogo_reference("1001")

    with pytest.raises(OgosyncError, match="simulated crash"):
        handle_tracking_hint(world.integration, reference, world.deps)
    early = handle_tracking_hint(world.integration, reference, world.deps)  # redelivered while the claim is live
    world.clock.now += timedelta(seconds=world.deps.claim_lease_seconds + 1)
    late = handle_tracking_hint(world.integration, reference, world.deps)

    assert (early, late) == (TrackingOutcome.BUSY, TrackingOutcome.RECOVERED)
    assert len(world.store.created) == 1 and world.view("1001").tracking_status is TrackingStatus.PUSHED


def test_a_webhook_and_a_poll_for_the_same_shipped_order_at_once_push_it_once(world: World) -> None:
    world.sent("1001")
    world.myogo("1001", "shipped")
    inside, release = threading.Event(), threading.Event()
    original = world.store.create_shipment

    def slow_create(*args, **kwargs):  # type: ignore[no-untyped-def]
        inside.set()
        release.wait(5)
        return original(*args, **kwargs)

    world.store.create_shipment = slow_create  # type: ignore[method-assign]
    outcomes: list[object] = []
    webhook = threading.Thread(
        target=lambda: outcomes.append(
            handle_tracking_hint(world.integration, world.integration.myogo_reference("1001"), world.deps)
        )
    )
    webhook.start()
    inside.wait(5)
    poll = world.poll()  # the scheduled poll reads the same order while the webhook's push is in the store
    release.set()
    webhook.join(5)

    assert outcomes == [TrackingOutcome.PUSHED] and poll.counts["busy"] == 1
    assert len(world.store.created) == 1
    cursor = world.state.get_cursor(world.integration.id, Flow.TRACKING)
    assert cursor.watermark is not None and cursor.watermark < world.warehouse.orders["ACME-1001"].edited_at  # type: ignore[operator]
    assert world.poll().counts["already_pushed"] == 1  # the next poll sees it done


def test_a_failed_capture_ships_nothing_is_reported_and_not_retried(world: World) -> None:
    world.sent("1001")
    world.myogo("1001", "shipped")
    world.store.capture_fails = {"1001"}

    first = world.poll()
    second = world.poll()

    assert (first.counts["capture_failed"], first.refused) == (1, ["1001"])
    assert (second.counts["refused_before"], second.refused) == (1, [])  # reported once, left to a person
    assert world.store.lookups == 1  # no second try
    view = world.view("1001")
    assert view.tracking_status is TrackingStatus.CAPTURE_FAILED and "capture" in (view.tracking_error or "")
    assert world.store.created == []


def test_an_open_shipment_in_the_store_is_completed_instead_of_creating_another(world: World) -> None:
    world.sent("1001")
    world.store.shipments["1001"] = [StoreShipment(shipment_id="1001-1", shipped=False)]  # Direct to Shipment
    world.myogo("1001", "shipped")

    result = world.poll()

    assert result.counts["completed"] == 1 and world.store.created == []
    assert [(order, shipment) for order, shipment, _ in world.store.completed] == [("1001", "1001-1")]


def test_a_cancelled_order_is_recorded_and_reported_once(world: World) -> None:
    world.sent("1001")
    world.myogo("1001", "cancelled")

    first = world.poll()
    second = world.poll()

    assert (first.counts["cancelled"], first.cancelled) == (1, ["1001"])
    assert (second.counts["unchanged"], second.cancelled) == (1, [])
    assert world.state.get_order_binding(world.integration.id, "1001").myogo_status == "cancelled"  # type: ignore[union-attr]


def test_other_states_are_recorded_on_the_order_binding(world: World) -> None:
    world.sent("1001")
    world.myogo("1001", "collecting")

    result = world.poll()

    assert result.counts["status_recorded"] == 1 and world.store.lookups == 0
    assert world.state.get_order_binding(world.integration.id, "1001").myogo_status == "collecting"  # type: ignore[union-attr]


def test_orders_of_other_channels_are_ignored_and_do_not_hold_the_watermark(world: World) -> None:
    world.warehouse.put(
        WarehouseOrderChange(reference="POS-77", status="shipped", edited_at=world.clock.now - timedelta(minutes=2))
    )
    world.myogo("999", "shipped")  # the right prefix, but ogosync never sent it

    result = world.poll()

    assert result.counts["not_ours"] == 2 and world.store.lookups == 0
    newest = world.clock.now - timedelta(minutes=1)
    assert world.state.get_cursor(world.integration.id, Flow.TRACKING).watermark == newest


def test_an_unreadable_myogo_order_is_reported_and_the_others_are_pushed(world: World) -> None:
    world.sent("1001")
    world.myogo("1001", "shipped")
    world.warehouse.unreadable.append(UnreadableWarehouseRecord(key="ACME-1002", problem="orderLines is not a list"))

    result = world.poll()

    assert (result.counts["pushed"], result.counts["unreadable"]) == (1, 1)
    assert result.errors == ["unreadable myOGO order ACME-1002: orderLines is not a list"]
    cursor = world.state.get_cursor(world.integration.id, Flow.TRACKING)
    assert cursor.watermark == world.clock.now - timedelta(minutes=1)  # not held back by it: no endless re-read
    assert "ACME-1002" in (cursor.last_error or "")


def test_a_store_outage_leaves_the_order_for_the_next_poll(world: World) -> None:
    world.sent("1001")
    world.myogo("1001", "shipped")
    original = world.store.order_shipments
    world.store.order_shipments = lambda order_id: (_ for _ in ()).throw(  # type: ignore[method-assign]
        TransientPlatformError("centra", "503", 503)
    )

    failed = world.poll()
    world.store.order_shipments = original  # type: ignore[method-assign]
    retried = world.poll()

    assert failed.counts["failed"] == 1 and "503" in (failed.errors[0])
    assert retried.counts["pushed"] == 1 and len(world.store.created) == 1


def test_lines_myogo_shipped_that_the_store_order_lacks_are_refused_not_guessed(world: World) -> None:
    world.sent("1001", TEE)
    world.myogo("1001", "shipped", CAP)

    result = world.poll()

    assert result.counts["rejected"] == 1 and world.store.created == []
    assert CAP in (world.view("1001").tracking_error or "")


def test_a_pushed_order_cannot_be_claimed_again(world: World) -> None:
    world.sent("1001")
    world.myogo("1001", "shipped")
    world.poll()

    with pytest.raises(ConcurrencyConflictError):
        world.tracking.claim_push(world.integration.id, "1001", "late", world.clock.now + timedelta(days=1), 60)


# ---- issue 10 item 10: a shipment the store cannot take yet (Centra: a Pending order) ---------------------------


@pytest.fixture
def waiting_world(world: World) -> World:
    world.deps.aftercare = InMemoryAftercare(world.state)
    return world


def test_a_shipment_of_an_unconfirmed_order_is_kept_and_pushed_once_the_store_confirms_it(
    waiting_world: World,
) -> None:
    world = waiting_world
    world.sent("1001")
    world.myogo("1001", "shipped")
    world.store.not_confirmed.add("1001")

    first = world.poll()
    world.clock.now += timedelta(minutes=30)
    world.sent("1002")
    world.myogo("1002", "new")  # a later change moves the watermark: 1001 falls out of the poll's window
    world.poll()
    second = world.poll()
    world.store.not_confirmed.discard("1001")  # confirmed in the store
    world.clock.now += timedelta(minutes=10)
    third = world.poll()
    fourth = world.poll()

    assert first.counts["waiting_for_store"] == 1 and first.counts["waiting_listed"] == 1
    seen_again = (second.counts["seen"], second.counts["retried_waiting_for_store"], second.counts["waiting_listed"])
    assert seen_again == (1, 1, 1)  # only 1002 by modifiedAfter; 1001 through the waiting list
    assert third.counts["retried_pushed"] == 1 and third.counts["waiting_listed"] == 0
    assert fourth.counts["waiting_listed"] == 0 and len(world.store.created) == 1
    assert world.view("1001").tracking_status is TrackingStatus.PUSHED
    assert world.deps.aftercare is not None and world.deps.aftercare.waiting_shipments(world.integration.id) == []


def test_a_shipment_waiting_longer_than_the_bound_is_reported_as_overdue(waiting_world: World) -> None:
    world = waiting_world
    world.sent("1001")
    world.myogo("1001", "shipped")
    world.store.not_confirmed.add("1001")
    world.poll()

    world.clock.now += timedelta(hours=STORE_WAIT_ALARM_HOURS - 1)
    before = world.poll()
    world.clock.now += timedelta(hours=2)
    after = world.poll()

    assert (before.counts["waiting_overdue"], before.overdue) == (0, [])
    assert (after.counts["waiting_overdue"], after.overdue) == (1, ["1001"])
    assert world.store.created == []


def test_waiting_shipments_are_retried_at_most_a_bounded_number_per_poll(waiting_world: World) -> None:
    world = waiting_world
    for number in range(WAITING_RETRY_LIMIT + 5):
        order_id = str(2000 + number)
        world.sent(order_id)
        world.myogo(order_id, "shipped")
        world.store.not_confirmed.add(order_id)
    world.poll()
    world.clock.now += timedelta(minutes=30)
    world.sent("1002")
    world.myogo("1002", "new")
    world.poll()  # moves the watermark past the waiting ones (and retries the oldest 50 of them)
    calls_before = world.warehouse.calls["one"]

    result = world.poll()

    assert world.warehouse.calls["one"] - calls_before == WAITING_RETRY_LIMIT
    assert result.counts["waiting_listed"] == WAITING_RETRY_LIMIT + 5


def test_a_myogo_edit_time_in_the_future_does_not_carry_the_tracking_watermark_away(world: World) -> None:
    ahead = world.clock.now + timedelta(days=3)  # myOGO's editTime three days ahead
    world.warehouse.put(WarehouseOrderChange(reference="POS-78", status="shipped", edited_at=ahead))

    result = world.poll()

    cursor = world.state.get_cursor(world.integration.id, Flow.TRACKING)
    assert cursor.watermark is not None and cursor.watermark <= world.clock.now + FUTURE_SKEW
    assert (result.counts["future_dated"], cursor.future_dated) == (1, ["POS-78"])
