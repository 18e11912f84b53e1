"""Stock and tracking back from myOGO on the local stack: real handlers, real HTTP to the simulators and to moto."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from ogosync.http import RetryPolicy
from ogosync.models import Flow, TrackingStatus
from ogosync.state.table import key
from ogosync.stores.centra.client import CentraStore
from ogosync_local.sim import FaultRule, sign_myogo_webhook
from ogosync_local.stack import CentraSetup, LocalStack

pytestmark = pytest.mark.e2e
TEE, HOODIE = "TS100BLKM", "HD200GRYS"


def _shop(stack: LocalStack, stock: dict[str, int] | None = None) -> CentraSetup:
    """A Centra store and its myOGO account with the same items, bound (as the product flow will bind them)."""
    setup = stack.add_centra_store("acme-centra", shipping_map={"standard": "POSTI"})
    for n, (code, units) in enumerate((stock or {TEE: 50, HOODIE: 12}).items()):
        setup.centra.add_product(code[:5], code[5:8], code[8:], ean=f"73500000000{n:02d}", stock=units)
        stack.myogo.add_product(setup.merchant_id, code, stock=units)
    stack.seed_sku_bindings(setup.integration.id)
    return setup


def _in_myogo(stack: LocalStack, setup: CentraSetup, *order_ids: str) -> None:
    """The order flow brings the paid orders to myOGO (its scheduled poll)."""
    stack.enqueue_flow(setup.integration.id, Flow.ORDERS)
    stack.run_flow(Flow.ORDERS)
    assert set(order_ids) <= set(stack.myogo.orders(setup.merchant_id))


def _stock_run(stack: LocalStack, setup: CentraSetup) -> dict[str, int]:
    stack.enqueue_flow(setup.integration.id, Flow.STOCK)
    stack.run_flow(Flow.STOCK)
    return stack.state().get_cursor(setup.integration.id, Flow.STOCK).last_counts


def _sellable(setup: CentraSetup, code: str) -> int:
    available: int = setup.centra.stock(code)["availableStock"]
    return available


def test_a_shipped_order_reaches_centra_once_by_webhook_poll_and_a_duplicate_delivery(
    stack: LocalStack, caplog: pytest.LogCaptureFixture
) -> None:
    setup = _shop(stack)
    key = stack.register_myogo_webhook(setup.integration.id)
    caplog.set_level(logging.DEBUG)
    order_id = setup.centra.add_order([{"product": TEE, "qty": 2}, {"product": HOODIE, "qty": 1}])["orderId"]
    _in_myogo(stack, setup, order_id)

    stack.myogo.advance(2)  # the warehouse collects and ships it
    (delivery,) = stack.myogo.deliver_webhooks()
    again = httpx.post(
        f"{stack.gateway.base_url}/webhooks/myogo/acme-centra", headers=delivery.headers, content=delivery.body
    )
    stack.enqueue_flow(setup.integration.id, Flow.TRACKING)  # and the scheduled poll sees the same order
    report = stack.run_flow(Flow.TRACKING)

    assert (delivery.status, again.status_code, report.received, report.failed) == (202, 202, 3, 0)
    shipped = stack.myogo.orders(setup.merchant_id)[order_id]
    (shipment,) = setup.centra.shipments(order_id)
    assert (shipment["paid"], shipment["trackingNumber"]) == (1, shipped["trackingNumber"])
    assert sorted(
        (line["sku"] + line["variantSku"] + line["sizeSku"], line["qty"]) for line in shipment["products"]
    ) == [
        (HOODIE, 1),
        (TEE, 2),
    ]
    assert setup.centra.orders[order_id]["orderStatus"] == "Completed"
    view = stack.tracking_state().get_tracking(setup.integration.id, [order_id])[order_id]
    assert (view.tracking_status, view.myogo_status, view.tracking_url) == (
        TrackingStatus.PUSHED,
        "shipped",
        shipped["trackingUrl"],
    )
    assert stack.queue_depth("TrackingSyncQueue") == stack.queue_depth("TrackingSyncDLQ") == 0
    stored = json.dumps(stack.aws.client("dynamodb").scan(TableName=stack.aws.table_name)["Items"])
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert key not in stored and key not in logged


def test_a_hint_meeting_another_workers_claim_is_acknowledged_and_the_poll_pushes_once_the_lease_ends(
    stack: LocalStack,
) -> None:
    setup = _shop(stack)
    stack.register_myogo_webhook(setup.integration.id)
    order_id = setup.centra.add_order([{"product": TEE}])["orderId"]
    _in_myogo(stack, setup, order_id)
    stack.myogo.advance(2)
    tracking = stack.tracking_state()
    tracking.claim_push(setup.integration.id, order_id, "other-worker", datetime.now(UTC), lease_seconds=600)

    (delivery,) = stack.myogo.deliver_webhooks()
    hint = stack.run_flow(Flow.TRACKING)
    stack.enqueue_flow(setup.integration.id, Flow.TRACKING)
    busy_poll = stack.run_flow(Flow.TRACKING)
    held_back = stack.state().get_cursor(setup.integration.id, Flow.TRACKING)

    assert (delivery.status, hint.received, hint.failed, busy_poll.failed) == (202, 1, 0, 0)
    assert stack.queue_depth("TrackingSyncQueue") == stack.queue_depth("TrackingSyncDLQ") == 0
    assert setup.centra.shipments(order_id) == [] and held_back.last_counts["busy"] == 1

    stack.aws.client("dynamodb").update_item(  # the other worker died; its lease runs out
        TableName=stack.aws.table_name,
        Key=key(setup.integration.id, f"ORDER#{order_id}"),
        UpdateExpression="SET tracking_claim_expires_epoch = :past",
        ExpressionAttributeValues={":past": {"N": "0"}},
    )
    stack.enqueue_flow(setup.integration.id, Flow.TRACKING)
    stack.run_flow(Flow.TRACKING)

    (shipment,) = setup.centra.shipments(order_id)
    assert shipment["trackingNumber"] == stack.myogo.orders(setup.merchant_id)[order_id]["trackingNumber"]
    assert tracking.get_tracking(setup.integration.id, [order_id])[order_id].tracking_status is TrackingStatus.PUSHED


def test_a_retry_after_centra_accepted_the_shipment_creates_no_second_one(stack: LocalStack) -> None:
    setup = _shop(stack)
    order_id = setup.centra.add_order([{"product": TEE}])["orderId"]
    _in_myogo(stack, setup, order_id)
    stack.myogo.advance(2)
    setup.centra.faults.add_rule(FaultRule(method="POST", path_prefix="/shipments", status=500, after_success=True))

    for _ in range(2):  # the first poll's push has an unknown outcome; the second looks in Centra first
        stack.enqueue_flow(setup.integration.id, Flow.TRACKING)
        stack.run_flow(Flow.TRACKING)

    assert len(setup.centra.shipments(order_id)) == 1
    cursor = stack.state().get_cursor(setup.integration.id, Flow.TRACKING)
    assert cursor.last_counts["recovered"] == 1 and setup.centra.calls["POST /shipments"] == 1


def test_an_order_paid_a_second_before_the_stock_run_is_subtracted_and_not_twice_once_myogo_has_it(
    stack: LocalStack,
) -> None:
    setup = _shop(stack)
    first = _stock_run(stack, setup)  # the first run reconciles every SKU
    assert first["full"] == 1 and first["written"] == 2 and _sellable(setup, TEE) == 50

    order_id = setup.centra.add_order([{"product": TEE, "qty": 2}])["orderId"]  # paid, not yet in myOGO
    in_transit = _stock_run(stack, setup)

    assert (in_transit["in_transit_units"], in_transit["written"]) == (2, 1)
    assert _sellable(setup, TEE) == 48  # not 50: the two units are the customer's
    assert stack.stock_ledger().published(setup.integration.id, [TEE])[TEE].quantity == 48

    _in_myogo(stack, setup, order_id)  # myOGO reserves the two units itself now
    after = _stock_run(stack, setup)

    assert (after["in_transit_units"], after["written"]) == (0, 0)
    assert _sellable(setup, TEE) == 48  # not 46
    stack.myogo.advance(2)
    stack.enqueue_flow(setup.integration.id, Flow.TRACKING)
    stack.run_flow(Flow.TRACKING)  # shipped: Centra deducts its physical stock and releases the allocation
    assert (_stock_run(stack, setup)["written"], _sellable(setup, TEE)) == (0, 48)


def test_a_stock_run_failing_halfway_is_resumed_for_what_is_left(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    codes = [f"SKU{n:02d}VARSZ" for n in range(5)]
    setup = _shop(stack, dict.fromkeys(codes, 7))
    monkeypatch.setattr(CentraStore, "STOCK_BATCH_SIZE", 2)
    monkeypatch.setattr(RetryPolicy, "backoff", lambda self, attempt: 0.0)  # the client gives up quickly
    setup.centra.faults.add_rule(FaultRule(method="POST", path_prefix="/stock", status=503, skip=1, times=4))
    stack.myogo.set_stock(setup.merchant_id, codes[0], 3)
    for code in codes[1:]:
        stack.myogo.set_stock(setup.merchant_id, code, 4)

    stack.enqueue_flow(setup.integration.id, Flow.STOCK)
    failed = stack.run_flow(Flow.STOCK)  # the 2nd batch gets 503 until the client gives up

    assert (failed.received, failed.failed) == (1, 1)
    cursor = stack.state().get_cursor(setup.integration.id, Flow.STOCK)
    assert "503" in (cursor.last_error or "") and cursor.last_counts["not_written"] == 3
    written = set(stack.stock_ledger().all_published(setup.integration.id))
    assert len(written) == 2 and all(_sellable(setup, code) == (3 if code == codes[0] else 4) for code in written)

    posts_before = setup.centra.calls["POST /stock"]
    resumed = stack.run_flow(Flow.STOCK, redeliver_failures=True)  # SQS redelivers the job

    assert (resumed.received, resumed.failed) == (1, 0)
    assert setup.centra.calls["POST /stock"] - posts_before == 2  # the 3 left, in batches of 2
    assert [_sellable(setup, code) for code in codes] == [3, 4, 4, 4, 4]
    assert stack.stock_ledger().run_state(setup.integration.id).full_run_started is None


@pytest.mark.parametrize(
    ("case", "status"),
    [("wrong key", 401), ("no signature", 401), ("unknown integration", 404), ("malformed", 400), ("oversized", 413)],
)
def test_a_bad_myogo_webhook_gets_a_4xx_over_http_and_changes_nothing(
    stack: LocalStack, case: str, status: int
) -> None:
    setup = _shop(stack)
    key = stack.register_myogo_webhook(setup.integration.id)
    items_before = _items(stack)
    event: Any = {"type": "OrderShipped", "reference": "1001"}
    integration_id, signing_key = setup.integration.id, key
    if case == "wrong key":
        signing_key = "someone-elses-key"
    elif case == "unknown integration":
        integration_id = "no-such-shop"
    elif case == "malformed":
        event = {"type": "OrderShipped"}
    elif case == "oversized":
        event["padding"] = "x" * 300_000
    body = json.dumps(event).encode()
    headers = {"Content-Type": "application/json", "X-OGOship-Hmac-SHA256": sign_myogo_webhook(signing_key, body)}
    if case == "no signature":
        del headers["X-OGOship-Hmac-SHA256"]

    answer = httpx.post(f"{stack.gateway.base_url}/webhooks/myogo/{integration_id}", headers=headers, content=body)

    assert answer.status_code == status, answer.text
    assert json.loads(answer.text)["error"]
    assert stack.queue_depth("TrackingSyncQueue") == 0 and _items(stack) == items_before


def _items(stack: LocalStack) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = stack.aws.client("dynamodb").scan(TableName=stack.aws.table_name)["Items"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))
