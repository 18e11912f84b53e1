"""The merchant's notice webhook: an HTTPS POST of JSON, signed with the integration's notify_webhook_secret.

Header `X-Ogosync-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (the timestamp inside the
signed text, so a captured request cannot be replayed later under a new time). A receiver verifies it with the
secret it was given at set-up and may drop what is older than a few minutes. Only a 2xx counts as delivered; a
refused connection or a non-2xx answer is NotDeliveredError (sent again later); a timeout leaves it unknown and is
raised as it is (the notice stays claimed: at most once). Redirects are not followed: the URL is the merchant's
choice, and a redirect could move the body elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Callable

import httpx

from ogosync.errors import NotDeliveredError

SIGNATURE_HEADER = "X-Ogosync-Signature"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


class SignedWebhook:
    def __init__(self, client: httpx.Client | None = None, now: Callable[[], float] = time.time) -> None:
        self._client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
        self._now = now

    def post(self, url: str, secret: str, body: bytes) -> None:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "ogosync-notify",
            SIGNATURE_HEADER: signature(secret, int(self._now()), body),
        }
        try:
            response = self._client.post(url, content=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise NotDeliveredError("the notice webhook could not be reached") from None
        if not response.is_success:
            raise NotDeliveredError(f"the notice webhook answered HTTP {response.status_code}")
