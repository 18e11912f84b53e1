"""Verifies a myOGO webhook delivery and extracts the order references it names (reference myogo-api.md §6).

Header `X-OGOship-Hmac-SHA256` = base64(HMAC-SHA256(key = the webhook's key, msg = the raw body)), checked over the
bytes received before anything is parsed. The signature carries no timestamp, so a replay cannot be told from a
retry; that is harmless, as a delivery only makes ogosync re-read the order from myOGO.
The callback payload is undocumented (uncertain): the simulator sends
{"type": "OrderShipped", "reference": ..., "trackingNumber": ..., ...}. Only `type` and `reference` are read (in
camelCase or, as the .NET SDK writes, PascalCase); every other event type is acknowledged and ignored.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from ogosync.errors import WebhookRejectedError

SIGNATURE_HEADER = "x-ogoship-hmac-sha256"
ORDER_SHIPPED = "OrderShipped"
MAX_REFERENCE_LENGTH = 100


class MyOgoWebhookVerifier:
    def verify(self, headers: Mapping[str, str], body: bytes, key: str) -> list[str]:
        if not key:  # anyone can sign with an empty key
            raise WebhookRejectedError(401, "no_webhook_key", "no myOGO webhook key is configured")
        signature = {name.lower(): value for name, value in headers.items()}.get(SIGNATURE_HEADER, "")
        if not signature:
            raise WebhookRejectedError(401, "missing_signature", "X-OGOship-Hmac-SHA256 header is missing")
        if not _signed_by(key, body, signature):
            raise WebhookRejectedError(401, "bad_signature", "signature does not match")
        event = _event(body)
        return [event["reference"]] if event["type"] == ORDER_SHIPPED else []


def _signed_by(key: str, body: bytes, signature: str) -> bool:
    try:
        given = base64.b64decode(signature.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(hmac.new(key.encode(), body, hashlib.sha256).digest(), given)


def _event(body: bytes) -> dict[str, str]:
    malformed = WebhookRejectedError(400, "malformed_body", "body is not a myOGO webhook event")
    try:
        raw: Any = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise malformed from exc
    if not isinstance(raw, dict):
        raise malformed
    fields = {name[:1].lower() + name[1:]: value for name, value in raw.items()}
    event_type, reference = fields.get("type"), fields.get("reference")
    if not isinstance(event_type, str) or not isinstance(reference, str):
        raise malformed
    if not reference.strip() or len(reference) > MAX_REFERENCE_LENGTH:
        raise malformed
    return {"type": event_type, "reference": reference}
