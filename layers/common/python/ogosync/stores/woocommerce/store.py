"""The WooCommerce store adapter: the whole store port over the REST API wc/v3 (client.py) for one shop. API facts
with their sources: docs/api/woocommerce.md.

- Orders: polled with `modified_after` (UTC, `dates_are_gmt=true`), paged in id order, so an order changed while
  the pages are read stays on its page (the filter only ever gains orders). Webhooks are only hints.
- Products: every simple product, and every variation of a variable product (its own listing), `_fields` trimmed.
- Stock: `stock_quantity` with `manage_stock: true` through `POST /products/batch` and, for variations,
  `POST /products/{id}/variations/batch`: 100 items a call; on a 413 the shop's limit as its message names it
  ("Unable to accept more than N items"), else half, remembered while the store is cached. A 200 answer can carry
  refused items (an element with `error`): each element is checked, an unknown id is `not_found`, another refusal
  is logged and left unwritten (the next run writes it again). WooCommerce has no compare-and-swap, so `stale`
  stays empty: a sale between the engine's read and the write is corrected by the next run.
- Tracking: ONE `PUT /orders/{id}` with the meta keys OGOship's plugin shows (`ogoship_tracking`,
  `ogoship_tracking_url`, `_ogoship_tracking_status`), our marker `_ogosync_shipped` and, as the options say,
  status `completed`. It is the write that marks the order shipped and is never repeated on an unknown outcome:
  shipped_already finds it by the meta. The customer note and the Shipment Tracking extension's entries follow
  it, best effort, never retried into a second shipment. A note POST answered with a 5xx or 429 is sent again (at
  most NOTE_ATTEMPTS in all) only once a read of the order's customer notes shows it did not land, so such an
  answer neither loses the note nor sends it twice; a POST left without an answer (a timeout) is not followed up,
  since the site may still be adding the note. Uncertain: the note is recognised by its words ("Your order has
  been shipped" and every tracking number), which assumes the shop's filters leave those words as they are. Not
  covered: a shipment found already written on a retry (its PUT's answer was lost) gets no note, since
  shipped_already is only told the order id. Whether the extension is active is read from the REST index at
  most every `INDEX_MAX_AGE` (the store lives as long as its Lambda container), so an extension installed later
  gets its entries within that time.
- Webhooks: ours are those whose delivery URL ends with this integration's route (`/webhooks/woocommerce/<id>`).
  WooCommerce never retries a delivery and disables a webhook after repeated failures; `switched_off_webhooks`
  names ours that are not active, for the status (docs/api/woocommerce.md, "Webhooks").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from aws_lambda_powertools import Logger

from ogosync.errors import (
    NotFoundError,
    PlatformError,
    RejectedByPlatformError,
    TransientPlatformError,
    UnreadableRecordError,
)
from ogosync.models import (
    ShipmentToPush,
    ShippedLine,
    StockBatchResult,
    StockToPublish,
    StoreOrder,
    StoreProduct,
    StoreShipment,
    StoreStockWrite,
    UnidentifiedOrder,
    UnreadableOrder,
)
from ogosync.stores.lines import StoreLine, match_lines
from ogosync.stores.woocommerce.client import PLATFORM, WooCommerceClient
from ogosync.stores.woocommerce.mapping import (
    CANCELLED_STATUSES,
    OrderContext,
    is_variable,
    meta_value,
    order_line_items,
    parse_order,
    parse_product,
    parse_variation,
    record_id,
)
from ogosync.stores.woocommerce.options import WooCommerceOptions
from ogosync.timeutil import Clock, utc_now

logger = Logger(service="ogosync", child=True)

STOCK_BATCH_SIZE = 100  # WooCommerce's default limit of items per batch call (docs/api/woocommerce.md, "Batch")
INDEX_MAX_AGE = timedelta(minutes=15)  # how long the REST index's namespaces (the extensions) are trusted
TRACKING_META = "ogoship_tracking"
TRACKING_URL_META = "ogoship_tracking_url"
TRACKING_STATUS_META = "_ogoship_tracking_status"
TRACKING_STATUS = "Shipped"  # (uncertain) OGOship's own connector writes its status words here
SHIPPED_META = "_ogosync_shipped"  # ours: marks the shipment written even when myOGO gave no tracking number
SHIPMENT_TRACKING_NAMESPACE = "wc-shipment-tracking/v3"
NOTE_ATTEMPTS = 3  # POSTs of one customer note at most, each after the first only once a read shows none landed
SHIPPED_WORDS = "Your order has been shipped"  # how every shipment note starts (shipment_note)
ORDER_FIELDS = (
    "id,status,currency,total,date_created_gmt,date_modified_gmt,customer_note,billing,shipping,"
    "line_items,shipping_lines"
)
PRODUCT_FIELDS = (
    "id,type,status,name,sku,global_unique_id,price,description,short_description,permalink,images,meta_data"
)
VARIATION_FIELDS = "id,status,sku,global_unique_id,price,description,permalink,image,attributes,meta_data"
SHIPMENT_FIELDS = "id,status,line_items,meta_data"
WEBHOOK_FIELDS = "id,name,status,topic,delivery_url"
WEBHOOK_ROUTE = "/webhooks/woocommerce/"  # ogosync's route for WooCommerce deliveries, before the integration id
_SWITCHED_OFF_BECAUSE = {
    "disabled": "WooCommerce disabled it after failed deliveries",
    "paused": "someone paused it",
}
_UNKNOWN_ID = re.compile(r"^woocommerce_rest_(invalid_[a-z_]*id|[a-z_]*_invalid_id)$")
_NUMBER = re.compile(r"[0-9]+")


class WooCommerceStore:
    """One WooCommerce shop."""

    def __init__(
        self, client: WooCommerceClient, options: WooCommerceOptions, *, integration_id: str, clock: Clock = utc_now
    ) -> None:
        self._client = client
        self._options = options
        self._webhook_path = f"{WEBHOOK_ROUTE}{integration_id}"
        self._clock = clock
        self._context = OrderContext(frozenset(options.paid_statuses))
        self._namespaces: frozenset[str] | None = None
        self._namespaces_read_at = datetime.min.replace(tzinfo=UTC)
        self._batch_size = STOCK_BATCH_SIZE

    def close(self) -> None:
        self._client.close()

    # ---- access ---------------------------------------------------------------------------------------

    def check_access(self) -> None:
        """The REST index (pretty permalinks, wc/v3 served), a read with the key, and an empty batch write that
        only a key with write permission may send (it changes nothing)."""
        namespaces = self._read_namespaces()
        if "wc/v3" not in namespaces:
            raise PlatformError(
                PLATFORM, "the shop's REST API does not serve wc/v3: is WooCommerce (3.5 or later) active?"
            )
        self._client.call("GET", "orders", params={"per_page": 1, "_fields": "id"})
        self._client.call("POST", "products/batch", json={"update": []})
        if self._client.keys_in_query:
            logger.warning(
                "WooCommerce: the server strips the Authorization header; ogosync sends the keys in the query string"
            )

    def _read_namespaces(self) -> frozenset[str]:
        now = self._clock()
        if self._namespaces is None or now - self._namespaces_read_at >= INDEX_MAX_AGE:
            response = self._client.index()
            index: Any = None
            if response.status_code == 200:
                try:
                    index = response.json()
                except ValueError:
                    index = None
            found = index.get("namespaces") if isinstance(index, dict) else None
            if not isinstance(found, list):
                raise PlatformError(
                    PLATFORM,
                    f"GET /wp-json/ answered {response.status_code} without the REST API's index: check the store URL "
                    "(the shop's root) and set WordPress -> Settings -> Permalinks to anything but Plain",
                    response.status_code,
                )
            self._namespaces = frozenset(name for name in found if isinstance(name, str))
            self._namespaces_read_at = now
        return self._namespaces

    # ---- webhooks -------------------------------------------------------------------------------------

    def switched_off_webhooks(self) -> list[str]:
        """Our webhooks that WooCommerce no longer delivers (`disabled` or `paused`), with what to do."""
        switched_off = []
        for page in self._client.pages("webhooks", {"_fields": WEBHOOK_FIELDS}):
            for raw in page:
                hook = _mapping(raw)
                status = str(hook.get("status") or "")
                if status != "active" and self._ours(hook):
                    switched_off.append(
                        f"webhook {hook.get('id')} {str(hook.get('name') or '')[:60]!r} ({hook.get('topic')}) is "
                        f"{status or 'not active'}: {_SWITCHED_OFF_BECAUSE.get(status, 'it delivers nothing')}; in "
                        "WordPress, WooCommerce -> Settings -> Advanced -> Webhooks, set its status to Active"
                    )
        return switched_off

    def _ours(self, hook: Mapping[str, Any]) -> bool:
        url = hook.get("delivery_url")
        return isinstance(url, str) and urlsplit(url).path.rstrip("/").endswith(self._webhook_path)

    # ---- orders ---------------------------------------------------------------------------------------

    def orders_placed_since(self, since: datetime) -> Iterator[StoreOrder | UnreadableOrder | UnidentifiedOrder]:
        """Every order created or changed after `since` (to the second, rounded down)."""
        params = {
            "modified_after": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            "dates_are_gmt": "true",
            "orderby": "id",
            "order": "asc",
            "_fields": ORDER_FIELDS,
        }
        for page in self._client.pages("orders", params):
            for raw in page:
                yield self._read_listed(raw)

    def get_order(self, order_id: str) -> StoreOrder | UnreadableOrder | None:
        raw = self._order_raw(order_id, ORDER_FIELDS)
        return None if raw is None else self._read(order_id, raw)

    def _read_listed(self, raw: Any) -> StoreOrder | UnreadableOrder | UnidentifiedOrder:
        order_id = record_id(raw)
        if order_id is None:
            shown = repr(raw.get("id") if isinstance(raw, Mapping) else raw)[:60]
            return UnidentifiedOrder(problem=f"an order without a usable id: {shown}")
        return self._read(order_id, raw)

    def _read(self, order_id: str, raw: Any) -> StoreOrder | UnreadableOrder:
        try:
            return parse_order(raw, self._context)
        except UnreadableRecordError as exc:
            return UnreadableOrder(order_id=order_id, problem=exc.detail)

    def _order_raw(self, order_id: str, fields: str, deadline: datetime | None = None) -> Mapping[str, Any] | None:
        if not order_id.isdigit() or not order_id.isascii():
            return None
        try:
            found = self._client.json("GET", f"orders/{order_id}", params={"_fields": fields}, deadline=deadline)
        except NotFoundError:
            return None
        return found if isinstance(found, Mapping) else None

    # ---- products -------------------------------------------------------------------------------------

    def products(self) -> Iterator[StoreProduct]:
        """Every simple product and every variation, in pages of 100 (a variable product's variations apart)."""
        currency = self._currency()
        unreadable = 0
        for page in self._client.pages("products", {"_fields": PRODUCT_FIELDS}):
            for raw in page:
                try:
                    if is_variable(raw):
                        yield from self._variations(raw, currency)
                    elif (product := parse_product(raw, currency)) is not None:
                        yield product
                except UnreadableRecordError as exc:
                    unreadable += 1
                    logger.warning("unreadable WooCommerce product", extra={"problem": exc.detail[:300]})
        if unreadable:
            logger.warning("WooCommerce products skipped as unreadable", extra={"count": unreadable})

    def _variations(self, parent: Mapping[str, Any], currency: str | None) -> Iterator[StoreProduct]:
        parent_id = record_id(parent)
        if parent_id is None:
            raise UnreadableRecordError(PLATFORM, "a variable product without a usable id")
        for page in self._client.pages(f"products/{parent_id}/variations", {"_fields": VARIATION_FIELDS}):
            for raw in page:
                try:
                    variation = parse_variation(raw, parent, currency)
                except UnreadableRecordError as exc:
                    logger.warning("unreadable WooCommerce variation", extra={"problem": exc.detail[:300]})
                    continue
                if variation is not None:
                    yield variation

    def _currency(self) -> str | None:
        """The shop's currency: `GET data/currencies/current`, else the system status's `settings.currency`; None
        when the shop says neither."""
        for path, fields in (("data/currencies/current", "code"), ("system_status", "settings")):
            try:
                found = self._client.json("GET", path, params={"_fields": fields})
            except (NotFoundError, RejectedByPlatformError):
                continue
            answer = _mapping(found)
            code = answer.get("code") if fields == "code" else _mapping(answer.get("settings")).get("currency")
            if isinstance(code, str) and code.strip():
                return code.strip().upper()
        return None

    # ---- stock ----------------------------------------------------------------------------------------

    def publish_stock(self, items: Sequence[StockToPublish]) -> Iterator[StockBatchResult]:
        """`stock_quantity` (managed) of each item, simple products and each product's variations in their own
        batch calls; a batch is yielded once WooCommerce answered it."""
        unaddressed = [item.binding.sku for item in items if _batch_path(item.binding.store_ids) is None]
        if unaddressed:
            yield StockBatchResult(not_found=unaddressed)
        groups: dict[str, list[StockToPublish]] = {}
        for item in items:
            path = _batch_path(item.binding.store_ids)
            if path is not None:
                groups.setdefault(path, []).append(item)
        for path, group in groups.items():
            yield from self._publish_group(path, group)

    def _publish_group(self, path: str, items: Sequence[StockToPublish]) -> Iterator[StockBatchResult]:
        start = 0
        while start < len(items):
            batch = items[start : start + self._batch_size]
            try:
                result = self._publish_batch(path, batch)
            except RejectedByPlatformError as exc:
                if exc.status != 413 or self._batch_size == 1:
                    raise
                self._batch_size = smaller_batch(exc.detail, self._batch_size)
                logger.warning("WooCommerce refused a batch as too large", extra={"batch_size": self._batch_size})
                continue
            except NotFoundError:
                if "variations" not in path:
                    raise
                result = StockBatchResult(not_found=[item.binding.sku for item in batch])  # the parent is gone
            start += len(batch)
            yield result

    def _publish_batch(self, path: str, batch: Sequence[StockToPublish]) -> StockBatchResult:
        key = "variation" if "variations" in path else "product"
        updates = [
            {"id": int(item.binding.store_ids[key]), "manage_stock": True, "stock_quantity": item.quantity}
            for item in batch
        ]
        answer = self._client.json("POST", path, json={"update": updates})
        elements = answer.get("update") if isinstance(answer, Mapping) else None
        if not isinstance(elements, list):
            raise PlatformError(PLATFORM, f"POST {path} answered without an update list")
        by_id = {record_id(element): element for element in elements if isinstance(element, Mapping)}
        written: list[StoreStockWrite] = []
        not_found: list[str] = []
        for item in batch:
            element = by_id.get(item.binding.store_ids[key])
            outcome = _stock_outcome(element)
            if outcome == "written" and element is not None:
                quantity = element.get("stock_quantity")
                shown = quantity if isinstance(quantity, int) and not isinstance(quantity, bool) else item.quantity
                written.append(StoreStockWrite(sku=item.binding.sku, quantity=item.quantity, store_quantity=shown))
            elif outcome == "not_found":
                not_found.append(item.binding.sku)
            else:
                logger.warning(
                    "WooCommerce did not write a stock item", extra={"sku": item.binding.sku, "why": outcome}
                )
        return StockBatchResult(written=written, not_found=not_found)

    # ---- tracking -------------------------------------------------------------------------------------

    def shipped_already(self, order_id: str) -> StoreShipment | None:
        """Our shipment write on the order (its meta), else None."""
        return _our_shipment(order_id, self._order_for_shipment(order_id, None))

    def push_shipment(
        self,
        order_id: str,
        lines: Sequence[ShippedLine],
        shipment: ShipmentToPush,
        *,
        before_write: Callable[[], None],
        deadline: datetime | None,
    ) -> StoreShipment:
        """One read, then ONE `PUT /orders/{id}` (meta and status); the note and extension entries after it."""
        order = self._order_for_shipment(order_id, deadline)
        shipped = _our_shipment(order_id, order)
        if shipped is not None:
            return shipped.model_copy(update={"already_shipped": True})
        status = str(order.get("status") or "")
        if status in CANCELLED_STATUSES:
            raise RejectedByPlatformError(PLATFORM, f"order {order_id} is {status} in WooCommerce: nothing is shipped")
        match_lines(order_id, [StoreLine(*line) for line in order_line_items(order)], lines)
        numbers = [number for number in shipment.tracking_numbers if number]
        tracking = ", ".join(numbers)
        meta = [
            {"key": TRACKING_META, "value": tracking},
            {"key": TRACKING_URL_META, "value": shipment.tracking_url or ""},
            {"key": TRACKING_STATUS_META, "value": TRACKING_STATUS},
            {"key": SHIPPED_META, "value": tracking or "shipped"},
        ]
        update: dict[str, Any] = {"meta_data": meta}
        if self._options.complete_order:
            update["status"] = "completed"
        before_write()
        self._client.call(
            "PUT", f"orders/{order_id}", params={"_fields": "id"}, json=update, idempotent=False, deadline=deadline
        )
        self._after_shipment(order_id, shipment, numbers)
        return StoreShipment(shipment_id=order_id, shipped=True, tracking=tracking or None)

    def _after_shipment(self, order_id: str, shipment: ShipmentToPush, numbers: Sequence[str]) -> None:
        """The customer note and the Shipment Tracking entries: best effort, after the write that ships."""
        if self._options.customer_note:
            self._add_note(order_id, shipment_note(shipment, numbers), numbers)
        try:
            has_extension = SHIPMENT_TRACKING_NAMESPACE in self._read_namespaces()
        except PlatformError:
            has_extension = False
        for number in numbers if has_extension else []:
            entry = {
                "custom_tracking_provider": shipment.carrier or "",
                "custom_tracking_link": shipment.tracking_url or "",
                "tracking_number": number,
            }
            try:
                self._client.plugin_json(
                    "POST", f"{SHIPMENT_TRACKING_NAMESPACE}/orders/{order_id}/shipment-trackings", json=entry
                )
            except PlatformError as exc:
                logger.warning("Shipment Tracking entry not added", extra={"order": order_id, "error": str(exc)[:300]})

    def _add_note(self, order_id: str, text: str, numbers: Sequence[str]) -> None:
        """The customer note, once: after a POST answered with a transient error (5xx, 429) the order's customer
        notes are read, and the POST is sent again only when none of them is this shipment's. A call left without
        an answer (a timeout) is not followed up: the site may still be adding the note, and a read now would not
        show it. Every failure is logged."""
        for attempt in range(1, NOTE_ATTEMPTS + 1):
            try:
                if attempt > 1 and self._has_shipment_note(order_id, numbers):
                    return
                self._client.call(
                    "POST", f"orders/{order_id}/notes", json={"note": text, "customer_note": True}, idempotent=False
                )
                return
            except PlatformError as exc:
                logger.warning(
                    "WooCommerce order note not added",
                    extra={"order": order_id, "attempt": attempt, "error": str(exc)[:300]},
                )
                if not isinstance(exc, TransientPlatformError) or exc.status is None:
                    return

    def _has_shipment_note(self, order_id: str, numbers: Sequence[str]) -> bool:
        notes = self._client.json("GET", f"orders/{order_id}/notes", params={"type": "customer"})
        if not isinstance(notes, list):
            raise PlatformError(PLATFORM, f"GET orders/{order_id}/notes answered without a list")
        return any(_is_shipment_note(note, numbers) for note in notes)

    def _order_for_shipment(self, order_id: str, deadline: datetime | None) -> Mapping[str, Any]:
        found = self._order_raw(order_id, SHIPMENT_FIELDS, deadline)
        if found is None:
            raise RejectedByPlatformError(PLATFORM, f"order {order_id} does not exist in WooCommerce")
        return found


def shipment_note(shipment: ShipmentToPush, numbers: Sequence[str]) -> str:
    """The customer note: carrier, tracking codes and link."""
    parts = [f"{SHIPPED_WORDS}{f' with {shipment.carrier}' if shipment.carrier else ''}."]
    if numbers:
        parts.append(f"Tracking: {', '.join(numbers)}.")
    if shipment.tracking_url:
        parts.append(shipment.tracking_url)
    return " ".join(parts)


def smaller_batch(refusal: str, size: int) -> int:
    """The batch size after a 413: the shop's limit when its refusal names one number below `size` (WooCommerce's
    "Unable to accept more than N items for this request.", translated with the number as it is), else half."""
    numbers = [int(number) for number in _NUMBER.findall(refusal)]
    if len(numbers) == 1 and 1 <= numbers[0] < size:
        return numbers[0]
    return max(1, size // 2)


def _is_shipment_note(note: Any, numbers: Sequence[str]) -> bool:
    """Whether a listed order note is a customer note of this shipment (our words and every tracking number)."""
    if not isinstance(note, Mapping) or note.get("customer_note") is not True:
        return False
    text = note.get("note")
    return isinstance(text, str) and SHIPPED_WORDS in text and all(number in text for number in numbers)


def _our_shipment(order_id: str, order: Mapping[str, Any]) -> StoreShipment | None:
    tracking = meta_value(order, TRACKING_META)
    if not tracking and not meta_value(order, SHIPPED_META):
        return None
    return StoreShipment(shipment_id=order_id, shipped=True, tracking=tracking or None)


def _stock_outcome(element: Mapping[str, Any] | None) -> str:
    """What WooCommerce did with one item of a batch: "written", "not_found", or the refusal's code."""
    if element is None:
        return "missing from the answer"
    error = element.get("error")
    if error is None:
        return "written"
    code = error.get("code") if isinstance(error, Mapping) else None
    if isinstance(code, str) and _UNKNOWN_ID.match(code):
        return "not_found"
    return str(code or "error")[:100]


def _batch_path(ids: Mapping[str, str]) -> str | None:
    """The batch route of an item by its store ids; None when they do not name a product (or variation)."""
    product, variation = ids.get("product"), ids.get("variation")
    if not _digits(product) or (variation is not None and not _digits(variation)):
        return None
    return f"products/{product}/variations/batch" if variation else "products/batch"


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _digits(value: str | None) -> bool:
    return value is not None and value.isdigit() and value.isascii()
