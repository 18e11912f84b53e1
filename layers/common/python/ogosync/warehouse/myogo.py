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
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from aws_lambda_powertools import Logger

from ogosync.errors import (
    AlreadyExistsError,
    AuthenticationError,
    NotFoundError,
    PlatformError,
    RejectedByPlatformError,
    UnreadableRecordError,
)
from ogosync.http import HttpClient, RetryPolicy
from ogosync.models import (
    ShippedLine,
    UnreadableWarehouseRecord,
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
_UNITS_LIMIT = 10**9  # a count of units beyond this is garbage

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
    """An ISO time; one that is no time is None: it only places a change in time, the change itself still counts."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=utc_now().tzinfo)


def _product_path(code: str) -> tuple[str, dict[str, str] | None]:
    """The path (and query) of one product. A code with characters a URL path cannot carry plainly goes
    base64url-encoded, as the .NET SDK's UpdateProduct does (reference §2); others go as they are."""
    if _PLAIN_CODE.fullmatch(code):
        return f"api/v1/Products/{code}", None
    encoded = base64.urlsafe_b64encode(code.encode()).decode().rstrip("=")
    return f"api/v1/products/{encoded}", {"base64url": "true"}


def _text(raw: dict[str, Any], key: str) -> str:
    """A text field: None is empty, a number is its text, an object, a list or a boolean is unreadable."""
    value = raw.get(key)
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise UnreadableRecordError(PLATFORM, f"{key} is not text: {repr(value)[:60]}")


def _whole(raw: dict[str, Any], key: str) -> int:
    """A whole number of units, also as 1.0 or "1.0"; anything else (or beyond any real stock) is unreadable."""
    value = raw.get(key)
    text = str(value).strip() if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
    try:
        amount = Decimal(text or "NaN")
    except InvalidOperation:
        amount = Decimal("NaN")
    if not (amount.is_finite() and abs(amount) < _UNITS_LIMIT and amount == amount.to_integral_value()):
        raise UnreadableRecordError(PLATFORM, f"{key} is not a whole number: {repr(raw.get(key))[:60]}")
    return int(amount)


def _object(raw: Any, what: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise UnreadableRecordError(PLATFORM, f"{what} is not an object: {repr(raw)[:60]}")
    return raw


def parse_stock_level(raw: Any) -> WarehouseStockLevel:
    """A Stock row; UnreadableRecordError when it is not one."""
    row = _object(raw, "stock row")
    code = _text(row, "productCode")
    if not code:
        raise UnreadableRecordError(PLATFORM, "stock row without productCode")
    return WarehouseStockLevel(
        code=code,
        available=_whole(row, "stockAvailable"),
        physical=None if row.get("stock") is None else _whole(row, "stock"),
        reserved=None if row.get("reserved") is None else _whole(row, "reserved"),
        modified=_parse_time(row.get("modified")),
    )


def _stock_level(raw: Any) -> WarehouseStockLevel | None:
    """A Stock row; one that cannot be read is logged and left out, so it cannot stop the others."""
    try:
        return parse_stock_level(raw)
    except UnreadableRecordError as exc:
        logger.warning("unreadable myOGO stock row", extra={"error": exc.detail})
        return None


def parse_order_change(raw: Any) -> WarehouseOrderChange:
    """An OrderResponse as the tracking flow needs it. trackingNumber may hold several codes, comma-separated.
    UnreadableRecordError when it is not one (a line that is not an object, a quantity that is not whole, ...)."""
    order = _object(raw, "order")
    lines = order.get("orderLines")
    if lines is not None and not isinstance(lines, list):
        raise UnreadableRecordError(PLATFORM, f"orderLines is not a list: {repr(lines)[:60]}")
    return WarehouseOrderChange(
        reference=_text(order, "reference"),
        status=_text(order, "status") or "unknown",
        tracking_numbers=[code.strip() for code in _text(order, "trackingNumber").split(",") if code.strip()],
        tracking_url=_text(order, "trackingUrl") or None,
        shipping_code=_text(order, "shippingCode") or None,
        lines=[_shipped_line(_object(line, "order line")) for line in lines or []],
        edited_at=_parse_time(order.get("editTime")),
    )


def _shipped_line(line: dict[str, Any]) -> ShippedLine:
    return ShippedLine(code=_text(line, "code"), quantity=_whole(line, "quantity") if "quantity" in line else 0)


def parse_order_state(raw: Any) -> WarehouseOrderState:
    """What myOGO says of an order; UnreadableRecordError when it is not an order."""
    order = _object(raw, "order")
    return WarehouseOrderState(
        id=_text(order, "id") or None,
        reference=_text(order, "reference"),
        status=_text(order, "status") or "unknown",
        tracking_number=_text(order, "trackingNumber") or None,
        tracking_url=_text(order, "trackingUrl") or None,
        edited_at=_parse_time(order.get("editTime")),
    )


def _key_of(raw: Any, name: str) -> str | None:
    """The reference or product code of an unreadable record, to name it in reports, when it has a usable one."""
    value = raw.get(name) if isinstance(raw, dict) else None
    return str(value)[:100] if isinstance(value, str | int) and not isinstance(value, bool) else None


def _list(found: Any) -> list[Any]:
    """A search answer's elements (a list; anything else, null included, holds none)."""
    return found if isinstance(found, list) else []


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
        matches = [raw for raw in _list(found) if isinstance(raw, dict) and str(raw.get("reference")) == reference]
        return parse_order_state(matches[0]) if matches else None

    def create_order(self, order: WarehouseOrder) -> WarehouseOrderState:
        return parse_order_state(self._create("api/v1/Orders", order.wire_json()))

    # ---- stock ----------------------------------------------------------------------------------

    def stock_levels(
        self, modified_after: datetime | None
    ) -> Iterator[WarehouseStockLevel | UnreadableWarehouseRecord]:
        params = {} if modified_after is None else {"modifiedAfter": modified_after.isoformat()}
        for raw in self._pages("api/v1/Stock", params):
            try:
                yield parse_stock_level(raw)
            except UnreadableRecordError as exc:
                yield UnreadableWarehouseRecord(key=_key_of(raw, "productCode"), problem=exc.detail[:500])

    def stock_level(self, code: str) -> WarehouseStockLevel | None:
        try:
            found = self._call("GET", "api/v1/Stock", params={"productCode": code, "limit": 50, "page": 1}).json()
        except NotFoundError:  # the reference documents 404 for GET Stock: an unknown code (uncertain)
            return None
        levels = [
            _stock_level(raw) for raw in _list(found) if isinstance(raw, dict) and str(raw.get("productCode")) == code
        ]
        return next((level for level in levels if level is not None), None)

    # ---- changed orders (tracking) --------------------------------------------------------------

    def orders_changed_since(
        self, modified_after: datetime
    ) -> Iterator[WarehouseOrderChange | UnreadableWarehouseRecord]:
        for raw in self._pages("api/v1/Orders", {"modifiedAfter": modified_after.isoformat()}):
            try:
                yield parse_order_change(raw)
            except UnreadableRecordError as exc:
                yield UnreadableWarehouseRecord(key=_key_of(raw, "reference"), problem=exc.detail[:500])

    def order_change(self, reference: str) -> WarehouseOrderChange | None:
        found = self._call("GET", "api/v1/Orders", params={"reference": reference, "limit": 50, "page": 1}).json()
        matches = [raw for raw in _list(found) if isinstance(raw, dict) and str(raw.get("reference")) == reference]
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
