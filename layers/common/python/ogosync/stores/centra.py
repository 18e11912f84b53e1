"""Centra Order API (REST plugin) adapter.

Facts, with their sources, in docs/api/centra.md. Uncertain points, coded defensively:
- the value format of `orderStatus` (a name or a number) is undocumented: both are accepted;
- the sort order of GET /orders is undocumented, and so is the largest `limit` it honours: offset pages that
  overlap the previous one by a few orders prove that nothing moved past the offset between two reads, and a
  page that does not is read again from further back (docs/api/centra.md, "Paging");
- HTTP codes for a bad API key are undocumented: 401 and 403 are both taken as refused credentials;
- application errors arrive as HTTP 200 with {"status": "no", "msg": ...}.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx
from pydantic import ValidationError

from ogosync.errors import (
    CaptureFailedError,
    OrderNotReadyError,
    PlatformError,
    RejectedByPlatformError,
    TransientPlatformError,
    UnreadableRecordError,
)
from ogosync.http import HttpClient, RateLimiter, RetryPolicy
from ogosync.models import (
    Address,
    Hold,
    HoldReason,
    OrderLine,
    ShipmentToPush,
    SkuBinding,
    StockBatchResult,
    StockToPublish,
    StoreOrder,
    StoreOrderState,
    StoreProduct,
    StoreShipment,
    StoreStockWrite,
    UnidentifiedOrder,
    UnreadableOrder,
)
from ogosync.timeutil import Clock, from_local_naive, local_lower_bound, utc_now

PLATFORM = "centra"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
PAGE_SIZE = 100
# Centra creates shipments only for confirmed orders (docs/api/centra.md, "Shipments of Pending orders"); the REST
# refusal's wording is undocumented, so any refusal that speaks of confirmation or a pending order is taken as it.
_NOT_CONFIRMED_MARKERS = ("not confirmed", "unconfirmed", "confirm the order", "is pending", "pending order")
_AMOUNT_LIMIT = Decimal(10) ** 12  # an amount (or a count) beyond these is garbage, not an order to ship
_AMOUNT_DECIMALS = 12
_QUANTITY_LIMIT = 1_000_000
ORDER_PAGE_OVERLAP = 3  # orders each GET /orders page re-reads of the previous one (to prove nothing moved)
ORDER_PAGE_STEP_BACKS = 10  # re-reads from further back per listing before the poll gives up (and retries)

# Order statuses by name and by id (reference §4). "shipped" is the GraphQL name of Completed.
_STATES: dict[str, StoreOrderState] = {
    "incomplete": StoreOrderState.AWAITING_PAYMENT,
    "0": StoreOrderState.AWAITING_PAYMENT,
    "pending": StoreOrderState.PAID,  # payment authorised; Centra confirms before it ships
    "1": StoreOrderState.PAID,
    "confirmed": StoreOrderState.PAID,
    "2": StoreOrderState.PAID,
    "processing": StoreOrderState.PAID,
    "3": StoreOrderState.PAID,
    "completed": StoreOrderState.FULFILLED,
    "shipped": StoreOrderState.FULFILLED,
    "4": StoreOrderState.FULFILLED,
    "archived": StoreOrderState.FULFILLED,
    "5": StoreOrderState.FULFILLED,
    "cancelled": StoreOrderState.CANCELLED,
    "6": StoreOrderState.CANCELLED,
}


def centra_sku(sku: str, variant_sku: str, size_sku: str, ean: str) -> str:
    """The warehouse code of a Centra size: product + variant + size SKU, in that order.

    Where the variant and size SKUs are empty the product SKU does not tell sizes apart, so the EAN is the code
    (reference §1.3, §1.9).
    """
    if variant_sku or size_sku:
        return f"{sku}{variant_sku}{size_sku}"
    return ean or sku


def _field(raw: Mapping[str, Any], key: str) -> str:
    """A text field of an order. None and false (PHP's "no value") are empty; an object or a list is unreadable."""
    value = raw.get(key)
    if value is None or value is False:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and value is not True:
        return str(value)
    raise UnreadableRecordError(PLATFORM, f"{key} is not text: {_shown(value)}")


def _text(raw: Mapping[str, Any], key: str) -> str:
    """A text field of a product or stock row, where a value of another type is shown as text (orders are strict,
    see _field: they ship)."""
    value = raw.get(key)
    return "" if value is None else str(value).strip()


def _loose_decimal(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None
    return amount if amount is not None and amount.is_finite() else None


def _shown(value: Any) -> str:
    return repr(value)[:60]


def _decimal(raw: Mapping[str, Any], key: str) -> Decimal | None:
    """An amount; absent or empty is None, anything that is not a finite number is unreadable."""
    text = _field(raw, key)
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        value = Decimal("NaN")
    if not (value.is_finite() and abs(value) < _AMOUNT_LIMIT and value == round(value, _AMOUNT_DECIMALS)):
        raise UnreadableRecordError(PLATFORM, f"{key} is not an amount: {_shown(raw.get(key))}")
    return value


def _quantity(raw: Mapping[str, Any], key: str) -> int:
    """A count of units: a whole number >= 0, also written as "2" or 2.0; anything else is unreadable."""
    amount = _decimal(raw, key)
    if amount is None or not 0 <= amount < _QUANTITY_LIMIT or amount != amount.to_integral_value():
        raise UnreadableRecordError(PLATFORM, f"{key} is not a whole number of units: {_shown(raw.get(key))}")
    return int(amount)


def _flag(raw: Mapping[str, Any], key: str) -> bool:
    # Any value but an empty, 0 or false one is taken as set: a garbled flag holds the order rather than frees it.
    return str(raw.get(key) or "0").strip().lower() not in ("0", "false", "")


def _objects(raw: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    """A list of JSON objects. PHP's json_encode makes an object of a list whose keys are not 0..n-1 (a filtered
    array): its values are the list. An element that is not an object makes the whole record unreadable."""
    value = raw.get(key)
    if value is None:
        return []
    elements = list(value.values()) if isinstance(value, dict) else value
    if not isinstance(elements, list):
        raise UnreadableRecordError(PLATFORM, f"{key} is not a list: {_shown(value)}")
    for position, element in enumerate(elements, start=1):
        if not isinstance(element, dict):
            raise UnreadableRecordError(PLATFORM, f"{key} element {position} is not an object: {_shown(element)}")
    return elements


def _date_set(raw: Mapping[str, Any], key: str) -> bool:
    """Whether a Centra date field holds a date. Centra writes "0000-00-00 00:00:00" (MySQL's zero date), "" or
    null for "not set" (docs/api/centra.md, "Zero dates"); every such check in this adapter goes through here."""
    text = _field(raw, key)
    return bool(text) and not set(text) <= set("0-:T ")


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    return str(body.get("msg") or body) if isinstance(body, dict) else str(body)[:300]


def order_id_of(raw: Any) -> str | None:
    """The order id of a GET /orders element; None when it has no usable one (not an object, no id, not text)."""
    if not isinstance(raw, dict):
        return None
    value = raw.get("orderId")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip() or None


def parse_order(raw: Any, zone: ZoneInfo) -> StoreOrder:
    """A Centra order (GET /orders element) as a StoreOrder; UnreadableRecordError for anything else."""
    order_id = order_id_of(raw)
    if order_id is None:
        raise UnreadableRecordError(PLATFORM, f"not an order with an orderId: {_shown(raw)}")
    try:
        return _parse_order(order_id, raw, zone)
    except ValidationError as exc:  # a model refused a value the checks above let through
        raise UnreadableRecordError(PLATFORM, f"order {order_id}: {exc.error_count()} invalid values") from exc


def _parse_order(order_id: str, raw: Mapping[str, Any], zone: ZoneInfo) -> StoreOrder:
    status = _field(raw, "orderStatus")
    state = _STATES.get(status.lower()) if status else _state_without_status(raw)
    if state is None:
        raise UnreadableRecordError(PLATFORM, f"order {order_id}: unknown orderStatus {status!r}")
    holds: list[Hold] = []
    if _flag(raw, "waitingForPayment"):
        state = StoreOrderState.AWAITING_PAYMENT if state is StoreOrderState.PAID else state
    if state is StoreOrderState.AWAITING_PAYMENT:
        holds.append(Hold(reason=HoldReason.AWAITING_PAYMENT, detail="Centra: waiting for payment"))
    if _flag(raw, "hold"):
        holds.append(Hold(reason=HoldReason.ON_HOLD_IN_STORE, detail="Centra: order is on hold"))
    if _flag(raw, "suspect"):
        holds.append(Hold(reason=HoldReason.SUSPECTED_FRAUD, detail="Centra: order is marked suspect"))
    placed_at = _placed_at(raw, zone)
    if placed_at is None:
        raise UnreadableRecordError(PLATFORM, f"order {order_id}: unreadable orderDate")
    try:
        lines = [_line(line) for line in _objects(raw, "products") if not _flag(line, "isBundle")]
    except UnreadableRecordError as exc:
        raise UnreadableRecordError(PLATFORM, f"order {order_id}: {exc.detail}") from exc
    return StoreOrder(
        order_id=order_id,
        placed_at=placed_at,
        state=state,
        holds=holds,
        currency=_field(raw, "orderCurrency"),
        total=_decimal(raw, "grandTotalValue"),
        shipping_method=_field(raw, "shippingList") or None,
        pickup_point=_field(raw, "shipwallet_pickup") or None,
        customer=_delivery_address(raw),
        lines=lines,
        comment=_field(raw, "otherComment") or None,
    )


def _placed_at(raw: Mapping[str, Any], zone: ZoneInfo) -> datetime | None:
    """orderDate as aware UTC; None when it is no date (whatever its JSON type)."""
    value = raw.get("orderDate")
    text = value.strip() if isinstance(value, str) else ""
    for layout in (DATE_FORMAT, "%Y-%m-%d"):
        try:
            return from_local_naive(datetime.strptime(text, layout), zone)
        except (ValueError, OverflowError):  # year 1 or 9999 can leave the range of datetime in UTC
            continue
    return None


def _state_without_status(raw: Mapping[str, Any]) -> StoreOrderState:
    # The docs' example omits orderStatus. The plugin returns only the statuses the merchant selected, so an order
    # without one is taken as paid unless a shipment of it has already left.
    shipped = any(_date_set(shipment, "shippedDate") for shipment in _objects(raw, "shipments"))
    return StoreOrderState.FULFILLED if shipped else StoreOrderState.PAID


def _delivery_address(raw: Mapping[str, Any]) -> Address:
    name = _field(raw, "deliveryName") or " ".join(
        part for part in (_field(raw, "deliveryFirstName"), _field(raw, "deliveryLastName")) if part
    )
    return Address(
        name=name,
        company=_field(raw, "deliveryCompany") or None,
        address1=_field(raw, "deliveryAddress"),
        address2=_field(raw, "deliveryCoaddress") or None,
        zip=_field(raw, "deliveryZipcode") or None,
        city=_field(raw, "deliveryCity"),
        state=_field(raw, "deliveryState") or None,
        country_code=_field(raw, "deliveryCountry").upper(),
        email=_field(raw, "deliveryEmail") or _field(raw, "billingEmail") or None,
        phone=_field(raw, "deliveryCell") or _field(raw, "deliveryTele") or _field(raw, "billingCell") or None,
    )


def _line(raw: Mapping[str, Any]) -> OrderLine:
    name = " / ".join(part for part in (_field(raw, "name"), _field(raw, "variant"), _field(raw, "size")) if part)
    return OrderLine(
        line_id=_field(raw, "lineId"),
        sku=centra_sku(_field(raw, "sku"), _field(raw, "variantSku"), _field(raw, "sizeSku"), _field(raw, "ean")),
        name=name,
        quantity=_quantity(raw, "qty"),
        unit_price=_decimal(raw, "price") or Decimal(0),
        vat_percentage=_decimal(raw, "taxPercent"),
    )


def parse_product(raw: Mapping[str, Any], pricelist: str | None) -> StoreProduct:
    """A GET /products row (one size) as a StoreProduct, priced from `pricelist` (its name or id; else the first)."""
    sku = centra_sku(_text(raw, "sku"), _text(raw, "variantSku"), _text(raw, "sizeSku"), _text(raw, "ean"))
    price = _price(raw.get("prices"), pricelist)
    images = raw.get("images") or []
    return StoreProduct(
        store_ids={name: _text(raw, name) for name in ("productId", "variantId", "stockItemId") if _text(raw, name)},
        sku=sku or None,
        ean=_text(raw, "ean") or None,
        name=" / ".join(part for part in (_display_name(raw), _text(raw, "variant"), _text(raw, "size")) if part),
        description=_text(raw, "description") or None,
        price=_loose_decimal(price.get("price")) if price else None,
        currency=(_text(price, "currency") or None) if price else None,
        image_url=_image_url(images[0]) if isinstance(images, list) and images else None,
        active=_flag(raw, "active") if "active" in raw else True,
    )


def _display_name(raw: Mapping[str, Any]) -> str:
    return _text(raw, "name") or _text(raw, "product")  # the external name, else the internal one


def _price(prices: Any, pricelist: str | None) -> Mapping[str, Any] | None:
    rows = [row for row in prices or [] if isinstance(row, dict)] if isinstance(prices, list) else []
    if pricelist is None:
        return rows[0] if rows else None
    return next((row for row in rows if pricelist in (_text(row, "pricelist"), _text(row, "id"))), None)


def _image_url(image: Any) -> str | None:
    # The reference shows images as a list of CDN URLs; an object with a url is read too, in case (uncertain).
    url = image.get("url") if isinstance(image, dict) else image
    return str(url) if url else None


class CentraStore:
    """A Centra store reached through its Order API plugin (Base URL + secret API key)."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        zone: ZoneInfo,
        *,
        clock: Clock = utc_now,
        page_size: int = PAGE_SIZE,
        http: HttpClient | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._zone = zone
        self._clock = clock
        self._page_size = page_size
        self._http = http or HttpClient(
            PLATFORM,
            base_url,
            headers={"API-Authorization": api_key, "Accept": "application/json"},
            rate_limiter=RateLimiter(rate_per_s=10, burst=20),
            error_message=_error_message,
            retry=retry,
            clock=clock,
        )

    def close(self) -> None:
        self._http.close()

    def products(self, pricelist: str | None) -> Iterator[StoreProduct]:
        for rows in self._catalog_pages("products", self._page_size):
            for raw in rows:
                yield parse_product(raw, pricelist)

    def _catalog_pages(self, path: str, limit: int) -> Iterator[list[dict[str, Any]]]:
        """GET /products or /stock page by page, following the answer's `next` link (docs/api/centra.md, "Paging").

        The server may honour a smaller `limit` than asked, and whether it always sends the links is uncertain: a
        page without `next` ends the list only when the answer shows it pages by links (a `previous` link);
        otherwise the next page is asked for, and an empty one ends it. Costs at most one extra call."""
        params: dict[str, Any] = {"limit": limit, "page": 1}
        while True:
            body = self._ok(self._http.request("GET", path, params=params))
            rows = body.get("products")
            if not isinstance(rows, list):
                raise PlatformError(PLATFORM, f"GET /{path} answered without a products list")
            if not rows:
                return
            yield rows
            page = _next_page(body, int(params["page"]))
            if page is None:
                return
            params = {**params, "page": page}

    def orders_placed_since(self, since: datetime) -> Iterator[StoreOrder | UnreadableOrder | UnidentifiedOrder]:
        """Every order placed after `since`, each once, by overlapping offset pages (docs/api/centra.md, "Paging").

        Each page starts ORDER_PAGE_OVERLAP orders before the end of the previous one. Meeting an order read
        before proves that no order slipped before the offset (orders dropping out of the list move the rest
        towards its head); meeting none, the page is read again from further back. The list ends with an empty
        page, or one that brings nothing new and is shorter than the longest page the server has given (or the
        same as the page before: a server that ignores the offset)."""
        newer_than = local_lower_bound(since, self._clock(), self._zone).strftime(DATE_FORMAT)
        seen: set[str] = set()
        offset, longest, step_backs, must_meet_seen = 0, 0, 0, False
        previous: list[str] = []
        while True:
            page = self._get_orders({"newer_than": newer_than, "limit": self._page_size, "offset": offset})
            ids = [_order_key(raw) for raw in page]
            if must_meet_seen and seen.isdisjoint(ids):
                step_backs += 1
                if step_backs > ORDER_PAGE_STEP_BACKS:
                    raise TransientPlatformError(PLATFORM, "the order list kept changing while it was read")
                offset = max(0, offset - max(longest, 1))
                must_meet_seen = offset > 0
                continue
            fresh = [(order_id, raw) for order_id, raw in zip(ids, page, strict=True) if order_id not in seen]
            for order_id, raw in fresh:
                seen.add(order_id)
                yield self._read(raw)
            longest = max(longest, len(page))
            if not page or (not fresh and (len(page) < longest or ids == previous)):  # the same page again: the
                return  # server does not page by offset, this is all it gives
            previous = ids
            overlap = min(ORDER_PAGE_OVERLAP, len(page) - 1)  # a server giving one order a page cannot be checked
            offset += len(page) - overlap
            must_meet_seen = overlap > 0

    def check_access(self) -> None:
        """One cheap authenticated read (GET /orders limit=1): raises when the Base URL or the API key is wrong."""
        self._get_orders({"limit": 1})

    def get_order(self, order_id: str) -> StoreOrder | UnreadableOrder | None:
        try:
            page = self._get_orders({"order": order_id})
        except RejectedByPlatformError as exc:
            if "does not exist" in exc.detail:
                return None
            raise
        matching = [raw for raw in page if order_id_of(raw) == order_id]
        return self._read_order(order_id, matching[0]) if matching else None

    def _read(self, raw: Any) -> StoreOrder | UnreadableOrder | UnidentifiedOrder:
        """Parse one element of an order list; one that cannot be parsed is returned as such, so it cannot stop the
        others."""
        order_id = order_id_of(raw)
        if order_id is None:
            return UnidentifiedOrder(problem=f"not an order with an orderId: {_shown(raw)}")
        return self._read_order(order_id, raw)

    def _read_order(self, order_id: str, raw: dict[str, Any]) -> StoreOrder | UnreadableOrder:
        try:
            return parse_order(raw, self._zone)
        except UnreadableRecordError as exc:
            return UnreadableOrder(order_id=order_id, placed_at=_placed_at(raw, self._zone), problem=exc.detail[:500])

    def _get_orders(self, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        body = self._ok(self._http.request("GET", "orders", params=params))
        orders = body.get("orders")
        if not isinstance(orders, list):
            raise PlatformError(PLATFORM, "GET /orders answered without an orders list")
        return orders

    @staticmethod
    def _ok(response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise PlatformError(PLATFORM, f"answer is not JSON (HTTP {response.status_code})") from exc
        if not isinstance(body, dict):
            raise PlatformError(PLATFORM, "answer is not a JSON object")
        if body.get("status") != "ok":
            raise RejectedByPlatformError(PLATFORM, str(body.get("msg") or "request refused"), response.status_code)
        return body

    # ---- stock and shipments (myOGO -> store) -------------------------------------------------------
    #
    # Stock. POST /stock sets the absolute PHYSICAL stock of the plugin's primary warehouse, and Centra sells
    # physical minus allocated, where allocated is its own unshipped orders (reference §1.8). Those orders are
    # either in myOGO already (inside myOGO's available quantity) or in transit (subtracted from the value to
    # publish), so writing physical = V would subtract them twice. We write physical = V + allocatedStock as
    # read from GET /stock just before, so that Centra's sellable stock is exactly V. Centra silently raises a
    # physical value below its allocated quantity; ours is at least the allocation we read, so a clamp can only
    # happen when more than V units were allocated between our read and our write, and then the sellable 0 it
    # gives is the truth. The allocation is read per item (by EAN or stockItemId) for a few items, else, or when an
    # item has neither, from the paged list of all items (one call per STOCK_PAGE_SIZE items). GET /stock sums
    # the primary and virtual warehouses; with virtual warehouses the allocation read may include units the
    # primary does not hold (uncertain). Items the store does not know (productsNotFound, productsAreBundles) are
    # returned as not found, never guessed.

    STOCK_BATCH_SIZE: ClassVar[int] = 100  # items per POST /stock (no maximum documented)
    STOCK_PAGE_SIZE: ClassVar[int] = 500  # items per GET /stock page (no maximum documented)
    ALLOCATION_LOOKUP_MAX: ClassVar[int] = 20  # above this many items, one paged read of all is cheaper

    def publish_stock(self, items: Sequence[StockToPublish]) -> Iterator[StockBatchResult]:
        allocated = self._allocated_stock([item.binding for item in items])
        for start in range(0, len(items), self.STOCK_BATCH_SIZE):
            writes = [
                StoreStockWrite(
                    sku=item.binding.sku,
                    quantity=item.quantity,
                    store_quantity=item.quantity + _allocation(item.binding, allocated),
                )
                for item in items[start : start + self.STOCK_BATCH_SIZE]
            ]
            refused = self._post_stock(writes)
            yield StockBatchResult(
                written=[write for write in writes if write.sku not in refused], not_found=sorted(refused)
            )

    def _allocated_stock(self, bindings: Sequence[SkuBinding]) -> dict[str, int]:
        """allocatedStock by item key (full SKU and EAN) of the items the bindings name."""
        rows: Iterable[dict[str, Any]]
        lookups = [_stock_lookup(binding) for binding in bindings]
        exact = [lookup for lookup in lookups if lookup is not None]
        if len(bindings) > self.ALLOCATION_LOOKUP_MAX or len(exact) < len(lookups):
            rows = self._all_stock_rows()
        else:
            rows = [row for lookup in exact for row in self._stock_rows(lookup)]
        allocated: dict[str, int] = {}
        for row in rows:
            units = int(row.get("allocatedStock") or 0)
            key = centra_sku(_text(row, "sku"), _text(row, "variantSku"), _text(row, "sizeSku"), "")
            for name in (key, _text(row, "ean")):
                if name:
                    allocated[name] = units
        return allocated

    def _all_stock_rows(self) -> Iterator[dict[str, Any]]:
        for rows in self._catalog_pages("stock", self.STOCK_PAGE_SIZE):
            yield from rows

    def _stock_rows(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        return self._stock_list(self._ok(self._http.request("GET", "stock", params=params)))

    @staticmethod
    def _stock_list(body: Mapping[str, Any]) -> list[dict[str, Any]]:
        rows = body.get("products")
        if not isinstance(rows, list):
            raise PlatformError(PLATFORM, "GET /stock answered without a products list")
        return rows

    def _post_stock(self, writes: Sequence[StoreStockWrite]) -> set[str]:
        """Write one batch; return the SKUs Centra did not update (it updates the others, reference §1.8)."""
        payload = {"products": [{"product": write.sku, "quantity": write.store_quantity} for write in writes]}
        # An absolute value: repeating the call is harmless, so 5xx and timeouts are retried.
        response = self._http.request("POST", "stock", json=payload, idempotent=True)
        try:
            self._ok(response)
        except RejectedByPlatformError:
            errors = response.json().get("errors")
            if not isinstance(errors, dict):
                raise
            refused = [*errors.get("productsNotFound", []), *errors.get("productsAreBundles", [])]
            return {str(sku) for sku in refused}
        return set()

    # Shipments. One POST /shipments creates the shipment of the lines myOGO shipped, captures the payment (Centra
    # creates nothing when the capture fails) and marks it shipped with carrier and tracking (reference §1.4).
    # An open shipment (Centra's "Direct to Shipment" option makes one per order, or an earlier attempt of ours)
    # is completed instead with PUT /shipment (§1.6). Centra has one tracking field and no tracking-URL field:
    # every code myOGO gave is sent, comma-separated as myOGO gives them, with `packages` = the number of codes;
    # the URL stays in ogosync's record. No `sendEmail`: the store's own setting decides the customer e-mail.
    # Neither call is repeated on an unknown outcome: the engine looks at the order's shipments first.

    def order_shipments(self, order_id: str) -> list[StoreShipment]:
        matching = [raw for raw in self._get_orders({"order": order_id}) if order_id_of(raw) == order_id]
        if not matching:
            raise RejectedByPlatformError(PLATFORM, f"order {order_id} does not exist")
        return [
            StoreShipment(
                shipment_id=_field(shipment, "shipmentId"),
                shipped=_date_set(shipment, "shippedDate"),
                tracking=_field(shipment, "trackingId") or None,
            )
            for shipment in _objects(matching[0], "shipments")
        ]

    def create_shipment(
        self, order_id: str, lines: Mapping[str, int], shipment: ShipmentToPush, deadline: datetime | None = None
    ) -> StoreShipment:
        body = {"order": order_id, "products": dict(lines), "gtg": True, "capture": True, "shipped": True}
        answer = self._shipment_call("POST", "shipments", body | _tracking_fields(shipment), deadline)
        return StoreShipment(shipment_id=str(answer.get("shipment") or ""), shipped=True, tracking=_tracking(shipment))

    def complete_shipment(
        self, order_id: str, shipment_id: str, shipment: ShipmentToPush, deadline: datetime | None = None
    ) -> StoreShipment:
        body = {"order": order_id, "shipment": shipment_id, "gtg": True, "capture": True, "shipped": True}
        self._shipment_call("PUT", "shipment", body | _tracking_fields(shipment), deadline)
        return StoreShipment(shipment_id=shipment_id, shipped=True, tracking=_tracking(shipment))

    def _shipment_call(self, method: str, path: str, body: dict[str, Any], deadline: datetime | None) -> dict[str, Any]:
        try:
            return self._ok(self._http.request(method, path, json=body, idempotent=False, deadline=deadline))
        except RejectedByPlatformError as exc:
            if "captur" in exc.detail.lower():  # "can not capture order", "capture failed"
                failure = f"order {body['order']}: {exc.detail}"
                raise CaptureFailedError(PLATFORM, failure, exc.status) from exc
            if any(marker in exc.detail.lower() for marker in _NOT_CONFIRMED_MARKERS):
                waiting = f"order {body['order']} is not confirmed in Centra yet: {exc.detail}"
                raise OrderNotReadyError(PLATFORM, waiting, exc.status) from exc
            raise


def _order_key(raw: Any) -> str:
    """What tells two orders of a listing apart: the order number, else the whole record (an unreadable one)."""
    return order_id_of(raw) or json.dumps(raw, sort_keys=True, default=str)


def _next_page(body: Mapping[str, Any], page: int) -> int | None:
    """The page the answer's `next` link names ("?limit=2&page=3"); without one, the next page when the answer
    carries no paging links at all (uncertain whether Centra always sends them), else None: the end."""
    link = body.get("next")
    if link:
        named = urllib.parse.parse_qs(urllib.parse.urlsplit(str(link)).query).get("page", [""])[0]
        return int(named) if named.isdigit() and int(named) > page else page + 1
    return None if body.get("previous") or "next" in body else page + 1


def _stock_lookup(binding: SkuBinding) -> dict[str, str] | None:
    """A GET /stock filter that names exactly this item: its EAN, else its stockItemId (the product flow keeps it in
    store_ids); None when it has neither. Never the `sku` filter: whether Centra matches it on the product SKU or
    on the joined code is undocumented (docs/api/centra.md, "Stock allocation look-up"). Rows are matched to the
    binding by their full joined code or EAN either way (_allocated_stock)."""
    if binding.ean:
        return {"ean": binding.ean}
    item = binding.store_ids.get("stockItemId")
    return {"stockItemId": item} if item else None


def _allocation(binding: SkuBinding, allocated: Mapping[str, int]) -> int:
    return allocated.get(binding.sku, allocated.get(binding.ean or "", 0))


def _tracking(shipment: ShipmentToPush) -> str | None:
    return ",".join(shipment.tracking_numbers) or None


def _tracking_fields(shipment: ShipmentToPush) -> dict[str, Any]:
    fields: dict[str, Any] = {"carrier": shipment.carrier} if shipment.carrier else {}
    if shipment.tracking_numbers:
        fields |= {"tracking": _tracking(shipment), "packages": len(shipment.tracking_numbers)}
    return fields
