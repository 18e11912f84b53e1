"""ShopifyStore over a fake Shopify (an httpx transport answering each GraphQL operation by name): stock under
compare-and-swap (stale and not-found items), 250 quantities a call, one write per shipment push with
before_write right before it, orders paged and read whole, products by one bulk operation, and check_access."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ogosync.errors import (
    ConcurrencyConflictError,
    OrderNotReadyError,
    PlatformError,
    RejectedByPlatformError,
    ShipmentMismatchError,
)
from ogosync.http import RetryPolicy
from ogosync.models import (
    ShipmentToPush,
    ShippedLine,
    SkuBinding,
    StockToPublish,
    StoreOrder,
    StoreOrderState,
    UnidentifiedOrder,
    UnreadableOrder,
)
from ogosync.stores.shopify.client import ShopifyClient
from ogosync.stores.shopify.options import ShopifyOptions
from ogosync.stores.shopify.store import ShopifyStore, tracking_input
from ogosync.stores.shopify.version import API_VERSION

BASE = "https://demo.myshopify.com"
LOCATION = "gid://shopify/Location/7"
OTHER_LOCATION = "gid://shopify/Location/8"
BULK_URL = "https://storage.example/bulk/result.jsonl"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
_OPERATION = re.compile(r"^\s*(?:query|mutation)\s+(\w+)")


def _order(number: int, *, fulfillment_orders: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/Order/{number}",
        "legacyResourceId": str(number),
        "createdAt": "2026-11-30T10:00:00Z",
        "cancelledAt": None,
        "currencyCode": "EUR",
        "displayFinancialStatus": "PAID",
        "email": "a@example.com",
        "totalPriceSet": {"shopMoney": {"amount": "20.00", "currencyCode": "EUR"}},
        "shippingAddress": {
            "name": "A B",
            "address1": "Street 1",
            "city": "Helsinki",
            "zip": "00100",
            "countryCodeV2": "FI",
        },
        "shippingLines": {"nodes": [{"title": "Posti", "code": "posti"}]},
        "risk": {"recommendation": "ACCEPT", "assessments": [{"riskLevel": "LOW"}]},
        "fulfillmentOrders": {
            "pageInfo": {"hasNextPage": False},
            "nodes": fulfillment_orders if fulfillment_orders is not None else [_fo(f"{number}1", [("SKU-1", 2)])],
        },
        **extra,
    }


def _fo(
    fo_id: str, lines: list[tuple[str, int]], *, status: str = "OPEN", location: str = LOCATION, more: bool = False
) -> dict[str, Any]:
    return {
        "id": f"gid://shopify/FulfillmentOrder/{fo_id}",
        "status": status,
        "assignedLocation": {"location": {"id": location}},
        "fulfillmentHolds": [{"reason": "OTHER", "reasonNotes": "check"}] if status == "ON_HOLD" else [],
        "lineItems": {
            "pageInfo": {"hasNextPage": more},
            "nodes": [
                {
                    "id": f"gid://shopify/FulfillmentOrderLineItem/{fo_id}{index}",
                    "sku": sku,
                    "productTitle": "Shirt",
                    "variantTitle": "M",
                    "totalQuantity": quantity,
                    "remainingQuantity": quantity,
                    "financialSummaries": [
                        {"quantity": quantity, "approximateDiscountedUnitPriceSet": {"shopMoney": {"amount": "10.0"}}}
                    ],
                }
                for index, (sku, quantity) in enumerate(lines)
            ],
        },
    }


class FakeShopify:
    """Answers the adapter's operations from in-memory state and records every call by operation name."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.available: dict[str, int] = {}  # inventory item gid -> available at LOCATION
        self.stocked_elsewhere: set[str] = set()
        self.sold_between: dict[str, int] = {}  # item -> a sale that lands between our read and our write
        self.orders: dict[str, dict[str, Any]] = {}
        self.order_pages: list[list[dict[str, Any]]] = []
        self.fulfillments: dict[str, list[dict[str, Any]]] = {}
        self.fulfillment_errors: list[dict[str, Any]] = []
        self.bulk_running: list[dict[str, Any]] = []
        self.bulk_polls_until_done = 2
        self.bulk_rows: list[dict[str, Any]] = []
        self.location: dict[str, Any] | None = {"id": LOCATION, "name": "OGOship", "isActive": True}
        self.api_version = API_VERSION
        self.events: list[str] = []

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url == httpx.URL(BULK_URL):
            return httpx.Response(200, text="\n".join(json.dumps(row) for row in self.bulk_rows) + "\n")
        body = json.loads(request.content)
        match = _OPERATION.match(body["query"])
        assert match, body["query"]
        name, variables = match[1], body["variables"]
        self.calls.append((name, variables))
        self.events.append(name)
        data = getattr(self, f"_{name}")(variables)
        cost = {
            "requestedQueryCost": 100,
            "throttleStatus": {"maximumAvailable": 2000, "currentlyAvailable": 2000, "restoreRate": 100},
        }
        headers = {"X-Shopify-API-Version": self.api_version}
        return httpx.Response(200, json={"data": data, "extensions": {"cost": cost}}, headers=headers)

    def _CheckAccess(self, variables: dict[str, Any]) -> dict[str, Any]:
        return {
            "shop": {"id": "gid://shopify/Shop/1", "name": "Demo", "myshopifyDomain": "demo.myshopify.com"},
            "location": self.location,
        }

    def _ShopCurrency(self, variables: dict[str, Any]) -> dict[str, Any]:
        return {"shop": {"currencyCode": "EUR"}}

    def _OrdersUpdatedSince(self, variables: dict[str, Any]) -> dict[str, Any]:
        index = int(variables["after"] or 0)
        nodes = self.order_pages[index]
        more = index + 1 < len(self.order_pages)
        return {"orders": {"nodes": nodes, "pageInfo": {"hasNextPage": more, "endCursor": str(index + 1)}}}

    def _OrderById(self, variables: dict[str, Any]) -> dict[str, Any]:
        return {"order": self.orders.get(variables["id"])}

    def _OrderForShipment(self, variables: dict[str, Any]) -> dict[str, Any]:
        order = self.orders.get(variables["id"])
        return {
            "order": None if order is None else {**order, "fulfillments": self.fulfillments.get(variables["id"], [])}
        }

    def _OrderFulfillments(self, variables: dict[str, Any]) -> dict[str, Any]:
        order = self.orders.get(variables["id"])
        return {
            "order": None
            if order is None
            else {
                "id": variables["id"],
                "cancelledAt": None,
                "fulfillments": self.fulfillments.get(variables["id"], []),
            }
        }

    def _BulkOperationsRunning(self, variables: dict[str, Any]) -> dict[str, Any]:
        return {"bulkOperations": {"nodes": self.bulk_running}}

    def _BulkOperationRunQuery(self, variables: dict[str, Any]) -> dict[str, Any]:
        return {
            "bulkOperationRunQuery": {
                "bulkOperation": {"id": "gid://shopify/BulkOperation/1", "status": "CREATED"},
                "userErrors": [],
            }
        }

    def _BulkOperation(self, variables: dict[str, Any]) -> dict[str, Any]:
        self.bulk_polls_until_done -= 1
        done = self.bulk_polls_until_done <= 0
        return {
            "bulkOperation": {
                "id": variables["id"],
                "status": "COMPLETED" if done else "RUNNING",
                "errorCode": None,
                "objectCount": "2",
                "url": BULK_URL if done else None,
            }
        }

    def _InventoryLevels(self, variables: dict[str, Any]) -> dict[str, Any]:
        assert len(variables["ids"]) <= 250
        nodes: list[dict[str, Any] | None] = []
        for item in variables["ids"]:
            if item in self.available:
                quantities = [{"name": "available", "quantity": self.available[item]}]
                nodes.append({"id": item, "inventoryLevel": {"quantities": quantities}})
            else:
                nodes.append({"id": item, "inventoryLevel": None} if item in self.stocked_elsewhere else None)
        for item, sold in self.sold_between.items():
            self.available[item] -= sold
        self.sold_between = {}
        return {"nodes": nodes}

    def _InventorySetQuantities(self, variables: dict[str, Any]) -> dict[str, Any]:
        stock_input = variables["input"]
        assert variables["idempotencyKey"] and stock_input["referenceDocumentUri"].startswith(
            "gid://ogosync/StockSync/"
        )
        assert stock_input["name"] == "available" and len(stock_input["quantities"]) <= 250
        errors = [
            {
                "code": "CHANGE_FROM_QUANTITY_STALE",
                "field": ["input", "quantities", str(index), "changeFromQuantity"],
                "message": "The quantity changed",
            }
            for index, row in enumerate(stock_input["quantities"])
            if self.available[row["inventoryItemId"]] != row["changeFromQuantity"]
        ]
        if errors:  # nothing applied
            return {"inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": errors}}
        for row in stock_input["quantities"]:
            assert row["locationId"] == LOCATION
            self.available[row["inventoryItemId"]] = row["quantity"]
        return {
            "inventorySetQuantities": {"inventoryAdjustmentGroup": {"id": "gid://shopify/Group/1"}, "userErrors": []}
        }

    def _FulfillmentCreate(self, variables: dict[str, Any]) -> dict[str, Any]:
        if self.fulfillment_errors:
            return {"fulfillmentCreate": {"fulfillment": None, "userErrors": self.fulfillment_errors}}
        return {
            "fulfillmentCreate": {
                "fulfillment": {"id": "gid://shopify/Fulfillment/55", "status": "SUCCESS", "trackingInfo": []},
                "userErrors": [],
            }
        }


@pytest.fixture
def shopify() -> FakeShopify:
    return FakeShopify()


def _store(shopify: FakeShopify, sleeps: list[float] | None = None, **options: Any) -> ShopifyStore:
    client = ShopifyClient(
        BASE,
        access_token="t",
        transport=httpx.MockTransport(shopify),
        retry=RetryPolicy(attempts=1),
        sleep=lambda seconds: None,
    )
    keys = iter(f"key-{n}" for n in range(1000))
    return ShopifyStore(
        client,
        ShopifyOptions(location_id="7", **options),
        sleep=(sleeps.append if sleeps is not None else lambda seconds: None),
        new_key=lambda: next(keys),
    )


def _item(sku: str, quantity: int, inventory_item: str | None = None) -> StockToPublish:
    ids = {"inventory_item": inventory_item} if inventory_item else {}
    return StockToPublish(binding=SkuBinding(integration_id="demo", sku=sku, store_ids=ids), quantity=quantity)


# ---- stock ----------------------------------------------------------------------------------------------


def test_stock_is_set_under_compare_and_swap_with_the_value_just_read(shopify: FakeShopify) -> None:
    shopify.available = {"gid://shopify/InventoryItem/1": 5, "gid://shopify/InventoryItem/2": 9}

    [result] = _store(shopify).publish_stock(
        [_item("A", 3, "gid://shopify/InventoryItem/1"), _item("B", 4, "gid://shopify/InventoryItem/2")]
    )

    assert [(w.sku, w.store_quantity) for w in result.written] == [("A", 3), ("B", 4)]
    assert result.stale == [] and result.not_found == []
    [(_, sent)] = [call for call in shopify.calls if call[0] == "InventorySetQuantities"]
    assert [row["changeFromQuantity"] for row in sent["input"]["quantities"]] == [5, 9]
    assert sent["input"]["referenceDocumentUri"] == f"gid://ogosync/StockSync/{sent['idempotencyKey']}"


def test_a_sale_between_read_and_write_makes_that_sku_stale_and_the_rest_is_written(shopify: FakeShopify) -> None:
    shopify.available = {"gid://shopify/InventoryItem/1": 5, "gid://shopify/InventoryItem/2": 9}
    shopify.sold_between = {"gid://shopify/InventoryItem/1": 1}

    [result] = _store(shopify).publish_stock(
        [_item("A", 3, "gid://shopify/InventoryItem/1"), _item("B", 4, "gid://shopify/InventoryItem/2")]
    )

    assert result.stale == ["A"] and [w.sku for w in result.written] == ["B"]
    assert shopify.available == {"gid://shopify/InventoryItem/1": 4, "gid://shopify/InventoryItem/2": 4}
    keys = [sent["idempotencyKey"] for name, sent in shopify.calls if name == "InventorySetQuantities"]
    assert len(keys) == 2 and len(set(keys)) == 2  # the refused call applied nothing: the rest sent anew


def test_unknown_unstocked_and_unaddressed_items_are_not_found_and_not_written(shopify: FakeShopify) -> None:
    shopify.available = {"gid://shopify/InventoryItem/1": 0}
    shopify.stocked_elsewhere = {"gid://shopify/InventoryItem/2"}

    results = list(
        _store(shopify).publish_stock(
            [
                _item("A", 3, "gid://shopify/InventoryItem/1"),
                _item("B", 4, "gid://shopify/InventoryItem/2"),
                _item("C", 1, "gid://shopify/InventoryItem/3"),
                _item("D", 1),
            ]
        )
    )

    assert sorted(sku for result in results for sku in result.not_found) == ["B", "C", "D"]
    assert [w.sku for result in results for w in result.written] == ["A"]


def test_at_most_250_quantities_a_call(shopify: FakeShopify) -> None:
    items = [_item(f"S{n}", 1, f"gid://shopify/InventoryItem/{n}") for n in range(600)]
    shopify.available = {f"gid://shopify/InventoryItem/{n}": 0 for n in range(600)}

    results = list(_store(shopify).publish_stock(items))

    sizes = [len(sent["input"]["quantities"]) for name, sent in shopify.calls if name == "InventorySetQuantities"]
    assert sizes == [250, 250, 100] and sum(len(result.written) for result in results) == 600


def test_values_the_store_already_has_are_not_written(shopify: FakeShopify) -> None:
    shopify.available = {"gid://shopify/InventoryItem/1": 3}

    [result] = _store(shopify).publish_stock([_item("A", 3, "gid://shopify/InventoryItem/1")])

    assert [w.sku for w in result.written] == ["A"] and "InventorySetQuantities" not in shopify.names()


# ---- shipments ------------------------------------------------------------------------------------------


def _shipment(*numbers: str, url: str | None = "https://track.example/1") -> ShipmentToPush:
    return ShipmentToPush(carrier="Posti", tracking_numbers=list(numbers), tracking_url=url)


def test_push_is_one_fulfillment_create_after_the_reads_right_after_before_write(shopify: FakeShopify) -> None:
    shopify.orders["gid://shopify/Order/1"] = _order(
        1,
        fulfillment_orders=[
            _fo("11", [("SKU-1", 2), ("SKU-2", 1)]),
            _fo("12", [("SKU-3", 1)], location=OTHER_LOCATION),
        ],
    )

    shipped = _store(shopify, notify_customer=False).push_shipment(
        "1",
        [ShippedLine(code="SKU-1", quantity=2)],
        _shipment("JJFI1"),
        before_write=lambda: shopify.events.append("before_write"),
        deadline=None,
    )

    assert shopify.events == ["OrderForShipment", "before_write", "FulfillmentCreate"]
    [(_, sent)] = [call for call in shopify.calls if call[0] == "FulfillmentCreate"]
    assert sent["fulfillment"] == {
        "lineItemsByFulfillmentOrder": [
            {
                "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/11",
                "fulfillmentOrderLineItems": [{"id": "gid://shopify/FulfillmentOrderLineItem/110", "quantity": 2}],
            }
        ],
        "notifyCustomer": False,
        "trackingInfo": {"company": "Posti", "number": "JJFI1", "url": "https://track.example/1"},
    }
    assert shipped.shipment_id == "gid://shopify/Fulfillment/55" and shipped.shipped and shipped.tracking == "JJFI1"


def test_a_push_finds_a_tracked_fulfillment_of_ours_and_writes_nothing(shopify: FakeShopify) -> None:
    shopify.orders["gid://shopify/Order/1"] = _order(1)
    shopify.fulfillments["gid://shopify/Order/1"] = [
        {
            "id": "gid://shopify/Fulfillment/3",
            "status": "SUCCESS",
            "location": {"id": LOCATION},
            "trackingInfo": [{"number": "EARLIER"}],
        },
    ]
    before: list[int] = []

    found = _store(shopify).push_shipment(
        "1",
        [ShippedLine(code="SKU-1", quantity=2)],
        _shipment("X"),
        before_write=lambda: before.append(1),
        deadline=None,
    )

    assert found.already_shipped and found.tracking == "EARLIER"
    assert before == [] and "FulfillmentCreate" not in shopify.names()


def test_nothing_is_written_when_the_claim_is_lost(shopify: FakeShopify) -> None:
    shopify.orders["gid://shopify/Order/1"] = _order(1)

    def lost() -> None:
        raise ConcurrencyConflictError("claim taken over")

    with pytest.raises(ConcurrencyConflictError):
        _store(shopify).push_shipment(
            "1", [ShippedLine(code="SKU-1", quantity=2)], _shipment("X"), before_write=lost, deadline=None
        )
    assert "FulfillmentCreate" not in shopify.names()


@pytest.mark.parametrize(
    ("order", "error"),
    [
        (_order(1, fulfillment_orders=[_fo("11", [("SKU-1", 2)], status="ON_HOLD")]), OrderNotReadyError),
        (_order(1, cancelledAt="2026-11-30T11:00:00Z"), RejectedByPlatformError),
        (_order(1, fulfillment_orders=[_fo("11", [("OTHER", 2)])]), ShipmentMismatchError),
        (None, RejectedByPlatformError),
    ],
)
def test_a_push_that_cannot_be_made_writes_nothing(
    shopify: FakeShopify, order: dict[str, Any] | None, error: type[Exception]
) -> None:
    if order is not None:
        shopify.orders["gid://shopify/Order/1"] = order
    before: list[int] = []

    with pytest.raises(error):
        _store(shopify).push_shipment(
            "1",
            [ShippedLine(code="SKU-1", quantity=2)],
            _shipment("X"),
            before_write=lambda: before.append(1),
            deadline=None,
        )
    assert before == [] and "FulfillmentCreate" not in shopify.names()


def test_a_refused_fulfillment_create_is_a_rejection_with_shopify_words(shopify: FakeShopify) -> None:
    shopify.orders["gid://shopify/Order/1"] = _order(1)
    shopify.fulfillment_errors = [{"field": ["fulfillment"], "message": "Fulfillment order is not open"}]

    with pytest.raises(RejectedByPlatformError, match="is not open"):
        _store(shopify).push_shipment(
            "1", [ShippedLine(code="SKU-1", quantity=2)], _shipment("X"), before_write=lambda: None, deadline=None
        )
    assert shopify.names().count("FulfillmentCreate") == 1


@pytest.mark.parametrize(
    ("numbers", "url", "expected"),
    [
        ((), "https://t/1", {"company": "Posti"}),
        (("A",), None, {"company": "Posti", "number": "A"}),
        (("A",), "https://t/1", {"company": "Posti", "number": "A", "url": "https://t/1"}),
        (("A", "B"), None, {"company": "Posti", "numbers": ["A", "B"]}),
        (("A", "B"), "https://t/1", {"company": "Posti", "numbers": ["A", "B"], "urls": ["https://t/1"]}),
    ],
)
def test_tracking_obeys_the_pairing_rules(numbers: tuple[str, ...], url: str | None, expected: dict[str, Any]) -> None:
    assert tracking_input(_shipment(*numbers, url=url)) == expected


def test_shipped_already_finds_a_tracked_fulfillment_at_our_location(shopify: FakeShopify) -> None:
    shopify.orders["gid://shopify/Order/1"] = _order(1)
    shopify.fulfillments["gid://shopify/Order/1"] = [
        {
            "id": "gid://shopify/Fulfillment/1",
            "status": "CANCELLED",
            "location": {"id": LOCATION},
            "trackingInfo": [{"number": "OLD"}],
        },
        {
            "id": "gid://shopify/Fulfillment/2",
            "status": "SUCCESS",
            "location": {"id": OTHER_LOCATION},
            "trackingInfo": [{"number": "ELSEWHERE"}],
        },
        {
            "id": "gid://shopify/Fulfillment/3",
            "status": "SUCCESS",
            "location": {"id": LOCATION},
            "trackingInfo": [{"number": "A"}, {"number": "B"}],
        },
    ]

    found = _store(shopify).shipped_already("1")

    assert found is not None and (found.shipment_id, found.tracking) == ("gid://shopify/Fulfillment/3", "A, B")


def test_shipped_already_is_none_without_a_fulfillment_of_ours(shopify: FakeShopify) -> None:
    shopify.orders["gid://shopify/Order/1"] = _order(1)

    assert _store(shopify).shipped_already("1") is None


# ---- orders ---------------------------------------------------------------------------------------------


def test_orders_are_paged_by_updated_at_and_read_whole(shopify: FakeShopify) -> None:
    truncated = _order(3, fulfillment_orders=[_fo("31", [("SKU-1", 1)], more=True)])
    shopify.order_pages = [[_order(1), {"id": "garbage"}], [truncated]]
    shopify.orders["gid://shopify/Order/3"] = _order(3)

    found = list(_store(shopify).orders_placed_since(datetime(2026, 11, 30, 9, 30, 15, 500, tzinfo=UTC)))

    assert [type(order).__name__ for order in found] == ["StoreOrder", "UnidentifiedOrder", "StoreOrder"]
    pages = [variables for name, variables in shopify.calls if name == "OrdersUpdatedSince"]
    assert pages[0]["query"] == "updated_at:>'2026-11-30T09:30:15Z'" and pages[1]["after"] == "1"
    assert pages[1]["first"] == 47  # 100 points for 5 orders: 47 fit in 95% of one query's 1000
    assert shopify.names().count("OrderById") == 1  # the truncated one, read again alone


def test_get_order_maps_and_reports(shopify: FakeShopify) -> None:
    shopify.orders["gid://shopify/Order/1"] = _order(1)
    shopify.orders["gid://shopify/Order/2"] = _order(2, createdAt="yesterday")
    store = _store(shopify)

    order = store.get_order("1")
    assert isinstance(order, StoreOrder) and order.state is StoreOrderState.PAID and order.lines[0].quantity == 2
    unreadable = store.get_order("2")
    assert isinstance(unreadable, UnreadableOrder) and "createdAt" in unreadable.problem
    assert store.get_order("404") is None and store.get_order("not-a-number") is None


# ---- products -------------------------------------------------------------------------------------------


VARIANT = {
    "id": "gid://shopify/ProductVariant/11",
    "title": "Default Title",
    "sku": "SKU-1",
    "barcode": "6400000000017",
    "price": "19.90",
    "image": None,
    "product": {
        "id": "gid://shopify/Product/1",
        "title": "Shirt",
        "status": "ACTIVE",
        "descriptionHtml": "<p>Soft &amp; warm</p>",
        "onlineStoreUrl": None,
        "featuredMedia": {"preview": {"image": {"url": "https://cdn.example/shirt.jpg"}}},
    },
    "inventoryItem": {"id": "gid://shopify/InventoryItem/21"},
}


def test_products_come_from_one_bulk_operation_polled_with_backoff(shopify: FakeShopify) -> None:
    shopify.bulk_rows = [VARIANT, {"no": "id"}]
    sleeps: list[float] = []

    products = list(_store(shopify, sleeps).products())

    assert [(p.sku, p.name, p.description, p.currency, p.image_url) for p in products] == [
        ("SKU-1", "Shirt", "Soft & warm", "EUR", "https://cdn.example/shirt.jpg")
    ]
    assert products[0].store_ids == {
        "product": "gid://shopify/Product/1",
        "variant": "gid://shopify/ProductVariant/11",
        "inventory_item": "gid://shopify/InventoryItem/21",
    }
    assert shopify.names().count("BulkOperationRunQuery") == 1 and sleeps == [1.0]


def test_a_bulk_operation_of_ours_still_running_is_awaited_not_started_again(shopify: FakeShopify) -> None:
    from ogosync.stores.shopify.documents import PRODUCT_VARIANTS_BULK

    shopify.bulk_running = [
        {"id": "gid://shopify/BulkOperation/9", "status": "RUNNING", "query": " ".join(PRODUCT_VARIANTS_BULK.split())}
    ]
    shopify.bulk_rows = [VARIANT]

    assert len(list(_store(shopify).products())) == 1
    assert "BulkOperationRunQuery" not in shopify.names()
    assert [v["id"] for name, v in shopify.calls if name == "BulkOperation"] == ["gid://shopify/BulkOperation/9"] * 2


# ---- access ---------------------------------------------------------------------------------------------


def test_check_access_passes_for_an_active_location(shopify: FakeShopify) -> None:
    _store(shopify).check_access()

    assert shopify.calls == [("CheckAccess", {"locationId": LOCATION})]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda fake: setattr(fake, "location", None), "not in this shop"),
        (lambda fake: setattr(fake, "location", {"id": LOCATION, "name": "Old", "isActive": False}), "not active"),
        (lambda fake: setattr(fake, "api_version", "2026-07"), "API version 2026-07"),
    ],
)
def test_check_access_names_what_is_wrong(
    shopify: FakeShopify, change: Callable[[FakeShopify], None], message: str
) -> None:
    change(shopify)

    with pytest.raises(PlatformError, match=message):
        _store(shopify).check_access()


def test_check_access_on_a_wrong_url_names_url_and_version() -> None:
    client = ShopifyClient(BASE, access_token="t", transport=httpx.MockTransport(lambda r: httpx.Response(404)))
    store = ShopifyStore(client, ShopifyOptions(location_id="7"))

    with pytest.raises(PlatformError, match=f"store URL .* API version {API_VERSION}"):
        store.check_access()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(node=st.one_of(st.just(_order(5)), json_values), id_kind=st.sampled_from(["legacy", "gid", "none"]))
def test_any_record_in_the_order_list_comes_as_an_order_or_a_report(node: Any, id_kind: str) -> None:
    if isinstance(node, dict) and id_kind != "none":
        node = {**node, "id": "gid://shopify/Order/5"} if id_kind == "gid" else {**node, "legacyResourceId": 5}
    shopify = FakeShopify()
    shopify.order_pages = [[node]] if isinstance(node, dict) else [[]]

    found = list(_store(shopify).orders_placed_since(datetime(2026, 11, 30, tzinfo=UTC)))

    assert all(isinstance(order, StoreOrder | UnreadableOrder | UnidentifiedOrder) for order in found)
