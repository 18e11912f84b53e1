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
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar, Protocol
from zoneinfo import ZoneInfo

import httpx

from ogosync.errors import (
    CaptureFailedError,
    OrderNotReadyError,
    PlatformError,
    RejectedByPlatformError,
    ShipmentMismatchError,
    TransientPlatformError,
    UnreadableRecordError,
)
from ogosync.http import HttpClient, RateLimiter, RetryPolicy
from ogosync.models import (
    ShipmentToPush,
    ShippedLine,
    SkuBinding,
    StockBatchResult,
    StockToPublish,
    StoreOrder,
    StoreProduct,
    StoreShipment,
    StoreStockWrite,
    UnidentifiedOrder,
    UnreadableOrder,
)
from ogosync.ratelimit import CallBudget
from ogosync.stores.centra.mapping import (
    DATE_FORMAT,
    PLATFORM,
    _date_set,
    _field,
    _objects,
    _placed_at,
    _shown,
    _text,
    centra_sku,
    order_id_of,
    parse_order,
    parse_product,
)
from ogosync.stores.lines import StoreLine, match_lines
from ogosync.timeutil import Clock, local_lower_bound, utc_now

PAGE_SIZE = 100
# Centra creates shipments only for confirmed orders (docs/api/centra.md, "Shipments of Pending orders"); the REST
# refusal's wording is undocumented, so any refusal that speaks of confirmation or a pending order is taken as it.
_NOT_CONFIRMED_MARKERS = ("not confirmed", "unconfirmed", "confirm the order", "is pending", "pending order")
ORDER_PAGE_OVERLAP = 3  # orders each GET /orders page re-reads of the previous one (to prove nothing moved)
ORDER_PAGE_STEP_BACKS = 10  # re-reads from further back per listing before the poll gives up (and retries)


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    return str(body.get("msg") or body) if isinstance(body, dict) else str(body)[:300]


class _ShipmentCalls(Protocol):
    """The Centra calls the shipment flow is made of (CentraStore's; a test fake's in tests/fakes_tracking.py)."""

    def get_order(self, order_id: str) -> StoreOrder | UnreadableOrder | None: ...

    def order_shipments(self, order_id: str) -> list[StoreShipment]: ...

    def create_shipment(
        self, order_id: str, lines: Mapping[str, int], shipment: ShipmentToPush, deadline: datetime | None = None
    ) -> StoreShipment: ...

    def complete_shipment(
        self, order_id: str, shipment_id: str, shipment: ShipmentToPush, deadline: datetime | None = None
    ) -> StoreShipment: ...


class OpenShipmentFlow:
    """How a Centra order is shipped (ports.ShipmentStore), in terms of its calls: a shipped shipment is there
    already; else an open one (Centra's "Direct to Shipment" makes one per order) is completed; else one is created
    of the store lines myOGO shipped, matched by SKU. One write, right after before_write()."""

    def shipped_already(self: _ShipmentCalls, order_id: str) -> StoreShipment | None:
        return next((shipment for shipment in self.order_shipments(order_id) if shipment.shipped), None)

    def push_shipment(
        self: _ShipmentCalls,
        order_id: str,
        lines: Sequence[ShippedLine],
        shipment: ShipmentToPush,
        *,
        before_write: Callable[[], None],
        deadline: datetime | None,
    ) -> StoreShipment:
        """Complete the order's open shipment, else create one of the store lines myOGO shipped (matched by SKU)."""
        existing = self.order_shipments(order_id)
        shipped = next((found for found in existing if found.shipped), None)
        if shipped is not None:
            return shipped.model_copy(update={"already_shipped": True})
        opened = next((found for found in existing if not found.shipped), None)
        if opened is not None:
            before_write()
            done = self.complete_shipment(order_id, opened.shipment_id, shipment, deadline)
            return done.model_copy(update={"was_open": True})
        order_lines = _lines_to_ship(self, order_id)
        store_lines = match_lines(order_id, order_lines, lines)
        before_write()
        return self.create_shipment(order_id, store_lines, shipment, deadline)


def _lines_to_ship(store: _ShipmentCalls, order_id: str) -> list[StoreLine]:
    order = store.get_order(order_id)
    if not isinstance(order, StoreOrder):
        raise ShipmentMismatchError(f"order {order_id} cannot be read from the store")
    return [StoreLine(line.line_id, line.sku, line.quantity) for line in order.lines]


class CentraStore(OpenShipmentFlow):
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
        pricelist: str | None = None,
        rate_limiter: CallBudget | None = None,
    ) -> None:
        """`rate_limiter` paces every call to the store; the deployed one is shared by every container
        (ogosync.ratelimit), the default holds only within this process."""
        self._zone = zone
        self._pricelist = pricelist
        self._clock = clock
        self._page_size = page_size
        self._http = http or HttpClient(
            PLATFORM,
            base_url,
            headers={"API-Authorization": api_key, "Accept": "application/json"},
            rate_limiter=rate_limiter if rate_limiter is not None else RateLimiter(rate_per_s=10, burst=20),
            error_message=_error_message,
            retry=retry,
            clock=clock,
        )

    def close(self) -> None:
        self._http.close()

    def products(self) -> Iterator[StoreProduct]:
        """Every size, priced from the integration's pricelist (the first price when none is set)."""
        for rows in self._catalog_pages("products", self._page_size):
            for raw in rows:
                yield parse_product(raw, self._pricelist)

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
