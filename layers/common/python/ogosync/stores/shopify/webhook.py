"""Verifies a Shopify webhook delivery and extracts the order it names (docs/api/shopify.md, "Webhooks").

`X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body with the app's secret (its client secret /
API secret key); it is checked over the raw bytes, in constant time, before anything is parsed. Topics
orders/create, orders/updated and orders/cancelled name the order (body `id`) to re-read; any other topic is
counted as ignored. `X-Shopify-Event-Id` is the same on every retry of one event: it is the delivery id the
webhook engine drops duplicates by. Nothing else in the body is trusted: the poll re-reads the order.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from ogosync.errors import WebhookRejectedError
from ogosync.ports import WebhookHints

HMAC_HEADER = "x-shopify-hmac-sha256"
TOPIC_HEADER = "x-shopify-topic"
EVENT_ID_HEADER = "x-shopify-event-id"
ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled"})
_MAX_ID_LENGTH = 100


class ShopifyWebhookVerifier:
    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> WebhookHints:
        """`now` is unused: Shopify signs no timestamp, and a replay only names an order to re-read."""
        lower = {key.lower(): value for key, value in headers.items()}
        _check_signature(lower.get(HMAC_HEADER, ""), body, secret)
        delivery_id = lower.get(EVENT_ID_HEADER, "").strip()[:_MAX_ID_LENGTH] or None
        if lower.get(TOPIC_HEADER, "").strip().lower() not in ORDER_TOPICS:
            return WebhookHints(order_ids=[], ignored_events=1, delivery_id=delivery_id)
        return WebhookHints(order_ids=[_order_id(body)], delivery_id=delivery_id)


def _check_signature(header: str, body: bytes, secret: str) -> None:
    if not header:
        raise WebhookRejectedError(401, "missing_signature", "X-Shopify-Hmac-Sha256 header is missing")
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookRejectedError(401, "bad_signature", "X-Shopify-Hmac-Sha256 is not base64") from None
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
