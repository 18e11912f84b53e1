"""REST transport to one WooCommerce shop (`/wp-json/wc/v3/`), on ogosync.http.HttpClient (timeouts, bounded
retries, Retry-After, deadlines, logging of method and path only). API facts with sources: docs/api/woocommerce.md.

- Auth: the REST API key pair over HTTP Basic. Some servers strip the `Authorization` header, and WooCommerce then
  answers 401 as if no key was sent (`woocommerce_rest_cannot_*`, or "Consumer key is missing"): the call is
  sent again once with the keys in the query string (`consumer_key`, `consumer_secret`), and on success the client
  keeps doing so (`keys_in_query`). The query string never reaches a log (HttpClient logs the path only).
  WooCommerce reads a key pair only over HTTPS (over plain HTTP it wants OAuth 1.0a, which ogosync does not speak):
  a refusal over http:// says so.
- Paging: `page` and `per_page` (at most 100), the number of pages from `X-WP-TotalPages` (else a short page ends).
- Errors come as `{"code", "message", "data": {"status"}}`: the code and message are the exception's text; the
  HTTP status picks the exception (401/403 AuthenticationError, 404 NotFoundError, 5xx and 429
  TransientPlatformError, others RejectedByPlatformError). A WAF's HTML page comes as its first 300 characters.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any

import httpx
from aws_lambda_powertools import Logger

from ogosync.errors import AuthenticationError, TransientPlatformError
from ogosync.http import HttpClient, RetryPolicy
from ogosync.ratelimit import CallBudget
from ogosync.timeutil import Clock, utc_now

logger = Logger(service="ogosync", child=True)

PLATFORM = "woocommerce"
API_PREFIX = "wp-json/wc/v3/"
INDEX_PATH = "wp-json/"
MAX_PER_PAGE = 100
MAX_PAGES = 10_000  # a bound on one listing, far above any shop (a million records)
_KEY_NOT_SENT_WORDS = "consumer key is missing"


class WooCommerceClient:
    """Calls one shop's wc/v3 API with its key pair."""

    def __init__(
        self,
        base_url: str,
        *,
        consumer_key: str,
        consumer_secret: str,
        retry: RetryPolicy | None = None,
        budget: CallBudget | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock = utc_now,
    ) -> None:
        self._http = HttpClient(
            PLATFORM,
            base_url,
            headers={"Accept": "application/json"},
            retry=retry,
            rate_limiter=budget,
            error_message=error_text,
            sleep=sleep,
            transport=transport,
            clock=clock,
        )
        self._keys = {"consumer_key": consumer_key, "consumer_secret": consumer_secret}
        basic = base64.b64encode(f"{consumer_key}:{consumer_secret}".encode()).decode()
        self._basic = {"Authorization": f"Basic {basic}"}
        self._keys_in_query = False
        # WooCommerce reads a key pair only over HTTPS; over plain HTTP it expects OAuth 1.0a signatures instead.
        self._hint = "" if base_url.lower().startswith("https://") else " (WooCommerce takes API keys only over HTTPS)"

    @property
    def keys_in_query(self) -> bool:
        """Whether the server strips `Authorization`, so the keys go in the query string."""
        return self._keys_in_query

    def close(self) -> None:
        self._http.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        deadline: datetime | None = None,
    ) -> httpx.Response:
        """One authenticated call to `wc/v3/<path>`: its 2xx response, or our exception."""
        response = self._send(method, path, params, json, idempotent, deadline)
        if response.status_code == 401 and not self._keys_in_query and _key_not_sent(response):
            self._keys_in_query = True
            response = self._send(method, path, params, json, idempotent, deadline)
            if response.status_code == 401:
                self._keys_in_query = False
            else:
                logger.warning("the shop strips the Authorization header: the keys go in the query string")
        if response.status_code == 401:
            raise AuthenticationError(
                PLATFORM, f"WooCommerce refused the API key: {error_text(response)}{self._hint}", 401
            )
        return response

    def json(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        idempotent: bool | None = None,
        deadline: datetime | None = None,
    ) -> Any:
        """The JSON answer of one call; TransientPlatformError when it is not JSON (a cache or WAF page)."""
        response = self.call(method, path, params=params, json=json, idempotent=idempotent, deadline=deadline)
        return json_of(response)

    def pages(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[list[Any]]:
        """The records of a listing, page by page (`per_page` 100)."""
        page = 1
        while page <= MAX_PAGES:
            response = self.call("GET", path, params={**(params or {}), "page": page, "per_page": MAX_PER_PAGE})
            records = json_of(response)
            if not isinstance(records, list):
                raise TransientPlatformError(PLATFORM, f"GET {path} page {page} is not a JSON list")
            yield records
            total = _int_header(response, "X-WP-TotalPages")
            if (total is not None and page >= total) or (total is None and len(records) < MAX_PER_PAGE):
                return
            if not records:
                return
            page += 1

    def index(self) -> httpx.Response:
        """`GET /wp-json/`, the REST API's index (no key needed); any status comes back to the caller."""
        return self._http.request("GET", INDEX_PATH, ok_statuses=frozenset(range(300, 600)) - {429, 500, 502, 503, 504})

    def plugin_json(self, method: str, path: str, *, json: Any = None, deadline: datetime | None = None) -> Any:
        """One call to another namespace under /wp-json/ (an extension's routes), with the key as for wc/v3; not
        repeated on an unknown outcome."""
        params, headers = self._auth()
        response = self._http.request(
            method,
            f"wp-json/{path.lstrip('/')}",
            params=params,
            headers=headers,
            json=json,
            idempotent=False,
            deadline=deadline,
        )
        return json_of(response)

    def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        idempotent: bool | None,
        deadline: datetime | None,
    ) -> httpx.Response:
        keys, headers = self._auth()
        return self._http.request(
            method,
            API_PREFIX + path.lstrip("/"),
            params={**(params or {}), **keys},
            headers=headers,
            json=json,
            idempotent=idempotent,
            ok_statuses=frozenset({401}),
            deadline=deadline,
        )

    def _auth(self) -> tuple[dict[str, str], dict[str, str]]:
        """(query parameters, headers) that carry the key."""
        return (dict(self._keys), {}) if self._keys_in_query else ({}, dict(self._basic))


def json_of(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise TransientPlatformError(PLATFORM, "the answer is not JSON", response.status_code) from None


def error_code(response: httpx.Response) -> str:
    """WooCommerce's error code of an answer ("" when it has none)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, str) else ""


def error_text(response: httpx.Response) -> str:
    """WooCommerce's own words for an HTTP error: `code: message`, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict) and ("code" in body or "message" in body):
        return f"{body.get('code') or 'error'}: {body.get('message') or ''}".strip()[:300]
    return str(body)[:300]


def _key_not_sent(response: httpx.Response) -> bool:
    """Whether a 401 says the key did not arrive (the header stripped), not that it was refused: WooCommerce
    answers an unauthenticated caller's capability check with 401 `woocommerce_rest_cannot_*` (403 when the key's
    user is known but lacks the capability), and older versions said "Consumer key is missing"."""
    return error_code(response).startswith("woocommerce_rest_cannot_") or _KEY_NOT_SENT_WORDS in (
        error_text(response).lower()
    )


def _int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name, "").strip()
    return int(value) if value.isdigit() else None
