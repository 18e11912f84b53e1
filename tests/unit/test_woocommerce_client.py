"""The WooCommerce REST transport: HTTP Basic with the key pair, the fall back to query-string keys when the server
strips `Authorization` (remembered), paging by X-WP-TotalPages, and WooCommerce's error bodies as our exceptions
with the code in the message (bounded retries, no wall clock)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable

import httpx
import pytest

from ogosync import http as http_module
from ogosync.errors import (
    AuthenticationError,
    NotFoundError,
    RejectedByPlatformError,
    TransientPlatformError,
)
from ogosync.http import RetryPolicy
from ogosync.stores.woocommerce.client import MAX_PER_PAGE, WooCommerceClient, error_text

BASE = "https://shop.example"
BASIC = "Basic " + base64.b64encode(b"ck_1:cs_2").decode()
Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, attempts: int = 3) -> WooCommerceClient:
    return WooCommerceClient(
        BASE,
        consumer_key="ck_1",
        consumer_secret="cs_2",
        retry=RetryPolicy(attempts=attempts, base_delay_s=0),
        transport=httpx.MockTransport(handler),
        sleep=lambda _: None,
    )


def _error(status: int, code: str, message: str) -> httpx.Response:
    return httpx.Response(status, json={"code": code, "message": message, "data": {"status": status}})


def test_calls_go_to_wc_v3_with_basic_auth() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=[{"id": 1}])

    client = _client(handler)
    assert client.json("GET", "orders", params={"per_page": 1}) == [{"id": 1}]

    assert seen[0].url.path == "/wp-json/wc/v3/orders" and seen[0].headers["Authorization"] == BASIC
    assert "consumer_key" not in str(seen[0].url) and not client.keys_in_query


@pytest.mark.parametrize(
    "refusal",
    [
        _error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
        _error(401, "woocommerce_rest_authentication_error", "Consumer key is missing."),
    ],
)
def test_a_stripped_authorization_header_falls_back_to_query_keys_and_remembers(refusal: httpx.Response) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.params.get("consumer_key") == "ck_1" and request.url.params.get("consumer_secret") == "cs_2":
            return httpx.Response(200, json=[])
        return refusal

    client = _client(handler)
    client.call("GET", "orders")
    client.call("GET", "products")

    assert client.keys_in_query
    assert len(seen) == 3  # one refused, then each call with the keys in the query at once
    assert "Authorization" not in seen[2].headers


def test_a_refused_key_is_an_authentication_error_with_the_code() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return _error(
            401, "woocommerce_rest_authentication_error", "Invalid signature - provided signature does not match."
        )

    client = _client(handler)
    with pytest.raises(AuthenticationError, match="woocommerce_rest_authentication_error"):
        client.call("GET", "orders")
    assert not client.keys_in_query


def test_a_key_refused_in_both_ways_stays_refused() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return _error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")

    client = _client(handler)
    with pytest.raises(AuthenticationError, match="woocommerce_rest_cannot_view"):
        client.call("GET", "orders")
    assert len(calls) == 2 and not client.keys_in_query


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (
            _error(403, "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
            AuthenticationError,
        ),
        (_error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID."), NotFoundError),
        (_error(400, "rest_invalid_param", "Invalid parameter(s): per_page"), RejectedByPlatformError),
        (_error(503, "unavailable", "busy"), TransientPlatformError),
        (httpx.Response(503, text="<html>WAF says no</html>"), TransientPlatformError),
    ],
)
def test_errors_become_ours_with_the_code(response: httpx.Response, error: type[Exception]) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return response

    with pytest.raises(error) as raised:
        _client(handler).call("GET", "orders/1")
    code = response.json().get("code") if response.headers.get("content-type") == "application/json" else "WAF says no"
    assert str(code) in str(raised.value)
    assert len(calls) <= 3


def test_a_post_is_not_repeated_after_a_5xx() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return _error(500, "internal", "boom")

    with pytest.raises(TransientPlatformError):
        _client(handler).call("POST", "orders/1/notes", json={"note": "x"}, idempotent=False)
    assert calls == [1]


def test_pages_follow_x_wp_totalpages() -> None:
    pages: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        page = request.url.params["page"]
        pages.append(page)
        assert request.url.params["per_page"] == str(MAX_PER_PAGE)
        return httpx.Response(200, json=[{"id": int(page)}], headers={"X-WP-Total": "3", "X-WP-TotalPages": "3"})

    found = [record for page in _client(handler).pages("orders", {"status": "any"}) for record in page]

    assert found == [{"id": 1}, {"id": 2}, {"id": 3}] and pages == ["1", "2", "3"]


def test_without_the_header_a_short_page_ends_the_listing() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params["page"])
        return httpx.Response(200, json=[{"id": n} for n in range(MAX_PER_PAGE if page == 1 else 2)])

    assert [len(page) for page in _client(handler).pages("products")] == [MAX_PER_PAGE, 2]


def test_a_page_that_is_not_a_list_is_transient() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="<html>cached page</html>")

    with pytest.raises(TransientPlatformError, match="not JSON"):
        list(_client(handler).pages("orders"))


def test_error_text_shows_code_and_message() -> None:
    assert (
        error_text(_error(400, "woocommerce_rest_invalid_id", "Invalid ID."))
        == "woocommerce_rest_invalid_id: Invalid ID."
    )
    assert error_text(httpx.Response(502, text="")) == "Bad Gateway"


def test_a_write_refused_as_unauthenticated_also_falls_back() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "consumer_key" in request.url.params:
            return httpx.Response(200, json={"update": []})
        return _error(
            401, "woocommerce_rest_cannot_batch", "Sorry, you are not allowed to batch manipulate this resource."
        )

    client = _client(handler)
    assert client.json("POST", "products/batch", json={"update": []}) == {"update": []}
    assert client.keys_in_query


def test_over_plain_http_a_refusal_says_keys_need_https() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return _error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")

    client = WooCommerceClient(
        "http://shop.example", consumer_key="ck", consumer_secret="cs", transport=httpx.MockTransport(handler)
    )
    with pytest.raises(AuthenticationError, match="only over HTTPS"):
        client.call("GET", "orders")


def test_neither_the_secret_nor_the_query_keys_reach_the_log(caplog: pytest.LogCaptureFixture) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "consumer_key" in request.url.params:
            return _error(500, "internal", "boom")  # logged as a failed call, then raised
        return _error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")

    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger=http_module.logger.name)
    with pytest.raises(TransientPlatformError):
        _client(handler).call("GET", "orders")

    rendered = [logging.Formatter().format(record) + " " + repr(vars(record)) for record in caplog.records]
    assert any("wp-json/wc/v3/orders" in line for line in rendered)  # the calls were logged
    assert not [line for line in rendered if "cs_2" in line or "consumer_secret" in line or BASIC in line]
