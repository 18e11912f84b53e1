"""The WooCommerce simulator in the local stack: a merchant's site with its REST API key, order webhooks addressed to
the stack's gateway, a myOGO account (own or shared) and the integration written with its secrets."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from ogosync.models import Credentials, Platform
from ogosync.state.skus import DynamoSkuBindings
from ogosync_local.stack import LocalStack

pytestmark = pytest.mark.e2e


def test_a_woocommerce_merchant_has_a_site_its_key_can_call_and_a_myogo_account(stack: LocalStack) -> None:
    merchant = stack.add_woocommerce_merchant("acme-woo", shipping_codes={"POSTI"})
    key = merchant.secret_values["store"]
    assert key["platform"] == "woocommerce"
    site = merchant.woocommerce
    site.add_product("Linen shirt", sku="LS-WHT-M", stock_quantity=4)
    answer = httpx.get(
        f"{site.root_url}/wp-json/wc/v3/products", auth=(key["consumer_key"], key["consumer_secret"]), timeout=5
    )
    assert [row["sku"] for row in answer.json()] == ["LS-WHT-M"]
    hooks = site.webhooks()
    assert {hook["topic"] for hook in hooks} == {"order.created", "order.updated"}
    assert {hook["delivery_url"] for hook in hooks} == {f"{stack.gateway.base_url}/webhooks/woocommerce/acme-woo"}
    stack.myogo.add_product(merchant.merchant_id, "LS-WHT-M", stock=3)
    assert set(stack.myogo.products(merchant.merchant_id)) == {"LS-WHT-M"}


def test_a_woocommerce_store_is_an_integration_with_valid_secrets_and_a_registered_myogo_webhook(
    stack: LocalStack,
) -> None:
    setup = stack.add_woocommerce_store("acme-woo", shipping_map={"Flat rate": "POSTI"}, products={"LS-WHT-M": 20})
    stored = stack.state().get_integration("acme-woo")
    assert stored is not None and stored.platform is Platform.WOOCOMMERCE
    assert stored.store_base_url == setup.woocommerce.root_url
    assert set(stack.myogo.products(setup.merchant_id)) == {"LS-WHT-M"}
    stack.register_myogo_webhook("acme-woo")
    secret = stack.aws.client("secretsmanager").get_secret_value(SecretId=stored.secret_name)["SecretString"]
    credentials = Credentials.model_validate(json.loads(secret))
    assert credentials.store.platform == "woocommerce" and credentials.myogo_webhook_key is not None


def test_a_woocommerce_site_can_share_a_myogo_account_and_the_stack_stops_its_sites() -> None:
    with LocalStack(quiet=True) as stack:
        centra = stack.add_centra_merchant("acme-centra", shipping_codes={"POSTI"})
        woo = stack.add_woocommerce_merchant("acme-woo", shipping_codes={"POSTI"}, myogo_account_of="acme-centra")
        assert woo.merchant_id == centra.merchant_id
        assert woo.secret_values["myogo_secret_token"] == centra.secret_values["myogo_secret_token"]
        port = woo.woocommerce.port
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_bindings_seeded_from_the_sites_products_name_the_product_and_the_variation(stack: LocalStack) -> None:
    setup = stack.add_woocommerce_store("acme-woo", shipping_map={"Flat rate": "POSTI"})
    site = setup.woocommerce
    mug = site.add_product("Mug", sku="MUG", global_unique_id="6400000000011")
    tee = site.add_product("Tee", variations=[{"sku": "TEE-S"}, {"sku": ""}])
    stack.seed_woocommerce_bindings("acme-woo", [mug, tee])
    stored = DynamoSkuBindings(stack.aws.client("dynamodb"), stack.aws.table_name).all_sku_bindings("acme-woo")
    by_sku = {binding.sku: binding for binding in stored}
    assert set(by_sku) == {"MUG", "TEE-S"}
    assert by_sku["MUG"].store_ids == {"product": str(mug["id"])} and by_sku["MUG"].ean == "6400000000011"
    small = tee["variation_details"][0]["id"]
    assert by_sku["TEE-S"].store_ids == {"product": str(tee["id"]), "variation": str(small)}
