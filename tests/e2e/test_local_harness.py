"""The local stack's Lambda runner does not depend on how fast the machine is: a slow invocation is not redelivered
behind its back and does not outlive its claims; a redelivery happens when asked, after our claims ran out.

The slowness is a sleep inside an invocation (the machine under load); nothing here measures time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ogosync.models import BindingStatus, Flow
from ogosync.state.dynamo import DynamoStateRepository
from ogosync_local import lambdas
from ogosync_local.stack import FLOW_QUEUES, LocalStack

pytestmark = pytest.mark.e2e
SLOWER_THAN_THE_OLD_TIMEOUTS_S = 1.5  # the harness used 1 s visibility timeouts and 1 s claim leases
SIZE = "TS100BLKM"


def _failing(function: str, event: dict[str, Any]) -> dict[str, Any]:
    return {"batchItemFailures": [{"itemIdentifier": record["messageId"]} for record in event["Records"]]}


def _failing_slowly(function: str, event: dict[str, Any]) -> dict[str, Any]:
    time.sleep(SLOWER_THAN_THE_OLD_TIMEOUTS_S)
    return _failing(function, event)


def test_a_failure_slower_than_any_timeout_is_received_once_until_a_redelivery_is_asked_for(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lambdas, "invoke", _failing_slowly)
    stack.enqueue_flow("any-shop", Flow.STOCK)

    first = stack.run_flow(Flow.STOCK)
    again = stack.run_flow(Flow.STOCK)
    monkeypatch.setattr(lambdas, "invoke", lambda function, event: {"batchItemFailures": []})
    redelivered = stack.run_flow(Flow.STOCK, redeliver_failures=True)

    assert (first.received, first.failed, again.received) == (1, 1, 0)
    assert (redelivered.received, redelivered.failed) == (1, 0)
    assert first.deliveries == redelivered.deliveries and set(first.deliveries.values()) == {1}  # same message
    assert stack.queue_depth(FLOW_QUEUES[Flow.STOCK]) == 0


def test_failures_redelivered_on_request_go_to_the_dlq_after_max_receive_count(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lambdas, "invoke", _failing)
    stack.enqueue_flow("any-shop", Flow.STOCK)

    report = stack.run_flow(Flow.STOCK, redeliver_failures=True)

    assert (report.received, report.failed) == (3, 3)  # template.yaml: StockSyncQueue maxReceiveCount 3
    assert stack.queue_depth("StockSyncQueue") == 0 and stack.queue_depth("StockSyncDLQ") == 1


def test_an_order_import_slower_than_a_second_after_its_claim_still_sends(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = stack.add_centra_store("acme-centra", shipping_map={"standard": "POSTI"})
    setup.centra.add_product("TS100", "BLK", "M", ean="7350000000017", stock=5)
    stack.myogo.add_product(setup.merchant_id, SIZE, stock=5)
    order_id = setup.centra.add_order([{"product": SIZE}])["orderId"]
    setup.centra.deliver_webhooks()
    claim = DynamoStateRepository.claim_order

    def claim_then_stall(self: DynamoStateRepository, *args: Any, **kwargs: Any) -> Any:
        answer = claim(self, *args, **kwargs)
        time.sleep(SLOWER_THAN_THE_OLD_TIMEOUTS_S)  # the machine is busy between the claim and the POST
        return answer

    monkeypatch.setattr(DynamoStateRepository, "claim_order", claim_then_stall)
    report = stack.run_order_workers()

    assert (report.received, report.failed) == (1, 0)
    binding = stack.state().get_order_binding(setup.integration.id, order_id)
    assert binding is not None and binding.status is BindingStatus.SENT
    assert [order["reference"] for order in stack.myogo.orders(setup.merchant_id).values()] == [order_id]


def test_a_redelivery_ends_the_claims_our_workers_took_and_not_a_longer_one(stack: LocalStack) -> None:
    stack.add_centra_store("acme-centra", shipping_map={"standard": "POSTI"})
    state, now = stack.state(), datetime.now(UTC)
    state.claim_order("acme-centra", "1", "1", "our-dead-worker", now, lease_seconds=120)  # the stack's lease
    state.claim_order("acme-centra", "2", "2", "another-worker", now, lease_seconds=600)

    stack.redeliver(stack.aws.queue_urls["OrderQueue"], [])

    ours, theirs = (state.get_order_binding("acme-centra", order_id) for order_id in ("1", "2"))
    ended_by = now + timedelta(seconds=120)  # the redelivery ended our claim; the longer one keeps its 600 s
    assert ours is not None and ours.claim_expires is not None and ours.claim_expires < ended_by
    assert theirs is not None and theirs.claim_expires == now + timedelta(seconds=600)
