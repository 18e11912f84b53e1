"""The Shopify simulator over real HTTP: auth, cost and throttling, orders, inventory, fulfillments, bulk operations,
webhooks and the control surface."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from ogosync.stores.shopify import documents
from ogosync_local.sim import FaultRule, ManualClock
from ogosync_local.sim.shopify import ShopifySimulator, sign_shopify_webhook

from .conftest import Receiver

CLIENT_ID, CLIENT_SECRET, TOKEN = "app-id", "app-secret", "shpat_static"
VERSION = "2026-04"
SET_QUANTITIES = """
mutation Set($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { changes { name delta quantityAfterChange } }
    userErrors { field code message }
  }
}"""
SET_WITHOUT_KEY = """
mutation Set($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) { userErrors { code } }
}"""
FULFILL = """
mutation Fulfill($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status trackingInfo { company number url } }
    userErrors { field message }
  }
}"""
ORDER = """
query Order($id: ID!) {
  order(id: $id) {
    id name displayFinancialStatus cancelledAt closed
    risk { recommendation assessments { riskLevel } }
    shippingAddress { name address1 city zip countryCodeV2 }
    shippingLines(first: 1) { nodes { title code } }
    fulfillmentOrders(first: 5) {
      nodes {
        id status fulfillmentHolds { reason reasonNotes }
        assignedLocation { location { id } }
        lineItems(first: 10) {
          nodes {
            id sku totalQuantity remainingQuantity financialSummaries { originalUnitPriceSet { shopMoney { amount } } }
          }
        }
      }
    }
  }
}"""


@pytest.fixture
def shopify(clock: ManualClock) -> Iterator[ShopifySimulator]:
    with ShopifySimulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, access_tokens=[TOKEN], clock=clock) as sim:
        yield sim


@pytest.fixture
def http(shopify: ShopifySimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shopify.base_url, headers={"X-Shopify-Access-Token": TOKEN}, timeout=5) as client:
        yield client


def gql(client: httpx.Client, text: str, /, version: str = VERSION, **variables: Any) -> httpx.Response:
    return client.post(f"/admin/api/{version}/graphql.json", json={"query": text, "variables": variables})


def data(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


def stocked_shop(shopify: ShopifySimulator, stock: int = 10) -> dict[str, Any]:
    """A warehouse location and one product with two variants stocked there."""
    warehouse = shopify.add_location("OGOship Tallinn")
    product = shopify.add_product(
        "Tee",
        [
            {
                "sku": "TEE-S",
                "barcode": "6400000000011",
                "price": "19.90",
                "title": "S",
                "stock": stock,
                "location_id": warehouse["id"],
            },
            {"sku": "TEE-M", "price": "19.90", "title": "M", "stock": stock, "location_id": warehouse["id"]},
        ],
    )
    return {"warehouse": warehouse, "product": product, "items": [v["inventoryItemId"] for v in product["variants"]]}


def set_input(
    item: str, location: str, quantity: int, change_from: Any = ..., name: str = "available"
) -> dict[str, Any]:
    row: dict[str, Any] = {"inventoryItemId": item, "locationId": location, "quantity": quantity}
    if change_from is not ...:
        row["changeFromQuantity"] = change_from
    return {
        "name": name,
        "reason": "correction",
        "referenceDocumentUri": "gid://ogosync/StockSync/1",
        "quantities": [row],
    }


# -- auth and versions --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{}, {"X-Shopify-Access-Token": "wrong"}, {"Authorization": f"Bearer {TOKEN}"}])
def test_a_missing_or_bad_token_gives_401(shopify: ShopifySimulator, headers: dict[str, str]) -> None:
    response = httpx.post(
        f"{shopify.base_url}/admin/api/{VERSION}/graphql.json", json={"query": "{shop{name}}"}, headers=headers
    )
    assert response.status_code == 401
    assert "Invalid API key or access token" in response.json()["errors"]


def test_the_client_credentials_grant_issues_a_token_that_expires(
    shopify: ShopifySimulator, clock: ManualClock
) -> None:
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    answer = httpx.post(f"{shopify.base_url}/admin/oauth/access_token", data=form).json()
    assert answer["expires_in"] == 86399 and "write_inventory" in answer["scope"]
    client = httpx.Client(base_url=shopify.base_url, headers={"X-Shopify-Access-Token": answer["access_token"]})
    assert data(gql(client, "{ shop { name } }"))["shop"]["name"] == "ogosync-demo"
    clock.advance(86399)
    assert gql(client, "{ shop { name } }").status_code == 401
    wrong = httpx.post(f"{shopify.base_url}/admin/oauth/access_token", data={**form, "client_secret": "x"})
    assert wrong.status_code == 401


def test_a_control_call_expires_tokens_early(shopify: ShopifySimulator) -> None:
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    token = httpx.post(f"{shopify.base_url}/admin/oauth/access_token", data=form).json()["access_token"]
    client = httpx.Client(base_url=shopify.base_url, headers={"X-Shopify-Access-Token": token})
    assert gql(client, "{ shop { name } }").status_code == 200
    assert httpx.post(f"{shopify.root_url}/_sim/expire-tokens").json() == 1
    assert gql(client, "{ shop { name } }").status_code == 401


@pytest.mark.parametrize(
    ("asked", "served"),
    [("2026-04", "2026-04"), ("2025-07", "2026-01"), ("2026-05", "2026-07"), ("2099-01", "2026-10")],
)
def test_an_unknown_version_falls_forward(http: httpx.Client, asked: str, served: str) -> None:
    response = gql(http, "{ shop { name } }", version=asked)
    assert response.status_code == 200
    assert response.headers["X-Shopify-API-Version"] == served


def test_an_invalid_document_is_refused_with_graphql_errors(http: httpx.Client) -> None:
    body = gql(http, "{ shop { nope } }").json()
    assert "nope" in body["errors"][0]["message"] and "data" not in body


# -- cost and throttling ----------------------------------------------------------------------------------------------
def test_every_answer_carries_its_cost_and_the_bucket_leaks(
    shopify: ShopifySimulator, http: httpx.Client, clock: ManualClock
) -> None:
    first = gql(http, "{ orders(first: 10) { nodes { id fulfillmentOrders(first: 5) { nodes { status } } } } }").json()
    cost = first["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 2 + 10 * (1 + 2 + 5 * 1) == cost["actualQueryCost"]
    assert cost["throttleStatus"] == {"maximumAvailable": 1000.0, "currentlyAvailable": 918.0, "restoreRate": 50.0}
    clock.advance(1)
    second = gql(http, "{ shop { name } }").json()["extensions"]["cost"]
    assert (second["requestedQueryCost"], second["throttleStatus"]["currentlyAvailable"]) == (1, 967.0)
    assert shopify.operation_calls == {"orders": 1, "shop": 1}


@pytest.mark.parametrize("status", [200, 429])
def test_a_throttled_answer_has_the_code_and_no_actual_cost_with_either_status(
    shopify: ShopifySimulator, http: httpx.Client, status: int
) -> None:
    shopify.throttle(currently_available=5, status=status)
    response = gql(http, "{ orders(first: 10) { nodes { id } } }")
    body = response.json()
    assert response.status_code == status
    assert body["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert body["extensions"]["cost"]["actualQueryCost"] is None
    assert body["extensions"]["cost"]["requestedQueryCost"] == 12
    assert ("Retry-After" in response.headers) == (status == 429)
    assert "data" not in body
    assert gql(http, "{ shop { name } }").status_code == 200  # a cheap query still fits


def test_a_throttled_burst_refuses_the_next_calls_then_lets_them_through(
    shopify: ShopifySimulator, http: httpx.Client
) -> None:
    httpx.post(f"{shopify.root_url}/_sim/throttle", json={"next_calls": 2})
    codes = [
        gql(http, "{ shop { name } }").json().get("errors", [{}])[0].get("extensions", {}).get("code") for _ in range(3)
    ]
    assert codes == ["THROTTLED", "THROTTLED", None]


def test_the_cost_reads_page_sizes_from_variables_and_their_defaults(http: httpx.Client) -> None:
    query = (
        "query($n: Int = 7, $m: Int!) { orders(first: $n) { nodes { fulfillmentOrders(first: $m) { nodes { id } } } } }"
    )
    assert gql(http, query, m=3).json()["extensions"]["cost"]["requestedQueryCost"] == 2 + 7 * (1 + 2 + 3)
    assert gql(http, query, n=1, m=3).json()["extensions"]["cost"]["requestedQueryCost"] == 2 + 1 * (1 + 2 + 3)


def test_a_single_query_over_1000_points_is_refused(http: httpx.Client) -> None:
    body = gql(http, "{ orders(first: 250) { nodes { fulfillmentOrders(first: 10) { nodes { status } } } } }").json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert body["extensions"]["cost"]["actualQueryCost"] is None


# -- orders -----------------------------------------------------------------------------------------------------------
def test_an_order_has_lines_address_shipping_risk_and_a_fulfillment_order_per_location(
    shopify: ShopifySimulator, http: httpx.Client
) -> None:
    shop = stocked_shop(shopify)
    placed = shopify.add_order(
        [{"sku": "TEE-S", "quantity": 2}, {"sku": "TEE-M", "quantity": 1, "location_id": shopify.default_location_id}],
        location_id=shop["warehouse"]["id"],
        risk_level="HIGH",
        shipping_code="EXPRESS",
    )
    order = data(gql(http, ORDER, id=placed["id"]))["order"]
    assert (order["name"], order["displayFinancialStatus"], order["closed"]) == ("#1001", "PAID", False)
    assert shopify.order(placed["id"])["displayFulfillmentStatus"] == "UNFULFILLED"
    assert order["risk"] == {"recommendation": "CANCEL", "assessments": [{"riskLevel": "HIGH"}]}
    assert order["shippingLines"]["nodes"] == [{"title": "Standard", "code": "EXPRESS"}]
    assert order["shippingAddress"]["countryCodeV2"] == "FI"
    by_location = {fo["assignedLocation"]["location"]["id"]: fo for fo in order["fulfillmentOrders"]["nodes"]}
    warehouse_fo = by_location[shop["warehouse"]["id"]]
    assert warehouse_fo["status"] == "OPEN"
    warehouse_lines = warehouse_fo["lineItems"]["nodes"]
    assert [(li["sku"], li["totalQuantity"], li["remainingQuantity"]) for li in warehouse_lines] == [("TEE-S", 2, 2)]
    assert warehouse_lines[0]["financialSummaries"][0]["originalUnitPriceSet"]["shopMoney"]["amount"] == "19.90"
    assert len(by_location) == 2


def test_placing_an_order_moves_available_to_committed(shopify: ShopifySimulator) -> None:
    shop = stocked_shop(shopify, stock=10)
    shopify.add_order([{"sku": "TEE-S", "quantity": 3}], location_id=shop["warehouse"]["id"])
    assert shopify.inventory("TEE-S", shop["warehouse"]["id"]) == {"available": 7, "committed": 3, "on_hand": 10}


def test_hold_release_cancel_and_mark_paid_show_in_the_order(shopify: ShopifySimulator, http: httpx.Client) -> None:
    shop = stocked_shop(shopify)
    warehouse = shop["warehouse"]["id"]
    order_id = shopify.add_order(
        [{"sku": "TEE-S", "quantity": 1}],
        location_id=warehouse,
        financial_status="PENDING",
        hold_reason="INCORRECT_ADDRESS",
        hold_notes="no street",
    )["id"]
    fulfillment_order = data(gql(http, ORDER, id=order_id))["order"]["fulfillmentOrders"]["nodes"][0]
    assert fulfillment_order["status"] == "ON_HOLD"
    assert fulfillment_order["fulfillmentHolds"] == [{"reason": "INCORRECT_ADDRESS", "reasonNotes": "no street"}]
    shopify.release_order(order_id)
    shopify.mark_paid(order_id)
    order = data(gql(http, ORDER, id=order_id))["order"]
    assert (order["displayFinancialStatus"], order["fulfillmentOrders"]["nodes"][0]["status"]) == ("PAID", "OPEN")
    cancel = f"{shopify.root_url}/_sim/orders/{order_id.rsplit('/', 1)[-1]}/cancel"
    httpx.post(cancel, json={"reason": "CUSTOMER"}).raise_for_status()
    order = data(gql(http, ORDER, id=order_id))["order"]
    assert order["cancelledAt"] is not None and order["fulfillmentOrders"]["nodes"][0]["status"] == "CANCELLED"
    assert shopify.inventory("TEE-S", warehouse) == {"available": 10, "committed": 0, "on_hand": 10}


def test_orders_are_searched_by_updated_at_strictly_and_paged_with_opaque_cursors(
    shopify: ShopifySimulator, http: httpx.Client, clock: ManualClock
) -> None:
    stocked_shop(shopify)
    placed = []
    for _ in range(5):
        placed.append(shopify.add_order([{"sku": "TEE-S", "quantity": 1}])["id"])
        clock.advance(60)
    since = (clock() - timedelta(seconds=180)).isoformat().replace("+00:00", "Z")  # = the third order's time
    query = """query Orders($q: String, $after: String) {
      orders(first: 1, after: $after, query: $q, sortKey: UPDATED_AT) {
        edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"""
    seen, after = [], None
    while True:
        page = data(gql(http, query, q=f"updated_at:>'{since}'", after=after))["orders"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == placed[3:]
    shopify.update_order(placed[0], note="gift")
    assert [e["node"]["id"] for e in data(gql(http, query, q=f"updated_at:>'{since}'"))["orders"]["edges"]] == [
        placed[3]
    ]
    assert "errors" in gql(http, query, after="not-a-cursor").json()


def test_paging_stops_at_the_pagination_cap(shopify: ShopifySimulator, http: httpx.Client) -> None:
    stocked_shop(shopify)
    for _ in range(5):
        shopify.add_order([{"sku": "TEE-S", "quantity": 1}])
    shopify.pagination_cap = 3
    query = (
        "query($after: String) { orders(first: 2, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }"
    )
    first = data(gql(http, query))["orders"]
    second = data(gql(http, query, after=first["pageInfo"]["endCursor"]))["orders"]
    assert (len(first["nodes"]), len(second["nodes"]), second["pageInfo"]["hasNextPage"]) == (2, 1, False)


def test_a_page_is_at_most_250_and_first_or_last_is_required(http: httpx.Client) -> None:
    assert "250" in gql(http, "{ orders(first: 251) { nodes { id } } }").json()["errors"][0]["message"]
    assert "first or last" in gql(http, "{ orders { nodes { id } } }").json()["errors"][0]["message"]


def test_orders_older_than_60_days_are_hidden_without_read_all_orders(
    shopify: ShopifySimulator, http: httpx.Client, clock: ManualClock
) -> None:
    stocked_shop(shopify)
    old = shopify.add_order([{"sku": "TEE-S", "quantity": 1}], created_at=clock() - timedelta(days=61))["id"]
    recent = shopify.add_order([{"sku": "TEE-S", "quantity": 1}], created_at=clock() - timedelta(days=59))["id"]
    listed = data(gql(http, "{ orders(first: 10) { nodes { id } } }"))["orders"]["nodes"]
    assert [node["id"] for node in listed] == [recent]
    assert data(gql(http, ORDER, id=old))["order"] is None
    shopify.read_all_orders = True
    assert data(gql(http, ORDER, id=old))["order"]["id"] == old


def test_nodes_location_and_shop(shopify: ShopifySimulator, http: httpx.Client) -> None:
    shop = stocked_shop(shopify)
    order_id = shopify.add_order([{"sku": "TEE-S", "quantity": 1}])["id"]
    query = """query($ids: [ID!]!, $loc: ID) { shop { myshopifyDomain } location(id: $loc) { name }
      nodes(ids: $ids) { __typename id ... on ProductVariant { sku inventoryItem { duplicateSkuCount } } } }"""
    ids = [order_id, shop["product"]["variants"][0]["id"], "gid://shopify/Order/999999"]
    answer = data(gql(http, query, ids=ids, loc=shop["warehouse"]["id"]))
    assert answer["shop"]["myshopifyDomain"] == "ogosync-demo.myshopify.com"
    assert answer["location"]["name"] == "OGOship Tallinn"
    assert [node and node["__typename"] for node in answer["nodes"]] == ["Order", "ProductVariant", None]
    assert answer["nodes"][1]["inventoryItem"]["duplicateSkuCount"] == 0
    shopify.add_product("Copy", [{"sku": "TEE-S"}])
    again = data(gql(http, query, ids=ids[1:2], loc=shop["warehouse"]["id"]))["nodes"][0]
    assert again["inventoryItem"]["duplicateSkuCount"] == 1


# -- inventorySetQuantities --------------------------------------------------------------------------------------------
def test_set_quantities_writes_when_the_compare_and_swap_holds(shopify: ShopifySimulator, http: httpx.Client) -> None:
    shop = stocked_shop(shopify, stock=10)
    warehouse = shop["warehouse"]["id"]
    result = data(gql(http, SET_QUANTITIES, input=set_input(shop["items"][0], warehouse, 4, 10), key="k1"))
    assert result["inventorySetQuantities"] == {
        "inventoryAdjustmentGroup": {"changes": [{"name": "available", "delta": -6, "quantityAfterChange": 4}]},
        "userErrors": [],
    }
    assert shopify.inventory("TEE-S", warehouse)["available"] == 4
    assert shopify.inventory_call_sizes == [1]


def test_a_sale_between_read_and_write_makes_the_swap_stale_and_nothing_is_written(
    shopify: ShopifySimulator, http: httpx.Client
) -> None:
    shop = stocked_shop(shopify, stock=10)
    warehouse = shop["warehouse"]["id"]
    httpx.post(
        f"{shopify.root_url}/_sim/sell",
        json={"sku": "TEE-S", "quantity": 2, "location_id": warehouse, "before_next_stock_write": True},
    )
    result = data(gql(http, SET_QUANTITIES, input=set_input(shop["items"][0], warehouse, 10, 10), key="k1"))
    errors = result["inventorySetQuantities"]["userErrors"]
    assert [error["code"] for error in errors] == ["CHANGE_FROM_QUANTITY_STALE"]
    assert errors[0]["field"] == ["input", "quantities", "0", "changeFromQuantity"]
    assert shopify.inventory("TEE-S", warehouse) == {"available": 8, "committed": 2, "on_hand": 10}


def test_the_same_idempotency_key_returns_the_first_result_without_writing_again(
    shopify: ShopifySimulator, http: httpx.Client
) -> None:
    shop = stocked_shop(shopify, stock=10)
    warehouse = shop["warehouse"]["id"]
    request = set_input(shop["items"][0], warehouse, 4, 10)
    first = data(gql(http, SET_QUANTITIES, input=request, key="same"))
    shopify.set_stock("TEE-S", 7, location_id=warehouse)
    assert data(gql(http, SET_QUANTITIES, input=request, key="same")) == first
    assert shopify.inventory("TEE-S", warehouse)["available"] == 7
    assert shopify.inventory_call_sizes == [1]
    other_input = gql(http, SET_QUANTITIES, input=set_input(shop["items"][0], warehouse, 5, 7), key="same").json()
    assert "different input" in other_input["errors"][0]["message"]


def test_idempotent_and_change_from_quantity_are_required_from_2026_04(
    shopify: ShopifySimulator, http: httpx.Client
) -> None:
    shop = stocked_shop(shopify, stock=10)
    warehouse = shop["warehouse"]["id"]
    no_key = gql(http, SET_WITHOUT_KEY, input=set_input(shop["items"][0], warehouse, 4, 10)).json()
    assert "@idempotent" in no_key["errors"][0]["message"] and no_key["data"]["inventorySetQuantities"] is None
    no_change_from = gql(http, SET_QUANTITIES, input=set_input(shop["items"][0], warehouse, 4), key="a").json()
    assert "changeFromQuantity" in no_change_from["errors"][0]["message"]
    explicit_null = data(gql(http, SET_QUANTITIES, input=set_input(shop["items"][0], warehouse, 4, None), key="b"))
    assert explicit_null["inventorySetQuantities"]["userErrors"] == []
    assert data(gql(http, SET_WITHOUT_KEY, version="2026-01", input=set_input(shop["items"][1], warehouse, 3)))
    assert shopify.inventory("TEE-M", warehouse)["available"] == 3


def test_idempotency_not_enforced_runs_every_call(shopify: ShopifySimulator, http: httpx.Client) -> None:
    shopify.enforce_idempotency = False
    shop = stocked_shop(shopify, stock=10)
    warehouse = shop["warehouse"]["id"]
    assert data(gql(http, SET_WITHOUT_KEY, input=set_input(shop["items"][0], warehouse, 4, 10)))
    data(gql(http, SET_QUANTITIES, input=set_input(shop["items"][0], warehouse, 3, None), key="x"))
    data(gql(http, SET_QUANTITIES, input=set_input(shop["items"][0], warehouse, 3, None), key="x"))
    assert shopify.inventory_call_sizes == [1, 1, 1]


def test_set_quantities_refuses_more_than_250_rows(shopify: ShopifySimulator, http: httpx.Client) -> None:
    shop = stocked_shop(shopify)
    request = set_input(shop["items"][0], shop["warehouse"]["id"], 1, None)
    request["quantities"] = request["quantities"] * 251
    body = gql(http, SET_QUANTITIES, input=request, key="big").json()
    assert body["errors"][0]["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert shopify.inventory_call_sizes == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"quantity": -1}, "INVALID_QUANTITY_NEGATIVE"),
        ({"locationId": "DEFAULT"}, "ITEM_NOT_STOCKED_AT_LOCATION"),
        ({"inventoryItemId": "gid://shopify/InventoryItem/1"}, "INVALID_INVENTORY_ITEM"),
        ({"name": "committed"}, "INVALID_NAME"),
    ],
)
def test_set_quantities_user_errors(
    shopify: ShopifySimulator, http: httpx.Client, change: dict[str, Any], code: str
) -> None:
    shop = stocked_shop(shopify, stock=10)
    request = set_input(shop["items"][0], shop["warehouse"]["id"], 4, None)
    row = request["quantities"][0]
    for name, value in change.items():
        target = request if name == "name" else row
        target[name] = f"gid://shopify/Location/{shopify.default_location_id}" if value == "DEFAULT" else value
    result = data(gql(http, SET_QUANTITIES, input=request, key="e"))["inventorySetQuantities"]
    assert [error["code"] for error in result["userErrors"]] == [code]
    assert result["inventoryAdjustmentGroup"] is None
    assert shopify.inventory("TEE-S", shop["warehouse"]["id"])["available"] == 10


# -- fulfillmentCreate ------------------------------------------------------------------------------------------------
def _fo(http: httpx.Client, order_id: str) -> dict[str, Any]:
    node: dict[str, Any] = data(gql(http, ORDER, id=order_id))["order"]["fulfillmentOrders"]["nodes"][0]
    return node


@pytest.mark.parametrize(
    "tracking",
    [
        {"number": "1", "numbers": ["2"]},
        {"number": "1", "url": "https://t/1", "urls": ["https://t/2"]},
        {"url": "https://t/1"},
        {"numbers": ["1"], "urls": ["https://t/1"], "number": None, "url": "https://t/2"},
        {"urls": ["https://t/1"]},
    ],
)
def test_fulfillment_tracking_pairing_rules_are_enforced(
    shopify: ShopifySimulator, http: httpx.Client, tracking: dict[str, Any]
) -> None:
    stocked_shop(shopify)
    order_id = shopify.add_order([{"sku": "TEE-S", "quantity": 1}])["id"]
    fulfillment = {
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": _fo(http, order_id)["id"]}],
        "trackingInfo": tracking,
    }
    result = data(gql(http, FULFILL, fulfillment=fulfillment))["fulfillmentCreate"]
    assert result["fulfillment"] is None and result["userErrors"][0]["field"] == ["fulfillment", "trackingInfo"]
    assert shopify.fulfillments(order_id) == []


def test_partial_fulfillment_reduces_remaining_and_committed_then_closes(
    shopify: ShopifySimulator, http: httpx.Client
) -> None:
    shop = stocked_shop(shopify, stock=10)
    warehouse = shop["warehouse"]["id"]
    order_id = shopify.add_order([{"sku": "TEE-S", "quantity": 3}], location_id=warehouse)["id"]
    fulfillment_order = _fo(http, order_id)
    line = fulfillment_order["lineItems"]["nodes"][0]
    first = {
        "lineItemsByFulfillmentOrder": [
            {
                "fulfillmentOrderId": fulfillment_order["id"],
                "fulfillmentOrderLineItems": [{"id": line["id"], "quantity": 2}],
            }
        ],
        "trackingInfo": {"company": "Posti", "numbers": ["JJFI1", "JJFI2"], "urls": ["https://t/1", "https://t/2"]},
    }
    created = data(gql(http, FULFILL, fulfillment=first))["fulfillmentCreate"]
    assert created["userErrors"] == [] and created["fulfillment"]["status"] == "SUCCESS"
    assert created["fulfillment"]["trackingInfo"] == [
        {"company": "Posti", "number": "JJFI1", "url": "https://t/1"},
        {"company": "Posti", "number": "JJFI2", "url": "https://t/2"},
    ]
    after = _fo(http, order_id)
    assert (after["status"], after["lineItems"]["nodes"][0]["remainingQuantity"]) == ("IN_PROGRESS", 1)
    assert shopify.inventory("TEE-S", warehouse) == {"available": 7, "committed": 1, "on_hand": 8}
    assert shopify.fulfillments(order_id)[0]["notifyCustomer"] is False
    too_many = {**first, "trackingInfo": {"number": "X"}}
    refused = data(gql(http, FULFILL, fulfillment=too_many))["fulfillmentCreate"]
    assert "quantity" in refused["userErrors"][0]["message"]
    rest = {
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order["id"]}],
        "notifyCustomer": True,
        "trackingInfo": {"company": "UPS", "number": "1Z9"},
    }
    last = data(gql(http, FULFILL, fulfillment=rest))["fulfillmentCreate"]["fulfillment"]
    assert last["trackingInfo"][0]["url"] == "https://www.ups.com/track?tracknum=1Z9"
    assert _fo(http, order_id)["status"] == "CLOSED"
    assert shopify.inventory("TEE-S", warehouse) == {"available": 7, "committed": 0, "on_hand": 7}
    assert [f["notifyCustomer"] for f in shopify.fulfillments(order_id)] == [False, True]
    assert shopify.order(order_id)["displayFulfillmentStatus"] == "FULFILLED"
    assert data(gql(http, ORDER, id=order_id))["order"]["closed"] is True


def test_a_fulfillment_order_on_hold_is_not_fulfilled(shopify: ShopifySimulator, http: httpx.Client) -> None:
    stocked_shop(shopify)
    order_id = shopify.add_order([{"sku": "TEE-S", "quantity": 1}], hold_reason="HIGH_RISK_OF_FRAUD")["id"]
    fulfillment = {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": _fo(http, order_id)["id"]}]}
    refused = data(gql(http, FULFILL, fulfillment=fulfillment))["fulfillmentCreate"]
    assert "on_hold" in refused["userErrors"][0]["message"] and shopify.fulfillments(order_id) == []


# -- bulk operations ---------------------------------------------------------------------------------------------------
BULK_RUN = """mutation($q: String!) { bulkOperationRunQuery(query: $q) {
  bulkOperation { id status } userErrors { field message code } } }"""
BULK_POLL = "query($id: ID!) { bulkOperation(id: $id) { status objectCount rootObjectCount url } }"
ORDERS_BULK = "{ orders { edges { node { id name fulfillmentOrders { edges { node { id status } } } } } } }"


def test_a_bulk_operation_runs_created_running_completed_and_serves_jsonl(
    shopify: ShopifySimulator, http: httpx.Client
) -> None:
    stocked = stocked_shop(shopify)
    order_id = shopify.add_order(
        [{"sku": "TEE-S", "quantity": 1}, {"sku": "TEE-M", "quantity": 1, "location_id": shopify.default_location_id}],
        location_id=stocked["warehouse"]["id"],
    )["id"]
    run = data(gql(http, BULK_RUN, q=ORDERS_BULK))["bulkOperationRunQuery"]
    assert run["userErrors"] == [] and run["bulkOperation"]["status"] == "CREATED"
    polls = [data(gql(http, BULK_POLL, id=run["bulkOperation"]["id"]))["bulkOperation"] for _ in range(3)]
    assert [poll["status"] for poll in polls] == ["RUNNING", "COMPLETED", "COMPLETED"]
    assert (polls[1]["objectCount"], polls[1]["rootObjectCount"]) == ("3", "1")
    rows = [json.loads(line) for line in httpx.get(polls[1]["url"]).text.splitlines()]
    order = rows[0]
    assert order == {"id": order_id, "name": "#1001"}
    assert [(row["status"], row["__parentId"]) for row in rows[1:]] == [("OPEN", order_id), ("OPEN", order_id)]


def test_at_most_five_bulk_operations_run_at_once_and_an_invalid_query_is_refused(http: httpx.Client) -> None:
    invalid = data(gql(http, BULK_RUN, q="{ products { nope } }"))["bulkOperationRunQuery"]["userErrors"]
    assert invalid[0]["field"] == ["query"]
    codes = [data(gql(http, BULK_RUN, q=ORDERS_BULK))["bulkOperationRunQuery"]["userErrors"] for _ in range(6)]
    assert codes[:5] == [[]] * 5
    assert codes[5][0]["code"] == "OPERATION_IN_PROGRESS"


# -- webhooks ----------------------------------------------------------------------------------------------------------
def test_webhooks_are_signed_with_the_client_secret_and_carry_shopify_headers(
    shopify: ShopifySimulator, receiver: Receiver
) -> None:
    shopify.webhook_url = receiver.url
    stocked_shop(shopify)
    order_id = shopify.add_order([{"sku": "TEE-S", "quantity": 1}])["id"]
    shopify.cancel_order(order_id)
    records = shopify.deliver_webhooks()
    assert [record.status for record in records] == [200, 200, 200]
    topics = [request.headers["X-Shopify-Topic"] for request in receiver.received]
    assert topics == ["orders/create", "orders/cancelled", "orders/updated"]
    for request in receiver.received:
        expected = base64.b64encode(hmac.new(CLIENT_SECRET.encode(), request.body, hashlib.sha256).digest()).decode()
        assert request.headers["X-Shopify-Hmac-Sha256"] == expected == sign_shopify_webhook(CLIENT_SECRET, request.body)
        assert request.headers["X-Shopify-Shop-Domain"] == "ogosync-demo.myshopify.com"
        assert request.headers["X-Shopify-API-Version"] and request.headers["X-Shopify-Triggered-At"]
        assert json.loads(request.body)["admin_graphql_api_id"] == order_id
    assert len({request.headers["X-Shopify-Event-Id"] for request in receiver.received}) == 3


def test_an_order_created_paid_fires_no_orders_paid(shopify: ShopifySimulator) -> None:
    shopify.webhook_topics = frozenset({"orders/create", "orders/updated", "orders/paid"})
    stocked_shop(shopify)
    paid = shopify.add_order([{"sku": "TEE-S", "quantity": 1}])["id"]
    pending = shopify.add_order([{"sku": "TEE-S", "quantity": 1}], financial_status="PENDING")["id"]
    shopify.mark_paid(pending)
    topics = [(event["topic"], event["payload"]["admin_graphql_api_id"]) for event in shopify.pending_webhooks]
    assert ("orders/paid", paid) not in topics and ("orders/paid", pending) in topics


def test_webhook_faults_duplicate_with_the_same_event_id_lose_and_delay(
    shopify: ShopifySimulator, receiver: Receiver
) -> None:
    shopify.webhook_url = receiver.url
    stocked_shop(shopify)
    for _ in range(3):
        shopify.add_order([{"sku": "TEE-S", "quantity": 1}])
    duplicated = shopify.deliver_webhooks(duplicate_rate=1.0)
    assert len(duplicated) == 6 and [r.duplicated for r in duplicated] == [False, True] * 3
    ids = [request.headers["X-Shopify-Event-Id"] for request in receiver.received]
    webhook_ids = {request.headers["X-Shopify-Webhook-Id"] for request in receiver.received}
    assert ids[0] == ids[1] and len(set(ids)) == 3 and len(webhook_ids) == 6
    shopify.add_order([{"sku": "TEE-S", "quantity": 1}])
    assert [record.lost for record in shopify.deliver_webhooks(loss_rate=1.0)] == [True]
    shopify.add_order([{"sku": "TEE-S", "quantity": 1}])
    assert shopify.deliver_webhooks(delay_rate=1.0) == [] and len(shopify.pending_webhooks) == 1
    assert len(shopify.deliver_webhooks()) == 1 and len(receiver.received) == 7


# -- control surface and faults ----------------------------------------------------------------------------------------
def test_the_control_routes_drive_the_shop_and_report_calls(shopify: ShopifySimulator, http: httpx.Client) -> None:
    sim = shopify.root_url + "/_sim"
    warehouse = httpx.post(f"{sim}/locations", json={"name": "WH"}).json()
    httpx.post(
        f"{sim}/products",
        json={"title": "Cap", "variants": [{"sku": "CAP", "stock": 5, "location_id": warehouse["id"]}]},
    ).raise_for_status()
    order = httpx.post(
        f"{sim}/orders", json={"lines": [{"sku": "CAP", "quantity": 2}], "location_id": warehouse["id"]}
    ).json()
    httpx.post(f"{sim}/orders/{order['legacyResourceId']}/hold", json={"reason": "OTHER"}).raise_for_status()
    read = httpx.post(f"{sim}/orders/{urllib.parse.quote(order['id'], safe='')}/read").json()
    assert read["fulfillmentOrders"][0]["status"] == "ON_HOLD"
    assert httpx.post(f"{sim}/inventory", json={"sku": "CAP", "location_id": warehouse["id"]}).json() == {
        "available": 3,
        "committed": 2,
        "on_hand": 5,
    }
    assert httpx.post(f"{sim}/orders/999/read").status_code == 400
    gql(http, "query Probe { shop { name } }")
    state = httpx.get(f"{sim}/state").json()
    assert state["operationCalls"] == {"Probe": 1} and state["operationCost"] == {"Probe": 1}
    assert state["orders"] == 1 and state["calls"] == {"POST /admin/api/{version}/graphql.json": 1}


def test_scripted_faults_hit_the_graphql_endpoint(shopify: ShopifySimulator, http: httpx.Client) -> None:
    shopify.faults.add_rule(FaultRule("POST", "/admin/api", 503, times=1))
    assert gql(http, "{ shop { name } }").status_code == 503
    assert gql(http, "{ shop { name } }").status_code == 200


# -- the adapter's documents -------------------------------------------------------------------------------------------
def test_every_document_the_adapter_sends_runs_without_errors(shopify: ShopifySimulator, http: httpx.Client) -> None:
    shop = stocked_shop(shopify)
    warehouse = shop["warehouse"]["id"]
    order_id = shopify.add_order([{"sku": "TEE-S", "quantity": 2}], location_id=warehouse)["id"]
    pages: dict[str, Any] = {
        "fulfillmentOrders": 2,
        "lineItems": 20,
    }  # nested pages multiply the cost: 10 x 90 would cost > 1000
    answers = {
        "CHECK_ACCESS": data(gql(http, documents.CHECK_ACCESS, locationId=warehouse)),
        "SHOP_CURRENCY": data(gql(http, documents.SHOP_CURRENCY)),
        "ORDERS_UPDATED_SINCE": data(
            gql(http, documents.ORDERS_UPDATED_SINCE, first=3, query="updated_at:>'2024-01-01T00:00:00Z'", **pages)
        ),
        "ORDER_BY_ID": data(gql(http, documents.ORDER_BY_ID, id=order_id, **pages)),
        "INVENTORY_LEVELS": data(gql(http, documents.INVENTORY_LEVELS, ids=shop["items"], locationId=warehouse)),
        "INVENTORY_SET_QUANTITIES": data(
            gql(
                http,
                documents.INVENTORY_SET_QUANTITIES,
                input=set_input(shop["items"][0], warehouse, 10, 8),
                idempotencyKey="k",
            )
        ),
        "BULK_OPERATION_RUN_QUERY": data(
            gql(http, documents.BULK_OPERATION_RUN_QUERY, query=documents.PRODUCT_VARIANTS_BULK)
        ),
        "BULK_OPERATIONS_RUNNING": data(gql(http, documents.BULK_OPERATIONS_RUNNING)),
    }
    operation = answers["BULK_OPERATION_RUN_QUERY"]["bulkOperationRunQuery"]["bulkOperation"]
    assert [node["id"] for node in answers["BULK_OPERATIONS_RUNNING"]["bulkOperations"]["nodes"]] == [operation["id"]]
    polls = [data(gql(http, documents.BULK_OPERATION, id=operation["id"]))["bulkOperation"] for _ in range(2)]
    answers["BULK_OPERATION"] = polls[-1]
    rows = [json.loads(line) for line in httpx.get(polls[-1]["url"]).text.splitlines()]
    assert [(row["sku"], row["product"]["title"], row["inventoryItem"]["id"]) for row in rows] == [
        ("TEE-S", "Tee", shop["items"][0]),
        ("TEE-M", "Tee", shop["items"][1]),
    ]
    assert (
        answers["BULK_OPERATIONS_RUNNING"]
        and not data(gql(http, documents.BULK_OPERATIONS_RUNNING))["bulkOperations"]["nodes"]
    )
    fulfillment_order = answers["ORDER_BY_ID"]["order"]["fulfillmentOrders"]["nodes"][0]
    fulfillment = {
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fulfillment_order["id"]}],
        "trackingInfo": {"company": "Posti", "number": "JJ1", "url": "https://t/JJ1"},
    }
    answers["FULFILLMENT_CREATE"] = data(gql(http, documents.FULFILLMENT_CREATE, fulfillment=fulfillment))
    answers["ORDER_FULFILLMENTS"] = data(gql(http, documents.ORDER_FULFILLMENTS, id=order_id))
    answers["ORDER_FOR_SHIPMENT"] = data(gql(http, documents.ORDER_FOR_SHIPMENT, id=order_id, **pages))
    assert (
        answers["ORDER_FOR_SHIPMENT"]["order"]["fulfillments"] == answers["ORDER_FULFILLMENTS"]["order"]["fulfillments"]
    )
    shipped = answers["ORDER_FULFILLMENTS"]["order"]["fulfillments"]
    assert shipped[0]["location"] == {"id": warehouse} and shipped[0]["trackingInfo"][0]["number"] == "JJ1"
    assert answers["INVENTORY_SET_QUANTITIES"]["inventorySetQuantities"]["userErrors"] == []
    sent = {
        name
        for name, value in vars(documents).items()
        if name[0].isalpha() and name.isupper() and isinstance(value, str)
    }
    assert sent - {"PRODUCT_VARIANTS_BULK"} == set(answers)
