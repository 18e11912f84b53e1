"""ShopifyStore over real HTTP against the Shopify simulator (GraphQL executed against schema.graphql): set-up
check, orders, products by bulk operation, stock under compare-and-swap, one fulfillment per push, webhooks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ogosync.errors import AuthenticationError, PlatformError
from ogosync.http import RetryPolicy
from ogosync.models import (
    HoldReason,
    ShipmentToPush,
    ShippedLine,
    SkuBinding,
    StockToPublish,
    StoreOrder,
    StoreOrderState,
)
from ogosync.stores.shopify.client import ShopifyClient
from ogosync.stores.shopify.options import ShopifyOptions
from ogosync.stores.shopify.store import ShopifyStore
from ogosync.stores.shopify.webhook import ShopifyWebhookVerifier
from ogosync_local.sim.shopify import ShopifySimulator, sign_shopify_webhook

pytestmark = pytest.mark.integration
CLIENT_ID, CLIENT_SECRET, TOKEN = "app-id", "app-secret", "shpat_static"


@pytest.fixture
def shopify() -> Iterator[ShopifySimulator]:
    with ShopifySimulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, access_tokens=[TOKEN]) as sim:
        yield sim


@pytest.fixture
def warehouse(shopify: ShopifySimulator) -> str:
    return str(shopify.add_location("OGOship Helsinki")["id"])


def _store(shopify: ShopifySimulator, location: str, **credentials: str) -> ShopifyStore:
    client = ShopifyClient(
        shopify.base_url,
        retry=RetryPolicy(attempts=3, base_delay_s=0.01),
        sleep=lambda seconds: None,
        **(credentials or {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}),
    )
    return ShopifyStore(client, ShopifyOptions(location_id=location), sleep=lambda seconds: None)


def _catalog(shopify: ShopifySimulator, warehouse: str) -> dict[str, str]:
    """Two variants stocked at the warehouse; their inventory item ids by SKU."""
    product = shopify.add_product(
        "Tee",
        [
            {"sku": "TEE-S", "title": "S", "price": "19.90", "stock": 5, "location_id": warehouse},
            {"sku": "TEE-M", "title": "M", "price": "19.90", "stock": 7, "location_id": warehouse},
        ],
        description_html="<p>Organic &amp; soft</p>",
    )
    return {variant["sku"]: variant["inventoryItemId"] for variant in product["variants"]}


def test_check_access_with_client_credentials_and_with_a_token(shopify: ShopifySimulator, warehouse: str) -> None:
    _store(shopify, warehouse).check_access()
    _store(shopify, warehouse, access_token=TOKEN).check_access()

    with pytest.raises(AuthenticationError):
        _store(shopify, warehouse, client_id=CLIENT_ID, client_secret="wrong").check_access()
    with pytest.raises(PlatformError, match="not in this shop"):
        _store(shopify, "gid://shopify/Location/999999").check_access()


def test_orders_at_the_warehouse_are_read_with_their_state_and_holds(shopify: ShopifySimulator, warehouse: str) -> None:
    _catalog(shopify, warehouse)
    since = datetime.now(UTC) - timedelta(minutes=5)
    paid = shopify.add_order([{"sku": "TEE-S", "quantity": 2}], location_id=warehouse)
    held = shopify.add_order([{"sku": "TEE-M", "quantity": 1}], location_id=warehouse, hold_reason="INCORRECT_ADDRESS")
    elsewhere = shopify.add_order([{"sku": "TEE-M", "quantity": 1}])  # the shop's own location
    waiting = shopify.add_order([{"sku": "TEE-S", "quantity": 1}], location_id=warehouse, financial_status="PENDING")

    found = {order.order_id: order for order in _store(shopify, warehouse).orders_placed_since(since)}

    assert all(isinstance(order, StoreOrder) for order in found.values())
    first = found[paid["legacyResourceId"]]
    assert isinstance(first, StoreOrder) and first.state is StoreOrderState.PAID
    assert [(line.sku, line.quantity) for line in first.lines] == [("TEE-S", 2)] and first.customer.country_code
    on_hold = found[held["legacyResourceId"]]
    assert isinstance(on_hold, StoreOrder) and [h.reason for h in on_hold.holds] == [HoldReason.ON_HOLD_IN_STORE]
    assert found[elsewhere["legacyResourceId"]].state is StoreOrderState.NOT_FOR_WAREHOUSE  # type: ignore[union-attr]
    assert found[waiting["legacyResourceId"]].state is StoreOrderState.AWAITING_PAYMENT  # type: ignore[union-attr]


def test_products_are_read_by_one_bulk_operation(shopify: ShopifySimulator, warehouse: str) -> None:
    _catalog(shopify, warehouse)

    products = {p.sku: p for p in _store(shopify, warehouse).products()}

    assert set(products) == {"TEE-S", "TEE-M"} and products["TEE-S"].name == "Tee - S"
    assert products["TEE-S"].description == "Organic & soft" and products["TEE-S"].active
    assert shopify.operation_calls["BulkOperationRunQuery"] == 1


def test_stock_written_under_compare_and_swap_and_a_sale_in_between_is_stale(
    shopify: ShopifySimulator, warehouse: str
) -> None:
    items = _catalog(shopify, warehouse)
    shopify.sell("TEE-S", 1, location_id=warehouse, before_next_stock_write=True)

    [result] = _store(shopify, warehouse).publish_stock(
        [
            StockToPublish(
                binding=SkuBinding(integration_id="i", sku=sku, store_ids={"inventory_item": item}), quantity=3
            )
            for sku, item in sorted(items.items())
        ]
    )

    assert result.stale == ["TEE-S"] and [write.sku for write in result.written] == ["TEE-M"]
    assert shopify.inventory("TEE-M", warehouse)["available"] == 3
    assert shopify.inventory("TEE-S", warehouse)["available"] == 4  # the sale kept, nothing overwritten


def test_a_push_is_one_fulfillment_with_tracking_and_then_shipped_already_sees_it(
    shopify: ShopifySimulator, warehouse: str
) -> None:
    _catalog(shopify, warehouse)
    order = shopify.add_order([{"sku": "TEE-S", "quantity": 2}, {"sku": "TEE-M", "quantity": 1}], location_id=warehouse)
    store = _store(shopify, warehouse)
    order_id = order["legacyResourceId"]
    assert store.shipped_already(order_id) is None

    shipment = ShipmentToPush(carrier="Posti", tracking_numbers=["JJFI1", "JJFI2"], tracking_url="https://t.example/1")
    pushed = store.push_shipment(
        order_id,
        [ShippedLine(code="TEE-S", quantity=2), ShippedLine(code="TEE-M", quantity=1)],
        shipment,
        before_write=lambda: None,
        deadline=None,
    )

    [fulfillment] = shopify.fulfillments(order_id)
    assert shopify.operation_calls["FulfillmentCreate"] == 1 and pushed.shipped
    assert [info["number"] for info in fulfillment["trackingInfo"]] == ["JJFI1", "JJFI2"]
    already = store.shipped_already(order_id)
    assert already is not None and already.tracking == "JJFI1, JJFI2"


def test_the_simulators_signed_webhooks_pass_the_verifier(shopify: ShopifySimulator, warehouse: str) -> None:
    _catalog(shopify, warehouse)
    order = shopify.add_order([{"sku": "TEE-S", "quantity": 1}], location_id=warehouse)
    [event] = [event for event in shopify.pending_webhooks if event["topic"] == "orders/create"]
    body = json.dumps(event["payload"]).encode()
    headers = {
        "X-Shopify-Hmac-Sha256": sign_shopify_webhook(CLIENT_SECRET, body),
        "X-Shopify-Topic": event["topic"],
        "X-Shopify-Event-Id": event["eventId"],
    }

    hints = ShopifyWebhookVerifier().verify(headers, body, CLIENT_SECRET, datetime.now(UTC))

    assert hints.order_ids == [order["legacyResourceId"]] and hints.delivery_id == event["eventId"]
