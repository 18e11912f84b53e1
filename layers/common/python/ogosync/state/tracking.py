"""The tracking flow's attributes on order bindings (ORDER#<store order id>, written by the order flow).

Pushing a shipment to the store happens once (design invariant 4): a conditional claim with a lease comes before
the store is called, and only the claim's owner records the outcome. The order flow's own attributes are never
written here, and it never writes these, so the two flows cannot undo each other's records.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ogosync.errors import ConcurrencyConflictError
from ogosync.models import OrderTracking, ShipmentToPush, StoreShipment, TrackingStatus
from ogosync.state.table import ClaimAttributes, Expression, Item, Table, epoch, key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PUSH_CLAIM = ClaimAttributes(
    "tracking_status",
    TrackingStatus.CLAIMED.value,
    "tracking_claim_token",
    "tracking_claim_expires",
    "tracking_claim_expires_epoch",
)
_CLAIM_FIELDS = PUSH_CLAIM.fields


class _TrackingExpression(Expression):
    def bound(self) -> str:
        """The order has a binding (the tracking flow never creates one)."""
        return f"attribute_exists({self.name('pk')})"

    def pushable(self, now: datetime) -> str:
        status = self.name("tracking_status")
        failed, claimed = self.value(TrackingStatus.FAILED.value), self.value(TrackingStatus.CLAIMED.value)
        waiting = self.value(TrackingStatus.WAITING_FOR_STORE.value)
        expired = f"{self.name('tracking_claim_expires_epoch')} < {self.value(epoch(now))}"
        retried = f"{status} IN ({failed}, {waiting})"
        return f"(attribute_not_exists({status}) OR {retried} OR ({status} = {claimed} AND {expired}))"

    def claimed_by(self, token: str) -> str:
        return f"{self.name('tracking_claim_token')} = {self.value(token)}"


class DynamoTrackingRepository:
    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._table = Table(client, table_name)

    def get_tracking(self, integration_id: str, store_order_ids: Sequence[str]) -> dict[str, OrderTracking]:
        keys = [key(integration_id, f"ORDER#{order_id}") for order_id in dict.fromkeys(store_order_ids)]
        views = (_tracking(item) for item in self._table.batch_get(keys))
        return {view.store_order_id: view for view in views}

    def record_myogo_status(self, integration_id: str, store_order_id: str, status: str, now: datetime) -> None:
        ex = _TrackingExpression()
        update = ex.set({"myogo_status": status, "myogo_status_at": now.isoformat()})
        try:
            self._update(integration_id, store_order_id, ex, update, ex.bound())
        except ConcurrencyConflictError:
            return  # no binding: not an order ogosync knows

    def claim_push(
        self, integration_id: str, store_order_id: str, token: str, now: datetime, lease_seconds: int
    ) -> OrderTracking:
        expires = now + timedelta(seconds=lease_seconds)
        ex = _TrackingExpression()
        update = ex.set(
            {
                "tracking_status": TrackingStatus.CLAIMED.value,
                "tracking_claim_token": token,
                "tracking_claim_expires": expires.isoformat(),
                "tracking_claim_expires_epoch": epoch(expires),
            },
            increment=("tracking_attempts",),
        )
        old = self._update(integration_id, store_order_id, ex, update, f"{ex.bound()} AND {ex.pushable(now)}")
        return _tracking(old)

    def renew_push_claim(
        self, integration_id: str, store_order_id: str, token: str, now: datetime, lease_seconds: int
    ) -> bool:
        item_key = key(integration_id, f"ORDER#{store_order_id}")
        return self._table.renew_claim(item_key, PUSH_CLAIM, token, now, lease_seconds)

    def mark_pushed(
        self,
        integration_id: str,
        store_order_id: str,
        token: str,
        shipment: StoreShipment,
        pushed: ShipmentToPush,
        now: datetime,
    ) -> None:
        ex = _TrackingExpression()
        update = ex.set(
            {
                "tracking_status": TrackingStatus.PUSHED.value,
                "store_shipment_id": shipment.shipment_id,
                "tracking_numbers": pushed.tracking_numbers,
                "tracking_url": pushed.tracking_url or "",
                "tracking_pushed_at": now.isoformat(),
            },
            remove=(*_CLAIM_FIELDS, "tracking_error"),
        )
        self._update(integration_id, store_order_id, ex, update, ex.claimed_by(token))

    def mark_push_failed(
        self,
        integration_id: str,
        store_order_id: str,
        token: str,
        status: TrackingStatus,
        error: str,
        now: datetime,
    ) -> None:
        ex = _TrackingExpression()
        update = ex.set(
            {"tracking_status": status.value, "tracking_error": error[:1000], "tracking_failed_at": now.isoformat()},
            remove=_CLAIM_FIELDS,
        )
        try:
            self._update(integration_id, store_order_id, ex, update, ex.claimed_by(token))
        except ConcurrencyConflictError:
            return  # no longer ours: whoever has it now decides

    def reopen_refused_push(self, integration_id: str, store_order_id: str, now: datetime) -> bool:
        ex = _TrackingExpression()
        update = ex.set({"tracking_status": TrackingStatus.FAILED.value, "tracking_failed_at": now.isoformat()})
        status = ex.name("tracking_status")
        refused = (TrackingStatus.REJECTED.value, TrackingStatus.CAPTURE_FAILED.value)
        condition = f"{ex.bound()} AND {status} IN ({', '.join(ex.value(value) for value in refused)})"
        try:
            self._update(integration_id, store_order_id, ex, update, condition)
        except ConcurrencyConflictError:
            return False
        return True

    def _update(
        self, integration_id: str, store_order_id: str, ex: Expression, update: str, condition: str
    ) -> dict[str, Any]:
        """One conditional update; returns the item as it was. A failed condition is ConcurrencyConflictError."""
        taken = f"order {store_order_id}: shipment pushed, refused, or being pushed by another worker"
        return self._table.update_if(
            key(integration_id, f"ORDER#{store_order_id}"), ex, update, condition, conflict=taken
        )


def _tracking(item: Item | dict[str, Any]) -> OrderTracking:
    return OrderTracking.model_validate(Table.payload(item, helpers=("tracking_claim_expires_epoch",)))
