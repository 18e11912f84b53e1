"""The Centra Order API simulator: auth, orders, catalog, stock, shipments, webhooks, control surface."""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from ogosync_local.sim import CentraSimulator, ManualClock, sign_centra_webhook

from .conftest import CENTRA_KEY, CENTRA_SECRET, Receiver


def order_ids(response: httpx.Response) -> list[str]:
    body = response.json()
    assert body["status"] == "ok", body
    return [order["orderId"] for order in body["orders"]]


def add_orders(centra: CentraSimulator, clock: ManualClock, count: int, **kwargs: Any) -> list[dict[str, Any]]:
    orders = []
    for _ in range(count):
        orders.append(centra.add_order(**kwargs))
        clock.advance(60)
    return orders


# -- auth and errors ------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"API-Authorization": "wrong"}, {"Authorization": f"Bearer {CENTRA_KEY}"}])
def test_missing_or_wrong_key_gives_401(centra: CentraSimulator, headers: dict[str, str]) -> None:
    response = httpx.get(centra.base_url + "/orders", headers=headers)
    assert response.status_code == 401
    assert response.json() == {"status": "no", "msg": "Authorization failed"}


def test_base_url_is_the_plugin_path(centra: CentraSimulator) -> None:
    assert centra.base_url == f"http://127.0.0.1:{centra.port}/api/ogosync"


def test_application_errors_are_http_200(centra_http: httpx.Client) -> None:
    response = centra_http.get("/orders", params={"order": "999"})
    assert response.status_code == 200
    assert response.json() == {"status": "no", "msg": "order does not exist", "order": "999"}
    assert centra_http.get("/orders", params={"limit": "x"}).json()["status"] == "no"
    assert centra_http.get("/nope").status_code == 404


# -- orders -----------------------------------------------------------------------------------------
def test_order_shape_has_flat_addresses_lines_and_totals(centra: CentraSimulator, centra_http: httpx.Client) -> None:
    centra.add_product("SH1", "BLK", "42", ean="7350000000042", price=500.0, stock=3)
    centra.add_order(
        [{"product": "7350000000042", "qty": 2}],
        delivery={"name": "Bo", "country": "FI"},
        billing={"vat": "SE123"},
        shipping_value=50,
        extra={"shipwallet_pickup": "SP1"},
    )
    order = centra_http.get("/orders").json()["orders"][0]
    assert (order["orderId"], order["orderStatus"], order["orderDate"]) == ("1001", "Confirmed", "2024-06-01 12:00:00")
    assert (order["deliveryName"], order["deliveryCountry"], order["billingName"], order["billingVAT"]) == (
        "Bo",
        "FI",
        "Bo",
        "SE123",
    )
    assert (order["hold"], order["waitingForPayment"], order["shipwallet_pickup"]) == (0, 0, "SP1")
    line = order["products"][0]
    assert (line["sku"], line["variantSku"], line["sizeSku"], line["qty"], line["price"]) == (
        "SH1",
        "BLK",
        "42",
        2,
        500,
    )
    assert (line["totalPriceWithTax"], line["taxPercent"], order["grandTotalValue"]) == (1000, 25, 1050)
    assert order["grandTotalTaxValue"] == 210.0


def test_orders_are_newest_first_and_paged_by_offset(
    centra: CentraSimulator, clock: ManualClock, centra_http: httpx.Client
) -> None:
    add_orders(centra, clock, 5)
    pages = [order_ids(centra_http.get("/orders", params={"limit": 2, "offset": offset})) for offset in (0, 2, 4)]
    assert pages == [["1005", "1004"], ["1003", "1002"], ["1001"]]
    assert len(order_ids(centra_http.get("/orders", params={"limit": 500}))) == 5


def test_default_limit_is_20(centra: CentraSimulator, centra_http: httpx.Client) -> None:
    for _ in range(25):
        centra.add_order()
    assert len(order_ids(centra_http.get("/orders"))) == 20


def test_newer_than_is_strict_and_in_store_local_time(
    centra: CentraSimulator, clock: ManualClock, centra_http: httpx.Client
) -> None:
    centra.add_order()  # 10:00 UTC = 12:00:00 local (CEST)
    clock.advance(3600)
    centra.add_order()  # 13:00:00 local

    def newer(value: str) -> list[str]:
        return order_ids(centra_http.get("/orders", params={"newer_than": value}))

    assert newer("2024-06-01 11:30:00") == ["1002", "1001"]  # would be wrong if compared in UTC
    assert newer("2024-06-01 12:00:00") == ["1002"]
    assert newer("2024-06-01") == ["1002", "1001"]
    assert order_ids(centra_http.get("/orders", params={"older_than": "2024-06-01 13:00:00"})) == ["1001"]
    bad = centra_http.get("/orders", params={"newer_than": "2024-06-01T12:00:00Z"}).json()
    assert bad["status"] == "no"


def test_order_dates_follow_the_zone_and_daylight_saving(clock: ManualClock) -> None:
    with CentraSimulator(api_key="k", time_zone="America/New_York", clock=clock) as sim:
        assert sim.add_order()["orderDate"] == "2024-06-01 06:00:00"
    with CentraSimulator(api_key="k", clock=clock) as sim:
        clock.set(datetime(2024, 1, 15, 10, 0, tzinfo=UTC))
        assert sim.add_order()["orderDate"] == "2024-01-15 11:00:00"  # CET in winter, CEST in summer


def test_hold_and_waiting_orders_follow_the_plugin_option(clock: ManualClock) -> None:
    with CentraSimulator(api_key="k", return_hold_orders=False, clock=clock) as sim:
        client = httpx.Client(base_url=sim.base_url, headers={"API-Authorization": "k"})
        sim.add_order()
        sim.add_order(hold=True)
        sim.add_order(waiting_for_payment=True)
        assert order_ids(client.get("/orders")) == ["1001"]
        assert client.get("/orders", params={"order": "1002"}).json()["msg"] == "order does not exist"
        sim.update_order("1002", hold=False)
        assert sorted(order_ids(client.get("/orders"))) == ["1001", "1002"]


def test_hold_orders_are_returned_by_default(centra: CentraSimulator, centra_http: httpx.Client) -> None:
    centra.add_order(hold=True)
    assert centra_http.get("/orders").json()["orders"][0]["hold"] == 1


def test_only_statuses_selected_in_the_plugin_are_returned(centra: CentraSimulator, centra_http: httpx.Client) -> None:
    centra.add_order()
    centra.add_order(status="Cancelled")
    centra.add_order(status="Incomplete")
    assert order_ids(centra_http.get("/orders")) == ["1001"]
    assert centra_http.get("/orders", params={"order": "1002"}).json()["status"] == "no"
    centra.update_order("1001", status="Archived")
    assert order_ids(centra_http.get("/orders")) == []


def test_status_can_be_rendered_as_a_number(clock: ManualClock) -> None:
    with CentraSimulator(api_key="k", status_format="number", clock=clock) as sim:
        assert sim.add_order(status="Pending")["orderStatus"] == "1"


def test_update_order_adds_lines_and_queues_an_update_event(centra: CentraSimulator) -> None:
    centra.add_order(order_id="5000")
    updated = centra.update_order(
        "5000", add_lines=[{"sku": "X", "qty": 3, "price": 10.0}], fields={"otherComment": "hi"}
    )
    assert [line["qty"] for line in updated["products"]] == [1, 3]
    assert updated["otherComment"] == "hi"
    assert [(e["action"], e["id"]) for e in centra.pending_webhooks] == [("create", 5000), ("update", 5000)]
    assert centra.add_order()["orderId"] == "5001"
    with pytest.raises(ValueError, match="already exists"):
        centra.add_order(order_id="5000")


# -- products and stock -------------------------------------------------------------------------------
def test_products_page_with_next_and_previous_links(centra: CentraSimulator, centra_http: httpx.Client) -> None:
    for size in ("S", "M", "L", "XL", "XXL"):
        centra.add_product("TS1", "RED", size, ean=f"73500{size}", size=size)
    first = centra_http.get("/products", params={"limit": 2}).json()
    assert [row["sizeSku"] for row in first["products"]] == ["S", "M"]
    assert first["next"] == "?limit=2&page=2"
    assert "previous" not in first
    last = centra_http.get("/products", params={"limit": 2, "page": 3}).json()
    assert [row["sizeSku"] for row in last["products"]] == ["XXL"]
    assert (last["previous"], "next" in last) == ("?limit=2&page=2", False)
    assert len(centra_http.get("/products").json()["products"]) == 5
    row = first["products"][0]
    assert {
        "sku",
        "productId",
        "variantSku",
        "variantId",
        "sizeSku",
        "stockItemId",
        "ean",
        "product",
        "name",
        "variant",
        "size",
        "brand",
        "description",
        "shortDescription",
        "active",
        "images",
        "prices",
    } <= set(row)
    assert row["prices"][0] | {"campaigns": []} == {
        "id": 19,
        "pricelist": "SEK",
        "price": 299.0,
        "currency": "SEK",
        "campaigns": [],
    }


def test_product_filters(centra: CentraSimulator, clock: ManualClock, centra_http: httpx.Client) -> None:
    centra.add_product("A1", "V", "1", ean="111")
    centra.add_product("B2", "V", "1", ean="222")
    clock.advance(10)
    centra.update_product("B2V1", name="Renamed")

    def skus(**params: str) -> list[str]:
        return [row["sku"] for row in centra_http.get("/products", params=params).json()["products"]]

    assert skus(sku="A1") == ["A1"]
    assert skus(sku="B2V1") == ["B2"]
    assert skus(ean="111") == ["A1"]
    assert skus(modified="2024-06-01 12:00:05") == ["B2"]
    centra.delete_product("111")
    assert skus() == ["B2"]


def test_stock_post_clamps_to_allocated_and_reports_unknown_products(
    centra: CentraSimulator, centra_http: httpx.Client
) -> None:
    centra.add_product("SH1", "BLK", "42", ean="7350000000042", stock=10)
    centra.add_product("SH1", "BLK", "43", ean="7350000000043", stock=10)
    centra.add_order([{"product": "SH1BLK42", "qty": 3}])
    assert centra.stock("SH1BLK42")["allocatedStock"] == 3
    body = {
        "products": [
            {"product": "SH1BLK42", "quantity": 1},
            {"product": "7350000000043", "quantity": 5},
            {"product": "NOPE", "quantity": 1},
        ]
    }
    answer = centra_http.post("/stock", json=body)
    assert answer.status_code == 200
    assert answer.json() == {
        "status": "no",
        "msg": "Some of the products were not updated",
        "errors": {"productsNotFound": ["NOPE"]},
    }
    rows = {row["sizeSku"]: row for row in centra_http.get("/stock", params={"sku": "SH1"}).json()["products"]}
    assert (rows["42"]["physicalStock"], rows["42"]["allocatedStock"], rows["42"]["availableStock"]) == (3, 3, 0)
    assert (rows["43"]["physicalStock"], rows["43"]["availableStock"]) == (5, 5)
    ok = centra_http.post("/stock", json={"products": [{"product": "SH1BLK43", "quantity": 7}]})
    assert ok.json() == {"status": "ok"}


def test_only_paid_open_orders_allocate(centra: CentraSimulator) -> None:
    centra.add_product("SH1", ean="1", stock=10)
    centra.add_order([{"product": "SH1", "qty": 1}], waiting_for_payment=True)
    centra.add_order([{"product": "SH1", "qty": 2}], status="Cancelled")
    centra.add_order([{"product": "SH1", "qty": 4}], status="Pending")
    assert centra.stock("SH1")["allocatedStock"] == 4


# -- shipments ------------------------------------------------------------------------------------------
def ship_body(order: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "order": order["orderId"],
        "products": {line["lineId"]: line["qty"] for line in order["products"]},
        **fields,
    }


def test_capture_failure_creates_no_shipment(centra: CentraSimulator, centra_http: httpx.Client) -> None:
    order = centra.add_order()
    centra.fail_capture(order["orderId"])
    answer = centra_http.post("/shipments", json=ship_body(order, gtg=True))
    assert answer.json() == {"status": "no", "msg": "can not capture order", "order": order["orderId"]}
    assert centra.shipments(order["orderId"]) == []
    assert centra.orders[order["orderId"]]["orderStatus"] == "Confirmed"


def test_create_list_and_complete_a_shipment(centra: CentraSimulator, centra_http: httpx.Client) -> None:
    centra.add_product("SH1", ean="1", stock=5)
    order = centra.add_order([{"product": "SH1", "qty": 2}])
    created = centra_http.post("/shipments", json=ship_body(order, gtg=True)).json()
    assert (created["status"], created["order"], created["shipment"]) == ("ok", 1001, "1001-1")
    assert centra.orders["1001"]["orderStatus"] == "Processing"
    listed = centra_http.get("/shipments").json()["shipments"]
    assert [(s["shipmentId"], s["orderId"], s["paid"], s["shouldCapture"]) for s in listed] == [
        ("1001-1", "1001", 1, 0)
    ]
    assert listed[0]["products"][0]["qty"] == 2
    complete = {
        "order": "1001",
        "shipment": "1001-1",
        "gtg": True,
        "shipped": True,
        "carrier": "PostNord",
        "service": "MyPack",
        "packages": 1,
        "tracking": "TRK1",
    }
    assert centra_http.put("/shipment", json=complete).json() == {"status": "ok", "order": 1001, "shipment": "1001-1"}
    order_now = centra.orders["1001"]
    assert order_now["orderStatus"] == "Completed"
    assert (order_now["shipments"][0]["trackingId"], order_now["shipments"][0]["carrier"]) == ("TRK1", "PostNord")
    assert centra_http.get("/shipments").json()["shipments"] == []
    done = centra_http.get("/shipments", params={"status": "completed", "limit": 10}).json()["shipments"]
    assert [(s["shipmentId"], s["trackingNumber"]) for s in done] == [("1001-1", "TRK1")]
    assert centra.stock("SH1")["physicalStock"] == 3
    assert centra_http.put("/shipment", json=complete).json()["status"] == "ok"  # a repeat does not duplicate
    assert len(centra.shipments("1001")) == 1


def test_uncaptured_shipment_flow(centra: CentraSimulator, centra_http: httpx.Client) -> None:
    order = centra.add_order([{"sku": "A", "qty": 2}])
    line_id = order["products"][0]["lineId"]
    centra_http.post("/shipments", json={"order": "1001", "products": {line_id: 1}, "capture": False})
    assert centra_http.get("/shipments").json()["shipments"] == []
    progress = centra_http.get("/shipments", params={"status": "inprogress"}).json()["shipments"]
    assert [(s["shipmentId"], s["paid"], s["shouldCapture"]) for s in progress] == [("1001-1", 0, 1)]
    assert centra_http.put("/shipments/1001-1", json={"products": {line_id: 2}, "gtg": True}).json()["status"] == "ok"
    assert centra_http.get("/shipments").json()["shipments"][0]["products"][0]["qty"] == 2
    assert centra_http.put("/capture", json={"shipment": "1001-1"}).json()["status"] == "ok"
    refused = centra_http.put("/shipments/1001-1", json={"products": {line_id: 1}}).json()
    assert refused == {"status": "no", "msg": "shipment is captured and can not be updated", "shipment": "1001-1"}
    assert centra.calls["PUT /shipments/{shipmentId}"] == 2


def test_complete_capture_failure_and_missing_flags(centra: CentraSimulator, centra_http: httpx.Client) -> None:
    order = centra.add_order()
    centra_http.post("/shipments", json=ship_body(order, capture=False, gtg=True))
    centra.fail_capture("1001")
    body = {"order": "1001", "shipment": "1001-1", "gtg": True, "shipped": True}
    assert centra_http.put("/shipment", json=body).json() == {
        "status": "no",
        "msg": "capture failed",
        "order": 1001,
        "shipment": "1001-1",
    }
    assert centra_http.put("/capture", json={"shipment": "1001-1"}).json()["msg"] == "capture failed"
    centra.fail_capture("1001", fail=False)
    assert centra_http.put("/shipment", json={**body, "shipped": False}).json()["status"] == "no"
    assert centra_http.put("/shipment", json={**body, "shipment": 1}).json()["status"] == "ok"
    assert centra_http.put("/shipment", json={**body, "order": "42"}).json()["msg"] == "order does not exist"


def test_shipment_rules(centra: CentraSimulator, centra_http: httpx.Client) -> None:
    pending = centra.add_order(status="Pending")
    assert centra_http.post("/shipments", json=ship_body(pending)).json()["status"] == "no"
    order = centra.add_order()
    too_many = {"order": order["orderId"], "products": {order["products"][0]["lineId"]: 2}}
    assert centra_http.post("/shipments", json=too_many).json()["status"] == "no"
    assert centra_http.get("/shipments", params={"status": "completed", "limit": 101}).json()["status"] == "no"
    assert centra_http.put("/shipments/9-9", json={"gtg": True}).json()["msg"] == "shipment does not exist"


# -- webhooks --------------------------------------------------------------------------------------------
def test_signature_matches_the_reference_worked_example() -> None:
    signature = sign_centra_webhook("test123", b"payload=%7B%22x%22%3A%22test%22%7D", 12345678)
    assert signature == "t=12345678,v1=0b9cd84f5d583e5e1aadfb9f160aa8080b51d5b85ff85808d6b75bdac356c549"


def test_deliveries_are_signed_form_posts(centra: CentraSimulator, receiver: Receiver) -> None:
    centra.webhook_url = receiver.url
    centra.add_order()
    centra.update_order("1001", status="Processing")
    records = centra.deliver_webhooks()
    assert [record.status for record in records] == [200, 200]
    assert centra.pending_webhooks == []
    request = receiver.received[0]
    assert request.content_type == "application/x-www-form-urlencoded"
    t = request.headers["X-Centra-Signature"].split(",")[0].removeprefix("t=")
    assert t == str(int(centra.now().timestamp()))
    assert request.headers["X-Centra-Signature"] == sign_centra_webhook(CENTRA_SECRET, request.body, int(t))
    payload = json.loads(urllib.parse.parse_qs(request.body.decode())["payload"][0])
    assert payload == {
        "events": [{"type": "order", "action": "create", "date": "2024-06-01 12:00:00.000000", "id": 1001}]
    }


def test_chaotic_delivery_is_deterministic(clock: ManualClock, receiver: Receiver) -> None:
    outcomes = []
    for _ in range(2):
        receiver.received.clear()
        with CentraSimulator(api_key="k", webhook_url=receiver.url, clock=clock) as sim:
            for _ in range(12):
                sim.add_order()
            records = sim.deliver_webhooks(duplicate_rate=0.3, loss_rate=0.3, reorder=True, seed=5)
        sent = [r for r in records if not r.lost]
        assert len(receiver.received) == len(sent)
        assert "X-Centra-Signature" not in receiver.received[0].headers  # no endpoint secret configured
        outcomes.append([(r.events[0]["id"], r.lost, r.duplicated) for r in records])
    assert outcomes[0] == outcomes[1]
    flags = {(lost, duplicated) for _, lost, duplicated in outcomes[0]}
    assert {(True, False), (False, True)} <= flags
    assert [event_id for event_id, _, dup in outcomes[0] if not dup] != sorted(e for e, _, d in outcomes[0] if not d)


def test_batches_and_failures_are_recorded(centra: CentraSimulator, receiver: Receiver) -> None:
    with pytest.raises(RuntimeError, match="webhook_url"):
        centra.deliver_webhooks()
    centra.webhook_url = receiver.url
    receiver.status = 500
    for _ in range(7):
        centra.add_order()
    records = centra.deliver_webhooks(batch=3)
    assert [(len(r.events), r.status) for r in records] == [(3, 500), (3, 500), (1, 500)]
    centra.add_order()
    centra.webhook_url = "http://127.0.0.1:9/closed"
    assert centra.deliver_webhooks()[0].error is not None


# -- control surface ---------------------------------------------------------------------------------------
def test_control_surface(centra: CentraSimulator, receiver: Receiver) -> None:
    control = centra.root_url + "/_sim"
    assert httpx.post(control + "/deliver-webhooks").status_code == 409
    product = httpx.post(control + "/products", json={"sku": "P1", "ean": "9", "stock": 4}).json()
    assert product["sku"] == "P1"
    order = httpx.post(control + "/orders", json={"lines": [{"product": "9", "qty": 1}], "status": "Pending"}).json()
    assert (order["orderId"], order["orderStatus"]) == ("1001", "Pending")
    assert httpx.post(control + "/orders", json={"status": "Nope"}).status_code == 400
    centra.webhook_url = receiver.url
    delivered = httpx.post(control + "/deliver-webhooks", json={"batch": 5}).json()["deliveries"]
    assert [(d["status"], len(d["events"])) for d in delivered] == [(200, 1)]
    state = httpx.get(control + "/state").json()
    assert (state["orders"], state["products"], state["pendingWebhooks"]) == (1, 1, 0)
    httpx.post(control + "/reset")
    assert centra.orders == {}
    assert centra.add_order()["orderId"] == "1001"


def test_sizes_may_share_a_sku_as_in_centra(centra: CentraSimulator, centra_http: httpx.Client) -> None:
    centra.add_product("CAP", "RED", "", ean="1")
    centra.add_product("CA", "PRED", "", ean="2")  # the same concatenated SKU, CAPRED
    centra.add_product("HAT", ean="1")  # the same EAN

    rows = centra_http.get("/products").json()["products"]

    assert [(row["sku"], row["variantSku"], row["ean"]) for row in rows] == [
        ("CAP", "RED", "1"),
        ("CA", "PRED", "2"),
        ("HAT", "", "1"),
    ]
    assert len({row["stockItemId"] for row in rows}) == 3
    assert centra.stock("CAPRED")["stockItemId"] == rows[0]["stockItemId"]  # keys name the first match
