"""Shopify, through the GraphQL Admin API (pinned in version.py): client.py speaks the API, mapping.py reads its
records, store.py is the store port, webhook.py checks its deliveries. API facts with sources: docs/api/shopify.md.

Light on purpose: nothing here imports httpx; the client is imported when a store is built."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogosync.models import Credentials, Integration, Platform
from ogosync.stores.credentials import ShopifyCredentials
from ogosync.stores.registry import PlatformAdapter, options_of
from ogosync.stores.shopify.options import ShopifyOptions
from ogosync.stores.shopify.version import API_VERSION

if TYPE_CHECKING:
    from ogosync.http import RetryPolicy
    from ogosync.ratelimit import CallBudget
    from ogosync.stores.shopify.store import ShopifyStore
    from ogosync.stores.shopify.webhook import ShopifyWebhookVerifier

__all__ = ["ADAPTER", "API_VERSION", "SETUP_TEXT", "ShopifyOptions"]

SCOPES = (
    "read_orders",
    "read_merchant_managed_fulfillment_orders",
    "write_merchant_managed_fulfillment_orders",
    "read_products",
    "read_inventory",
    "write_inventory",
    "read_locations",
)

SETUP_TEXT = (
    "In Shopify: create an app for your store in the Dev Dashboard (Shopify admin -> Settings -> Apps -> Develop "
    "apps, or dev.shopify.com), give it the Admin API scopes " + ", ".join(SCOPES) + " (and "
    "read_assigned_fulfillment_orders, write_assigned_fulfillment_orders when the warehouse location belongs to a "
    "fulfillment-service app; read_all_orders to see orders older than 60 days), and install it on the store. "
    "Give ogosync the app's client ID and client secret (ogosync renews its ~24 h access tokens itself), or the "
    "Admin API access token of an existing custom app; the client secret (API secret key) is also the webhook "
    "secret (credentials.webhook_secret). Give the location that is the myOGO warehouse as "
    "store_options.location_id (its numeric id, from Settings -> Locations -> the location's URL, or "
    "gid://shopify/Location/<id>): ogosync reads only the fulfillment orders assigned to it and sets stock there. "
    "Subscribe webhooks orders/create, orders/updated and orders/cancelled (JSON, API version " + API_VERSION + ") "
    "to this URL; they only speed things up, the poll finds every order anyway. Optional store_options: "
    'paid_statuses (default ["PAID"]) and notify_customer (default true).'
)


def _build_store(
    integration: Integration, credentials: Credentials, retry: RetryPolicy | None, budget: CallBudget | None
) -> ShopifyStore:
    """`budget` is not used: Shopify's own cost bucket, which the client paces by (throttleStatus), is kept by Shopify
    for the app and store, so it holds across every container already (docs/api/shopify.md, "Cost and throttling")."""
    from ogosync.stores.shopify.client import ShopifyClient
    from ogosync.stores.shopify.store import ShopifyStore

    secrets = credentials.store
    if not isinstance(secrets, ShopifyCredentials):
        raise TypeError("Shopify needs Shopify credentials")
    client = ShopifyClient(
        integration.store_base_url,
        access_token=secrets.access_token.get_secret_value() if secrets.access_token else None,
        client_id=secrets.client_id,
        client_secret=secrets.client_secret.get_secret_value() if secrets.client_secret else None,
        retry=retry,
    )
    return ShopifyStore(client, options_of(integration, ShopifyOptions))


def _build_verifier() -> ShopifyWebhookVerifier:
    from ogosync.stores.shopify.webhook import ShopifyWebhookVerifier

    return ShopifyWebhookVerifier()


ADAPTER = PlatformAdapter(
    platform=Platform.SHOPIFY,
    credentials_model=ShopifyCredentials,
    options_model=ShopifyOptions,
    build_store=_build_store,
    build_verifier=_build_verifier,
    setup_text=SETUP_TEXT,
    credentials_guide=(
        "In Shopify: Settings -> Apps -> Develop apps (or the Dev Dashboard): create an app with the Admin API scopes "
        + ", ".join(SCOPES)
        + " and install it. Give its client ID and client secret, or the Admin API access token of an existing "
        "custom app. The location that is the myOGO warehouse: Settings -> Locations, its numeric id is in the URL."
    ),
    store_url_hint="https://<your shop>.myshopify.com",
)
