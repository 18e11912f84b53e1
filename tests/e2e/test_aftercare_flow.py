"""What happens in the store after an order was sent (issue 10 items 9 and 10), on the local stack: real handlers,
real HTTP to the simulators and to moto."""

from __future__ import annotations

import pytest

from ogosync.models import AftercareStatus, Flow, TrackingStatus
from ogosync.state.aftercare import DynamoAftercareRepository
from ogosync_local.stack import CentraSetup, LocalStack

pytestmark = pytest.mark.e2e
TEE = "TS100BLKM"


def _shop(stack: LocalStack) -> CentraSetup:
    setup = stack.add_centra_store("acme-centra", shipping_map={"standard": "POSTI"})
    setup.centra.add_product(TEE[:5], TEE[5:8], TEE[8:], ean="7350000000000", stock=50)
    stack.myogo.add_product(setup.merchant_id, TEE, stock=50)
    stack.seed_sku_bindings(setup.integration.id)
    return setup


def _poll(stack: LocalStack, setup: CentraSetup, flow: Flow) -> dict[str, int]:
    stack.enqueue_flow(setup.integration.id, flow)
    report = stack.run_flow(flow)
    assert report.failed == 0
    return stack.state().get_cursor(setup.integration.id, flow).last_counts


def _aftercare(stack: LocalStack) -> DynamoAftercareRepository:
    return DynamoAftercareRepository(stack.aws.client("dynamodb"), stack.aws.table_name)


def test_an_order_cancelled_in_centra_after_it_was_sent_is_cancelled_in_myogo_and_never_ships(
    stack: LocalStack,
) -> None:
    setup = _shop(stack)
    setup.centra.statuses_returned = setup.centra.statuses_returned | {"Cancelled"}  # as the set-up advises
    order_id = setup.centra.add_order([{"product": TEE, "qty": 1}])["orderId"]
    _poll(stack, setup, Flow.ORDERS)
    assert stack.myogo.orders(setup.merchant_id)[order_id]["status"] == "new"

    setup.centra.update_order(order_id, status="Cancelled")
    counts = _poll(stack, setup, Flow.ORDERS)
    stack.myogo.advance(2)  # the warehouse clock moves on: a cancelled order is not collected
    _poll(stack, setup, Flow.TRACKING)

    assert counts["aftercare_cancelled_in_myogo"] == 1
    assert stack.myogo.orders(setup.merchant_id)[order_id]["status"] == "cancelled"
    assert setup.centra.shipments(order_id) == []
    binding = stack.state().get_order_binding(setup.integration.id, order_id)
    assert binding is not None and binding.aftercare_status is AftercareStatus.CANCELLED_IN_MYOGO


def test_an_order_cancelled_after_the_warehouse_started_or_hidden_by_the_plugin_goes_to_a_person(
    stack: LocalStack,
) -> None:
    setup = _shop(stack)  # the plugin's default statuses: Cancelled orders are not returned
    collecting = setup.centra.add_order([{"product": TEE, "qty": 1}])["orderId"]
    hidden = setup.centra.add_order([{"product": TEE, "qty": 1}])["orderId"]
    _poll(stack, setup, Flow.ORDERS)
    stack.myogo.set_status(setup.merchant_id, collecting, "collecting")

    setup.centra.statuses_returned = setup.centra.statuses_returned | {"Cancelled"}
    setup.centra.update_order(collecting, status="Cancelled")
    _poll(stack, setup, Flow.ORDERS)
    setup.centra.statuses_returned = setup.centra.statuses_returned - {"Cancelled"}
    setup.centra.update_order(hidden, status="Cancelled")  # now "does not exist" for the Order API
    counts = _poll(stack, setup, Flow.ORDERS)

    assert counts["aftercare_needs_person"] == 1  # the hidden one, in this run
    assert stack.myogo.orders(setup.merchant_id)[hidden]["status"] == "new"  # not a cancellation: a person decides
    people = {order.store_order_id: order.detail for order in _aftercare(stack).attention_orders(setup.integration.id)}
    assert set(people) == {collecting, hidden}
    assert "collecting" in people[collecting] and "no longer returns" in people[hidden]


def test_a_pending_order_shipped_by_myogo_reaches_centra_once_it_is_confirmed(stack: LocalStack) -> None:
    setup = _shop(stack)
    order_id = setup.centra.add_order([{"product": TEE, "qty": 1}], status="Pending")["orderId"]
    _poll(stack, setup, Flow.ORDERS)  # payment authorised: sent to myOGO
    stack.myogo.advance(2)

    waiting = _poll(stack, setup, Flow.TRACKING)
    again = _poll(stack, setup, Flow.TRACKING)
    setup.centra.update_order(order_id, status="Confirmed")
    pushed = _poll(stack, setup, Flow.TRACKING)

    assert waiting["waiting_for_store"] == 1 and again["waiting_listed"] == 1
    assert pushed["waiting_listed"] == 0 and len(setup.centra.shipments(order_id)) == 1
    view = stack.tracking_state().get_tracking(setup.integration.id, [order_id])[order_id]
    assert view.tracking_status is TrackingStatus.PUSHED
    assert _aftercare(stack).waiting_shipments(setup.integration.id) == []
