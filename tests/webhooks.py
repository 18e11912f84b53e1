"""Crafting signed webhook deliveries the way the platforms do (for tests)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from urllib.parse import urlencode


def centra_delivery(events: list[dict[str, object]], secret: str, at: datetime) -> tuple[dict[str, str], bytes]:
    """Headers and body of a Centra Webhook plugin delivery (Integration API mode), signed at `at`."""
    body = urlencode({"payload": json.dumps({"events": events})}).encode()
    timestamp = int(at.timestamp())
    signature = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Centra-Signature": f"t={timestamp},v1={signature}",
    }
    return headers, body
