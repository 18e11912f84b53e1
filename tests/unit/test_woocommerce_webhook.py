"""WooCommerce webhook deliveries: X-WC-Webhook-Signature (base64 HMAC-SHA256 of the raw body) checked before the
body is read, order topics naming the order to re-read, the delivery id kept, the save-time ping accepted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ogosync.errors import WebhookRejectedError
from ogosync.stores.woocommerce.webhook import WooCommerceWebhookVerifier

SECRET = "whsec-woo"
NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _signed(body: bytes, topic: str = "order.updated", secret: str = SECRET) -> dict[str, str]:
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {
        "X-WC-Webhook-Signature": signature,
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Delivery-ID": "d41d8cd98f00b204",
        "X-WC-Webhook-ID": "3",
    }


@pytest.mark.parametrize("topic", ["order.created", "order.updated", "order.deleted", "Order.Restored"])
def test_an_order_topic_names_the_order_and_the_delivery(topic: str) -> None:
    body = json.dumps({"id": 727, "status": "processing"}).encode()

    hints = WooCommerceWebhookVerifier().verify(_signed(body, topic), body, SECRET, NOW)

    assert hints.order_ids == ["727"] and hints.delivery_id == "d41d8cd98f00b204"


def test_other_topics_are_counted_as_ignored() -> None:
    body = b'{"id": 5}'
    hints = WooCommerceWebhookVerifier().verify(_signed(body, "product.updated"), body, SECRET, NOW)

    assert hints.order_ids == [] and hints.ignored_events == 1


def test_the_ping_on_saving_a_webhook_is_accepted_and_names_nothing() -> None:
    hints = WooCommerceWebhookVerifier().verify(
        {"Content-Type": "application/x-www-form-urlencoded"}, b"webhook_id=3", SECRET, NOW
    )

    assert hints.order_ids == [] and hints.ignored_events == 1


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, "missing_signature"),
        ({"X-WC-Webhook-Signature": "not base64!"}, "bad_signature"),
        (_signed(b'{"id": 1}', secret="other"), "bad_signature"),
    ],
)
def test_unsigned_or_badly_signed_deliveries_are_refused(headers: dict[str, str], reason: str) -> None:
    with pytest.raises(WebhookRejectedError) as refused:
        WooCommerceWebhookVerifier().verify(headers, b'{"id": 1}', SECRET, NOW)
    assert refused.value.status == 401 and refused.value.reason == reason


@pytest.mark.parametrize("body", [b"not json", b'{"id": "x"}', b"[]", b'{"id": true}'])
def test_a_signed_order_delivery_without_an_id_is_refused(body: bytes) -> None:
    with pytest.raises(WebhookRejectedError) as refused:
        WooCommerceWebhookVerifier().verify(_signed(body), body, SECRET, NOW)
    assert refused.value.status == 400


@settings(max_examples=200, deadline=None)
@given(body=st.binary(max_size=200), topic=st.sampled_from(["order.created", "order.updated", "coupon.created", ""]))
def test_any_signed_body_gives_hints_or_our_refusal(body: bytes, topic: str) -> None:
    outcome: object
    try:
        outcome = WooCommerceWebhookVerifier().verify(_signed(body, topic), body, SECRET, NOW)
    except WebhookRejectedError as refused:
        outcome = refused.status
    assert outcome == 400 or all(order_id.isdigit() for order_id in getattr(outcome, "order_ids", [None]))
