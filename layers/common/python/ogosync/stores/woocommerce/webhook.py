"""Verifies a WooCommerce webhook delivery and extracts the order it names (docs/api/woocommerce.md, "Webhooks").

`X-WC-Webhook-Signature` is the base64 HMAC-SHA256 of the raw body with the webhook's secret; it is checked over
the raw bytes, in constant time, before anything is parsed. Topics order.created, order.updated, order.deleted and
order.restored name the order (body `id`) to re-read; any other topic is counted as ignored. WooCommerce's ping
when a webhook is saved is a form body `webhook_id=N` (unsigned, uncertain): it is accepted and names nothing.
`X-WC-Webhook-Delivery-ID` is the delivery id duplicates are dropped by. WooCommerce does not retry a failed
delivery and disables a webhook after repeated failures: webhooks only speed the poll up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ogosync.errors import WebhookRejectedError
from ogosync.ports import WebhookHints

SIGNATURE_HEADER = "x-wc-webhook-signature"
TOPIC_HEADER = "x-wc-webhook-topic"
DELIVERY_ID_HEADER = "x-wc-webhook-delivery-id"
ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.deleted", "order.restored"})
_PING = re.compile(rb"^webhook_id=\d{1,20}$")
_MAX_ID_LENGTH = 100


class WooCommerceWebhookVerifier:
    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> WebhookHints:
        """`now` is unused: WooCommerce signs no timestamp, and a replay only names an order to re-read."""
        lower = {key.lower(): value for key, value in headers.items()}
        delivery_id = lower.get(DELIVERY_ID_HEADER, "").strip()[:_MAX_ID_LENGTH] or None
        if _PING.match(body.strip()) and not lower.get(SIGNATURE_HEADER):
            return WebhookHints(order_ids=[], ignored_events=1, delivery_id=delivery_id)
        _check_signature(lower.get(SIGNATURE_HEADER, ""), body, secret)
        if lower.get(TOPIC_HEADER, "").strip().lower() not in ORDER_TOPICS:
            return WebhookHints(order_ids=[], ignored_events=1, delivery_id=delivery_id)
        return WebhookHints(order_ids=[_order_id(body)], delivery_id=delivery_id)


def _check_signature(header: str, body: bytes, secret: str) -> None:
    if not header:
        raise WebhookRejectedError(401, "missing_signature", "X-WC-Webhook-Signature header is missing")
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookRejectedError(401, "bad_signature", "X-WC-Webhook-Signature is not base64") from None
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise WebhookRejectedError(401, "bad_signature", "signature does not match")


def _order_id(body: bytes) -> str:
    try:
        payload: Any = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WebhookRejectedError(400, "malformed_body", "body is not JSON") from None
    found = payload.get("id") if isinstance(payload, dict) else None
    if isinstance(found, int) and not isinstance(found, bool) and found > 0:
        return str(found)
    if isinstance(found, str) and found.isdigit() and found.isascii() and len(found) <= _MAX_ID_LENGTH:
        return found
    raise WebhookRejectedError(400, "malformed_body", "the order webhook's body has no numeric id")
