"""What Shopify's and WooCommerce's webhooks share (docs/api/shopify.md and docs/api/woocommerce.md, "Webhooks"):
a header carrying the base64 HMAC-SHA256 of the raw body with a secret, checked in constant time before anything is
parsed, and a JSON body whose `id` names the order to re-read (nothing else in it is trusted)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any

from ogosync.errors import WebhookRejectedError

MAX_ID_LENGTH = 100  # an order id or a delivery id longer than this is not one


def check_base64_hmac(header_name: str, header: str, body: bytes, secret: str) -> None:
    """WebhookRejectedError (401) unless `header` is the base64 HMAC-SHA256 of `body` with `secret`."""
    if not header:
        raise WebhookRejectedError(401, "missing_signature", f"{header_name} header is missing")
    try:
        given = base64.b64decode(header.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise WebhookRejectedError(401, "bad_signature", f"{header_name} is not base64") from None
    expected = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, given):
        raise WebhookRejectedError(401, "bad_signature", "signature does not match")


def order_id(body: bytes) -> str:
    """The positive numeric `id` of a JSON body, as text; WebhookRejectedError (400) for anything else."""
    try:
        payload: Any = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WebhookRejectedError(400, "malformed_body", "body is not JSON") from None
    found = payload.get("id") if isinstance(payload, dict) else None
    if isinstance(found, int) and not isinstance(found, bool) and found > 0:
        return str(found)
    if isinstance(found, str) and found.isdigit() and found.isascii() and len(found) <= MAX_ID_LENGTH:
        return found
    raise WebhookRejectedError(400, "malformed_body", "the order webhook's body has no numeric id")


def delivery_id(value: str) -> str | None:
    """A delivery id header as the webhook engine keeps it (None when absent)."""
    return value.strip()[:MAX_ID_LENGTH] or None
