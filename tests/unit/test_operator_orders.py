"""What a person may do to one order (do not send, retry) and the order's timeline, over in-memory fakes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from ogosync.models import (
    DO_NOT_SEND_REASON,
    BindingStatus,
    Flow,
    Hold,
    HoldReason,
    OrderImportJob,
    ShipmentToPush,
    StoreShipment,
    TrackingHintJob,
    TrackingStatus,
    WarehouseOrderState,
)
from ogosync.operator import orders, status
from ogosync.operator.deps import OperatorDeps
from ogosync.operator.errors import OperatorError
from ogosync.sync.orders import ImportOutcome, OrderDeps, import_order_by_id
from tests.factories import T0, make_integration, make_order
from tests.fakes import FakeQueue, FakeSecrets, FakeStore, FakeWarehouse, InMemoryState
from tests.fakes_operator import FakeSecretWriter, FakeWorkQueues, InMemoryIntegrationConfig, InMemoryOrderNotes
from tests.fakes_tracking import InMemoryTracking

HOLD = Hold(reason=HoldReason.UNMAPPED_SHIPPING_METHOD, detail="no myOGO shipping code for 'express'")


@pytest.fixture
def state() -> InMemoryState:
    state = InMemoryState()
    state.put_integration(make_integration())
    return state


def _deps(state: InMemoryState, queue: FakeQueue, tracking: InMemoryTracking | None = None) -> OperatorDeps:
    return OperatorDeps(
        state=state,
        config=InMemoryIntegrationConfig(state),
        secrets=FakeSecrets(),
        secret_writer=FakeSecretWriter(),
        access_checks=lambda *_: {},
        store=lambda _: FakeStore(),
        warehouse=lambda _: FakeWarehouse(),
        order_queue=queue,
        flow_queues={Flow.ORDERS: FakeQueue()},
        work_queues=FakeWorkQueues({}),
        webhook_base_url="https://hooks.example/",
        clock=lambda: T0 + timedelta(hours=1),
        tracking=tracking,
    )


def _integration_id(state: InMemoryState) -> str:
    return state.list_integrations()[0].id


def test_do_not_send_closes_a_held_order_and_the_import_leaves_it_alone(state: InMemoryState) -> None:
    integration = state.list_integrations()[0]
    state.mark_order_held(integration.id, "1001", "1001", [HOLD], T0, T0)
    warehouse = FakeWarehouse(["TSHIRT-BLK-M"])
    store = FakeStore([make_order("1001")])  # the cause is gone: a new import would send it
    state.put_shipping_mapping(integration.id, "standard", "POSTI")

    outcome = orders.do_not_send(integration.id, "1001", _deps(state, FakeQueue()))
    again = import_order_by_id(integration, "1001", OrderDeps(state=state, store=store, warehouse=warehouse))

    binding = state.get_order_binding(integration.id, "1001")
    assert outcome.status is BindingStatus.SKIPPED
    assert binding is not None and binding.skip_reason == DO_NOT_SEND_REASON
    assert again.outcome is ImportOutcome.SKIPPED and warehouse.creates == 0
    assert state.held_order_ids(integration.id, T0 - timedelta(days=1)) == []


def test_do_not_send_refuses_an_order_that_is_not_held(state: InMemoryState) -> None:
    integration_id = _integration_id(state)
    state.claim_order(integration_id, "1002", "1002", "worker-1", T0, 60)  # being sent right now

    with pytest.raises(OperatorError) as busy:
        orders.do_not_send(integration_id, "1002", _deps(state, FakeQueue()))
    with pytest.raises(OperatorError) as unknown:
        orders.do_not_send(integration_id, "9999", _deps(state, FakeQueue()))

    assert (busy.value.status, busy.value.code) == (409, "order_not_held")
    assert (unknown.value.status, unknown.value.code) == (404, "unknown_order")


def test_a_failed_order_is_retried_as_a_recheck_and_other_orders_are_refused(state: InMemoryState) -> None:
    integration_id = _integration_id(state)
    state.claim_order(integration_id, "1003", "1003", "worker-1", T0, 60)
    state.mark_order_failed(integration_id, "1003", "worker-1", "myOGO timed out", T0)
    state.mark_order_held(integration_id, "1004", "1004", [HOLD], T0, T0)
    queue = FakeQueue()

    outcome = orders.retry_order(integration_id, "1003", _deps(state, queue))
    with pytest.raises(OperatorError) as held:
        orders.retry_order(integration_id, "1004", _deps(state, queue))

    assert outcome.queued
    assert queue.jobs == [OrderImportJob(integration_id=integration_id, order_id="1003", source="recheck")]
    assert held.value.code == "order_not_failed"


def test_the_timeline_shows_the_hold_and_why_then_sent_myogo_status_shipped_and_tracking(state: InMemoryState) -> None:
    integration_id = _integration_id(state)
    tracking = InMemoryTracking(state)
    state.mark_order_held(integration_id, "1005", "1005", [HOLD], T0, T0 - timedelta(minutes=5))
    held = status.order_history(integration_id, "1005", False, _deps(state, FakeQueue(), tracking))
    state.claim_order(integration_id, "1005", "1005", "w", T0 + timedelta(minutes=10), 60)
    sent = WarehouseOrderState(id="9", reference="1005", status="new")
    state.mark_order_sent(integration_id, "1005", "w", sent, T0 + timedelta(minutes=11), was_held=True)
    tracking.record_myogo_status(integration_id, "1005", "shipped", T0 + timedelta(hours=2))
    tracking.claim_push(integration_id, "1005", "t", T0 + timedelta(hours=2), 60)
    shipment = StoreShipment(shipment_id="s1", shipped=True, tracking="JJFI123")
    pushed = ShipmentToPush(tracking_numbers=["JJFI123"])
    tracking.mark_pushed(integration_id, "1005", "t", shipment, pushed, T0 + timedelta(hours=2, minutes=1))

    history = status.order_history(integration_id, "1005", False, _deps(state, FakeQueue(), tracking))

    assert [event.event for event in held.timeline] == [
        "placed",
        "received",
        "held: no myOGO shipping code for 'express'",
    ]
    assert [(event.where, event.event) for event in history.timeline][-3:] == [
        ("myogo", "sent; created in myOGO as 1005"),
        ("myogo", "status shipped"),
        ("store", "shipped; tracking pushed (JJFI123)"),
    ]
    assert TrackingStatus.PUSHED is tracking.get_tracking(integration_id, ["1005"])["1005"].tracking_status


def test_the_timeline_keeps_each_hold_and_release_after_the_order_was_sent(state: InMemoryState) -> None:
    integration = state.list_integrations()[0]
    notes = InMemoryOrderNotes()
    store = FakeStore([make_order("1006", placed_at=T0 - timedelta(minutes=10), shipping_method="express")])
    warehouse = FakeWarehouse(["TSHIRT-BLK-M"])
    state.put_shipping_mapping(integration.id, "standard", "POSTI")
    engine = OrderDeps(state=state, store=store, warehouse=warehouse, notes=notes, clock=lambda: T0)
    operator = _deps(state, FakeQueue())
    operator.notes = notes

    import_order_by_id(integration, "1006", engine)
    import_order_by_id(integration, "1006", engine)  # a recheck with the same reason: no second note
    state.put_shipping_mapping(integration.id, "express", "POSTI")
    status.release_order(integration.id, "1006", operator)
    import_order_by_id(integration, "1006", replace(engine, clock=lambda: T0 + timedelta(hours=2)))

    events = [event.event for event in status.order_history(integration.id, "1006", False, operator).timeline]
    assert events == [
        "placed",
        "received",
        "held: no myOGO shipping code for 'express'",
        "released by a person",
        "sent; created in myOGO as 1006",
    ]


def test_a_refused_shipment_is_pushed_again_once_on_a_persons_request(state: InMemoryState) -> None:
    integration_id = _integration_id(state)
    tracking = InMemoryTracking(state)
    state.claim_order(integration_id, "1007", "1007", "w", T0, 60)
    state.mark_order_sent(
        integration_id, "1007", "w", WarehouseOrderState(id="9", reference="1007", status="new"), T0, was_held=False
    )
    tracking.claim_push(integration_id, "1007", "t", T0, 60)
    tracking.mark_push_failed(integration_id, "1007", "t", TrackingStatus.REJECTED, "the store refused it", T0)
    tracking_queue = FakeQueue()
    deps = _deps(state, FakeQueue(), tracking)
    deps.flow_queues = {Flow.TRACKING: tracking_queue}
    before = status.order_history(integration_id, "1007", False, deps)

    outcome = orders.retry_shipment(integration_id, "1007", deps)
    with pytest.raises(OperatorError) as again:
        orders.retry_shipment(integration_id, "1007", deps)

    assert before.shipment == "rejected" and outcome.queued
    assert tracking_queue.jobs == [TrackingHintJob(integration_id=integration_id, reference="1007")]
    assert tracking.get_tracking(integration_id, ["1007"])["1007"].tracking_status is TrackingStatus.FAILED
    assert (again.value.status, again.value.code) == (409, "shipment_not_refused")
