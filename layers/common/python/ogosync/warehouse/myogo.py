"""myOGO v1 API client (reference myogo-api.md §1.1, §2, §3, §7).

OAuth2 password flow: merchant ID + secret token, with the application's client id and secret. Tokens live 1.5 h;
they are cached in memory per warehouse account (never written anywhere) and renewed a minute early; a 401 from the
API is answered once by logging in again. Uncertain in the reference, coded defensively:
- how a duplicate order reference is refused in v1 (the legacy API said "order with same reference"): any refusal
  that mentions the reference existing is taken as "already exists", and the caller then looks it up;
- enum casing in answers: statuses are compared in lower case;
- GET /Stock for an unknown productCode: the reference lists a 404; a 404 and an empty list both mean "none";
- the sort order of pages read by `modifiedAfter` is undocumented: every page up to a short one is read, and the
  callers' watermark overlap re-reads what moved between pages while they were read.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from aws_lambda_powertools import Logger

from ogosync.errors import (
    AlreadyExistsError,
    AuthenticationError,
    NotFoundError,
    PlatformError,
    RejectedByPlatformError,
)
from ogosync.http import HttpClient, RetryPolicy
from ogosync.models import (
    ShippedLine,
    WarehouseOrder,
    WarehouseOrderChange,
    WarehouseOrderState,
    WarehouseProduct,
    WarehouseProductState,
    WarehouseStockLevel,
)
from ogosync.timeutil import Clock, utc_now

PLATFORM = "myogo"
PAGE_SIZE = 250  # the largest `limit` myOGO takes (reference §7)
SCOPES = "read:order write:order read:product write:product"
_EXISTS_MARKERS = ("same reference", "already exist")
_PLAIN_CODE = re.compile(r"[A-Za-z0-9_-]+")

logger = Logger(service="ogosync", child=True)


@dataclass(frozen=True)
class MyOgoAccount:
    base_url: str
    token_url: str
    merchant_id: str
    secret_token: str
    client_id: str
    client_secret: str


@dataclass
class _Token:
    value: str
    expires_at: datetime


_tokens: dict[tuple[str, str, str], _Token] = {}
_tokens_lock = threading.Lock()


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error_description") or body.get("error") or body)[:300]
    return str(body)[:300]


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=utc_now().tzinfo)


def _product_path(code: str) -> tuple[str, dict[str, str] | None]:
    """The path (and query) of one product. A code with characters a URL path cannot carry plainly goes
    base64url-encoded, as the .NET SDK's UpdateProduct does (reference §2); others go as they are."""
    if _PLAIN_CODE.fullmatch(code):
        return f"api/v1/Products/{code}", None
    encoded = base64.urlsafe_b64encode(code.encode()).decode().rstrip("=")
    return f"api/v1/products/{encoded}", {"base64url": "true"}


def _stock_level(raw: dict[str, Any]) -> WarehouseStockLevel | None:
    """A Stock row; one that cannot be read is logged and left out, so it cannot stop the others."""
    try:
        return WarehouseStockLevel(
            code=str(raw.get("productCode") or ""),
            available=int(raw["stockAvailable"]),
            physical=None if raw.get("stock") is None else int(raw["stock"]),
            reserved=None if raw.get("reserved") is None else int(raw["reserved"]),
            modified=_parse_time(raw.get("modified")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        logger.warning("unreadable myOGO stock row", extra={"code": raw.get("productCode"), "error": str(exc)})
        return None


def parse_order_change(raw: dict[str, Any]) -> WarehouseOrderChange:
    """An OrderResponse as the tracking flow needs it. trackingNumber may hold several codes, comma-separated."""
    numbers = [code.strip() for code in str(raw.get("trackingNumber") or "").split(",") if code.strip()]
    return WarehouseOrderChange(
        reference=str(raw.get("reference") or ""),
        status=str(raw.get("status") or "unknown"),
        tracking_numbers=numbers,
        tracking_url=raw.get("trackingUrl") or None,
        shipping_code=raw.get("shippingCode") or None,
        lines=[
            ShippedLine(code=str(line.get("code") or ""), quantity=int(line.get("quantity") or 0))
            for line in raw.get("orderLines") or []
        ],
        edited_at=_parse_time(raw.get("editTime")),
    )


def parse_order_state(raw: dict[str, Any]) -> WarehouseOrderState:
    return WarehouseOrderState(
        id=raw.get("id"),
        reference=str(raw.get("reference") or ""),
        status=str(raw.get("status") or "unknown"),
        tracking_number=raw.get("trackingNumber") or None,
        tracking_url=raw.get("trackingUrl") or None,
        edited_at=_parse_time(raw.get("editTime")),
    )


class MyOgoWarehouse:
    """One merchant account in myOGO."""

    def __init__(
        self,
        account: MyOgoAccount,
        *,
        clock: Clock = utc_now,
        http: HttpClient | None = None,
        token_http: HttpClient | None = None,
        page_size: int = PAGE_SIZE,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._account = account
        self._clock = clock
        self._page_size = page_size
        self._http = http or HttpClient(
            PLATFORM,
            account.base_url,
            headers={"Accept": "application/json"},
            error_message=_error_message,
            retry=retry,
        )
        self._token_http = token_http or HttpClient(
            PLATFORM, account.token_url, error_message=_error_message, retry=retry
        )
        self._token_key = (account.token_url, account.client_id, account.merchant_id)
        self._known_codes: set[str] = set()

    def close(self) -> None:
        self._http.close()
        self._token_http.close()

    def check_access(self) -> None:
        """Log in afresh (a cached token would hide wrong credentials) and make one cheap read."""
        self._forget_token()
        self._call("GET", "api/v1/Orders", params={"limit": 1, "page": 1})

    # ---- orders ---------------------------------------------------------------------------------

    def find_order(self, reference: str) -> WarehouseOrderState | None:
        found = self._call("GET", "api/v1/Orders", params={"reference": reference, "limit": 50, "page": 1}).json()
        matches = [raw for raw in found or [] if str(raw.get("reference")) == reference]
        return parse_order_state(matches[0]) if matches else None

    def create_order(self, order: WarehouseOrder) -> WarehouseOrderState:
        return parse_order_state(self._create("api/v1/Orders", order.wire_json()))

    # ---- stock ----------------------------------------------------------------------------------

    def stock_levels(self, modified_after: datetime | None) -> Iterator[WarehouseStockLevel]:
        params = {} if modified_after is None else {"modifiedAfter": modified_after.isoformat()}
        for raw in self._pages("api/v1/Stock", params):
            level = _stock_level(raw)
            if level is not None:
                yield level

    def stock_level(self, code: str) -> WarehouseStockLevel | None:
        try:
            found = self._call("GET", "api/v1/Stock", params={"productCode": code, "limit": 50, "page": 1}).json()
        except NotFoundError:  # the reference documents 404 for GET Stock: an unknown code (uncertain)
            return None
        levels = [_stock_level(raw) for raw in found or [] if str(raw.get("productCode")) == code]
        return next((level for level in levels if level is not None), None)

    # ---- changed orders (tracking) --------------------------------------------------------------

    def orders_changed_since(self, modified_after: datetime) -> Iterator[WarehouseOrderChange]:
        for raw in self._pages("api/v1/Orders", {"modifiedAfter": modified_after.isoformat()}):
            yield parse_order_change(raw)

    def order_change(self, reference: str) -> WarehouseOrderChange | None:
        found = self._call("GET", "api/v1/Orders", params={"reference": reference, "limit": 50, "page": 1}).json()
        matches = [raw for raw in found or [] if str(raw.get("reference")) == reference]
        return parse_order_change(matches[0]) if matches else None

    def _pages(self, path: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every element of a paged list, page by page until a short one (the SDKs' rule, reference §7)."""
        page = 1
        while True:
            rows = self._call("GET", path, params={**params, "limit": self._page_size, "page": page}).json() or []
            if not isinstance(rows, list):
                raise PlatformError(PLATFORM, f"GET /{path} answered with something other than a list")
            yield from rows
            if len(rows) < self._page_size:
                return
            page += 1

    # ---- products -------------------------------------------------------------------------------

    def list_products(self) -> Iterator[WarehouseProductState]:
        for raw in self._pages("api/v1/Products", {}):
            yield WarehouseProductState.model_validate(raw)

    def find_product(self, code: str) -> WarehouseProductState | None:
        found = self._call("GET", "api/v1/Products", params={"code": code, "limit": 50, "page": 1}).json()
        matches = [raw for raw in found or [] if str(raw.get("code")) == code]
        if len(matches) > 1:  # the PHP SDK's words: "Multiple products with same code found, this should be fixed"
            logger.warning("myOGO holds several products with one code", extra={"code": code})
        return WarehouseProductState.model_validate(matches[0]) if matches else None

    def create_product(self, product: WarehouseProduct) -> WarehouseProductState:
        return WarehouseProductState.model_validate(self._create("api/v1/Products", product.wire_json()))

    def update_product(self, code: str, product: WarehouseProduct) -> WarehouseProductState:
        path, params = _product_path(code)
        response = self._call("PUT", path, params=params, body=product.wire_json())
        return WarehouseProductState.model_validate(response.json())

    def unknown_product_codes(self, codes: Iterable[str]) -> set[str]:
        unknown = set()
        for code in set(codes) - self._known_codes:
            found = self._call("GET", "api/v1/Products", params={"code": code, "limit": 50, "page": 1}).json()
            if any(str(raw.get("code")) == code for raw in found or []):
                self._known_codes.add(code)
            else:
                unknown.add(code)
        return unknown

    # ---- plumbing -------------------------------------------------------------------------------

    def _create(self, path: str, body: bytes) -> Any:
        """POST a new object; a refusal that says the key exists already becomes AlreadyExistsError."""
        try:
            return self._call("POST", path, body=body).json()
        except RejectedByPlatformError as exc:
            if any(marker in exc.detail.lower() for marker in _EXISTS_MARKERS):
                raise AlreadyExistsError(PLATFORM, exc.detail, exc.status) from exc
            raise

    def _call(self, method: str, path: str, *, body: bytes | None = None, **kwargs: Any) -> httpx.Response:
        """One API call; `body` is a JSON request body made by ogosync.jsonwire (money as exact numbers)."""
        content_type = {} if body is None else {"Content-Type": "application/json"}
        headers = self._auth_header()  # outside the try: a refused login is final, not a reason to log in again
        try:
            return self._http.request(method, path, headers=headers | content_type, content=body, **kwargs)
        except AuthenticationError:
            self._forget_token()
            return self._http.request(method, path, headers=self._auth_header() | content_type, content=body, **kwargs)

    def _auth_header(self) -> dict[str, str]:
        with _tokens_lock:
            token = _tokens.get(self._token_key)
            if token is None or token.expires_at <= self._clock():
                token = self._login()
                _tokens[self._token_key] = token
        return {"Authorization": f"Bearer {token.value}"}

    def _forget_token(self) -> None:
        with _tokens_lock:
            _tokens.pop(self._token_key, None)

    def _login(self) -> _Token:
        account = self._account
        form = {
            "grant_type": "password",
            "client_id": account.client_id,
            "client_secret": account.client_secret,
            "username": account.merchant_id,
            "password": account.secret_token,
            "scope": SCOPES,
        }
        try:
            response = self._token_http.request("POST", "", data=form, idempotent=True)
        except RejectedByPlatformError as exc:  # OAuth answers 400 invalid_grant for wrong credentials
            raise AuthenticationError(
                PLATFORM, f"login refused for merchant {account.merchant_id}: {exc.detail}", exc.status
            ) from exc
        body = response.json()
        if not isinstance(body, dict) or not body.get("access_token"):
            raise PlatformError(PLATFORM, "token answer has no access_token")
        lifetime = int(body.get("expires_in") or 3600)
        return _Token(value=str(body["access_token"]), expires_at=self._clock() + timedelta(seconds=lifetime - 60))
