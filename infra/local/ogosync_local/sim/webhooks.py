"""Outbound webhook delivery shared by the simulators (urllib, stdlib only)."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Long enough for the local gateway's cold start on a loaded machine: a delivery that gives up early is a lost
# webhook the test did not ask for (the handler still enqueues its job later, behind the test's back).
DELIVERY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class DeliveryRecord:
    """One webhook POST (or one that was deliberately lost and never sent)."""

    url: str
    body: bytes
    headers: dict[str, str]
    events: list[dict[str, Any]]
    status: int | None = None
    error: str | None = None
    duplicated: bool = False
    lost: bool = False
    response_body: bytes = field(default=b"", repr=False)

    def to_json(self) -> dict[str, Any]:
        """A JSON summary for the control surface."""
        return {
            "url": self.url,
            "status": self.status,
            "error": self.error,
            "duplicated": self.duplicated,
            "lost": self.lost,
            "events": self.events,
            "body": self.body.decode(),
            "headers": self.headers,
        }


def post_webhook(
    url: str, body: bytes, headers: Mapping[str, str], events: list[dict[str, Any]], *, duplicated: bool = False
) -> DeliveryRecord:
    """POST `body` to `url` with a DELIVERY_TIMEOUT_S timeout; failures are recorded, never raised."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"webhook URL must be http(s): {url}")
    request = urllib.request.Request(url, data=body, headers=dict(headers), method="POST")  # noqa: S310 (checked)
    status: int | None = None
    error: str | None = None
    answer = b""
    try:
        with urllib.request.urlopen(request, timeout=DELIVERY_TIMEOUT_S) as response:  # noqa: S310 (checked)
            status, answer = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, answer = exc.code, exc.read()
    except OSError as exc:
        error = f"{type(exc).__name__}: {exc}"
    return DeliveryRecord(url, body, dict(headers), events, status, error, duplicated, response_body=answer)
