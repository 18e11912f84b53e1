"""The interfaces the sync engines depend on. Adapters (stores, warehouse, AWS) implement them.

They are shaped for Centra, Shopify and WooCommerce alike: a store is read for orders by time and by id, and
webhooks are only hints that name orders to re-read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ogosync.models import (
    AftercareStatus,
    AttentionOrder,
    Credentials,
    Cursor,
    Flow,
    Hold,
    Integration,
    IntegrationSchedule,
    Notice,
    NoticeChannel,
    OpenOrder,
    OrderBinding,
    OrderNote,
    OrderTracking,
    ProductRefusal,
    ProductReportHeader,
    ProductRow,
    ProductRun,
    PublishedStock,
    ShipmentToPush,
    ShippedLine,
    SkuBinding,
    StockBatchResult,
    StockRunState,
    StockToPublish,
    StoreOrder,
    StoreProduct,
    StoreShipment,
    TrackingStatus,
    UnidentifiedOrder,
    UnreadableOrder,
    UnreadableWarehouseRecord,
    WaitingShipment,
    WarehouseOrder,
    WarehouseOrderChange,
    WarehouseOrderContent,
    WarehouseOrderState,
    WarehouseProduct,
    WarehouseProductState,
    WarehouseStockLevel,
)


@runtime_checkable
class StorePlatform(Protocol):
    """One merchant's online store."""

    def orders_placed_since(self, since: datetime) -> Iterator[StoreOrder | UnreadableOrder | UnidentifiedOrder]:
        """Every order the store returns that was placed after `since` (aware UTC), in any order. A record that
        cannot be read comes as UnreadableOrder (or UnidentifiedOrder without a usable id); nothing is raised for it."""
        ...

    def get_order(self, order_id: str) -> StoreOrder | UnreadableOrder | None:
        """The order as the store has it now; None when the store does not return it."""
        ...

    def check_access(self) -> None:
        """One cheap authenticated call: AuthenticationError for refused credentials, else a PlatformError naming
        what is wrong (an unknown location, an API version the store does not serve)."""
        ...

    def close(self) -> None: ...


class WebhookHints(BaseModel):
    """What a verified webhook delivery says: which orders to re-read. Its content is never trusted further."""

    model_config = ConfigDict(defer_build=True)

    order_ids: list[str]
    ignored_events: int = 0
    delivery_id: str | None = Field(
        default=None, description="the platform's id of the event, the same on each redelivery: duplicates are dropped"
    )


class WebhookVerifier(Protocol):
    """Checks one platform's webhook delivery and extracts its hints. Raises WebhookRejectedError."""

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> WebhookHints: ...


@runtime_checkable
class WebhookHealth(Protocol):
    """A store that switches an integration's webhooks off by itself (WooCommerce, after repeated failed
    deliveries). The order poll asks it now and then, and the status shows the answer."""

    def switched_off_webhooks(self) -> list[str]:
        """One line per webhook of this integration that the store no longer delivers (its name, topic and
        status); [] when every one delivers."""
        ...


class Warehouse(Protocol):
    """One merchant account in myOGO."""

    def find_order(self, reference: str, deadline: datetime | None = None) -> WarehouseOrderState | None:
        """The order with this reference, or None. With a deadline, nothing is sent or awaited past it: the call
        raises TransientPlatformError instead."""
        ...

    def create_order(self, order: WarehouseOrder, deadline: datetime | None = None) -> WarehouseOrderState:
        """Create the order. Not retried on an unknown outcome: the caller looks the reference up first.
        With a deadline, no attempt (nor a wait before one) starts past it: TransientPlatformError instead."""
        ...

    def unknown_product_codes(self, codes: Iterable[str]) -> set[str]:
        """The codes among `codes` that myOGO has no product for."""
        ...


@runtime_checkable
class WarehouseChoices(Protocol):
    """What a warehouse account lets a merchant choose: its shipping codes and its warehouses. None: the account
    offers no list, so there is nothing to check a choice against."""

    def shipping_codes(self) -> frozenset[str] | None: ...

    def warehouse_codes(self) -> frozenset[str] | None: ...


@runtime_checkable
class AftercareWarehouse(Protocol):
    """myOGO's copy of a sent order, and the two writes aftercare makes to it."""

    def order_content(self, reference: str) -> WarehouseOrderContent | None: ...

    def update_order(self, order: WarehouseOrder) -> WarehouseOrderContent:
        """Replace the order's lines and address (PUT). Raises RejectedByPlatformError when myOGO refuses."""
        ...

    def cancel_order(self, current: WarehouseOrderContent) -> WarehouseOrderContent:
        """Set the order to CANCELLED, sending myOGO's own copy back unchanged otherwise."""
        ...


class AftercareRepository(Protocol):
    """Open orders (OPEN#), their aftercare claim on the binding, orders needing a person (ATTENTION#), shipments
    waiting for the store (WAITSTORE#) and the aftercare's rotating cursor (AFTERCARE)."""

    def open_orders(self, integration_id: str, after: str | None, limit: int) -> list[OpenOrder]:
        """Open orders in store order id order, after `after` (exclusive; None: from the first)."""
        ...

    def close_open_order(self, integration_id: str, store_order_id: str) -> None: ...

    def aftercare_cursor(self, integration_id: str) -> str | None: ...

    def save_aftercare_cursor(self, integration_id: str, after: str | None) -> None: ...

    def claim_aftercare(
        self, integration_id: str, store_order_id: str, token: str, now: datetime, lease_seconds: int
    ) -> OrderBinding:
        """Claim a SENT order for a cancel/update in myOGO; return the binding as it was. ConcurrencyConflictError
        when it is not sent or a live worker holds the claim."""
        ...

    def renew_aftercare(
        self, integration_id: str, store_order_id: str, token: str, now: datetime, lease_seconds: int
    ) -> None:
        """Extend our claim to now + lease, right before a write to myOGO (state.table.Table.renew_claim, as every
        claim). ConcurrencyConflictError when another worker took it over (then nothing may be written)."""
        ...

    def finish_aftercare(
        self,
        integration_id: str,
        store_order_id: str,
        token: str,
        status: AftercareStatus,
        detail: str,
        now: datetime,
        *,
        close: bool,
        sent_hash: str | None = None,
    ) -> None:
        """Record the outcome under our claim; NEEDS_PERSON also lists the order under ATTENTION#; `close` ends
        its aftercare (drops OPEN#); `sent_hash` replaces the digest after an update. ConcurrencyConflictError when
        the claim is no longer ours."""
        ...

    def attention_orders(self, integration_id: str) -> list[AttentionOrder]: ...

    def mark_waiting(self, integration_id: str, store_order_id: str, reference: str, now: datetime) -> None:
        """List the order's shipment as waiting for the store (keeping the first `since`)."""
        ...

    def waiting_shipments(self, integration_id: str) -> list[WaitingShipment]:
        """Oldest first."""
        ...

    def clear_waiting(self, integration_id: str, store_order_id: str) -> None: ...


class DeliveryLog(Protocol):
    """Store webhook deliveries already taken (items DELIVERY#<id>), so a redelivery enqueues nothing."""

    def first_delivery(self, integration_id: str, delivery_id: str, now: datetime, keep_seconds: int) -> bool:
        """Record the delivery id until now + keep_seconds; False when it is recorded already."""
        ...

    def forget_delivery(self, integration_id: str, delivery_id: str) -> None:
        """Drop the record (the delivery's hints could not be enqueued, so its redelivery must be taken)."""
        ...


class ScheduleSource(Protocol):
    """The state the tick reads: the fleet's schedules by segment, and cursors."""

    def integration_schedules(self, segment: int, segments: int) -> list[IntegrationSchedule]:
        """The schedules of one segment of the fleet: segments 0..segments-1 hold every integration once."""
        ...

    def get_cursors(self, keys: Sequence[tuple[str, Flow]], *, consistent: bool = True) -> list[Cursor]: ...


class HintCounter(Protocol):
    """Counts the orders each integration's webhooks put in the order queue, per minute, across every container."""

    def add_hints(self, integration_id: str, minute: datetime, count: int) -> int:
        """Add `count` to the integration's count of `minute`; return the count before this addition."""
        ...


class SecretStore(Protocol):
    def credentials(self, integration: Integration) -> Credentials: ...


class JobQueue(Protocol):
    def send(self, jobs: Sequence[BaseModel]) -> None:
        """Enqueue every job or raise: a partial send is reported as an error."""
        ...


class StateRepository(Protocol):
    """Integrations, cursors, bindings, mappings and locks, with conditional writes."""

    def get_integration(self, integration_id: str) -> Integration | None: ...

    def list_integrations(self) -> list[Integration]: ...

    def put_integration(self, integration: Integration) -> None: ...

    def get_cursor(self, integration_id: str, flow: Flow) -> Cursor: ...

    def get_cursors(self, keys: Sequence[tuple[str, Flow]]) -> list[Cursor]:
        """The cursors of these (integration, flow) pairs in one batch, in their order; a pair never run gets an
        empty cursor, as from get_cursor."""
        ...

    def save_cursor(self, cursor: Cursor) -> Cursor:
        """Write the cursor if nobody else wrote it since it was read (its version); return it with the new version."""
        ...

    def acquire_lock(self, integration_id: str, flow: Flow, owner: str, now: datetime, ttl_seconds: int) -> bool:
        """Take the lock until now + ttl if it is free, expired or already `owner`'s (then it is extended)."""
        ...

    def release_lock(self, integration_id: str, flow: Flow, owner: str) -> None: ...

    def shipping_map(self, integration_id: str) -> dict[str, str]:
        """Store shipping method -> myOGO shipping code."""
        ...

    def put_shipping_mapping(self, integration_id: str, store_method: str, myogo_code: str) -> None: ...

    def get_order_binding(self, integration_id: str, store_order_id: str) -> OrderBinding | None: ...

    def get_order_bindings(self, integration_id: str, store_order_ids: Sequence[str]) -> dict[str, OrderBinding]: ...

    def claim_order(
        self, integration_id: str, store_order_id: str, reference: str, token: str, now: datetime, lease_seconds: int
    ) -> OrderBinding | None:
        """Claim the order for sending; return the binding as it was before (None when new).

        `reference` is recorded only when the order has no binding yet: a recorded reference never changes.
        Succeeds only when the order is new, held, skipped, failed, or claimed by someone whose lease ran out.
        Raises ConcurrencyConflictError otherwise (sent, or claimed by a live worker).
        """
        ...

    def renew_order_claim(
        self, integration_id: str, store_order_id: str, token: str, now: datetime, lease_seconds: int
    ) -> bool:
        """Extend our claim to now + lease_seconds if the order is still claimed with `token`; False (nothing
        written) when it is not: another worker took it over, or it was recorded meanwhile."""
        ...

    def mark_order_sent(
        self,
        integration_id: str,
        store_order_id: str,
        token: str,
        state: WarehouseOrderState,
        now: datetime,
        *,
        was_held: bool,
        sent_hash: str | None = None,
    ) -> None:
        """Record that myOGO has the order (and drop its held marker when it had one), with the digest of what was
        sent (models.order_content_hash), and list it as open (OPEN#) for the aftercare of store changes.

        Raises ConcurrencyConflictError when the claim is no longer ours.
        """
        ...

    def mark_order_failed(
        self, integration_id: str, store_order_id: str, token: str, error: str, now: datetime
    ) -> None:
        """Release our claim after a failure whose outcome in myOGO is unknown."""
        ...

    def mark_order_held(
        self,
        integration_id: str,
        store_order_id: str,
        reference: str,
        holds: Sequence[Hold],
        now: datetime,
        placed_at: datetime | None,
        token: str | None = None,
        units: Mapping[str, int] | None = None,
    ) -> bool:
        """Record the order as held with its reasons; False when it is already sent or claimed by someone else.

        `reference` is recorded only when the order has no binding yet, as in claim_order.
        `units` (SKU -> units the order holds in transit) is kept with the held order, so the stock flow counts
        them without reading the order from the store again."""
        ...

    def mark_order_skipped(
        self,
        integration_id: str,
        store_order_id: str,
        reference: str,
        reason: str,
        now: datetime,
        placed_at: datetime | None,
        token: str | None = None,
    ) -> bool:
        """Record that the order needs no transfer; False when it is already sent or claimed by someone else.

        `reference` is recorded only when the order has no binding yet, as in claim_order."""
        ...

    def held_order_ids(self, integration_id: str, placed_after: datetime) -> list[str]:
        """Held orders placed after `placed_after`: the ones worth re-checking in the store."""
        ...

    def held_in_transit(self, integration_id: str, placed_after: datetime) -> dict[str, dict[str, int] | None]:
        """Held orders placed after `placed_after` -> the units recorded with them (None: held before units were
        recorded, so the store must be asked)."""
        ...


# ---- products (store -> myOGO) ------------------------------------------------------------------


class OrderNotes(Protocol):
    """The timeline notes of orders (EVENT#<store order id>#<time>#<n> items); appended, never changed."""

    def add_note(self, note: OrderNote) -> None: ...

    def notes(self, integration_id: str, store_order_id: str) -> list[OrderNote]:
        """The order's notes, oldest first."""
        ...


class Notices(Protocol):
    """What a merchant is told about (NOTICE# items): each event recorded once, each channel's send claimed once."""

    def record(self, notice: Notice) -> bool:
        """Record the event unless it is recorded already (a conditional put on integration, kind and subject);
        True when this call recorded it."""
        ...

    def pending(self, limit: int) -> list[Notice]:
        """Notices not yet closed, across the fleet, oldest first (at most `limit`)."""
        ...

    def claim_send(self, notice: Notice, channel: NoticeChannel, now: datetime) -> bool:
        """Mark the channel's send as taken before it happens; False when it was taken already (nothing written)."""
        ...

    def release_send(self, notice: Notice, channel: NoticeChannel, claimed_at: datetime) -> None:
        """Undo this caller's claim after a send that certainly did not happen, so a later run sends it: one more
        failure, and the notice goes behind the ones pending since `claimed_at` (a broken channel starves none)."""
        ...

    def close(self, notice: Notice) -> None:
        """Nothing more to send for it: it leaves the pending list (the item stays, so it is never recorded again)."""
        ...

    def claim_digest(self, integration_id: str, day: str, now: datetime) -> bool:
        """Take the integration's digest of `day` (its local date); False when it was taken already."""
        ...


class Mailer(Protocol):
    def send(self, to: str, subject: str, text: str) -> None:
        """Send one e-mail; NotDeliveredError when it certainly was not sent."""
        ...


class NoticeWebhook(Protocol):
    def post(self, url: str, secret: str, body: bytes) -> None:
        """POST one signed JSON body; NotDeliveredError when it certainly was not accepted."""
        ...


class SkuBindingRepository(Protocol):
    """SKU bindings of an integration (items SKU#<sku>)."""

    def get_sku_bindings(self, integration_id: str, skus: Sequence[str]) -> dict[str, SkuBinding]: ...

    def all_sku_bindings(self, integration_id: str) -> list[SkuBinding]: ...

    def put_sku_bindings(self, bindings: Sequence[SkuBinding]) -> None:
        """Write (replace) these bindings, in batches."""
        ...


@runtime_checkable
class StoreCatalog(Protocol):
    """A store's products, for the product flow (the store is dominant for product information)."""

    def products(self) -> Iterator[StoreProduct]:
        """Every sellable item (Centra: every size; Shopify: every variant), priced as the platform's options say."""
        ...

    def close(self) -> None:
        """Release the connections (a catalog is read once per product run)."""
        ...


class WarehouseCatalog(Protocol):
    """myOGO's products of one merchant account."""

    def list_products(self) -> Iterator[WarehouseProductState]:
        """Every product, read in pages."""
        ...

    def find_product(self, code: str) -> WarehouseProductState | None: ...

    def create_product(self, product: WarehouseProduct) -> WarehouseProductState:
        """Create it. Raises AlreadyExistsError when myOGO has the code; not retried on an unknown outcome."""
        ...

    def update_product(self, code: str, product: WarehouseProduct) -> WarehouseProductState:
        """Update the product `code` (the code in `product` may rename it). Raises NotFoundError when unknown."""
        ...


class ProductRefusalRepository(Protocol):
    """Products whose content myOGO refused (items REFUSED#<sku>), so that the same content is not sent again."""

    def all_product_refusals(self, integration_id: str) -> list[ProductRefusal]: ...

    def put_product_refusal(self, refusal: ProductRefusal) -> None: ...

    def delete_product_refusals(self, integration_id: str, skus: Sequence[str]) -> None: ...


# ---- stock and tracking (myOGO -> store) --------------------------------------------------------


@runtime_checkable
class StockStore(StorePlatform, Protocol):
    """A store that takes stock balances from the warehouse."""

    def publish_stock(self, items: Sequence[StockToPublish]) -> Iterator[StockBatchResult]:
        """Make each item sellable in the store at its quantity, in batches; each batch is yielded once the store
        accepted it, so a failure (raised) leaves the earlier batches done and known. A store with a compare-and-swap
        lists as `stale` the items it changed since they were read (a sale meanwhile): nothing is written for them,
        and the engine recomputes them from a fresh read."""
        ...


@runtime_checkable
class ShipmentStore(StorePlatform, Protocol):
    """A store that takes shipments (with tracking) from the warehouse. How the store makes one (Centra: complete an
    open shipment or create one, capture first; Shopify: a fulfillment of the warehouse's fulfillment orders) is the
    adapter's."""

    def shipped_already(self, order_id: str) -> StoreShipment | None:
        """What the store already has for the order: a shipment marked shipped (ours from an attempt that reached
        the store before a crash, or the merchant's), else None."""
        ...

    def push_shipment(
        self,
        order_id: str,
        lines: Sequence[ShippedLine],
        shipment: ShipmentToPush,
        *,
        before_write: Callable[[], None],
        deadline: datetime | None,
    ) -> StoreShipment:
        """Ship these myOGO lines with carrier, every tracking number and URL, in ONE store write, never repeated
        on an unknown outcome. Reads first: when the store shows the order shipped already, that shipment comes
        back with `already_shipped` and nothing is written. Else it calls before_write() (renews the caller's
        claim; it raises when the claim is lost, and then nothing is written) right before the write. With a
        deadline, no attempt (nor a wait before one) starts past it: TransientPlatformError instead.

        Raises CaptureFailedError (the payment could not be captured: nothing shipped, a person looks),
        OrderNotReadyError (the store cannot take it yet), RejectedByPlatformError or ShipmentMismatchError
        (refused: a person looks)."""
        ...


StoreAdapter = StorePlatform
"""What a platform's factory returns (stores/registry.py): at least the orders side; the catalog, stock and shipment
sides where the platform has them (checked with isinstance, the Protocols above being runtime-checkable)."""


@runtime_checkable
class StockWarehouse(Protocol):
    """Stock balances in myOGO."""

    def stock_levels(
        self, modified_after: datetime | None
    ) -> Iterator[WarehouseStockLevel | UnreadableWarehouseRecord]:
        """Every product's stock changed after `modified_after` (all products when None); a row that cannot be read
        comes as such, nothing is raised for it."""
        ...

    def stock_level(self, code: str) -> WarehouseStockLevel | None: ...


@runtime_checkable
class TrackingWarehouse(Protocol):
    """Order states and tracking codes in myOGO."""

    def orders_changed_since(
        self, modified_after: datetime
    ) -> Iterator[WarehouseOrderChange | UnreadableWarehouseRecord]:
        """Every order changed after `modified_after`; one that cannot be read comes as such, nothing is raised."""
        ...

    def order_change(self, reference: str) -> WarehouseOrderChange | None: ...


class WarehouseWebhookVerifier(Protocol):
    """Checks a myOGO webhook delivery; returns the order references it names. Raises WebhookRejectedError."""

    def verify(self, headers: Mapping[str, str], body: bytes, key: str) -> list[str]: ...


class StockLedger(Protocol):
    """What was last published per SKU (items STOCK#<sku>) and the stock flow's run state (item STOCKRUN)."""

    def published(self, integration_id: str, skus: Sequence[str]) -> dict[str, PublishedStock]: ...

    def all_published(self, integration_id: str) -> dict[str, PublishedStock]: ...

    def record_published(self, entries: Sequence[PublishedStock]) -> None:
        """Write (replace) these entries, in batches."""
        ...

    def run_state(self, integration_id: str) -> StockRunState: ...

    def save_run_state(self, state: StockRunState) -> None: ...


class TrackingRepository(Protocol):
    """The tracking flow's attributes of order bindings (ORDER#<store order id>), with conditional writes."""

    def get_tracking(self, integration_id: str, store_order_ids: Sequence[str]) -> dict[str, OrderTracking]:
        """The tracking view of these orders' bindings (orders ogosync never sent are absent)."""
        ...

    def record_myogo_status(self, integration_id: str, store_order_id: str, status: str, now: datetime) -> None:
        """Record where myOGO says the order is; nothing when the order has no binding."""
        ...

    def claim_push(
        self, integration_id: str, store_order_id: str, token: str, now: datetime, lease_seconds: int
    ) -> OrderTracking:
        """Claim the order's shipment push; return the tracking view as it was before.

        Succeeds only when nothing was pushed yet, the last push failed or waits for the store, or a claim's lease
        ran out. Raises ConcurrencyConflictError otherwise (pushed, refused by the store, or claimed by a live
        worker)."""
        ...

    def renew_push_claim(
        self, integration_id: str, store_order_id: str, token: str, now: datetime, lease_seconds: int
    ) -> bool:
        """Extend our push claim to now + lease_seconds if it is still claimed with `token`; False (nothing
        written) when it is not."""
        ...

    def mark_pushed(
        self,
        integration_id: str,
        store_order_id: str,
        token: str,
        shipment: StoreShipment,
        pushed: ShipmentToPush,
        now: datetime,
    ) -> None:
        """Record the store's shipment. Raises ConcurrencyConflictError when the claim is no longer ours."""
        ...

    def mark_push_failed(
        self,
        integration_id: str,
        store_order_id: str,
        token: str,
        status: TrackingStatus,
        error: str,
        now: datetime,
    ) -> None:
        """Release our claim with FAILED or WAITING_FOR_STORE (retried later), CAPTURE_FAILED or REJECTED (left to
        a person)."""
        ...

    # ---- operator (set-up and status) ---------------------------------------------------------------

    def reopen_refused_push(self, integration_id: str, store_order_id: str, now: datetime) -> bool:
        """A person asks for the refused shipment to be pushed again: a REJECTED or CAPTURE_FAILED push becomes
        FAILED (looked up in the store, then pushed) by a conditional write; False when it was not refused."""
        ...


class AccessCheck(Protocol):
    """A platform adapter that can prove its configuration with one cheap authenticated call."""

    def check_access(self) -> None:
        """Raise a PlatformError (AuthenticationError for refused credentials) when the call fails."""
        ...

    def close(self) -> None: ...


class IntegrationConfigRepository(Protocol):
    """The lifecycle of an integration's configuration items (CONFIG and SHIP#), with conditional writes."""

    def create_integration(self, integration: Integration) -> None:
        """Write a new integration; ConcurrencyConflictError when the id is taken."""
        ...

    def update_integration(self, before: Integration, after: Integration) -> None:
        """Write the fields that differ between `before` and `after` (settings field by field, so concurrent
        changes of other fields are kept); UnknownIntegrationError when the integration is gone."""
        ...

    def claim_reference_prefixes(self, integration_id: str, merchant_id: str, prefixes: Sequence[str]) -> None:
        """Record, all at once, that the integration's orders go to myOGO merchant `merchant_id` under each prefix
        (compared case-insensitively). Claims already the integration's own are kept; raises
        ReferencePrefixTakenError naming the integration that holds one of them. delete_integration releases them."""
        ...

    def delete_integration(self, integration_id: str, keep_orders_until: datetime) -> int:
        """Remove the integration and its state; order bindings are kept, expiring at `keep_orders_until`, so that a
        re-created integration cannot send an order twice. Returns the number of items removed."""
        ...

    def delete_shipping_mapping(self, integration_id: str, store_method: str) -> bool:
        """False when there was no such mapping."""
        ...


class SecretWriter(Protocol):
    """Writes integration credentials; never reads them back into an answer."""

    def write(self, name: str, credentials: Credentials) -> None:
        """Create or replace the secret (restoring one that is scheduled for deletion)."""
        ...

    def schedule_deletion(self, name: str, recovery_days: int) -> None: ...


class QueueDepth(BaseModel):
    model_config = ConfigDict(defer_build=True)

    queue: str
    waiting: int
    in_flight: int
    dead_letters: int | None = Field(default=None, description="messages in the queue's DLQ; None without a DLQ")


class RedriveCount(BaseModel):
    model_config = ConfigDict(defer_build=True)

    queue: str
    moved: int
    failed: int
    dead_letters_left: int


class DeadLetter(BaseModel):
    model_config = ConfigDict(defer_build=True)

    message_id: str
    body: str = Field(description="the message as it was sent: a job of ids, never a credential (cut at 2,000 chars)")
    sent_at: AwareDatetime | None = Field(default=None, description="when it was first sent to its work queue")
    receive_count: int = Field(description="how many times it was received, the failed tries included")


class WorkQueues(Protocol):
    """ogosync's work queues by name, with their dead-letter queues."""

    def names(self) -> list[str]: ...

    def depth(self, name: str) -> QueueDepth: ...

    def redrive(self, name: str, max_messages: int) -> RedriveCount:
        """Move up to `max_messages` messages from the queue's DLQ back to it (receive, send, delete)."""
        ...

    def dead_letters(self, name: str, limit: int) -> list[DeadLetter]:
        """Up to `limit` messages of the queue's DLQ, one by one; they stay there."""
        ...

    def redrive_dead_letter(self, name: str, message_id: str) -> bool:
        """Move this one message from the DLQ back to its queue; False when the DLQ does not have it."""
        ...

    def discard_dead_letters(self, name: str, message_ids: set[str] | None) -> int:
        """Delete these messages (None: every message) from the queue's DLQ; how many were deleted."""
        ...


# ---- the product sync page ----------------------------------------------------------------------


class ProductRunRepository(Protocol):
    """The latest "Refresh"/"Create product" run (PRODUCTRUN) and the latest refresh report (PRODUCTREPORT, its rows
    in chunks PRODUCTS#<report id>#<n>) of an integration. The product lock (StateRepository) says who may run."""

    def get_product_run(self, integration_id: str) -> ProductRun | None: ...

    def put_product_run(self, run: ProductRun) -> None:
        """Record a new run (the caller holds the product lock for it)."""
        ...

    def start_product_run(self, integration_id: str, run_id: str, now: datetime, lock_expires_at: datetime) -> bool:
        """queued -> running, only for this run and only once: False for a second delivery of its job."""
        ...

    def save_product_run(self, run: ProductRun) -> bool:
        """Update the run's record; False when another run has replaced it since."""
        ...

    def put_product_report(self, header: ProductReportHeader, rows: Sequence[ProductRow]) -> None:
        """Store the report's rows, then make it the latest (a half-written report is never listed)."""
        ...

    def product_report(self, integration_id: str) -> tuple[ProductReportHeader, list[ProductRow]] | None: ...
