"""Hostile input to every webhook route and to the operator API, over HTTP on the local stack: fuzzed bodies, wrong
and replayed signatures, another integration's real secret, huge bodies, deep JSON. Never a 5xx, never a change of
state, never a job enqueued. And one integration can never read or write another's state."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ogosync.models import BindingStatus, Flow, WarehouseOrderState
from ogosync.timeutil import utc_now
from ogosync_local.sim import sign_centra_webhook, sign_myogo_webhook
from ogosync_local.stack import CentraSetup, LocalStack
from tests.webhooks import centra_delivery

pytestmark = pytest.mark.e2e
QUEUES = ("OrderQueue", "TrackingSyncQueue", "OrderPollQueue", "StockSyncQueue", "ProductSyncQueue")
DEEP_JSON = ("[" * 100_000 + "]" * 100_000).encode()
HUGE = 6 * 2**20  # past every route's limit, within API Gateway's 10 MB
CREATE = [{"type": "order", "action": "create", "id": 1001}]


class Shops:
    def __init__(self, stack: LocalStack) -> None:
        self.stack = stack
        self.a = self._shop("shop-a")
        self.b = self._shop("shop-b")
        self.keys = {
            setup.integration.id: stack.register_myogo_webhook(setup.integration.id) for setup in (self.a, self.b)
        }

    def _shop(self, integration_id: str) -> CentraSetup:
        setup = self.stack.add_centra_store(
            integration_id, shipping_map={"standard": "POSTI"}, products={"TS100BLKM": 9}
        )
        setup.centra.add_product("TS100", "BLK", "M", ean="7350000000017", stock=9)
        self.stack.seed_sku_bindings(integration_id)
        setup.centra.add_order([{"product": "TS100BLKM"}])  # order 1001 in each store
        return setup

    def snapshot(self) -> tuple[list[dict[str, Any]], dict[str, int]]:
        items = self.stack.aws.client("dynamodb").scan(TableName=self.stack.aws.table_name)["Items"]
        ordered = sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))
        return ordered, {queue: self.stack.queue_depth(queue) for queue in QUEUES}

    def post(self, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        return httpx.post(f"{self.stack.gateway.base_url}{path}", content=body, headers=headers, timeout=30)


@pytest.fixture(scope="module")
def shops() -> Iterator[Shops]:
    with LocalStack(quiet=True) as stack:
        yield Shops(stack)


def _centra_headers(secret: str, body: bytes) -> dict[str, str]:
    signature = sign_centra_webhook(secret, body, int(utc_now().timestamp()))
    return {"Content-Type": "application/x-www-form-urlencoded", "X-Centra-Signature": signature}


def _hostile_centra(shops: Shops, case: str) -> tuple[bytes, dict[str, str]]:
    own, other = shops.a.secret_values["webhook_secret"], shops.b.secret_values["webhook_secret"]
    headers, body = centra_delivery(CREATE, own, utc_now())
    if case == "another integration's secret":
        headers, body = centra_delivery(CREATE, other, utc_now())
    elif case == "signature of another body (replayed)":
        _, body = centra_delivery([{"type": "order", "action": "create", "id": 1002}], own, utc_now())
    elif case == "deep JSON, signed":
        body = b"payload=" + DEEP_JSON
        headers = _centra_headers(own, body)
    elif case == "huge body, signed":
        body = b"payload=" + b"x" * HUGE
        headers = _centra_headers(own, body)
    return body, headers


def _hostile_myogo(shops: Shops, case: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps({"type": "OrderShipped", "reference": "1001"}).encode()
    key = shops.keys["shop-a"]
    if case == "another integration's secret":
        key = shops.keys["shop-b"]
    elif case == "signature of another body (replayed)":
        signed = json.dumps({"type": "OrderShipped", "reference": "1002"}).encode()
        return body, {"Content-Type": "application/json", "X-OGOship-Hmac-SHA256": sign_myogo_webhook(key, signed)}
    elif case == "deep JSON, signed":
        body = DEEP_JSON
    elif case == "huge body, signed":
        body = json.dumps({"type": "OrderShipped", "reference": "1001", "padding": "x" * HUGE}).encode()
    return body, {"Content-Type": "application/json", "X-OGOship-Hmac-SHA256": sign_myogo_webhook(key, body)}


CASES = [
    "another integration's secret",
    "signature of another body (replayed)",
    "deep JSON, signed",
    "huge body, signed",
]


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("route", ["centra", "myogo"])
def test_a_hostile_webhook_gets_a_4xx_and_changes_nothing(shops: Shops, route: str, case: str) -> None:
    before = shops.snapshot()
    body, headers = _hostile_centra(shops, case) if route == "centra" else _hostile_myogo(shops, case)

    answer = shops.post(f"/webhooks/{route}/shop-a", body, headers)

    assert 400 <= answer.status_code < 500, answer.text
    assert shops.snapshot() == before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=2000), route=st.sampled_from(["centra", "myogo"]), signed=st.booleans())
def test_fuzzed_webhook_bodies_never_get_a_5xx_nor_change_anything(
    shops: Shops, body: bytes, route: str, signed: bool
) -> None:
    before = shops.snapshot()
    if route == "centra":
        secret = shops.a.secret_values["webhook_secret"] if signed else "guess"
        headers = _centra_headers(secret, body)
    else:
        key = shops.keys["shop-a"] if signed else "guess"
        headers = {"Content-Type": "application/json", "X-OGOship-Hmac-SHA256": sign_myogo_webhook(key, body)}

    answer = shops.post(f"/webhooks/{route}/shop-a", body, headers)

    assert answer.status_code < 500, answer.text
    assert shops.snapshot() == before


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/integrations", DEEP_JSON),
        ("POST", "/integrations", b'{"id": "' + b"x" * HUGE + b'"}'),
        ("PUT", "/integrations/shop-a/shipping/standard", DEEP_JSON),
        ("PATCH", "/integrations/shop-a", b'{"settings": ' + DEEP_JSON + b"}"),
        ("POST", "/integrations/shop-a/pause", b"\xff\xfe not utf-8"),
    ],
)
def test_the_operator_api_refuses_deep_huge_and_broken_bodies_without_a_change(
    shops: Shops, method: str, path: str, body: bytes
) -> None:
    before = shops.snapshot()

    answer = httpx.request(
        method, f"{shops.stack.operator.base_url}{path}", content=body, headers={"Content-Type": "application/json"}
    )

    assert 400 <= answer.status_code < 500, answer.text
    assert shops.snapshot() == before


# ---- isolation -----------------------------------------------------------------------------------------------


def test_one_integration_never_reads_or_writes_anothers_state(shops: Shops) -> None:
    stack, state = shops.stack, shops.stack.state()
    headers, body = centra_delivery(CREATE, shops.a.secret_values["webhook_secret"], utc_now())
    assert shops.post("/webhooks/centra/shop-a", body, headers).status_code == 202
    stack.run_order_workers()

    # Each store has an order 1001: only shop A's reached myOGO, in A's myOGO account, and only A has a binding.
    assert list(stack.myogo.orders(shops.a.merchant_id)) == ["1001"]
    assert stack.myogo.orders(shops.b.merchant_id) == {}
    assert state.get_order_binding("shop-b", "1001") is None
    assert state.get_order_bindings("shop-b", ["1001"]) == {}

    # B can claim and record its own 1001 while A's is sent: the conditional writes are per integration.
    assert state.claim_order("shop-b", "1001", "1001", "token-b", utc_now(), 60) is None
    state.mark_order_sent(
        "shop-b",
        "1001",
        "token-b",
        WarehouseOrderState(id="guid-b", reference="1001", status="new"),
        utc_now(),
        was_held=False,
    )
    a_binding = state.get_order_binding("shop-a", "1001")
    assert a_binding is not None and a_binding.status is BindingStatus.SENT and a_binding.myogo_id != "guid-b"

    # A's order ships; A's myOGO webhook brings the shipment to A's store, never to B's order of the same number.
    stack.myogo.set_status(shops.a.merchant_id, "1001", "shipped")
    body = json.dumps({"type": "OrderShipped", "reference": "1001"}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-OGOship-Hmac-SHA256": sign_myogo_webhook(shops.keys["shop-a"], body),
    }
    assert shops.post("/webhooks/myogo/shop-a", body, headers).status_code < 300
    stack.run_flow(Flow.TRACKING)
    assert len(shops.a.centra.shipments("1001")) == 1
    assert shops.b.centra.shipments("1001") == []
    assert stack.tracking_state().get_tracking("shop-b", ["1001"])["1001"].myogo_status == "new"
