"""In-memory fakes for the tracking flow: the tracking view of order bindings (same contract as
DynamoTrackingRepository, see tests/integration/test_stock_tracking_state_contract.py), a store that takes
shipments, and myOGO's orders."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta

from ogosync.errors import (
    CaptureFailedError,
    ConcurrencyConflictError,
    OgosyncError,
    OrderNotReadyError,
)
from ogosync.models import (
    OrderTracking,
    ShipmentToPush,
    StoreShipment,
    TrackingStatus,
    UnreadableWarehouseRecord,
    WarehouseOrderChange,
)
from ogosync.stores.centra.client import OpenShipmentFlow
from tests.fakes import FakeStore, InMemoryState


class InMemoryTracking:
    """Tracking attributes beside the order bindings of an InMemoryState (one item each in DynamoDB)."""

    def __init__(self, state: InMemoryState) -> None:
        self.state = state
        self.views: dict[tuple[str, str], OrderTracking] = {}
        self.fail_next_mark_pushed = False  # simulates a worker dying between the store's answer and our record
        self._lock = threading.RLock()

    def _view(self, integration_id: str, store_order_id: str) -> OrderTracking | None:
        binding = self.state.get_order_binding(integration_id, store_order_id)
        if binding is None:
            return None
        view = self.views.get((integration_id, store_order_id)) or OrderTracking(
            integration_id=integration_id, store_order_id=store_order_id, reference=binding.reference
        )
        return view.model_copy(update={"myogo_status": binding.myogo_status, "status": binding.status})

    def _put(self, view: OrderTracking) -> None:
        self.views[(view.integration_id, view.store_order_id)] = view

    def get_tracking(self, integration_id: str, store_order_ids: Sequence[str]) -> dict[str, OrderTracking]:
        views = {order_id: self._view(integration_id, order_id) for order_id in store_order_ids}
        return {order_id: view for order_id, view in views.items() if view is not None}

    def record_myogo_status(self, integration_id: str, store_order_id: str, status: str, now: datetime) -> None:
        with self._lock:
            binding = self.state.get_order_binding(integration_id, store_order_id)
            if binding is None:
                return
            key = (integration_id, store_order_id)
            self.state.bindings[key] = binding.model_copy(update={"myogo_status": status})
            view = self._view(integration_id, store_order_id)
            assert view is not None
            self._put(view.model_copy(update={"myogo_status": status, "myogo_status_at": now}))

    def claim_push(
        self, integration_id: str, store_order_id: str, token: str, now: datetime, lease_seconds: int
    ) -> OrderTracking:
        with self._lock:
            old = self._view(integration_id, store_order_id)
            status = old.tracking_status if old else None
            expired = old is not None and old.tracking_claim_expires is not None and old.tracking_claim_expires < now
            retried = (None, TrackingStatus.FAILED, TrackingStatus.WAITING_FOR_STORE)
            pushable = status in retried or (status is TrackingStatus.CLAIMED and expired)
            if old is None or not pushable:
                raise ConcurrencyConflictError(f"order {store_order_id}: pushed, refused or being pushed")
            self._put(
                old.model_copy(
                    update={
                        "tracking_status": TrackingStatus.CLAIMED,
                        "tracking_claim_token": token,
                        "tracking_claim_expires": now + timedelta(seconds=lease_seconds),
                        "tracking_attempts": old.tracking_attempts + 1,
                    }
                )
            )
            return old

    def renew_push_claim(
        self, integration_id: str, store_order_id: str, token: str, now: datetime, lease_seconds: int
    ) -> bool:
        with self._lock:
            view = self._view(integration_id, store_order_id)
            if view is None or view.tracking_claim_token != token or view.tracking_status is not TrackingStatus.CLAIMED:
                return False
            self._put(view.model_copy(update={"tracking_claim_expires": now + timedelta(seconds=lease_seconds)}))
            return True

    def reopen_refused_push(self, integration_id: str, store_order_id: str, now: datetime) -> bool:
        with self._lock:
            view = self._view(integration_id, store_order_id)
            if view is None or view.tracking_status not in (TrackingStatus.REJECTED, TrackingStatus.CAPTURE_FAILED):
                return False
            self._put(view.model_copy(update={"tracking_status": TrackingStatus.FAILED, "tracking_failed_at": now}))
            return True

    def _own_claim(self, integration_id: str, store_order_id: str, token: str) -> OrderTracking:
        view = self._view(integration_id, store_order_id)
        if view is None or view.tracking_claim_token != token:
            raise ConcurrencyConflictError("claim lost")
        return view

    def mark_pushed(
        self,
        integration_id: str,
        store_order_id: str,
        token: str,
        shipment: StoreShipment,
        pushed: ShipmentToPush,
        now: datetime,
    ) -> None:
        with self._lock:
            if self.fail_next_mark_pushed:
                self.fail_next_mark_pushed = False
                raise OgosyncError("simulated crash before the state write")
            view = self._own_claim(integration_id, store_order_id, token)
            self._put(
                view.model_copy(
                    update={
                        "tracking_status": TrackingStatus.PUSHED,
                        "store_shipment_id": shipment.shipment_id,
                        "tracking_numbers": pushed.tracking_numbers,
                        "tracking_url": pushed.tracking_url,
                        "tracking_pushed_at": now,
                        "tracking_claim_token": None,
                        "tracking_claim_expires": None,
                        "tracking_error": None,
                    }
                )
            )

    def mark_push_failed(
        self,
        integration_id: str,
        store_order_id: str,
        token: str,
        status: TrackingStatus,
        error: str,
        now: datetime,
    ) -> None:
        with self._lock:
            try:
                view = self._own_claim(integration_id, store_order_id, token)
            except ConcurrencyConflictError:
                return
            self._put(
                view.model_copy(
                    update={
                        "tracking_status": status,
                        "tracking_error": error,
                        "tracking_failed_at": now,
                        "tracking_claim_token": None,
                        "tracking_claim_expires": None,
                    }
                )
            )


class FakeShipmentStore(FakeStore, OpenShipmentFlow):
    """A store (orders, as FakeStore) with shipments per order and scripted failures; counts its calls. It ships as
    Centra does (OpenShipmentFlow over the calls below), so the engine's tests see a store with open shipments."""

    def __init__(self) -> None:
        super().__init__()
        self.shipments: dict[str, list[StoreShipment]] = {}
        self.created: list[tuple[str, dict[str, int], ShipmentToPush]] = []
        self.completed: list[tuple[str, str, ShipmentToPush]] = []
        self.capture_fails: set[str] = set()
        self.not_confirmed: set[str] = set()  # orders the store takes no shipment of yet (Centra: Pending)
        self.fail_after_accept: list[Exception] = []  # stored, then raised: the caller never saw the answer
        self.lookups = 0
        self.deadlines: list[datetime | None] = []  # the deadline each store write was given

    def order_shipments(self, order_id: str) -> list[StoreShipment]:
        self.lookups += 1
        return list(self.shipments.get(order_id, []))

    def create_shipment(
        self, order_id: str, lines: Mapping[str, int], shipment: ShipmentToPush, deadline: datetime | None = None
    ) -> StoreShipment:
        self.deadlines.append(deadline)
        if order_id in self.not_confirmed:
            raise OrderNotReadyError("centra", f"order {order_id} is not confirmed in Centra yet")
        if order_id in self.capture_fails:
            raise CaptureFailedError("centra", f"order {order_id}: can not capture order")
        created = StoreShipment(
            shipment_id=f"{order_id}-{len(self.shipments.get(order_id, [])) + 1}",
            shipped=True,
            tracking=",".join(shipment.tracking_numbers),
        )
        self.shipments.setdefault(order_id, []).append(created)
        self.created.append((order_id, dict(lines), shipment))
        if self.fail_after_accept:
            raise self.fail_after_accept.pop(0)
        return created

    def complete_shipment(
        self, order_id: str, shipment_id: str, shipment: ShipmentToPush, deadline: datetime | None = None
    ) -> StoreShipment:
        self.deadlines.append(deadline)
        if order_id in self.capture_fails:
            raise CaptureFailedError("centra", f"order {order_id}: capture failed")
        done = StoreShipment(shipment_id=shipment_id, shipped=True, tracking=",".join(shipment.tracking_numbers))
        self.shipments[order_id] = [done if s.shipment_id == shipment_id else s for s in self.shipments[order_id]]
        self.completed.append((order_id, shipment_id, shipment))
        return done


class FakeTrackingWarehouse:
    """myOGO's orders by reference."""

    def __init__(self) -> None:
        self.orders: dict[str, WarehouseOrderChange] = {}
        self.calls = {"list": 0, "one": 0}
        self.unreadable: list[UnreadableWarehouseRecord] = []  # listed after the others

    def put(self, change: WarehouseOrderChange) -> None:
        self.orders[change.reference] = change

    def orders_changed_since(
        self, modified_after: datetime
    ) -> Iterator[WarehouseOrderChange | UnreadableWarehouseRecord]:
        self.calls["list"] += 1
        changed = [o for o in self.orders.values() if o.edited_at is None or o.edited_at > modified_after]
        return iter([*sorted(changed, key=lambda order: order.edited_at or modified_after), *self.unreadable])

    def order_change(self, reference: str) -> WarehouseOrderChange | None:
        self.calls["one"] += 1
        return self.orders.get(reference)
