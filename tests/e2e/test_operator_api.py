"""The operator API over real HTTP on the local stack: every route answers its success, and refuses bad input
(wrong types, unknown ids, missing fields, oversized bodies) with a 4xx in the one error shape, naming the field,
having written nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ogosync.models import BindingStatus, Flow, TrackingStatus
from ogosync.operator.api import MAX_BODY_BYTES
from ogosync.timeutil import utc_now
from ogosync_local.stack import CentraMerchant, LocalStack
from tests.operator_api import RecordingClient, Snapshots, create_body, openapi_routes

pytestmark = pytest.mark.e2e
SIZE = "TS100BLKM"
INTEGRATION = "/integrations/{integration_id}"


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    with LocalStack(quiet=True) as local:
        yield local


@pytest.fixture(scope="module")
def api(stack: LocalStack) -> Iterator[RecordingClient]:
    with httpx.Client(base_url=stack.operator.base_url, timeout=30) as http:
        yield RecordingClient(http)


@pytest.fixture(scope="module")
def merchant(stack: LocalStack, api: RecordingClient) -> CentraMerchant:
    """A merchant with an integration created through the API, and one paid order."""
    shop = stack.add_centra_merchant("acme-centra", shipping_codes={"POSTI", "POSTI-EXPRESS"})
    shop.centra.add_product("TS100", "BLK", "M", ean="7350000000017", stock=10)
    stack.myogo.add_product(shop.merchant_id, SIZE, stock=10)
    created = api.call("POST", "/integrations", json=create_body(stack, shop))
    assert created.status_code == 201, created.text
    return shop


def _error(response: httpx.Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"status", "code", "message", "field"}
    assert (body["status"], body["code"]) == (status, code), body
    assert body["message"], "a message a person understands"
    if field is not None:
        assert body["field"] == field, body
    return body


# ---- successes: every route ---------------------------------------------------------------------


def test_every_route_of_the_set_up_and_status_answers(
    stack: LocalStack, api: RecordingClient, merchant: CentraMerchant
) -> None:
    iid = merchant.integration_id
    paid = merchant.centra.add_order([{"product": SIZE}], shipping_list="standard")["orderId"]
    express = merchant.centra.add_order([{"product": SIZE}], shipping_list="express")["orderId"]

    listed = api.call("GET", "/integrations").json()
    assert [i["id"] for i in listed] == [iid]
    assert api.call("GET", INTEGRATION, integration_id=iid).json()["status"] == "active"
    patched = api.call("PATCH", INTEGRATION, integration_id=iid, json={"settings": {"stock_sync_minutes": 15}})
    assert patched.json()["settings"]["stock_sync_minutes"] == 15
    assert patched.json()["settings"]["order_poll_minutes"] == 1
    assert api.call("POST", INTEGRATION + "/pause", integration_id=iid).json()["status"] == "paused"
    assert api.call("POST", INTEGRATION + "/resume", integration_id=iid).json()["status"] == "active"
    webhook = api.call("GET", INTEGRATION + "/webhook", integration_id=iid).json()
    assert webhook["url"] == f"{stack.gateway.base_url}/webhooks/centra/{iid}" and webhook["secret_configured"]

    mapping = {"store_method": "standard", "myogo_code": "POSTI"}
    assert api.call("PUT", INTEGRATION + "/shipping-mappings", integration_id=iid, json=mapping).status_code == 200
    methods = api.call("GET", INTEGRATION + "/shipping-methods", integration_id=iid).json()
    assert {(m["store_method"], m["myogo_code"]) for m in methods["methods"]} == {
        ("standard", "POSTI"),
        ("express", None),
    }
    run = api.call("POST", INTEGRATION + "/flows/{flow}/run", integration_id=iid, flow="orders")
    assert run.status_code == 202
    stack.run_flow(Flow.ORDERS)

    state = api.call("GET", INTEGRATION + "/status", integration_id=iid).json()
    orders_flow = next(f for f in state["flows"] if f["flow"] == "orders")
    assert (orders_flow["result"], orders_flow["last_counts"]) == ("ok", {"created": 1, "held": 1, "seen": 2})
    assert state["held_orders"] == 1
    held = api.call("GET", INTEGRATION + "/held-orders", integration_id=iid).json()
    assert [(h["order_id"], h["holds"][0]["reason"]) for h in held] == [(express, "unmapped_shipping_method")]
    history = api.call("GET", INTEGRATION + "/orders/{order_id}", integration_id=iid, order_id=paid).json()
    assert (history["status"], history["myogo"]["found"], history["store"]["state"]) == ("sent", True, "paid")

    express_mapping = {"store_method": "express", "myogo_code": "POSTI-EXPRESS"}
    api.call("PUT", INTEGRATION + "/shipping-mappings", integration_id=iid, json=express_mapping)
    released = api.call("POST", INTEGRATION + "/held-orders/{order_id}/release", integration_id=iid, order_id=express)
    assert released.status_code == 202 and released.json()["order_ids"] == [express]
    stack.run_order_workers()
    binding = stack.state().get_order_binding(iid, express)
    assert binding is not None and binding.status is BindingStatus.SENT
    assert api.call("POST", INTEGRATION + "/held-orders/release", integration_id=iid).json()["order_ids"] == []

    removed = api.call(
        "DELETE", INTEGRATION + "/shipping-mappings", integration_id=iid, params={"store_method": "express"}
    )
    assert removed.status_code == 204
    overview = api.call("GET", "/status").json()
    assert [i["integration_id"] for i in overview["integrations"]] == [iid]
    assert {q["queue"] for q in api.call("GET", "/queues").json()} == {
        "order-import",
        "orders-flow",
        "products-flow",
        "stock-flow",
        "tracking-flow",
    }
    assert api.call("POST", "/queues/{queue}/redrive", queue="order-import").json()["moved"] == 0


def test_a_held_order_is_kept_from_myogo_and_a_failed_one_retried(
    stack: LocalStack, api: RecordingClient, merchant: CentraMerchant
) -> None:
    iid = merchant.integration_id
    failed = merchant.centra.add_order([{"product": SIZE}], shipping_list="standard")["orderId"]
    state = stack.state()
    state.claim_order(iid, failed, failed, "worker-gone", utc_now(), 60)  # a worker lost myOGO's answer
    state.mark_order_failed(iid, failed, "worker-gone", "myOGO timed out", utc_now())
    retried = api.call("POST", INTEGRATION + "/orders/{order_id}/retry", integration_id=iid, order_id=failed)
    stack.run_order_workers()
    pickup = merchant.centra.add_order([{"product": SIZE}], shipping_list="pickup")["orderId"]
    stack.enqueue_flow(iid, Flow.ORDERS)
    stack.run_flow(Flow.ORDERS)
    stack.run_order_workers()  # pickup has no myOGO code: held

    kept = api.call("POST", INTEGRATION + "/orders/{order_id}/do-not-send", integration_id=iid, order_id=pickup)
    tracking = stack.tracking_state()
    tracking.claim_push(iid, failed, "pusher", utc_now(), 60)  # the store refused its shipment
    tracking.mark_push_failed(iid, failed, "pusher", TrackingStatus.REJECTED, "shipment refused", utc_now())
    stack.myogo.advance(2)  # shipped in myOGO
    pushed = api.call("POST", INTEGRATION + "/orders/{order_id}/retry-shipment", integration_id=iid, order_id=failed)
    stack.run_flow(Flow.TRACKING)

    assert (kept.status_code, kept.json()["status"]) == (200, "skipped")
    assert (retried.status_code, retried.json()["queued"]) == (202, True)
    sent = state.get_order_binding(iid, failed)
    assert sent is not None and sent.status is BindingStatus.SENT
    assert list(stack.myogo.orders(merchant.merchant_id)).count(failed) == 1
    assert pushed.status_code == 202
    assert tracking.get_tracking(iid, [failed])[failed].tracking_status is TrackingStatus.PUSHED


PRODUCTS = INTEGRATION + "/products"


def test_the_product_page_refreshes_lists_and_creates_in_the_background(
    stack: LocalStack, api: RecordingClient, merchant: CentraMerchant
) -> None:
    iid = merchant.integration_id
    merchant.centra.add_product("CAP", "RED", "", ean="7350000000020", name="Red cap")
    merchant.centra.add_product("", name="Gift card")
    snapshots = Snapshots(stack)

    queued = api.call("POST", PRODUCTS + "/refresh", integration_id=iid)
    before = snapshots.take()
    busy = api.call("POST", PRODUCTS + "/create", integration_id=iid, json={})
    assert snapshots.take() == before, "a refused request wrote nothing"
    assert stack.run_flow(Flow.PRODUCTS).failed == 0
    refreshed = api.call("GET", PRODUCTS + "/runs/latest", integration_id=iid).json()
    page = api.call("GET", PRODUCTS, integration_id=iid, params={"state": "not_in_myogo"}).json()
    errors = api.call("GET", PRODUCTS, integration_id=iid, params={"kind": "missing_sku"}).json()
    search = api.call("GET", PRODUCTS, integration_id=iid, params={"q": "ts100", "page_size": 1, "page": 1}).json()

    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    _error(busy, 409, "product_run_in_progress")
    assert (refreshed["run_id"], refreshed["status"]) == (queued.json()["run_id"], "succeeded")
    assert refreshed["counts"] | {} == {
        "not_in_myogo": 1, "in_myogo_unlinked": 1, "linked": 0, "changed": 0, "error": 1, "deleted_in_store": 0
    }  # fmt: skip
    assert [row["sku"] for row in page["rows"]] == ["CAPRED"] and page["matching"] == 1
    assert [row["name"] for row in errors["rows"]] == ["Gift card"]
    assert [row["sku"] for row in search["rows"]] == [SIZE] and not search["stale"]

    created = api.call("POST", PRODUCTS + "/create", integration_id=iid, json={"skus": ["CAPRED", SIZE]})
    assert stack.run_flow(Flow.PRODUCTS).failed == 0
    run = api.call("GET", PRODUCTS + "/runs/latest", integration_id=iid).json()

    assert created.status_code == 202 and created.json()["requested_skus"] == 2
    assert (run["status"], run["counts"], run["done"], run["total"]) == (
        "succeeded",
        {"created": 1, "updated": 1},
        2,
        2,
    )
    assert set(stack.myogo.products(merchant.merchant_id)) == {SIZE, "CAPRED"}
    assert api.call("GET", PRODUCTS, integration_id=iid).json()["stale"], "the list says a create ran since"


def test_delete_removes_the_integration_and_schedules_its_secret(stack: LocalStack, api: RecordingClient) -> None:
    shop = stack.add_centra_merchant("short-lived", shipping_codes={"POSTI"})
    api.call("POST", "/integrations", json=create_body(stack, shop))

    deleted = api.call("DELETE", INTEGRATION, integration_id="short-lived")

    assert deleted.status_code == 200 and deleted.json()["removed_items"] == 2  # CONFIG, its reference prefix claim
    _error(api.call("GET", INTEGRATION, integration_id="short-lived"), 404, "unknown_integration")
    secret = stack.aws.client("secretsmanager").describe_secret(SecretId=stack.aws.secret_name("short-lived"))
    assert "DeletedDate" in secret
    again = api.call("POST", "/integrations", json=create_body(stack, shop))
    assert again.status_code == 201, "the id and its secret can be taken again"


def test_dead_letters_are_redriven_to_their_queue(stack: LocalStack, api: RecordingClient) -> None:
    sqs = stack.aws.client("sqs")
    dlq = stack.aws.queue_urls["OrderPollDLQ"]
    for _ in range(3):
        sqs.send_message(QueueUrl=dlq, MessageBody='{"integration_id": "acme-centra"}')

    depth = {q["queue"]: q for q in api.call("GET", "/queues").json()}["orders-flow"]
    moved = api.call("POST", "/queues/{queue}/redrive", queue="orders-flow", params={"max_messages": 2}).json()

    assert depth["dead_letters"] == 3
    assert (moved["moved"], moved["dead_letters_left"]) == (2, 1)
    assert stack.queue_depth("OrderPollQueue") == 2
    sqs.purge_queue(QueueUrl=stack.aws.queue_urls["OrderPollQueue"])


def test_dead_letters_are_listed_and_redriven_or_discarded_one_by_one(stack: LocalStack, api: RecordingClient) -> None:
    sqs = stack.aws.client("sqs")
    dlq = stack.aws.queue_urls["OrderPollDLQ"]
    api.call("DELETE", "/queues/{queue}/dead-letters", queue="orders-flow")  # what the test before left
    for number in range(3):
        sqs.send_message(QueueUrl=dlq, MessageBody=f'{{"integration_id": "acme-centra", "n": {number}}}')

    listed = api.call("GET", "/queues/{queue}/dead-letters", queue="orders-flow").json()
    first, second, _ = (letter["message_id"] for letter in listed)
    moved = api.call("POST", "/queues/{queue}/dead-letters/{message_id}/redrive", queue="orders-flow", message_id=first)
    one = api.call("DELETE", "/queues/{queue}/dead-letters/{message_id}", queue="orders-flow", message_id=second)
    rest = api.call("DELETE", "/queues/{queue}/dead-letters", queue="orders-flow")

    assert len(listed) == 3 and all("acme-centra" in letter["body"] for letter in listed)
    assert (moved.json()["moved"], moved.json()["dead_letters_left"]) == (1, 2)
    assert (one.json()["discarded"], rest.json()["discarded"]) == (1, 1)
    assert stack.queue_depth("OrderPollQueue") == 1
    poll_queue = stack.aws.queue_urls["OrderPollQueue"]  # PurgeQueue: once a minute only
    for message in sqs.receive_message(QueueUrl=poll_queue, MaxNumberOfMessages=10)["Messages"]:
        sqs.delete_message(QueueUrl=poll_queue, ReceiptHandle=message["ReceiptHandle"])


def test_the_openapi_document_is_served_and_describes_the_error_shape(api: RecordingClient) -> None:
    document = api.http.get("/openapi.json").json()

    assert document["info"]["title"] == "ogosync operator API"
    assert document["components"]["schemas"]["ErrorBody"]["required"] == ["status", "code", "message"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert operation["responses"]["default"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorBody"
            }, (method, path)
    assert "HTTPValidationError" not in document["components"]["schemas"]


# ---- bad input: every route ---------------------------------------------------------------------


def _bad_requests(
    merchant: CentraMerchant, stack: LocalStack, routes: set[tuple[str, str]]
) -> list[tuple[str, str, dict[str, Any], int, str, str]]:
    """(method, template, request, status, code, field): the kinds of bad input of each route, then an unknown and
    an impossible integration id and an oversized body for every route of the OpenAPI document."""
    iid = merchant.integration_id
    good = create_body(stack, merchant, id="new-one")
    oversized = {"content": b'{"x": "' + b"a" * MAX_BODY_BYTES + b'"}'}
    cases: list[tuple[str, str, dict[str, Any], int, str, str]] = [
        # wrong types
        (
            "POST",
            "/integrations",
            {"json": good | {"settings": {"stock_sync_minutes": "often"}}},
            422,
            "invalid_request",
            "settings.stock_sync_minutes",
        ),
        ("POST", "/integrations", {"json": good | {"platform": "magento"}}, 422, "invalid_request", "platform"),
        ("POST", "/integrations", {"json": [good]}, 422, "invalid_request", "body"),
        ("POST", "/integrations", {"content": b"{not json"}, 422, "invalid_request", "body"),
        ("POST", "/integrations", {"content": b"\xff\xfe{}"}, 422, "invalid_request", "body"),
        (
            "PATCH",
            INTEGRATION,
            {"integration_id": iid, "json": {"settings": {"order_poll_minutes": -1}}},
            422,
            "invalid_request",
            "settings.order_poll_minutes",
        ),
        (
            "PATCH",
            INTEGRATION,
            {"integration_id": iid, "json": {"credentials": {"store_api_key": 7}}},
            422,
            "invalid_request",
            "credentials.store_api_key",
        ),
        ("PATCH", INTEGRATION, {"integration_id": iid, "json": {"colour": "red"}}, 422, "invalid_request", "colour"),
        (
            "PUT",
            INTEGRATION + "/shipping-mappings",
            {"integration_id": iid, "json": {"store_method": 1, "myogo_code": "X"}},
            422,
            "invalid_request",
            "store_method",
        ),
        (
            "DELETE",
            INTEGRATION + "/shipping-mappings",
            {"integration_id": iid, "params": {"store_method": ""}},
            422,
            "invalid_request",
            "store_method",
        ),
        (
            "GET",
            INTEGRATION + "/orders/{order_id}",
            {"integration_id": iid, "order_id": "1001", "params": {"live": "maybe"}},
            422,
            "invalid_request",
            "live",
        ),
        (
            "POST",
            INTEGRATION + "/flows/{flow}/run",
            {"integration_id": iid, "flow": "invoices"},
            422,
            "invalid_request",
            "flow",
        ),
        (
            "POST",
            "/queues/{queue}/redrive",
            {"queue": "order-import", "params": {"max_messages": "many"}},
            422,
            "invalid_request",
            "max_messages",
        ),
        (
            "POST",
            "/queues/{queue}/redrive",
            {"queue": "order-import", "params": {"max_messages": 5000}},
            422,
            "invalid_request",
            "max_messages",
        ),
        # missing fields
        (
            "POST",
            "/integrations",
            {"json": {k: v for k, v in good.items() if k != "warehouse"}},
            422,
            "invalid_request",
            "warehouse",
        ),
        (
            "POST",
            "/integrations",
            {"json": good | {"credentials": {"store_api_key": "k"}}},
            422,
            "invalid_request",
            "credentials.myogo_merchant_id",
        ),
        ("POST", "/integrations", {}, 422, "invalid_request", "body"),
        (
            "PUT",
            INTEGRATION + "/shipping-mappings",
            {"integration_id": iid, "json": {"store_method": "standard"}},
            422,
            "invalid_request",
            "myogo_code",
        ),
        ("DELETE", INTEGRATION + "/shipping-mappings", {"integration_id": iid}, 422, "invalid_request", "store_method"),
        # ids that do not exist or cannot exist
        ("POST", "/integrations", {"json": good | {"id": "Not An Id!"}}, 422, "invalid_request", "id"),
        ("GET", INTEGRATION, {"integration_id": "NOT_VALID"}, 422, "invalid_request", "integration_id"),
        (
            "GET",
            INTEGRATION + "/orders/{order_id}",
            {"integration_id": iid, "order_id": "9999999"},
            404,
            "unknown_order",
            "",
        ),
        (
            "GET",
            INTEGRATION + "/orders/{order_id}",
            {"integration_id": iid, "order_id": "-x"},
            422,
            "invalid_request",
            "order_id",
        ),
        (
            "POST",
            INTEGRATION + "/held-orders/{order_id}/release",
            {"integration_id": iid, "order_id": "9999999"},
            404,
            "unknown_order",
            "",
        ),
        (
            "POST",
            INTEGRATION + "/orders/{order_id}/do-not-send",
            {"integration_id": iid, "order_id": "9999999"},
            404,
            "unknown_order",
            "",
        ),
        (
            "POST",
            INTEGRATION + "/orders/{order_id}/retry-shipment",
            {"integration_id": iid, "order_id": "9999999"},
            404,
            "unknown_order",
            "",
        ),
        (
            "POST",
            INTEGRATION + "/orders/{order_id}/retry",
            {"integration_id": iid, "order_id": "-x"},
            422,
            "invalid_request",
            "order_id",
        ),
        (
            "DELETE",
            INTEGRATION + "/shipping-mappings",
            {"integration_id": iid, "params": {"store_method": "teleport"}},
            404,
            "unknown_shipping_mapping",
            "",
        ),
        ("POST", "/queues/{queue}/redrive", {"queue": "no-such-queue"}, 404, "unknown_queue", ""),
        (
            "GET",
            "/queues/{queue}/dead-letters",
            {"queue": "orders-flow", "params": {"limit": 0}},
            422,
            "invalid_request",
            "limit",
        ),
        ("GET", "/queues/{queue}/dead-letters", {"queue": "no-such-queue"}, 404, "unknown_queue", ""),
        (
            "POST",
            "/queues/{queue}/dead-letters/{message_id}/redrive",
            {"queue": "orders-flow", "message_id": "no-such-message"},
            404,
            "unknown_dead_letter",
            "",
        ),
        (
            "DELETE",
            "/queues/{queue}/dead-letters/{message_id}",
            {"queue": "orders-flow", "message_id": "bad id!"},
            422,
            "invalid_request",
            "message_id",
        ),
        ("DELETE", "/queues/{queue}/dead-letters", {"queue": "no-such-queue"}, 404, "unknown_queue", ""),
        # the product page
        (
            "POST",
            PRODUCTS + "/create",
            {"integration_id": iid, "json": {"skus": "CAPRED"}},
            422,
            "invalid_request",
            "skus",
        ),
        ("POST", PRODUCTS + "/create", {"integration_id": iid, "json": {"skus": []}}, 422, "invalid_request", "skus"),
        (
            "POST",
            PRODUCTS + "/create",
            {"integration_id": iid, "json": {"skus": [7]}},
            422,
            "invalid_request",
            "skus.0",
        ),
        ("POST", PRODUCTS + "/create", {"integration_id": iid, "json": {"sku": ["X"]}}, 422, "invalid_request", "sku"),
        ("POST", PRODUCTS + "/create", {"integration_id": iid}, 422, "invalid_request", "body"),
        ("GET", PRODUCTS, {"integration_id": iid, "params": {"state": "gone"}}, 422, "invalid_request", "state"),
        ("GET", PRODUCTS, {"integration_id": iid, "params": {"kind": "ugly"}}, 422, "invalid_request", "kind"),
        ("GET", PRODUCTS, {"integration_id": iid, "params": {"page": 0}}, 422, "invalid_request", "page"),
        ("GET", PRODUCTS, {"integration_id": iid, "params": {"page_size": "all"}}, 422, "invalid_request", "page_size"),
        ("GET", PRODUCTS, {"integration_id": iid, "params": {"q": ""}}, 422, "invalid_request", "q"),
        (
            "POST",
            INTEGRATION + "/flows/{flow}/run",
            {"integration_id": iid, "flow": "teleport"},
            422,
            "invalid_request",
            "flow",
        ),
        ("POST", "/integrations", {"json": create_body(stack, merchant)}, 409, "integration_exists", ""),
        # credentials the platforms refuse
        (
            "POST",
            "/integrations",
            {"json": good | {"credentials": merchant.secret_values | {"store_api_key": "wrong"}}},
            422,
            "credentials_check_failed",
            "credentials.store_api_key",
        ),
        (
            "POST",
            "/integrations",
            {"json": good | {"credentials": merchant.secret_values | {"myogo_secret_token": "wrong"}}},
            422,
            "credentials_check_failed",
            "credentials.myogo_secret_token",
        ),
        (
            "PATCH",
            INTEGRATION,
            {"integration_id": iid, "json": {"store_base_url": "http://127.0.0.1:9/api"}},
            422,
            "credentials_check_failed",
            "store_base_url",
        ),
    ]
    valid = {  # what each route needs besides its path to get past validation
        ("patch", INTEGRATION): {"json": {"merchant_name": "Renamed"}},
        ("put", INTEGRATION + "/shipping-mappings"): {"json": {"store_method": "a", "myogo_code": "b"}},
        ("delete", INTEGRATION + "/shipping-mappings"): {"params": {"store_method": "a"}},
        ("post", PRODUCTS + "/create"): {"json": {"skus": ["X"]}},
    }
    for method, template in sorted(routes):
        values = {
            "integration_id": "ghost-shop",
            "order_id": "1001",
            "flow": "orders",
            "queue": "order-import",
            "message_id": "m-1",
        }
        if "{integration_id}" in template:
            request = values | valid.get((method, template), {})
            cases.append((method.upper(), template, request, 404, "unknown_integration", ""))
            impossible = request | {"integration_id": "Ghost_Shop"}
            cases.append((method.upper(), template, impossible, 422, "invalid_request", "integration_id"))
        cases.append((method.upper(), template, values | oversized, 413, "body_too_large", ""))
    return cases


def test_bad_input_is_refused_with_a_clear_4xx_and_nothing_is_written(
    stack: LocalStack, api: RecordingClient, merchant: CentraMerchant
) -> None:
    cases = _bad_requests(merchant, stack, openapi_routes(api.http.get("/openapi.json").json()))
    snapshots = Snapshots(stack)
    for method, template, request, status, code, field in cases:
        before = snapshots.take()
        params, values = request.get("params"), {k: v for k, v in request.items() if k != "params"}
        response = api.call(method, template, params=params, **values)
        assert response.status_code == status, f"{method} {template} {request}: {response.text}"
        _error(response, status, code, field or None)
        assert snapshots.take() == before, f"{method} {template} {request} wrote something"


def test_every_route_in_the_openapi_document_has_success_and_bad_input_tests(
    stack: LocalStack, api: RecordingClient, merchant: CentraMerchant
) -> None:
    """Unknown ids, impossible ids and oversized bodies are tried on every route of the document; a route that takes
    more input (a body, a query or another path parameter) must also have cases of its own."""
    document = api.http.get("/openapi.json").json()
    taking_more_input = {
        (method, path)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if "requestBody" in operation or {p["name"] for p in operation.get("parameters", [])} - {"integration_id"}
    }
    own_cases = {(method.lower(), template) for method, template, *_ in _bad_requests(merchant, stack, set())}

    assert taking_more_input - own_cases == set(), "routes whose own input is never tried bad"
    # The success tests of this module called every route (they ran before this one: module order).
    assert openapi_routes(document) - api.called == set(), "routes never called"


def test_unknown_routes_and_methods_are_404_in_the_error_shape(api: RecordingClient) -> None:
    _error(api.http.get("/nothing/here"), 404, "no_such_route")
    _error(api.http.request("PATCH", "/queues"), 404, "no_such_route")
    _error(
        api.http.post("/integrations", content=b"id=1", headers={"Content-Type": "text/plain"}),
        415,
        "unsupported_media_type",
    )
