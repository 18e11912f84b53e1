"""Verifies a "Centra Webhook" plugin delivery (Integration API mode) and extracts the orders it names.

Wire format (reference centra-api.md §3): `application/x-www-form-urlencoded`, body `payload=<url-encoded JSON>`,
header `X-Centra-Signature: t=<unix ts>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. The signature is checked
over the raw bytes received, before anything is parsed. The action vocabulary is not fully documented
(create/insert/update...), so every order event is a hint to re-read the order, whatever its action.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import parse_qs

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ogosync.errors import WebhookRejectedError
from ogosync.ports import WebhookHints

SIGNATURE_HEADER = "x-centra-signature"


class _Event(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="allow")

    type: str
    action: str | None = None
    id: int | str


class _Payload(BaseModel):
    model_config = ConfigDict(defer_build=True)

    events: list[_Event] = Field(max_length=1000)


def _signature_parts(header: str) -> tuple[int, list[str]]:
    parts = [item.split("=", 1) for item in header.split(",") if "=" in item]
    timestamps = [value.strip() for key, value in parts if key.strip() == "t"]
    signatures = [value.strip() for key, value in parts if key.strip() == "v1"]
    if len(timestamps) != 1 or not signatures or not timestamps[0].isdigit():
        raise WebhookRejectedError(401, "bad_signature", "X-Centra-Signature is not of the form t=...,v1=...")
    return int(timestamps[0]), signatures


class CentraWebhookVerifier:
    def __init__(self, replay_window_seconds: int = 300) -> None:
        self._window = replay_window_seconds

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> WebhookHints:
        lower = {key.lower(): value for key, value in headers.items()}
        content_type = lower.get("content-type", "").split(";", 1)[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise WebhookRejectedError(415, "unsupported_media_type", "expected an x-www-form-urlencoded body")
        self._check_signature(lower.get(SIGNATURE_HEADER, ""), body, secret, now)
        return self._hints(body)

    def _check_signature(self, header: str, body: bytes, secret: str, now: datetime) -> None:
        if not header:
            raise WebhookRejectedError(401, "missing_signature", "X-Centra-Signature header is missing")
        timestamp, signatures = _signature_parts(header)
        if abs(now.timestamp() - timestamp) > self._window:
            raise WebhookRejectedError(401, "stale_signature", "signature timestamp is outside the replay window")
        expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        if not any(hmac.compare_digest(expected, candidate.lower()) for candidate in signatures):
            raise WebhookRejectedError(401, "bad_signature", "signature does not match")

    @staticmethod
    def _hints(body: bytes) -> WebhookHints:
        try:
            form = parse_qs(body.decode("utf-8"), strict_parsing=True, max_num_fields=5)
            payload = _Payload.model_validate(json.loads(form["payload"][0]))
        except (UnicodeDecodeError, ValueError, KeyError, RecursionError, ValidationError) as exc:
            raise WebhookRejectedError(
                400, "malformed_body", "body is not a Centra webhook payload (Integration API mode)"
            ) from exc
        order_ids = list(dict.fromkeys(str(event.id) for event in payload.events if event.type == "order"))
        return WebhookHints(order_ids=order_ids, ignored_events=len(payload.events) - len(order_ids))
