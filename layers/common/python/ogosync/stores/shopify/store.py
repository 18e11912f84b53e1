"""The Shopify store adapter: the whole store port over the GraphQL Admin API (client.py), for one shop and the
one location that is the merchant's myOGO warehouse. API facts with their sources: docs/api/shopify.md.

- Orders: polled with the search `updated_at:>'<since>'` (placed or changed), in cursor pages sized by what the
  previous page cost; an order whose nested pages did not fit is read again alone with larger ones.
- Products: one bulk operation over productVariants (started, polled with backoff, its JSONL downloaded). A bulk
  operation of ours still running (an earlier run timed out waiting) is awaited, not started twice.
- Stock: `available` at our location, written with inventorySetQuantities under compare-and-swap: each item's
  `changeFromQuantity` is the value read just before, so a sale in between makes Shopify refuse that item
  (CHANGE_FROM_QUANTITY_STALE) instead of overwriting it; such SKUs come back as `stale`, not written. Each call
  carries a fresh `@idempotent` key. Whether Shopify applies the other items of a call when one is refused is
  not documented: when it reports no adjustment group, the others are sent again in a new call (bounded).
- Tracking: one fulfillmentCreate for the lines myOGO shipped, matched by SKU to the open fulfillment-order lines
  at our location; never repeated on an unknown outcome (the engine asks shipped_already first).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from ogosync.errors import (
    AuthenticationError,
    NotFoundError,
    OrderNotReadyError,
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
from ogosync.stores.shopify import documents
from ogosync.stores.shopify.client import PLATFORM, ShopifyClient, rejected, user_errors
from ogosync.stores.shopify.mapping import (
    OrderContext,
    TruncatedOrderError,
    gid,
    order_id_of,
    parse_order,
    parse_variant,
)
from ogosync.stores.shopify.options import ShopifyOptions
from ogosync.stores.shopify.version import API_VERSION

logger = Logger(service="ogosync", child=True)

STOCK_BATCH_SIZE = 250  # Shopify's limit on an input array (docs/api/shopify.md, "Limits")
MAX_QUERY_COST = 1000.0  # a single query may not ask for more points
ORDER_PAGE_LIMITS = (1, 50)  # orders per page, at least and at most
# A page's requested cost is about first x (cost of one order), an order's about fulfillmentOrders x (6 + 4 x
# lineItems) + 10 (docs/api/shopify.md, "Cost and throttling"): a listing reads ~105 points an order, so a first
# page of 5 fits under MAX_QUERY_COST and the next pages are sized by what it cost; an order whose nested pages do
# not fit is read alone with larger ones (~840 points).
FIRST_ORDER_PAGE = 5
LIST_NESTED = {"fulfillmentOrders": 2, "lineItems": 10}
SINGLE_NESTED = {"fulfillmentOrders": 4, "lineItems": 50}
COST_MARGIN = 0.95  # of MAX_QUERY_COST a page is sized to ask for
BULK_POLL_DELAYS_S = (1.0, 2.0, 4.0, 8.0, 15.0, 30.0)  # then 30 s per poll
BULK_POLL_BUDGET_S = 300.0  # waiting longer fails the run; the next run awaits the same operation
STOCK_ROUNDS = 3  # calls per batch when Shopify refuses some items of a call and applies none
NOT_STOCKED_CODES = frozenset({"ITEM_NOT_STOCKED_AT_LOCATION", "INVALID_INVENTORY_ITEM"})
STALE_CODE = "CHANGE_FROM_QUANTITY_STALE"
FAILED_FULFILLMENTS = frozenset({"CANCELLED", "ERROR", "FAILURE"})
FULFILLABLE = frozenset({"OPEN", "IN_PROGRESS"})


class ShopifyStore:
    """One Shopify shop, its warehouse being `options.location_id`."""

    def __init__(
        self,
        client: ShopifyClient,
        options: ShopifyOptions,
        *,
        sleep: Callable[[float], None] = time.sleep,
        new_key: Callable[[], str] = lambda: str(uuid.uuid4()),
    ) -> None:
        self._client = client
        self._options = options
        self._location = options.location_id
        self._context = OrderContext(options.location_id, frozenset(options.paid_statuses))
        self._sleep = sleep
        self._new_key = new_key

    def close(self) -> None:
        self._client.close()

    # ---- access ---------------------------------------------------------------------------------------

    def check_access(self) -> None:
        """One call that needs the token, the location and the pinned API version; a clear error for each."""
        try:
            answer = self._client.execute(documents.CHECK_ACCESS, {"locationId": self._location})
        except NotFoundError as exc:
            raise PlatformError(
                PLATFORM,
                f"nothing answers at /admin/api/{API_VERSION}/graphql.json: check the store URL "
                f"(https://<shop>.myshopify.com) and that Shopify still serves API version {API_VERSION}",
                exc.status,
            ) from exc
        if answer.api_version and answer.api_version != API_VERSION:
            raise PlatformError(
                PLATFORM, f"Shopify answers with API version {answer.api_version}, not {API_VERSION}: update ogosync"
            )
        location = answer.data.get("location")
        if not isinstance(location, Mapping):
            raise PlatformError(
                PLATFORM, f"location {self._location} is not in this shop (or read_locations is missing)"
            )
        if location.get("isActive") is not True:
            raise PlatformError(PLATFORM, f"location {self._location} ({location.get('name')}) is not active")

    # ---- orders ---------------------------------------------------------------------------------------

    def orders_placed_since(self, since: datetime) -> Iterator[StoreOrder | UnreadableOrder | UnidentifiedOrder]:
        """Every order placed or changed after `since`, by the `updated_at` search (seconds rounded down)."""
        search = f"updated_at:>'{since.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"
        after: str | None = None
        first = FIRST_ORDER_PAGE
        while True:
            variables = {"first": first, "after": after, "query": search, **LIST_NESTED}
            answer = self._client.execute(documents.ORDERS_UPDATED_SINCE, variables)
            orders = _mapping(answer.data.get("orders"))
            for raw in _list(orders.get("nodes")):
                yield self._read_listed(raw)
            page = _mapping(orders.get("pageInfo"))
            after = page.get("endCursor") if isinstance(page.get("endCursor"), str) else None
            if page.get("hasNextPage") is not True or after is None:
                return
            first = _page_size(answer.requested_cost, first)

    def get_order(self, order_id: str) -> StoreOrder | UnreadableOrder | None:
        raw = self._order_raw(order_id)
        return None if raw is None else self._read(order_id, raw)

    def _read_listed(self, raw: Mapping[str, Any]) -> StoreOrder | UnreadableOrder | UnidentifiedOrder:
        order_id = order_id_of(raw)
        if order_id is None:
            return UnidentifiedOrder(problem=f"an order without a usable id: {_shown(raw.get('id'))}")
        try:
            return parse_order(raw, self._context)
        except TruncatedOrderError:
            alone = self._order_raw(order_id)
            return (
                UnreadableOrder(order_id=order_id, problem="gone from Shopify")
                if alone is None
                else self._read(order_id, alone)
            )
        except UnreadableRecordError as exc:
            return UnreadableOrder(order_id=order_id, problem=exc.detail)

    def _read(self, order_id: str, raw: Mapping[str, Any]) -> StoreOrder | UnreadableOrder:
        try:
            return parse_order(raw, self._context)
        except UnreadableRecordError as exc:
            return UnreadableOrder(order_id=order_id, problem=exc.detail)

    def _order_raw(self, order_id: str) -> Mapping[str, Any] | None:
        try:
            order_gid = gid("Order", order_id)
        except ValueError:
            return None
        answer = self._client.execute(documents.ORDER_BY_ID, {"id": order_gid, **SINGLE_NESTED})
        found = answer.data.get("order")
        return found if isinstance(found, Mapping) else None

    # ---- products -------------------------------------------------------------------------------------

    def products(self) -> Iterator[StoreProduct]:
        """Every variant, from one bulk operation (ours already running is awaited, not started again)."""
        currency = _mapping(self._client.execute(documents.SHOP_CURRENCY).data.get("shop")).get("currencyCode")
        url = self._await_bulk(self._running_bulk() or self._start_bulk())
        if url is None:  # completed with no object: an empty catalogue
            return
        unreadable = 0
        for line in self._client.download(url):
            try:
                row = json.loads(line)
                yield parse_variant(row, currency if isinstance(currency, str) else None)
            except (ValueError, UnreadableRecordError) as exc:
                unreadable += 1
                logger.warning("unreadable Shopify variant", extra={"problem": str(exc)[:300]})
        if unreadable:
            logger.warning("Shopify variants skipped as unreadable", extra={"count": unreadable})

    def _running_bulk(self) -> str | None:
        answer = self._client.execute(documents.BULK_OPERATIONS_RUNNING)
        ours = _compact(documents.PRODUCT_VARIANTS_BULK)
        for operation in _list(_mapping(answer.data.get("bulkOperations")).get("nodes")):
            if _compact(str(operation.get("query") or "")) == ours and isinstance(operation.get("id"), str):
                return str(operation["id"])
        return None

    def _start_bulk(self) -> str:
        answer = self._client.execute(
            documents.BULK_OPERATION_RUN_QUERY, {"query": documents.PRODUCT_VARIANTS_BULK}, mutation=True
        )
        payload = _mapping(answer.data.get("bulkOperationRunQuery"))
        errors = user_errors(payload)
        operation_id = _mapping(payload.get("bulkOperation")).get("id")
        if errors or not isinstance(operation_id, str):
            raise rejected("bulkOperationRunQuery", errors or [{"message": "no bulk operation started"}])
        return operation_id

    def _await_bulk(self, operation_id: str) -> str | None:
        """The result URL of the bulk operation once COMPLETED (None when it found nothing)."""
        waited = 0.0
        polls = 0
        while True:
            answer = self._client.execute(documents.BULK_OPERATION, {"id": operation_id})
            operation = _mapping(answer.data.get("bulkOperation"))
            status = operation.get("status")
            if status == "COMPLETED":
                url = operation.get("url")
                return url if isinstance(url, str) and url else None
            if status not in ("CREATED", "RUNNING"):
                raise _bulk_failure(operation_id, operation)
            delay = BULK_POLL_DELAYS_S[min(polls, len(BULK_POLL_DELAYS_S) - 1)]
            if waited + delay > BULK_POLL_BUDGET_S:
                raise TransientPlatformError(
                    PLATFORM, f"bulk operation {operation_id} still {status}: awaited next run"
                )
            self._sleep(delay)
            waited += delay
            polls += 1

    # ---- stock ----------------------------------------------------------------------------------------

    def publish_stock(self, items: Sequence[StockToPublish]) -> Iterator[StockBatchResult]:
        """`available` at our location, 250 items a call, each under compare-and-swap with the value just read."""
        unaddressed = [item.binding.sku for item in items if not item.binding.store_ids.get("inventory_item")]
        addressed = [item for item in items if item.binding.store_ids.get("inventory_item")]
        if unaddressed:
            yield StockBatchResult(not_found=unaddressed)
        for start in range(0, len(addressed), STOCK_BATCH_SIZE):
            yield self._publish_batch(addressed[start : start + STOCK_BATCH_SIZE])

    def _publish_batch(self, batch: Sequence[StockToPublish]) -> StockBatchResult:
        current = self._available([item.binding.store_ids["inventory_item"] for item in batch])
        not_found = [item.binding.sku for item in batch if item.binding.store_ids["inventory_item"] not in current]
        known = [item for item in batch if item.binding.store_ids["inventory_item"] in current]
        same = [item for item in known if current[item.binding.store_ids["inventory_item"]] == item.quantity]
        pending = [item for item in known if current[item.binding.store_ids["inventory_item"]] != item.quantity]
        stale: list[str] = []
        for _ in range(STOCK_ROUNDS):
            if not pending:
                break
            refused, applied = self._set_available(pending, current)
            stale += [item.binding.sku for index, item in enumerate(pending) if refused.get(index) == STALE_CODE]
            not_found += [
                item.binding.sku for index, item in enumerate(pending) if refused.get(index) in NOT_STOCKED_CODES
            ]
            if applied:
                same += [item for index, item in enumerate(pending) if index not in refused]
                pending = []
            else:
                pending = [item for index, item in enumerate(pending) if index not in refused]
        if pending:
            raise TransientPlatformError(PLATFORM, "inventorySetQuantities kept refusing a batch without applying it")
        written = [
            StoreStockWrite(sku=item.binding.sku, quantity=item.quantity, store_quantity=item.quantity) for item in same
        ]
        return StockBatchResult(written=written, not_found=not_found, stale=stale)

    def _available(self, item_ids: Sequence[str]) -> dict[str, int]:
        """The `available` quantity at our location of each item stocked there (unknown items are left out)."""
        answer = self._client.execute(documents.INVENTORY_LEVELS, {"ids": list(item_ids), "locationId": self._location})
        found: dict[str, int] = {}
        for node in _list(answer.data.get("nodes")):
            level = _mapping(node.get("inventoryLevel"))
            quantities = [row for row in _list(level.get("quantities")) if row.get("name") == "available"]
            value = quantities[0].get("quantity") if quantities else None
            if isinstance(node.get("id"), str) and isinstance(value, int) and not isinstance(value, bool):
                found[str(node["id"])] = value
        return found

    def _set_available(
        self, items: Sequence[StockToPublish], current: Mapping[str, int]
    ) -> tuple[dict[int, str], bool]:
        """One inventorySetQuantities call: the refused items by index (with their code), and whether Shopify
        applied the rest. RejectedByPlatformError for a refusal that names no item, or one of another kind."""
        key = self._new_key()
        quantities = [
            {
                "inventoryItemId": item.binding.store_ids["inventory_item"],
                "locationId": self._location,
                "quantity": item.quantity,
                "changeFromQuantity": current[item.binding.store_ids["inventory_item"]],
            }
            for item in items
        ]
        stock_input = {
            "name": "available",
            "reason": "correction",
            "referenceDocumentUri": f"gid://ogosync/StockSync/{key}",
            "quantities": quantities,
        }
        answer = self._client.execute(
            documents.INVENTORY_SET_QUANTITIES, {"input": stock_input, "idempotencyKey": key}, mutation=True
        )
        payload = _mapping(answer.data.get("inventorySetQuantities"))
        refused: dict[int, str] = {}
        for error in user_errors(payload):
            index = _quantity_index(error.get("field"), len(items))
            code = error.get("code")
            if index is None or code not in NOT_STOCKED_CODES | {STALE_CODE}:
                raise rejected("inventorySetQuantities", [error])
            refused[index] = str(code)
        return refused, not refused or isinstance(payload.get("inventoryAdjustmentGroup"), Mapping)

    # ---- tracking -------------------------------------------------------------------------------------

    def shipped_already(self, order_id: str) -> StoreShipment | None:
        """A fulfillment of the order at our location, not cancelled or failed, with a tracking number."""
        answer = self._client.execute(documents.ORDER_FULFILLMENTS, {"id": self._order_gid(order_id)})
        order = answer.data.get("order")
        if not isinstance(order, Mapping):
            raise RejectedByPlatformError(PLATFORM, f"order {order_id} does not exist")
        return self._tracked_fulfillment(order)

    def _tracked_fulfillment(self, order: Mapping[str, Any]) -> StoreShipment | None:
        for fulfillment in _list(order.get("fulfillments")):
            numbers = [str(row["number"]) for row in _list(fulfillment.get("trackingInfo")) if row.get("number")]
            at_ours = _mapping(fulfillment.get("location")).get("id") == self._location
            if at_ours and numbers and fulfillment.get("status") not in FAILED_FULFILLMENTS:
                return StoreShipment(
                    shipment_id=str(fulfillment.get("id") or ""), shipped=True, tracking=", ".join(numbers)
                )
        return None

    def push_shipment(
        self,
        order_id: str,
        lines: Sequence[ShippedLine],
        shipment: ShipmentToPush,
        *,
        before_write: Callable[[], None],
        deadline: datetime | None,
    ) -> StoreShipment:
        """One fulfillmentCreate of the fulfillment-order lines at our location that myOGO shipped, after one read
        of the order: a tracked fulfillment of ours already there comes back as `already_shipped` instead."""
        order = self._order_for_shipment(order_id, deadline)
        shipped = self._tracked_fulfillment(order)
        if shipped is not None:
            return shipped.model_copy(update={"already_shipped": True})
        store_lines, order_of_line = _open_lines(self._fulfillment_orders(order_id, order))
        chosen = match_lines(order_id, store_lines, lines)
        by_order: dict[str, list[dict[str, Any]]] = {}
        for line_id, quantity in chosen.items():
            by_order.setdefault(order_of_line[line_id], []).append({"id": line_id, "quantity": quantity})
        fulfillment = {
            "lineItemsByFulfillmentOrder": [
                {"fulfillmentOrderId": fo_id, "fulfillmentOrderLineItems": items} for fo_id, items in by_order.items()
            ],
            "notifyCustomer": self._options.notify_customer,
            "trackingInfo": tracking_input(shipment),
        }
        before_write()
        answer = self._client.execute(
            documents.FULFILLMENT_CREATE, {"fulfillment": fulfillment}, mutation=True, deadline=deadline
        )
        payload = _mapping(answer.data.get("fulfillmentCreate"))
        errors = user_errors(payload)
        if errors:
            raise rejected(f"fulfillmentCreate of order {order_id}", errors)
        created = _mapping(payload.get("fulfillment"))
        if not isinstance(created.get("id"), str):
            raise PlatformError(PLATFORM, f"fulfillmentCreate of order {order_id} answered without a fulfillment")
        numbers = [number for number in shipment.tracking_numbers if number]
        return StoreShipment(shipment_id=str(created["id"]), shipped=True, tracking=", ".join(numbers) or None)

    def _order_for_shipment(self, order_id: str, deadline: datetime | None) -> Mapping[str, Any]:
        variables = {"id": self._order_gid(order_id), **SINGLE_NESTED}
        answer = self._client.execute(documents.ORDER_FOR_SHIPMENT, variables, deadline=deadline)
        order = answer.data.get("order")
        if not isinstance(order, Mapping):
            raise RejectedByPlatformError(PLATFORM, f"order {order_id} does not exist")
        return order

    def _fulfillment_orders(self, order_id: str, order: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The order's fulfillment orders at our location; refusals for a cancelled order or one on hold."""
        if order.get("cancelledAt"):
            raise RejectedByPlatformError(PLATFORM, f"order {order_id} is cancelled in Shopify: nothing is fulfilled")
        nested = _mapping(order.get("fulfillmentOrders"))
        if _mapping(nested.get("pageInfo")).get("hasNextPage") is True:
            raise RejectedByPlatformError(PLATFORM, f"order {order_id} has more fulfillment orders than ogosync reads")
        ours = [fo for fo in _list(nested.get("nodes")) if _located(fo) == self._location]
        if any(fo.get("status") == "ON_HOLD" for fo in ours):
            raise OrderNotReadyError(PLATFORM, f"order {order_id} is on hold in Shopify at the warehouse's location")
        return ours

    def _order_gid(self, order_id: str) -> str:
        try:
            return gid("Order", order_id)
        except ValueError:
            raise RejectedByPlatformError(PLATFORM, f"{order_id!r} is not a Shopify order id") from None


def tracking_input(shipment: ShipmentToPush) -> dict[str, Any]:
    """FulfillmentTrackingInput under its pairing rules: a url only with a number, urls only with numbers, never a
    singular beside its plural. One number goes as `number` (+ `url`); several as `numbers` (+ `urls`: myOGO gives
    one URL, which Shopify pairs with the first number)."""
    numbers = [number for number in shipment.tracking_numbers if number]
    tracking: dict[str, Any] = {"company": shipment.carrier} if shipment.carrier else {}
    if len(numbers) == 1:
        tracking["number"] = numbers[0]
        if shipment.tracking_url:
            tracking["url"] = shipment.tracking_url
    elif numbers:
        tracking["numbers"] = numbers
        if shipment.tracking_url:
            tracking["urls"] = [shipment.tracking_url]
    return tracking


def _open_lines(fulfillment_orders: Sequence[Mapping[str, Any]]) -> tuple[list[StoreLine], dict[str, str]]:
    """The fulfillable lines (id, SKU, remaining quantity) and the fulfillment order of each line."""
    lines: list[StoreLine] = []
    order_of_line: dict[str, str] = {}
    for fo in fulfillment_orders:
        if fo.get("status") not in FULFILLABLE or not isinstance(fo.get("id"), str):
            continue
        for item in _list(_mapping(fo.get("lineItems")).get("nodes")):
            remaining = item.get("remainingQuantity")
            if isinstance(item.get("id"), str) and isinstance(remaining, int) and remaining > 0:
                lines.append(StoreLine(str(item["id"]), str(item.get("sku") or "").strip(), remaining))
                order_of_line[str(item["id"])] = str(fo["id"])
    return lines, order_of_line


def _located(fulfillment_order: Mapping[str, Any]) -> Any:
    return _mapping(_mapping(fulfillment_order.get("assignedLocation")).get("location")).get("id")


def _bulk_failure(operation_id: str, operation: Mapping[str, Any]) -> PlatformError:
    what = f"bulk operation {operation_id} ended {operation.get('status')} ({operation.get('errorCode') or 'no code'})"
    if operation.get("errorCode") == "ACCESS_DENIED":
        return AuthenticationError(PLATFORM, f"{what}: the app lacks read_products?")
    return TransientPlatformError(PLATFORM, what)


def _page_size(requested_cost: float | None, first: int) -> int:
    """Orders per page so that one page asks for at most MAX_QUERY_COST points, from what this page asked."""
    if not requested_cost or first <= 0:
        return first
    per_order = requested_cost / first
    low, high = ORDER_PAGE_LIMITS
    return max(low, min(high, int(MAX_QUERY_COST * COST_MARGIN / per_order)))


def _quantity_index(field: Any, count: int) -> int | None:
    """The index into `quantities` a userError's field path names (["input", "quantities", "3", ...])."""
    if not isinstance(field, list) or "quantities" not in field:
        return None
    position = field.index("quantities") + 1
    raw = field[position] if position < len(field) else None
    index = int(raw) if isinstance(raw, str) and raw.isdigit() else raw if isinstance(raw, int) else None
    return index if isinstance(index, int) and 0 <= index < count else None


def _compact(query: str) -> str:
    return "".join(query.split())


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _shown(value: Any) -> str:
    return repr(value)[:60]
