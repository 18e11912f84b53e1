"""The interfaces the sync engines depend on. Adapters (stores, warehouse, AWS) implement them.

They are shaped for Centra, Shopify and WooCommerce alike: a store is read for orders by time and by id, and
webhooks are only hints that name orders to re-read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from pydantic import BaseModel, Field

from ogosync.models import (
    Credentials,
    Cursor,
    Flow,
    Hold,
    Integration,
    OrderBinding,
    SkuBinding,
    StoreOrder,
    UnreadableOrder,
    WarehouseOrder,
    WarehouseOrderState,
)


class StorePlatform(Protocol):
    """One merchant's online store."""

    def orders_placed_since(self, since: datetime) -> Iterator[StoreOrder | UnreadableOrder]:
        """Every order the store returns that was placed after `since` (aware UTC), in any order."""
        ...

    def get_order(self, order_id: str) -> StoreOrder | UnreadableOrder | None:
        """The order as the store has it now; None when the store does not return it."""
        ...


class WebhookHints(BaseModel):
    """What a verified webhook delivery says: which orders to re-read. Its content is never trusted further."""

    order_ids: list[str]
    ignored_events: int = 0


class WebhookVerifier(Protocol):
    """Checks one platform's webhook delivery and extracts its hints. Raises WebhookRejectedError."""

    def verify(self, headers: Mapping[str, str], body: bytes, secret: str, now: datetime) -> WebhookHints: ...


class Warehouse(Protocol):
    """One merchant account in myOGO."""

    def find_order(self, reference: str) -> WarehouseOrderState | None: ...

    def create_order(self, order: WarehouseOrder) -> WarehouseOrderState:
        """Create the order. Not retried on an unknown outcome: the caller looks the reference up first."""
        ...

    def unknown_product_codes(self, codes: Iterable[str]) -> set[str]:
        """The codes among `codes` that myOGO has no product for."""
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

    def save_cursor(self, cursor: Cursor) -> Cursor:
        """Write the cursor if nobody else wrote it since it was read (its version); return it with the new version."""
        ...

    def acquire_lock(self, integration_id: str, flow: Flow, owner: str, now: datetime, ttl_seconds: int) -> bool: ...

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

        Succeeds only when the order is new, held, skipped, failed, or claimed by someone whose lease ran out.
        Raises ConcurrencyConflictError otherwise (sent, or claimed by a live worker).
        """
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
    ) -> None:
        """Record that myOGO has the order (and drop its held marker when it had one).

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
    ) -> bool:
        """Record the order as held with its reasons; False when it is already sent or claimed by someone else."""
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
        """Record that the order needs no transfer; False when it is already sent or claimed by someone else."""
        ...

    def held_order_ids(self, integration_id: str, placed_after: datetime) -> list[str]:
        """Held orders placed after `placed_after`: the ones worth re-checking in the store."""
        ...


# ---- products (store -> myOGO) ------------------------------------------------------------------


class SkuBindingRepository(Protocol):
    """SKU bindings of an integration (items SKU#<sku>)."""

    def get_sku_bindings(self, integration_id: str, skus: Sequence[str]) -> dict[str, SkuBinding]: ...

    def all_sku_bindings(self, integration_id: str) -> list[SkuBinding]: ...

    def put_sku_bindings(self, bindings: Sequence[SkuBinding]) -> None:
        """Write (replace) these bindings, in batches."""
        ...


# ---- stock and tracking (myOGO -> store) --------------------------------------------------------


# ---- operator (set-up and status) ---------------------------------------------------------------


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
    queue: str
    waiting: int
    in_flight: int
    dead_letters: int | None = Field(default=None, description="messages in the queue's DLQ; None without a DLQ")


class RedriveCount(BaseModel):
    queue: str
    moved: int
    failed: int
    dead_letters_left: int


class WorkQueues(Protocol):
    """ogosync's work queues by name, with their dead-letter queues."""

    def names(self) -> list[str]: ...

    def depth(self, name: str) -> QueueDepth: ...

    def redrive(self, name: str, max_messages: int) -> RedriveCount:
        """Move up to `max_messages` messages from the queue's DLQ back to it (receive, send, delete)."""
        ...
