"""The product flow on the local stack: the real handlers, real HTTP to the simulators, DynamoDB in moto."""

from __future__ import annotations

import zlib
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from ogosync import jobs
from ogosync.models import Flow, HoldReason, IntegrationSettings
from ogosync.state.skus import DynamoSkuBindings
from ogosync_local.sim import FaultRule
from ogosync_local.stack import CentraSetup, LocalStack

pytestmark = pytest.mark.e2e
MYOGO_PUT = "PUT /api/v1/Products/{code}"
MYOGO_POST = "POST /api/v1/Products"


def _store(stack: LocalStack, **settings: Any) -> CentraSetup:
    return stack.add_centra_store(
        "acme-centra",
        shipping_map={"standard": "POSTI"},
        settings=IntegrationSettings(
            order_poll_minutes=1, product_url_template="https://acme.example/p/{sku}", **settings
        ),
    )


def _add_sizes(setup: CentraSetup, sku: str, sizes: str, first_ean: int) -> None:
    for offset, size in enumerate(sizes.split()):
        setup.centra.add_product(
            sku, "BLK", size, ean=str(first_ean + offset), name=f"{sku} tee", variant="Black", size=size,
            description=f"{sku} in organic cotton", price=29.9, currency="EUR", stock=10,
        )  # fmt: skip


def _bindings(stack: LocalStack, setup: CentraSetup) -> dict[str, str | None]:
    repo = DynamoSkuBindings(stack.aws.client("dynamodb"), stack.aws.table_name)
    return {binding.sku: binding.content_hash for binding in repo.all_sku_bindings(setup.integration.id)}


def _admin(
    stack: LocalStack, setup: CentraSetup, action: str, states: list[str] | None = None, **body: Any
) -> dict[str, Any]:
    """The merchant's "Refresh" (then the list, in `states`) or "Create product" (then its run) through the operator
    API, the queued job run by the product worker."""
    products = f"{stack.operator.base_url}/integrations/{setup.integration.id}/products"
    queued = httpx.post(f"{products}/{action}", json=body, timeout=30)
    assert queued.status_code == 202, queued.text
    assert stack.run_flow(Flow.PRODUCTS).failed == 0
    if action == "create":
        run: dict[str, Any] = httpx.get(f"{products}/runs/latest").json()
        assert run["status"] == "succeeded", run
        return run
    rows: list[dict[str, Any]] = []
    for state in states or [None]:
        params = {"page_size": 500} | ({"state": state} if state else {})
        page: dict[str, Any] = httpx.get(products, params=params).json()
        rows += page["rows"]
    return page | {"rows": rows}


def test_refresh_create_then_the_schedule_sends_only_what_changed(stack: LocalStack) -> None:
    setup = _store(stack)
    _add_sizes(setup, "TS100", "S M L", 7350000000010)
    setup.centra.add_product("CAP", "RED", "", ean="7350000000020", name="Cap")
    setup.centra.add_product("CA", "PRED", "", ean="7350000000021", name="Other cap")  # also "CAPRED"
    setup.centra.add_product("", ean="", name="Gift card")  # no SKU at all
    setup.centra.add_product("SCARF", ean="7350000000030", extra={"name": "", "product": ""})  # myOGO needs a name

    refreshed = _admin(stack, setup, action="refresh")
    created = _admin(stack, setup, action="create")
    errors = _admin(stack, setup, action="refresh", states=["error"])

    assert refreshed["counts"]["not_in_myogo"] == 4 and refreshed["counts"]["error"] == 3
    assert created["counts"] == {"created": 3, "refused": 1, "duplicate_sku": 2, "missing_sku": 1, "inactive": 0}
    products = stack.myogo.products(setup.merchant_id)
    assert sorted(products) == ["TS100BLKL", "TS100BLKM", "TS100BLKS"]
    medium = products["TS100BLKM"]
    assert (medium["name"], medium["description"], medium["eanCode"]) == (
        "TS100 tee / Black / M",
        "TS100 in organic cotton",
        "7350000000011",
    )
    assert (medium["salesPrice"], medium["currencyCode"], medium["languageCode"]) == (29.9, "EUR", "en")
    assert medium["infoUrl"] == "https://acme.example/p/TS100BLKM"
    assert medium["pictureUrl"] == "https://cdn.centra.invalid/TS100BLK.jpg"
    assert sorted(_bindings(stack, setup)) == ["TS100BLKL", "TS100BLKM", "TS100BLKS"]
    messages = {row["sku"]: [p["detail"] for p in row["problems"]] for row in errors["rows"]}
    assert messages["7350000000030"] == ["Product name is required"]  # myOGO's own words
    assert len([row for row in errors["rows"] if row["sku"] == "CAPRED"]) == 2

    setup.centra.update_product("TS100BLKM", description="Now 100% organic")
    setup.centra.update_product("TS100BLKL", prices=[{"id": 19, "pricelist": "EUR", "price": 24.9, "currency": "EUR"}])
    setup.centra.delete_product("TS100BLKS")
    stack.myogo.reset_calls()
    stack.enqueue_flow(setup.integration.id, Flow.PRODUCTS)
    stack.run_flow(Flow.PRODUCTS)

    assert stack.myogo.calls == Counter({MYOGO_PUT: 2})  # exactly the two changed products, nothing else
    products = stack.myogo.products(setup.merchant_id)
    assert products["TS100BLKM"]["description"] == "Now 100% organic"
    assert products["TS100BLKL"]["salesPrice"] == 24.9
    assert "TS100BLKS" in products  # deleted in the store, left in myOGO
    cursor = stack.state().get_cursor(setup.integration.id, Flow.PRODUCTS)
    assert cursor.last_counts["updated"] == 2 and cursor.last_counts["deleted_in_store"] == 1

    stack.myogo.reset_calls()
    stack.enqueue_flow(setup.integration.id, Flow.PRODUCTS)
    stack.run_flow(Flow.PRODUCTS)
    assert sum(stack.myogo.calls.values()) == 0  # nothing changed in the store: myOGO is not called at all
    deleted = _admin(stack, setup, action="refresh", states=["deleted_in_store"])
    assert [row["sku"] for row in deleted["rows"]] == ["TS100BLKS"]


def test_a_503_midway_leaves_true_bindings_and_the_next_run_sends_only_the_rest(stack: LocalStack) -> None:
    setup = _store(stack, create_new_products=True)
    for n in range(60):
        setup.centra.add_product(f"P{n:03d}", ean=f"73500{n:08d}", name=f"Product {n}")
    stack.myogo.faults.add_rule(FaultRule(method="POST", path_prefix="/api/v1/Products", status=503, skip=29))

    stack.enqueue_flow(setup.integration.id, Flow.PRODUCTS)
    failed = stack.run_flow(Flow.PRODUCTS)

    assert failed.failed == 1
    in_myogo = set(stack.myogo.products(setup.merchant_id))
    assert len(in_myogo) == 29 and set(_bindings(stack, setup)) == in_myogo
    assert "503" in (stack.state().get_cursor(setup.integration.id, Flow.PRODUCTS).last_error or "")

    retried = stack.run_flow(Flow.PRODUCTS, redeliver_failures=True)  # SQS redelivers the job after its visibility

    assert retried.failed == 0 and len(stack.myogo.products(setup.merchant_id)) == 60
    assert len(_bindings(stack, setup)) == 60
    assert stack.myogo.calls[MYOGO_POST] == 29 + 1 + 31  # the first 29 were not sent again
    assert stack.queue_depth("ProductSyncQueue") == stack.queue_depth("ProductSyncDLQ") == 0


def test_orders_use_the_bindings_and_a_product_added_after_the_sync_holds_its_order(stack: LocalStack) -> None:
    setup = _store(stack)
    _add_sizes(setup, "TS100", "M L", 7350000000010)
    _admin(stack, setup, action="create")
    setup.centra.add_product("NEW1", ean="7350000000099", name="New arrival")  # create_new_products is off
    stack.enqueue_flow(setup.integration.id, Flow.PRODUCTS)
    stack.run_flow(Flow.PRODUCTS)
    bound = setup.centra.add_order([{"product": "TS100BLKM"}, {"product": "TS100BLKL"}])["orderId"]
    unbound = setup.centra.add_order([{"product": "7350000000099"}])["orderId"]
    stack.myogo.reset_calls()

    setup.centra.deliver_webhooks()
    stack.run_order_workers()

    assert [order["reference"] for order in stack.myogo.orders(setup.merchant_id).values()] == [bound]
    assert stack.myogo.calls["GET /api/v1/Products"] == 1  # only the unbound SKU was asked about
    held = stack.state().get_order_binding(setup.integration.id, unbound)
    assert held is not None and held.holds[0].reason is HoldReason.UNKNOWN_SKU
    assert "7350000000099" in held.holds[0].detail


def test_a_create_job_delivered_twice_runs_once(stack: LocalStack) -> None:
    setup = _store(stack, create_new_products=True)
    _add_sizes(setup, "TS100", "M", 7350000000010)
    products = f"{stack.operator.base_url}/integrations/{setup.integration.id}/products"
    queue = stack.aws.queue_urls["ProductSyncQueue"]
    httpx.post(f"{products}/create", json={"skus": ["TS100BLKM"]}).raise_for_status()
    message = stack.aws.client("sqs").receive_message(QueueUrl=queue, VisibilityTimeout=0)["Messages"][0]
    stack.aws.client("sqs").send_message(QueueUrl=queue, MessageBody=message["Body"])  # SQS delivers it twice

    report = stack.run_flow(Flow.PRODUCTS)

    assert (report.received, report.failed) == (2, 0)
    assert stack.myogo.calls[MYOGO_POST] == 1, "created once"
    assert httpx.get(f"{products}/runs/latest").json()["counts"] == {"created": 1}


def test_the_scheduler_feeds_the_product_queue_when_an_integration_is_due(stack: LocalStack) -> None:
    setup = _store(stack, create_new_products=True)
    _add_sizes(setup, "TS100", "M", 7350000000010)
    slot = (
        zlib.crc32(f"{setup.integration.id}:{Flow.PRODUCTS}".encode()) % setup.integration.settings.product_sync_minutes
    )
    due = datetime(2026, 11, 27, 9, slot, tzinfo=UTC)

    jobs.schedule(due)
    report = stack.run_flow(Flow.PRODUCTS)

    assert (report.received, report.failed) == (1, 0)
    assert sorted(stack.myogo.products(setup.merchant_id)) == ["TS100BLKM"]
