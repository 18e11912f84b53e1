"""myOGO v1 API client (reference myogo-api.md §1.1, §2, §3, §7).

OAuth2 password flow: merchant ID + secret token, with the application's client id and secret. Tokens live 1.5 h;
they are cached in memory per warehouse account (never written anywhere) and renewed a minute early; a 401 from the
API is answered once by logging in again. Uncertain in the reference, coded defensively:
- how a duplicate order reference is refused in v1 (the legacy API said "order with same reference"): any refusal
  that mentions the reference existing is taken as "already exists", and the caller then looks it up;
- enum casing in answers: statuses are compared in lower case;
- GET /Stock for an unknown productCode: the reference lists a 404; a 404 and an empty list both mean "none";
- the sort order of pages read by `modifiedAfter` is undocumented: every page up to a short one is read, and the
  callers' watermark overlap re-reads what moved between pages while they were read;
- the lists of shipping methods and warehouses (docs/api/myogo.md, "Shipping methods and warehouses"): no SDK has
  them; their paths under the Metadata section are assumed, and a 404 or 403 means "no list" (nothing is checked).
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any
from urllib.parse import quote

import httpx
from aws_lambda_powertools import Logger

from ogosync import jsonwire
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
    Address,
    ShippedLine,
    UnreadableWarehouseRecord,
    WarehouseCustomer,
    WarehouseOrder,
    WarehouseOrderChange,
    WarehouseOrderContent,
    WarehouseOrderLine,
    WarehouseOrderState,
    WarehouseProduct,
    WarehouseProductState,
    WarehouseStockLevel,
)
from ogosync.ratelimit import CallBudget
from ogosync.timeutil import Clock, utc_now

PLATFORM = "myogo"
PAGE_SIZE = 250  # the largest `limit` myOGO takes (reference §7)
SCOPES = "read:order write:order read:product write:product"
_EXISTS_MARKERS = ("same reference", "already exist")
SHIPPING_METHODS_PATH = "api/v1/Metadata/ShippingMethods"  # assumed (docs/api/myogo.md)
WAREHOUSES_PATH = "api/v1/Metadata/Warehouses"  # assumed (docs/api/myogo.md)
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


def parse_codes(raw: Any) -> frozenset[str] | None:
    """The codes of a myOGO list of shipping methods or warehouses: a JSON array of objects with a `code`.
    None for no list (literal null, or an empty one: nothing to check against); PlatformError for another shape."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise PlatformError(PLATFORM, "a list of codes was not a JSON array")
    codes = frozenset(
        str(item["code"]).strip() for item in raw if isinstance(item, dict) and str(item.get("code") or "").strip()
    )
    return codes or None


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


def _order_lines(raw: dict[str, Any]) -> list[ShippedLine] | None:
    """An OrderResponse's orderLines as (code, quantity); None when any line cannot be read, so that a caller
    comparing it with a store order never takes a partly read order for the same one (docs/api/myogo.md)."""
    lines = raw.get("orderLines")
    if not isinstance(lines, list):
        return None
    parsed = []
    for line in lines:
        quantity = line.get("quantity") if isinstance(line, dict) else None
        if not isinstance(line, dict) or isinstance(quantity, bool) or not isinstance(quantity, int | str):
            return None
        try:
            parsed.append(ShippedLine(code=str(line.get("code") or ""), quantity=int(quantity)))
        except ValueError:
            return None
    return parsed


def _delivery_address(raw: dict[str, Any]) -> Address | None:
    """An OrderResponse's customer (the delivery address, docs/api/myogo.md); None when it cannot be read."""
    customer = raw.get("customer")
    if not isinstance(customer, dict):
        return None

    def text(name: str) -> str:
        value = customer.get(name)
        return value if isinstance(value, str) else ""

    return Address(
        name=text("name"),
        address1=text("address1"),
        zip=text("zip"),
        city=text("city"),
        country_code=text("countryCode"),
    )


def parse_order_state(raw: Any) -> WarehouseOrderState:
    """What myOGO says of an order; UnreadableRecordError when it is not an order. Its lines and delivery address
    are None when they cannot be read (a difference to any store order, never a guess)."""
    order = _object(raw, "order")
    return WarehouseOrderState(
        id=_text(order, "id") or None,
        reference=_text(order, "reference"),
        status=_text(order, "status") or "unknown",
        tracking_number=_text(order, "trackingNumber") or None,
        tracking_url=_text(order, "trackingUrl") or None,
        edited_at=_parse_time(order.get("editTime")),
        lines=_order_lines(order),
        customer=_delivery_address(order),
    )


def parse_order_content(raw: Any) -> WarehouseOrderContent:
    """myOGO's copy of an order, for aftercare. Anything that is not an order is a PlatformError, never a guess."""
    try:
        customer = raw.get("customer")
        return WarehouseOrderContent(
            reference=str(raw.get("reference") or ""),
            status=str(raw.get("status") or "unknown"),
            customer=WarehouseCustomer.model_validate(customer) if customer is not None else None,
            order_lines=[WarehouseOrderLine.model_validate(line) for line in raw.get("orderLines") or []],
            shipping_code=raw.get("shippingCode") or None,
            edited_at=_parse_time(raw.get("editTime")),
        )
    except (AttributeError, TypeError, ValueError) as exc:  # pydantic's ValidationError is a ValueError
        raise UnreadableRecordError(PLATFORM, f"unreadable order {str(exc)[:200]}") from exc


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
        rate_limiter: CallBudget | None = None,
    ) -> None:
        """`rate_limiter` paces every call this client builds, the token requests included (myOGO's limits are
        undocumented: docs/api/myogo.md, "Rate limits"); clients passed in as `http`/`token_http` keep their own."""
        self._account = account
        self._clock = clock
        self._page_size = page_size
        self._http = http or HttpClient(
            PLATFORM,
            account.base_url,
            headers={"Accept": "application/json"},
            error_message=_error_message,
            retry=retry,
            rate_limiter=rate_limiter,
            clock=clock,
        )
        self._token_http = token_http or HttpClient(
            PLATFORM,
            account.token_url,
            error_message=_error_message,
            retry=retry,
            rate_limiter=rate_limiter,
            clock=clock,
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

    def find_order(self, reference: str, deadline: datetime | None = None) -> WarehouseOrderState | None:
        params = {"reference": reference, "limit": 50, "page": 1}
        found = self._call("GET", "api/v1/Orders", params=params, deadline=deadline).json()
        matches = [raw for raw in _list(found) if isinstance(raw, dict) and str(raw.get("reference")) == reference]
        return parse_order_state(matches[0]) if matches else None

    def create_order(self, order: WarehouseOrder, deadline: datetime | None = None) -> WarehouseOrderState:
        return parse_order_state(self._create("api/v1/Orders", order.wire_json(), deadline))

    # ---- aftercare: myOGO's copy of a sent order, its update and its cancel (docs/api/myogo.md) ------

    def order_content(self, reference: str) -> WarehouseOrderContent | None:
        found = self._call("GET", "api/v1/Orders", params={"reference": reference, "limit": 50, "page": 1}).json()
        matches = [raw for raw in _list(found) if isinstance(raw, dict) and str(raw.get("reference")) == reference]
        return parse_order_content(matches[0]) if matches else None

    def update_order(self, order: WarehouseOrder) -> WarehouseOrderContent:
        """PUT /Orders/{reference} with the whole order: its lines replace myOGO's (reference §3)."""
        return parse_order_content(self._put_order(order.reference, order.wire_json()))

    def cancel_order(self, current: WarehouseOrderContent) -> WarehouseOrderContent:
        """PUT /Orders/{reference} with status "cancelled" and myOGO's own customer, without lines (lines given on
        an update replace all of them, so none are given: myOGO's stay as they are)."""
        body: dict[str, object] = {"reference": current.reference, "status": "cancelled"}
        if current.customer is not None:
            body["customer"] = current.customer.to_wire()
        if current.shipping_code:
            body["shippingCode"] = current.shipping_code
        return parse_order_content(self._put_order(current.reference, jsonwire.dumps(body)))

    def _put_order(self, reference: str, body: bytes) -> Any:
        path = f"api/v1/Orders/{quote(reference, safe='')}"
        return self._call("PUT", path, body=body, idempotent=True).json()

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

    # ---- what the merchant can choose (docs/api/myogo.md, "Shipping methods and warehouses") ------------

    def shipping_codes(self) -> frozenset[str] | None:
        return self._codes(SHIPPING_METHODS_PATH)

    def warehouse_codes(self) -> frozenset[str] | None:
        return self._codes(WAREHOUSES_PATH)

    def _codes(self, path: str) -> frozenset[str] | None:
        try:
            response = self._call("GET", path)
        except NotFoundError:
            return None
        except AuthenticationError as exc:
            if exc.status == 403:  # logged in, but this account (or its token's scopes) may not read the list
                return None
            raise
        try:
            return parse_codes(response.json())
        except ValueError as exc:
            raise PlatformError(PLATFORM, f"GET /{path} did not answer JSON") from exc

    # ---- plumbing -------------------------------------------------------------------------------

    def _create(self, path: str, body: bytes, deadline: datetime | None = None) -> Any:
        """POST a new object; a refusal that says the key exists already becomes AlreadyExistsError."""
        try:
            return self._call("POST", path, body=body, deadline=deadline).json()
        except RejectedByPlatformError as exc:
            if any(marker in exc.detail.lower() for marker in _EXISTS_MARKERS):
                raise AlreadyExistsError(PLATFORM, exc.detail, exc.status) from exc
            raise

    def _call(
        self, method: str, path: str, *, body: bytes | None = None, deadline: datetime | None = None, **kwargs: Any
    ) -> httpx.Response:
        """One API call; `body` is a JSON request body made by ogosync.jsonwire (money as exact numbers). With a
        deadline, the log-in it may need keeps to it too (see ogosync/http.py)."""
        content_type = {} if body is None else {"Content-Type": "application/json"}
        headers = self._auth_header(deadline)  # outside the try: a refused login is final, not a reason to retry
        call = partial(self._http.request, method, path, content=body, deadline=deadline, **kwargs)
        try:
            return call(headers=headers | content_type)
        except AuthenticationError:
            self._forget_token()
            return call(headers=self._auth_header(deadline) | content_type)

    def _auth_header(self, deadline: datetime | None = None) -> dict[str, str]:
        with _tokens_lock:
            token = _tokens.get(self._token_key)
            if token is None or token.expires_at <= self._clock():
                token = self._login(deadline)
                _tokens[self._token_key] = token
        return {"Authorization": f"Bearer {token.value}"}

    def _forget_token(self) -> None:
        with _tokens_lock:
            _tokens.pop(self._token_key, None)

    def _login(self, deadline: datetime | None) -> _Token:
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
            response = self._token_http.request("POST", "", data=form, idempotent=True, deadline=deadline)
        except RejectedByPlatformError as exc:  # OAuth answers 400 invalid_grant for wrong credentials
            raise AuthenticationError(
                PLATFORM, f"login refused for merchant {account.merchant_id}: {exc.detail}", exc.status
            ) from exc
        body = response.json()
        if not isinstance(body, dict) or not body.get("access_token"):
            raise PlatformError(PLATFORM, "token answer has no access_token")
        lifetime = int(body.get("expires_in") or 3600)
        return _Token(value=str(body["access_token"]), expires_at=self._clock() + timedelta(seconds=lifetime - 60))
