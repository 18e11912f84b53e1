"""GraphQL transport to one Shopify shop's Admin API, on ogosync.http.HttpClient (timeouts, bounded retries,
deadlines, logging without secrets). API facts with their sources: docs/api/shopify.md.

- POST {shop}/admin/api/{API_VERSION}/graphql.json with `X-Shopify-Access-Token`. The token is a custom app's
  Admin API access token, or one the client-credentials grant gives for a client id and secret (about 24 h: it is
  renewed shortly before it ends, and once when a call answers 401).
- Cost throttling: each answer's `extensions.cost.throttleStatus` (maximumAvailable, currentlyAvailable,
  restoreRate) is kept; before a document is sent again, the client waits until the bucket has restored what that
  document cost last time (bounded). A throttled answer comes as HTTP 200 with errors[].extensions.code
  "THROTTLED" or as HTTP 429 (which one is uncertain): both are waited on (restore time, else Retry-After, else
  backoff) and sent again, a bounded number of times. A throttled request was refused unprocessed, so this holds
  for mutations too.
- `errors` in an answer become our exceptions: ACCESS_DENIED -> AuthenticationError (a missing scope),
  INTERNAL_SERVER_ERROR -> TransientPlatformError, anything else -> RejectedByPlatformError with Shopify's words.
  A mutation's `userErrors` are the caller's (each mutation's codes differ), see `user_errors`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from ogosync.errors import (
    AuthenticationError,
    PlatformError,
    RejectedByPlatformError,
    TransientPlatformError,
)
from ogosync.http import HttpClient, RetryPolicy, retry_after_seconds
from ogosync.stores.shopify.version import API_VERSION
from ogosync.timeutil import Clock, utc_now

PLATFORM = "shopify"
GRAPHQL_PATH = f"admin/api/{API_VERSION}/graphql.json"
TOKEN_PATH = "admin/oauth/access_token"  # noqa: S105 (a path, not a secret)
TOKEN_RENEWAL_MARGIN = timedelta(minutes=10)  # renew this long before the token's end
THROTTLE_RETRIES = 5  # throttled answers waited on per call before it fails as transient
MAX_THROTTLE_WAIT_S = 20.0  # one wait for the bucket; longer ones are cut to this (the next answer says more)


@dataclass(frozen=True)
class ThrottleStatus:
    maximum: float
    available: float
    restore_rate: float
    seen_at: float  # monotonic seconds

    def available_at(self, now: float) -> float:
        return min(self.maximum, self.available + max(0.0, now - self.seen_at) * self.restore_rate)

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until the bucket holds `cost` points (never more than its maximum)."""
        missing = min(cost, self.maximum) - self.available_at(now)
        return 0.0 if missing <= 0 or self.restore_rate <= 0 else missing / self.restore_rate


@dataclass(frozen=True)
class Answer:
    data: dict[str, Any]
    requested_cost: float | None
    api_version: str | None  # the version Shopify answered with (X-Shopify-API-Version)


class TokenSource:
    """The Admin API access token: a fixed one, or one from the client-credentials grant, renewed before its end."""

    def __init__(
        self,
        http: HttpClient,
        *,
        access_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        if (access_token is None) == (client_id is None or client_secret is None):
            raise ValueError("give either an access token, or a client id and secret")
        self._http = http
        self._fixed = access_token
        self._client = (client_id, client_secret) if access_token is None else None
        self._clock = clock
        self._token: str | None = None
        self._renew_at: datetime | None = None

    @property
    def renewable(self) -> bool:
        return self._client is not None

    def token(self, deadline: datetime | None = None) -> str:
        if self._fixed is not None:
            return self._fixed
        if self._token is None or (self._renew_at is not None and self._clock() >= self._renew_at):
            self._grant(deadline)
        assert self._token is not None
        return self._token

    def renew(self, deadline: datetime | None = None) -> str:
        """A new token now (after a 401): only for the client-credentials grant."""
        self._token = None
        return self.token(deadline)

    def _grant(self, deadline: datetime | None) -> None:
        assert self._client is not None
        client_id, client_secret = self._client
        form = {"grant_type": "client_credentials", "client_id": client_id or "", "client_secret": client_secret or ""}
        response = self._http.request(
            "POST", TOKEN_PATH, data=form, idempotent=True, ok_statuses=frozenset({400, 401, 403}), deadline=deadline
        )
        if response.status_code in (400, 401, 403):
            refused = "Shopify refused the app's client id and secret (client-credentials grant)"
            raise AuthenticationError(PLATFORM, f"{refused}: {_error_text(response)}", response.status_code)
        body = _json_object(response)
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise PlatformError(PLATFORM, "the client-credentials grant answered without an access_token")
        lifetime = body.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) and not isinstance(lifetime, bool) else None
        self._token = token
        self._renew_at = None if seconds is None else self._clock() + timedelta(seconds=seconds) - TOKEN_RENEWAL_MARGIN


class ShopifyClient:
    """Sends GraphQL documents to one shop, paced by Shopify's cost bucket."""

    def __init__(
        self,
        base_url: str,
        *,
        access_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        retry: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        clock: Clock = utc_now,
    ) -> None:
        self._transport = transport
        self._retry = retry
        self._sleep = sleep
        self._monotonic = monotonic
        self._clock = clock
        self._http = HttpClient(
            PLATFORM,
            base_url,
            headers={"Accept": "application/json"},
            retry=retry,
            error_message=_error_text,
            sleep=sleep,
            transport=transport,
            clock=clock,
        )
        self._tokens = TokenSource(
            self._http, access_token=access_token, client_id=client_id, client_secret=client_secret, clock=clock
        )
        self._throttle: ThrottleStatus | None = None
        self._last_cost: dict[str, float] = {}

    def close(self) -> None:
        self._http.close()

    def execute(
        self,
        document: str,
        variables: Mapping[str, Any] | None = None,
        *,
        mutation: bool = False,
        deadline: datetime | None = None,
    ) -> Answer:
        """Send the document; its `data`, or our exception. A query is retried on 5xx and lost connections; a
        mutation only when it cannot have been processed (connection refused, throttled)."""
        body = {"query": document, "variables": dict(variables or {})}
        renewed = False
        for _ in range(THROTTLE_RETRIES + 1):
            self._pace(document, deadline)
            response = self._post(body, mutation=mutation, deadline=deadline)
            if response.status_code == 401:
                if renewed or not self._tokens.renewable:
                    raise AuthenticationError(
                        PLATFORM, f"Shopify refused the access token: {_error_text(response)}", 401
                    )
                self._tokens.renew(deadline)
                renewed = True
                continue
            if response.status_code == 429:
                self._wait_throttled(self._throttled_wait(None, response), deadline)
                continue
            payload = _json_object(response)
            cost = self._note_cost(document, payload)
            errors = _errors(payload)
            if any(_code(error) == "THROTTLED" for error in errors):
                self._wait_throttled(self._throttled_wait(cost, response), deadline)
                continue
            if errors:
                raise _error_of(errors)
            data = payload.get("data")
            if not isinstance(data, dict):
                raise TransientPlatformError(PLATFORM, "the answer has no data and no errors")
            return Answer(data=data, requested_cost=cost, api_version=response.headers.get("X-Shopify-API-Version"))
        raise TransientPlatformError(PLATFORM, f"still throttled after {THROTTLE_RETRIES} waits", 429)

    def download(self, url: str) -> Iterator[str]:
        """The lines of a file Shopify made for us (a bulk operation's JSONL at its signed URL: no token sent)."""
        files = HttpClient(PLATFORM, url, retry=self._retry, sleep=self._sleep, transport=self._transport)
        try:
            response = files.request("GET", "")
        finally:
            files.close()
        yield from (line for line in response.text.splitlines() if line.strip())

    def _post(self, body: Mapping[str, Any], *, mutation: bool, deadline: datetime | None) -> httpx.Response:
        headers = {"X-Shopify-Access-Token": self._tokens.token(deadline), "Content-Type": "application/json"}
        return self._http.request(
            "POST",
            GRAPHQL_PATH,
            json=body,
            headers=headers,
            idempotent=not mutation,
            ok_statuses=frozenset({401, 429}),
            deadline=deadline,
        )

    def _pace(self, document: str, deadline: datetime | None) -> None:
        """Wait until the bucket holds what this document cost last time (known after its first answer)."""
        expected = self._last_cost.get(document)
        if self._throttle is None or expected is None:
            return
        wait = min(MAX_THROTTLE_WAIT_S, self._throttle.wait_for(expected, self._monotonic()))
        if wait > 0 and self._fits(wait, deadline):
            self._sleep(wait)

    def _note_cost(self, document: str, payload: Mapping[str, Any]) -> float | None:
        cost = _mapping(_mapping(payload.get("extensions")).get("cost"))
        status = _mapping(cost.get("throttleStatus"))
        numbers = [_number(status.get(key)) for key in ("maximumAvailable", "currentlyAvailable", "restoreRate")]
        if all(number is not None for number in numbers):
            maximum, available, rate = (float(number or 0) for number in numbers)
            self._throttle = ThrottleStatus(maximum, available, rate, self._monotonic())
        requested = _number(cost.get("requestedQueryCost"))
        if requested is not None:
            self._last_cost[document] = requested
        return requested

    def _throttled_wait(self, cost: float | None, response: httpx.Response) -> float:
        if cost is not None and self._throttle is not None:
            wait = self._throttle.wait_for(cost, self._monotonic())
            if wait > 0:
                return min(MAX_THROTTLE_WAIT_S, wait)
        after = retry_after_seconds(response.headers.get("Retry-After"), self._clock())
        return min(MAX_THROTTLE_WAIT_S, after if after is not None else 1.0)

    def _wait_throttled(self, wait: float, deadline: datetime | None) -> None:
        if not self._fits(wait, deadline):
            raise TransientPlatformError(PLATFORM, "throttled, and waiting would pass the call's deadline", 429)
        self._sleep(wait)

    def _fits(self, wait: float, deadline: datetime | None) -> bool:
        return deadline is None or self._clock() + timedelta(seconds=wait) < deadline


def user_errors(payload: Any) -> list[Mapping[str, Any]]:
    """A mutation payload's userErrors, each a mapping (code, field, message)."""
    found = _mapping(payload).get("userErrors")
    return [error for error in found if isinstance(error, Mapping)] if isinstance(found, list) else []


def rejected(what: str, errors: Sequence[Mapping[str, Any]]) -> RejectedByPlatformError:
    """The RejectedByPlatformError for a mutation's userErrors: every code and message, in Shopify's words."""
    described = "; ".join(
        f"{error.get('code') or 'error'}: {error.get('message') or ''}".strip().rstrip(":") for error in errors
    )
    return RejectedByPlatformError(PLATFORM, f"{what} refused: {described}")


def _error_of(errors: Sequence[Mapping[str, Any]]) -> PlatformError:
    codes = {_code(error) for error in errors}
    described = "; ".join(str(error.get("message") or _code(error) or "error") for error in errors)[:500]
    if "ACCESS_DENIED" in codes:
        return AuthenticationError(PLATFORM, f"access denied (a scope the app lacks?): {described}")
    if "INTERNAL_SERVER_ERROR" in codes:
        return TransientPlatformError(PLATFORM, described)
    return RejectedByPlatformError(PLATFORM, described)


def _errors(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = payload.get("errors")
    if found is None:
        return []
    if isinstance(found, list):
        return [error if isinstance(error, Mapping) else {"message": str(error)} for error in found]
    return [{"message": str(found)}]


def _code(error: Mapping[str, Any]) -> str | None:
    code = _mapping(error.get("extensions")).get("code")
    return code if isinstance(code, str) else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise TransientPlatformError(PLATFORM, "the answer is not JSON", response.status_code) from None
    if not isinstance(body, dict):
        raise TransientPlatformError(PLATFORM, "the answer is not a JSON object", response.status_code)
    return body


def _error_text(response: httpx.Response) -> str:
    """Shopify's own words for an HTTP error: its `errors` (a text or a list), else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    errors = body.get("errors") if isinstance(body, dict) else None
    if errors is None and isinstance(body, dict):
        errors = body.get("error_description") or body.get("error")
    return str(errors if errors is not None else body)[:300]
