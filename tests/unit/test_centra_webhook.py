"""Centra webhook deliveries: signature, replay window, content type, payload parsing."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from ogosync.errors import WebhookRejectedError
from ogosync.stores.centra.webhook import CentraWebhookVerifier

SECRET = "whsec-centra-1"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
FORM = "application/x-www-form-urlencoded"

# The reference's worked example (centra-api.md §3).
EXAMPLE_SECRET = "test123"
EXAMPLE_T = 12345678
EXAMPLE_BODY = b"payload=%7B%22x%22%3A%22test%22%7D"
EXAMPLE_V1 = "0b9cd84f5d583e5e1aadfb9f160aa8080b51d5b85ff85808d6b75bdac356c549"


def _sign(body: bytes, secret: str = SECRET, t: int | None = None) -> str:
    t = int(NOW.timestamp()) if t is None else t
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def _body(payload: Any) -> bytes:
    return urlencode({"payload": json.dumps(payload)}).encode()


def _headers(body: bytes, **overrides: str) -> dict[str, str]:
    headers = {"Content-Type": FORM, "X-Centra-Signature": _sign(body)}
    headers.update(overrides)
    return headers


def _reject(headers: dict[str, str], body: bytes, secret: str = SECRET, now: datetime = NOW) -> WebhookRejectedError:
    with pytest.raises(WebhookRejectedError) as caught:
        CentraWebhookVerifier().verify(headers, body, secret, now)
    return caught.value


EVENTS = {
    "events": [
        {"type": "order", "action": "update", "date": "2021-01-29 14:40:58.628033", "id": 2735},
        {"type": "shipment", "action": "good_to_go", "date": "2021-01-29 14:40:59.000000", "id": "2735-1"},
        {"type": "order", "action": "create", "id": "2736"},
        {"type": "order", "action": "update", "id": 2735},
        {"type": "customer", "action": "update", "id": 5},
        {"type": "order", "action": "insert", "id": 2737, "extra": "kept"},
    ]
}


# ---- the reference's worked example ---------------------------------------------------------------


def test_worked_example_signature_is_what_the_reference_says() -> None:
    assert _sign(EXAMPLE_BODY, EXAMPLE_SECRET, EXAMPLE_T) == f"t={EXAMPLE_T},v1={EXAMPLE_V1}"


def test_worked_example_passes_the_signature_check_then_fails_as_malformed() -> None:
    headers = {"Content-Type": FORM, "X-Centra-Signature": f"t={EXAMPLE_T},v1={EXAMPLE_V1}"}
    now = datetime.fromtimestamp(EXAMPLE_T + 10, UTC)

    error = _reject(headers, EXAMPLE_BODY, EXAMPLE_SECRET, now)

    assert (error.status, error.reason) == (400, "malformed_body")  # not 401: the signature was accepted


# ---- accepted deliveries --------------------------------------------------------------------------


def test_valid_delivery_gives_order_ids_deduplicated_in_order() -> None:
    body = _body(EVENTS)

    hints = CentraWebhookVerifier().verify(_headers(body), body, SECRET, NOW)

    assert hints.order_ids == ["2735", "2736", "2737"]
    assert hints.ignored_events == 3  # one shipment, one customer, one duplicate order event


def test_delivery_without_order_events_gives_no_ids() -> None:
    body = _body({"events": [{"type": "shipment", "action": "good_to_go", "id": "1-1"}]})

    hints = CentraWebhookVerifier().verify(_headers(body), body, SECRET, NOW)

    assert hints.order_ids == []
    assert hints.ignored_events == 1


def test_empty_event_list_is_accepted() -> None:
    body = _body({"events": []})
    hints = CentraWebhookVerifier().verify(_headers(body), body, SECRET, NOW)
    assert hints.order_ids == []
    assert hints.ignored_events == 0


def test_header_names_are_case_insensitive_and_charset_is_allowed() -> None:
    body = _body(EVENTS)
    headers = {"content-type": f"{FORM}; charset=UTF-8", "x-centra-signature": _sign(body)}

    assert CentraWebhookVerifier().verify(headers, body, SECRET, NOW).order_ids == ["2735", "2736", "2737"]


def test_signature_is_over_the_raw_body_as_received() -> None:
    # Encoded the way Python's quote() does it, not like JS encodeURIComponent: still valid, since the bytes are signed.
    body = ("payload=" + quote(json.dumps({"events": [{"type": "order", "id": 1}]}), safe="")).encode()
    hints = CentraWebhookVerifier().verify(_headers(body), body, SECRET, NOW)
    assert hints.order_ids == ["1"]


def test_several_v1_values_are_accepted_when_one_matches() -> None:
    body = _body(EVENTS)
    t = int(NOW.timestamp())
    good = _sign(body).split("v1=", 1)[1]
    header = f"t={t},v1={'0' * 64},v1={good},v1=deadbeef"

    hints = CentraWebhookVerifier().verify(_headers(body, **{"X-Centra-Signature": header}), body, SECRET, NOW)

    assert hints.order_ids == ["2735", "2736", "2737"]


def test_signature_in_upper_case_hex_and_with_spaces_is_accepted() -> None:
    body = _body(EVENTS)
    t = int(NOW.timestamp())
    digest = _sign(body).split("v1=", 1)[1].upper()
    header = f" t={t} , v1={digest} "

    assert CentraWebhookVerifier().verify(_headers(body, **{"X-Centra-Signature": header}), body, SECRET, NOW)


@pytest.mark.parametrize("skew", [-300, 300, 0])
def test_timestamps_at_the_edge_of_the_window_are_accepted(skew: int) -> None:
    body = _body(EVENTS)
    headers = _headers(body, **{"X-Centra-Signature": _sign(body, t=int(NOW.timestamp()) + skew)})
    assert CentraWebhookVerifier(replay_window_seconds=300).verify(headers, body, SECRET, NOW).order_ids


# ---- refused signatures ---------------------------------------------------------------------------


def test_missing_signature_header() -> None:
    body = _body(EVENTS)
    error = _reject({"Content-Type": FORM}, body)
    assert (error.status, error.reason) == (401, "missing_signature")


def test_empty_signature_header() -> None:
    body = _body(EVENTS)
    error = _reject(_headers(body, **{"X-Centra-Signature": ""}), body)
    assert (error.status, error.reason) == (401, "missing_signature")


def test_wrong_secret() -> None:
    body = _body(EVENTS)
    headers = _headers(body, **{"X-Centra-Signature": _sign(body, secret="someone-else")})
    error = _reject(headers, body)
    assert (error.status, error.reason) == (401, "bad_signature")


def test_tampered_body() -> None:
    body = _body(EVENTS)
    headers = _headers(body)
    tampered = _body({"events": [{"type": "order", "action": "update", "id": 666}]})
    error = _reject(headers, tampered)
    assert (error.status, error.reason) == (401, "bad_signature")


def test_timestamp_changed_after_signing() -> None:
    body = _body(EVENTS)
    digest = _sign(body).split("v1=", 1)[1]
    header = f"t={int(NOW.timestamp()) + 1},v1={digest}"
    error = _reject(_headers(body, **{"X-Centra-Signature": header}), body)
    assert (error.status, error.reason) == (401, "bad_signature")


@pytest.mark.parametrize("skew", [-301, 301, -86_400, 86_400])
def test_timestamp_outside_the_window_is_stale(skew: int) -> None:
    body = _body(EVENTS)
    headers = _headers(body, **{"X-Centra-Signature": _sign(body, t=int(NOW.timestamp()) + skew)})
    error = _reject(headers, body)
    assert (error.status, error.reason) == (401, "stale_signature")


def test_replay_window_is_configurable() -> None:
    body = _body(EVENTS)
    headers = _headers(body, **{"X-Centra-Signature": _sign(body, t=int(NOW.timestamp()) - 120)})
    with pytest.raises(WebhookRejectedError) as caught:
        CentraWebhookVerifier(replay_window_seconds=60).verify(headers, body, SECRET, NOW)
    assert caught.value.reason == "stale_signature"


@pytest.mark.parametrize(
    "header",
    [
        "v1=abc",
        "t=12345",
        "t=abc,v1=abc",
        "t=1,t=2,v1=abc",
        "t=-5,v1=abc",
        "nonsense",
        "t=,v1=",
    ],
)
def test_malformed_signature_header(header: str) -> None:
    body = _body(EVENTS)
    error = _reject(_headers(body, **{"X-Centra-Signature": header}), body)
    assert error.status == 401
    assert error.reason == "bad_signature"


# ---- refused content ------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", "multipart/form-data; boundary=x", ""])
def test_other_content_types_are_415(content_type: str) -> None:
    body = _body(EVENTS)
    error = _reject(_headers(body, **{"Content-Type": content_type}), body)
    assert (error.status, error.reason) == (415, "unsupported_media_type")


def test_missing_content_type_is_415() -> None:
    body = _body(EVENTS)
    error = _reject({"X-Centra-Signature": _sign(body)}, body)
    assert error.status == 415


def test_content_type_is_checked_before_the_signature() -> None:
    body = json.dumps(EVENTS).encode()
    error = _reject({"Content-Type": "application/json"}, body)
    assert error.status == 415


def _nested_lists(depth: int) -> bytes:
    return b"payload=" + b"%5B" * depth + b"%5D" * depth


MALFORMED_BODIES = {
    "json body, not a form": json.dumps(EVENTS).encode(),
    "empty body": b"",
    "form without payload": b"events=1",
    "payload not json": b"payload=not-json",
    "payload empty": b"payload=",
    "payload a list": _body([1, 2]),
    "payload null": _body(None),
    "payload without events": _body({"products": ["12412"]}),
    "events not a list": _body({"events": {"type": "order", "id": 1}}),
    "events a string": _body({"events": "order"}),
    "event without id": _body({"events": [{"type": "order"}]}),
    "event without type": _body({"events": [{"id": 1}]}),
    "event not an object": _body({"events": [1, 2]}),
    "event id an object": _body({"events": [{"type": "order", "id": {"$gt": ""}}]}),
    "too many events": _body({"events": [{"type": "order", "id": n} for n in range(1001)]}),
    "too many form fields": b"payload=%7B%7D&a=1&b=2&c=3&d=4&e=5",
    "not utf-8": b"payload=\xff\xfe",
    "deeply nested lists": _nested_lists(100_000),
    "deeply nested objects": b"payload=" + b"%7B%22a%22%3A" * 50_000 + b"1" + b"%7D" * 50_000,
}


@pytest.mark.parametrize("body", list(MALFORMED_BODIES.values()), ids=list(MALFORMED_BODIES))
def test_malformed_bodies_are_400_never_an_unhandled_exception(body: bytes) -> None:
    error = _reject(_headers(body), body)  # pytest.raises lets any other exception through and fails the test
    assert (error.status, error.reason) == (400, "malformed_body")


def test_signature_is_checked_before_the_body_is_parsed() -> None:
    body = _nested_lists(100_000)
    error = _reject(_headers(body, **{"X-Centra-Signature": _sign(body, secret="wrong")}), body)
    assert (error.status, error.reason) == (401, "bad_signature")


def test_rejection_messages_do_not_echo_the_secret() -> None:
    body = _body(EVENTS)
    for headers in (
        _headers(body, **{"X-Centra-Signature": _sign(body, secret="wrong")}),
        _headers(body, **{"X-Centra-Signature": _sign(body, t=int((NOW - timedelta(days=1)).timestamp()))}),
    ):
        error = _reject(headers, body)
        assert SECRET not in str(error)
