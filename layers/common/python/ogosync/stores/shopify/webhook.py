"""Verifies a Shopify webhook delivery and extracts the order it names (docs/api/shopify.md, "Webhooks").

`X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body with the app's secret (its client secret /
API secret key); it is checked over the raw bytes, in constant time, before anything is parsed. Topics
orders/create, orders/updated and orders/cancelled name the order (body `id`) to re-read; any other topic is
counted as ignored. `X-Shopify-Event-Id` is the same on every retry of one event: it is the delivery id the
webhook engine drops duplicates by. Nothing else in the body is trusted: the poll re-reads the order.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ogosync.ports import WebhookHints
from ogosync.stores import signed_json

HMAC_HEADER = "x-shopify-hmac-sha256"
TOPIC_HEADER = "x-shopify-topic"
EVENT_ID_HEADER = "x-shopify-event-id"
ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled"})


class ShopifyWebhookVerifier:
    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> WebhookHints:
        """`now` is unused: Shopify signs no timestamp, and a replay only names an order to re-read."""
        lower = {key.lower(): value for key, value in headers.items()}
        signed_json.check_base64_hmac("X-Shopify-Hmac-Sha256", lower.get(HMAC_HEADER, ""), body, secret)
        delivery_id = signed_json.delivery_id(lower.get(EVENT_ID_HEADER, ""))
        if lower.get(TOPIC_HEADER, "").strip().lower() not in ORDER_TOPICS:
            return WebhookHints(order_ids=[], ignored_events=1, delivery_id=delivery_id)
        return WebhookHints(order_ids=[signed_json.order_id(body)], delivery_id=delivery_id)
