"""Centra simulator: the "Order API" REST plugin plus the "Centra Webhook" plugin (Integration API mode).

Follows the Order API plugin as docs/api/centra.md describes it. Application errors are HTTP 200 with
`{"status":"no","msg":...}`; dates are naive local time (`YYYY-mm-dd HH:MM:SS`) in the store's zone.
"""

from __future__ import annotations

import collections
import copy
import hashlib
import hmac
import json
import random
import urllib.parse
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from ogosync_local.sim.server import Clock, HttpError, Request, Response, SimServer, int_param, json_response, locked
from ogosync_local.sim.webhooks import DeliveryRecord, post_webhook

BASE_PATH = "/api/ogosync"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"
ORDER_STATUSES = {
    "Incomplete": 0,
    "Pending": 1,
    "Confirmed": 2,
    "Processing": 3,
    "Completed": 4,
    "Archived": 5,
    "Cancelled": 6,
}
DEFAULT_STATUSES_RETURNED = frozenset({"Pending", "Confirmed", "Processing", "Completed"})
ALLOCATING_STATUSES = frozenset({"Pending", "Confirmed", "Processing"})
SHIPPABLE_STATUSES = frozenset({"Confirmed", "Processing"})
ORDERS_MAX_LIMIT = 100  # uncertain: the reference documents no maximum for GET /orders; we cap at 100
SHIPMENT_STATUSES = ("goodtogo", "inprogress", "completed")
ADDRESS_KEYS = (
    "name",
    "company",
    "email",
    "cell",
    "tele",
    "address",
    "coaddress",
    "zipcode",
    "city",
    "state",
    "country",
    "vat",
)
DEFAULT_ADDRESS = {
    "name": "Anna Andersson",
    "company": "",
    "email": "anna.andersson@example.com",
    "cell": "+46701234567",
    "tele": "",
    "address": "Storgatan 1",
    "coaddress": "",
    "zipcode": "11122",
    "city": "Stockholm",
    "state": "",
    "country": "SE",
}
DEFAULT_LINE = {
    "sku": "TS100",
    "variantSku": "BLK",
    "sizeSku": "M",
    "ean": "7350000000017",
    "upc": "",
    "name": "Basic T-shirt",
    "variant": "Black",
    "brand": "Ogo Basics",
    "size": "M",
    "localizedSize": "M",
    "comment": "",
    "qty": 1,
    "price": 299.0,
    "originalPrice": 299.0,
    "priceDiscount": 0.0,
    "taxPercent": 25.0,
    "weight": 0.2,
    "weightUnit": "kg",
    "countryOfOrigin": "PT",
    "harmCode": "610910",
}
WebhookAction = Literal["create", "update"]


def sign_centra_webhook(secret: str, body: bytes, t: int) -> str:
    """The `X-Centra-Signature` value: `t=<t>,v1=<hex HMAC-SHA256(secret, "<t>." + raw body)>`."""
    digest = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


@dataclass
class _Product:
    """One stock item (a size row); `row` is the GET /products shape."""

    row: dict[str, Any]
    physical: int
    created: datetime
    modified: datetime
    stock_modified: datetime

    @property
    def key(self) -> str:
        return _sku_key(self.row)


@dataclass
class _Shipment:
    shipment_id: str
    lines: dict[str, int]
    created: datetime
    gtg: bool
    paid: bool
    shipped_at: datetime | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def shipped(self) -> bool:
        return self.shipped_at is not None


@dataclass
class _Order:
    doc: dict[str, Any]
    status: str
    created: datetime
    shipments: list[_Shipment] = field(default_factory=list)
    capture_fails: bool = False
    garbled: dict[str, Any] = field(default_factory=dict)  # fields served as given over the order's own (malformed)
    hidden: bool = False  # not returned by GET /orders at all (see CentraSimulator.hide_order)

    @property
    def order_id(self) -> str:
        return str(self.doc["orderId"])

    def line(self, line_id: str) -> dict[str, Any] | None:
        return next((line for line in self.doc["products"] if line["lineId"] == line_id), None)

    def quantities(self, *, shipped_only: bool) -> collections.Counter[str]:
        """Quantity per lineId in this order's shipments (all, or only the shipped ones)."""
        total: collections.Counter[str] = collections.Counter()
        for shipment in self.shipments:
            if shipment.shipped or not shipped_only:
                total.update(shipment.lines)
        return total


class CentraSimulator(SimServer):
    """A Centra store behind the Order API plugin mounted at `/api/ogosync`.

    Python methods are the primary API; `base_url` is what a product adapter is configured with.
    """

    def __init__(
        self,
        *,
        api_key: str,
        time_zone: str = "Europe/Stockholm",
        statuses_returned: Iterable[str] = DEFAULT_STATUSES_RETURNED,
        return_hold_orders: bool = True,
        endpoint_secret: str | None = None,
        webhook_url: str | None = None,
        status_format: Literal["name", "number"] = "name",
        clock: Clock | None = None,
        port: int = 0,
    ) -> None:
        super().__init__(base_path=BASE_PATH, clock=clock, port=port)
        self.api_key = api_key
        self.time_zone = ZoneInfo(time_zone)
        self.statuses_returned = frozenset(_check_status(name) for name in statuses_returned)
        self.return_hold_orders = return_hold_orders
        # How the `sku` filter of GET /products and /stock matches is undocumented: the product SKU or the joined
        # code (default), or, with this set, the product SKU only.
        self.sku_filter_product_only = False
        # What an open shipment's shippedDate reads: "" here; MySQL's zero date "0000-00-00 00:00:00" or None too.
        self.unset_shipped_date: str | None = ""
        self.endpoint_secret = endpoint_secret
        self.webhook_url = webhook_url
        self.status_format = status_format
        # The most rows one page of GET /orders, /products or /stock holds, whatever `limit` asks (None: as asked,
        # GET /orders up to ORDERS_MAX_LIMIT). Centra documents no maximum; tests set one to prove nothing is lost.
        self.page_cap: int | None = None
        self._clear_data()
        self._add_routes()

    def _clear_data(self) -> None:
        self._orders: dict[str, _Order] = {}
        self._products: dict[int, _Product] = {}
        self._product_names: dict[str, _Product] = {}  # full SKU and EAN -> product, so lookups stay O(1)
        self._events: list[dict[str, Any]] = []
        self._next_order = 1001
        self._next_line = 1
        self._next_item = 1
        self._next_customer = 1
        self._product_ids: dict[str, int] = {}
        self._variant_ids: dict[tuple[str, str], int] = {}
        self._hide_after_page: list[str] = []

    def _add_routes(self) -> None:
        self.add_route("GET", "/orders", self._get_orders)
        self.add_route("GET", "/products", self._get_products)
        self.add_route("GET", "/stock", self._get_stock)
        self.add_route("POST", "/stock", self._post_stock)
        self.add_route("POST", "/shipments", self._create_shipment)
        self.add_route("GET", "/shipments", self._get_shipments)
        self.add_route("PUT", "/shipments/{shipmentId}", self._update_shipment)
        self.add_route("PUT", "/shipment", self._complete_shipment)
        self.add_route("PUT", "/capture", self._capture)
        self.add_control_route("POST", "/_sim/orders", self._control_add_order)
        self.add_control_route("POST", "/_sim/products", self._control_add_product)
        self.add_control_route("POST", "/_sim/deliver-webhooks", self._control_deliver)

    # -- SimServer hooks -----------------------------------------------------------------------
    def authenticate(self, request: Request) -> Response | None:
        """Check `API-Authorization: <api_key>` (no Bearer prefix)."""
        given = request.headers.get("API-Authorization") or ""
        if hmac.compare_digest(given.encode(), self.api_key.encode()):
            return None
        # uncertain: the reference documents no HTTP code/body for auth failures; 401 is the likeliest
        return self.error_response(401, "Authorization failed")

    def error_body(self, status: int, message: str) -> Any:
        """Centra's `{"status":"no","msg":...}` shape."""
        return {"status": "no", "msg": message}

    def state(self) -> dict[str, Any]:
        """Counts for `GET /_sim/state`."""
        by_status = collections.Counter(order.status for order in self._orders.values())
        return {
            "orders": len(self._orders),
            "ordersByStatus": dict(by_status),
            "products": len(self._products),
            "shipments": sum(len(order.shipments) for order in self._orders.values()),
            "pendingWebhooks": len(self._events),
            "webhookUrl": self.webhook_url,
        }

    @locked
    def reset(self) -> None:
        """Drop orders, products, shipments and queued events (configuration is kept)."""
        super().reset()
        self._clear_data()

    # -- Python API: orders ----------------------------------------------------------------------
    @locked
    def add_order(
        self,
        lines: Sequence[Mapping[str, Any]] = (),
        *,
        order_id: str | None = None,
        status: str = "Confirmed",
        currency: str = "SEK",
        delivery: Mapping[str, str] | None = None,
        billing: Mapping[str, str] | None = None,
        shipping_list: str = "standard",
        carrier: str = "PostNord",
        hold: bool = False,
        waiting_for_payment: bool = False,
        suspect: bool = False,
        shipping_value: float = 49.0,
        comment: str = "",
        market_id: int = 1,
        pricelist_id: int = 19,
        payment_type: str = "cc",
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Create an order dated now (sim clock) and queue a `create` webhook event; returns the API shape.

        Each line is a mapping of API line fields; `{"product": <sku+variantSku+sizeSku or EAN>, "qty": n}`
        copies identity, names and price from the catalog. Without lines one default T-shirt line is used.
        `delivery`/`billing` take unprefixed keys (name, address, zipcode, city, country, vat...).
        """
        status = _check_status(status)
        order_id = self._claim_order_id(order_id)
        now = self.now()
        doc: dict[str, Any] = {
            "orderId": order_id,
            "orderStatus": None,
            "selectionId": uuid.uuid4().hex,
            "orderDate": self._local_text(now),
            "orderStore": "Retail",
            "orderCurrency": currency,
            "customerId": self._next_customer,
            "poNumber": "",
            "internalComment": "",
            "otherComment": comment,
            "marketId": market_id,
            "pricelistId": pricelist_id,
            **_address("delivery", delivery),
            **_address("billing", {**(delivery or {}), **(billing or {})}),
            "suspect": int(suspect),
            "hold": int(hold),
            "waitingForPayment": int(waiting_for_payment),
            "internalOrder": 0,
            "shippingList": shipping_list,
            "defaultCarrier": carrier,
            "paymentPlugin": "klarna_checkout_v1",
            "paymentType": payment_type,
            "paymentDescription": "Klarna",
            "paymentReference": uuid.uuid4().hex[:12],
            "paymentMethod": "klarna_checkout_v1",
            "shippingValue": _money(shipping_value),
            "voucherValue": 0.0,
            "discounts": {"vouchers": [], "automaticDiscounts": []},
            "products": [self._build_line(spec) for spec in (lines or [DEFAULT_LINE])],
            "shipments": [],
            **(extra or {}),
        }
        self._next_customer += 1
        _apply_totals(doc)
        order = _Order(doc, status, created=now)
        self._orders[order_id] = order
        self._queue_event(order, "create")
        return self._render_order(order)

    @locked
    def update_order(
        self,
        order_id: str,
        *,
        status: str | None = None,
        hold: bool | None = None,
        waiting_for_payment: bool | None = None,
        add_lines: Sequence[Mapping[str, Any]] = (),
        fields: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Change an order (status name, flags, extra lines, raw fields) and queue an `update` event."""
        order = self._order(order_id)
        if status is not None:
            order.status = _check_status(status)
        if hold is not None:
            order.doc["hold"] = int(hold)
        if waiting_for_payment is not None:
            order.doc["waitingForPayment"] = int(waiting_for_payment)
        order.doc["products"].extend(self._build_line(spec) for spec in add_lines)
        order.doc.update(fields or {})
        _apply_totals(order.doc)
        self._touch(order)
        return self._render_order(order)

    @locked
    def garble_order(self, order_id: str, **fields: Any) -> dict[str, Any]:
        """Serve these fields of the order as given (any JSON: `products={"3": {...}}`, `products=[None]`, ...) over
        its own, as a misbehaving plugin would; the order's own data (lines, totals, shipments) stays intact."""
        order = self._order(order_id)
        order.garbled.update(fields)
        self._touch(order)
        return self._render_order(order)

    @locked
    def repair_order(self, order_id: str) -> dict[str, Any]:
        """Serve the order as it is again (the plugin's fields are mended): undoes garble_order."""
        order = self._order(order_id)
        order.garbled.clear()
        self._touch(order)
        return self._render_order(order)

    @locked
    def hide_order(self, order_id: str, hidden: bool = True) -> None:
        """Make GET /orders leave the order out (or return it again): what a plugin setting or an unpaid state
        does to an order that Centra has (the order keeps its date, so it may reappear behind the watermark)."""
        self._order(order_id).hidden = hidden

    @locked
    def hide_after_next_page(self, order_id: str) -> None:
        """Hide the order right after the next GET /orders list page is served: it drops out between two page
        reads, as a cancelled order does from a list that skips cancelled ones."""
        self._order(order_id)
        self._hide_after_page.append(order_id)

    @property
    def orders(self) -> dict[str, dict[str, Any]]:
        """Every order by orderId in the API shape (ignores the plugin's status/hold filters)."""
        with self.lock:
            return {order_id: self._render_order(order) for order_id, order in self._orders.items()}

    @locked
    def fail_capture(self, order_id: str, fail: bool = True) -> None:
        """Make captures for this order fail (create shipment, complete shipment, PUT /capture)."""
        self._order(order_id).capture_fails = fail

    @locked
    def shipments(self, order_id: str) -> list[dict[str, Any]]:
        """This order's shipments, oldest first, in the GET /shipments shape."""
        order = self._order(order_id)
        return [self._shipment_row(order, shipment) for shipment in order.shipments]

    @property
    def pending_webhooks(self) -> list[dict[str, Any]]:
        """Events queued for the next `deliver_webhooks()`."""
        with self.lock:
            return copy.deepcopy(self._events)

    # -- Python API: products and stock ------------------------------------------------------------
    @locked
    def add_product(
        self,
        sku: str,
        variant_sku: str = "",
        size_sku: str = "",
        *,
        ean: str = "",
        name: str | None = None,
        variant: str = "",
        size: str = "",
        brand: str = "Ogo Basics",
        price: float = 299.0,
        currency: str = "SEK",
        stock: int = 0,
        active: bool = True,
        description: str = "",
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Add one size row (stock item) with `stock` physical units; returns the GET /products row.

        Centra does not stop two sizes from sharing a SKU or an EAN (its setup guide asks merchants to keep them
        distinct), so neither does the simulator; the methods that take a key act on the first match.
        """
        item_id = self._next_item
        self._next_item += 1
        row: dict[str, Any] = {
            "sku": sku,
            "productId": self._product_ids.setdefault(sku, len(self._product_ids) + 1),
            "variantSku": variant_sku,
            "variantId": self._variant_ids.setdefault((sku, variant_sku), len(self._variant_ids) + 1),
            "sizeSku": size_sku,
            "stockItemId": item_id,
            "ean": ean,
            "upc": "",
            "product": name or sku,
            "name": name or sku,
            "variant": variant,
            "size": size,
            "brand": brand,
            "collection": "",
            "description": description,
            "shortDescription": description[:80],
            "weight": 0.2,
            "weightUnit": "kg",
            "countryOfOrigin": "",
            "harmCode": "",
            "harmDescription": "",
            "active": active,
            "folder": "",
            "categories": [],
            "images": [f"https://cdn.centra.invalid/{sku}{variant_sku}.jpg"],
            "prices": [
                {"id": 19, "pricelist": currency, "price": _money(price), "currency": currency, "campaigns": []},
            ],
            **(extra or {}),
        }
        local = self._local(self.now())
        product = _Product(row, stock, local, local, local)
        self._products[item_id] = product
        self._index(product)
        return copy.deepcopy(row)

    @locked
    def update_product(self, key: str, *, stock: int | None = None, **fields: Any) -> dict[str, Any]:
        """Change row fields (API names) and/or the physical stock of the product `key` (full SKU or EAN)."""
        product = self._product(key)
        local = self._local(self.now())
        if fields:
            self._unindex(product)
            product.row.update(fields)
            self._index(product)
            product.modified = local
        if stock is not None:
            product.physical = stock
            product.stock_modified = local
        return copy.deepcopy(product.row)

    @locked
    def delete_product(self, key: str) -> None:
        """Remove the product `key` (full SKU or EAN)."""
        product = self._product(key)
        self._unindex(product)
        del self._products[product.row["stockItemId"]]

    @property
    def products(self) -> list[dict[str, Any]]:
        """Every row in the GET /products shape."""
        with self.lock:
            return [copy.deepcopy(product.row) for product in self._products.values()]

    @locked
    def stock(self, key: str) -> dict[str, Any]:
        """The GET /stock row of the product `key` (full SKU or EAN)."""
        return self._stock_row(self._product(key))

    # -- Python API: webhooks ------------------------------------------------------------------
    def deliver_webhooks(
        self,
        duplicate_rate: float = 0.0,
        loss_rate: float = 0.0,
        reorder: bool = False,
        seed: int | None = None,
        batch: int = 1,
    ) -> list[DeliveryRecord]:
        """POST the queued events to `webhook_url`, `batch` events per call; the queue is emptied.

        Lost batches are recorded (lost=True, status None) but never sent, duplicated ones are sent twice
        (the second record has duplicated=True). Failed POSTs are not retried, as the plugin's default.
        """
        if batch < 1:
            raise ValueError("batch must be at least 1")
        with self.lock:
            url = self.webhook_url
            if url is None:
                raise RuntimeError("webhook_url is not set")
            events, self._events = self._events, []
        rng = random.Random(seed)
        if reorder:
            rng.shuffle(events)
        records: list[DeliveryRecord] = []
        for start in range(0, len(events), batch):
            chunk = events[start : start + batch]
            body = urllib.parse.urlencode({"payload": json.dumps({"events": chunk}, separators=(",", ":"))}).encode()
            headers = self._webhook_headers(body)
            if rng.random() < loss_rate:
                records.append(DeliveryRecord(url, body, headers, chunk, lost=True))
                continue
            records.append(post_webhook(url, body, headers, chunk))
            if rng.random() < duplicate_rate:
                records.append(post_webhook(url, body, headers, chunk, duplicated=True))
        return records

    def _webhook_headers(self, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if self.endpoint_secret:
            headers["X-Centra-Signature"] = sign_centra_webhook(self.endpoint_secret, body, int(self.now().timestamp()))
        return headers

    # -- HTTP: orders ---------------------------------------------------------------------------
    def _get_orders(self, request: Request) -> Response:
        query = request.query
        try:
            limit = min(int_param(query, "limit", 20, minimum=1), self.page_cap or ORDERS_MAX_LIMIT)
            offset = int_param(query, "offset", 0)
            newer, older = _local_param(query, "newer_than"), _local_param(query, "older_than")
        except ValueError as exc:
            raise _fail(str(exc)) from None
        if query.get("order"):
            order = self._orders.get(query["order"])
            # uncertain: whether `order=` bypasses the plugin's status/hold filters; we apply them
            if order is None or not self._visible(order):
                raise _fail("order does not exist", order=query["order"])
            return _ok(orders=[self._render_order(order)])
        found = [
            order
            for order in self._orders.values()
            if self._visible(order)
            and _within(self._order_date(order), newer, older)
            and query.get("customer_id", str(order.doc["customerId"])) == str(order.doc["customerId"])
        ]
        # uncertain: sort order is not documented; the merchant's "Get orders starting with = Newest"
        found.sort(key=lambda order: (order.created, int(order.order_id)), reverse=True)
        page = [self._render_order(order) for order in found[offset : offset + limit]]
        for order_id in self._hide_after_page:
            self._orders[order_id].hidden = True
        self._hide_after_page.clear()
        return _ok(orders=page)

    def _visible(self, order: _Order) -> bool:
        held = order.doc["hold"] or order.doc["waitingForPayment"]
        shown = order.status in self.statuses_returned and (self.return_hold_orders or not held)
        return shown and not order.hidden

    # -- HTTP: products and stock --------------------------------------------------------------------
    def _get_products(self, request: Request) -> Response:
        return self._catalog(request, lambda product: copy.deepcopy(product.row))

    def _get_stock(self, request: Request) -> Response:
        return self._catalog(request, self._stock_row)

    def _catalog(self, request: Request, render: Callable[[_Product], dict[str, Any]]) -> Response:
        query = request.query
        try:
            limit = int_param(query, "limit", 0, minimum=1)
            page = int_param(query, "page", 1, minimum=1)
            since = {name: _local_param(query, name) for name in ("modified", "created", "stock_modified")}
        except ValueError as exc:
            raise _fail(str(exc)) from None
        rows = list(self._products.values())
        if any(since.values()) or any(query.get(name) for name in _CATALOG_FILTERS):  # (costly on a big catalog)
            sku_keys = ("sku",) if self.sku_filter_product_only else ("sku", "key")
            rows = [product for product in rows if _catalog_match(product, query, since, sku_keys)]
        if not limit and self.page_cap is None:
            return _ok(products=[render(product) for product in rows])
        limit = min(limit or len(rows), self.page_cap or len(rows) or 1)
        body: dict[str, Any] = {"products": [render(product) for product in rows[(page - 1) * limit : page * limit]]}
        if page > 1:
            body["previous"] = _page_link(query, limit, page - 1)
        if page * limit < len(rows):
            body["next"] = _page_link(query, limit, page + 1)
        return _ok(**body)

    def _post_stock(self, request: Request) -> Response:
        items = request.json_object().get("products")
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise _fail("products must be a list")  # uncertain: message for a malformed body
        updates: list[tuple[_Product, int]] = []
        not_found: list[str] = []
        for item in items:
            key, quantity = str(item.get("product", "")), item.get("quantity")
            if not isinstance(quantity, int) or isinstance(quantity, bool):
                raise _fail("quantity must be an integer", product=key)  # uncertain: message
            product = self._find_product(key)
            if product is None:
                not_found.append(key)
            else:
                updates.append((product, quantity))
        local = self._local(self.now())
        for product, quantity in updates:
            product.physical = max(quantity, self._allocated(product))  # silent clamp, as documented
            product.stock_modified = local
        if not_found:
            raise _fail("Some of the products were not updated", errors={"productsNotFound": not_found})
        return _ok()

    # -- HTTP: shipments ----------------------------------------------------------------------------
    def _create_shipment(self, request: Request) -> Response:
        body = request.json_object()
        order = self._order_or_fail(body.get("order"))
        if order.status not in SHIPPABLE_STATUSES:
            raise _fail("order is not confirmed", order=order.order_id)  # uncertain: message
        lines = self._check_lines(order, body.get("products"), allowed_extra={})
        capture = _flag(body, "capture", True)
        if capture and order.capture_fails:
            raise _fail("can not capture order", order=order.order_id)
        shipment_id = f"{order.order_id}-{len(order.shipments) + 1}"
        shipment = _Shipment(shipment_id, lines, self.now(), gtg=_flag(body, "gtg", False), paid=capture)
        order.shipments.append(shipment)
        order.status = "Processing"
        if _flag(body, "shipped", False) and shipment.gtg and shipment.paid:
            self._ship(order, shipment, body)
        self._touch(order)
        documents = _documents(shipment_id)
        return _ok(order=int(order.order_id), shipment=shipment_id, **documents, invoice=documents["proforma"])

    def _get_shipments(self, request: Request) -> Response:
        query = request.query
        status = query.get("status", "goodtogo")
        try:
            if status not in SHIPMENT_STATUSES:
                raise ValueError(f"status must be one of {', '.join(SHIPMENT_STATUSES)}")
            bounded = status != "goodtogo"
            limit = int_param(query, "limit", 20 if bounded else 0, minimum=1, maximum=100 if bounded else None)
            offset = int_param(query, "offset", 0)
            newer, older = _local_param(query, "newer_than"), _local_param(query, "older_than")
        except ValueError as exc:
            raise _fail(str(exc)) from None
        found = [
            (order, shipment)
            for order in self._orders.values()
            for shipment in order.shipments
            if _shipment_status(shipment) == status
            and query.get("order", order.order_id) == order.order_id
            and _within(self._local(shipment.created), newer, older)
        ]
        found.sort(key=lambda pair: pair[1].created)  # oldest first, as documented
        found = found[offset : offset + limit] if limit else found[offset:]
        return _ok(shipments=[self._shipment_row(order, shipment) for order, shipment in found])

    def _update_shipment(self, request: Request) -> Response:
        order, shipment = self._shipment_or_fail(request.params["shipmentId"])
        body = request.json_object()
        if "products" in body:
            ids = {"shipment": shipment.shipment_id}
            if shipment.shipped:
                raise _fail("shipment is sent and can not be updated", **ids)
            if shipment.paid:
                raise _fail("shipment is captured and can not be updated", **ids)
            shipment.lines = self._check_lines(order, body["products"], allowed_extra=shipment.lines)
        if "gtg" in body:
            shipment.gtg = _flag(body, "gtg", shipment.gtg)
        self._touch(order)
        return _ok(order=int(order.order_id), shipment=shipment.shipment_id)

    def _complete_shipment(self, request: Request) -> Response:
        body = request.json_object()
        order = self._order_or_fail(body.get("order"))
        # uncertain: `shipment` is typed int but shown as "83651-1"; accept both the id and its number
        raw = str(body.get("shipment", ""))
        shipment_id = raw if "-" in raw else f"{order.order_id}-{raw}"
        shipment = next((s for s in order.shipments if s.shipment_id == shipment_id), None)
        ids = {"order": int(order.order_id), "shipment": shipment_id}
        if shipment is None:
            raise _fail("shipment does not exist", **ids)  # uncertain: message
        if shipment.shipped:
            # uncertain: completing twice is undocumented; we answer ok and update the tracking data
            shipment.info.update(_shipping_info(body, shipment.info))
            return _ok(**ids)
        shipment.gtg = shipment.gtg or _flag(body, "gtg", False)
        if not shipment.paid and _flag(body, "capture", True):
            if order.capture_fails:
                raise _fail("capture failed", **ids)
            shipment.paid = True
        if not (shipment.paid and shipment.gtg and _flag(body, "shipped", False)):
            raise _fail("shipment must be paid, good to go and shipped to complete", **ids)  # uncertain: message
        self._ship(order, shipment, body)
        self._touch(order)
        return _ok(**ids)

    def _capture(self, request: Request) -> Response:
        order, shipment = self._shipment_or_fail(str(request.json_object().get("shipment", "")))
        ids = {"order": int(order.order_id), "shipment": shipment.shipment_id}
        if not shipment.paid:
            if order.capture_fails:
                raise _fail("capture failed", **ids)
            shipment.paid = True
        return _ok(**ids)

    def _ship(self, order: _Order, shipment: _Shipment, body: Mapping[str, Any]) -> None:
        """Mark shipped, deduct physical stock, and complete the order once every line is shipped."""
        shipment.shipped_at = self.now()
        shipment.info = _shipping_info(body, {"carrier": order.doc["defaultCarrier"]})
        local = self._local(shipment.shipped_at)
        for line_id, qty in shipment.lines.items():
            product = self._product_of_line(order.line(line_id) or {})
            if product is not None:
                product.physical = max(0, product.physical - qty)
                product.stock_modified = local
        shipped = order.quantities(shipped_only=True)
        if all(shipped[line["lineId"]] >= int(line["qty"]) for line in order.doc["products"]):
            order.status = "Completed"

    def _check_lines(self, order: _Order, products: Any, allowed_extra: Mapping[str, int]) -> dict[str, int]:
        """Validate a `{lineId: qty}` map against what is not yet in a shipment (plus `allowed_extra`)."""
        if not isinstance(products, dict) or not products:
            raise _fail("products is required", order=order.order_id)  # uncertain: message
        taken = order.quantities(shipped_only=False)
        taken.subtract(allowed_extra)
        lines: dict[str, int] = {}
        for line_id, raw_qty in products.items():
            line = order.line(str(line_id))
            qty = int(raw_qty) if str(raw_qty).isdigit() else 0
            if line is None or qty < 1 or qty > int(line["qty"]) - taken[str(line_id)]:
                raise _fail(f"invalid quantity for line {line_id}", order=order.order_id)  # uncertain: message
            lines[str(line_id)] = qty
        return lines

    # -- rendering ------------------------------------------------------------------------------------
    def _render_order(self, order: _Order) -> dict[str, Any]:
        doc = copy.deepcopy(order.doc)
        # uncertain: the reference never shows orderStatus values; name by default, "number" gives "0".."6"
        doc["orderStatus"] = order.status if self.status_format == "name" else str(ORDER_STATUSES[order.status])
        doc["shipments"] = [self._shipment_summary(shipment) for shipment in order.shipments]
        doc.update(copy.deepcopy(order.garbled))
        return doc

    def _shipment_summary(self, shipment: _Shipment) -> dict[str, Any]:
        info = shipment.info
        return {
            "shipmentId": shipment.shipment_id,
            "shippedDate": self._local_text(shipment.shipped_at) if shipment.shipped_at else self.unset_shipped_date,
            "carrier": info.get("carrier", ""),
            "service": info.get("service", ""),
            "trackingId": info.get("tracking", ""),
            "trackingUrl": _tracking_url(info),
            "returnSlipTracking": info.get("returnSlipTracking", ""),
        }

    def _shipment_row(self, order: _Order, shipment: _Shipment) -> dict[str, Any]:
        doc = self._render_order(order)
        del doc["shipments"], doc["products"]
        info = shipment.info
        lines = []
        for line_id, qty in shipment.lines.items():
            line = {**(order.line(line_id) or {}), "qty": qty}
            _line_totals(line)
            lines.append(line)
        return {
            "shipmentId": shipment.shipment_id,
            **doc,
            "paid": int(shipment.paid),
            "shouldCapture": int(not shipment.paid),
            "deliveryService": info.get("service") or doc["shippingList"],
            "shippingTerms": {},
            "paymentTerms": {},
            "trackingNumber": info.get("tracking", ""),
            "trackingUrl": _tracking_url(info),
            "returnSlipTracking": info.get("returnSlipTracking", ""),
            "shipmentDate": self._local_text(shipment.created),
            "shippedDate": self._local_text(shipment.shipped_at) if shipment.shipped_at else "",
            **_documents(shipment.shipment_id),
            "invoices": [],
            "products": lines,
        }

    def _stock_row(self, product: _Product) -> dict[str, Any]:
        row = product.row
        allocated = self._allocated(product)
        identity = {name: row[name] for name in ("sku", "variantSku", "sizeSku", "ean", "upc", "stockItemId")}
        descriptive = {
            name: row[name]
            for name in ("product", "variant", "size", "brand", "collection", "weight", "harmCode", "active")
        }
        return {
            **identity,
            "physicalStock": product.physical,
            "allocatedStock": allocated,
            "availableStock": product.physical - allocated,
            **descriptive,
        }

    # -- internals --------------------------------------------------------------------------------------
    def _allocated(self, product: _Product) -> int:
        """Units in unshipped lines of orders that hold stock (Pending..Processing, not waiting for payment)."""
        total = 0
        for order in self._orders.values():
            if order.status not in ALLOCATING_STATUSES or order.doc["waitingForPayment"]:
                continue
            shipped = order.quantities(shipped_only=True)
            for line in order.doc["products"]:
                if self._product_of_line(line) is product:
                    total += int(line["qty"]) - shipped[line["lineId"]]
        return total

    def _build_line(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        fields = dict(spec)
        base = DEFAULT_LINE
        if "product" in fields:
            product = self._product(str(fields.pop("product")))
            base = {**DEFAULT_LINE, **_line_from_product(product.row)}
        line = {"lineId": str(self._next_line), **base, **fields}
        self._next_line += 1
        _line_totals(line)
        return line

    def _claim_order_id(self, order_id: str | None) -> str:
        if order_id is None:
            order_id = str(self._next_order)
        if order_id in self._orders:
            raise ValueError(f"order {order_id} already exists")
        if order_id.isdigit():
            self._next_order = max(self._next_order, int(order_id) + 1)
        return order_id

    def _touch(self, order: _Order) -> None:
        """Record a modification: the Order API exposes none, so it is the webhook `update` event."""
        self._queue_event(order, "update")

    def _queue_event(self, order: _Order, action: WebhookAction) -> None:
        # uncertain: the action vocabulary (create vs insert) is not fully documented
        date = self._local(self.now()).strftime(DATE_FORMAT + ".%f")
        order_number: Any = int(order.order_id) if order.order_id.isdigit() else order.order_id
        self._events.append({"type": "order", "action": action, "date": date, "id": order_number})

    def _order(self, order_id: str) -> _Order:
        try:
            return self._orders[str(order_id)]
        except KeyError:
            raise KeyError(f"unknown order {order_id}") from None

    def _order_or_fail(self, order_id: Any) -> _Order:
        order = self._orders.get(str(order_id))
        if order is None:
            raise _fail("order does not exist", order=str(order_id))
        return order

    def _shipment_or_fail(self, shipment_id: str) -> tuple[_Order, _Shipment]:
        for order in self._orders.values():
            for shipment in order.shipments:
                if shipment.shipment_id == shipment_id:
                    return order, shipment
        raise _fail("shipment does not exist", shipment=shipment_id)  # uncertain: message

    def _find_product(self, key: str) -> _Product | None:
        return self._product_names.get(key) if key else None

    def _index(self, product: _Product) -> None:
        for name in (product.key, product.row["ean"]):
            if name:
                self._product_names.setdefault(name, product)

    def _unindex(self, product: _Product) -> None:
        for name in (product.key, product.row["ean"]):
            if self._product_names.get(name) is product:
                del self._product_names[name]

    def _product(self, key: str) -> _Product:
        product = self._find_product(key)
        if product is None:
            raise KeyError(f"unknown product {key}")
        return product

    def _product_of_line(self, line: Mapping[str, Any]) -> _Product | None:
        return self._find_product(_sku_key(line)) or self._find_product(str(line.get("ean", "")))

    def _local(self, when: datetime) -> datetime:
        """`when` as naive local time of the store, truncated to whole seconds."""
        return when.astimezone(self.time_zone).replace(tzinfo=None, microsecond=0)

    def _local_text(self, when: datetime) -> str:
        return self._local(when).strftime(DATE_FORMAT)

    def _order_date(self, order: _Order) -> datetime:
        return self._local(order.created)

    # -- control surface ---------------------------------------------------------------------------------
    def _control_add_order(self, request: Request) -> Response:
        return json_response(self.call_with_json(request, self.add_order))

    def _control_add_product(self, request: Request) -> Response:
        return json_response(self.call_with_json(request, self.add_product))

    def _control_deliver(self, request: Request) -> Response:
        try:
            records = self.call_with_json(request, self.deliver_webhooks)
        except RuntimeError as exc:
            raise HttpError(409, str(exc)) from None
        return json_response({"deliveries": [record.to_json() for record in records]})


# -- module helpers -------------------------------------------------------------------------------------
def _ok(**data: Any) -> Response:
    return json_response({"status": "ok", **data})


def _fail(msg: str, **data: Any) -> HttpError:
    """A Centra application error: HTTP 200 with status "no"."""
    return HttpError(200, msg, {"status": "no", "msg": msg, **data})


def _check_status(name: str) -> str:
    if name not in ORDER_STATUSES:
        raise ValueError(f"unknown Centra order status {name!r}; use one of {', '.join(ORDER_STATUSES)}")
    return name


def _flag(body: Mapping[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    return value.strip().lower() in ("1", "true") if isinstance(value, str) else bool(value)


def _local_param(query: Mapping[str, str], name: str) -> datetime | None:
    """Parse a `YYYY-mm-dd` or `YYYY-mm-dd HH:MM:SS` local-time parameter (a date means its midnight)."""
    raw = query.get(name, "")
    if not raw:
        return None
    for fmt in (DATE_FORMAT, "%Y-%m-%d"):
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            continue
    raise ValueError(f"{name} must be YYYY-mm-dd or YYYY-mm-dd HH:MM:SS")


def _within(value: datetime, newer: datetime | None, older: datetime | None) -> bool:
    return (newer is None or value > newer) and (older is None or value < older)


_CATALOG_FILTERS = ("sku", "ean", "productId", "variantId", "stockItemId")


def _catalog_match(
    product: _Product, query: Mapping[str, str], since: Mapping[str, datetime | None], sku_keys: tuple[str, ...]
) -> bool:
    row = product.row
    if query.get("sku") and query["sku"] not in [product.key if name == "key" else row["sku"] for name in sku_keys]:
        return False
    if query.get("ean") and query["ean"] != row["ean"]:
        return False
    if any(query.get(name) and query[name] != str(row[name]) for name in ("productId", "variantId", "stockItemId")):
        return False
    stamps = {"modified": product.modified, "created": product.created, "stock_modified": product.stock_modified}
    return all(limit is None or stamps[name] > limit for name, limit in since.items())


def _page_link(query: Mapping[str, str], limit: int, page: int) -> str:
    """A next/previous link such as "?limit=2&page=3" (uncertain: we keep the other filters too)."""
    others = {key: value for key, value in query.items() if key not in ("limit", "page")}
    return "?" + urllib.parse.urlencode({"limit": limit, "page": page, **others})


def _sku_key(fields: Mapping[str, Any]) -> str:
    return f"{fields.get('sku', '')}{fields.get('variantSku', '')}{fields.get('sizeSku', '')}"


def _address(prefix: str, overrides: Mapping[str, str] | None) -> dict[str, str]:
    values = {**DEFAULT_ADDRESS, **(overrides or {})}
    unknown = set(values) - set(ADDRESS_KEYS)
    if unknown:
        raise ValueError(f"unknown address keys: {', '.join(sorted(unknown))}")
    if prefix == "delivery":
        values.pop("vat", None)
    else:
        values.setdefault("vat", "")
    return {prefix + ("VAT" if key == "vat" else key.capitalize()): value for key, value in values.items()}


def _line_from_product(row: Mapping[str, Any]) -> dict[str, Any]:
    price = row["prices"][0]["price"] if row["prices"] else DEFAULT_LINE["price"]
    copied = {
        name: row[name]
        for name in (
            "sku",
            "variantSku",
            "sizeSku",
            "ean",
            "upc",
            "name",
            "variant",
            "brand",
            "size",
            "weight",
            "weightUnit",
        )
    }
    return {**copied, "localizedSize": row["size"], "price": price, "originalPrice": price}


def _money(value: float) -> float:
    return round(float(value), 2)


def _line_totals(line: dict[str, Any]) -> None:
    qty, price, rate = int(line["qty"]), float(line["price"]), float(line["taxPercent"])
    total = price * qty
    without = total / (1 + rate / 100)
    line.update(
        {
            "totalPrice": _money(total),
            "totalPriceWithTax": _money(total),
            "totalPriceWithoutTax": _money(without),
            "priceEachWithoutTax": _money(price / (1 + rate / 100)),
            "taxValue": _money(total - without),
        }
    )


def _apply_totals(doc: dict[str, Any]) -> None:
    """Recompute grand totals and the tax breakdown (shipping taxed at the first line's rate)."""
    lines = doc["products"]
    rate = float(lines[0]["taxPercent"]) if lines else 25.0
    shipping = float(doc["shippingValue"])
    tax = sum(line["taxValue"] for line in lines) + shipping - shipping / (1 + rate / 100)
    doc["grandTotalValue"] = _money(sum(line["totalPriceWithTax"] for line in lines) + shipping)
    doc["grandTotalTaxValue"] = _money(tax)
    doc["taxBreakdown"] = [{"description": f"VAT {rate:g}%", "taxPercent": rate, "value": _money(tax)}]


def _shipping_info(body: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("carrier", "service", "packages", "tracking", "returnSlipTracking")
    return {**defaults, **{key: body[key] for key in keys if key in body}}


def _tracking_url(info: Mapping[str, Any]) -> str:
    # uncertain: how Centra derives trackingUrl (no parameter carries one); this is a placeholder
    tracking = info.get("tracking", "")
    return f"https://tracking.centra.invalid/{info.get('carrier', '')}/{tracking}" if tracking else ""


def _documents(shipment_id: str) -> dict[str, str]:
    base = f"https://documents.centra.invalid/{shipment_id}"
    return {"deliveryNote": f"{base}/delivery-note.pdf", "proforma": f"{base}/proforma.pdf"}


def _shipment_status(shipment: _Shipment) -> str:
    if shipment.shipped:
        return "completed"
    return "goodtogo" if shipment.gtg else "inprogress"
