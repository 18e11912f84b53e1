"""The tracking flow, myOGO -> store: when myOGO ships an order, the store gets the shipment with tracking, once.

myOGO's orders are read by `modifiedAfter` (the poll, the source of truth) or one by one when a myOGO webhook names
one (a hint; its content is not trusted). Each one that belongs to this integration gets its myOGO status recorded
on its order binding; a SHIPPED one has its shipment pushed to the store once (design invariant 4):
- a conditional claim with a lease in DynamoDB comes before any store call, so a webhook and a poll, or two
  deliveries, never push the same order at the same time;
- the order's shipments in the store are looked at before one is created, so a push that reached the store before
  a crash (or a shipment the store opened itself) is recognised, not repeated;
- a payment the store cannot capture ships nothing: recorded, reported loudly (a possible fraud) and left to a
  person, as is a shipment the store refuses.
A CANCELLED order is recorded and reported.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from aws_lambda_powertools import Logger

from ogosync.errors import CaptureFailedError, ConcurrencyConflictError, OgosyncError, RejectedByPlatformError
from ogosync.models import (
    MYOGO_CANCELLED,
    MYOGO_SHIPPED,
    Cursor,
    Flow,
    Integration,
    OrderTracking,
    ShipmentToPush,
    ShippedLine,
    StoreOrder,
    StoreShipment,
    TrackingStatus,
    UnreadableOrder,
    WarehouseOrderChange,
)
from ogosync.ports import ShipmentStore, StateRepository, TrackingRepository, TrackingWarehouse
from ogosync.sync.orders import future_dated, next_watermark
from ogosync.sync.runs import RunRecord, locked_run
from ogosync.timeutil import Clock, utc_now

logger = Logger(service="ogosync", child=True)

REPORT_LIMIT = 20


class ShipmentMismatchError(OgosyncError):
    """myOGO shipped lines the store order does not have (or the store cannot show the order)."""


class TrackingOutcome(StrEnum):
    NOT_OURS = "not_ours"  # no order binding of this integration has the reference
    NOT_FOUND = "not_found"  # a hint named a reference myOGO does not have
    UNCHANGED = "unchanged"
    STATUS_RECORDED = "status_recorded"
    CANCELLED = "cancelled"
    PUSHED = "pushed"  # a shipment was created in the store
    COMPLETED = "completed"  # an open store shipment was completed
    RECOVERED = "recovered"  # the store had it shipped already (an earlier attempt, or the merchant)
    ALREADY_PUSHED = "already_pushed"
    CAPTURE_FAILED = "capture_failed"
    REJECTED = "rejected"
    REFUSED_BEFORE = "refused_before"  # the store refused it at an earlier try: left to a person, not retried
    BUSY = "busy"  # another worker holds a live claim on the push; try again later


_REFUSED: dict[TrackingStatus | None, TrackingOutcome] = {
    TrackingStatus.CAPTURE_FAILED: TrackingOutcome.CAPTURE_FAILED,
    TrackingStatus.REJECTED: TrackingOutcome.REJECTED,
}


@dataclass
class TrackingDeps:
    state: StateRepository
    tracking: TrackingRepository
    store: ShipmentStore
    warehouse: TrackingWarehouse
    clock: Clock = utc_now
    claim_lease_seconds: int = 120  # longer than the tracking function's timeout: a live claim means a live worker
    lock_ttl_seconds: int = 330
    new_token: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)


def store_order_id(integration: Integration, reference: str) -> str | None:
    """The store order a myOGO reference was made from (Integration.myogo_reference), None when it cannot be one."""
    prefix = integration.settings.reference_prefix
    order_id = reference[len(prefix) :] if reference.startswith(prefix) else ""
    return order_id or None


# ---- one order ----------------------------------------------------------------------------------


def apply_change(
    integration: Integration, change: WarehouseOrderChange, view: OrderTracking | None, deps: TrackingDeps
) -> TrackingOutcome:
    """Record where myOGO says the order is; push its shipment if it shipped and has not been pushed."""
    if view is None or view.reference != change.reference:
        return TrackingOutcome.NOT_OURS
    moved = view.myogo_status != change.status
    if moved:
        deps.tracking.record_myogo_status(integration.id, view.store_order_id, change.status, deps.clock())
    if change.status == MYOGO_SHIPPED:
        if view.tracking_status is TrackingStatus.PUSHED:
            return TrackingOutcome.ALREADY_PUSHED
        if view.tracking_status in _REFUSED:
            return TrackingOutcome.REFUSED_BEFORE
        return push_shipment(integration, view.store_order_id, change, deps)
    if change.status == MYOGO_CANCELLED and moved:
        logger.warning("order cancelled in myOGO", extra={"order_id": view.store_order_id})
        return TrackingOutcome.CANCELLED
    return TrackingOutcome.STATUS_RECORDED if moved else TrackingOutcome.UNCHANGED


def handle_tracking_hint(integration: Integration, reference: str, deps: TrackingDeps) -> TrackingOutcome:
    """A webhook named the order: read it from myOGO (the hint itself is not trusted) and apply it."""
    order_id = store_order_id(integration, reference)
    if order_id is None:
        return TrackingOutcome.NOT_OURS
    change = deps.warehouse.order_change(reference)
    if change is None:
        return TrackingOutcome.NOT_FOUND
    return apply_change(integration, change, deps.tracking.get_tracking(integration.id, [order_id]).get(order_id), deps)


def push_shipment(
    integration: Integration, order_id: str, change: WarehouseOrderChange, deps: TrackingDeps
) -> TrackingOutcome:
    token = deps.new_token()
    try:
        deps.tracking.claim_push(integration.id, order_id, token, deps.clock(), deps.claim_lease_seconds)
    except ConcurrencyConflictError:
        return _current_outcome(integration, order_id, deps)
    pushed = ShipmentToPush(
        carrier=change.shipping_code, tracking_numbers=change.tracking_numbers, tracking_url=change.tracking_url
    )
    try:
        shipment, outcome = _push_to_store(order_id, change, pushed, deps)
    except CaptureFailedError as exc:
        logger.error(
            "store could not capture the payment: nothing shipped (possible fraud)", extra=_about(order_id, exc)
        )
        return _refused(integration, order_id, token, TrackingStatus.CAPTURE_FAILED, exc, deps)
    except (RejectedByPlatformError, ShipmentMismatchError) as exc:
        logger.error("store refused the shipment", extra=_about(order_id, exc))
        return _refused(integration, order_id, token, TrackingStatus.REJECTED, exc, deps)
    except OgosyncError as exc:
        failed = TrackingStatus.FAILED
        deps.tracking.mark_push_failed(integration.id, order_id, token, failed, str(exc), deps.clock())
        raise
    deps.tracking.mark_pushed(integration.id, order_id, token, shipment, pushed, deps.clock())
    logger.info(
        "shipment in the store", extra={"order_id": order_id, "outcome": outcome, "shipment": shipment.shipment_id}
    )
    return outcome


def _push_to_store(
    order_id: str, change: WarehouseOrderChange, pushed: ShipmentToPush, deps: TrackingDeps
) -> tuple[StoreShipment, TrackingOutcome]:
    existing = deps.store.order_shipments(order_id)
    shipped = next((shipment for shipment in existing if shipment.shipped), None)
    if shipped is not None:
        return shipped, TrackingOutcome.RECOVERED
    opened = next((shipment for shipment in existing if not shipment.shipped), None)
    if opened is not None:
        return deps.store.complete_shipment(order_id, opened.shipment_id, pushed), TrackingOutcome.COMPLETED
    lines = store_lines(order_id, deps.store.get_order(order_id), change.lines)
    return deps.store.create_shipment(order_id, lines, pushed), TrackingOutcome.PUSHED


def store_lines(
    order_id: str, order: StoreOrder | UnreadableOrder | None, shipped: Sequence[ShippedLine]
) -> dict[str, int]:
    """The store's lines (line id -> quantity) of what myOGO shipped, matched by SKU."""
    if not isinstance(order, StoreOrder):
        raise ShipmentMismatchError(f"order {order_id} cannot be read from the store")
    if not shipped:
        raise ShipmentMismatchError(f"order {order_id}: myOGO lists no shipped lines")
    free = {line.line_id: line.quantity for line in order.lines}
    lines: Counter[str] = Counter()
    missing = []
    for item in shipped:
        left = item.quantity
        for line in order.lines:
            take = min(left, free[line.line_id]) if line.sku == item.code else 0
            free[line.line_id] -= take
            lines[line.line_id] += take
            left -= take
        if left:
            missing.append(f"{left} x {item.code}")
    if missing:
        raise ShipmentMismatchError(f"order {order_id}: myOGO shipped {', '.join(missing)} not in the store order")
    return {line_id: quantity for line_id, quantity in lines.items() if quantity}


def _refused(
    integration: Integration,
    order_id: str,
    token: str,
    status: TrackingStatus,
    error: OgosyncError,
    deps: TrackingDeps,
) -> TrackingOutcome:
    deps.tracking.mark_push_failed(integration.id, order_id, token, status, str(error), deps.clock())
    return _REFUSED[status]


def _current_outcome(integration: Integration, order_id: str, deps: TrackingDeps) -> TrackingOutcome:
    current = deps.tracking.get_tracking(integration.id, [order_id]).get(order_id)
    status = current.tracking_status if current else None
    if status is TrackingStatus.PUSHED:
        return TrackingOutcome.ALREADY_PUSHED
    return TrackingOutcome.REFUSED_BEFORE if status in _REFUSED else TrackingOutcome.BUSY


def _about(order_id: str, error: OgosyncError) -> dict[str, str]:
    return {"order_id": order_id, "error": str(error)}


# ---- the poll -----------------------------------------------------------------------------------


@dataclass
class TrackingRunResult:
    integration_id: str
    counts: Counter[str] = field(default_factory=Counter)
    cancelled: list[str] = field(default_factory=list)  # store orders myOGO cancelled (newly seen)
    refused: list[str] = field(default_factory=list)  # newly refused by the store, or its capture failed
    errors: list[str] = field(default_factory=list)
    watermark: datetime | None = None
    future_dated: list[str] = field(default_factory=list)  # references changed in myOGO "after now"


def poll_tracking(integration: Integration, deps: TrackingDeps, owner: str) -> TrackingRunResult | None:
    """Every myOGO order changed since the watermark (minus an overlap); None when another poll holds the lock."""
    lock = (integration.id, Flow.TRACKING, owner, deps.lock_ttl_seconds)
    return locked_run(
        deps.state, deps.clock, lock, lambda cursor, started: _poll(integration, deps, cursor, started), _record
    )


def _record(result: TrackingRunResult) -> RunRecord:
    errors = "; ".join(result.errors[:5]) or None
    return RunRecord(result.watermark, result.counts, errors, {"future_dated": result.future_dated[:REPORT_LIMIT]})


def _poll(integration: Integration, deps: TrackingDeps, cursor: Cursor, started: datetime) -> TrackingRunResult:
    settings = integration.settings
    base = cursor.watermark or started - timedelta(hours=settings.first_poll_lookback_hours)
    changes = {
        change.reference: change
        for change in deps.warehouse.orders_changed_since(base - timedelta(minutes=settings.poll_overlap_minutes))
    }
    order_ids = {reference: store_order_id(integration, reference) for reference in changes}
    views = deps.tracking.get_tracking(integration.id, [order_id for order_id in order_ids.values() if order_id])
    result = TrackingRunResult(integration.id)
    unfinished: list[datetime] = []
    for reference, change in changes.items():
        order_id = order_ids[reference]
        outcome = _apply_counted(integration, change, views.get(order_id) if order_id else None, deps, result)
        if outcome in (None, TrackingOutcome.BUSY) and change.edited_at is not None:
            unfinished.append(change.edited_at)
        if order_id and outcome is TrackingOutcome.CANCELLED:
            result.cancelled.append(order_id)
        if order_id and outcome in (TrackingOutcome.CAPTURE_FAILED, TrackingOutcome.REJECTED):
            result.refused.append(order_id)
    result.counts["seen"] = len(changes)
    result.cancelled, result.refused = result.cancelled[:REPORT_LIMIT], result.refused[:REPORT_LIMIT]
    seen = [change.edited_at for change in changes.values() if change.edited_at is not None]
    result.watermark = next_watermark(cursor.watermark, seen, unfinished, started)
    result.future_dated = future_dated({ref: change.edited_at for ref, change in changes.items()}, started)
    if result.future_dated:
        result.counts["future_dated"] = len(result.future_dated)
    logger.info("tracking poll done", extra={"counts": dict(result.counts), "cancelled": result.cancelled})
    return result


def _apply_counted(
    integration: Integration,
    change: WarehouseOrderChange,
    view: OrderTracking | None,
    deps: TrackingDeps,
    result: TrackingRunResult,
) -> TrackingOutcome | None:
    """Apply one change and count its outcome; None when it failed (so the watermark must not pass it)."""
    try:
        outcome = apply_change(integration, change, view, deps)
    except OgosyncError as exc:
        result.counts["failed"] += 1
        result.errors.append(str(exc))
        logger.warning("tracking push failed", extra={"reference": change.reference, "error": str(exc)})
        return None
    result.counts[outcome] += 1
    return outcome
