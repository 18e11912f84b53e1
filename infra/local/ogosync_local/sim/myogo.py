"""myOGO v1 API simulator: OAuth2 token endpoint, orders, products, stock, webhooks, the lists of shipping methods
and warehouses (at the paths ogosync assumes: docs/api/myogo.md), plus a warehouse clock.

Follows the myOGO v1 API as docs/api/myogo.md describes it: camelCase JSON, bare arrays, `limit`/`page`
paging, `ApiError {statusCode, statusDescription, message}` bodies. Each merchant's data is isolated; an
access token belongs to exactly one merchant.
"""

from __future__ import annotations

import base64
import binascii
import collections
import copy
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, TypeVar

from ogosync_local.sim.server import (
    Clock,
    HttpError,
    Request,
    Response,
    SimServer,
    empty_response,
    int_param,
    json_response,
    locked,
)
from ogosync_local.sim.webhooks import DeliveryRecord, post_webhook

API = "/api/v1"
FORM_TYPE = "application/x-www-form-urlencoded"
DEFAULT_CLIENTS = {"123456": "abcdef"}  # the documented demo application credentials
REFRESH_LIFETIME_S = 14 * 24 * 3600
DENIED = "Authorization has been denied for this request."
ORDER_STATUSES = ("draft", "reserved", "new", "locked", "collecting", "pending", "cancelled", "shipped", "returned")
RESERVING_STATUSES = frozenset({"new", "pending", "reserved", "locked"})
FROZEN_STATUSES = frozenset({"collecting", "shipped", "returned"})
WAREHOUSES = {"TLL": "Tallinn", "GOT": "Gothenburg", "VNT": "Vantaa"}  # the codes the reference names (§5)
CANCELLABLE_STATUSES = frozenset({"new", "pending", "reserved", "draft"})
WAREHOUSE_STEPS = {"new": "collecting", "collecting": "shipped"}
ORDER_FIELDS = (
    "reference",
    "status",
    "shippingCode",
    "pickUpPointCode",
    "orderLines",
    "customer",
    "comments",
    "priceTotal",
    "priceCurrency",
    "cashOnDelivery",
    "documents",
    "test",
)
PRODUCT_FIELDS = (
    "code",
    "name",
    "description",
    "supplierCode",
    "supplier",
    "group",
    "eanCode",
    "supplyPrice",
    "salesPrice",
    "currencyCode",
    "infoUrl",
    "pictureUrl",
    "countryOfOrigin",
    "languageCode",
    "customsDescription",
    "hsCode",
)
WEBHOOK_FIELDS = ("url", "key", "type", "customHeaders")
WEBHOOK_TYPES = ("OrderShipped", "ProductStockLevelChanged")
T = TypeVar("T")


def sign_myogo_webhook(key: str, body: bytes) -> str:
    """The `X-OGOship-Hmac-SHA256` value: base64(HMAC-SHA256(key, raw body))."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class _Grant:
    """An access or refresh token."""

    merchant_id: str
    client_id: str
    expires_at: datetime
    used: bool = False


@dataclass
class _Order:
    doc: dict[str, Any]
    edit_time: datetime


@dataclass
class _Product:
    doc: dict[str, Any]
    edit_time: datetime
    stock: int
    stock_modified: datetime


@dataclass
class _Merchant:
    merchant_id: str
    secret_token: str
    shipping_codes: frozenset[str]
    warehouses: frozenset[str] = frozenset(WAREHOUSES)
    orders: dict[str, _Order] = field(default_factory=dict)
    products: dict[str, _Product] = field(default_factory=dict)
    webhooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    def clear(self) -> None:
        self.orders.clear()
        self.products.clear()
        self.webhooks.clear()
        self.events.clear()


class MyOgoSimulator(SimServer):
    """The myOGO v1 API and its token endpoint on one server; paths are case-insensitive."""

    def __init__(
        self,
        *,
        clients: Mapping[str, str] | None = None,
        token_lifetime_s: float = 5400,
        refresh_lifetime_s: float = REFRESH_LIFETIME_S,
        reject_unknown_skus: bool = True,
        multi_parcel_every: int = 0,
        clock: Clock | None = None,
        port: int = 0,
    ) -> None:
        super().__init__(clock=clock, port=port, ignore_case_paths=True)
        self.clients = dict(DEFAULT_CLIENTS if clients is None else clients)
        self.token_lifetime_s = token_lifetime_s
        self.refresh_lifetime_s = refresh_lifetime_s
        self.reject_unknown_skus = reject_unknown_skus
        self.multi_parcel_every = multi_parcel_every
        self._merchants: dict[str, _Merchant] = {}
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._shipped_count = 0
        self._add_routes()

    def _add_routes(self) -> None:
        self.add_route("POST", "/OAuth/Token", self._token, auth=False)
        self.add_route("GET", f"{API}/Orders", self._get_orders)
        self.add_route("POST", f"{API}/Orders", self._create_order)
        self.add_route("PUT", f"{API}/Orders/{{reference}}", self._update_order)
        self.add_route("GET", f"{API}/Products", self._get_products)
        self.add_route("POST", f"{API}/Products", self._create_product)
        self.add_route("PUT", f"{API}/Products/{{code}}", self._update_product)
        self.add_route("GET", f"{API}/Stock", self._get_stock)
        self.add_route("GET", f"{API}/Metadata/ShippingMethods", self._list_shipping_methods)
        self.add_route("GET", f"{API}/Metadata/Warehouses", self._list_warehouses)
        self.add_route("GET", f"{API}/webhooks", self._list_webhooks)
        self.add_route("POST", f"{API}/webhooks", self._create_webhook)
        self.add_route("GET", f"{API}/webhooks/{{id}}", self._get_webhook)
        self.add_route("PUT", f"{API}/webhooks/{{id}}", self._update_webhook)
        self.add_route("DELETE", f"{API}/webhooks/{{id}}", self._delete_webhook)
        self.add_control_route("POST", "/_sim/advance", self._control_advance)
        self.add_control_route("POST", "/_sim/merchants", self._control_add_merchant)
        self.add_control_route("POST", "/_sim/products", self._control_add_product)
        self.add_control_route("POST", "/_sim/stock", self._control_set_stock)
        self.add_control_route("POST", "/_sim/deliver-webhooks", self._control_deliver)

    # -- SimServer hooks -------------------------------------------------------------------------
    def authenticate(self, request: Request) -> Response | None:
        """Require a live `Authorization: Bearer <access_token>`; sets request.principal to the merchant id."""
        scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
        grant = self._access.get(token.strip()) if scheme.lower() == "bearer" else None
        if grant is None or self.now() >= grant.expires_at:
            return self.error_response(401, DENIED)
        request.principal = grant.merchant_id
        return None

    def error_body(self, status: int, message: str) -> Any:
        """The v1 `ApiError` shape."""
        try:
            description = HTTPStatus(status).phrase
        except ValueError:
            description = "Error"
        return {"statusCode": status, "statusDescription": description, "message": message}

    def state(self) -> dict[str, Any]:
        """Per-merchant counts for `GET /_sim/state`."""
        merchants = {
            merchant_id: {
                "orders": dict(collections.Counter(order.doc["status"] for order in merchant.orders.values())),
                "products": len(merchant.products),
                "webhooks": len(merchant.webhooks),
                "pendingWebhooks": len(merchant.events),
            }
            for merchant_id, merchant in self._merchants.items()
        }
        return {"merchants": merchants, "accessTokens": len(self._access)}

    @locked
    def reset(self) -> None:
        """Drop tokens and every merchant's data; merchant registrations and app clients are kept."""
        super().reset()
        for merchant in self._merchants.values():
            merchant.clear()
        self._access.clear()
        self._refresh.clear()
        self._shipped_count = 0

    # -- Python API ------------------------------------------------------------------------------
    @locked
    def add_merchant(
        self,
        merchant_id: str,
        secret_token: str,
        shipping_codes: Iterable[str] = (),
        webhook_url: str | None = None,
        webhook_key: str = "",
        warehouses: Iterable[str] = tuple(WAREHOUSES),
    ) -> None:
        """Register a merchant (username/password of the password grant), its enabled shipping codes (none: every
        code is taken, and none is listed), its warehouses and optionally an OrderShipped webhook."""
        if merchant_id in self._merchants:
            raise ValueError(f"merchant {merchant_id} already exists")
        self._merchants[merchant_id] = _Merchant(
            merchant_id, secret_token, frozenset(shipping_codes), frozenset(warehouses)
        )
        if webhook_url is not None:
            self.add_webhook(merchant_id, webhook_url, webhook_key)

    @locked
    def add_webhook(
        self,
        merchant_id: str,
        url: str,
        key: str,
        webhook_type: str = "OrderShipped",
        custom_headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Register a webhook as POST /api/v1/webhooks would; returns the WebHookResponse."""
        fields = {"url": url, "key": key, "type": webhook_type, "customHeaders": dict(custom_headers or {})}
        hook = _webhook_input(fields)
        return self._store_webhook(self._merchant_by_id(merchant_id), hook)

    @locked
    def add_product(
        self, merchant_id: str, code: str, *, name: str | None = None, stock: int = 0, **fields: Any
    ) -> dict[str, Any]:
        """Create a product (extra API fields such as eanCode by their camelCase names) with `stock` units."""
        merchant = self._merchant_by_id(merchant_id)
        doc = _product_input({"languageCode": "en", **fields, "code": code, "name": name or code})
        product = self._store_product(merchant, doc)
        product.stock = stock
        return self._render_product(merchant, product)

    @locked
    def set_stock(self, merchant_id: str, code: str, stock: int) -> dict[str, Any]:
        """Set the physical stock of a product (e.g. an inbound delivery); returns the Stock row."""
        merchant = self._merchant_by_id(merchant_id)
        product = self._product_by_code(merchant, code)
        product.stock = stock
        product.stock_modified = self.now()
        return self._stock_row(merchant, product)

    @locked
    def set_status(self, merchant_id: str, reference: str, status: str) -> dict[str, Any]:
        """Warehouse-side status change (no transition checks); returns the OrderResponse."""
        merchant = self._merchant_by_id(merchant_id)
        order = merchant.orders.get(reference)
        if order is None:
            raise KeyError(f"unknown order {reference} of merchant {merchant_id}")
        if status.lower() not in ORDER_STATUSES:
            raise ValueError(f"unknown status {status!r}")
        self._transition(merchant, order, status.lower())
        return _render_order(order)

    @locked
    def edit_order(self, merchant_id: str, reference: str, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Warehouse-side edit of an order's fields (a person in myOGO, e.g. a corrected address); returns it."""
        merchant = self._merchant_by_id(merchant_id)
        order = merchant.orders.get(reference)
        if order is None:
            raise KeyError(f"unknown order {reference} of merchant {merchant_id}")
        order.doc = {**order.doc, **copy.deepcopy(dict(changes)), "reference": reference}
        order.edit_time = self.now()
        return _render_order(order)

    @locked
    def advance(self, steps: int = 1) -> int:
        """Move every order one warehouse step per step (new -> collecting -> shipped); returns the moves."""
        moves = 0
        for _ in range(steps):
            for merchant in self._merchants.values():
                for order in list(merchant.orders.values()):
                    target = WAREHOUSE_STEPS.get(order.doc["status"])
                    if target is not None:
                        self._transition(merchant, order, target)
                        moves += 1
        return moves

    @locked
    def orders(self, merchant_id: str) -> dict[str, dict[str, Any]]:
        """The merchant's orders by reference, as OrderResponse."""
        return {ref: _render_order(order) for ref, order in self._merchant_by_id(merchant_id).orders.items()}

    @locked
    def products(self, merchant_id: str) -> dict[str, dict[str, Any]]:
        """The merchant's products by code, as ProductResponse."""
        merchant = self._merchant_by_id(merchant_id)
        return {code: self._render_product(merchant, product) for code, product in merchant.products.items()}

    @locked
    def stock(self, merchant_id: str, code: str) -> dict[str, Any]:
        """The Stock row of one product."""
        merchant = self._merchant_by_id(merchant_id)
        return self._stock_row(merchant, self._product_by_code(merchant, code))

    def deliver_webhooks(self) -> list[DeliveryRecord]:
        """POST queued OrderShipped events to every OrderShipped webhook of the order's merchant.

        Events of a merchant without such a webhook are dropped. The queue is emptied; no retries.
        """
        with self.lock:
            jobs = [
                (hook, event)
                for merchant in self._merchants.values()
                for event in merchant.events
                for hook in merchant.webhooks.values()
                if hook["type"] == "OrderShipped"
            ]
            for merchant in self._merchants.values():
                merchant.events.clear()
        records = []
        for hook, event in jobs:
            body = json.dumps(event).encode()
            headers = {
                "Content-Type": "application/json",
                **hook["customHeaders"],
                "X-OGOship-Hmac-SHA256": sign_myogo_webhook(hook["key"], body),
            }
            records.append(post_webhook(hook["url"], body, headers, [event]))
        return records

    # -- HTTP: token -----------------------------------------------------------------------------
    def _token(self, request: Request) -> Response:
        if request.body and request.content_type != FORM_TYPE:
            # "We only support form data and parameter data types (not json currently)"
            return _oauth_error("unsupported_grant_type")
        params = {**request.query, **(request.form() if request.body else {})}
        client_id = params.get("client_id", "")
        expected = self.clients.get(client_id)
        if expected is None or not hmac.compare_digest(expected.encode(), params.get("client_secret", "").encode()):
            return _oauth_error("invalid_client", "The client credentials are invalid.")
        grant_type = params.get("grant_type")
        if grant_type == "password":
            merchant_id = self._check_password(params)
        elif grant_type == "refresh_token":
            merchant_id = self._redeem_refresh(params.get("refresh_token", ""), client_id)
        else:
            return _oauth_error("unsupported_grant_type")
        return json_response(self._issue(merchant_id, client_id))

    def _check_password(self, params: Mapping[str, str]) -> str:
        merchant = self._merchants.get(params.get("username", ""))
        given = params.get("password", "").encode()
        if merchant is None or not hmac.compare_digest(merchant.secret_token.encode(), given):
            raise _oauth_failure("The user name or password is incorrect.")
        return merchant.merchant_id

    def _redeem_refresh(self, token: str, client_id: str) -> str:
        grant = self._refresh.get(token)
        if grant is None or grant.used or grant.client_id != client_id or self.now() >= grant.expires_at:
            raise _oauth_failure("The refresh token is invalid, expired or already used.")
        grant.used = True
        return grant.merchant_id

    def _issue(self, merchant_id: str, client_id: str) -> dict[str, Any]:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        now = self.now()
        self._access[access] = _Grant(merchant_id, client_id, now + timedelta(seconds=self.token_lifetime_s))
        self._refresh[refresh] = _Grant(merchant_id, client_id, now + timedelta(seconds=self.refresh_lifetime_s))
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": int(self.token_lifetime_s),
            "refresh_token": refresh,
        }

    # -- HTTP: orders ----------------------------------------------------------------------------
    def _get_orders(self, request: Request) -> Response:
        merchant, since = self._merchant(request), _since(request.query)
        reference = request.query.get("reference")
        found = [
            order
            for order in merchant.orders.values()
            if (not reference or order.doc["reference"] == reference) and (since is None or order.edit_time > since)
        ]
        found.sort(key=lambda order: (order.edit_time, order.doc["reference"]))
        return json_response([_render_order(order) for order in _page(found, request.query)])

    def _create_order(self, request: Request) -> Response:
        merchant = self._merchant(request)
        doc: dict[str, Any] = dict.fromkeys(ORDER_FIELDS) | _order_input(request.json_object())
        self._normalize_order(merchant, doc)
        if doc["reference"] in merchant.orders:
            # uncertain for v1: this is the legacy API's wording, which the plugins match on
            raise HttpError(400, "Trying to add new order but order with same reference already exists")
        full = {"id": str(uuid.uuid4()), **doc, "trackingNumber": None, "trackingUrl": None, "warehouseComments": None}
        order = _Order(full, self.now())
        merchant.orders[doc["reference"]] = order
        self._touch_stock(merchant, _codes(full))
        return json_response(_render_order(order))

    def _update_order(self, request: Request) -> Response:
        merchant, reference = self._merchant(request), request.params["reference"]
        order = merchant.orders.get(reference)
        if order is None:
            raise HttpError(404, f"Order with reference '{reference}' not found")
        if order.doc["status"] in FROZEN_STATUSES:
            # uncertain: the reference says such orders are not editable but gives no error text
            raise HttpError(400, f"Order in status '{order.doc['status']}' can not be updated")
        changes = {key: value for key, value in _order_input(request.json_object()).items() if value is not None}
        cancelling = str(changes.get("status") or "").lower() == "cancelled"
        if cancelling and order.doc["status"] not in CANCELLABLE_STATUSES | {"cancelled"}:
            # reference §3.1: cancellable while NEW, PENDING, RESERVED or DRAFT (uncertain: the error text)
            raise HttpError(400, f"Order in status '{order.doc['status']}' can not be cancelled")
        merged = {**order.doc, **changes, "reference": reference}
        self._normalize_order(merchant, merged)
        codes = _codes(order.doc) | _codes(merged)
        order.doc, order.edit_time = merged, self.now()
        self._touch_stock(merchant, codes)
        return json_response(_render_order(order))

    def _normalize_order(self, merchant: _Merchant, doc: dict[str, Any]) -> None:
        """Validate an order (400 on the first problem); lower-cases status, defaults a sole shipping code."""
        if not _text(doc.get("reference")):
            raise HttpError(400, "Reference is required")
        status = doc.get("status")
        if not isinstance(status, str) or status.lower() not in ORDER_STATUSES:
            raise HttpError(400, f"Invalid order status '{status}'")
        doc["status"] = status.lower()  # uncertain: v1 response casing; we answer lower-case like the PHP enum
        _check_customer(doc.get("customer"))
        self._check_lines(merchant, doc.get("orderLines"))
        self._check_shipping(merchant, doc)

    def _check_lines(self, merchant: _Merchant, lines: Any) -> None:
        if not isinstance(lines, list) or not lines:
            raise HttpError(400, "Order lines are required for new order")
        for line in lines:
            if not isinstance(line, dict) or not _text(line.get("code")):
                raise HttpError(400, "Order line code is required")
            quantity = line.get("quantity")
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 1:
                raise HttpError(400, f"Order line '{line['code']}' quantity must be a positive integer")
            if self.reject_unknown_skus and line["code"] not in merchant.products:
                raise HttpError(400, f"Product with code '{line['code']}' not found")

    @staticmethod
    def _check_shipping(merchant: _Merchant, doc: dict[str, Any]) -> None:
        code, enabled = doc.get("shippingCode"), merchant.shipping_codes
        if not enabled:
            return
        if not code:
            if len(enabled) > 1:
                raise HttpError(400, "ShippingCode is required when more than one shipping method is enabled")
            doc["shippingCode"] = next(iter(enabled))
        elif code not in enabled:
            raise HttpError(400, f"Shipping method with code '{code}' is not enabled for this merchant")

    # -- HTTP: products and stock ------------------------------------------------------------------
    def _get_products(self, request: Request) -> Response:
        merchant, since, query = self._merchant(request), _since(request.query), request.query
        found = [
            product
            for product in merchant.products.values()
            if (not query.get("code") or product.doc["code"] == query["code"])
            and (not query.get("eanCode") or product.doc.get("eanCode") == query["eanCode"])
            and (since is None or product.edit_time > since)
        ]
        found.sort(key=lambda product: (product.edit_time, product.doc["code"]))
        return json_response([self._render_product(merchant, product) for product in _page(found, query)])

    def _create_product(self, request: Request) -> Response:
        merchant = self._merchant(request)
        product = self._store_product(merchant, _product_input(request.json_object()))
        return json_response(self._render_product(merchant, product))

    def _update_product(self, request: Request) -> Response:
        merchant, code = self._merchant(request), request.params["code"]
        if request.query.get("base64url", "").lower() == "true":
            code = _b64url_decode(code)
        product = merchant.products.get(code)
        if product is None:
            raise HttpError(404, f"Product with code '{code}' not found")
        changes = {key: value for key, value in _product_input(request.json_object()).items() if value is not None}
        merged = {**product.doc, **changes}
        if product.doc.get("eanCode"):
            merged["eanCode"] = product.doc["eanCode"]  # "Existing EAN code will not be overwritten" (silently)
        _check_product(merged)
        new_code = merged["code"]
        if new_code != code and new_code in merchant.products:
            raise HttpError(400, f"Product with code '{new_code}' already exists")
        product.doc, product.edit_time = merged, self.now()
        merchant.products[new_code] = merchant.products.pop(code)
        return json_response(self._render_product(merchant, product))

    def _store_product(self, merchant: _Merchant, doc: dict[str, Any]) -> _Product:
        _check_product(doc)
        if doc["code"] in merchant.products:
            raise HttpError(400, f"Product with code '{doc['code']}' already exists")  # uncertain: message
        now = self.now()
        product = _Product({"id": str(uuid.uuid4()), **doc}, now, 0, now)
        merchant.products[doc["code"]] = product
        return product

    def _get_stock(self, request: Request) -> Response:
        merchant, since, code = self._merchant(request), _since(request.query), request.query.get("productCode")
        if code and code not in merchant.products:
            raise HttpError(404, f"Product with code '{code}' not found")  # uncertain: 404 vs an empty array
        found = [
            product
            for product in merchant.products.values()
            if (not code or product.doc["code"] == code) and (since is None or product.stock_modified > since)
        ]
        found.sort(key=lambda product: (product.stock_modified, product.doc["code"]))
        return json_response([self._stock_row(merchant, product) for product in _page(found, request.query)])

    # -- HTTP: what the merchant can choose --------------------------------------------------------------
    def _list_shipping_methods(self, request: Request) -> Response:
        codes = sorted(self._merchant(request).shipping_codes)
        return json_response([{"code": code, "name": code.replace("-", " ").title()} for code in codes])

    def _list_warehouses(self, request: Request) -> Response:
        codes = sorted(self._merchant(request).warehouses)
        return json_response([{"code": code, "name": WAREHOUSES.get(code, code)} for code in codes])

    # -- HTTP: webhooks ----------------------------------------------------------------------------
    def _list_webhooks(self, request: Request) -> Response:
        hooks = list(self._merchant(request).webhooks.values())
        return json_response(copy.deepcopy(hooks) or None)  # an empty list comes back as literal null

    def _create_webhook(self, request: Request) -> Response:
        merchant = self._merchant(request)
        return json_response(self._store_webhook(merchant, _webhook_input(_camel(request.json_object()))))

    def _get_webhook(self, request: Request) -> Response:
        return json_response(copy.deepcopy(self._webhook(request)))

    def _update_webhook(self, request: Request) -> Response:
        hook = self._webhook(request)
        changes = {key: value for key, value in _camel(request.json_object()).items() if value is not None}
        hook.update(_webhook_input({**hook, **changes}))
        return json_response(copy.deepcopy(hook))

    def _delete_webhook(self, request: Request) -> Response:
        hook = self._webhook(request)
        del self._merchant(request).webhooks[hook["id"]]
        return empty_response()

    def _webhook(self, request: Request) -> dict[str, Any]:
        hook = self._merchant(request).webhooks.get(request.params["id"])
        if hook is None:
            raise HttpError(404, f"Webhook '{request.params['id']}' not found")
        return hook

    @staticmethod
    def _store_webhook(merchant: _Merchant, hook: dict[str, Any]) -> dict[str, Any]:
        stored = {"id": str(uuid.uuid4()), **hook}
        merchant.webhooks[stored["id"]] = stored
        return copy.deepcopy(stored)

    # -- warehouse ---------------------------------------------------------------------------------
    def _transition(self, merchant: _Merchant, order: _Order, status: str) -> None:
        """Apply a warehouse status change: deduct stock at collecting, assign tracking at shipped."""
        previous = order.doc["status"]
        if status == "collecting" and previous != "collecting":
            for line in order.doc["orderLines"]:
                product = merchant.products.get(line["code"])
                if product is not None:
                    product.stock = max(0, product.stock - int(line["quantity"]))
        order.doc["status"], order.edit_time = status, self.now()
        self._touch_stock(merchant, _codes(order.doc))
        if status == "shipped" and previous != "shipped":
            self._assign_tracking(order)
            merchant.events.append(_shipped_event(order))

    def _assign_tracking(self, order: _Order) -> None:
        self._shipped_count += 1
        codes = [f"JJFI64{self._shipped_count:010d}01"]
        if self.multi_parcel_every and self._shipped_count % self.multi_parcel_every == 0:
            codes.append(f"JJFI64{self._shipped_count:010d}02")
        order.doc["trackingNumber"] = ",".join(codes)
        order.doc["trackingUrl"] = f"https://www.posti.fi/fi/seuranta#/lahetys/{codes[0]}"

    def _touch_stock(self, merchant: _Merchant, codes: Iterable[str]) -> None:
        now = self.now()
        for code in codes:
            if code in merchant.products:
                merchant.products[code].stock_modified = now

    def _reserved(self, merchant: _Merchant, code: str) -> int:
        return sum(
            int(line["quantity"])
            for order in merchant.orders.values()
            if order.doc["status"] in RESERVING_STATUSES
            for line in order.doc["orderLines"]
            if line["code"] == code
        )

    def _render_product(self, merchant: _Merchant, product: _Product) -> dict[str, Any]:
        reserved = self._reserved(merchant, product.doc["code"])
        return {
            **copy.deepcopy(product.doc),
            "stock": product.stock,
            "stockAvailable": product.stock - reserved,
            "reserved": reserved,
            "stockUpdate": 0,
            "stockUpdateTime": None,
            "editTime": _iso(product.edit_time),
        }

    def _stock_row(self, merchant: _Merchant, product: _Product) -> dict[str, Any]:
        reserved = self._reserved(merchant, product.doc["code"])
        return {
            "productCode": product.doc["code"],
            "stock": product.stock,
            "stockAvailable": product.stock - reserved,
            "reserved": reserved,
            "modified": _iso(product.stock_modified),
        }

    # -- lookups -----------------------------------------------------------------------------------
    def _merchant(self, request: Request) -> _Merchant:
        return self._merchants[str(request.principal)]

    def _merchant_by_id(self, merchant_id: str) -> _Merchant:
        try:
            return self._merchants[merchant_id]
        except KeyError:
            raise KeyError(f"unknown merchant {merchant_id}") from None

    @staticmethod
    def _product_by_code(merchant: _Merchant, code: str) -> _Product:
        try:
            return merchant.products[code]
        except KeyError:
            raise KeyError(f"unknown product {code} of merchant {merchant.merchant_id}") from None

    # -- control surface -----------------------------------------------------------------------------
    def _control_advance(self, request: Request) -> Response:
        return json_response({"moves": self.call_with_json(request, self.advance)})

    def _control_add_merchant(self, request: Request) -> Response:
        self.call_with_json(request, self.add_merchant)
        return json_response({"added": True})

    def _control_add_product(self, request: Request) -> Response:
        return json_response(self.call_with_json(request, self.add_product))

    def _control_set_stock(self, request: Request) -> Response:
        return json_response(self.call_with_json(request, self.set_stock))

    def _control_deliver(self, request: Request) -> Response:
        return json_response({"deliveries": [record.to_json() for record in self.deliver_webhooks()]})


# -- module helpers -------------------------------------------------------------------------------------
def _oauth_error(error: str, description: str | None = None) -> Response:
    body = {"error": error} if description is None else {"error": error, "error_description": description}
    return json_response(body, 400)


def _oauth_failure(description: str) -> HttpError:
    return HttpError(400, description, {"error": "invalid_grant", "error_description": description})


def _text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _camel(data: Mapping[str, Any]) -> dict[str, Any]:
    """Lower-case the first letter of each key (PascalCase from the .NET SDK is accepted, as inferred)."""
    return {key[:1].lower() + key[1:]: value for key, value in data.items()}


def _order_input(data: Mapping[str, Any]) -> dict[str, Any]:
    doc = {key: value for key, value in _camel(data).items() if key in ORDER_FIELDS}
    for name in ("customer", "cashOnDelivery"):
        if isinstance(doc.get(name), dict):
            doc[name] = _camel(doc[name])
    for name in ("orderLines", "documents"):
        if isinstance(doc.get(name), list):
            doc[name] = [_camel(item) if isinstance(item, dict) else item for item in doc[name]]
    return doc


def _product_input(data: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in _camel(data).items() if key in PRODUCT_FIELDS}


def _webhook_input(data: Mapping[str, Any]) -> dict[str, Any]:
    hook = {name: data.get(name) for name in WEBHOOK_FIELDS}
    if not isinstance(hook["url"], str) or not hook["url"].startswith(("http://", "https://")):
        raise HttpError(400, "Webhook url must start with http:// or https://")
    if hook["type"] not in WEBHOOK_TYPES:
        raise HttpError(400, f"Webhook type must be one of {', '.join(WEBHOOK_TYPES)}")
    hook["key"] = hook["key"] or ""
    headers = hook["customHeaders"] or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise HttpError(400, "customHeaders must be an object of strings")
    hook["customHeaders"] = headers
    return hook


def _check_customer(customer: Any) -> None:
    if not isinstance(customer, dict):
        raise HttpError(400, "Customer is required")
    for name in ("name", "address1", "city", "countryCode"):
        if not _text(customer.get(name)):
            raise HttpError(400, f"Customer {name} is required")


def _check_product(doc: Mapping[str, Any]) -> None:
    for name in ("code", "name"):
        if not _text(doc.get(name)):
            raise HttpError(400, f"Product {name} is required")
    language = doc.get("languageCode")
    if not isinstance(language, str) or len(language) != 2:
        raise HttpError(400, "Product languageCode is required (2 letters)")


def _codes(doc: Mapping[str, Any]) -> set[str]:
    return {str(line["code"]) for line in doc.get("orderLines") or []}


def _render_order(order: _Order) -> dict[str, Any]:
    return {**copy.deepcopy(order.doc), "editTime": _iso(order.edit_time)}


def _shipped_event(order: _Order) -> dict[str, Any]:
    # assumption: the callback schema is undocumented (reference §6); this shape is ours
    doc = order.doc
    return {
        "type": "OrderShipped",
        "reference": doc["reference"],
        "trackingNumber": doc["trackingNumber"],
        "trackingUrl": doc["trackingUrl"],
        "status": "shipped",
        "editTime": _iso(order.edit_time),
    }


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _since(query: Mapping[str, str]) -> datetime | None:
    raw = query.get("modifiedAfter", "")
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise HttpError(400, "modifiedAfter must be an ISO-8601 date-time") from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # uncertain: offset-less values taken as UTC


def _page(rows: list[T], query: Mapping[str, str]) -> list[T]:
    try:
        limit = int_param(query, "limit", 50, minimum=1, maximum=250)
        page = int_param(query, "page", 1, minimum=1)
    except ValueError as exc:
        raise HttpError(400, str(exc)) from None
    return rows[(page - 1) * limit : page * limit]


def _b64url_decode(value: str) -> str:
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise HttpError(400, "Product code is not valid base64url") from None
