"""The Shopify simulator in the local stack: a merchant's shop with its app credentials, a warehouse location,
webhooks addressed to the stack's gateway, and a myOGO account (own or shared)."""

from __future__ import annotations

import socket

import httpx
import pytest

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
