"""Whole order flows on the local stack: real handlers, real HTTP to the simulators and to moto."""

from __future__ import annotations

import json
import logging
from collections import Counter

import httpx
import pytest
from click.testing import CliRunner

from ogosync.models import BindingStatus, Flow, HoldReason
from ogosync.state.dynamo import DynamoStateRepository
from ogosync_cli.main import cli
from ogosync_local.sim import FaultConfig, FaultRule
from ogosync_local.stack import CentraSetup, LocalStack
from tests.webhooks import centra_delivery

pytestmark = pytest.mark.e2e
SIZE = "TS100BLKM"


def _shop(stack: LocalStack, integration_id: str = "acme-centra") -> CentraSetup:
    setup = stack.add_centra_store(integration_id, shipping_map={"standard": "POSTI"})
    setup.centra.add_product("TS100", "BLK", "M", ean="7350000000017", stock=50)
    stack.myogo.add_product(setup.merchant_id, SIZE, stock=50)
    return setup


def _myogo_references(stack: LocalStack, setup: CentraSetup) -> Counter[str]:
    return Counter(order["reference"] for order in stack.myogo.orders(setup.merchant_id).values())


def test_paid_orders_reach_myogo_once_despite_duplicate_lost_and_reordered_webhooks(stack: LocalStack) -> None:
    setup = _shop(stack)
    paid = [setup.centra.add_order([{"product": SIZE, "qty": 2}])["orderId"] for _ in range(8)]
    on_hold = setup.centra.add_order([{"product": SIZE}], hold=True)["orderId"]
    unmapped = setup.centra.add_order([{"product": SIZE}], shipping_list="express")["orderId"]

    deliveries = setup.centra.deliver_webhooks(duplicate_rate=0.5, loss_rate=0.3, reorder=True, seed=3)
    stack.run_order_workers()
    stack.enqueue_flow(setup.integration.id, Flow.ORDERS)
    stack.run_flow(Flow.ORDERS)

    assert any(d.lost for d in deliveries) and any(d.duplicated for d in deliveries)
    references = _myogo_references(stack, setup)
    assert references == Counter(dict.fromkeys(paid, 1))
    sent = stack.myogo.orders(setup.merchant_id)[paid[0]]
    assert sent["status"] == "new" and sent["shippingCode"] == "POSTI"
    assert [(line["code"], line["quantity"]) for line in sent["orderLines"]] == [(SIZE, 2)]
    bindings = stack.state().get_order_bindings(setup.integration.id, [on_hold, unmapped])
    assert bindings[on_hold].holds[0].reason is HoldReason.ON_HOLD_IN_STORE
    assert bindings[unmapped].holds[0].reason is HoldReason.UNMAPPED_SHIPPING_METHOD
    assert stack.queue_depth("OrderQueue") == stack.queue_depth("OrderDLQ") == 0


def test_the_worker_dies_after_myogo_accepted_and_the_redelivery_creates_no_second_order(
    stack: LocalStack, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = _shop(stack)
    order_id = setup.centra.add_order([{"product": SIZE}])["orderId"]
    setup.centra.deliver_webhooks()
    original = DynamoStateRepository.mark_order_sent
    deaths = {"left": 1}

    def die_once(self: DynamoStateRepository, *args: object, **kwargs: object) -> None:
        if deaths["left"]:
            deaths["left"] -= 1
            raise SystemError("Lambda killed between myOGO's answer and the DynamoDB write")
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(DynamoStateRepository, "mark_order_sent", die_once)
    first = stack.run_order_workers()
    assert (first.received, first.failed) == (1, 1) and _myogo_references(stack, setup) == Counter({order_id: 1})

    retried = stack.run_order_workers(redeliver_failures=True)  # as after the visibility timeout: the claim ran out

    assert (retried.received, retried.failed) == (1, 0)
    assert _myogo_references(stack, setup) == Counter({order_id: 1})
    binding = stack.state().get_order_binding(setup.integration.id, order_id)
    assert binding is not None and binding.status is BindingStatus.SENT and binding.attempts == 2


def test_myogo_answering_500_after_storing_the_order_is_resolved_by_lookup(stack: LocalStack) -> None:
    setup = _shop(stack)
    order_id = setup.centra.add_order([{"product": SIZE}])["orderId"]
    stack.myogo.faults.add_rule(FaultRule(method="POST", path_prefix="/api/v1/Orders", status=500, after_success=True))

    stack.enqueue_flow(setup.integration.id, Flow.ORDERS)
    stack.run_flow(Flow.ORDERS)

    assert _myogo_references(stack, setup) == Counter({order_id: 1})
    assert stack.state().get_cursor(setup.integration.id, Flow.ORDERS).last_counts == {"recovered": 1, "seen": 1}


def test_a_webhook_three_times_and_the_poll_give_one_myogo_order(stack: LocalStack) -> None:
    setup = _shop(stack)
    order_id = setup.centra.add_order([{"product": SIZE}])["orderId"]
    for _ in range(3):
        headers, body = centra_delivery(
            [{"type": "order", "action": "create", "id": int(order_id)}], setup.secret_values["webhook_secret"], _now()
        )
        answer = httpx.post(
            f"{stack.gateway.base_url}/webhooks/centra/{setup.integration.id}", headers=headers, content=body
        )
        assert answer.status_code == 202
    stack.run_order_workers()
    stack.enqueue_flow(setup.integration.id, Flow.ORDERS)
    stack.run_flow(Flow.ORDERS)

    assert _myogo_references(stack, setup) == Counter({order_id: 1})


def test_one_merchants_broken_store_does_not_delay_another(stack: LocalStack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    broken = _shop(stack, "broken-shop")
    healthy = _shop(stack, "healthy-shop")
    healthy_order = healthy.centra.add_order([{"product": SIZE}])["orderId"]
    broken.centra.add_order([{"product": SIZE}])
    broken.centra.api_key = "rotated-without-telling-ogosync"  # every call of ours now gets 401

    scheduled = stack.run_scheduler()
    report = stack.run_flow(Flow.ORDERS)

    assert sorted(scheduled["enqueued"]["orders"]) == ["broken-shop", "healthy-shop"]  # one job each
    assert report.failed >= 1  # the broken shop's job fails and goes back to its queue (then to the DLQ)
    assert _myogo_references(stack, healthy) == Counter({healthy_order: 1})
    failed_cursor = stack.state().get_cursor("broken-shop", Flow.ORDERS)
    assert "401" in (failed_cursor.last_error or "") and failed_cursor.watermark is None
    ours = [record for record in caplog.records if record.name == "ogosync" and record.exc_info]
    assert any("401" in str(record.exc_info[1]) for record in ours if record.exc_info)  # the failed job says why


@pytest.mark.parametrize(
    ("case", "status"),
    [
        ("wrong secret", 401),
        ("stale", 401),
        ("unknown integration", 404),
        ("json body", 415),
        ("oversized", 413),
        ("malformed", 400),
    ],
)
def test_hostile_webhooks_get_4xx_over_http_and_enqueue_nothing(stack: LocalStack, case: str, status: int) -> None:
    setup = _shop(stack)
    secret = setup.secret_values["webhook_secret"]
    events = [{"type": "order", "action": "create", "id": 1001}]
    integration_id = setup.integration.id
    if case == "wrong secret":
        headers, body = centra_delivery(events, "someone-elses-secret", _now())
    elif case == "stale":
        headers, body = centra_delivery(events, secret, _now().replace(year=2025))
    elif case == "unknown integration":
        headers, body = centra_delivery(events, secret, _now())
        integration_id = "no-such-shop"
    elif case == "json body":
        headers, body = centra_delivery(events, secret, _now())
        headers["Content-Type"] = "application/json"
    elif case == "oversized":
        headers, body = centra_delivery(events * 6000, secret, _now())
    else:
        headers, body = centra_delivery(events, secret, _now())
        body = b"payload=%7Bnot-json"
        headers["X-Centra-Signature"] = _resign(secret, body)

    answer = httpx.post(f"{stack.gateway.base_url}/webhooks/centra/{integration_id}", headers=headers, content=body)

    assert answer.status_code == status, answer.text
    assert json.loads(answer.text)["error"]
    assert stack.queue_depth("OrderQueue") == 0


def test_secrets_never_reach_logs_state_or_answers(stack: LocalStack, caplog: pytest.LogCaptureFixture) -> None:
    setup = _shop(stack)
    caplog.set_level(logging.DEBUG)  # from here on, only what ogosync's functions do is judged
    caplog.clear()
    setup.centra.add_order([{"product": SIZE}])
    setup.centra.add_order([{"product": SIZE}], shipping_list="express")
    stack.myogo.faults.configure(FaultConfig(error_rate=0.3, seed=5))
    setup.centra.deliver_webhooks(duplicate_rate=1.0)
    bad = centra_delivery([{"type": "order", "id": 1}], "wrong", _now())
    refused = httpx.post(
        f"{stack.gateway.base_url}/webhooks/centra/{setup.integration.id}", headers=bad[0], content=bad[1]
    )
    stack.run_order_workers(redeliver_failures=True)
    stack.enqueue_flow(setup.integration.id, Flow.ORDERS)
    stack.run_flow(Flow.ORDERS, redeliver_failures=True)

    stored = json.dumps(stack.aws.client("dynamodb").scan(TableName=stack.aws.table_name)["Items"])
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert "order in myOGO" in logged and refused.status_code == 401  # the logs and an error answer were seen
    for name, value in setup.secret_values.items():
        if name in ("myogo_client_id", "myogo_merchant_id"):
            continue  # identifiers, not secrets
        assert value not in logged, f"{name} leaked into the logs"
        assert value not in stored, f"{name} leaked into DynamoDB"
        assert value not in refused.text, f"{name} leaked into an answer"


def _now():  # type: ignore[no-untyped-def]
    from ogosync.timeutil import utc_now

    return utc_now()


def _resign(secret: str, body: bytes) -> str:
    import hashlib
    import hmac

    timestamp = int(_now().timestamp())
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def test_a_malformed_order_is_held_as_unreadable_and_the_others_and_the_stock_run_go_on(stack: LocalStack) -> None:
    setup = _shop(stack)
    first = setup.centra.add_order([{"product": SIZE}])["orderId"]
    garbled = setup.centra.add_order([{"product": SIZE}])["orderId"]
    as_object = setup.centra.add_order([{"product": SIZE}])
    setup.centra.garble_order(garbled, products=[None], shipments=["1-1"])
    setup.centra.garble_order(as_object["orderId"], products={"7": as_object["products"][0]})  # PHP's json_encode

    stack.enqueue_flow(setup.integration.id, Flow.ORDERS)
    polled = stack.run_flow(Flow.ORDERS)
    stack.enqueue_flow(setup.integration.id, Flow.STOCK)
    stocked = stack.run_flow(Flow.STOCK)

    assert polled.failed == stocked.failed == 0
    assert _myogo_references(stack, setup) == Counter({first: 1, as_object["orderId"]: 1})
    binding = stack.state().get_order_binding(setup.integration.id, garbled)
    assert binding is not None and binding.status is BindingStatus.HELD
    assert [(hold.reason, hold.detail) for hold in binding.holds] == [
        (HoldReason.UNREADABLE_IN_STORE, f"order {garbled}: products element 1 is not an object: None")
    ]
    assert stack.state().get_cursor(setup.integration.id, Flow.ORDERS).last_counts["unreadable"] == 1
    assert stack.state().get_cursor(setup.integration.id, Flow.STOCK).last_counts["unreadable_orders"] == 1
    held = CliRunner().invoke(cli, ["--api-url", stack.operator.base_url, "orders", "held", setup.integration.id])
    assert held.exit_code == 0 and "unreadable_in_store" in held.output and garbled in held.output
