"""The Shopify simulator in the local stack: a merchant's shop with its app credentials, a warehouse location,
webhooks addressed to the stack's gateway, and a myOGO account (own or shared)."""

from __future__ import annotations

import socket
from collections import Counter

import httpx
import pytest

from ogosync.models import Flow, IntegrationSettings
from ogosync_local.stack import LocalStack

pytestmark = pytest.mark.e2e


def test_a_shopify_merchant_has_a_shop_its_app_can_call_and_a_myogo_account(stack: LocalStack) -> None:
    merchant = stack.add_shopify_merchant("acme-shopify", shipping_codes={"POSTI"})
    app = merchant.secret_values["store"]
    assert app["platform"] == "shopify" and merchant.secret_values["webhook_secret"] == app["client_secret"]
    shop = merchant.shopify
    assert shop.webhook_url == f"{stack.gateway.base_url}/webhooks/shopify/acme-shopify"
    form = {"grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"]}
    token = httpx.post(f"{shop.base_url}/admin/oauth/access_token", data=form).json()["access_token"]
    answer = httpx.post(
        f"{shop.base_url}/admin/api/2026-04/graphql.json",
        json={"query": "query($id: ID) { location(id: $id) { name } }", "variables": {"id": merchant.location_id}},
        headers={"X-Shopify-Access-Token": token},
    ).json()
    assert answer["data"]["location"]["name"] == "OGOship warehouse"
    stack.myogo.add_product(merchant.merchant_id, "LS-WHT-M", stock=3)
    assert set(stack.myogo.products(merchant.merchant_id)) == {"LS-WHT-M"}


def test_a_second_shop_can_share_a_myogo_account_and_the_stack_stops_its_shops() -> None:
    with LocalStack(quiet=True) as stack:
        centra = stack.add_centra_merchant("acme-centra", shipping_codes={"POSTI"})
        shopify = stack.add_shopify_merchant("acme-shopify", shipping_codes={"POSTI"}, myogo_account_of="acme-centra")
        assert shopify.merchant_id == centra.merchant_id
        assert shopify.secret_values["myogo_secret_token"] == centra.secret_values["myogo_secret_token"]
        port = shopify.shopify.port
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_paid_shopify_orders_reach_myogo_once_through_signed_webhooks_and_the_poll(stack: LocalStack) -> None:
    setup = stack.add_shopify_store("acme-shopify", shipping_map={"Standard": "POSTI"}, products={"LS-WHT-M": 20})
    setup.shopify.add_product("Linen shirt", [{"sku": "LS-WHT-M", "stock": 20, "location_id": setup.location_id}])
    paid = [
        setup.shopify.add_order([{"sku": "LS-WHT-M", "quantity": 2}], location_id=setup.location_id) for _ in range(3)
    ]
    deliveries = setup.shopify.deliver_webhooks(duplicate_rate=1.0, reorder=True, seed=1)
    assert {record.status for record in deliveries} == {202}  # signed with the app's secret: accepted
    stack.run_order_workers()
    stack.enqueue_flow(setup.integration.id, Flow.ORDERS)
    stack.run_flow(Flow.ORDERS)
    sent = stack.myogo.orders(setup.merchant_id)
    assert Counter(order["reference"] for order in sent.values()) == Counter(
        {order["legacyResourceId"]: 1 for order in paid}
    )
    line = next(iter(sent.values()))["orderLines"][0]
    assert (line["code"], line["quantity"]) == ("LS-WHT-M", 2)


def test_a_sale_between_the_stock_read_and_write_is_not_overwritten_and_the_next_run_recomputes(
    stack: LocalStack,
) -> None:
    settings = IntegrationSettings(order_poll_minutes=1, create_new_products=True)
    setup = stack.add_shopify_store("acme-shopify", shipping_map={"Standard": "POSTI"}, settings=settings)
    shop, warehouse = setup.shopify, setup.location_id
    shop.add_product(
        "Linen shirt",
        [{"sku": sku, "stock": 20, "location_id": warehouse} for sku in ("LS-WHT-M", "LS-WHT-L")],
    )
    stack.enqueue_flow(setup.integration.id, Flow.PRODUCTS)
    stack.run_flow(Flow.PRODUCTS)  # creates and binds both variants in myOGO
    for sku in ("LS-WHT-M", "LS-WHT-L"):
        stack.myogo.set_stock(setup.merchant_id, sku, 10)
    shop.add_order([{"sku": "LS-WHT-M", "quantity": 2}], location_id=warehouse)
    shop.sell("LS-WHT-M", 1, location_id=warehouse, before_next_stock_write=True)

    def stock_run() -> tuple[int, int]:
        stack.enqueue_flow(setup.integration.id, Flow.STOCK)
        stack.run_flow(Flow.STOCK)
        return shop.inventory("LS-WHT-M", warehouse)["available"], shop.inventory("LS-WHT-L", warehouse)["available"]

    stock_run()
    assert shop.inventory_refusals == {"CHANGE_FROM_QUANTITY_STALE": 1}  # the write over the sale was refused
    assert stock_run() == (7, 10)  # re-read: 10 in myOGO minus 3 in unshipped orders (the refused write was 8)
    writes = shop.operation_calls["InventorySetQuantities"]
    assert stock_run() == (7, 10) and shop.operation_calls["InventorySetQuantities"] == writes


def test_a_shipped_order_gets_one_fulfillment_with_its_tracking_in_shopify(stack: LocalStack) -> None:
    setup = stack.add_shopify_store("acme-shopify", shipping_map={"Standard": "POSTI"}, products={"LS-WHT-M": 20})
    shop, warehouse = setup.shopify, setup.location_id
    shop.add_product("Linen shirt", [{"sku": "LS-WHT-M", "stock": 20, "location_id": warehouse}])
    order = shop.add_order([{"sku": "LS-WHT-M", "quantity": 2}], location_id=warehouse)
    stack.enqueue_flow(setup.integration.id, Flow.ORDERS)
    stack.run_flow(Flow.ORDERS)
    stack.myogo.advance(2)  # the warehouse collects and ships it
    for _ in range(2):  # the scheduled poll twice: the second finds it pushed
        stack.enqueue_flow(setup.integration.id, Flow.TRACKING)
        stack.run_flow(Flow.TRACKING)
    shipped = stack.myogo.orders(setup.merchant_id)[order["legacyResourceId"]]
    (fulfillment,) = shop.fulfillments(order["id"])
    assert [(row["number"], row["url"]) for row in fulfillment["trackingInfo"]] == [
        (shipped["trackingNumber"], shipped["trackingUrl"])
    ]
    assert fulfillment["notifyCustomer"] is True  # the integration's notify_customer default
    assert [(line["sku"], line["quantity"]) for line in fulfillment["lineItems"]] == [("LS-WHT-M", 2)]
    assert shop.order(order["id"])["fulfillmentOrders"][0]["status"] == "CLOSED"
    assert shop.inventory("LS-WHT-M", warehouse) == {"available": 18, "committed": 0, "on_hand": 18}
