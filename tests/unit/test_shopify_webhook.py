"""Shopify webhook deliveries: the HMAC over the raw body, order topics as hints, X-Shopify-Event-Id as the
delivery id; any bytes and headers give hints or WebhookRejectedError."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ogosync.errors import WebhookRejectedError
from ogosync.ports import WebhookHints
from ogosync.stores.shopify.webhook import ShopifyWebhookVerifier

SECRET = "shpss_app_secret"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
EXAMPLES = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _signed(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _headers(body: bytes, topic: str = "orders/updated", **extra: str) -> dict[str, str]:
    return {"X-Shopify-Hmac-Sha256": _signed(body), "X-Shopify-Topic": topic, "X-Shopify-Event-Id": "ev-1", **extra}


@pytest.mark.parametrize("topic", ["orders/create", "orders/updated", "orders/cancelled"])
def test_an_order_topic_names_the_order_to_re_read(topic: str) -> None:
    body = json.dumps({"id": 820982911946154508, "name": "#9999"}).encode()

    hints = ShopifyWebhookVerifier().verify(_headers(body, topic), body, SECRET, NOW)

    assert hints == WebhookHints(order_ids=["820982911946154508"], delivery_id="ev-1")


def test_other_topics_are_ignored_events() -> None:
    body = b'{"id": 1}'

    hints = ShopifyWebhookVerifier().verify(_headers(body, "products/update"), body, SECRET, NOW)

    assert hints == WebhookHints(order_ids=[], ignored_events=1, delivery_id="ev-1")


def test_headers_are_matched_whatever_their_case() -> None:
    body = b'{"id": 5}'
    lower = {key.lower(): value for key, value in _headers(body).items()}

    assert ShopifyWebhookVerifier().verify(lower, body, SECRET, NOW).order_ids == ["5"]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Shopify-Topic": "orders/create"},
        {"X-Shopify-Hmac-Sha256": "not base64!", "X-Shopify-Topic": "orders/create"},
        {"X-Shopify-Hmac-Sha256": _signed(b'{"id": 1}', "another secret"), "X-Shopify-Topic": "orders/create"},
        {"X-Shopify-Hmac-Sha256": _signed(b'{"id": 2}'), "X-Shopify-Topic": "orders/create"},
    ],
)
def test_a_delivery_not_signed_with_our_secret_is_refused_with_401(headers: dict[str, str]) -> None:
    with pytest.raises(WebhookRejectedError) as refused:
        ShopifyWebhookVerifier().verify(headers, b'{"id": 1}', SECRET, NOW)
    assert refused.value.status == 401


@pytest.mark.parametrize("body", [b"not json", b"[]", b'{"id": "abc"}', b'{"id": -1}', b"{}"])
def test_a_signed_order_delivery_without_an_order_id_is_a_400(body: bytes) -> None:
    with pytest.raises(WebhookRejectedError) as refused:
        ShopifyWebhookVerifier().verify(_headers(body), body, SECRET, NOW)
    assert refused.value.status == 400


@EXAMPLES
@given(
    body=st.binary(max_size=200),
    headers=st.dictionaries(
        st.sampled_from(["X-Shopify-Hmac-Sha256", "X-Shopify-Topic", "X-Shopify-Event-Id", "Content-Type"]),
        st.text(max_size=60),
    ),
    sign=st.booleans(),
)
def test_any_bytes_and_headers_give_hints_or_our_refusal(body: bytes, headers: dict[str, str], sign: bool) -> None:
    if sign:
        headers = {**headers, "X-Shopify-Hmac-Sha256": _signed(body)}
    try:
        outcome: WebhookHints | WebhookRejectedError = ShopifyWebhookVerifier().verify(headers, body, SECRET, NOW)
    except WebhookRejectedError as refused:
        outcome = refused
    if isinstance(outcome, WebhookRejectedError):
        assert outcome.status in (400, 401)
    else:
        assert all(order_id.isdigit() for order_id in outcome.order_ids)


@EXAMPLES
@given(order_id=st.integers(min_value=1, max_value=2**63), topic=st.sampled_from(["orders/create", "x/y", ""]))
def test_any_signed_order_id_comes_through(order_id: int, topic: str) -> None:
    body = json.dumps({"id": order_id}).encode()

    hints = ShopifyWebhookVerifier().verify(_headers(body, topic), body, SECRET, NOW)

    assert hints.order_ids == ([str(order_id)] if topic == "orders/create" else [])
