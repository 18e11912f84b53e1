"""WooCommerceStore over real HTTP against the WooCommerce simulator: the set-up check (keys, permalinks, a stripped
Authorization header), orders by modified_after, simple products and variations, stock through the batch routes
(limit, 413 halving, per-item errors), one shipment write with its note and Shipment Tracking entries, webhooks."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

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
from ogosync.stores.woocommerce.client import WooCommerceClient
from ogosync.stores.woocommerce.options import WooCommerceOptions
from ogosync.stores.woocommerce.store import WooCommerceStore
from ogosync.stores.woocommerce.webhook import WooCommerceWebhookVerifier
from ogosync_local.sim.woocommerce import WooCommerceSimulator, sign_woocommerce_webhook

pytestmark = pytest.mark.integration
KEY, SECRET = "ck_sim", "cs_sim"
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture
def woo() -> Iterator[WooCommerceSimulator]:
    with WooCommerceSimulator(consumer_key=KEY, consumer_secret=SECRET) as sim:
        yield sim


def _client(woo: WooCommerceSimulator, key: str = KEY, secret: str = SECRET) -> WooCommerceClient:
    return WooCommerceClient(
        woo.root_url,
        consumer_key=key,
        consumer_secret=secret,
        retry=RetryPolicy(attempts=3, base_delay_s=0.01),
        sleep=lambda seconds: None,
    )


def _store(woo: WooCommerceSimulator, key: str = KEY, secret: str = SECRET, **options: Any) -> WooCommerceStore:
    options_model = WooCommerceOptions.model_validate(options)
    return WooCommerceStore(_client(woo, key, secret), options_model, integration_id="shop")


def _catalog(woo: WooCommerceSimulator) -> dict[str, Any]:
    mug = woo.add_product("Mug", sku="MUG", global_unique_id="6400000000011", price="9.90", stock_quantity=10)
    secret = woo.add_product("Sample", sku="SAMPLE", meta={"_nettivarasto_no_export": "yes"})
    tee = woo.add_product(
        "Tee",
        description="<p>Soft <b>cotton</b></p>",
        meta={"_nettivarasto_eancode": "6400000000028"},
        variations=[
            {"sku": "TEE-S", "price": "19.90", "attributes": {"Size": "S"}, "stock_quantity": 5},
            {"sku": "TEE-M", "price": "21.90", "attributes": {"Size": "M"}, "stock_quantity": 7},
        ],
    )
    return {"mug": mug, "sample": secret, "tee": tee}


def _binding(sku: str, **ids: Any) -> SkuBinding:
    return SkuBinding(integration_id="acme-woo", sku=sku, store_ids={key: str(value) for key, value in ids.items()})


# ---- set-up ----------------------------------------------------------------------------------------------------


def test_check_access_passes_with_a_read_write_key(woo: WooCommerceSimulator) -> None:
    client = _client(woo)
    WooCommerceStore(client, WooCommerceOptions(), integration_id="shop").check_access()
    assert not client.keys_in_query


def test_a_stripped_authorization_header_falls_back_to_query_keys(woo: WooCommerceSimulator) -> None:
    woo.configure(strip_authorization=True)
    client = _client(woo)
    store = WooCommerceStore(client, WooCommerceOptions(), integration_id="shop")

    store.check_access()

    assert client.keys_in_query
    assert [order.order_id for order in store.orders_placed_since(LONG_AGO)] == []


def test_a_read_only_key_and_a_wrong_secret_fail_the_check(woo: WooCommerceSimulator) -> None:
    woo.add_key("ck_read", "cs_read", "read")
    with pytest.raises(AuthenticationError, match="write permissions"):
        _store(woo, "ck_read", "cs_read").check_access()
    with pytest.raises(AuthenticationError, match="Consumer secret is invalid"):
        _store(woo, KEY, "wrong").check_access()


def test_plain_permalinks_are_named(woo: WooCommerceSimulator) -> None:
    woo.configure(plain_permalinks=True)
    with pytest.raises(PlatformError, match="Permalinks"):
        _store(woo).check_access()


# ---- orders ----------------------------------------------------------------------------------------------------


def test_orders_changed_after_the_cursor_come_with_states_and_lines(woo: WooCommerceSimulator) -> None:
    _catalog(woo)
    paid = woo.add_order([{"sku": "MUG", "quantity": 2}], shipping_method="Posti")
    held = woo.add_order([{"sku": "TEE-S", "quantity": 1}], status="on-hold")
    store = _store(woo)

    found = {order.order_id: order for order in store.orders_placed_since(LONG_AGO)}

    first = found[str(paid["id"])]
    assert isinstance(first, StoreOrder) and first.state is StoreOrderState.PAID
    assert [(line.sku, line.quantity) for line in first.lines] == [("MUG", 2)]
    assert first.shipping_method == "Posti"
    second = found[str(held["id"])]
    assert isinstance(second, StoreOrder) and [hold.reason for hold in second.holds] == [HoldReason.ON_HOLD_IN_STORE]
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    assert list(store.orders_placed_since(tomorrow)) == []
    assert store.get_order(str(paid["id"])) == first and store.get_order("999999") is None


def test_more_orders_than_a_page_are_all_read(woo: WooCommerceSimulator) -> None:
    _catalog(woo)
    placed = {str(woo.add_order([{"sku": "MUG", "quantity": 1}])["id"]) for _ in range(105)}

    assert {order.order_id for order in _store(woo).orders_placed_since(LONG_AGO)} == placed


# ---- products --------------------------------------------------------------------------------------------------


def test_products_are_simple_ones_and_variations_with_inherited_ean(woo: WooCommerceSimulator) -> None:
    made = _catalog(woo)

    found = {product.sku: product for product in _store(woo).products()}

    assert set(found) == {"MUG", "TEE-S", "TEE-M"}  # the no-export sample is skipped
    assert {product.currency for product in found.values()} == {"EUR"}  # from the system status
    assert found["MUG"].ean == "6400000000011" and found["MUG"].store_ids == {"product": str(made["mug"]["id"])}
    small = found["TEE-S"]
    assert small.ean == "6400000000028" and small.name == "Tee - S" and small.description == "Soft cotton"
    assert small.store_ids["product"] == str(made["tee"]["id"]) and "variation" in small.store_ids


# ---- stock -----------------------------------------------------------------------------------------------------


def test_stock_is_written_through_both_batch_routes(woo: WooCommerceSimulator) -> None:
    made = _catalog(woo)
    small = made["tee"]["variation_details"][0]
    items = [
        StockToPublish(binding=_binding("MUG", product=made["mug"]["id"]), quantity=3),
        StockToPublish(binding=_binding("TEE-S", product=made["tee"]["id"], variation=small["id"]), quantity=0),
        StockToPublish(binding=_binding("GONE", product=999999), quantity=1),
    ]

    results = list(_store(woo).publish_stock(items))

    assert sorted(write.sku for result in results for write in result.written) == ["MUG", "TEE-S"]
    assert [sku for result in results for sku in result.not_found] == ["GONE"]
    assert woo.stock("MUG")["stock_quantity"] == 3 and woo.stock("TEE-S")["stock_quantity"] == 0


def test_a_lower_batch_limit_is_read_from_the_413_and_a_refused_item_is_not_recorded(woo: WooCommerceSimulator) -> None:
    products = [woo.add_product(f"P{n}", sku=f"P{n}", stock_quantity=0) for n in range(120)]
    woo.configure(batch_limit=40)
    woo.fail_ids([products[5]["id"]])
    items = [
        StockToPublish(binding=_binding(product["sku"], product=product["id"]), quantity=n + 1)
        for n, product in enumerate(products)
    ]

    results = list(_store(woo).publish_stock(items))

    written = {write.sku for result in results for write in result.written}
    assert written == {product["sku"] for product in products} - {"P5"}
    assert woo.batch_refusals == 1 and woo.batch_sizes == [40, 40, 40]  # the limit its 413 names, after one refusal
    assert woo.stock("P7")["stock_quantity"] == 8 and woo.stock("P5")["stock_quantity"] == 0


# ---- tracking --------------------------------------------------------------------------------------------------

SHIPMENT = ShipmentToPush(carrier="Posti", tracking_numbers=["JJFI1", "JJFI2"], tracking_url="https://t.example/JJFI1")


def test_one_shipment_write_with_note_and_tracking_entries_exactly_once(woo: WooCommerceSimulator) -> None:
    _catalog(woo)
    woo.configure(shipment_tracking=True)
    order_id = str(woo.add_order([{"sku": "MUG", "quantity": 2}])["id"])
    store = _store(woo)
    renewed: list[int] = []

    assert store.shipped_already(order_id) is None
    shipment = store.push_shipment(
        order_id, [ShippedLine(code="MUG", quantity=2)], SHIPMENT, before_write=lambda: renewed.append(1), deadline=None
    )
    again = store.push_shipment(
        order_id, [ShippedLine(code="MUG", quantity=2)], SHIPMENT, before_write=pytest.fail, deadline=None
    )

    assert shipment.shipped and not shipment.already_shipped and again.already_shipped and renewed == [1]
    order = woo.order(order_id)
    meta = {row["key"]: row["value"] for row in order["meta_data"]}
    assert order["status"] == "completed" and order["emails"].count("customer_completed_order") == 1
    assert meta["ogoship_tracking"] == "JJFI1, JJFI2" and meta["ogoship_tracking_url"] == "https://t.example/JJFI1"
    assert [note["customer_note"] for note in order["notes"] if "JJFI1" in note["note"]] == [True]
    assert [row["tracking_number"] for row in order["shipment_trackings"]] == ["JJFI1", "JJFI2"]
    found = store.shipped_already(order_id)
    assert found is not None and found.tracking == "JJFI1, JJFI2"


def test_complete_order_off_leaves_the_status(woo: WooCommerceSimulator) -> None:
    _catalog(woo)
    order_id = str(woo.add_order([{"sku": "MUG", "quantity": 1}])["id"])

    _store(woo, complete_order=False, customer_note=False).push_shipment(
        order_id, [ShippedLine(code="MUG", quantity=1)], SHIPMENT, before_write=lambda: None, deadline=None
    )

    order = woo.order(order_id)
    assert order["status"] == "processing" and not [note for note in order["notes"] if "JJFI1" in note["note"]]


# ---- webhooks --------------------------------------------------------------------------------------------------


def test_a_signed_order_delivery_names_the_order(woo: WooCommerceSimulator) -> None:
    body = json.dumps({"id": 4711, "status": "processing"}).encode()
    headers = {
        "X-WC-Webhook-Signature": sign_woocommerce_webhook("hook-secret", body),
        "X-WC-Webhook-Topic": "order.created",
        "X-WC-Webhook-Delivery-ID": "abc",
    }

    hints = WooCommerceWebhookVerifier().verify(headers, body, "hook-secret", datetime.now(UTC))

    assert hints.order_ids == ["4711"] and hints.delivery_id == "abc"


def test_our_webhooks_the_shop_disabled_or_paused_are_named_and_others_are_not(woo: WooCommerceSimulator) -> None:
    dead = "http://127.0.0.1:9"  # nothing listens: every delivery fails
    created = woo.add_webhook("order.created", f"{dead}/Prod/webhooks/woocommerce/shop", "s")
    updated = woo.add_webhook("order.updated", f"{dead}/webhooks/woocommerce/shop/", "s")
    woo.add_webhook("order.created", f"{dead}/webhooks/woocommerce/another-shop", "s")
    woo.configure(max_delivery_failures=1)
    woo.add_product("Mug", sku="MUG", stock_quantity=10)
    for _ in range(2):  # two failed deliveries each: above the limit, WooCommerce disables them
        woo.add_order([{"sku": "MUG", "quantity": 1}])
        woo.deliver_webhooks()
    store = _store(woo)
    store._client.call("PUT", f"webhooks/{updated['id']}", json={"status": "paused"})

    switched_off = store.switched_off_webhooks()

    assert [hook["status"] for hook in woo.webhooks()] == ["disabled", "paused", "disabled"]
    assert len(switched_off) == 2
    assert f"webhook {created['id']}" in switched_off[0] and "disabled it after failed deliveries" in switched_off[0]
    assert f"webhook {updated['id']}" in switched_off[1] and "paused" in switched_off[1]
    assert all("set its status to Active" in line for line in switched_off)


def test_no_webhook_of_ours_switched_off_gives_nothing(woo: WooCommerceSimulator) -> None:
    woo.add_webhook("order.created", "http://127.0.0.1:9/webhooks/woocommerce/shop", "s")

    assert _store(woo).switched_off_webhooks() == []
