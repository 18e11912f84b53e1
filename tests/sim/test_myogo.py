"""The myOGO v1 simulator: OAuth, orders, warehouse clock, products, stock, webhooks, control surface."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from ogosync_local.sim import ManualClock, MyOgoSimulator, sign_myogo_webhook

from .conftest import CLIENT_ID, CLIENT_SECRET, Receiver, new_ogo_order, ogo_client, token

DENIED = {
    "statusCode": 401,
    "statusDescription": "Unauthorized",
    "message": "Authorization has been denied for this request.",
}


def create(client: httpx.Client, body: dict[str, Any]) -> httpx.Response:
    return client.post("/api/v1/Orders", json=body)


# -- OAuth ---------------------------------------------------------------------------------------------
def test_password_grant_returns_bearer_tokens(myogo: MyOgoSimulator) -> None:
    response = token(myogo)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert (body["token_type"], body["expires_in"]) == ("bearer", 5400)


def test_token_endpoint_rejects_json(myogo: MyOgoSimulator) -> None:
    body = {
        "grant_type": "password",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "username": "m1",
        "password": "secret-1",
    }
    response = httpx.post(f"{myogo.base_url}/OAuth/Token", json=body)
    assert (response.status_code, response.json()) == (400, {"error": "unsupported_grant_type"})


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"password": "wrong"}, "invalid_grant"),
        ({"username": "nobody"}, "invalid_grant"),
        ({"client_secret": "wrong"}, "invalid_client"),
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
    ],
)
def test_bad_token_requests_give_400(myogo: MyOgoSimulator, form: dict[str, str], error: str) -> None:
    response = token(myogo, **form)
    assert (response.status_code, response.json()["error"]) == (400, error)


def test_tokens_expire(myogo: MyOgoSimulator, clock: ManualClock, ogo_http: httpx.Client) -> None:
    assert ogo_http.get("/api/v1/Orders").status_code == 200
    clock.advance(5399)
    assert ogo_http.get("/api/v1/Orders").status_code == 200
    clock.advance(1)
    expired = ogo_http.get("/api/v1/Orders")
    assert (expired.status_code, expired.json()) == (401, DENIED)


def test_refresh_token_is_usable_once(myogo: MyOgoSimulator, clock: ManualClock) -> None:
    first = token(myogo).json()
    clock.advance(6000)
    refreshed = token(myogo, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert refreshed.status_code == 200
    assert refreshed.json()["refresh_token"] != first["refresh_token"]
    headers = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
    assert httpx.get(f"{myogo.base_url}/api/v1/Orders", headers=headers).json() == []
    again = token(myogo, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_missing_or_bad_bearer_gives_401(myogo: MyOgoSimulator) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}):
        response = httpx.get(f"{myogo.base_url}/api/v1/Products", headers=headers)
        assert (response.status_code, response.json()) == (401, DENIED)


def test_merchants_are_isolated(myogo: MyOgoSimulator, ogo_http: httpx.Client) -> None:
    myogo.add_product("m1", "SKU-1")
    myogo.add_product("m2", "SKU-1")
    assert create(ogo_http, new_ogo_order("1001", ("SKU-1", 1))).status_code == 200
    with ogo_client(myogo, "m2") as other:
        assert other.get("/api/v1/Orders").json() == []
        assert create(other, new_ogo_order("1001", ("SKU-1", 1))).status_code == 200


# -- orders ---------------------------------------------------------------------------------------------
def test_create_order_returns_order_response(myogo: MyOgoSimulator, ogo_http: httpx.Client) -> None:
    myogo.add_product("m1", "SKU-1")
    response = create(ogo_http, new_ogo_order("1001", ("SKU-1", 2), status="New", comments="Leave at door"))
    assert response.status_code == 200
    body = response.json()
    assert (body["reference"], body["status"], body["comments"]) == ("1001", "new", "Leave at door")
    assert (body["trackingNumber"], body["trackingUrl"], body["warehouseComments"]) == (None, None, None)
    assert body["editTime"] == "2024-06-01T10:00:00.000Z"
    assert len(body["id"]) == 36
    assert ogo_http.get("/api/v1/Orders", params={"reference": "1001"}).json() == [body]


def test_pascal_case_input_is_accepted(myogo: MyOgoSimulator, ogo_http: httpx.Client) -> None:
    myogo.add_product("m1", "SKU-1")
    body = {
        "Reference": "P1",
        "Status": "NEW",
        "Customer": {"Name": "A", "Address1": "B", "City": "C", "CountryCode": "FI"},
        "OrderLines": [{"Code": "SKU-1", "Quantity": 1}],
    }
    assert create(ogo_http, body).json()["status"] == "new"


def test_duplicate_reference_is_rejected(myogo: MyOgoSimulator, ogo_http: httpx.Client) -> None:
    myogo.add_product("m1", "SKU-1")
    assert create(ogo_http, new_ogo_order("1001", ("SKU-1", 1))).status_code == 200
    duplicate = create(ogo_http, new_ogo_order("1001", ("SKU-1", 1)))
    assert duplicate.status_code == 400
    assert duplicate.json() == {
        "statusCode": 400,
        "statusDescription": "Bad Request",
        "message": "Trying to add new order but order with same reference already exists",
    }


def test_unknown_sku_is_rejected_unless_disabled(
    myogo: MyOgoSimulator, ogo_http: httpx.Client, clock: ManualClock
) -> None:
    rejected = create(ogo_http, new_ogo_order("1001", ("GHOST", 1)))
    assert rejected.status_code == 400
    assert "GHOST" in rejected.json()["message"]
    with MyOgoSimulator(reject_unknown_skus=False, clock=clock) as lenient:
        lenient.add_merchant("m1", "secret-1")
        with ogo_client(lenient) as client:
            assert create(client, new_ogo_order("1001", ("GHOST", 1))).status_code == 200


@pytest.mark.parametrize(
    "breakage",
    [
        "reference",
        "status",
        "customer.name",
        "customer.address1",
        "customer.city",
        "customer.countryCode",
        "orderLines",
        "quantity",
    ],
)
def test_order_validation(myogo: MyOgoSimulator, ogo_http: httpx.Client, breakage: str) -> None:
    myogo.add_product("m1", "SKU-1")
    body = new_ogo_order("1001", ("SKU-1", 1))
    if breakage.startswith("customer."):
        del body["customer"][breakage.split(".")[1]]
    elif breakage == "orderLines":
        body["orderLines"] = []
    elif breakage == "quantity":
        body["orderLines"][0]["quantity"] = 0
    else:
        body[breakage] = "bogus" if breakage == "status" else ""
    response = create(ogo_http, body)
    assert response.status_code == 400
    assert response.json()["statusCode"] == 400


def test_shipping_code_rules(myogo: MyOgoSimulator) -> None:
    myogo.add_merchant("multi", "s", shipping_codes={"posti", "dhl"})
    myogo.add_merchant("single", "s", shipping_codes={"posti"})
    for merchant_id in ("multi", "single"):
        myogo.add_product(merchant_id, "SKU-1")
    with ogo_client(myogo, "multi", "s") as multi, ogo_client(myogo, "single", "s") as single:
        assert create(multi, new_ogo_order("1", ("SKU-1", 1))).status_code == 400
        assert create(multi, new_ogo_order("2", ("SKU-1", 1), shippingCode="ups")).status_code == 400
        assert create(multi, new_ogo_order("3", ("SKU-1", 1), shippingCode="dhl")).json()["shippingCode"] == "dhl"
        assert create(single, new_ogo_order("4", ("SKU-1", 1))).json()["shippingCode"] == "posti"


def test_update_order(myogo: MyOgoSimulator, ogo_http: httpx.Client, clock: ManualClock) -> None:
    myogo.add_product("m1", "SKU-1", stock=10)
    myogo.add_product("m1", "SKU-2", stock=10)
    create(ogo_http, new_ogo_order("1001", ("SKU-1", 2)))
    assert ogo_http.put("/api/v1/Orders/404", json={"status": "cancelled"}).status_code == 404
    clock.advance(5)
    updated = ogo_http.put("/api/v1/Orders/1001", json={"orderLines": [{"code": "SKU-2", "quantity": 3}]}).json()
    assert (updated["orderLines"], updated["editTime"]) == (
        [{"code": "SKU-2", "quantity": 3}],
        "2024-06-01T10:00:05.000Z",
    )
    assert (myogo.stock("m1", "SKU-1")["reserved"], myogo.stock("m1", "SKU-2")["reserved"]) == (0, 3)
    cancelled = ogo_http.put("/api/v1/Orders/1001", json={"status": "CANCELLED"}).json()
    assert cancelled["status"] == "cancelled"
    assert myogo.stock("m1", "SKU-2")["stockAvailable"] == 10


def test_orders_page_until_a_short_page(myogo: MyOgoSimulator, ogo_http: httpx.Client, clock: ManualClock) -> None:
    myogo.add_product("m1", "SKU-1")
    for number in range(7):
        create(ogo_http, new_ogo_order(f"R{number}", ("SKU-1", 1)))
        clock.advance(1)
    seen, page = [], 1
    while True:
        batch = ogo_http.get("/api/v1/Orders", params={"limit": 3, "page": page}).json()
        seen += [order["reference"] for order in batch]
        if len(batch) < 3:
            break
        page += 1
    assert (seen, page) == ([f"R{n}" for n in range(7)], 3)
    assert len(ogo_http.get("/api/v1/Orders").json()) == 7
    for params in ({"limit": 251}, {"limit": 0}, {"page": 0}, {"limit": "x"}):
        assert ogo_http.get("/api/v1/Orders", params=params).status_code == 400


def test_modified_after_filters_and_sorts_by_edit_time(
    myogo: MyOgoSimulator, ogo_http: httpx.Client, clock: ManualClock
) -> None:
    myogo.add_product("m1", "SKU-1")
    for reference in ("B", "A", "C"):
        create(ogo_http, new_ogo_order(reference, ("SKU-1", 1)))
        clock.advance(60)
    ogo_http.put("/api/v1/Orders/B", json={"comments": "changed"})

    def refs(since: str) -> list[str]:
        return [o["reference"] for o in ogo_http.get("/api/v1/Orders", params={"modifiedAfter": since}).json()]

    assert refs("2024-06-01T10:00:30Z") == ["A", "C", "B"]
    assert refs("2024-06-01T12:01:30+02:00") == ["C", "B"]
    assert refs("2024-06-01T10:02:00") == ["B"]
    assert ogo_http.get("/api/v1/Orders", params={"modifiedAfter": "yesterday"}).status_code == 400


# -- warehouse clock --------------------------------------------------------------------------------------
def test_warehouse_clock_moves_orders_and_stock(
    myogo: MyOgoSimulator, ogo_http: httpx.Client, clock: ManualClock
) -> None:
    myogo.add_product("m1", "SKU-1", stock=10)
    create(ogo_http, new_ogo_order("1001", ("SKU-1", 2)))
    assert_stock(ogo_http, stock=10, reserved=2, available=8)
    clock.advance(30)
    assert myogo.advance() == 1
    order = ogo_http.get("/api/v1/Orders", params={"reference": "1001"}).json()[0]
    assert (order["status"], order["trackingNumber"], order["editTime"]) == (
        "collecting",
        None,
        "2024-06-01T10:00:30.000Z",
    )
    assert_stock(ogo_http, stock=8, reserved=0, available=8)
    myogo.advance()
    shipped = myogo.orders("m1")["1001"]
    assert shipped["status"] == "shipped"
    assert shipped["trackingNumber"]
    assert "," not in shipped["trackingNumber"]
    assert shipped["trackingUrl"].endswith(shipped["trackingNumber"])
    assert myogo.advance(3) == 0


def assert_stock(client: httpx.Client, *, stock: int, reserved: int, available: int) -> None:
    row = client.get("/api/v1/Stock", params={"productCode": "SKU-1"}).json()[0]
    assert (row["stock"], row["reserved"], row["stockAvailable"]) == (stock, reserved, available)
    product = client.get("/api/v1/Products", params={"code": "SKU-1"}).json()[0]
    assert (product["stock"], product["reserved"], product["stockAvailable"]) == (stock, reserved, available)


def test_every_nth_shipment_has_two_parcels(clock: ManualClock) -> None:
    with MyOgoSimulator(multi_parcel_every=2, reject_unknown_skus=False, clock=clock) as sim:
        sim.add_merchant("m1", "secret-1")
        with ogo_client(sim) as client:
            for reference in ("1", "2", "3"):
                create(client, new_ogo_order(reference, ("X", 1)))
        sim.advance(2)
        parcels = [sim.orders("m1")[ref]["trackingNumber"].count(",") + 1 for ref in ("1", "2", "3")]
        assert parcels == [1, 2, 1]


def test_set_status_is_a_warehouse_side_change(myogo: MyOgoSimulator, ogo_http: httpx.Client) -> None:
    myogo.add_product("m1", "SKU-1", stock=5)
    create(ogo_http, new_ogo_order("1001", ("SKU-1", 5)))
    assert myogo.set_status("m1", "1001", "Cancelled")["status"] == "cancelled"
    assert myogo.stock("m1", "SKU-1")["stockAvailable"] == 5
    myogo.set_status("m1", "1001", "collecting")
    frozen = ogo_http.put("/api/v1/Orders/1001", json={"status": "cancelled"})
    assert frozen.status_code == 400


@pytest.mark.parametrize(("status", "cancellable"), [("pending", True), ("reserved", True), ("locked", False)])
def test_an_order_is_cancelled_through_the_api_only_before_the_warehouse_starts(
    myogo: MyOgoSimulator, ogo_http: httpx.Client, status: str, cancellable: bool
) -> None:
    """Reference §3.1: cancellable while NEW, PENDING, RESERVED or DRAFT; LOCKED (uncertain) is refused here."""
    myogo.add_product("m1", "SKU-1", stock=5)
    create(ogo_http, new_ogo_order("1001", ("SKU-1", 1)))
    myogo.set_status("m1", "1001", status)

    answer = ogo_http.put("/api/v1/Orders/1001", json={"reference": "1001", "status": "cancelled"})

    assert answer.status_code == (200 if cancellable else 400)
    assert myogo.orders("m1")["1001"]["status"] == ("cancelled" if cancellable else status)


def test_edit_order_is_a_warehouse_side_change(myogo: MyOgoSimulator, ogo_http: httpx.Client) -> None:
    myogo.add_product("m1", "SKU-1", stock=5)
    create(ogo_http, new_ogo_order("1001", ("SKU-1", 1)))
    customer = {**myogo.orders("m1")["1001"]["customer"], "address1": "Varasto 9"}

    myogo.edit_order("m1", "1001", {"customer": customer})

    (seen,) = ogo_http.get("/api/v1/Orders", params={"reference": "1001"}).json()
    assert seen["customer"]["address1"] == "Varasto 9" and seen["status"] == "new"


# -- products and stock ----------------------------------------------------------------------------------
def test_product_create_validation(ogo_http: httpx.Client) -> None:
    body = {"code": "SKU-1", "name": "Shirt", "languageCode": "en", "eanCode": "1234567890"}
    created = ogo_http.post("/api/v1/Products", json=body)
    assert created.status_code == 200
    assert {"id", "stock", "stockAvailable", "reserved", "editTime"} <= set(created.json())
    assert ogo_http.post("/api/v1/Products", json=body).status_code == 400
    for missing in ("code", "name", "languageCode"):
        assert ogo_http.post("/api/v1/Products", json={**body, "code": "X", missing: ""}).status_code == 400


def test_product_update_by_base64url_keeps_the_ean(myogo: MyOgoSimulator, ogo_http: httpx.Client) -> None:
    code = "JACKET/BLK 42?"
    myogo.add_product("m1", code, eanCode="111", stock=3)
    encoded = base64.urlsafe_b64encode(code.encode()).decode().rstrip("=")
    response = ogo_http.put(
        f"/api/v1/products/{encoded}",
        params={"base64url": "true"},
        json={"code": code, "name": "Jacket", "languageCode": "fi", "eanCode": "999"},
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["languageCode"], body["eanCode"], body["stock"]) == ("Jacket", "fi", "111", 3)
    assert myogo.calls["PUT /api/v1/Products/{code}"] == 1
    assert ogo_http.put("/api/v1/products/@@@", params={"base64url": "true"}, json={}).status_code in (400, 404)


def test_product_rename_via_old_code_and_ean_set_once(myogo: MyOgoSimulator, ogo_http: httpx.Client) -> None:
    myogo.add_product("m1", "OLD")
    myogo.add_product("m1", "TAKEN")
    assert ogo_http.put("/api/v1/Products/OLD", json={"code": "TAKEN"}).status_code == 400
    renamed = ogo_http.put("/api/v1/PRODUCTS/OLD", json={"code": "NEW", "eanCode": "555"}).json()
    assert (renamed["code"], renamed["eanCode"]) == ("NEW", "555")
    assert ogo_http.put("/api/v1/Products/OLD", json={"name": "x"}).status_code == 404
    assert ogo_http.get("/api/v1/Products", params={"eanCode": "555"}).json()[0]["code"] == "NEW"


def test_stock_endpoint(myogo: MyOgoSimulator, ogo_http: httpx.Client, clock: ManualClock) -> None:
    myogo.add_product("m1", "A", stock=1)
    myogo.add_product("m1", "B", stock=1)
    clock.advance(60)
    row = myogo.set_stock("m1", "A", 40)
    assert row == {
        "productCode": "A",
        "stock": 40,
        "stockAvailable": 40,
        "reserved": 0,
        "modified": "2024-06-01T10:01:00.000Z",
    }
    changed = ogo_http.get("/api/v1/Stock", params={"modifiedAfter": "2024-06-01T10:00:30Z"}).json()
    assert [r["productCode"] for r in changed] == ["A"]
    assert [r["productCode"] for r in ogo_http.get("/api/v1/Stock", params={"limit": 1, "page": 2}).json()] == ["A"]
    assert ogo_http.get("/api/v1/Stock", params={"productCode": "NOPE"}).status_code == 404


# -- webhooks ---------------------------------------------------------------------------------------------
def test_webhook_crud_and_signed_delivery(myogo: MyOgoSimulator, ogo_http: httpx.Client, receiver: Receiver) -> None:
    assert ogo_http.get("/api/v1/webhooks").text == "null"
    assert ogo_http.post("/api/v1/webhooks", json={"url": "ftp://x", "type": "OrderShipped"}).status_code == 400
    hook = ogo_http.post(
        "/api/v1/webhooks",
        json={"url": receiver.url, "key": "k1", "type": "OrderShipped", "customHeaders": {"X-Foo": "bar"}},
    ).json()
    assert ogo_http.get("/api/v1/webhooks").json() == [hook]
    assert ogo_http.put(f"/api/v1/webhooks/{hook['id']}", json={"key": "k2"}).json()["key"] == "k2"
    myogo.add_product("m1", "SKU-1", stock=1)
    create(ogo_http, new_ogo_order("1001", ("SKU-1", 1)))
    myogo.advance(2)
    records = myogo.deliver_webhooks()
    assert [record.status for record in records] == [200]
    request = receiver.received[0]
    assert request.headers["X-OGOship-Hmac-SHA256"] == sign_myogo_webhook("k2", request.body)
    assert request.headers["X-Foo"] == "bar"
    event = json.loads(request.body)
    assert (event["type"], event["reference"], event["status"]) == ("OrderShipped", "1001", "shipped")
    assert event["trackingNumber"] == myogo.orders("m1")["1001"]["trackingNumber"]
    assert myogo.deliver_webhooks() == []
    assert ogo_http.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    assert ogo_http.get(f"/api/v1/webhooks/{hook['id']}").status_code == 404
    assert ogo_http.get("/api/v1/webhooks").text == "null"


def test_sign_myogo_webhook_is_base64_hmac_sha256() -> None:
    assert sign_myogo_webhook("key", b"The quick brown fox jumps over the lazy dog") == (
        "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg="
    )


# -- control surface ----------------------------------------------------------------------------------------
def test_control_surface(myogo: MyOgoSimulator, receiver: Receiver) -> None:
    control = myogo.root_url + "/_sim"
    added = httpx.post(
        control + "/merchants",
        json={
            "merchant_id": "m3",
            "secret_token": "s3",
            "shipping_codes": ["posti"],
            "webhook_url": receiver.url,
            "webhook_key": "k",
        },
    )
    assert added.status_code == 200
    assert httpx.post(control + "/products", json={"merchant_id": "m3", "code": "P", "stock": 2}).json()["stock"] == 2
    assert httpx.post(control + "/stock", json={"merchant_id": "m3", "code": "P", "stock": 9}).json()["stock"] == 9
    assert httpx.post(control + "/stock", json={"merchant_id": "m3", "code": "Q", "stock": 9}).status_code == 400
    with ogo_client(myogo, "m3", "s3") as client:
        assert create(client, new_ogo_order("1", ("P", 1))).status_code == 200
    assert httpx.post(control + "/advance", json={"steps": 2}).json() == {"moves": 2}
    assert [d["status"] for d in httpx.post(control + "/deliver-webhooks").json()["deliveries"]] == [200]
    state = httpx.get(control + "/state").json()
    assert state["merchants"]["m3"]["orders"] == {"shipped": 1}
    assert state["calls"]["POST /api/v1/Orders"] == 1
    httpx.post(control + "/reset")
    assert myogo.orders("m3") == {}
    assert token(myogo, "m3", password="s3").status_code == 200  # registrations survive a reset
