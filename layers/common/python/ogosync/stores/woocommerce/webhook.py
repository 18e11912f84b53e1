"""Verifies a WooCommerce webhook delivery and extracts the order it names (docs/api/woocommerce.md, "Webhooks").

`X-WC-Webhook-Signature` is the base64 HMAC-SHA256 of the raw body with the webhook's secret; it is checked over
the raw bytes, in constant time, before anything is parsed. Topics order.created, order.updated, order.deleted and
order.restored name the order (body `id`) to re-read; any other topic is counted as ignored. WooCommerce's ping
when a webhook is saved is a form body `webhook_id=N` (unsigned, uncertain): it is accepted and names nothing.
`X-WC-Webhook-Delivery-ID` is the delivery id duplicates are dropped by. WooCommerce does not retry a failed
delivery and disables a webhook after repeated failures: webhooks only speed the poll up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from ogosync.ports import WebhookHints
from ogosync.stores import signed_json

SIGNATURE_HEADER = "x-wc-webhook-signature"
TOPIC_HEADER = "x-wc-webhook-topic"
DELIVERY_ID_HEADER = "x-wc-webhook-delivery-id"
ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.deleted", "order.restored"})
_PING = re.compile(rb"^webhook_id=\d{1,20}$")


class WooCommerceWebhookVerifier:
    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> WebhookHints:
        """`now` is unused: WooCommerce signs no timestamp, and a replay only names an order to re-read."""
        lower = {key.lower(): value for key, value in headers.items()}
        delivery_id = signed_json.delivery_id(lower.get(DELIVERY_ID_HEADER, ""))
        if _PING.match(body.strip()) and not lower.get(SIGNATURE_HEADER):
            return WebhookHints(order_ids=[], ignored_events=1, delivery_id=delivery_id)
        signed_json.check_base64_hmac("X-WC-Webhook-Signature", lower.get(SIGNATURE_HEADER, ""), body, secret)
        if lower.get(TOPIC_HEADER, "").strip().lower() not in ORDER_TOPICS:
            return WebhookHints(order_ids=[], ignored_events=1, delivery_id=delivery_id)
        return WebhookHints(order_ids=[signed_json.order_id(body)], delivery_id=delivery_id)
