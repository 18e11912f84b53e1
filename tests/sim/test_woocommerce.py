"""The WooCommerce simulator over real HTTP: auth quirks, paging, orders and stock at checkout, products and batch
limits, Shipment Tracking routes, webhooks and the control surface."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ogosync_local.sim import FaultRule, ManualClock
from ogosync_local.sim.woocommerce import WooCommerceSimulator, sign_woocommerce_webhook

from .conftest import Receiver

KEY, SECRET, HOOK_SECRET = "ck_test", "cs_test", "hook-secret"
API = "/wp-json/wc/v3"


@pytest.fixture
def woo(clock: ManualClock) -> Iterator[WooCommerceSimulator]:
    with WooCommerceSimulator(consumer_key=KEY, consumer_secret=SECRET, clock=clock) as sim:
        yield sim


@pytest.fixture
def http(woo: WooCommerceSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=woo.root_url + API, auth=(KEY, SECRET), timeout=5) as client:
        yield client


def catalog(woo: WooCommerceSimulator) -> dict[str, Any]:
    """A simple product and a variable one with two variations (one inheriting the parent's empty EAN)."""
    mug = woo.add_product(
        "Mug",
        sku="MUG",
        global_unique_id="6400000000011",
        price="9.90",
        image="https://example.com/mug.jpg",
        stock_quantity=10,
        meta={"_nettivarasto_no_export": "no"},
    )
    tee = woo.add_product(
        "Tee",
        description="<p>Soft <b>cotton</b></p>",
        meta={"_nettivarasto_eancode": "6400000000028"},
        variations=[
            {"sku": "TEE-S", "price": "19.90", "attributes": {"Size": "S"}, "stock_quantity": 5},
            {"sku": "TEE-M", "price": "21.90", "attributes": {"Size": "M"}, "stock_quantity": 7},
        ],
    )
    return {"mug": mug, "tee": tee}


# -- index, auth and permalinks ---------------------------------------------------------------------------------------
def test_the_index_lists_wc_v3_and_the_tracking_namespace_only_when_the_extension_is_on(
    woo: WooCommerceSimulator,
) -> None:
    assert "wc/v3" in httpx.get(f"{woo.root_url}/wp-json/").json()["namespaces"]
    assert "wc-shipment-tracking/v3" not in httpx.get(f"{woo.root_url}/wp-json/").json()["namespaces"]
    woo.configure(shipment_tracking=True)
    assert "wc-shipment-tracking/v3" in httpx.get(f"{woo.root_url}/wp-json/").json()["namespaces"]
    routes = httpx.get(f"{woo.root_url}/wp-json/wc/v3/").json()["routes"]
    assert "/wc/v3/orders" in routes and "/wc/v3/products/{id}/variations/batch" in routes


@pytest.mark.parametrize(
    ("auth", "code", "message"),
    [
        (None, "woocommerce_rest_authentication_error", "Consumer key is missing."),
        ((KEY, "x"), "woocommerce_rest_authentication_error", "Consumer secret is invalid."),
        (("nope", SECRET), "woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    ],
)
def test_missing_or_wrong_keys_give_401_with_the_woocommerce_error(
    woo: WooCommerceSimulator, auth: tuple[str, str] | None, code: str, message: str
) -> None:
    response = httpx.get(f"{woo.root_url}{API}/orders", auth=auth)
    assert response.status_code == 401
    assert response.json() == {"code": code, "message": message, "data": {"status": 401}}


def test_a_stripped_authorization_header_needs_the_query_string_keys(woo: WooCommerceSimulator) -> None:
    woo.configure(strip_authorization=True)
    basic = httpx.get(f"{woo.root_url}{API}/orders", auth=(KEY, SECRET))
    assert basic.status_code == 401 and basic.json()["message"] == "Consumer key is missing."
    query = httpx.get(f"{woo.root_url}{API}/orders", params={"consumer_key": KEY, "consumer_secret": SECRET})
    assert query.status_code == 200 and query.json() == []


def test_query_string_keys_are_checked_before_the_authorization_header(woo: WooCommerceSimulator) -> None:
    wrong_query = {"consumer_key": KEY, "consumer_secret": "wrong"}
    response = httpx.get(f"{woo.root_url}{API}/orders", params=wrong_query, auth=(KEY, SECRET))
    assert response.status_code == 401 and response.json()["message"] == "Consumer secret is invalid."


def test_a_read_only_key_reads_but_may_not_write(woo: WooCommerceSimulator) -> None:
    woo.add_key("ck_read", "cs_read", "read")
    order = woo.add_order([{"name": "Gift card", "price": "5.00"}])
    url = f"{woo.root_url}{API}/orders/{order['id']}"
    assert httpx.get(url, auth=("ck_read", "cs_read")).status_code == 200
    write = httpx.put(url, auth=("ck_read", "cs_read"), json={"status": "completed"})
    assert write.status_code == 401
    assert write.json()["message"] == "The API key provided does not have write permissions."
    assert woo.order(order["id"])["status"] == "processing"


def test_plain_permalinks_leave_wp_json_unrouted(woo: WooCommerceSimulator, http: httpx.Client) -> None:
    woo.configure(plain_permalinks=True)
    for response in (httpx.get(f"{woo.root_url}/wp-json/"), http.get("/orders")):
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("text/html")
    woo.configure(plain_permalinks=False)
    assert http.get("/orders").status_code == 200


def test_the_rest_route_query_reaches_the_api_with_plain_permalinks(woo: WooCommerceSimulator) -> None:
    woo.configure(plain_permalinks=True)
    woo.add_order([{"name": "Item", "price": "1.00"}])
    index = httpx.get(f"{woo.root_url}/", params={"rest_route": "/"})
    assert "wc/v3" in index.json()["namespaces"]
    orders = httpx.get(f"{woo.root_url}/", params={"rest_route": "/wc/v3/orders", "per_page": 1}, auth=(KEY, SECRET))
    assert orders.status_code == 200 and orders.headers["X-WP-Total"] == "1"


def test_an_unknown_route_is_rest_no_route(http: httpx.Client) -> None:
    response = http.get("/coupons")
    assert response.status_code == 404 and response.json()["code"] == "rest_no_route"


# -- orders ---------------------------------------------------------------------------------------------------------
def test_orders_page_with_wp_headers_and_per_page_is_capped_at_100(
    woo: WooCommerceSimulator, http: httpx.Client, clock: ManualClock
) -> None:
    for _ in range(5):
        woo.add_order([{"name": "Item", "price": "1.00"}])
        clock.advance(1)
    first = http.get("/orders", params={"per_page": 2, "orderby": "id", "order": "asc"})
    assert (first.headers["X-WP-Total"], first.headers["X-WP-TotalPages"]) == ("5", "3")
    assert 'rel="next"' in first.headers["Link"]
    following = http.get(first.links["next"]["url"])  # the Link keeps the other parameters
    assert (
        following.headers["X-WP-TotalPages"] == "3" and [row["id"] for row in following.json()] == woo.order_ids()[2:4]
    )
    last = http.get("/orders", params={"per_page": 2, "page": 3, "orderby": "id", "order": "asc"}).json()
    assert [row["id"] for row in last] == [woo.order_ids()[4]]
    assert http.get("/orders", params={"per_page": 100}).status_code == 200
    too_many = http.get("/orders", params={"per_page": 101})
    assert too_many.status_code == 400 and too_many.json()["code"] == "rest_invalid_param"


def test_modified_after_filters_strictly_in_gmt_or_site_time(
    woo: WooCommerceSimulator, http: httpx.Client, clock: ManualClock
) -> None:
    old = woo.add_order([{"name": "Item", "price": "1.00"}])
    clock.advance(60)
    new = woo.add_order([{"name": "Item", "price": "1.00"}])
    since = old["date_modified_gmt"]
    gmt = http.get("/orders", params={"modified_after": since, "dates_are_gmt": "true"}).json()
    assert [row["id"] for row in gmt] == [new["id"]]
    local = http.get("/orders", params={"modified_after": old["date_modified"]}).json()
    assert [row["id"] for row in local] == [new["id"]]
    assert old["date_modified"] != old["date_modified_gmt"]  # Helsinki is ahead of GMT: the two differ


def test_the_status_filter_takes_a_comma_list_and_fields_project(woo: WooCommerceSimulator, http: httpx.Client) -> None:
    woo.add_order([{"name": "A", "price": "1.00"}], status="pending")
    held = woo.add_order([{"name": "B", "price": "1.00"}], status="on-hold")
    paid = woo.add_order([{"name": "C", "price": "1.00"}], shipping_method="DHL Express")
    rows = http.get("/orders", params={"status": "processing,on-hold", "_fields": "status,shipping_lines.method_title"})
    assert sorted((row["id"], row["status"]) for row in rows.json()) == [
        (held["id"], "on-hold"),
        (paid["id"], "processing"),
    ]
    assert set(rows.json()[0]) == {"id", "status", "shipping_lines"}
    assert {line["method_title"] for row in rows.json() for line in row["shipping_lines"]} == {
        "Flat rate",
        "DHL Express",
    }
    assert http.get("/orders", params={"status": "paid"}).status_code == 400


def test_checkout_reduces_managed_stock_and_cancelling_restores_it(woo: WooCommerceSimulator) -> None:
    catalog(woo)
    woo.add_order([{"sku": "TEE-S", "quantity": 2}], status="pending")
    assert woo.stock("TEE-S")["stock_quantity"] == 5  # not yet paid: nothing reduced
    order = woo.add_order([{"sku": "TEE-S", "quantity": 2}, {"sku": "MUG", "quantity": 1}])
    assert (woo.stock("TEE-S")["stock_quantity"], woo.stock("MUG")["stock_quantity"]) == (3, 9)
    line = order["line_items"][0]
    assert (line["sku"], line["name"], line["price"]) == ("TEE-S", "Tee - S", 19.9)
    woo.cancel_order(order["id"])
    assert (woo.stock("TEE-S")["stock_quantity"], woo.stock("MUG")["stock_quantity"]) == (5, 10)


def test_put_merges_meta_by_key_changes_status_and_records_the_email(
    woo: WooCommerceSimulator, http: httpx.Client
) -> None:
    order = woo.add_order([{"name": "Item", "price": "1.00"}], meta={"ogoship_tracking": "old", "other": "kept"})
    body = {
        "status": "completed",
        "meta_data": [
            {"key": "ogoship_tracking", "value": "JJFI123"},
            {"key": "ogoship_tracking_url", "value": "https://t.example/JJFI123"},
        ],
    }
    answer = http.put(f"/orders/{order['id']}", json=body)
    assert answer.status_code == 200
    meta = {row["key"]: row["value"] for row in answer.json()["meta_data"]}
    assert meta == {"ogoship_tracking": "JJFI123", "other": "kept", "ogoship_tracking_url": "https://t.example/JJFI123"}
    assert len(answer.json()["meta_data"]) == 3
    read = woo.order(order["id"])
    assert read["status"] == "completed" and read["emails"] == ["customer_processing_order", "customer_completed_order"]
    bad = http.put(f"/orders/{order['id']}", json={"status": "shipped"})
    assert bad.status_code == 400 and bad.json()["code"] == "rest_invalid_param"


def test_an_unknown_order_is_the_documented_invalid_id(http: httpx.Client) -> None:
    response = http.get("/orders/999999")
    assert response.status_code == 404
    assert response.json() == {
        "code": "woocommerce_rest_shop_order_invalid_id",
        "message": "Invalid ID.",
        "data": {"status": 404},
    }


def test_order_notes_are_kept_and_a_customer_note_emails(woo: WooCommerceSimulator, http: httpx.Client) -> None:
    order = woo.add_order([{"name": "Item", "price": "1.00"}])
    made = http.post(f"/orders/{order['id']}/notes", json={"note": "Shipped: Posti JJFI1", "customer_note": True})
    assert made.status_code == 201 and made.json()["customer_note"] is True
    assert http.post(f"/orders/{order['id']}/notes", json={}).status_code == 400
    assert [note["note"] for note in http.get(f"/orders/{order['id']}/notes").json()] == ["Shipped: Posti JJFI1"]
    assert woo.order(order["id"])["emails"][-1] == "customer_note"


# -- products -------------------------------------------------------------------------------------------------------
def test_products_and_variations_carry_what_the_product_flow_reads(
    woo: WooCommerceSimulator, http: httpx.Client
) -> None:
    made = catalog(woo)
    mug = http.get("/products", params={"sku": "MUG"}).json()
    assert len(mug) == 1 and mug[0]["global_unique_id"] == "6400000000011"
    assert mug[0]["permalink"] == f"{woo.root_url}/product/mug/" and mug[0]["images"][0]["src"].endswith("mug.jpg")
    assert (mug[0]["manage_stock"], mug[0]["stock_quantity"], mug[0]["price"]) == (True, 10, "9.90")
    tee_id = made["tee"]["id"]
    tee = http.get(f"/products/{tee_id}").json()
    assert tee["type"] == "variable" and len(tee["variations"]) == 2 and tee["price"] == "19.90"
    assert {"key": "_nettivarasto_eancode", "value": "6400000000028"}.items() <= tee["meta_data"][0].items()
    page = http.get(f"/products/{tee_id}/variations", params={"per_page": 1, "_fields": "sku,global_unique_id"})
    assert page.headers["X-WP-TotalPages"] == "2" and set(page.json()[0]) == {"id", "sku", "global_unique_id"}
    by_sku = http.get("/products", params={"sku": "TEE-S,MUG"}).json()  # a SKU filter finds variations too
    assert sorted((row["sku"], row["type"]) for row in by_sku) == [("MUG", "simple"), ("TEE-S", "variation")]
    assert [row["sku"] for row in http.get("/products", params={"type": "variable"}).json()] == [""]


def test_a_variation_managed_by_its_parent_shares_the_parents_stock(woo: WooCommerceSimulator) -> None:
    made = woo.add_product("Cap", manage_stock=True, variations=[{"sku": "CAP-1", "manage_stock": "parent"}])
    woo.set_stock("CAP-1", 4)
    woo.add_order([{"sku": "CAP-1", "quantity": 1}])
    assert woo.stock("CAP-1") == {"sku": "CAP-1", "manage_stock": True, "stock_quantity": 3}
    assert made["variation_details"][0]["manage_stock"] == "parent"


def test_a_batch_updates_stock_and_reports_unknown_or_failing_ids_inside_a_200(
    woo: WooCommerceSimulator, http: httpx.Client
) -> None:
    made = catalog(woo)
    tee_id = made["tee"]["id"]
    small, medium = (variation["id"] for variation in made["tee"]["variation_details"])
    woo.fail_ids([medium])
    body = {"update": [{"id": small, "stock_quantity": 50}, {"id": medium, "stock_quantity": 60}, {"id": 4242}]}
    answer = http.post(f"/products/{tee_id}/variations/batch", json=body)
    assert answer.status_code == 200
    rows = answer.json()["update"]
    assert rows[0]["stock_quantity"] == 50 and "error" not in rows[0]
    assert rows[1]["id"] == medium and rows[1]["error"]["code"] == "woocommerce_rest_cannot_edit"
    assert rows[2] == {
        "id": 4242,
        "error": {
            "code": "woocommerce_rest_product_variation_invalid_id",
            "message": "Invalid ID.",
            "data": {"status": 400},
        },
    }
    assert woo.stock("TEE-M")["stock_quantity"] == 7
    products = http.post("/products/batch", json={"update": [{"id": 4242, "stock_quantity": 1}]}).json()
    assert products["update"][0]["error"]["code"] == "woocommerce_rest_product_invalid_id"
    assert woo.batch_sizes == [3, 1]
    assert woo.batch_item_errors == 3  # the failing id, the unknown variation, the unknown product


def test_a_batch_over_the_limit_counts_all_three_arrays_and_is_refused_with_413(
    woo: WooCommerceSimulator, http: httpx.Client
) -> None:
    mug_id = catalog(woo)["mug"]["id"]
    woo.configure(batch_limit=3)
    body = {
        "create": [{"name": "New", "sku": "NEW"}],
        "update": [{"id": mug_id, "stock_quantity": 1}] * 2,
        "delete": [1],
    }
    refused = http.post("/products/batch", json=body)
    assert refused.status_code == 413
    assert refused.json() == {
        "code": "woocommerce_rest_request_entity_too_large",
        "message": "Unable to accept more than 3 items for this request.",
        "data": {"status": 413},
    }
    assert woo.stock("MUG")["stock_quantity"] == 10 and woo.batch_refusals == 1
    body["delete"] = []
    accepted = http.post("/products/batch", json=body).json()
    assert accepted["create"][0]["sku"] == "NEW" and "delete" not in accepted  # an empty array has no answer
    assert woo.stock("MUG")["stock_quantity"] == 1 and woo.calls["POST /wp-json/wc/v3/products/batch"] == 2


def test_a_sale_before_the_next_stock_write_lands_between_read_and_write(
    woo: WooCommerceSimulator, http: httpx.Client
) -> None:
    mug_id = catalog(woo)["mug"]["id"]
    assert woo.sell("MUG", 2, before_next_stock_write=True) is None
    assert woo.stock("MUG")["stock_quantity"] == 10
    http.post("/products/batch", json={"update": [{"id": mug_id, "stock_quantity": 10}]})
    assert woo.stock("MUG")["stock_quantity"] == 10  # the absolute write overwrote the sale: no compare-and-swap
    assert len(woo.order_ids()) == 1
    assert woo.sales_before_writes == [{"sku": "MUG", "quantity": 2, "written": 10}]


def test_a_batch_refuses_a_duplicate_sku_per_item_and_deletes_by_id(
    woo: WooCommerceSimulator, http: httpx.Client
) -> None:
    made = catalog(woo)
    body = {"create": [{"name": "Copy", "sku": "TEE-S"}], "update": [{"id": made["mug"]["id"], "sku": "TEE-M"}]}
    answer = http.post("/products/batch", json=body).json()
    assert answer["create"][0] == {
        "id": 0,
        "error": {"code": "product_invalid_sku", "message": "Invalid or duplicated SKU.", "data": {"status": 400}},
    }
    assert answer["update"][0]["error"]["code"] == "product_invalid_sku" and woo.stock("MUG")["sku"] == "MUG"
    deleted = http.post("/products/batch", json={"delete": [made["mug"]["id"], 0]}).json()
    assert [row["sku"] for row in deleted["delete"]] == ["MUG"]
    assert http.get(f"/products/{made['mug']['id']}").json()["code"] == "woocommerce_rest_product_invalid_id"


def test_a_single_put_writes_all_or_nothing(woo: WooCommerceSimulator, http: httpx.Client) -> None:
    made = catalog(woo)
    small = made["tee"]["variation_details"][0]["id"]
    url = f"/products/{made['tee']['id']}/variations/{small}"
    bad = http.put(url, json={"stock_quantity": 1, "meta_data": "not a list"})
    assert bad.status_code == 400 and bad.json()["code"] == "rest_invalid_param"
    assert woo.stock("TEE-S")["stock_quantity"] == 5
    good = http.put(url, json={"stock_quantity": 1, "meta_data": [{"key": "_nettivarasto_no_export", "value": "yes"}]})
    assert good.json()["stock_quantity"] == 1 and good.json()["stock_status"] == "instock"
    assert http.put(url, json={"stock_quantity": 0}).json()["stock_status"] == "outofstock"
    assert http.get(f"/products/{made['tee']['id']}/variations/999").status_code == 404


# -- Shipment Tracking ----------------------------------------------------------------------------------------------
def test_shipment_tracking_routes_exist_only_with_the_extension(woo: WooCommerceSimulator) -> None:
    order = woo.add_order([{"name": "Item", "price": "1.00"}])
    url = f"{woo.root_url}/wp-json/wc-shipment-tracking/v3/orders/{order['id']}/shipment-trackings"
    assert httpx.get(url, auth=(KEY, SECRET)).status_code == 404
    woo.configure(shipment_tracking=True)
    known = {"tracking_provider": "Posti", "tracking_number": "JJFI1", "tracking_link": "https://ignored.example"}
    custom = {
        "custom_tracking_provider": "Matkahuolto",
        "custom_tracking_link": "https://mh.example/2",
        "tracking_number": "MH2",
    }
    first = httpx.post(url, auth=(KEY, SECRET), json=known)
    assert (
        first.status_code == 201 and first.json()["tracking_link"] == "https://www.posti.fi/en/tracking#/lahetys/JJFI1"
    )
    assert httpx.post(url, auth=(KEY, SECRET), json=custom).json()["tracking_link"] == "https://mh.example/2"
    listed = httpx.get(url, auth=(KEY, SECRET)).json()
    assert [row["tracking_number"] for row in listed] == ["JJFI1", "MH2"]
    assert len(woo.order(order["id"])["shipment_trackings"]) == 2


# -- webhooks ---------------------------------------------------------------------------------------------------------
def test_webhooks_are_signed_and_carry_the_wc_headers(woo: WooCommerceSimulator, receiver: Receiver) -> None:
    woo.add_webhook("order.created", receiver.url, HOOK_SECRET)
    order = woo.add_order([{"name": "Item", "price": "1.00"}])
    records = woo.deliver_webhooks()
    assert [record.status for record in records] == [200]
    request = receiver.received[0]
    expected = base64.b64encode(hmac.new(HOOK_SECRET.encode(), request.body, hashlib.sha256).digest()).decode()
    assert request.headers["X-WC-Webhook-Signature"] == expected == sign_woocommerce_webhook(HOOK_SECRET, request.body)
    assert request.headers["X-WC-Webhook-Topic"] == "order.created"
    assert (request.headers["X-WC-Webhook-Resource"], request.headers["X-WC-Webhook-Event"]) == ("order", "created")
    assert request.headers["X-WC-Webhook-Source"] == woo.root_url + "/"
    assert request.headers["X-WC-Webhook-ID"] and request.headers["X-WC-Webhook-Delivery-ID"]
    assert json.loads(request.body)["id"] == order["id"]


def test_webhook_faults_duplicate_with_the_same_delivery_id_lose_and_reorder(
    woo: WooCommerceSimulator, receiver: Receiver
) -> None:
    woo.add_webhook("order.created", receiver.url, HOOK_SECRET)
    for _ in range(3):
        woo.add_order([{"name": "Item", "price": "1.00"}])
    woo.deliver_webhooks(duplicate_rate=1.0)
    deliveries = [request.headers["X-WC-Webhook-Delivery-ID"] for request in receiver.received]
    assert len(deliveries) == 6 and deliveries[0] == deliveries[1] and len(set(deliveries)) == 3
    woo.add_order([{"name": "Item", "price": "1.00"}])
    assert [record.lost for record in woo.deliver_webhooks(loss_rate=1.0)] == [True] and len(receiver.received) == 6
    ids = [woo.add_order([{"name": "Item", "price": "1.00"}])["id"] for _ in range(8)]
    woo.deliver_webhooks(reorder=True, seed=3)
    delivered = [json.loads(request.body)["id"] for request in receiver.received[6:]]
    assert sorted(delivered) == ids and delivered != ids


def test_updates_pending_for_the_same_order_coalesce_and_the_payload_is_built_at_delivery(
    woo: WooCommerceSimulator, receiver: Receiver
) -> None:
    woo.add_webhook("order.updated", receiver.url, HOOK_SECRET)
    order = woo.add_order([{"name": "Item", "price": "1.00"}])
    woo.update_order(order["id"], status="on-hold")
    woo.update_order(order["id"], status="completed")
    assert len(woo.pending_webhooks) == 1
    woo.deliver_webhooks()
    assert [json.loads(request.body)["status"] for request in receiver.received] == ["completed"]


def test_a_webhook_is_disabled_after_more_than_the_allowed_consecutive_failures(
    woo: WooCommerceSimulator, receiver: Receiver, http: httpx.Client
) -> None:
    hook = woo.add_webhook("order.created", receiver.url, HOOK_SECRET)
    woo.configure(max_delivery_failures=2)
    receiver.status = 500
    for expected in ("active", "active", "disabled"):
        woo.add_order([{"name": "Item", "price": "1.00"}])
        woo.deliver_webhooks()
        assert http.get(f"/webhooks/{hook['id']}").json()["status"] == expected
    woo.add_order([{"name": "Item", "price": "1.00"}])
    assert woo.pending_webhooks == []  # a disabled webhook queues nothing
    disabled = http.get("/webhooks", params={"status": "disabled"}).json()
    assert [row["id"] for row in disabled] == [hook["id"]] and disabled[0]["failure_count"] == 3
    assert http.put(f"/webhooks/{hook['id']}", json={"status": "active"}).json()["failure_count"] == 0


def test_a_webhook_created_over_rest_is_pinged_unsigned(
    woo: WooCommerceSimulator, http: httpx.Client, receiver: Receiver
) -> None:
    made = http.post("/webhooks", json={"topic": "order.updated", "delivery_url": receiver.url, "secret": "s"})
    assert made.status_code == 201
    woo.deliver_webhooks()
    ping = receiver.received[0]
    assert ping.body == f"webhook_id={made.json()['id']}".encode() and "X-WC-Webhook-Signature" not in ping.headers


def test_the_constructor_registers_order_webhooks_to_the_given_url(clock: ManualClock, receiver: Receiver) -> None:
    with WooCommerceSimulator(
        consumer_key=KEY, consumer_secret=SECRET, webhook_url=receiver.url, webhook_secret=HOOK_SECRET, clock=clock
    ) as sim:
        assert sorted(hook["topic"] for hook in sim.webhooks()) == ["order.created", "order.updated"]
        order = sim.add_order([{"name": "Item", "price": "1.00"}])
        sim.update_order(order["id"], status="completed")
        sim.deliver_webhooks()
    assert sorted(request.headers["X-WC-Webhook-Topic"] for request in receiver.received) == [
        "order.created",
        "order.updated",
    ]


# -- faults and control surface ------------------------------------------------------------------------------------
def test_faults_answer_before_the_handler_with_the_wp_error_shape(
    woo: WooCommerceSimulator, http: httpx.Client
) -> None:
    woo.faults.add_rule(FaultRule("GET", f"{API}/orders", 503))
    woo.faults.add_rule(FaultRule("POST", f"{API}/products/batch", 429))
    failed = http.get("/orders")
    assert failed.status_code == 503 and failed.json()["data"] == {"status": 503}
    limited = http.post("/products/batch", json={"update": []})
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert http.get("/orders").status_code == 200 and woo.batch_sizes == []


def test_html_faults_answer_as_a_host_page_in_front_of_wordpress(woo: WooCommerceSimulator, http: httpx.Client) -> None:
    woo.configure(html_faults=True)
    woo.faults.add_rule(FaultRule("GET", f"{API}/orders", 503))
    page = http.get("/orders")
    assert page.status_code == 503 and page.headers["Content-Type"].startswith("text/html")
    assert http.get("/coupons").json()["code"] == "rest_no_route"  # WordPress's own 404 stays JSON


def test_the_control_surface_drives_the_shop_over_http(woo: WooCommerceSimulator, receiver: Receiver) -> None:
    control = httpx.Client(base_url=woo.root_url + "/_sim", timeout=5)
    made = control.post("/products", json={"name": "Mug", "sku": "MUG", "stock_quantity": 3}).json()
    assert made["sku"] == "MUG"
    control.post("/webhooks", json={"topic": "order.updated", "delivery_url": receiver.url, "secret": "s"})
    order = control.post("/orders", json={"lines": [{"sku": "MUG", "quantity": 1}], "status": "on-hold"}).json()
    assert control.post("/stock/read", json={"sku": "MUG"}).json()["stock_quantity"] == 2
    assert control.post(f"/orders/{order['id']}/update", json={"status": "processing"}).json()["status"] == "processing"
    assert control.post(f"/orders/{order['id']}/cancel").json()["status"] == "cancelled"
    assert control.post(f"/orders/{order['id']}/read").json()["emails"][-1] == "cancelled_order"
    assert control.post("/order-ids").json() == [order["id"]]
    assert control.post("/stock", json={"sku": "MUG", "quantity": 9}).json()["stock_quantity"] == 9
    switches = control.post("/switches", json={"batch_limit": 200, "strip_authorization": True}).json()
    assert switches["batch_limit"] == 200 and switches["strip_authorization"] is True
    assert control.post("/switches", json={"batch_limit": 0}).status_code == 400
    deliveries = control.post("/deliver-webhooks", json={"seed": 1}).json()["deliveries"]
    assert [row["status"] for row in deliveries] == [200]
    state = control.get("/state").json()
    assert state["orders"] == 1 and state["switches"]["batch_limit"] == 200
