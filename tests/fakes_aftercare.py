"""In-memory fakes for aftercare: the open/attention/waiting lists and the aftercare claim beside the order bindings
of an InMemoryState (same contract as DynamoAftercareRepository, see tests/integration/test_aftercare_contract.py),
and a myOGO that keeps a status and a copy per order and takes cancels and updates."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from ogosync.errors import ConcurrencyConflictError, RejectedByPlatformError
from ogosync.models import (
    AftercareStatus,
    AttentionOrder,
    BindingStatus,
    OpenOrder,
    OrderBinding,
    WaitingShipment,
    WarehouseCustomer,
    WarehouseOrder,
    WarehouseOrderContent,
    WarehouseOrderState,
)
from tests.fakes import FakeWarehouse, InMemoryState


class InMemoryAftercare:
    def __init__(self, state: InMemoryState) -> None:
        self.state = state
        self.cursors: dict[str, str | None] = {}
        self.attention: dict[tuple[str, str], AttentionOrder] = {}
        self.waiting: dict[tuple[str, str], WaitingShipment] = {}
        self._lock = threading.RLock()

    def open_orders(self, integration_id: str, after: str | None, limit: int) -> list[OpenOrder]:
        ids = sorted(order_id for owner, order_id in self.state.open_markers if owner == integration_id)
        ids = [order_id for order_id in ids if after is None or order_id > after][:limit]
        return [
            OpenOrder(
                integration_id=integration_id,
                store_order_id=order_id,
                reference=self.state.open_markers[(integration_id, order_id)],
            )
            for order_id in ids
        ]

    def close_open_order(self, integration_id: str, store_order_id: str) -> None:
        self.state.open_markers.pop((integration_id, store_order_id), None)

    def aftercare_cursor(self, integration_id: str) -> str | None:
        return self.cursors.get(integration_id)

    def save_aftercare_cursor(self, integration_id: str, after: str | None) -> None:
        self.cursors[integration_id] = after

    def claim_aftercare(
        self, integration_id: str, store_order_id: str, token: str, now: datetime, lease_seconds: int
    ) -> OrderBinding:
        with self._lock:
            old = self.state.bindings.get((integration_id, store_order_id))
            live = old is not None and old.aftercare_claim_expires is not None and old.aftercare_claim_expires >= now
            if old is None or old.status is not BindingStatus.SENT or live:
                raise ConcurrencyConflictError(f"order {store_order_id}: not sent, or another worker acts on it")
            expires = now + timedelta(seconds=lease_seconds)
            self.state.bindings[(integration_id, store_order_id)] = old.model_copy(
                update={"aftercare_claim_token": token, "aftercare_claim_expires": expires}
            )
            return old

    def renew_aftercare(
        self, integration_id: str, store_order_id: str, token: str, now: datetime, lease_seconds: int
    ) -> None:
        with self._lock:
            binding = self.state.bindings.get((integration_id, store_order_id))
            if binding is None or binding.aftercare_claim_token != token:
                raise ConcurrencyConflictError(f"order {store_order_id}: the aftercare claim was taken over")
            self.state.bindings[(integration_id, store_order_id)] = binding.model_copy(
                update={"aftercare_claim_expires": now + timedelta(seconds=lease_seconds)}
            )

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
        with self._lock:
            binding = self.state.bindings.get((integration_id, store_order_id))
            if binding is None or binding.aftercare_claim_token != token:
                raise ConcurrencyConflictError(f"order {store_order_id}: the aftercare claim was taken over")
            update: dict[str, object] = {
                "aftercare_status": status,
                "aftercare_detail": detail,
                "aftercare_at": now,
                "aftercare_claim_token": None,
                "aftercare_claim_expires": None,
            }
            if sent_hash is not None:
                update["sent_hash"] = sent_hash
            self.state.bindings[(integration_id, store_order_id)] = binding.model_copy(update=update)
            if status is AftercareStatus.NEEDS_PERSON:
                self.attention[(integration_id, store_order_id)] = AttentionOrder(
                    integration_id=integration_id,
                    store_order_id=store_order_id,
                    reason="aftercare",
                    detail=detail,
                    since=now,
                )
            if close:
                self.close_open_order(integration_id, store_order_id)

    def attention_orders(self, integration_id: str) -> list[AttentionOrder]:
        return [order for (owner, _), order in sorted(self.attention.items()) if owner == integration_id]

    def mark_waiting(self, integration_id: str, store_order_id: str, reference: str, now: datetime) -> None:
        with self._lock:
            old = self.waiting.get((integration_id, store_order_id))
            self.waiting[(integration_id, store_order_id)] = WaitingShipment(
                integration_id=integration_id,
                store_order_id=store_order_id,
                reference=reference,
                since=old.since if old else now,
            )

    def waiting_shipments(self, integration_id: str) -> list[WaitingShipment]:
        waiting = [shipment for (owner, _), shipment in self.waiting.items() if owner == integration_id]
        return sorted(waiting, key=lambda shipment: (shipment.since, shipment.store_order_id))

    def clear_waiting(self, integration_id: str, store_order_id: str) -> None:
        self.waiting.pop((integration_id, store_order_id), None)


class FakeAftercareWarehouse(FakeWarehouse):
    """FakeWarehouse whose orders also have a status, and that takes cancels and updates like myOGO's rules."""

    def __init__(self, products: tuple[str, ...] = ()) -> None:
        super().__init__(products)
        self.statuses: dict[str, str] = {}
        self.cancels: list[str] = []
        self.updates: list[str] = []

    def _state(self, order: WarehouseOrder) -> WarehouseOrderState:
        status = self.statuses.get(order.reference, "new")
        return WarehouseOrderState(id=f"id-{order.reference}", reference=order.reference, status=status)

    def edit_in_warehouse(self, reference: str, customer: WarehouseCustomer) -> None:
        """A person changes the delivery address in myOGO."""
        self.orders[reference] = self.orders[reference].model_copy(update={"customer": customer})

    def order_content(self, reference: str) -> WarehouseOrderContent | None:
        order = self.orders.get(reference)
        if order is None:
            return None
        return WarehouseOrderContent(
            reference=reference,
            status=self.statuses.get(reference, "new"),
            customer=order.customer,
            order_lines=order.order_lines,
            shipping_code=order.shipping_code,
        )

    def update_order(self, order: WarehouseOrder) -> WarehouseOrderContent:
        if self.statuses.get(order.reference, "new").lower() in ("collecting", "shipped", "returned"):
            raise RejectedByPlatformError("myogo", "order can not be updated", 400)
        self.orders[order.reference] = order
        self.updates.append(order.reference)
        content = self.order_content(order.reference)
        assert content is not None
        return content

    def cancel_order(self, current: WarehouseOrderContent) -> WarehouseOrderContent:
        cancellable = ("new", "pending", "reserved", "draft", "cancelled")
        if self.statuses.get(current.reference, "new").lower() not in cancellable:
            raise RejectedByPlatformError("myogo", "order can not be cancelled", 400)
        self.statuses[current.reference] = "cancelled"
        self.cancels.append(current.reference)
        return current.model_copy(update={"status": "cancelled"})
