"""The four flows for a WooCommerce store on the local stack, through the registry's WooCommerce adapter: paid
orders reach myOGO once (signed webhooks, duplicated and reordered, plus the poll), products are created and
bound with their EAN, stock is written through the batch routes, and a shipped order gets one shipment write."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from ogosync.models import Flow, IntegrationSettings
from ogosync_local.stack import LocalStack

pytestmark = pytest.mark.e2e


def test_paid_woocommerce_orders_reach_myogo_once_through_signed_webhooks_and_the_poll(stack: LocalStack) -> None:
    setup = stack.add_woocommerce_store("acme-woo", shipping_map={"Flat rate": "POSTI"}, products={"LS-WHT-M": 20})
    site = setup.woocommerce
    site.add_product("Linen shirt", sku="LS-WHT-M", stock_quantity=20)
    paid = [site.add_order([{"sku": "LS-WHT-M", "quantity": 2}]) for _ in range(3)]
    waiting = site.add_order([{"sku": "LS-WHT-M", "quantity": 1}], status="on-hold")

    deliveries = site.deliver_webhooks(duplicate_rate=1.0, reorder=True, seed=1)
    assert {record.status for record in deliveries} == {202}  # signed with the webhook secret: accepted
    stack.run_order_workers()
    stack.enqueue_flow(setup.integration.id, Flow.ORDERS)
    stack.run_flow(Flow.ORDERS)

    sent = stack.myogo.orders(setup.merchant_id)
    assert Counter(order["reference"] for order in sent.values()) == Counter({str(order["id"]): 1 for order in paid})
    assert str(waiting["id"]) not in sent
    line = next(iter(sent.values()))["orderLines"][0]
    assert (line["code"], line["quantity"]) == ("LS-WHT-M", 2)


def test_products_are_created_in_myogo_and_stock_is_written_to_the_site(stack: LocalStack) -> None:
    settings = IntegrationSettings(order_poll_minutes=1, create_new_products=True)
    setup = stack.add_woocommerce_store("acme-woo", shipping_map={"Flat rate": "POSTI"}, settings=settings)
    site = setup.woocommerce
    site.add_product(
        "Linen shirt",
        meta={"_nettivarasto_eancode": "6400000000028"},
        variations=[
            {"sku": sku, "attributes": {"Size": size}, "stock_quantity": 20}
            for sku, size in (("LS-M", "M"), ("LS-L", "L"))
        ],
    )
    site.add_product("Gift wrap", sku="WRAP", meta={"_nettivarasto_no_export": "yes"})
    stack.enqueue_flow(setup.integration.id, Flow.PRODUCTS)
    stack.run_flow(Flow.PRODUCTS)
    products = stack.myogo.products(setup.merchant_id)
    assert set(products) == {"LS-M", "LS-L"}
    for sku in ("LS-M", "LS-L"):
        stack.myogo.set_stock(setup.merchant_id, sku, 10)
    site.add_order([{"sku": "LS-M", "quantity": 2}])

    stack.enqueue_flow(setup.integration.id, Flow.STOCK)
    stack.run_flow(Flow.STOCK)

    assert site.stock("LS-M")["stock_quantity"] == 8  # 10 in myOGO minus 2 in an order not yet in myOGO
    assert site.stock("LS-L")["stock_quantity"] == 10


def test_a_shipped_order_gets_one_shipment_write_with_its_tracking(stack: LocalStack) -> None:
    setup = stack.add_woocommerce_store("acme-woo", shipping_map={"Flat rate": "POSTI"}, products={"LS-WHT-M": 20})
    site = setup.woocommerce
    site.add_product("Linen shirt", sku="LS-WHT-M", stock_quantity=20)
    order = site.add_order([{"sku": "LS-WHT-M", "quantity": 2}])
    stack.enqueue_flow(setup.integration.id, Flow.ORDERS)
    stack.run_flow(Flow.ORDERS)
    stack.myogo.advance(2)  # the warehouse collects and ships it
    for _ in range(2):  # the scheduled poll twice: the second finds it pushed
        stack.enqueue_flow(setup.integration.id, Flow.TRACKING)
        stack.run_flow(Flow.TRACKING)

    shipped = stack.myogo.orders(setup.merchant_id)[str(order["id"])]
    found = site.order(order["id"])
    meta = {row["key"]: row["value"] for row in found["meta_data"]}
    assert meta["ogoship_tracking"] == shipped["trackingNumber"]
    assert meta["ogoship_tracking_url"] == shipped["trackingUrl"]
    assert found["status"] == "completed" and found["emails"].count("customer_completed_order") == 1
    assert len([note for note in found["notes"] if note["customer_note"]]) == 1


def test_the_operator_api_creates_a_woocommerce_integration_after_checking_keys_and_permalinks(
    stack: LocalStack,
) -> None:
    merchant = stack.add_woocommerce_merchant("acme-woo", shipping_codes={"POSTI"})
    site = merchant.woocommerce
    body = {
        "id": "acme-woo",
        "platform": "woocommerce",
        "merchant_name": "Acme Woo",
        "store_base_url": site.root_url,
        "myogo_base_url": stack.myogo.root_url,
        "myogo_token_url": stack.myogo_token_url,
        "warehouse": "TLL",
        "time_zone": "Europe/Helsinki",
        "store_options": {"paid_statuses": ["processing"], "complete_order": False},
        "credentials": dict(merchant.secret_values),
    }
    read_only = dict(merchant.secret_values) | {
        "store": {"platform": "woocommerce", "consumer_key": "ck_ro", "consumer_secret": "cs_ro"}
    }
    site.add_key("ck_ro", "cs_ro", "read")
    with httpx.Client(base_url=stack.operator.base_url, timeout=30) as api:
        site.configure(plain_permalinks=True)
        permalinks = api.post("/integrations", json=body)
        site.configure(plain_permalinks=False)
        refused = api.post("/integrations", json=body | {"credentials": read_only})
        site.configure(strip_authorization=True)
        created = api.post("/integrations", json=body)

    assert permalinks.status_code == 422 and "Permalinks" in permalinks.text
    assert refused.status_code == 422 and "write permissions" in refused.text
    assert created.status_code == 201, created.text
    stored = stack.state().get_integration("acme-woo")
    assert stored is not None and stored.store_options == {
        "paid_statuses": ["processing"],
        "complete_order": False,
        "customer_note": True,
    }


def test_a_sale_between_the_stock_read_and_write_is_corrected_by_the_next_run(stack: LocalStack) -> None:
    settings = IntegrationSettings(order_poll_minutes=1, create_new_products=True)
    setup = stack.add_woocommerce_store("acme-woo", shipping_map={"Flat rate": "POSTI"}, settings=settings)
    site = setup.woocommerce
    site.add_product("Mug", sku="MUG", stock_quantity=20)
    stack.enqueue_flow(setup.integration.id, Flow.PRODUCTS)
    stack.run_flow(Flow.PRODUCTS)
    stack.myogo.set_stock(setup.merchant_id, "MUG", 10)
    site.add_order([{"sku": "MUG", "quantity": 2}])
    site.sell("MUG", 1, before_next_stock_write=True)  # WooCommerce has no compare-and-swap: the write wins

    def stock_run() -> int:
        stack.enqueue_flow(setup.integration.id, Flow.STOCK)
        stack.run_flow(Flow.STOCK)
        return int(site.stock("MUG")["stock_quantity"])

    assert stock_run() == 8  # 10 minus the 2 read as in transit; the sale in between is overwritten
    assert stock_run() == 7  # the next run counts the sale's order too: 10 minus 3
    assert stock_run() == 7


def test_status_warns_when_the_shop_disabled_our_webhook_and_the_poll_still_brings_the_order(
    stack: LocalStack,
) -> None:
    setup = stack.add_woocommerce_store("acme-woo", shipping_map={"Flat rate": "POSTI"}, products={"LS-WHT-M": 20})
    site = setup.woocommerce
    site.add_product("Linen shirt", sku="LS-WHT-M", stock_quantity=20)
    site.configure(max_delivery_failures=0)  # the first failed delivery disables a webhook
    keys = setup.secret_values["store"]
    with httpx.Client(base_url=site.root_url, auth=(keys["consumer_key"], keys["consumer_secret"]), timeout=30) as shop:
        for hook in site.webhooks():  # the merchant mistyped the secret: ogosync refuses every delivery
            shop.put(f"/wp-json/wc/v3/webhooks/{hook['id']}", json={"secret": "mistyped"}).raise_for_status()
    order = site.add_order([{"sku": "LS-WHT-M", "quantity": 1}])

    deliveries = site.deliver_webhooks()
    stack.enqueue_flow(setup.integration.id, Flow.ORDERS)
    stack.run_flow(Flow.ORDERS)
    with httpx.Client(base_url=stack.operator.base_url, timeout=30) as api:
        state = api.get("/integrations/acme-woo/status").json()

    assert {record.status for record in deliveries} == {401}
    assert {hook["topic"]: hook["status"] for hook in site.webhooks()} == {
        "order.created": "disabled",  # its one delivery failed
        "order.updated": "active",  # nothing to deliver yet
    }
    assert str(order["id"]) in {sent["reference"] for sent in stack.myogo.orders(setup.merchant_id).values()}
    orders_flow = next(flow for flow in state["flows"] if flow["flow"] == "orders")
    warning = next(text for text in orders_flow["warnings"] if "switched off webhooks" in text)
    assert "(order.created) is disabled" in warning and "order.updated" not in warning
    assert "set its status to Active" in warning
