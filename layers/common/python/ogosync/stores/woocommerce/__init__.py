"""WooCommerce, through its REST API wc/v3: client.py speaks the API, mapping.py reads its records, store.py is the
store port, webhook.py checks its deliveries. API facts with sources: docs/api/woocommerce.md.

Light on purpose: nothing here imports httpx; the client is imported when a store is built."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ogosync.models import Credentials, Integration, Platform
from ogosync.stores.credentials import WooCommerceCredentials
from ogosync.stores.registry import PlatformAdapter, options_of
from ogosync.stores.woocommerce.options import WooCommerceOptions

if TYPE_CHECKING:
    from ogosync.http import RetryPolicy
    from ogosync.ratelimit import CallBudget
    from ogosync.stores.woocommerce.store import WooCommerceStore
    from ogosync.stores.woocommerce.webhook import WooCommerceWebhookVerifier

__all__ = ["ADAPTER", "SETUP_TEXT", "WooCommerceOptions"]

SETUP_TEXT = (
    "In WordPress: WooCommerce -> Settings -> Advanced -> REST API -> Add key, with Read/Write permission, for a "
    "user who may manage WooCommerce; give ogosync its consumer key and consumer secret. Settings -> Permalinks "
    "must be anything but Plain (the REST API lives at /wp-json/). WooCommerce -> Settings -> Advanced -> Webhooks "
    "-> Add webhook, twice: topics Order created and Order updated, status Active, delivery URL this URL, API "
    "version WP REST API Integration v3, and as secret the webhook secret given to ogosync "
    "(credentials.webhook_secret). WooCommerce does not retry a failed delivery and disables a webhook after "
    "repeated failures; ogosync polls the orders anyway, the webhooks only make it faster. Optional store_options: "
    'paid_statuses (default ["processing"]), complete_order (default true: the order becomes Completed when '
    "shipped, and WooCommerce e-mails the customer) and customer_note (default true: a note to the customer with "
    "the carrier and tracking codes). With the Shipment Tracking extension, ogosync also adds its tracking entries."
)


def _build_store(
    integration: Integration, credentials: Credentials, retry: RetryPolicy | None, budget: CallBudget | None
) -> WooCommerceStore:
    """`budget` paces the shop's calls across the fleet: WooCommerce sets no rate limit of its own, and many shops
    run on small shared hosts."""
    from ogosync.stores.woocommerce.client import WooCommerceClient
    from ogosync.stores.woocommerce.store import WooCommerceStore

    secrets = credentials.store
    if not isinstance(secrets, WooCommerceCredentials):
        raise TypeError("WooCommerce needs WooCommerce credentials")
    client = WooCommerceClient(
        integration.store_base_url,
        consumer_key=secrets.consumer_key.get_secret_value(),
        consumer_secret=secrets.consumer_secret.get_secret_value(),
        retry=retry,
        budget=budget,
    )
    return WooCommerceStore(client, options_of(integration, WooCommerceOptions), integration_id=integration.id)


def _build_verifier() -> WooCommerceWebhookVerifier:
    from ogosync.stores.woocommerce.webhook import WooCommerceWebhookVerifier

    return WooCommerceWebhookVerifier()


ADAPTER = PlatformAdapter(
    platform=Platform.WOOCOMMERCE,
    name="WooCommerce",
    credentials_model=WooCommerceCredentials,
    options_model=WooCommerceOptions,
    build_store=_build_store,
    build_verifier=_build_verifier,
    setup_text=SETUP_TEXT,
    credentials_guide=(
        "In WordPress: WooCommerce -> Settings -> Advanced -> REST API -> Add key: permissions Read/Write, for a "
        "user who may manage WooCommerce (the key dies with that user). Give the consumer key (ck_...) and the "
        "consumer secret (cs_...); WooCommerce shows them once. The store URL is the shop's root address."
    ),
    store_url_hint="https://<your shop's domain>",
)
