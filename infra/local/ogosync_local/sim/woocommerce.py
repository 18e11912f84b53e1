"""WooCommerce simulator: the REST API `wc/v3` of one WordPress site, its Shipment Tracking routes and its webhooks.

The behaviour follows docs/api/woocommerce.md ("Simulator"), taken from WooCommerce's documented REST API and its
source (class-wc-rest-controller.php, class-wc-rest-authentication.php, class-wc-webhook.php): HTTP Basic or
query-string consumer keys, `{"code","message","data":{"status"}}` errors, `page`/`per_page` paging with `X-WP-Total`
and `X-WP-TotalPages`, `_fields`, batch endpoints that count create+update+delete against one limit (413 over it)
and report per-item errors inside a 200, stock reduced when an order reaches processing/on-hold/completed and
restored when it is cancelled, and webhooks that are never retried and are disabled after more than
`max_delivery_failures` consecutive failures. Uncertain (our guess, no primary source): the answer to a request
without keys ("Consumer key is missing.", as integrators report it; the current source answers as for an unknown
key), the messages of errors the docs do not quote, the Shipment Tracking providers, and which statuses send which
customer email (recorded in `emails`, never sent). Left out: OAuth 1.0a over plain HTTP, refunds,
coupons, taxes, customers, webhook delivery delays (WP-Cron) other than the control's loss and reorder.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import random
import secrets
import urllib.parse
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.message import Message
from typing import Any
from zoneinfo import ZoneInfo

from ogosync_local.sim.server import (
    Clock,
    HttpError,
    Request,
    Response,
    SimServer,
    json_response,
    locked,
)
from ogosync_local.sim.webhooks import DeliveryRecord, post_webhook

WC_VERSION = "9.8.1"
NAMESPACE = "wc/v3"
TRACKING_NAMESPACE = "wc-shipment-tracking/v3"
API = "/wp-json/wc/v3"
TRACKING_API = "/wp-json/wc-shipment-tracking/v3"
MAX_PER_PAGE = 100
DEFAULT_BATCH_LIMIT = 100  # the woocommerce_rest_batch_items_limit filter's default
MAX_DELIVERY_FAILURES = 5  # woocommerce_max_webhook_delivery_failures: disabled when the count goes above it
ORDER_STATUSES = ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed")
REDUCES_STOCK = frozenset({"processing", "on-hold", "completed"})  # wc_maybe_reduce_stock_levels hooks
RESTORES_STOCK = frozenset({"cancelled", "pending"})  # wc_maybe_increase_stock_levels hooks
STATUS_EMAILS = {
    "processing": "customer_processing_order",
    "on-hold": "customer_on_hold_order",
    "completed": "customer_completed_order",
    "cancelled": "cancelled_order",
    "refunded": "customer_refunded_order",
    "failed": "failed_order",
}
TRACKING_PROVIDERS = {  # a few predefined providers of the extension: their link ignores any given tracking_link
    "DHL": "https://www.dhl.com/en/express/tracking.html?AWB={number}",
    "PostNord": "https://www.postnord.se/en/our-tools/track-and-trace?shipmentId={number}",
    "Posti": "https://www.posti.fi/en/tracking#/lahetys/{number}",
}
NOT_FOUND_HTML = b"<!DOCTYPE html><html><head><title>Page not found</title></head><body>Not Found</body></html>"


def sign_woocommerce_webhook(secret: str, body: bytes) -> str:
    """The `X-WC-Webhook-Signature` value: base64 of HMAC-SHA256(webhook secret, raw body)."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def wc_error(status: int, code: str, message: str) -> HttpError:
    """An HttpError with WordPress's REST error body."""
    return HttpError(status, message, {"code": code, "message": message, "data": {"status": status}})


@dataclass
class _Key:
    secret: str
    permissions: str  # "read", "write" or "read_write"


@dataclass
class _Variation:
    id: int
    parent_id: int
    sku: str
    global_unique_id: str
    price: Decimal
    attributes: list[dict[str, str]]
    image: str | None
    manage_stock: bool | str  # True, False or "parent" (the parent product manages the stock)
    stock_quantity: int | None
    meta: list[dict[str, Any]]
    created: datetime
    modified: datetime
    description: str = ""
    status: str = "publish"


@dataclass
class _Product:
    id: int
    type: str
    name: str
    slug: str
    description: str
    short_description: str
    sku: str
    global_unique_id: str
    price: Decimal
    images: list[str]
    manage_stock: bool
    stock_quantity: int | None
    meta: list[dict[str, Any]]
    created: datetime
    modified: datetime
    status: str = "publish"
    variation_ids: list[int] = field(default_factory=list)


@dataclass
class _Line:
    id: int
    product_id: int
    variation_id: int
    sku: str
    name: str
    quantity: int
    price: Decimal


@dataclass
class _Order:
    id: int
    status: str
    created: datetime
    modified: datetime
    paid: datetime | None
    currency: str
    billing: dict[str, str]
    shipping: dict[str, str]
    lines: list[_Line]
    shipping_lines: list[dict[str, Any]]
    customer_note: str
    meta: list[dict[str, Any]] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    trackings: list[dict[str, Any]] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    stock_reduced: bool = False
    completed: datetime | None = None


@dataclass
class _Webhook:
    id: int
    name: str
    topic: str
    delivery_url: str
    secret: str
    created: datetime
    status: str = "active"
    failure_count: int = 0


@dataclass(frozen=True)
class _Event:
    webhook_id: int
    order_id: int
    ping: bool = False


class WooCommerceSimulator(SimServer):
    """One WordPress site with WooCommerce: `root_url` is what `Integration.store_base_url` holds; the REST API is
    under `/wp-json/wc/v3/`. The switches are plain attributes (or `configure`, `POST /_sim/switches`)."""

    def __init__(
        self,
        *,
        consumer_key: str,
        consumer_secret: str,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        site: str = "ogosync-demo",
        time_zone: str = "Europe/Helsinki",
        batch_limit: int = DEFAULT_BATCH_LIMIT,
        shipment_tracking: bool = False,
        strip_authorization: bool = False,
        plain_permalinks: bool = False,
        max_delivery_failures: int | None = MAX_DELIVERY_FAILURES,
        html_faults: bool = False,
        clock: Clock | None = None,
        port: int = 0,
    ) -> None:
        super().__init__(clock=clock, port=port)
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.site = site
        self.zone = ZoneInfo(time_zone)
        self.batch_limit = batch_limit
        self.shipment_tracking = shipment_tracking  # the Shipment Tracking extension is active
        self.strip_authorization = strip_authorization  # the web server drops the Authorization header
        self.plain_permalinks = plain_permalinks  # /wp-json/ is not routed (404 HTML)
        self.max_delivery_failures = max_delivery_failures  # None: never disable a webhook
        self.html_faults = html_faults  # injected faults answer as a host's or WAF's HTML page, not WP's JSON
        self._initial_webhook = (webhook_url, webhook_secret)
        self._clear_data()
        self._add_routes()

    def _clear_data(self) -> None:
        self._next_id = 100
        self._keys = {self.consumer_key: _Key(self.consumer_secret, "read_write")}
        self._products: dict[int, _Product] = {}
        self._variations: dict[int, _Variation] = {}
        self._orders: dict[int, _Order] = {}
        self._webhooks: dict[int, _Webhook] = {}
        self._events: list[_Event] = []
        self._failing: dict[int, tuple[str, str]] = {}
        self._sell_before_write: list[tuple[str, int]] = []
        # each sale placed by `sell(before_next_stock_write=True)`: {"sku", "quantity", "written"}, the stock_quantity
        # written right after it (over it: WooCommerce has no compare-and-swap)
        self.sales_before_writes: list[dict[str, Any]] = []
        self.batch_sizes: list[int] = []  # items (create+update+delete) of each accepted batch call
        self.batch_refusals = 0  # batch calls answered 413
        self.batch_item_errors = 0  # items refused inside an accepted batch call's 200 answer
        url, secret = self._initial_webhook
        if url is not None:
            for topic in ("order.created", "order.updated"):
                self.add_webhook(topic, url, secret or "")

    def _add_routes(self) -> None:
        self.add_route("GET", "/wp-json", self._index, auth=False)
        self.add_route("GET", API, self._namespace_index, auth=False)
        self.add_route("GET", f"{API}/system_status", self._system_status)
        self.add_route("GET", f"{API}/orders", self._list_orders)
        self.add_route("GET", f"{API}/orders/{{id}}", self._get_order)
        self.add_route("PUT", f"{API}/orders/{{id}}", self._put_order)
        self.add_route("GET", f"{API}/orders/{{id}}/notes", self._list_notes)
        self.add_route("POST", f"{API}/orders/{{id}}/notes", self._post_note)
        self.add_route("GET", f"{API}/products", self._list_products)
        self.add_route("POST", f"{API}/products/batch", self._product_batch)
        self.add_route("GET", f"{API}/products/{{id}}", self._get_product)
        self.add_route("PUT", f"{API}/products/{{id}}", self._put_product)
        self.add_route("GET", f"{API}/products/{{id}}/variations", self._list_variations)
        self.add_route("POST", f"{API}/products/{{id}}/variations/batch", self._variation_batch)
        self.add_route("GET", f"{API}/products/{{id}}/variations/{{vid}}", self._get_variation)
        self.add_route("PUT", f"{API}/products/{{id}}/variations/{{vid}}", self._put_variation)
        self.add_route("GET", f"{API}/webhooks", self._list_webhooks)
        self.add_route("POST", f"{API}/webhooks", self._post_webhook)
        self.add_route("GET", f"{API}/webhooks/{{id}}", self._get_webhook)
        self.add_route("PUT", f"{API}/webhooks/{{id}}", self._put_webhook)
        self.add_route("GET", f"{TRACKING_API}/orders/{{id}}/shipment-trackings", self._list_trackings)
        self.add_route("POST", f"{TRACKING_API}/orders/{{id}}/shipment-trackings", self._post_tracking)
        self.add_route("GET", f"{TRACKING_API}/orders/{{id}}/shipment-trackings/providers", self._providers)
        control: dict[str, Callable[..., Any]] = {
            "/_sim/products": self.add_product,
            "/_sim/stock": self.set_stock,
            "/_sim/stock/read": self.stock,
            "/_sim/orders": self.add_order,
            "/_sim/sell": self.sell,
            "/_sim/switches": self.configure,
            "/_sim/keys": self.add_key,
            "/_sim/fail-ids": self.fail_ids,
            "/_sim/webhooks": self.add_webhook,
            "/_sim/webhooks/read": self.webhooks,
            "/_sim/order-ids": self.order_ids,
        }
        for path, method in control.items():
            self.add_control_route("POST", path, self._json_control(method))
        order_actions: dict[str, Callable[..., Any]] = {
            "update": self.update_order,
            "cancel": self.cancel_order,
            "read": self.order,
        }
        for action, method in order_actions.items():
            self.add_control_route("POST", f"/_sim/orders/{{orderId}}/{action}", self._order_control(method))
        self.add_control_route("POST", "/_sim/deliver-webhooks", self._control_deliver)

    # -- SimServer hooks -----------------------------------------------------------------------------------------
    def handle(self, method: str, raw_path: str, headers: Message[str, str], body: bytes) -> Response:
        """`/?rest_route=/wc/v3/...` reaches the REST API with any permalinks; with plain permalinks WordPress does
        not route /wp-json/ at all: its theme's 404 page answers."""
        if self.plain_permalinks and raw_path.startswith("/wp-json"):
            return Response(404, NOT_FOUND_HTML, {"Content-Type": "text/html; charset=UTF-8"})
        return super().handle(method, _pretty_path(raw_path), headers, body)

    def authenticate(self, request: Request) -> Response | None:
        """`consumer_key`/`consumer_secret` in the query (checked first) or Basic `key:secret` (unless the server
        strips it); a read-only key may not write. All 401, with WC_REST_Authentication's messages, but for no
        credentials at all ("Consumer key is missing.", the answer integrators report for a stripped header; the
        current source answers as for an unknown key) and an unknown key (no user: the controller's refusal)."""
        key, secret = self._credentials(request)
        if not key:
            return self._auth_error("Consumer key is missing.")
        found = self._keys.get(key)
        if found is None:
            return _no_user(request.method)
        if not hmac.compare_digest(found.secret.encode(), secret.encode()):
            return self._auth_error("Consumer secret is invalid.")
        needed = "read" if request.method in ("GET", "HEAD") else "write"
        if needed not in found.permissions:
            return self._auth_error(f"The API key provided does not have {needed} permissions.")
        return None

    def error_response(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
        """WordPress's JSON error; with `html_faults` an injected fault (any status but the router's 404 and 405)
        is the HTML page a host, CDN or WAF in front of WordPress serves instead."""
        if self.html_faults and status not in (404, 405):
            page = f"<!DOCTYPE html><html><body><h1>{status} {message}</h1></body></html>".encode()
            return Response(status, page, {"Content-Type": "text/html; charset=UTF-8", **(headers or {})})
        return super().error_response(status, message, headers)

    def error_body(self, status: int, message: str) -> Any:
        """WordPress's `{"code","message","data":{"status"}}` (for faults and unknown routes)."""
        code = "rest_no_route" if status in (404, 405) else "rest_invalid_param" if status == 400 else "simulated_fault"
        if status in (404, 405):
            message = "No route was found matching the URL and request method."
        return {"code": code, "message": message, "data": {"status": status}}

    def state(self) -> dict[str, Any]:
        """Counts, switches and call statistics for `GET /_sim/state`."""
        return {
            "site": self.site,
            "products": len(self._products),
            "variations": len(self._variations),
            "orders": len(self._orders),
            "pendingWebhooks": len(self._events),
            "webhooks": [self._webhook_json(hook) for hook in self._webhooks.values()],
            "switches": self._switches(),
            "batchSizes": list(self.batch_sizes),
            "batchRefusals": self.batch_refusals,
        }

    @locked
    def reset(self) -> None:
        """Drop every product, order, webhook, event and statistic (switches are kept)."""
        super().reset()
        self._clear_data()

    # -- Python API: switches, keys, webhooks ---------------------------------------------------------------------
    @locked
    def configure(
        self,
        *,
        strip_authorization: bool | None = None,
        plain_permalinks: bool | None = None,
        batch_limit: int | None = None,
        shipment_tracking: bool | None = None,
        max_delivery_failures: int | None = -1,
        html_faults: bool | None = None,
    ) -> dict[str, Any]:
        """Set the given switches (max_delivery_failures None: never disable; -1, the default: unchanged); returns
        all of them."""
        if html_faults is not None:
            self.html_faults = html_faults
        if strip_authorization is not None:
            self.strip_authorization = strip_authorization
        if plain_permalinks is not None:
            self.plain_permalinks = plain_permalinks
        if batch_limit is not None:
            if batch_limit < 1:
                raise ValueError("batch_limit must be at least 1")
            self.batch_limit = batch_limit
        if shipment_tracking is not None:
            self.shipment_tracking = shipment_tracking
        if max_delivery_failures is None or max_delivery_failures >= 0:
            self.max_delivery_failures = max_delivery_failures
        return self._switches()

    @locked
    def add_key(self, consumer_key: str, consumer_secret: str, permissions: str = "read") -> dict[str, str]:
        """Another REST API key: permissions "read", "write" or "read_write"."""
        if permissions not in ("read", "write", "read_write"):
            raise ValueError("permissions must be read, write or read_write")
        self._keys[consumer_key] = _Key(consumer_secret, permissions)
        return {"consumer_key": consumer_key, "permissions": permissions}

    @locked
    def add_webhook(self, topic: str, delivery_url: str, secret: str, *, ping: bool = False) -> dict[str, Any]:
        """Register a webhook (as the admin screen does); `ping` queues WooCommerce's unsigned first ping."""
        if not delivery_url.startswith(("http://", "https://")):
            raise ValueError(f"delivery_url must be http(s): {delivery_url}")
        hook = _Webhook(self._new_id(), f"ogosync {topic}", topic, delivery_url, secret, self._stamp())
        self._webhooks[hook.id] = hook
        if ping:
            self._events.append(_Event(hook.id, 0, ping=True))
        return self._webhook_json(hook)

    @locked
    def webhooks(self) -> list[dict[str, Any]]:
        """Every webhook as `GET /webhooks` shows it (status active/paused/disabled, failure_count)."""
        return [self._webhook_json(hook) for hook in self._webhooks.values()]

    @locked
    def fail_ids(self, ids: Iterable[int], code: str = "woocommerce_rest_cannot_edit", message: str = "") -> list[int]:
        """Make writes to these product/variation ids fail (a per-item error in a batch, the error for a PUT);
        an empty list clears the set. Returns the failing ids."""
        chosen = [int(number) for number in ids]
        if not chosen:
            self._failing.clear()
        for number in chosen:
            self._failing[number] = (code, message or "Sorry, you are not allowed to edit this resource.")
        return sorted(self._failing)

    # -- Python API: catalog and stock ---------------------------------------------------------------------------
    @locked
    def add_product(
        self,
        name: str,
        *,
        sku: str = "",
        global_unique_id: str = "",
        price: str | float = "10.00",
        description: str = "",
        image: str | None = None,
        manage_stock: bool = True,
        stock_quantity: int | None = 0,
        meta: Mapping[str, Any] | None = None,
        variations: Sequence[Mapping[str, Any]] = (),
        status: str = "publish",
    ) -> dict[str, Any]:
        """A simple product, or a variable one when `variations` are given (each: sku, global_unique_id, price,
        attributes {name: option}, image, manage_stock (True/False/"parent"), stock_quantity, meta {key: value}).
        Returns the product's REST JSON with `variation_details` (each variation's JSON). SKUs are not checked for
        uniqueness here, as in a shop whose plugins turn that off (the REST API does check them)."""
        now, own_stock = self._stamp(), _manages_own_stock(manage_stock, variations)
        product = _Product(
            id=self._new_id(),
            type="variable" if variations else "simple",
            name=name,
            slug=_slug(name),
            description=description,
            short_description="",
            sku=sku,
            global_unique_id=global_unique_id,
            price=_money(price),
            images=[image] if image else [],
            manage_stock=own_stock,
            stock_quantity=stock_quantity if own_stock else None,
            meta=self._meta_rows(meta or {}),
            created=now,
            modified=now,
            status=status,
        )
        self._products[product.id] = product
        made = [self._add_variation(product, **spec) for spec in variations]
        return {**self._product_json(product), "variation_details": [self._variation_json(v) for v in made]}

    def _add_variation(
        self,
        product: _Product,
        *,
        sku: str = "",
        global_unique_id: str = "",
        price: str | float | None = None,
        attributes: Mapping[str, str] | None = None,
        image: str | None = None,
        manage_stock: bool | str = True,
        stock_quantity: int | None = 0,
        meta: Mapping[str, Any] | None = None,
        description: str = "",
    ) -> _Variation:
        if manage_stock not in (True, False, "parent"):
            raise ValueError('manage_stock must be true, false or "parent"')
        variation = _Variation(
            id=self._new_id(),
            parent_id=product.id,
            sku=sku,
            global_unique_id=global_unique_id,
            price=product.price if price is None else _money(price),
            attributes=[{"name": k, "option": v} for k, v in (attributes or {}).items()],
            image=image,
            manage_stock=manage_stock,
            stock_quantity=stock_quantity if manage_stock is True else None,
            meta=self._meta_rows(meta or {}),
            created=product.modified,
            modified=product.modified,
            description=description,
        )
        self._variations[variation.id] = variation
        product.variation_ids.append(variation.id)
        return variation

    @locked
    def set_stock(self, sku: str, quantity: int | None, *, manage_stock: bool = True) -> dict[str, Any]:
        """Set the SKU's stock as the merchant would in the admin (the managing product's, for a variation that
        inherits it); `manage_stock=False` stops managing it. Returns {sku, manage_stock, stock_quantity}."""
        item = self._stock_holder(self._by_sku(sku))
        item.manage_stock = manage_stock
        item.stock_quantity = quantity if manage_stock else None
        item.modified = self._stamp()
        return self.stock(sku)

    @locked
    def stock(self, sku: str) -> dict[str, Any]:
        """{sku, manage_stock, stock_quantity} of a product or variation (a "parent" variation: its parent's)."""
        item = self._stock_holder(self._by_sku(sku))
        return {"sku": sku, "manage_stock": bool(item.manage_stock), "stock_quantity": item.stock_quantity}

    # -- Python API: orders --------------------------------------------------------------------------------------
    @locked
    def add_order(
        self,
        lines: Sequence[Mapping[str, Any]],
        *,
        status: str = "processing",
        shipping_method: str = "Flat rate",
        shipping: Mapping[str, str] | None = None,
        billing: Mapping[str, str] | None = None,
        customer_note: str = "",
        currency: str = "EUR",
        meta: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Place an order (checkout): each line {"sku", "quantity"} (name and price from the catalog) or with
        "name"/"price" for an item the catalog lacks. A processing, on-hold or completed order reduces the stock of
        managed items, as checkout does; queues `order.created`. Returns the order's REST JSON."""
        _check_status(status)
        now = self._stamp()
        order = _Order(
            id=self._new_id(),
            status=status,
            created=now,
            modified=now,
            paid=now if status in ("processing", "completed") else None,
            currency=currency,
            billing={**DEFAULT_ADDRESS, "email": "anna.andersson@example.com", **(billing or {})},
            shipping={**DEFAULT_ADDRESS, **(shipping or {})},
            lines=[self._build_line(spec) for spec in lines],
            shipping_lines=[
                {"id": self._new_id(), "method_title": shipping_method, "method_id": "flat_rate", "total": "4.90"}
            ],
            customer_note=customer_note,
            meta=self._meta_rows(meta or {}),
        )
        self._orders[order.id] = order
        self._enter_status(order, status)
        self._queue(order, "order.created")
        return self._order_json(order)

    @locked
    def update_order(
        self,
        order_id: int | str,
        *,
        status: str | None = None,
        shipping: Mapping[str, str] | None = None,
        customer_note: str | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Change an order as the merchant would in the admin (stock follows the status); queues
        `order.updated`."""
        order = self._order(order_id)
        if status is not None:
            _check_status(status)
            self._change_status(order, status)
        if shipping is not None:
            order.shipping = {**order.shipping, **shipping}
        if customer_note is not None:
            order.customer_note = customer_note
        for key, value in (meta or {}).items():
            self._merge_meta(order.meta, {"key": key, "value": value})
        self._touch(order)
        return self._order_json(order)

    @locked
    def cancel_order(self, order_id: int | str) -> dict[str, Any]:
        """Cancel the order (its reduced stock comes back); queues `order.updated`."""
        return self.update_order(order_id, status="cancelled")

    @locked
    def order(self, order_id: int | str) -> dict[str, Any]:
        """The order's REST JSON plus `notes`, `shipment_trackings` and `emails` (the customer emails sent)."""
        order = self._order(order_id)
        return {
            **self._order_json(order),
            "notes": [dict(note) for note in order.notes],
            "shipment_trackings": [dict(row) for row in order.trackings],
            "emails": list(order.emails),
        }

    @locked
    def order_ids(self) -> list[int]:
        """Every order's id, oldest first."""
        return list(self._orders)

    @locked
    def sell(self, sku: str, quantity: int = 1, *, before_next_stock_write: bool = False) -> dict[str, Any] | None:
        """A shopper buys `quantity` of the SKU (a processing order). With `before_next_stock_write` the sale
        happens right before the next write of stock_quantity (batch or PUT) runs, between a stock read and its
        write; returns None then."""
        if before_next_stock_write:
            self._by_sku(sku)
            self._sell_before_write.append((sku, quantity))
            return None
        return self.add_order([{"sku": sku, "quantity": quantity}])

    # -- Python API: webhooks ------------------------------------------------------------------------------------
    @property
    def pending_webhooks(self) -> list[dict[str, Any]]:
        """The queued deliveries: webhook id, topic and order id (payloads are built at delivery)."""
        with self.lock:
            return [
                {
                    "webhook_id": event.webhook_id,
                    "topic": self._webhooks[event.webhook_id].topic,
                    "order_id": event.order_id,
                }
                for event in self._events
            ]

    def deliver_webhooks(
        self, duplicate_rate: float = 0.0, loss_rate: float = 0.0, reorder: bool = False, seed: int | None = None
    ) -> list[DeliveryRecord]:
        """POST every queued delivery to its webhook's URL, signed, the payload built now (as WooCommerce builds
        it at delivery); the queue empties. Never retried. A lost delivery is recorded (lost=True) and not sent;
        a duplicate is sent again with the same X-WC-Webhook-Delivery-ID. A failed one (not 2xx/301/302) counts
        towards the webhook's failure_count; above `max_delivery_failures` the webhook is disabled."""
        rng = random.Random(seed)
        with self.lock:
            events, self._events = self._events, []
            prepared = [self._prepare(event) for event in events]
        if reorder:
            rng.shuffle(prepared)
        records: list[DeliveryRecord] = []
        for hook_id, url, body, headers, summary in prepared:
            if rng.random() < loss_rate:
                records.append(DeliveryRecord(url, body, headers, summary, lost=True))
                continue
            sent = [post_webhook(url, body, headers, summary)]
            if rng.random() < duplicate_rate:
                sent.append(post_webhook(url, body, headers, summary, duplicated=True))
            for record in sent:
                self._log_delivery(hook_id, record)
            records += sent
        return records

    def _prepare(self, event: _Event) -> tuple[int, str, bytes, dict[str, str], list[dict[str, Any]]]:
        hook = self._webhooks[event.webhook_id]
        summary = [{"topic": hook.topic, "orderId": event.order_id, "webhookId": hook.id}]
        if event.ping:
            body = f"webhook_id={hook.id}".encode()
            return hook.id, hook.delivery_url, body, {"Content-Type": "application/x-www-form-urlencoded"}, summary
        body = json.dumps(self._order_json(self._orders[event.order_id]), separators=(",", ":")).encode()
        resource, _, action = hook.topic.partition(".")
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"WooCommerce/{WC_VERSION} Hookshot (WordPress/6.8.1)",
            "X-WC-Webhook-Source": self.root_url + "/",
            "X-WC-Webhook-Topic": hook.topic,
            "X-WC-Webhook-Resource": resource,
            "X-WC-Webhook-Event": action,
            "X-WC-Webhook-Signature": sign_woocommerce_webhook(hook.secret, body),
            "X-WC-Webhook-ID": str(hook.id),
            "X-WC-Webhook-Delivery-ID": secrets.token_hex(16),
        }
        return hook.id, hook.delivery_url, body, headers, summary

    @locked
    def _log_delivery(self, hook_id: int, record: DeliveryRecord) -> None:
        hook = self._webhooks[hook_id]
        if record.status is not None and (200 <= record.status < 300 or record.status in (301, 302)):
            hook.failure_count = 0
            return
        hook.failure_count += 1
        if self.max_delivery_failures is not None and hook.failure_count > self.max_delivery_failures:
            hook.status = "disabled"

    # -- HTTP: index ---------------------------------------------------------------------------------------------
    def _index(self, request: Request) -> Response:
        namespaces = ["oembed/1.0", "wc/store/v1", "wc/v1", "wc/v2", NAMESPACE, "wp/v2"]
        if self.shipment_tracking:
            namespaces.append(TRACKING_NAMESPACE)
        return json_response(
            {
                "name": self.site,
                "description": "",
                "url": self.root_url,
                "home": self.root_url,
                "gmt_offset": self._gmt_offset(),
                "timezone_string": str(self.zone),
                "namespaces": namespaces,
                "authentication": {},
                "routes": {"/": {}, f"/{NAMESPACE}": {}},
            }
        )

    def _namespace_index(self, request: Request) -> Response:
        routes = sorted(
            {route.template.removeprefix("/wp-json") for route in self._routes if route.template.startswith(API)}
        )
        return json_response({"namespace": NAMESPACE, "routes": {route: {"namespace": NAMESPACE} for route in routes}})

    def _system_status(self, request: Request) -> Response:
        return json_response(
            {
                "environment": {"home_url": self.root_url, "site_url": self.root_url, "version": WC_VERSION},
                "settings": {"api_enabled": True, "currency": "EUR"},
            }
        )

    # -- HTTP: orders -------------------------------------------------------------------------------------------
    def _list_orders(self, request: Request) -> Response:
        query = request.query
        statuses = _status_filter(query.get("status", "any"))
        orders = [order for order in self._orders.values() if statuses is None or order.status in statuses]
        orders = self._date_filtered(orders, query)
        return self._page([self._order_json(order) for order in self._sorted(orders, query)], request)

    def _get_order(self, request: Request) -> Response:
        return self._projected(self._order_json(self._api_order(request)), request)

    def _put_order(self, request: Request) -> Response:
        order = self._api_order(request)
        data = request.json_object()
        meta = _meta_input(data.get("meta_data", []))
        status = data.get("status")
        if status is not None:
            self._change_status(order, str(status))
        if data.get("set_paid") is True and order.paid is None:
            order.paid = self._stamp()
            if order.status in ("pending", "on-hold", "failed"):
                self._change_status(order, "processing")
        for row in meta:
            self._merge_meta(order.meta, row)
        if "customer_note" in data:
            order.customer_note = str(data["customer_note"])
        self._touch(order)
        return json_response(self._order_json(order))

    def _list_notes(self, request: Request) -> Response:
        return json_response([dict(note) for note in reversed(self._api_order(request).notes)])

    def _post_note(self, request: Request) -> Response:
        order = self._api_order(request)
        data = request.json_object()
        if not str(data.get("note") or "").strip():
            raise wc_error(400, "rest_missing_callback_param", "Missing parameter(s): note")
        now = self._stamp()
        note = {
            "id": self._new_id(),
            "author": "ogosync" if data.get("added_by_user") else "WooCommerce",
            "date_created": self._local(now),
            "date_created_gmt": _gmt(now),
            "note": str(data["note"]),
            "customer_note": bool(data.get("customer_note", False)),
        }
        order.notes.append(note)
        if note["customer_note"]:
            order.emails.append("customer_note")
        return json_response(dict(note), 201)

    # -- HTTP: products -----------------------------------------------------------------------------------------
    def _list_products(self, request: Request) -> Response:
        query = request.query
        products: list[_Product | _Variation] = list(self._products.values())
        if query.get("sku"):  # with a SKU filter the query covers variations too (products v2 controller)
            wanted = {*query["sku"].split(","), query["sku"]}
            products = [item for item in [*products, *self._variations.values()] if item.sku in wanted]
        if query.get("type"):
            products = [item for item in products if isinstance(item, _Product) and item.type == query["type"]]
        if query.get("status") and query["status"] != "any":
            products = [product for product in products if product.status == query["status"]]
        products = self._date_filtered(products, query)
        return self._page([self._item_json(item) for item in self._sorted(products, query)], request)

    def _get_product(self, request: Request) -> Response:
        return self._projected(self._product_json(self._api_product(request)), request)

    def _put_product(self, request: Request) -> Response:
        product = self._api_product(request)
        self._write_item(product, request.json_object())
        return json_response(self._product_json(product))

    def _list_variations(self, request: Request) -> Response:
        product = self._api_product(request)
        variations = [self._variations[number] for number in product.variation_ids]
        if request.query.get("sku"):
            wanted = set(request.query["sku"].split(","))
            variations = [variation for variation in variations if variation.sku in wanted]
        variations = self._date_filtered(variations, request.query)
        return self._page([self._variation_json(v) for v in self._sorted(variations, request.query)], request)

    def _get_variation(self, request: Request) -> Response:
        return self._projected(self._variation_json(self._api_variation(request)), request)

    def _put_variation(self, request: Request) -> Response:
        variation = self._api_variation(request)
        self._write_item(variation, request.json_object())
        return json_response(self._variation_json(variation))

    def _product_batch(self, request: Request) -> Response:
        return self._batch(request, None)

    def _variation_batch(self, request: Request) -> Response:
        return self._batch(request, self._api_product(request))

    def _batch(self, request: Request, parent: _Product | None) -> Response:
        """create/update/delete in one call: one limit over all three, per-item errors inside the 200; the answer
        has a key only for each non-empty array (batch_items filters the empty ones out)."""
        data = request.json_object()
        groups = {name: data[name] for name in ("create", "update", "delete") if data.get(name)}
        if any(not isinstance(items, list) for items in groups.values()):
            raise wc_error(400, "rest_invalid_param", "Invalid parameter(s): create, update, delete")
        size = sum(len(items) for items in groups.values())
        if size > self.batch_limit:
            self.batch_refusals += 1
            message = f"Unable to accept more than {self.batch_limit} items for this request."
            raise wc_error(413, "woocommerce_rest_request_entity_too_large", message)
        self.batch_sizes.append(size)
        answer: dict[str, list[dict[str, Any]]] = {}
        if "create" in groups:
            answer["create"] = [self._batch_create(item, parent) for item in groups["create"]]
        if "update" in groups:
            answer["update"] = [self._batch_update(item, parent) for item in groups["update"]]
        if "delete" in groups:
            answer["delete"] = [self._batch_delete(item, parent) for item in groups["delete"] if _item_id(item)]
        self.batch_item_errors += sum(1 for rows in answer.values() for row in rows if "error" in row)
        return json_response(answer)

    def _batch_create(self, item: Any, parent: _Product | None) -> dict[str, Any]:
        if not isinstance(item, dict):
            return {"id": 0, "error": _error_json(400, "rest_invalid_param", "Invalid parameter(s): create")}
        spec = {key: item[key] for key in ("sku", "global_unique_id", "manage_stock", "stock_quantity") if key in item}
        if "regular_price" in item:
            spec["price"] = item["regular_price"]
        try:
            self._check_sku(str(spec.get("sku", "")), None)
            spec["stock_quantity"] = _optional_int(spec.get("stock_quantity", 0), "stock_quantity")
            return self._create(str(item.get("name") or "Product"), spec, parent)
        except HttpError as exc:
            return {"id": 0, "error": exc.body}

    def _create(self, name: str, spec: dict[str, Any], parent: _Product | None) -> dict[str, Any]:
        if parent is None:
            made = self.add_product(name, **spec)
            made.pop("variation_details")
            return made
        parent.modified = self._stamp()
        return self._variation_json(self._add_variation(parent, **spec))

    def _batch_update(self, item: Any, parent: _Product | None) -> dict[str, Any]:
        number = _item_id(item)
        target = self._batch_target(number, parent)
        if isinstance(target, dict):
            return target
        try:
            self._write_item(target, item)
        except HttpError as exc:
            return {"id": number, "error": exc.body}
        return self._item_json(target)

    def _batch_delete(self, item: Any, parent: _Product | None) -> dict[str, Any]:
        number = _item_id(item)
        target = self._batch_target(number, parent)
        if isinstance(target, dict):
            return target
        if number in self._failing:
            code, message = self._failing[number]
            return {"id": number, "error": _error_json(500, code, message)}
        if isinstance(target, _Variation):
            answer = self._variation_json(target)
            self._products[target.parent_id].variation_ids.remove(target.id)
            del self._variations[target.id]
            return answer
        answer = self._product_json(target)
        for variation_id in target.variation_ids:
            del self._variations[variation_id]
        del self._products[target.id]
        return answer

    def _batch_target(self, number: int, parent: _Product | None) -> _Product | _Variation | dict[str, Any]:
        """The item a batch row names, or its per-item error row."""
        if parent is None:
            product = self._products.get(number)
            if product is not None:
                return product
            return {"id": number, "error": _error_json(400, "woocommerce_rest_product_invalid_id", "Invalid ID.")}
        variation = self._variations.get(number)
        if variation is not None and variation.parent_id == parent.id:
            return variation
        code = "woocommerce_rest_product_variation_invalid_id"
        return {"id": number, "error": _error_json(400, code, "Invalid ID.")}

    def _write_item(self, item: _Product | _Variation, data: Mapping[str, Any]) -> None:
        """Apply the writable fields ogosync uses, all or nothing; a failing id (fail_ids) refuses the write."""
        if item.id in self._failing:
            code, message = self._failing[item.id]
            raise wc_error(500, code, message)
        if "sku" in data:
            self._check_sku(str(data["sku"]), item.id)
        quantity = _optional_int(data.get("stock_quantity"), "stock_quantity")
        price = _price(data["regular_price"]) if "regular_price" in data else item.price
        meta = _meta_input(data.get("meta_data", []))
        if "stock_quantity" in data:
            sold = self._sell_now(item)
            item.stock_quantity = quantity
            self.sales_before_writes += [{"sku": item.sku, "quantity": n, "written": quantity} for n in sold]
        if "manage_stock" in data:
            item.manage_stock = data["manage_stock"] if data["manage_stock"] == "parent" else bool(data["manage_stock"])
        for name in ("sku", "global_unique_id"):
            if name in data:
                setattr(item, name, str(data[name]))
        item.price = price
        for row in meta:
            self._merge_meta(item.meta, row)
        item.modified = self._stamp()

    def _check_sku(self, sku: str, own_id: int | None) -> None:
        """WooCommerce keeps SKUs unique over products and variations (product_invalid_sku, 400)."""
        items: list[_Product | _Variation] = [*self._products.values(), *self._variations.values()]
        if sku and any(item.sku == sku and item.id != own_id for item in items):
            raise wc_error(400, "product_invalid_sku", "Invalid or duplicated SKU.")

    def _sell_now(self, item: _Product | _Variation) -> list[int]:
        """Place the sales queued with `sell(before_next_stock_write=True)` for this item's SKU; their quantities."""
        due = [(sku, quantity) for sku, quantity in self._sell_before_write if sku == item.sku]
        self._sell_before_write = [sale for sale in self._sell_before_write if sale[0] != item.sku]
        for sku, quantity in due:
            self.add_order([{"sku": sku, "quantity": quantity}])
        return [quantity for _, quantity in due]

    # -- HTTP: webhooks ------------------------------------------------------------------------------------------
    def _list_webhooks(self, request: Request) -> Response:
        wanted = request.query.get("status", "all")
        hooks = [hook for hook in self._webhooks.values() if wanted == "all" or hook.status == wanted]
        return self._page([self._webhook_json(hook) for hook in hooks], request)

    def _get_webhook(self, request: Request) -> Response:
        return json_response(self._webhook_json(self._api_webhook(request)))

    def _post_webhook(self, request: Request) -> Response:
        data = request.json_object()
        if not data.get("topic") or not data.get("delivery_url"):
            raise wc_error(400, "rest_missing_callback_param", "Missing parameter(s): topic, delivery_url")
        try:
            made = self.add_webhook(
                str(data["topic"]), str(data["delivery_url"]), str(data.get("secret", "")), ping=True
            )
        except ValueError as exc:
            raise wc_error(400, "rest_invalid_param", str(exc)) from None
        return json_response(made, 201)

    def _put_webhook(self, request: Request) -> Response:
        hook = self._api_webhook(request)
        data = request.json_object()
        if "status" in data:
            if data["status"] not in ("active", "paused", "disabled"):
                raise wc_error(400, "rest_invalid_param", "Invalid parameter(s): status")
            hook.status = str(data["status"])
            hook.failure_count = 0
        for name in ("delivery_url", "secret", "name"):
            if name in data:
                setattr(hook, name, str(data[name]))
        return json_response(self._webhook_json(hook))

    # -- HTTP: Shipment Tracking extension ------------------------------------------------------------------------
    def _list_trackings(self, request: Request) -> Response:
        return json_response([dict(row) for row in self._tracking_order(request).trackings])

    def _post_tracking(self, request: Request) -> Response:
        order = self._tracking_order(request)
        data = request.json_object()
        number = str(data.get("tracking_number") or "")
        if not number:
            raise wc_error(400, "rest_missing_callback_param", "Missing parameter(s): tracking_number")
        provider = str(data.get("tracking_provider") or "")
        template = TRACKING_PROVIDERS.get(provider)
        if template is not None:
            row_provider, link = provider, template.format(number=number)
        else:
            row_provider = str(data.get("custom_tracking_provider") or provider)
            link = str(data.get("custom_tracking_link") or "")
        row = {
            "tracking_id": secrets.token_hex(16),
            "tracking_provider": row_provider,
            "tracking_link": link,
            "tracking_number": number,
            "date_shipped": str(data.get("date_shipped") or self.now().date().isoformat()),
        }
        order.trackings.append(row)
        self._touch(order)
        return json_response(dict(row), 201)

    def _providers(self, request: Request) -> Response:
        self._tracking_order(request)
        return json_response({"Global": dict(TRACKING_PROVIDERS)})

    def _tracking_order(self, request: Request) -> _Order:
        if not self.shipment_tracking:
            raise wc_error(404, "rest_no_route", "No route was found matching the URL and request method.")
        return self._api_order(request)

    # -- internals: lookups -----------------------------------------------------------------------------------------
    def _api_order(self, request: Request) -> _Order:
        order = self._orders.get(_int_or(request.params["id"]))
        if order is None:
            raise wc_error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
        return order

    def _api_product(self, request: Request) -> _Product:
        product = self._products.get(_int_or(request.params["id"]))
        if product is None:
            raise wc_error(404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
        return product

    def _api_variation(self, request: Request) -> _Variation:
        product = self._api_product(request)
        variation = self._variations.get(_int_or(request.params["vid"]))
        if variation is None or variation.parent_id != product.id:
            raise wc_error(404, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")
        return variation

    def _api_webhook(self, request: Request) -> _Webhook:
        hook = self._webhooks.get(_int_or(request.params["id"]))
        if hook is None:
            raise wc_error(404, "woocommerce_rest_webhook_invalid_id", "Invalid ID.")
        return hook

    def _order(self, order_id: int | str) -> _Order:
        order = self._orders.get(int(order_id))
        if order is None:
            raise KeyError(f"no order {order_id}")
        return order

    def _by_sku(self, sku: str) -> _Product | _Variation:
        for product in self._products.values():
            if product.sku == sku and product.type == "simple":
                return product
        for variation in self._variations.values():
            if variation.sku == sku:
                return variation
        raise KeyError(f"no product or variation with SKU {sku!r}")

    def _stock_holder(self, item: _Product | _Variation) -> _Product | _Variation:
        if isinstance(item, _Variation) and item.manage_stock == "parent":
            return self._products[item.parent_id]
        return item

    def _build_line(self, spec: Mapping[str, Any]) -> _Line:
        quantity = int(spec.get("quantity", 1))
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        sku = str(spec.get("sku", ""))
        if "name" in spec:
            return _Line(self._new_id(), 0, 0, sku, str(spec["name"]), quantity, _money(spec.get("price", "10.00")))
        item = self._by_sku(sku)
        if isinstance(item, _Variation):
            parent = self._products[item.parent_id]
            options = ", ".join(row["option"] for row in item.attributes)
            name = f"{parent.name} - {options}" if options else parent.name
            return _Line(self._new_id(), parent.id, item.id, sku, name, quantity, item.price)
        return _Line(self._new_id(), item.id, 0, sku, item.name, quantity, item.price)

    # -- internals: order status and stock --------------------------------------------------------------------------
    def _change_status(self, order: _Order, status: str) -> None:
        _check_status(status, api=True)
        if status != order.status:
            self._enter_status(order, status)

    def _enter_status(self, order: _Order, status: str) -> None:
        order.status = status
        if status in REDUCES_STOCK and not order.stock_reduced:
            self._move_stock(order, -1)
        elif status in RESTORES_STOCK and order.stock_reduced:
            self._move_stock(order, +1)
        if status == "completed":
            order.completed = self._stamp()
        if status in STATUS_EMAILS:
            order.emails.append(STATUS_EMAILS[status])

    def _move_stock(self, order: _Order, sign: int) -> None:
        for line in order.lines:
            number = line.variation_id or line.product_id
            found = self._variations.get(number) or self._products.get(number)
            if found is None:
                continue
            holder = self._stock_holder(found)
            if holder.manage_stock is True and holder.stock_quantity is not None:
                holder.stock_quantity += sign * line.quantity
                holder.modified = self._stamp()
        order.stock_reduced = sign < 0

    def _touch(self, order: _Order) -> None:
        order.modified = self._stamp()
        self._queue(order, "order.updated")

    def _queue(self, order: _Order, topic: str) -> None:
        """One delivery per active webhook on the topic; a delivery already pending for the same webhook and order
        takes this one in (WooCommerce coalesces, and builds the payload when it delivers)."""
        for hook in self._webhooks.values():
            if hook.topic != topic or hook.status != "active":
                continue
            event = _Event(hook.id, order.id)
            if event not in self._events:
                self._events.append(event)

    def _merge_meta(self, rows: list[dict[str, Any]], change: Mapping[str, Any]) -> None:
        """WC_Data::update_meta_data: by id when given, else the first row with the key (added when none)."""
        target = next((row for row in rows if "id" in change and row["id"] == change["id"]), None)
        target = target or next((row for row in rows if row["key"] == change.get("key")), None)
        if target is not None:
            target["value"] = change.get("value")
        elif change.get("key"):
            rows.append({"id": self._new_id(), "key": str(change["key"]), "value": change.get("value")})

    def _meta_rows(self, meta: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [{"id": self._new_id(), "key": key, "value": value} for key, value in meta.items()]

    # -- internals: listing ------------------------------------------------------------------------------------------
    def _date_filtered(self, items: list[Any], query: Mapping[str, str]) -> list[Any]:
        """modified_after/_before and after/before (creation), strictly; naive dates are GMT with dates_are_gmt,
        else the site's local time."""
        gmt = query.get("dates_are_gmt", "").lower() in ("1", "true")
        bounds = {
            name: self._query_date(query, name, gmt)
            for name in ("modified_after", "modified_before", "after", "before")
            if query.get(name)
        }
        for name, bound in bounds.items():
            column = "modified" if name.startswith("modified") else "created"
            if name.endswith("after"):
                items = [item for item in items if getattr(item, column) > bound]
            else:
                items = [item for item in items if getattr(item, column) < bound]
        return items

    def _query_date(self, query: Mapping[str, str], name: str, gmt: bool) -> datetime:
        try:
            parsed = datetime.fromisoformat(query[name].replace("Z", "+00:00"))
        except ValueError:
            raise wc_error(400, "rest_invalid_param", f"Invalid parameter(s): {name}") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC if gmt else self.zone)
        return parsed

    @staticmethod
    def _sorted(items: list[Any], query: Mapping[str, str]) -> list[Any]:
        orderby = query.get("orderby", "date")
        columns = {"date": "created", "modified": "modified", "id": "id"}
        if orderby not in columns:
            raise wc_error(400, "rest_invalid_param", "Invalid parameter(s): orderby")
        column = columns[orderby]
        descending = query.get("order", "desc") != "asc"
        return sorted(items, key=lambda item: (getattr(item, column), item.id), reverse=descending)

    def _page(self, rows: list[dict[str, Any]], request: Request) -> Response:
        """One page with X-WP-Total, X-WP-TotalPages and Link; `_fields` applied to each row."""
        page = _query_int(request.query, "page", 1, 1, None)
        per_page = _query_int(request.query, "per_page", 10, 1, MAX_PER_PAGE)
        total = len(rows)
        pages = math.ceil(total / per_page)
        chosen = rows[(page - 1) * per_page : page * per_page]
        fields = _fields(request.query)
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        links = []
        if page > 1:
            links.append(f'<{self._page_url(request, page - 1)}>; rel="prev"')
        if page < pages:
            links.append(f'<{self._page_url(request, page + 1)}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        return json_response([_project(row, fields) for row in chosen], headers=headers)

    def _page_url(self, request: Request, page: int) -> str:
        """The request's URL with another page: every other query parameter kept, the keys too (as WordPress does:
        a client that logs Link headers logs its keys)."""
        query = urllib.parse.urlencode({**request.query, "page": str(page)})
        return f"{self.root_url}{request.path}?{query}"

    @staticmethod
    def _projected(row: dict[str, Any], request: Request) -> Response:
        return json_response(_project(row, _fields(request.query)))

    # -- internals: JSON -------------------------------------------------------------------------------------------
    def _order_json(self, order: _Order) -> dict[str, Any]:
        lines_total = sum((line.price * line.quantity for line in order.lines), Decimal(0))
        shipping_total = sum((Decimal(row["total"]) for row in order.shipping_lines), Decimal(0))
        return {
            "id": order.id,
            "parent_id": 0,
            "number": str(order.id),
            "order_key": f"wc_order_{order.id}",
            "created_via": "checkout",
            "status": order.status,
            "currency": order.currency,
            **self._dates("date_created", order.created),
            **self._dates("date_modified", order.modified),
            **self._dates("date_paid", order.paid),
            **self._dates("date_completed", order.completed),
            "total": str(lines_total + shipping_total),
            "shipping_total": str(shipping_total),
            "customer_note": order.customer_note,
            "billing": dict(order.billing),
            "shipping": {key: value for key, value in order.shipping.items() if key != "email"},
            "payment_method": "bacs" if order.status == "on-hold" else "stripe",
            "line_items": [
                {
                    "id": line.id,
                    "name": line.name,
                    "product_id": line.product_id,
                    "variation_id": line.variation_id,
                    "quantity": line.quantity,
                    "subtotal": str(line.price * line.quantity),
                    "total": str(line.price * line.quantity),
                    "sku": line.sku,
                    "price": float(line.price),
                    "meta_data": [],
                }
                for line in order.lines
            ],
            "shipping_lines": [dict(row, meta_data=[]) for row in order.shipping_lines],
            "meta_data": [dict(row) for row in order.meta],
        }

    def _item_json(self, item: _Product | _Variation) -> dict[str, Any]:
        return self._product_json(item) if isinstance(item, _Product) else self._variation_json(item)

    def _product_json(self, product: _Product) -> dict[str, Any]:
        if product.type == "variable" and product.variation_ids:
            price = min(self._variations[number].price for number in product.variation_ids)
        else:
            price = product.price
        return {
            "id": product.id,
            "name": product.name,
            "slug": product.slug,
            "permalink": self._permalink(product),
            **self._dates("date_created", product.created),
            **self._dates("date_modified", product.modified),
            "type": product.type,
            "status": product.status,
            "description": product.description,
            "short_description": product.short_description,
            "sku": product.sku,
            "global_unique_id": product.global_unique_id,
            "price": str(price),
            "regular_price": str(product.price) if product.type == "simple" else "",
            "sale_price": "",
            "manage_stock": product.manage_stock,
            "stock_quantity": product.stock_quantity,
            "stock_status": _stock_status(product.manage_stock, product.stock_quantity),
            "images": [_image_json(src, product.id + index) for index, src in enumerate(product.images)],
            "variations": list(product.variation_ids),
            "parent_id": 0,
            "meta_data": [dict(row) for row in product.meta],
        }

    def _variation_json(self, variation: _Variation) -> dict[str, Any]:
        parent = self._products[variation.parent_id]
        holder = self._stock_holder(variation)
        query = "&".join(f"attribute_{row['name'].lower()}={row['option'].lower()}" for row in variation.attributes)
        return {
            "id": variation.id,
            "type": "variation",
            "parent_id": parent.id,
            **self._dates("date_created", variation.created),
            **self._dates("date_modified", variation.modified),
            "description": variation.description,
            "permalink": self._permalink(parent) + (f"?{query}" if query else ""),
            "sku": variation.sku,
            "global_unique_id": variation.global_unique_id,
            "price": str(variation.price),
            "regular_price": str(variation.price),
            "sale_price": "",
            "status": variation.status,
            "manage_stock": variation.manage_stock,
            "stock_quantity": holder.stock_quantity if holder.manage_stock is True else None,
            "stock_status": _stock_status(holder.manage_stock, holder.stock_quantity),
            "image": _image_json(variation.image, variation.id) if variation.image else None,
            "attributes": [dict(row, id=0) for row in variation.attributes],
            "meta_data": [dict(row) for row in variation.meta],
        }

    def _webhook_json(self, hook: _Webhook) -> dict[str, Any]:
        resource, _, event = hook.topic.partition(".")
        return {
            "id": hook.id,
            "name": hook.name,
            "status": hook.status,
            "topic": hook.topic,
            "resource": resource,
            "event": event,
            "hooks": [f"woocommerce_{resource}_{event}"],
            "delivery_url": hook.delivery_url,
            "failure_count": hook.failure_count,
            **self._dates("date_created", hook.created),
        }

    def _dates(self, name: str, when: datetime | None) -> dict[str, str | None]:
        """WooCommerce's pair: `name` in the site's local time and `name_gmt`, both without an offset."""
        return {name: self._local(when) if when else None, f"{name}_gmt": _gmt(when) if when else None}

    def _local(self, when: datetime) -> str:
        return when.astimezone(self.zone).replace(tzinfo=None).isoformat()

    def _gmt_offset(self) -> float:
        offset = self.now().astimezone(self.zone).utcoffset()
        return offset.total_seconds() / 3600 if offset else 0.0

    def _permalink(self, product: _Product) -> str:
        return f"{self.root_url}/product/{product.slug}/"

    def _switches(self) -> dict[str, Any]:
        return {
            "strip_authorization": self.strip_authorization,
            "plain_permalinks": self.plain_permalinks,
            "batch_limit": self.batch_limit,
            "shipment_tracking": self.shipment_tracking,
            "max_delivery_failures": self.max_delivery_failures,
            "html_faults": self.html_faults,
        }

    # -- internals: auth, ids, time -------------------------------------------------------------------------------
    def _credentials(self, request: Request) -> tuple[str, str]:
        if request.query.get("consumer_key") and request.query.get("consumer_secret"):
            return request.query["consumer_key"], request.query["consumer_secret"]
        header = "" if self.strip_authorization else request.headers.get("Authorization") or ""
        if not header.lower().startswith("basic "):
            return "", ""
        try:
            key, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        return key, secret

    @staticmethod
    def _auth_error(message: str) -> Response:
        return json_response(_error_json(401, "woocommerce_rest_authentication_error", message), 401)

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _stamp(self) -> datetime:
        """Now, to the second (WordPress stores dates in seconds)."""
        return self.now().replace(microsecond=0)

    # -- control surface ---------------------------------------------------------------------------------------------
    def _control_deliver(self, request: Request) -> Response:
        records = self.call_with_json(request, self.deliver_webhooks)
        return json_response({"deliveries": [record.to_json() for record in records]})


DEFAULT_ADDRESS: dict[str, str] = {
    "first_name": "Anna",
    "last_name": "Andersson",
    "company": "",
    "address_1": "Mannerheimintie 1",
    "address_2": "",
    "city": "Helsinki",
    "state": "",
    "postcode": "00100",
    "country": "FI",
    "phone": "+358401234567",
}


# -- module helpers --------------------------------------------------------------------------------------------------
def _error_json(status: int, code: str, message: str) -> dict[str, Any]:
    return {"code": code, "message": message, "data": {"status": status}}


def _pretty_path(raw_path: str) -> str:
    """`/?rest_route=/wc/v3/orders&page=2` as the `/wp-json/wc/v3/orders?page=2` it stands for."""
    split = urllib.parse.urlsplit(raw_path)
    query = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
    route = dict(query).get("rest_route")
    if split.path not in ("/", "/index.php") or not route:
        return raw_path
    rest = urllib.parse.urlencode([(key, value) for key, value in query if key != "rest_route"])
    return "/wp-json/" + route.lstrip("/") + (f"?{rest}" if rest else "")


def _manages_own_stock(manage_stock: bool, variations: Sequence[Mapping[str, Any]]) -> bool:
    """A simple product as asked; a variable one only when some variation leaves its stock to the parent."""
    if not variations:
        return manage_stock
    return manage_stock and any(spec.get("manage_stock") == "parent" for spec in variations)


def _no_user(method: str) -> Response:
    """What a wc/v3 controller answers a request no key authenticated (rest_authorization_required_code: 401)."""
    if method in ("GET", "HEAD"):
        body = _error_json(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
    else:
        body = _error_json(401, "woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.")
    return json_response(body, 401)


def _check_status(status: str, *, api: bool = False) -> None:
    if status not in ORDER_STATUSES:
        if api:
            raise wc_error(400, "rest_invalid_param", "Invalid parameter(s): status")
        raise ValueError(f"unknown order status {status!r}")


def _status_filter(raw: str) -> set[str] | None:
    """None for `any`; otherwise the comma list, each a known status (400 otherwise)."""
    wanted = {part.strip() for part in raw.split(",") if part.strip()}
    if not wanted or "any" in wanted:
        return None
    if wanted - set(ORDER_STATUSES) - {"trash", "checkout-draft"}:
        raise wc_error(400, "rest_invalid_param", "Invalid parameter(s): status")
    return wanted


def _query_int(query: Mapping[str, str], name: str, default: int, minimum: int, maximum: int | None) -> int:
    raw = query.get(name, "")
    if raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise wc_error(400, "rest_invalid_param", f"Invalid parameter(s): {name}") from None
    if value < minimum or (maximum is not None and value > maximum):
        raise wc_error(400, "rest_invalid_param", f"Invalid parameter(s): {name}")
    return value


def _fields(query: Mapping[str, str]) -> list[str]:
    return [part.strip() for part in query.get("_fields", "").split(",") if part.strip()]


def _project(row: dict[str, Any], fields: list[str]) -> dict[str, Any]:
    """`_fields`: only the named (dotted: nested) fields, `id` always kept; nothing named: everything."""
    if not fields:
        return row
    projected: dict[str, Any] = {"id": row["id"]} if "id" in row else {}
    for path in fields:
        head, _, rest = path.partition(".")
        if head not in row:
            continue
        value = row[head]
        if rest and isinstance(value, dict):
            projected[head] = {**projected.get(head, {}), **_project_nested(value, rest)}
        elif rest and isinstance(value, list):
            projected[head] = [_project_nested(item, rest) if isinstance(item, dict) else item for item in value]
        else:
            projected[head] = value
    return projected


def _project_nested(value: dict[str, Any], path: str) -> dict[str, Any]:
    head, _, rest = path.partition(".")
    if head not in value:
        return {}
    inner = value[head]
    return {head: _project_nested(inner, rest) if rest and isinstance(inner, dict) else inner}


def _meta_input(raw: Any) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(row, dict) for row in raw):
        raise wc_error(400, "rest_invalid_param", "Invalid parameter(s): meta_data")
    return list(raw)


def _item_id(item: Any) -> int:
    raw = item.get("id") if isinstance(item, dict) else item
    return _int_or(raw)


def _int_or(raw: Any, default: int = 0) -> int:
    try:
        return int(raw)
    except (TypeError, ValueError):
        return default


def _optional_int(raw: Any, name: str) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        raise wc_error(400, "rest_invalid_param", f"Invalid parameter(s): {name}") from None


def _stock_status(manage_stock: bool | str, quantity: int | None) -> str:
    if manage_stock is True and quantity is not None and quantity <= 0:
        return "outofstock"
    return "instock"


def _image_json(src: str | None, number: int) -> dict[str, Any]:
    return {"id": number, "src": src, "name": (src or "").rsplit("/", 1)[-1], "alt": ""}


def _gmt(when: datetime) -> str:
    return when.astimezone(UTC).replace(tzinfo=None).isoformat()


def _price(raw: Any) -> Decimal:
    try:
        return _money(raw)
    except (InvalidOperation, ValueError):
        raise wc_error(400, "rest_invalid_param", "Invalid parameter(s): regular_price") from None


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _slug(name: str) -> str:
    return "".join(char if char.isalnum() else "-" for char in name.lower()).strip("-") or "product"
