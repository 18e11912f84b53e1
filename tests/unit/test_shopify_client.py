"""The Shopify GraphQL transport: throttling as HTTP 200 THROTTLED and as 429, pacing by throttleStatus (bounded),
the client-credentials token renewed before its end and once after a 401, and errors mapped to ours."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from ogosync.errors import AuthenticationError, RejectedByPlatformError, TransientPlatformError
from ogosync.http import RetryPolicy
from ogosync.stores.shopify.client import (
    GRAPHQL_PATH,
    MAX_THROTTLE_WAIT_S,
    THROTTLE_RETRIES,
    ShopifyClient,
    rejected,
    user_errors,
)

BASE = "https://demo.myshopify.com"
QUERY = "query Q { shop { id } }"
Handler = Callable[[httpx.Request], httpx.Response]


def _cost(requested: float, available: float, maximum: float = 1000.0, rate: float = 100.0) -> dict[str, Any]:
    status = {"maximumAvailable": maximum, "currentlyAvailable": available, "restoreRate": rate}
    return {"cost": {"requestedQueryCost": requested, "actualQueryCost": requested, "throttleStatus": status}}


def _ok(requested: float = 10, available: float = 990, rate: float = 100.0) -> httpx.Response:
    body = {"data": {"shop": {"id": "gid://shopify/Shop/1"}}, "extensions": _cost(requested, available, rate=rate)}
    return httpx.Response(200, json=body)


THROTTLED = {
    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
    "extensions": _cost(752, 666, rate=50),
}


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
        self.monotonic = 1000.0

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
        self.monotonic += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _client(handler: Handler, clock: Clock, sleeps: list[float], **auth: str) -> ShopifyClient:
    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.sleep(seconds)

    return ShopifyClient(
        BASE,
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(attempts=3, base_delay_s=0.01),
        sleep=sleep,
        monotonic=lambda: clock.monotonic,
        clock=lambda: clock.now,
        **(auth or {"access_token": "shpat_fixed"}),
    )


def test_a_query_is_posted_to_the_pinned_version_with_the_token(clock: Clock) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return _ok()

    answer = _client(handler, clock, []).execute(QUERY, {"a": 1})

    assert answer.data == {"shop": {"id": "gid://shopify/Shop/1"}} and answer.requested_cost == 10
    assert seen[0].url.path == "/" + GRAPHQL_PATH and seen[0].headers["X-Shopify-Access-Token"] == "shpat_fixed"
    assert json.loads(seen[0].content) == {"query": QUERY, "variables": {"a": 1}}


def test_throttled_as_http_200_waits_for_the_restore_and_sends_again(clock: Clock) -> None:
    answers = iter([httpx.Response(200, json=THROTTLED), _ok()])
    sleeps: list[float] = []

    answer = _client(lambda request: next(answers), clock, sleeps).execute(QUERY, mutation=True)

    assert answer.data["shop"]["id"] == "gid://shopify/Shop/1"
    assert sleeps == [pytest.approx((752 - 666) / 50)]  # what the bucket lacked, at its restore rate


def test_throttled_as_http_429_honours_retry_after_and_sends_again(clock: Clock) -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "2"}, json={"errors": "Throttled"}), _ok()])
    sleeps: list[float] = []

    _client(lambda request: next(answers), clock, sleeps).execute(QUERY)

    assert sleeps == [2.0]


def test_throttling_that_does_not_end_fails_as_transient_after_a_bounded_number_of_waits(clock: Clock) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(200, json=THROTTLED)

    with pytest.raises(TransientPlatformError, match="throttled"):
        _client(handler, clock, []).execute(QUERY)
    assert len(calls) == THROTTLE_RETRIES + 1


def test_a_throttle_wait_past_the_deadline_is_not_taken(clock: Clock) -> None:
    sleeps: list[float] = []
    client = _client(lambda request: httpx.Response(200, json=THROTTLED), clock, sleeps)

    with pytest.raises(TransientPlatformError, match="deadline"):
        client.execute(QUERY, deadline=clock.now + timedelta(seconds=1))
    assert sleeps == []


def test_the_next_query_is_paced_by_what_it_cost_and_what_the_bucket_holds(clock: Clock) -> None:
    answers = iter([_ok(requested=300, available=100), _ok(requested=300, available=100)])
    sleeps: list[float] = []
    client = _client(lambda request: next(answers), clock, sleeps)

    client.execute(QUERY)  # first time: its cost is not known yet, nothing to wait for
    client.execute(QUERY)

    assert sleeps == [pytest.approx((300 - 100) / 100)]


def test_pacing_never_waits_longer_than_its_bound(clock: Clock) -> None:
    answers = iter([_ok(requested=1000, available=0, rate=1), _ok()])  # a bucket that restores 1 point a second
    sleeps: list[float] = []
    client = _client(lambda request: next(answers), clock, sleeps)
    client.execute(QUERY)

    client.execute(QUERY)

    assert sleeps == [MAX_THROTTLE_WAIT_S]


def _grant_handler(tokens: list[str], graph: Callable[[httpx.Request], httpx.Response]) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/admin/oauth/access_token":
            form = dict(item.split("=", 1) for item in request.content.decode().split("&"))
            assert form == {"grant_type": "client_credentials", "client_id": "cid", "client_secret": "csecret"}
            tokens.append(f"token-{len(tokens) + 1}")
            return httpx.Response(200, json={"access_token": tokens[-1], "scope": "read_orders", "expires_in": 86399})
        return graph(request)

    return handler


def test_client_credentials_token_is_renewed_shortly_before_it_ends(clock: Clock) -> None:
    tokens: list[str] = []
    used: list[str] = []

    def graph(request: httpx.Request) -> httpx.Response:
        used.append(request.headers["X-Shopify-Access-Token"])
        return _ok()

    client = _client(_grant_handler(tokens, graph), clock, [], client_id="cid", client_secret="csecret")
    client.execute(QUERY)
    clock.sleep(23 * 3600)
    client.execute(QUERY)
    clock.sleep(3600 - 60)  # one minute before its end: renewed
    client.execute(QUERY)

    assert used == ["token-1", "token-1", "token-2"]


def test_a_401_renews_the_token_once_and_sends_again(clock: Clock) -> None:
    tokens: list[str] = []
    used: list[str] = []

    def graph(request: httpx.Request) -> httpx.Response:
        used.append(request.headers["X-Shopify-Access-Token"])
        return httpx.Response(401, json={"errors": "Invalid API key or access token"}) if len(used) == 1 else _ok()

    client = _client(_grant_handler(tokens, graph), clock, [], client_id="cid", client_secret="csecret")
    client.execute(QUERY)

    assert used == ["token-1", "token-2"]


def test_a_second_401_is_an_authentication_error(clock: Clock) -> None:
    tokens: list[str] = []

    def graph(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"errors": "Invalid API key or access token"})

    client = _client(_grant_handler(tokens, graph), clock, [], client_id="cid", client_secret="csecret")
    with pytest.raises(AuthenticationError, match="Invalid API key"):
        client.execute(QUERY)
    assert tokens == ["token-1", "token-2"]


def test_a_fixed_token_refused_is_an_authentication_error_at_once(clock: Clock) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(401, json={"errors": "[API] Invalid API key or access token"})

    with pytest.raises(AuthenticationError):
        _client(handler, clock, []).execute(QUERY)
    assert calls == [1]


def test_refused_client_credentials_are_an_authentication_error(clock: Clock) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400, json={"error": "invalid_client", "error_description": "Client authentication failed"}
        )

    client = _client(handler, clock, [], client_id="cid", client_secret="wrong")
    with pytest.raises(AuthenticationError, match="client id and secret"):
        client.execute(QUERY)


@pytest.mark.parametrize(
    ("code", "error"),
    [
        ("ACCESS_DENIED", AuthenticationError),
        ("INTERNAL_SERVER_ERROR", TransientPlatformError),
        ("MAX_COST_EXCEEDED", RejectedByPlatformError),
        (None, RejectedByPlatformError),
    ],
)
def test_graphql_errors_become_ours(clock: Clock, code: str | None, error: type[Exception]) -> None:
    extensions = {"code": code} if code else {}
    body = {"errors": [{"message": f"something {code}", "extensions": extensions}]}

    with pytest.raises(error, match="something"):
        _client(lambda request: httpx.Response(200, json=body), clock, []).execute(QUERY)


def test_an_answer_that_is_not_json_is_transient(clock: Clock) -> None:
    with pytest.raises(TransientPlatformError, match="not JSON"):
        _client(lambda request: httpx.Response(200, text="<html>"), clock, []).execute(QUERY)


def test_a_mutation_is_not_repeated_after_a_5xx(clock: Clock) -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(502, text="bad gateway")

    with pytest.raises(TransientPlatformError):
        _client(handler, clock, []).execute(QUERY, mutation=True)
    assert calls == [1]


def test_user_errors_are_a_rejection_naming_code_and_message() -> None:
    errors = user_errors({"userErrors": [{"code": "INVALID", "field": ["x"], "message": "bad x"}, "junk"]})

    assert str(rejected("someMutation", errors)) == "shopify: someMutation refused: INVALID: bad x"
