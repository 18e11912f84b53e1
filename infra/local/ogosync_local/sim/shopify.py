"""Shopify simulator: the GraphQL Admin API of one shop, its client-credentials token endpoint and its webhooks.

GraphQL documents run with graphql-core against the adapter's SDL subset (ogosync/stores/shopify/schema.graphql),
so every document valid there runs here, and no field the SDL lacks can be asked for. The behaviour follows
docs/api/shopify.md ("Simulator" sections name what is certain and what is our guess): the cost envelope and a
leaky bucket per shop, THROTTLED as HTTP 200 or 429, `inventorySetQuantities` with `changeFromQuantity` and
`@idempotent` (2026-04), fulfillment orders per location, `fulfillmentCreate`'s tracking rules, bulk operations
and HMAC-signed webhooks. Uncertain (no primary source): the bodies of 401 and of runtime errors, userError
messages, and the actual (refunded) query cost, which the simulator takes to be the requested cost.
Left out: fulfillment-service callbacks and accept/reject, split/merge, protected-data redaction, webhook retries.
"""

from __future__ import annotations

import base64
import collections
import copy
import hashlib
import hmac
import json
import random
import re
import secrets
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from importlib import resources
from typing import Any, TypeVar

from graphql import (
    GraphQLError,
    GraphQLResolveInfo,
    GraphQLSchema,
    StringValueNode,
    VariableNode,
    build_schema,
    execute_sync,
    parse,
    validate,
)

from ogosync_local.sim.server import Clock, HttpError, Request, Response, SimServer, json_response, locked
from ogosync_local.sim.shopify_query import (
    MAX_PAGE_SIZE,
    PAGINATION_CAP,
    SearchTerm,
    decode_cursor,
    encode_cursor,
    matches_term,
    operation_label,
    operation_of,
    parse_search,
    query_cost,
)
from ogosync_local.sim.webhooks import DeliveryRecord, post_webhook

API_VERSIONS = ("2026-01", "2026-04", "2026-07", "2026-10")  # the supported stable versions, oldest first
MANDATORY_CAS_VERSION = "2026-04"  # changeFromQuantity and @idempotent required at runtime from here
TOKEN_LIFETIME_S = 86_399
MAX_QUERY_COST = 1000
ORDER_WINDOW = timedelta(days=60)  # without read_all_orders only the last 60 days of orders are visible
BULK_CONCURRENCY = 5
SET_QUANTITY_NAMES = frozenset({"available", "on_hand"})
DEFAULT_TOPICS = frozenset({"orders/create", "orders/updated", "orders/cancelled"})
DEFAULT_SCOPES = (
    "read_products,read_orders,read_inventory,write_inventory,read_locations,"
    "read_merchant_managed_fulfillment_orders,write_merchant_managed_fulfillment_orders"
)
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
KNOWN_CARRIERS = {  # a few carriers Shopify builds the tracking URL for (the real list is longer)
    "DHL Express": "https://www.dhl.com/en/express/tracking.html?AWB={number}",
    "UPS": "https://www.ups.com/track?tracknum={number}",
    "FedEx": "https://www.fedex.com/fedextrack/?trknbr={number}",
}
QUANTITY_NAMES = ("available", "committed", "on_hand", "incoming", "reserved", "damaged", "quality_control")
T = TypeVar("T")
Info = GraphQLResolveInfo["_Call"]


def sign_shopify_webhook(secret: str, body: bytes) -> str:
    """The `X-Shopify-Hmac-Sha256` value: base64 of HMAC-SHA256(app client secret, raw body)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def adapter_sdl() -> str:
    """The adapter's SDL subset, ogosync/stores/shopify/schema.graphql (found through the package)."""
    return resources.files("ogosync.stores.shopify").joinpath("schema.graphql").read_text()


def gid(kind: str, number: int) -> str:
    """A global id such as gid://shopify/Order/1001."""
    return f"gid://shopify/{kind}/{number}"


def legacy_id(value: str | int) -> int:
    """The number of a global id or of a plain numeric id; ValueError otherwise."""
    text = str(value).rsplit("/", 1)[-1]
    if not text.isdigit():
        raise ValueError(f"not a Shopify id: {value!r}")
    return int(text)


@dataclass
class _Level:
    available: int = 0
    committed: int = 0
    unavailable: int = 0

    @property
    def on_hand(self) -> int:
        return self.available + self.committed + self.unavailable

    def quantity(self, name: str) -> int:
        values = {"available": self.available, "committed": self.committed, "on_hand": self.on_hand}
        return values.get(name, self.unavailable if name == "damaged" else 0)


@dataclass
class _Product:
    id: int
    title: str
    handle: str
    description_html: str
    image_url: str | None
    created: datetime
    updated: datetime
    variant_ids: list[int] = field(default_factory=list)


@dataclass
class _Variant:
    id: int
    product_id: int
    item_id: int
    sku: str
    barcode: str
    price: Decimal
    title: str
    image_url: str | None
    updated: datetime


@dataclass
class _Line:
    id: int
    variant_id: int | None
    sku: str
    title: str
    variant_title: str
    quantity: int
    price: Decimal


@dataclass
class _FOLine:
    id: int
    line: _Line
    total: int
    remaining: int


@dataclass
class _FulfillmentOrder:
    id: int
    order_id: int
    location_id: int
    lines: list[_FOLine]
    updated: datetime
    status: str = "OPEN"
    holds: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Fulfillment:
    id: int
    name: str
    created: datetime
    tracking: list[dict[str, str | None]]
    lines: list[tuple[_FOLine, int]]
    notify_customer: bool
    location_id: int


@dataclass
class _Order:
    id: int
    name: str
    created: datetime
    updated: datetime
    financial_status: str
    email: str
    currency: str
    shipping_address: dict[str, str | None]
    shipping_lines: list[dict[str, str]]
    lines: list[_Line]
    risk_level: str
    note: str = ""
    tags: list[str] = field(default_factory=list)
    cancelled_at: datetime | None = None
    cancel_reason: str | None = None
    fulfillment_orders: list[_FulfillmentOrder] = field(default_factory=list)
    fulfillments: list[_Fulfillment] = field(default_factory=list)


@dataclass
class _BulkOperation:
    id: int
    query: str
    created: datetime
    status: str = "CREATED"
    completed: datetime | None = None
    lines: list[bytes] = field(default_factory=list)
    roots: int = 0


@dataclass(frozen=True)
class _Event:
    topic: str
    body: bytes
    event_id: str
    triggered_at: str


@dataclass
class _Bucket:
    maximum: float
    restore_rate: float
    available: float
    at: datetime

    def refill(self, now: datetime) -> None:
        elapsed = max(0.0, (now - self.at).total_seconds())
        self.available = min(self.maximum, self.available + elapsed * self.restore_rate)
        self.at = now

    def status(self) -> dict[str, float]:
        return {
            "maximumAvailable": self.maximum,
            "currentlyAvailable": round(self.available, 1),
            "restoreRate": self.restore_rate,
        }


@dataclass
class _Call:
    """One GraphQL request on its way: what the resolvers need besides the data."""

    version: str
    bulk: bool = False  # a bulk operation's query: connections need no first/last and have no cap


class ShopifySimulator(SimServer):
    """One Shopify shop: `base_url` is what `Integration.store_base_url` holds (`https://<shop>.myshopify.com`)."""

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        access_tokens: Iterable[str] = (),
        shop: str = "ogosync-demo",
        webhook_url: str | None = None,
        webhook_topics: Iterable[str] = DEFAULT_TOPICS,
        sdl: str | None = None,
        webhook_api_version: str = MANDATORY_CAS_VERSION,
        bucket_size: float = 1000.0,
        restore_rate: float = 50.0,
        throttle_status: int = 200,
        enforce_idempotency: bool = True,
        read_all_orders: bool = False,
        clock: Clock | None = None,
        port: int = 0,
    ) -> None:
        super().__init__(clock=clock, port=port)
        self.client_id = client_id
        self.client_secret = client_secret  # also the key that signs the webhooks
        self.static_tokens = frozenset(access_tokens)
        self.shop_domain = f"{shop}.myshopify.com"
        self.shop_name = shop
        self.webhook_url = webhook_url
        self.webhook_topics = frozenset(webhook_topics)
        self.schema: GraphQLSchema = build_schema(sdl or adapter_sdl())
        self.webhook_api_version = webhook_api_version  # the version the app's subscriptions were made with
        self.bucket_size = bucket_size
        self.restore_rate = restore_rate
        self.throttle_status = throttle_status  # what a THROTTLED answer's HTTP status is: 200 or 429
        # The forum reports 2026-04 shops that neither require @idempotent nor replay a used key: False mimics that.
        self.enforce_idempotency = enforce_idempotency
        self.read_all_orders = read_all_orders
        self.pagination_cap = PAGINATION_CAP  # objects one connection pages through; tests lower it
        self._clear_data()
        self._add_routes()

    def _clear_data(self) -> None:
        self._next_id = 1001
        self._next_order_number = 1001
        self._tokens: dict[str, datetime] = {}
        self._locations: dict[int, str] = {}
        self._products: dict[int, _Product] = {}
        self._variants: dict[int, _Variant] = {}
        self._levels: dict[tuple[int, int], _Level] = {}
        self._orders: dict[int, _Order] = {}
        self._bulk: dict[int, _BulkOperation] = {}
        self._idempotent: dict[str, tuple[str, Any]] = {}
        self._events: list[_Event] = []
        self._sell_before_write: list[tuple[str, int, int | None]] = []
        self._throttle_next = 0
        self._bucket = _Bucket(self.bucket_size, self.restore_rate, self.bucket_size, self.now())
        self.operation_calls: collections.Counter[str] = collections.Counter()
        self.operation_cost: collections.Counter[str] = collections.Counter()
        self.inventory_call_sizes: list[int] = []
        self.inventory_refusals: collections.Counter[str] = collections.Counter()  # userError codes, per row
        self.default_location_id = self._new_id()
        self._locations[self.default_location_id] = "Shop location"

    def _add_routes(self) -> None:
        self.add_route("POST", "/admin/api/{version}/graphql.json", self._graphql)
        self.add_route("POST", "/admin/oauth/access_token", self._access_token, auth=False)
        self.add_route("GET", "/bulk-results/{operationId}.jsonl", self._bulk_result, auth=False)
        control: dict[str, Callable[..., Any]] = {
            "/_sim/locations": self.add_location,
            "/_sim/products": self.add_product,
            "/_sim/variants": self.add_variant,
            "/_sim/variants/update": self.update_variant,
            "/_sim/stock": self.set_stock,
            "/_sim/orders": self.add_order,
            "/_sim/sell": self.sell,
            "/_sim/expire-tokens": self.expire_tokens,
            "/_sim/throttle": self.throttle,
            "/_sim/inventory": self.inventory,
        }
        for path, method in control.items():
            self.add_control_route("POST", path, self._json_control(method))
        order_actions: dict[str, Callable[..., Any]] = {
            "update": self.update_order,
            "cancel": self.cancel_order,
            "hold": self.hold_order,
            "release": self.release_order,
            "mark-paid": self.mark_paid,
            "fulfillments": self.fulfillments,
            "read": self.order,
        }
        for action, method in order_actions.items():
            self.add_control_route("POST", f"/_sim/orders/{{orderId}}/{action}", self._order_control(method))
        self.add_control_route("POST", "/_sim/deliver-webhooks", self._control_deliver)

    # -- SimServer hooks -----------------------------------------------------------------------------------------
    def authenticate(self, request: Request) -> Response | None:
        """A live `X-Shopify-Access-Token`: a static (custom app) token or one the token endpoint issued."""
        token = request.headers.get("X-Shopify-Access-Token") or ""
        expires = self._tokens.get(token)
        if token in self.static_tokens or (expires is not None and self.now() < expires):
            return None
        return json_response({"errors": INVALID_TOKEN}, 401)

    def error_body(self, status: int, message: str) -> Any:
        """Shopify's `{"errors": ...}` shape (uncertain for faults: the simulator's choice)."""
        return {"errors": message}

    def state(self) -> dict[str, Any]:
        """Counts, call statistics and the leaky bucket for `GET /_sim/state`."""
        return {
            "shop": self.shop_domain,
            "locations": {str(number): name for number, name in self._locations.items()},
            "products": len(self._products),
            "variants": len(self._variants),
            "orders": len(self._orders),
            "fulfillments": sum(len(order.fulfillments) for order in self._orders.values()),
            "pendingWebhooks": len(self._events),
            "webhookUrl": self.webhook_url,
            "operationCalls": dict(self.operation_calls),
            "operationCost": dict(self.operation_cost),
            "inventoryCallSizes": list(self.inventory_call_sizes),
            "inventoryRefusals": dict(self.inventory_refusals),
            "throttleStatus": self._bucket.status(),
        }

    @locked
    def reset(self) -> None:
        """Drop every shop object, token, event and statistic (configuration is kept)."""
        super().reset()
        self._clear_data()

    # -- Python API: catalog and stock ---------------------------------------------------------------------------
    @locked
    def add_location(self, name: str) -> dict[str, Any]:
        """A new location (e.g. the warehouse); returns {id, legacyResourceId, name}."""
        number = self._new_id()
        self._locations[number] = name
        return self._location_json(number)

    @locked
    def add_product(
        self,
        title: str,
        variants: Sequence[Mapping[str, Any]] = (),
        *,
        description_html: str = "",
        handle: str | None = None,
        image_url: str | None = None,
    ) -> dict[str, Any]:
        """A product with these variants (each the keyword arguments of `add_variant`; none: one "Default Title"
        variant without SKU); returns the product with its variants' ids (see `add_variant`)."""
        now = self._stamp()
        number = self._new_id()
        self._products[number] = _Product(
            number, title, handle or _handle(title, number), description_html, image_url, now, now
        )
        made = [self._add_variant(number, **spec) for spec in (variants or [{}])]
        return {"id": gid("Product", number), "legacyResourceId": str(number), "title": title, "variants": made}

    @locked
    def add_variant(self, product_id: str, **spec: Any) -> dict[str, Any]:
        """One more variant of `product_id`: keywords sku, barcode, price, title, image_url, stock (available at
        `location_id`, default the shop's first location; None: not stocked anywhere). Returns its ids."""
        product = self._products[legacy_id(product_id)]
        product.updated = self._stamp()
        return self._add_variant(product.id, **spec)

    def _add_variant(
        self,
        product_id: int,
        *,
        sku: str = "",
        barcode: str = "",
        price: str | float = "10.00",
        title: str = "Default Title",
        image_url: str | None = None,
        stock: int | None = 0,
        location_id: str | None = None,
    ) -> dict[str, Any]:
        number, item = self._new_id(), self._new_id()
        variant = _Variant(number, product_id, item, sku, barcode, _money(price), title, image_url, self._stamp())
        self._variants[number] = variant
        self._products[product_id].variant_ids.append(number)
        if stock is not None:
            self._levels[(item, self._location_id(location_id))] = _Level(available=stock)
        return self._variant_json(variant)

    @locked
    def update_variant(self, sku: str, **fields: Any) -> dict[str, Any]:
        """Change a variant's sku, barcode, price, title or image_url (found by its SKU); updatedAt moves."""
        variant = self._variant_by_sku(sku)
        allowed = {"sku", "barcode", "price", "title", "image_url"}
        if set(fields) - allowed:
            raise ValueError(f"unknown variant fields: {', '.join(sorted(set(fields) - allowed))}")
        for name, value in fields.items():
            setattr(variant, name, _money(value) if name == "price" else value)
        variant.updated = self._stamp()
        self._products[variant.product_id].updated = variant.updated
        return self._variant_json(variant)

    @locked
    def set_stock(
        self, sku: str, available: int, *, location_id: str | None = None, stocked: bool = True
    ) -> dict[str, int]:
        """Set `available` of the SKU at a location (stocking it there); `stocked=False` unstocks it instead."""
        key = (self._variant_by_sku(sku).item_id, self._location_id(location_id))
        if not stocked:
            self._levels.pop(key, None)
            return {}
        level = self._levels.setdefault(key, _Level())
        level.available = available
        return self._level_json(level)

    @locked
    def inventory(self, sku: str, location_id: str | None = None) -> dict[str, int]:
        """{available, committed, on_hand} of the SKU at a location ({} when not stocked there)."""
        level = self._levels.get((self._variant_by_sku(sku).item_id, self._location_id(location_id)))
        return self._level_json(level) if level else {}

    # -- Python API: orders ----------------------------------------------------------------------------------------
    @locked
    def add_order(
        self,
        lines: Sequence[Mapping[str, Any]],
        *,
        financial_status: str = "PAID",
        location_id: str | None = None,
        hold_reason: str | None = None,
        hold_notes: str = "",
        risk_level: str = "LOW",
        email: str = "anna.andersson@example.com",
        shipping_address: Mapping[str, str | None] | None = None,
        shipping_title: str = "Standard",
        shipping_code: str = "STANDARD",
        currency: str = "EUR",
        created_at: datetime | str | None = None,
    ) -> dict[str, Any]:
        """Place an order and queue `orders/create` (never `orders/paid`: an app-created paid order fires none).

        Each line: {"sku": ..., "quantity": n} (price and titles from the catalog) or with "price"/"title" for a
        line without a variant; "location_id" per line overrides `location_id` (one fulfillment order per location).
        Placing moves available -> committed at the line's location. `hold_reason` (a FulfillmentHoldReason) puts
        the fulfillment orders ON_HOLD. `created_at` (aware, or ISO 8601 text) backdates it (the 60-day window).
        """
        when = _seconds(_aware(created_at)) if created_at else self._stamp()
        order = _Order(
            id=self._new_id(),
            name=f"#{self._next_order_number}",
            created=when,
            updated=when,
            financial_status=financial_status,
            email=email,
            currency=currency,
            shipping_address={**DEFAULT_ADDRESS, **(shipping_address or {})},
            shipping_lines=[
                {"id": str(self._new_id()), "title": shipping_title, "code": shipping_code, "price": "4.90"}
            ],
            lines=[],
            risk_level=risk_level,
        )
        self._next_order_number += 1
        by_location: dict[int, list[_Line]] = collections.defaultdict(list)
        for spec in lines:
            line = self._build_line(spec)
            order.lines.append(line)
            by_location[self._location_id(spec.get("location_id", location_id))].append(line)
        for location, location_lines in by_location.items():
            order.fulfillment_orders.append(self._new_fulfillment_order(order, location, location_lines))
        self._orders[order.id] = order
        if hold_reason:
            self._hold(order, hold_reason, hold_notes)
        self._queue(order, "orders/create")
        return self._order_json(order)

    @locked
    def update_order(
        self,
        order_id: str,
        *,
        email: str | None = None,
        note: str | None = None,
        tags: Sequence[str] | None = None,
        shipping_address: Mapping[str, str | None] | None = None,
    ) -> dict[str, Any]:
        """Edit an order (updatedAt moves) and queue `orders/updated`."""
        order = self._order(order_id)
        if email is not None:
            order.email = email
        if note is not None:
            order.note = note
        if tags is not None:
            order.tags = list(tags)
        if shipping_address is not None:
            order.shipping_address = {**order.shipping_address, **shipping_address}
        self._touch(order)
        return self._order_json(order)

    @locked
    def cancel_order(self, order_id: str, *, reason: str = "CUSTOMER") -> dict[str, Any]:
        """Cancel: what is still committed goes back to available, open fulfillment orders are CANCELLED; queues
        `orders/cancelled` and `orders/updated`."""
        order = self._order(order_id)
        order.cancelled_at, order.cancel_reason = self._stamp(), reason
        for fulfillment_order in order.fulfillment_orders:
            if fulfillment_order.status in ("CLOSED", "CANCELLED"):
                continue
            for fo_line in fulfillment_order.lines:
                self._move_committed(fo_line.line, fulfillment_order.location_id, -fo_line.remaining, restock=True)
            fulfillment_order.status, fulfillment_order.holds = "CANCELLED", []
            fulfillment_order.updated = order.cancelled_at
        self._touch(order, "orders/cancelled")
        return self._order_json(order)

    @locked
    def hold_order(self, order_id: str, reason: str = "OTHER", notes: str = "") -> dict[str, Any]:
        """Put every open fulfillment order of the order ON_HOLD with this FulfillmentHoldReason."""
        order = self._order(order_id)
        self._hold(order, reason, notes)
        self._touch(order)
        return self._order_json(order)

    @locked
    def release_order(self, order_id: str) -> dict[str, Any]:
        """Release the holds: OPEN again (IN_PROGRESS when partly fulfilled)."""
        order = self._order(order_id)
        for fulfillment_order in order.fulfillment_orders:
            if fulfillment_order.status == "ON_HOLD":
                fulfillment_order.holds = []
                fulfillment_order.status = _progress_status(fulfillment_order)
                fulfillment_order.updated = self._stamp()
        self._touch(order)
        return self._order_json(order)

    @locked
    def mark_paid(self, order_id: str) -> dict[str, Any]:
        """The payment is captured: displayFinancialStatus PAID; queues `orders/updated` (and `orders/paid` if
        subscribed: a payment Shopify processed fires it)."""
        order = self._order(order_id)
        order.financial_status = "PAID"
        self._touch(order)
        self._queue(order, "orders/paid")
        return self._order_json(order)

    @locked
    def sell(
        self, sku: str, quantity: int = 1, *, location_id: str | None = None, before_next_stock_write: bool = False
    ) -> dict[str, Any] | None:
        """A shopper buys `quantity` of the SKU (a paid order at the location). With `before_next_stock_write` the
        sale happens right before the next inventorySetQuantities runs, between a stock read and its write, so that
        a compare-and-swap on the old value is stale; returns None then."""
        if before_next_stock_write:
            self._variant_by_sku(sku)
            self._sell_before_write.append((sku, quantity, self._location_id(location_id)))
            return None
        return self.add_order([{"sku": sku, "quantity": quantity}], location_id=location_id)

    @locked
    def order(self, order_id: str) -> dict[str, Any]:
        """The order's status, fulfillment orders (status, holds, remaining per line) and fulfillments."""
        return self._order_json(self._order(order_id))

    @locked
    def order_ids(self) -> list[str]:
        """Every order's id (its legacyResourceId, as ogosync names orders), oldest first."""
        return [str(number) for number in self._orders]

    @locked
    def fulfillments(self, order_id: str) -> list[dict[str, Any]]:
        """The order's fulfillments: tracking, lines and quantities, notifyCustomer."""
        return [_fulfillment_json(fulfillment) for fulfillment in self._order(order_id).fulfillments]

    # -- Python API: tokens, throttling, webhooks ------------------------------------------------------------------
    @locked
    def expire_tokens(self) -> int:
        """Make every issued (client-credentials) token expire now; returns how many there were."""
        count = len(self._tokens)
        self._tokens.clear()
        return count

    @locked
    def throttle(
        self,
        *,
        next_calls: int | None = None,
        currently_available: float | None = None,
        status: int | None = None,
    ) -> dict[str, Any]:
        """Throttling for tests: THROTTLE the next `next_calls` GraphQL requests (a burst), set the bucket's level,
        or the HTTP status of a THROTTLED answer (200 or 429). Returns the bucket's status."""
        if status is not None:
            if status not in (200, 429):
                raise ValueError("status must be 200 or 429")
            self.throttle_status = status
        if next_calls is not None:
            self._throttle_next = next_calls
        if currently_available is not None:
            self._bucket.refill(self.now())
            self._bucket.available = currently_available
        return {**self._bucket.status(), "status": self.throttle_status, "throttleNext": self._throttle_next}

    @property
    def pending_webhooks(self) -> list[dict[str, Any]]:
        """Events queued for the next `deliver_webhooks()`: topic, event id, payload."""
        with self.lock:
            return [{"topic": e.topic, "eventId": e.event_id, "payload": json.loads(e.body)} for e in self._events]

    def deliver_webhooks(
        self,
        duplicate_rate: float = 0.0,
        loss_rate: float = 0.0,
        reorder: bool = False,
        delay_rate: float = 0.0,
        seed: int | None = None,
    ) -> list[DeliveryRecord]:
        """POST each queued event to `webhook_url`, signed; the queue keeps only the delayed ones.

        Lost events are recorded (lost=True) and never sent; a duplicate is sent again with the same event id and
        a new webhook id; a delayed event stays queued for the next call (delivered hours later, as it were).
        Failed POSTs are not retried (Shopify retries 8 times over 4 h: see the module docstring).
        """
        with self.lock:
            url = self.webhook_url
            if url is None:
                raise RuntimeError("webhook_url is not set")
            rng = random.Random(seed)
            events, self._events = self._events, []
            self._events = [event for event in events if rng.random() < delay_rate]
            events = [event for event in events if event not in self._events]
        if reorder:
            rng.shuffle(events)
        records: list[DeliveryRecord] = []
        for event in events:
            summary = [{"topic": event.topic, "eventId": event.event_id}]
            if rng.random() < loss_rate:
                records.append(DeliveryRecord(url, event.body, self._webhook_headers(event), summary, lost=True))
                continue
            records.append(post_webhook(url, event.body, self._webhook_headers(event), summary))
            if rng.random() < duplicate_rate:
                records.append(post_webhook(url, event.body, self._webhook_headers(event), summary, duplicated=True))
        return records

    def _webhook_headers(self, event: _Event) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "X-Shopify-Topic": event.topic,
            "X-Shopify-Hmac-Sha256": sign_shopify_webhook(self.client_secret, event.body),
            "X-Shopify-Shop-Domain": self.shop_domain,
            "X-Shopify-API-Version": self.webhook_api_version,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Event-Id": event.event_id,
            "X-Shopify-Triggered-At": event.triggered_at,
        }

    # -- HTTP: token endpoint ------------------------------------------------------------------------------------
    def _access_token(self, request: Request) -> Response:
        params = request.json_object() if request.content_type == "application/json" else request.form()
        given = str(params.get("client_secret", "")).encode()
        if params.get("client_id") != self.client_id or not hmac.compare_digest(given, self.client_secret.encode()):
            return json_response({"error": "invalid_client", "error_description": "Client authentication failed"}, 401)
        if params.get("grant_type") != "client_credentials":
            return json_response({"error": "unsupported_grant_type"}, 400)
        token = "shpca_" + secrets.token_hex(16)
        self._tokens[token] = self.now() + timedelta(seconds=TOKEN_LIFETIME_S)
        return json_response({"access_token": token, "scope": DEFAULT_SCOPES, "expires_in": TOKEN_LIFETIME_S})

    # -- HTTP: GraphQL -------------------------------------------------------------------------------------------
    def _graphql(self, request: Request) -> Response:
        version = _served_version(request.params["version"])
        headers = {"X-Shopify-API-Version": version}
        body = request.json_object()
        query, variables = body.get("query"), body.get("variables") or {}
        if not isinstance(query, str) or not isinstance(variables, dict):
            return json_response({"errors": [{"message": "Parameter Missing or Invalid"}]}, 400, headers)
        try:
            document = parse(query)
            operation = operation_of(document, body.get("operationName"))
        except GraphQLError as exc:
            return json_response({"errors": [exc.formatted]}, 200, headers)
        invalid = validate(self.schema, document)
        if invalid:
            return json_response({"errors": [error.formatted for error in invalid]}, 200, headers)
        label, cost = operation_label(operation), query_cost(self.schema, document, operation, variables)
        self.operation_calls[label] += 1
        refused = self._admit(cost)
        if refused is not None:
            return json_response(refused[0], refused[1], {**headers, **refused[2]})
        self.operation_cost[label] += cost
        result = execute_sync(
            self.schema,
            document,
            self._root(),
            _Call(version),
            variables,
            body.get("operationName"),
        )
        answer: dict[str, Any] = {"data": result.data}
        if result.errors:
            answer["errors"] = [error.formatted for error in result.errors]
        answer["extensions"] = {"cost": self._cost(cost, cost)}
        return json_response(answer, 200, headers)

    def _admit(self, cost: int) -> tuple[dict[str, Any], int, dict[str, str]] | None:
        """None when the bucket pays for `cost`; else the refusal (body, status, headers)."""
        if cost > MAX_QUERY_COST:
            message = f"Query cost is {cost}, which exceeds the single query max cost limit ({MAX_QUERY_COST})."
            error = {"message": message, "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost}}
            return {"errors": [error], "extensions": {"cost": self._cost(cost, None)}}, 200, {}
        self._bucket.refill(self.now())
        if self._throttle_next > 0 or cost > self._bucket.available:
            self._throttle_next = max(0, self._throttle_next - 1)
            error = {
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
            }
            wait = max(1, round((cost - self._bucket.available) / self.restore_rate))
            headers = {"Retry-After": str(wait)} if self.throttle_status == 429 else {}
            return {"errors": [error], "extensions": {"cost": self._cost(cost, None)}}, self.throttle_status, headers
        self._bucket.available -= cost
        return None

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": self._bucket.status()}

    def _root(self) -> dict[str, Any]:
        return {
            "shop": lambda info: self._shop_node(),
            "location": lambda info, id=None: self._location_node(legacy_id(id)) if id else self._shop_location(),
            "order": lambda info, id: self._visible_order(id),
            "orders": self._orders_connection,
            "productVariants": lambda info, query=None, **args: self._connection(
                info, self._search(list(self._variants.values()), query, self._variant_fields), args, self._variant_node
            ),
            "node": lambda info, id: self._node(id),
            "nodes": lambda info, ids: [self._node(one) for one in _checked_size(ids, "ids")],
            "bulkOperation": lambda info, id: self._poll_bulk(legacy_id(id)),
            "bulkOperations": self._bulk_operations,
            "inventorySetQuantities": self._inventory_set_quantities,
            "fulfillmentCreate": self._fulfillment_create,
            "bulkOperationRunQuery": self._bulk_run_query,
        }

    # -- GraphQL: connections and search --------------------------------------------------------------------------
    def _connection(
        self,
        info: Info,
        items: Sequence[T],
        args: Mapping[str, Any],
        render: Callable[[T], dict[str, Any]] | None = None,
        key: Callable[[T], Sequence[Any]] | None = None,
    ) -> dict[str, Any]:
        """A connection page of `items` (already sorted) with opaque cursors over `key` (default: position)."""
        keyed = [(list(key(item)) if key else [index], item) for index, item in enumerate(items)]
        reverse = bool(args.get("reverse"))
        if reverse:
            keyed.reverse()
        bulk = info.context.bulk
        size = args.get("first") if args.get("first") is not None else args.get("last")
        if not bulk:
            if size is None:
                raise GraphQLError("You must provide one of first or last.")
            if size > MAX_PAGE_SIZE:
                raise GraphQLError(f"The first/last argument must be at most {MAX_PAGE_SIZE}.")
            keyed = keyed[: self.pagination_cap]
        if args.get("after"):
            after = decode_cursor(args["after"])
            keyed = [pair for pair in keyed if (pair[0] < after if reverse else pair[0] > after)]
        page = keyed if size is None else keyed[:size]
        nodes = [render(item) if render else item for _, item in page]
        edges = [{"cursor": encode_cursor(k), "node": node} for (k, _), node in zip(page, nodes, strict=True)]
        return {
            "nodes": nodes,
            "edges": edges,
            "pageInfo": {
                "hasNextPage": len(keyed) > len(page),
                "hasPreviousPage": bool(args.get("after")),
                "startCursor": edges[0]["cursor"] if edges else None,
                "endCursor": edges[-1]["cursor"] if edges else None,
            },
        }

    def _orders_connection(
        self, info: Info, query: str | None = None, sortKey: str = "ID", **args: Any
    ) -> dict[str, Any]:
        stamp: dict[str, Callable[[_Order], Any]] = {
            "ID": lambda order: order.id,
            "CREATED_AT": lambda order: _iso(order.created),
            "PROCESSED_AT": lambda order: _iso(order.created),
            "UPDATED_AT": lambda order: _iso(order.updated),
        }
        found = self._search([o for o in self._orders.values() if self._in_window(o)], query, _order_fields)
        found.sort(key=lambda order: (stamp[sortKey](order), order.id))
        return self._connection(
            info, found, args, self._order_node, key=lambda order: (stamp[sortKey](order), order.id)
        )

    @staticmethod
    def _search(items: list[T], query: str | None, fields: Callable[[T], Mapping[str, Any]]) -> list[T]:
        holds = parse_search(query, _term_holds)
        return [item for item in items if holds(fields(item))]

    def _variant_fields(self, variant: _Variant) -> dict[str, Any]:
        return {
            "sku": variant.sku,
            "barcode": variant.barcode,
            "updated_at": variant.updated,
            "product_id": variant.product_id,
            "id": variant.id,
        }

    # -- GraphQL: nodes --------------------------------------------------------------------------------------------
    def _node(self, node_id: str) -> dict[str, Any] | None:
        kind, _, number = str(node_id).removeprefix("gid://shopify/").partition("/")
        if not number.isdigit():
            return None
        renderers: dict[str, Callable[[int], dict[str, Any] | None]] = {
            "Order": lambda n: self._visible_order(n),
            "Product": lambda n: self._product_node(self._products[n]) if n in self._products else None,
            "ProductVariant": lambda n: self._variant_node(self._variants[n]) if n in self._variants else None,
            "InventoryItem": self._item_node_by_id,
            "Location": lambda n: self._location_node(n) if n in self._locations else None,
            "FulfillmentOrder": self._fulfillment_order_by_id,
            "BulkOperation": self._poll_bulk,
        }
        render = renderers.get(kind)
        return render(int(number)) if render else None

    def _shop_node(self) -> dict[str, Any]:
        return {
            "__typename": "Shop",
            "id": gid("Shop", 1),
            "name": self.shop_name,
            "myshopifyDomain": self.shop_domain,
            "currencyCode": "EUR",
            "ianaTimezone": "Europe/Helsinki",
        }

    def _shop_location(self) -> dict[str, Any] | None:
        return self._location_node(self.default_location_id)

    def _location_node(self, number: int) -> dict[str, Any] | None:
        if number not in self._locations:
            return None
        return {**self._location_json(number), "__typename": "Location", "isActive": True, "fulfillsOnlineOrders": True}

    def _product_node(self, product: _Product) -> dict[str, Any]:
        return {
            "__typename": "Product",
            "id": gid("Product", product.id),
            "legacyResourceId": str(product.id),
            "title": product.title,
            "handle": product.handle,
            "descriptionHtml": product.description_html,
            "description": _plain_text(product.description_html),
            "onlineStoreUrl": f"https://{self.shop_domain}/products/{product.handle}",
            "status": "ACTIVE",
            "createdAt": _iso(product.created),
            "updatedAt": _iso(product.updated),
            "featuredMedia": _media(product.image_url, product.id),
        }

    def _variant_node(self, variant: _Variant) -> dict[str, Any]:
        product = self._products[variant.product_id]
        return {
            "__typename": "ProductVariant",
            "id": gid("ProductVariant", variant.id),
            "legacyResourceId": str(variant.id),
            "title": variant.title,
            "displayName": f"{product.title} - {variant.title}",
            "sku": variant.sku or None,
            "barcode": variant.barcode or None,
            "price": str(variant.price),
            "updatedAt": _iso(variant.updated),
            "image": _image(variant.image_url),
            "product": lambda info: self._product_node(product),
            "inventoryItem": lambda info: self._item_node(variant),
        }

    def _item_node(self, variant: _Variant) -> dict[str, Any]:
        def level(info: Info, locationId: str) -> dict[str, Any] | None:
            return self._level_node(variant, legacy_id(locationId))

        sharing = sum(1 for other in self._variants.values() if variant.sku and other.sku == variant.sku) - 1
        return {
            "__typename": "InventoryItem",
            "id": gid("InventoryItem", variant.item_id),
            "legacyResourceId": str(variant.item_id),
            "sku": variant.sku or None,
            "tracked": True,
            "duplicateSkuCount": max(0, sharing),
            "inventoryLevel": level,
        }

    def _item_node_by_id(self, item_id: int) -> dict[str, Any] | None:
        variant = next((v for v in self._variants.values() if v.item_id == item_id), None)
        return self._item_node(variant) if variant else None

    def _level_node(self, variant: _Variant, location: int) -> dict[str, Any] | None:
        level = self._levels.get((variant.item_id, location))
        if level is None:
            return None
        return {
            "__typename": "InventoryLevel",
            "id": f"gid://shopify/InventoryLevel/{variant.item_id}?inventory_item_id={location}",
            "location": lambda info: self._location_node(location),
            "quantities": lambda info, names: [
                {"name": name, "quantity": level.quantity(name), "id": f"{name}-{variant.item_id}-{location}"}
                for name in names
            ],
        }

    def _visible_order(self, order_id: str | int) -> dict[str, Any] | None:
        order = self._orders.get(legacy_id(order_id))
        return self._order_node(order) if order is not None and self._in_window(order) else None

    def _in_window(self, order: _Order) -> bool:
        return self.read_all_orders or order.created >= self.now() - ORDER_WINDOW

    def _order_node(self, order: _Order) -> dict[str, Any]:
        shipping_lines = [_shipping_line(line) for line in order.shipping_lines]
        total = sum((line.price * line.quantity for line in order.lines), Decimal(0))
        return {
            "__typename": "Order",
            "id": gid("Order", order.id),
            "legacyResourceId": str(order.id),
            "name": order.name,
            "email": order.email,
            "phone": order.shipping_address.get("phone"),
            "createdAt": _iso(order.created),
            "updatedAt": _iso(order.updated),
            "processedAt": _iso(order.created),
            "cancelledAt": _iso(order.cancelled_at) if order.cancelled_at else None,
            "closed": order.cancelled_at is not None or _fulfillment_status(order) == "FULFILLED",
            "currencyCode": order.currency,
            "displayFinancialStatus": order.financial_status,
            "note": order.note or None,
            "risk": _risk(order.risk_level),
            "shippingAddress": {"id": gid("MailingAddress", order.id), **order.shipping_address},
            "shippingLines": lambda info, **args: self._connection(info, shipping_lines, args),
            "fulfillmentOrders": lambda info, **args: self._connection(
                info, order.fulfillment_orders, args, self._fulfillment_order_node
            ),
            "fulfillments": lambda info, first=None: [self._fulfillment_node(f) for f in order.fulfillments[:first]],
            "totalPriceSet": _money_bag(total, order.currency),
        }

    def _fulfillment_order_node(self, fulfillment_order: _FulfillmentOrder) -> dict[str, Any]:
        order = self._orders[fulfillment_order.order_id]
        return {
            "__typename": "FulfillmentOrder",
            "id": gid("FulfillmentOrder", fulfillment_order.id),
            "status": fulfillment_order.status,
            "createdAt": _iso(order.created),
            "updatedAt": _iso(fulfillment_order.updated),
            "assignedLocation": {
                "name": self._locations[fulfillment_order.location_id],
                "location": lambda info: self._location_node(fulfillment_order.location_id),
            },
            "fulfillmentHolds": [dict(hold) for hold in fulfillment_order.holds],
            "lineItems": lambda info, **args: self._connection(
                info, fulfillment_order.lines, args, lambda fo_line: self._fo_line_node(fo_line, order.currency)
            ),
        }

    def _fulfillment_order_by_id(self, number: int) -> dict[str, Any] | None:
        found = self._find_fulfillment_order(number)
        return self._fulfillment_order_node(found) if found else None

    def _fo_line_node(self, fo_line: _FOLine, currency: str) -> dict[str, Any]:
        variant = self._variants.get(fo_line.line.variant_id) if fo_line.line.variant_id else None
        price = _money_bag(fo_line.line.price, currency)
        return {
            "__typename": "FulfillmentOrderLineItem",
            "id": gid("FulfillmentOrderLineItem", fo_line.id),
            "sku": fo_line.line.sku or None,
            "productTitle": fo_line.line.title,
            "variantTitle": fo_line.line.variant_title or None,
            "inventoryItemId": gid("InventoryItem", variant.item_id) if variant else None,
            "requiresShipping": True,
            "totalQuantity": fo_line.total,
            "remainingQuantity": fo_line.remaining,
            "financialSummaries": [
                {"quantity": fo_line.total, "originalUnitPriceSet": price, "approximateDiscountedUnitPriceSet": price}
            ],
        }

    def _fulfillment_node(self, fulfillment: _Fulfillment) -> dict[str, Any]:
        return {
            "__typename": "Fulfillment",
            "id": gid("Fulfillment", fulfillment.id),
            "legacyResourceId": str(fulfillment.id),
            "name": fulfillment.name,
            "status": "SUCCESS",
            "createdAt": _iso(fulfillment.created),
            "location": lambda info: self._location_node(fulfillment.location_id),
            "trackingInfo": lambda info, first=None: [dict(row) for row in fulfillment.tracking[:first]],
        }

    # -- GraphQL: inventorySetQuantities ---------------------------------------------------------------------------
    def _inventory_set_quantities(self, info: Info, input: dict[str, Any]) -> dict[str, Any]:
        call: _Call = info.context
        strict = call.version >= MANDATORY_CAS_VERSION
        key = _idempotency_key(info)
        if key is None and strict and self.enforce_idempotency:
            raise GraphQLError(
                "The @idempotent directive is required for this mutation.", extensions={"code": "BAD_REQUEST"}
            )
        quantities = _checked_size(input["quantities"], "quantities")
        if strict and any("changeFromQuantity" not in row for row in quantities):
            raise GraphQLError(
                "changeFromQuantity is required: give the quantity you expect, or null to opt out.",
                extensions={"code": "BAD_REQUEST"},
            )
        fingerprint = json.dumps(input, sort_keys=True, default=str)
        if key is not None and self.enforce_idempotency and key in self._idempotent:
            stored_input, stored = self._idempotent[key]
            if stored_input != fingerprint:
                raise GraphQLError(
                    "The idempotency key was used with a different input.", extensions={"code": "BAD_REQUEST"}
                )
            return copy.deepcopy(stored)
        self.inventory_call_sizes.append(len(quantities))
        self._run_pending_sales()
        result = self._set_quantities(input, quantities)
        self.inventory_refusals.update(error["code"] for error in result["userErrors"])
        if key is not None:
            self._idempotent[key] = (fingerprint, copy.deepcopy(result))
        return result

    def _set_quantities(self, input: Mapping[str, Any], quantities: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        name = input["name"]
        if name not in SET_QUANTITY_NAMES:
            return _user_errors(["input", "name"], "INVALID_NAME", "The quantity name must be available or on_hand.")
        errors: list[dict[str, Any]] = []
        seen: set[tuple[int, int]] = set()
        changes: list[tuple[_Level, int, _Variant, int]] = []
        for index, row in enumerate(quantities):
            path = ["input", "quantities", str(index)]
            checked = self._check_quantity_row(name, row, seen)
            if isinstance(checked, dict):
                errors.append({**checked, "field": path + checked["field"]})
            else:
                changes.append(checked)
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        rendered = []
        for level, quantity, variant, location in changes:
            before = level.quantity(name)
            level.available += quantity - before  # setting on_hand moves available too; committed stays
            rendered.append(
                {
                    "name": name,
                    "delta": quantity - before,
                    "quantityAfterChange": quantity,
                    "item": self._item_node(variant),
                    "location": self._location_node(location),
                }
            )
        group = {
            "id": gid("InventoryAdjustmentGroup", self._new_id()),
            "createdAt": _iso(self._stamp()),
            "reason": input["reason"],
            "referenceDocumentUri": input.get("referenceDocumentUri"),
            "changes": lambda info, inventoryItemIds=None, locationIds=None, quantityNames=None: [
                change
                for change in rendered
                if (inventoryItemIds is None or change["item"]["id"] in inventoryItemIds)
                and (locationIds is None or change["location"]["id"] in locationIds)
                and (quantityNames is None or change["name"] in quantityNames)
            ],
        }
        return {"inventoryAdjustmentGroup": group, "userErrors": []}

    def _check_quantity_row(
        self, name: str, row: Mapping[str, Any], seen: set[tuple[int, int]]
    ) -> tuple[_Level, int, _Variant, int] | dict[str, Any]:
        variant = self._variant_by_item(row["inventoryItemId"])
        if variant is None:
            return _error(
                ["inventoryItemId"], "INVALID_INVENTORY_ITEM", "The specified inventory item could not be found."
            )
        location = _maybe_id(row["locationId"])
        if location not in self._locations:
            return _error(["locationId"], "INVALID_LOCATION", "The specified location could not be found.")
        pair = (variant.item_id, location)
        if pair in seen:
            return _error(
                ["inventoryItemId"],
                "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR",
                "The combination of inventoryItemId and locationId must be unique.",
            )
        seen.add(pair)
        level = self._levels.get(pair)
        if level is None:
            return _error(
                ["locationId"],
                "ITEM_NOT_STOCKED_AT_LOCATION",
                "The specified inventory item is not stocked at the location.",
            )
        quantity = row["quantity"]
        if quantity < 0:
            return _error(["quantity"], "INVALID_QUANTITY_NEGATIVE", "The quantity can't be negative.")
        expected = row.get("changeFromQuantity")
        if expected is not None and expected != level.quantity(name):
            return _error(
                ["changeFromQuantity"],
                "CHANGE_FROM_QUANTITY_STALE",
                "The changeFromQuantity does not match the current quantity.",
            )
        return level, quantity, variant, location

    def _run_pending_sales(self) -> None:
        sales, self._sell_before_write = self._sell_before_write, []
        for sku, quantity, location in sales:
            self.add_order([{"sku": sku, "quantity": quantity}], location_id=str(location))

    # -- GraphQL: fulfillmentCreate ----------------------------------------------------------------------------------
    def _fulfillment_create(
        self, info: Info, fulfillment: dict[str, Any], message: str | None = None
    ) -> dict[str, Any]:
        tracking_error = _tracking_error(fulfillment.get("trackingInfo") or {})
        if tracking_error:
            return {
                "fulfillment": None,
                "userErrors": [{"field": ["fulfillment", "trackingInfo"], "message": tracking_error}],
            }
        groups = _checked_size(fulfillment["lineItemsByFulfillmentOrder"], "lineItemsByFulfillmentOrder")
        planned = self._plan_fulfillment(groups)
        if isinstance(planned, str):
            return {"fulfillment": None, "userErrors": [{"field": ["fulfillment"], "message": planned}]}
        order, moves = planned
        tracking = _tracking_rows(fulfillment.get("trackingInfo") or {})
        record = _Fulfillment(
            self._new_id(),
            f"{order.name}-F{len(order.fulfillments) + 1}",
            self._stamp(),
            tracking,
            [(fo_line, quantity) for _, fo_line, quantity in moves],
            bool(fulfillment.get("notifyCustomer") or False),
            moves[0][0].location_id,
        )
        for fulfillment_order, fo_line, quantity in moves:
            fo_line.remaining -= quantity
            self._move_committed(fo_line.line, fulfillment_order.location_id, -quantity, restock=False)
        for fulfillment_order in {id(m[0]): m[0] for m in moves}.values():
            fulfillment_order.status = _progress_status(fulfillment_order)
            fulfillment_order.updated = record.created
        order.fulfillments.append(record)
        self._touch(order)
        return {"fulfillment": self._fulfillment_node(record), "userErrors": []}

    def _plan_fulfillment(
        self, groups: Sequence[Mapping[str, Any]]
    ) -> tuple[_Order, list[tuple[_FulfillmentOrder, _FOLine, int]]] | str:
        """What to fulfil, or the userError message that refuses it (nothing changes then)."""
        if not groups:
            return "lineItemsByFulfillmentOrder must not be empty."
        moves: list[tuple[_FulfillmentOrder, _FOLine, int]] = []
        orders: set[int] = set()
        for group in groups:
            fulfillment_order = self._find_fulfillment_order(_maybe_id(group["fulfillmentOrderId"]))
            if fulfillment_order is None:
                return "Fulfillment order does not exist."
            if fulfillment_order.status not in ("OPEN", "IN_PROGRESS"):
                fo_gid = gid("FulfillmentOrder", fulfillment_order.id)
                return f"Fulfillment order {fo_gid} has an unfulfillable status= {fulfillment_order.status.lower()}."
            orders.add(fulfillment_order.order_id)
            wanted = group.get("fulfillmentOrderLineItems")
            if not wanted:
                moves += [
                    (fulfillment_order, line, line.remaining) for line in fulfillment_order.lines if line.remaining
                ]
                continue
            for item in _checked_size(wanted, "fulfillmentOrderLineItems"):
                fo_line = next((line for line in fulfillment_order.lines if line.id == _maybe_id(item["id"])), None)
                if fo_line is None:
                    return "Invalid fulfillment order line item id."
                if not 0 < item["quantity"] <= fo_line.remaining:
                    asked = f"{item['quantity']} of {fo_line.remaining} remaining"
                    return f"Invalid fulfillment order line item quantity requested: {asked}."
                moves.append((fulfillment_order, fo_line, item["quantity"]))
        if len(orders) > 1:
            return "All fulfillment orders must belong to the same order."
        if not moves:
            return "Nothing left to fulfill."
        return self._orders[orders.pop()], moves

    # -- GraphQL: bulk operations ------------------------------------------------------------------------------------
    def _bulk_run_query(self, info: Info, query: str, **_: Any) -> dict[str, Any]:
        running = [op for op in self._bulk.values() if op.status in ("CREATED", "RUNNING")]
        if len(running) >= BULK_CONCURRENCY:
            message = "A bulk query operation for this app and shop is already in progress: "
            message += f"{gid('BulkOperation', running[0].id)}."
            return {
                "bulkOperation": None,
                "userErrors": [{"field": None, "message": message, "code": "OPERATION_IN_PROGRESS"}],
            }
        try:
            document = parse(query)
            invalid = validate(self.schema, document)
        except GraphQLError as exc:
            invalid = [exc]
        if invalid:
            return {
                "bulkOperation": None,
                "userErrors": [{"field": ["query"], "message": invalid[0].message, "code": "INVALID"}],
            }
        operation = _BulkOperation(self._new_id(), query, self._stamp())
        self._bulk[operation.id] = operation
        return {"bulkOperation": self._bulk_node(operation), "userErrors": []}

    def _poll_bulk(self, number: int) -> dict[str, Any] | None:
        """Each read of a bulk operation moves it one step: CREATED -> RUNNING -> COMPLETED (result written)."""
        operation = self._bulk.get(number)
        if operation is None:
            return None
        if operation.status == "RUNNING":
            self._complete_bulk(operation)
        elif operation.status == "CREATED":
            operation.status = "RUNNING"
        return self._bulk_node(operation)

    def _bulk_operations(self, info: Info, query: str | None = None, **args: Any) -> dict[str, Any]:
        """The bulk operations matching `query` (status, operation_type), oldest first; reading them here does not
        move them on (only bulkOperation(id) and node(id) do)."""
        found = self._search(list(self._bulk.values()), query, _bulk_fields)
        return self._connection(info, found, args, self._bulk_node, key=lambda operation: (operation.id,))

    def _complete_bulk(self, operation: _BulkOperation) -> None:
        document = parse(operation.query)
        result = execute_sync(self.schema, document, self._root(), _Call(API_VERSIONS[-1], bulk=True))
        if result.errors or result.data is None:
            operation.status = "FAILED"
            return
        for value in result.data.values():
            for node in _connection_nodes(value):
                operation.roots += 1
                operation.lines += _jsonl(node, None)
        operation.status, operation.completed = "COMPLETED", self._stamp()

    def _bulk_node(self, operation: _BulkOperation) -> dict[str, Any]:
        done = operation.status == "COMPLETED"
        size = sum(len(line) + 1 for line in operation.lines)
        return {
            "__typename": "BulkOperation",
            "id": gid("BulkOperation", operation.id),
            "status": operation.status,
            "errorCode": "INTERNAL_SERVER_ERROR" if operation.status == "FAILED" else None,
            "createdAt": _iso(operation.created),
            "completedAt": _iso(operation.completed) if operation.completed else None,
            "objectCount": str(len(operation.lines)),
            "rootObjectCount": str(operation.roots),
            "fileSize": str(size) if done else None,
            "url": f"{self.base_url}/bulk-results/{operation.id}.jsonl" if done and operation.lines else None,
            "partialDataUrl": None,
            "query": operation.query,
            "type": "QUERY",
        }

    def _bulk_result(self, request: Request) -> Response:
        operation = self._bulk.get(legacy_id(request.params["operationId"]))
        if operation is None or operation.status != "COMPLETED":
            raise HttpError(404, "Not found")
        body = b"".join(line + b"\n" for line in operation.lines)
        return Response(200, body, {"Content-Type": "application/jsonl"})

    # -- internals ---------------------------------------------------------------------------------------------------
    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _stamp(self) -> datetime:
        return _seconds(self.now())

    def _location_id(self, location_id: str | int | None) -> int:
        if location_id is None:
            return self.default_location_id
        number = legacy_id(location_id)
        if number not in self._locations:
            raise KeyError(f"unknown location {location_id}")
        return number

    def _location_json(self, number: int) -> dict[str, Any]:
        return {"id": gid("Location", number), "legacyResourceId": str(number), "name": self._locations[number]}

    def _variant_json(self, variant: _Variant) -> dict[str, Any]:
        return {
            "id": gid("ProductVariant", variant.id),
            "sku": variant.sku,
            "inventoryItemId": gid("InventoryItem", variant.item_id),
        }

    @staticmethod
    def _level_json(level: _Level) -> dict[str, int]:
        return {"available": level.available, "committed": level.committed, "on_hand": level.on_hand}

    def _variant_by_sku(self, sku: str) -> _Variant:
        found = next((variant for variant in self._variants.values() if variant.sku == sku), None)
        if found is None:
            raise KeyError(f"unknown SKU {sku}")
        return found

    def _variant_by_item(self, item_id: str) -> _Variant | None:
        number = _maybe_id(item_id)
        return next((variant for variant in self._variants.values() if variant.item_id == number), None)

    def _order(self, order_id: str | int) -> _Order:
        order = self._orders.get(legacy_id(order_id))
        if order is None:
            raise KeyError(f"unknown order {order_id}")
        return order

    def _find_fulfillment_order(self, number: int) -> _FulfillmentOrder | None:
        for order in self._orders.values():
            for fulfillment_order in order.fulfillment_orders:
                if fulfillment_order.id == number:
                    return fulfillment_order
        return None

    def _build_line(self, spec: Mapping[str, Any]) -> _Line:
        quantity = int(spec.get("quantity", 1))
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        if spec.get("sku") and "price" not in spec:
            variant = self._variant_by_sku(str(spec["sku"]))
            product = self._products[variant.product_id]
            return _Line(self._new_id(), variant.id, variant.sku, product.title, variant.title, quantity, variant.price)
        title = str(spec.get("title", "Custom item"))
        return _Line(
            self._new_id(), None, str(spec.get("sku", "")), title, "", quantity, _money(spec.get("price", "10.00"))
        )

    def _new_fulfillment_order(self, order: _Order, location: int, lines: list[_Line]) -> _FulfillmentOrder:
        fo_lines = [_FOLine(self._new_id(), line, line.quantity, line.quantity) for line in lines]
        for line in lines:
            self._move_committed(line, location, line.quantity, restock=True)
        return _FulfillmentOrder(self._new_id(), order.id, location, fo_lines, order.created)

    def _move_committed(self, line: _Line, location: int, quantity: int, *, restock: bool) -> None:
        """Commit `quantity` (negative: release it); released units go back to available with `restock`, else they
        leave the shop (shipped)."""
        variant = self._variants.get(line.variant_id) if line.variant_id else None
        if variant is None or quantity == 0:
            return
        level = self._levels.setdefault((variant.item_id, location), _Level())
        level.committed += quantity
        if restock:
            level.available -= quantity

    def _hold(self, order: _Order, reason: str, notes: str) -> None:
        for fulfillment_order in order.fulfillment_orders:
            if fulfillment_order.status in ("OPEN", "IN_PROGRESS"):
                fulfillment_order.status = "ON_HOLD"
                hold = {"id": gid("FulfillmentHold", self._new_id()), "reason": reason, "reasonNotes": notes or None}
                fulfillment_order.holds.append(hold)
                fulfillment_order.updated = self._stamp()

    def _touch(self, order: _Order, topic: str | None = None) -> None:
        order.updated = self._stamp()
        if topic:
            self._queue(order, topic)
        self._queue(order, "orders/updated")

    def _queue(self, order: _Order, topic: str) -> None:
        if topic not in self.webhook_topics:
            return
        body = json.dumps(self._order_payload(order), separators=(",", ":")).encode()
        self._events.append(_Event(topic, body, str(uuid.uuid4()), self.now().isoformat().replace("+00:00", "Z")))

    def _order_payload(self, order: _Order) -> dict[str, Any]:
        """The webhook body: the REST order resource, the fields ogosync could use."""
        total = sum((line.price * line.quantity for line in order.lines), Decimal(0))
        return {
            "id": order.id,
            "admin_graphql_api_id": gid("Order", order.id),
            "name": order.name,
            "email": order.email,
            "created_at": order.created.isoformat(),
            "updated_at": order.updated.isoformat(),
            "cancelled_at": order.cancelled_at.isoformat() if order.cancelled_at else None,
            "financial_status": order.financial_status.lower(),
            "fulfillment_status": {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial"}.get(
                _fulfillment_status(order)
            ),
            "currency": order.currency,
            "total_price": str(total),
            "line_items": [
                {
                    "id": line.id,
                    "variant_id": line.variant_id,
                    "sku": line.sku,
                    "title": line.title,
                    "quantity": line.quantity,
                    "price": str(line.price),
                }
                for line in order.lines
            ],
            "shipping_address": _rest_address(order.shipping_address),
            "shipping_lines": [dict(line) for line in order.shipping_lines],
        }

    def _order_json(self, order: _Order) -> dict[str, Any]:
        return {
            "id": gid("Order", order.id),
            "legacyResourceId": str(order.id),
            "name": order.name,
            "displayFinancialStatus": order.financial_status,
            "displayFulfillmentStatus": _fulfillment_status(order),
            "cancelledAt": _iso(order.cancelled_at) if order.cancelled_at else None,
            "updatedAt": _iso(order.updated),
            "fulfillmentOrders": [
                {
                    "id": gid("FulfillmentOrder", fo.id),
                    "locationId": gid("Location", fo.location_id),
                    "status": fo.status,
                    "holds": [dict(hold) for hold in fo.holds],
                    "lineItems": [
                        {
                            "id": gid("FulfillmentOrderLineItem", line.id),
                            "sku": line.line.sku,
                            "totalQuantity": line.total,
                            "remainingQuantity": line.remaining,
                        }
                        for line in fo.lines
                    ],
                }
                for fo in order.fulfillment_orders
            ],
        }

    # -- control surface ---------------------------------------------------------------------------------------------
    def _control_deliver(self, request: Request) -> Response:
        try:
            records = self.call_with_json(request, self.deliver_webhooks)
        except RuntimeError as exc:
            raise HttpError(409, str(exc)) from None
        return json_response({"deliveries": [record.to_json() for record in records]})


DEFAULT_ADDRESS: dict[str, str | None] = {
    "name": "Anna Andersson",
    "firstName": "Anna",
    "lastName": "Andersson",
    "company": None,
    "address1": "Mannerheimintie 1",
    "address2": None,
    "city": "Helsinki",
    "zip": "00100",
    "province": None,
    "provinceCode": None,
    "countryCodeV2": "FI",
    "phone": "+358401234567",
}


# -- module helpers --------------------------------------------------------------------------------------------------
def _served_version(asked: str) -> str:
    """The version that answers: the asked one if supported, else the next supported one after it (falling
    forward), else the newest."""
    return next((version for version in API_VERSIONS if version >= asked), API_VERSIONS[-1])


def _aware(when: datetime | str) -> datetime:
    parsed = datetime.fromisoformat(when.replace("Z", "+00:00")) if isinstance(when, str) else when
    if parsed.tzinfo is None:
        raise ValueError("created_at must have a time zone")
    return parsed


def _seconds(when: datetime) -> datetime:
    return when.replace(microsecond=0)


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _money_bag(amount: Decimal, currency: str) -> dict[str, Any]:
    money = {"amount": str(amount), "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)}


def _image(url: str | None) -> dict[str, Any] | None:
    return {"url": url, "altText": None} if url else None


def _media(url: str | None, product_id: int) -> dict[str, Any] | None:
    if not url:
        return None
    return {"__typename": "MediaImage", "id": gid("MediaImage", product_id), "preview": {"image": _image(url)}}


def _handle(title: str, number: int) -> str:
    slug = "".join(char if char.isalnum() else "-" for char in title.lower()).strip("-")
    return slug or f"product-{number}"


def _plain_text(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html).strip()


def _maybe_id(value: Any) -> int:
    try:
        return legacy_id(value)
    except ValueError:
        return -1


def _checked_size(items: Sequence[T], name: str) -> Sequence[T]:
    if len(items) > MAX_PAGE_SIZE:
        raise GraphQLError(
            f"The input array size of {len(items)} is greater than the maximum allowed of {MAX_PAGE_SIZE}.",
            extensions={"code": "MAX_INPUT_SIZE_EXCEEDED", "argument": name},
        )
    return items


def _idempotency_key(info: Info) -> str | None:
    for directive in info.field_nodes[0].directives or ():
        if directive.name.value == "idempotent":
            values = {arg.name.value: arg.value for arg in directive.arguments or ()}
            node = values.get("key")
            if isinstance(node, VariableNode):
                return str(info.variable_values.coerced.get(node.name.value))
            return node.value if isinstance(node, StringValueNode) else None
    return None


def _error(field_path: list[str], code: str, message: str) -> dict[str, Any]:
    return {"field": field_path, "code": code, "message": message}


def _user_errors(field_path: list[str], code: str, message: str) -> dict[str, Any]:
    return {"inventoryAdjustmentGroup": None, "userErrors": [_error(field_path, code, message)]}


def _tracking_error(tracking: Mapping[str, Any]) -> str | None:
    """The FulfillmentTrackingInput pairing rules (docs/api/shopify.md); None when they hold."""
    has = {name: bool(tracking.get(name)) for name in ("number", "numbers", "url", "urls")}
    if has["url"] and has["urls"]:
        return "url and urls cannot both be given."
    if has["number"] and has["numbers"]:
        return "number and numbers cannot both be given."
    if has["url"] and not has["number"]:
        return "url requires number."
    if has["urls"] and not has["numbers"]:
        return "urls requires numbers."
    return None


def _tracking_rows(tracking: Mapping[str, Any]) -> list[dict[str, str | None]]:
    numbers = list(tracking.get("numbers") or ([tracking["number"]] if tracking.get("number") else []))
    urls = list(tracking.get("urls") or ([tracking["url"]] if tracking.get("url") else []))
    company = tracking.get("company")
    template = KNOWN_CARRIERS.get(company or "")
    rows: list[dict[str, str | None]] = []
    for index, number in enumerate(numbers):
        url = urls[index] if index < len(urls) else (template.format(number=number) if template else None)
        rows.append({"company": company, "number": number, "url": url})
    return rows or ([{"company": company, "number": None, "url": None}] if company else [])


def _progress_status(fulfillment_order: _FulfillmentOrder) -> str:
    remaining = sum(line.remaining for line in fulfillment_order.lines)
    if remaining == 0:
        return "CLOSED"
    total = sum(line.total for line in fulfillment_order.lines)
    return "IN_PROGRESS" if remaining < total else "OPEN"


def _fulfillment_status(order: _Order) -> str:
    lines = [line for fo in order.fulfillment_orders if fo.status != "CANCELLED" for line in fo.lines]
    remaining, total = sum(line.remaining for line in lines), sum(line.total for line in lines)
    if total and remaining == 0:
        return "FULFILLED"
    if remaining < total:
        return "PARTIALLY_FULFILLED"
    if any(fo.status == "ON_HOLD" for fo in order.fulfillment_orders):
        return "ON_HOLD"
    return "UNFULFILLED"


def _risk(level: str) -> dict[str, Any]:
    recommendation = {"HIGH": "CANCEL", "MEDIUM": "INVESTIGATE"}.get(level, "ACCEPT")
    return {"recommendation": recommendation, "assessments": [{"riskLevel": level, "facts": []}]}


def _shipping_row(number: int, title: str, code: str) -> dict[str, str]:
    return {"id": str(number), "title": title, "code": code, "price": "4.90"}


def _shipping_line(line: Mapping[str, str]) -> dict[str, Any]:
    return {
        "id": gid("ShippingLine", int(line["id"])),
        "title": line["title"],
        "code": line["code"],
        "source": "shopify",
        "carrierIdentifier": None,
    }


def _rest_address(address: Mapping[str, str | None]) -> dict[str, str | None]:
    names = {
        "countryCodeV2": "country_code",
        "firstName": "first_name",
        "lastName": "last_name",
        "provinceCode": "province_code",
    }
    return {names.get(key, key): value for key, value in address.items()}


def _fulfillment_json(fulfillment: _Fulfillment) -> dict[str, Any]:
    return {
        "id": gid("Fulfillment", fulfillment.id),
        "name": fulfillment.name,
        "trackingInfo": [dict(row) for row in fulfillment.tracking],
        "notifyCustomer": fulfillment.notify_customer,
        "lineItems": [
            {"id": gid("FulfillmentOrderLineItem", fo_line.id), "sku": fo_line.line.sku, "quantity": quantity}
            for fo_line, quantity in fulfillment.lines
        ],
    }


def _order_fields(order: _Order) -> dict[str, Any]:
    return {
        "updated_at": order.updated,
        "created_at": order.created,
        "processed_at": order.created,
        "financial_status": order.financial_status,
        "status": "cancelled" if order.cancelled_at else "open",
        "name": order.name,
        "id": order.id,
        "sku": " ".join(line.sku for line in order.lines),
    }


def _bulk_fields(operation: _BulkOperation) -> dict[str, Any]:
    return {"status": operation.status, "operation_type": "query", "id": operation.id}


def _term_holds(term: SearchTerm, fields: Mapping[str, Any]) -> bool:
    if term.field not in fields:
        return True  # Shopify ignores a filter it does not know
    if term.field == "sku" and isinstance(fields["sku"], str) and " " in fields["sku"]:
        return term.value.lower() in fields["sku"].lower().split()
    return matches_term(term, fields[term.field])


def _connection_nodes(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        return []
    if isinstance(value.get("nodes"), list):
        return [node for node in value["nodes"] if isinstance(node, dict)]
    if isinstance(value.get("edges"), list):
        return [
            edge["node"] for edge in value["edges"] if isinstance(edge, dict) and isinstance(edge.get("node"), dict)
        ]
    return []


def _jsonl(node: Mapping[str, Any], parent: str | None) -> list[bytes]:
    """A node and, after it, its nested connections' nodes, each with `__parentId` (the bulk JSONL layout)."""
    own = {key: value for key, value in node.items() if not _is_connection(value)}
    if parent is not None:
        own["__parentId"] = parent
    lines = [json.dumps(own, separators=(",", ":")).encode()]
    for value in node.values():
        for child in _connection_nodes(value):
            lines += _jsonl(child, str(node.get("id")))
    return lines


def _is_connection(value: Any) -> bool:
    return isinstance(value, dict) and ("edges" in value or "nodes" in value)
