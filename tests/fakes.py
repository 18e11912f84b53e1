"""In-memory fakes of the ports, with the same conditional semantics as the DynamoDB repository.

tests/integration/test_state_contract.py runs one suite against both, so the fake cannot drift from the real thing.
"""

from __future__ import annotations

import threading
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, SecretStr

from ogosync.errors import AlreadyExistsError, ConcurrencyConflictError, OgosyncError
from ogosync.models import (
    Address,
    BindingStatus,
    Credentials,
    Cursor,
    Flow,
    Hold,
    Integration,
    IntegrationSchedule,
    OrderBinding,
    ShippedLine,
    SkuBinding,
    StoreOrder,
    UnidentifiedOrder,
    UnreadableOrder,
    WarehouseOrder,
    WarehouseOrderState,
)
from ogosync.stores.credentials import CentraCredentials
from ogosync.sync.schedule import schedule_of

_REOPENABLE = (BindingStatus.HELD, BindingStatus.SKIPPED, BindingStatus.FAILED)


class InMemoryHintCounter:
    """As state/hints.py: an atomic per-minute count per integration."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, datetime], int] = {}
        self._lock = threading.Lock()

    def add_hints(self, integration_id: str, minute: datetime, count: int) -> int:
        with self._lock:
            before = self.counts.get((integration_id, minute), 0)
            self.counts[(integration_id, minute)] = before + count
            return before


class InMemoryState:
    def __init__(self) -> None:
        self.integrations: dict[str, Integration] = {}
        self.cursors: dict[tuple[str, Flow], Cursor] = {}
        self.locks: dict[tuple[str, Flow], tuple[str, datetime]] = {}
        self.deliveries: dict[tuple[str, str], datetime] = {}  # DELIVERY#: webhook delivery id -> kept until
        self.shipping: dict[str, dict[str, str]] = {}
        self.bindings: dict[tuple[str, str], OrderBinding] = {}
        self.held_markers: dict[tuple[str, str], datetime | None] = {}
        self.open_markers: dict[tuple[str, str], str] = {}  # OPEN#: sent orders -> reference (aftercare)
        self.held_units: dict[tuple[str, str], dict[str, int] | None] = {}  # read only while a held marker exists
        self.writes = 0
        self._lock = threading.RLock()
        self.fail_next_mark_sent = False  # simulates a worker dying between myOGO's answer and our record

    def get_integration(self, integration_id: str) -> Integration | None:
        return self.integrations.get(integration_id)

    def list_integrations(self) -> list[Integration]:
        return list(self.integrations.values())

    def integration_schedules(self, segment: int, segments: int) -> list[IntegrationSchedule]:
        """As DynamoDB's parallel Scan: each integration in exactly one of the segments."""
        return [
            schedule_of(integration)
            for integration in self.integrations.values()
            if zlib.crc32(integration.id.encode()) % segments == segment
        ]

    def put_integration(self, integration: Integration) -> None:
        self.integrations[integration.id] = integration

    def get_cursor(self, integration_id: str, flow: Flow) -> Cursor:
        return self.cursors.get((integration_id, flow)) or Cursor(integration_id=integration_id, flow=flow)

    def get_cursors(self, keys: Sequence[tuple[str, Flow]], *, consistent: bool = True) -> list[Cursor]:
        return [self.get_cursor(integration_id, flow) for integration_id, flow in keys]

    def save_cursor(self, cursor: Cursor) -> Cursor:
        with self._lock:
            current = self.cursors.get((cursor.integration_id, cursor.flow))
            if current is not None and current.version != cursor.version:
                raise ConcurrencyConflictError("cursor moved meanwhile")
            saved = cursor.model_copy(update={"version": cursor.version + 1})
            self.cursors[(cursor.integration_id, cursor.flow)] = saved
            self.writes += 1
            return saved

    def first_delivery(self, integration_id: str, delivery_id: str, now: datetime, keep_seconds: int) -> bool:
        with self._lock:
            kept = self.deliveries.get((integration_id, delivery_id))
            if kept is not None and kept >= now:
                return False
            self.deliveries[(integration_id, delivery_id)] = now + timedelta(seconds=keep_seconds)
            return True

    def forget_delivery(self, integration_id: str, delivery_id: str) -> None:
        with self._lock:
            self.deliveries.pop((integration_id, delivery_id), None)

    def acquire_lock(self, integration_id: str, flow: Flow, owner: str, now: datetime, ttl_seconds: int) -> bool:
        with self._lock:
            held = self.locks.get((integration_id, flow))
            if held is not None and held[1] >= now and held[0] != owner:
                return False
            self.locks[(integration_id, flow)] = (owner, now + timedelta(seconds=ttl_seconds))
            return True

    def release_lock(self, integration_id: str, flow: Flow, owner: str) -> None:
        with self._lock:
            held = self.locks.get((integration_id, flow))
            if held is not None and held[0] == owner:
                del self.locks[(integration_id, flow)]

    def shipping_map(self, integration_id: str) -> dict[str, str]:
        return dict(self.shipping.get(integration_id, {}))

    def put_shipping_mapping(self, integration_id: str, store_method: str, myogo_code: str) -> None:
        self.shipping.setdefault(integration_id, {})[store_method] = myogo_code

    def get_order_binding(self, integration_id: str, store_order_id: str) -> OrderBinding | None:
        return self.bindings.get((integration_id, store_order_id))

    def get_order_bindings(self, integration_id: str, store_order_ids: Sequence[str]) -> dict[str, OrderBinding]:
        return {
            order_id: self.bindings[(integration_id, order_id)]
            for order_id in store_order_ids
            if (integration_id, order_id) in self.bindings
        }

    def claim_order(
        self, integration_id: str, store_order_id: str, reference: str, token: str, now: datetime, lease_seconds: int
    ) -> OrderBinding | None:
        with self._lock:
            old = self.bindings.get((integration_id, store_order_id))
            claimable = (
                old is None
                or old.status in _REOPENABLE
                or (old.status is BindingStatus.CLAIMED and old.claim_expires is not None and old.claim_expires < now)
            )
            if not claimable:
                raise ConcurrencyConflictError(f"order {store_order_id} is sent or being sent")
            base = old or OrderBinding(
                integration_id=integration_id,
                store_order_id=store_order_id,
                reference=reference,
                status=BindingStatus.CLAIMED,
                first_seen_at=now,
                updated_at=now,
            )
            self.bindings[(integration_id, store_order_id)] = base.model_copy(
                update={
                    "status": BindingStatus.CLAIMED,
                    "claim_token": token,
                    "claim_expires": now + timedelta(seconds=lease_seconds),
                    "attempts": (old.attempts if old else 0) + 1,
                    "updated_at": now,
                }
            )
            self.writes += 1
            return old

    def renew_order_claim(
        self, integration_id: str, store_order_id: str, token: str, now: datetime, lease_seconds: int
    ) -> bool:
        with self._lock:
            binding = self.bindings.get((integration_id, store_order_id))
            if binding is None or binding.claim_token != token or binding.status is not BindingStatus.CLAIMED:
                return False
            expires = now + timedelta(seconds=lease_seconds)
            self.bindings[(integration_id, store_order_id)] = binding.model_copy(update={"claim_expires": expires})
            self.writes += 1
            return True

    def _own_claim(self, integration_id: str, store_order_id: str, token: str) -> OrderBinding:
        binding = self.bindings.get((integration_id, store_order_id))
        if binding is None or binding.claim_token != token:
            raise ConcurrencyConflictError("claim lost")
        return binding

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
        with self._lock:
            if self.fail_next_mark_sent:
                self.fail_next_mark_sent = False
                raise OgosyncError("simulated crash before the state write")
            binding = self._own_claim(integration_id, store_order_id, token)
            self.bindings[(integration_id, store_order_id)] = binding.model_copy(
                update={
                    "status": BindingStatus.SENT,
                    "myogo_id": state.id,
                    "myogo_status": state.status,
                    "sent_at": now,
                    "updated_at": now,
                    "holds": [],
                    "claim_token": None,
                    "claim_expires": None,
                    "last_error": None,
                    "sent_hash": sent_hash,
                }
            )
            if was_held:
                self.held_markers.pop((integration_id, store_order_id), None)
            self.open_markers[(integration_id, store_order_id)] = state.reference
            self.writes += 1

    def mark_order_failed(
        self, integration_id: str, store_order_id: str, token: str, error: str, now: datetime
    ) -> None:
        with self._lock:
            binding = self.bindings.get((integration_id, store_order_id))
            if binding is None or binding.claim_token != token:
                return
            self.bindings[(integration_id, store_order_id)] = binding.model_copy(
                update={
                    "status": BindingStatus.FAILED,
                    "last_error": error,
                    "updated_at": now,
                    "claim_token": None,
                    "claim_expires": None,
                }
            )
            self.writes += 1

    def _close(
        self,
        integration_id: str,
        store_order_id: str,
        reference: str,
        status: BindingStatus,
        now: datetime,
        placed_at: datetime | None,
        token: str | None,
        holds: Sequence[Hold],
        skip_reason: str | None,
    ) -> bool:
        old = self.bindings.get((integration_id, store_order_id))
        allowed = (
            old is None
            or old.status in _REOPENABLE
            or (
                old.status is BindingStatus.CLAIMED
                and (old.claim_token == (token or "-") or (old.claim_expires is not None and old.claim_expires < now))
            )
        )
        if not allowed:
            return False
        self.bindings[(integration_id, store_order_id)] = OrderBinding(
            integration_id=integration_id,
            store_order_id=store_order_id,
            reference=old.reference if old else reference,  # decided at the first record, as in DynamoDB
            status=status,
            holds=list(holds),
            skip_reason=skip_reason,
            attempts=old.attempts if old else 0,
            store_placed_at=(old.store_placed_at if old and old.store_placed_at else placed_at),
            first_seen_at=old.first_seen_at if old else now,
            updated_at=now,
        )
        self.writes += 1
        return True

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
        with self._lock:
            if not self._close(
                integration_id, store_order_id, reference, BindingStatus.HELD, now, placed_at, token, holds, None
            ):
                return False
            self.held_markers[(integration_id, store_order_id)] = placed_at
            self.held_units[(integration_id, store_order_id)] = dict(units) if units is not None else None
            return True

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
        with self._lock:
            if not self._close(
                integration_id, store_order_id, reference, BindingStatus.SKIPPED, now, placed_at, token, [], reason
            ):
                return False
            self.held_markers.pop((integration_id, store_order_id), None)
            return True

    def held_order_ids(self, integration_id: str, placed_after: datetime) -> list[str]:
        return [
            order_id
            for (owner, order_id), placed_at in self.held_markers.items()
            if owner == integration_id and (placed_at is None or placed_at > placed_after)
        ]

    def held_in_transit(self, integration_id: str, placed_after: datetime) -> dict[str, dict[str, int] | None]:
        return {
            order_id: self.held_units.get((integration_id, order_id))
            for order_id in self.held_order_ids(integration_id, placed_after)
        }


class FakeStore:
    """A store holding StoreOrders; counts its calls."""

    def __init__(self, orders: Iterable[StoreOrder | UnreadableOrder] = ()) -> None:
        self.orders = {order.order_id: order for order in orders}
        self.calls = {"list": 0, "get": 0}
        self.fail_listing: Exception | None = None
        self.unidentified: list[UnidentifiedOrder] = []  # listed with the others, never found by id

    def put(self, order: StoreOrder | UnreadableOrder) -> None:
        self.orders[order.order_id] = order

    def orders_placed_since(self, since: datetime) -> Iterator[StoreOrder | UnreadableOrder | UnidentifiedOrder]:
        self.calls["list"] += 1
        if self.fail_listing:
            raise self.fail_listing
        placed = [order for order in self.orders.values() if order.placed_at is None or order.placed_at > since]
        return iter([*sorted(placed, key=lambda order: order.placed_at or since), *self.unidentified])

    def get_order(self, order_id: str) -> StoreOrder | UnreadableOrder | None:
        self.calls["get"] += 1
        return self.orders.get(order_id)


class FakeWarehouse:
    """myOGO as a dict of orders by reference, with scripted failures."""

    def __init__(self, products: Iterable[str] = ()) -> None:
        self.orders: dict[str, WarehouseOrder] = {}
        self.accepted: list[str] = []  # every reference myOGO stored, duplicates included
        self.products = set(products)
        self.creates = 0
        self.lookups = 0
        self.deadlines: list[datetime | None] = []  # the deadline each call was given
        self.fail_creates: list[Exception] = []  # raised by create_order, in order, before anything is stored
        self.fail_after_accept: list[Exception] = []  # stored, then raised: the caller never saw the answer
        self.reject_duplicates = True

    def _state(self, order: WarehouseOrder) -> WarehouseOrderState:
        customer = order.customer
        return WarehouseOrderState(
            id=f"id-{order.reference}",
            reference=order.reference,
            status="new",
            lines=[ShippedLine(code=line.code, quantity=line.quantity) for line in order.order_lines],
            customer=Address(
                name=customer.name,
                address1=customer.address1,
                zip=customer.zip,
                city=customer.city,
                country_code=customer.country_code,
            ),
        )

    def find_order(self, reference: str, deadline: datetime | None = None) -> WarehouseOrderState | None:
        self.lookups += 1
        self.deadlines.append(deadline)
        order = self.orders.get(reference)
        return self._state(order) if order else None

    def create_order(self, order: WarehouseOrder, deadline: datetime | None = None) -> WarehouseOrderState:
        self.creates += 1
        self.deadlines.append(deadline)
        if self.fail_creates:
            raise self.fail_creates.pop(0)
        if order.reference in self.orders and self.reject_duplicates:
            raise AlreadyExistsError("myogo", "order with same reference exists", 400)
        self.orders[order.reference] = order
        self.accepted.append(order.reference)
        if self.fail_after_accept:
            raise self.fail_after_accept.pop(0)
        return self._state(order)

    def unknown_product_codes(self, codes: Iterable[str]) -> set[str]:
        return set(codes) - self.products


class FakeQueue:
    def __init__(self) -> None:
        self.jobs: list[BaseModel] = []

    def send(self, jobs: Sequence[BaseModel]) -> None:
        self.jobs.extend(jobs)


class FakeSecrets:
    def __init__(self, credentials: dict[str, Credentials] | None = None) -> None:
        self.by_secret_name = credentials or {}

    def credentials(self, integration: Integration) -> Credentials:
        return self.by_secret_name[integration.secret_name]


def make_credentials(webhook_secret: str = "whsec-test", store_api_key: str = "centra-key-1") -> Credentials:
    return Credentials(
        store=CentraCredentials(api_key=SecretStr(store_api_key)),
        webhook_secret=SecretStr(webhook_secret),
        myogo_merchant_id="merchant-1",
        myogo_secret_token=SecretStr("myogo-secret-token-1"),
        myogo_client_id="123456",
        myogo_client_secret=SecretStr("abcdef"),
    )


class InMemorySkuBindings:
    def __init__(self) -> None:
        self.bindings: dict[tuple[str, str], SkuBinding] = {}
        self.writes = 0

    def get_sku_bindings(self, integration_id: str, skus: Sequence[str]) -> dict[str, SkuBinding]:
        return {sku: self.bindings[(integration_id, sku)] for sku in skus if (integration_id, sku) in self.bindings}

    def all_sku_bindings(self, integration_id: str) -> list[SkuBinding]:
        return [binding for (owner, _), binding in self.bindings.items() if owner == integration_id]

    def put_sku_bindings(self, bindings: Sequence[SkuBinding]) -> None:
        for binding in bindings:
            self.bindings[(binding.integration_id, binding.sku)] = binding
            self.writes += 1
