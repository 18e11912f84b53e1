"""The tracking flow, myOGO -> store: when myOGO ships an order, the store gets the shipment with tracking, once.

myOGO's orders are read by `modifiedAfter` (the poll, the source of truth) or one by one when a myOGO webhook names
one (a hint; its content is not trusted). An order belongs to this integration when one of its order bindings holds
the very reference (under any prefix the integration has used) and the order flow recorded it as sent: another
integration's order on the same myOGO account never reaches this store. Each such order gets its myOGO status recorded
on its order binding; a SHIPPED one has its shipment pushed to the store once (design invariant 4):
- a conditional claim with a lease in DynamoDB comes before any store call, so a webhook and a poll, or two
  deliveries, never push the same order at the same time; the claim is renewed right before the store write
  (nothing is written when it is no longer ours), and the store write keeps to a deadline of the claim's first
  lease end minus claim_margin_seconds, as the order flow does for myOGO (sync/orders.py has the arithmetic:
  120 s lease, 30 s margin; Centra's 429 waits of up to 30 s cannot carry a POST past it);
- what the store already has for the order is looked at before anything is pushed, so a push that reached the store
  before a crash (or the merchant's own shipment) is recognised, not repeated; how a shipment is made (Centra: an
  open shipment completed, or one created, capture first) is the store adapter's (ports.ShipmentStore);
- a payment the store cannot capture ships nothing: recorded, reported loudly (a possible fraud) and left to a
  person, as is a shipment the store refuses;
- a shipment the store cannot take yet (Centra: a Pending order, not confirmed) is kept, listed as waiting
  (WAITSTORE#) and pushed again on every poll, WAITING_RETRY_LIMIT oldest first, whether or not myOGO changed the
  order since; once one has waited STORE_WAIT_ALARM_HOURS it is counted as overdue (metric and alarm).
A CANCELLED order is recorded and reported.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial

from aws_lambda_powertools import Logger

from ogosync.errors import (
    CaptureFailedError,
    ConcurrencyConflictError,
    OgosyncError,
    OrderNotReadyError,
    RejectedByPlatformError,
    ShipmentMismatchError,
)
from ogosync.models import (
    MYOGO_CANCELLED,
    MYOGO_SHIPPED,
    BindingStatus,
    Cursor,
    Flow,
    Integration,
    OrderTracking,
    ShipmentToPush,
    StoreShipment,
    TrackingStatus,
    UnreadableWarehouseRecord,
    WarehouseOrderChange,
)
from ogosync.ports import (
    AftercareRepository,
    Notices,
    ShipmentStore,
    StateRepository,
    TrackingRepository,
    TrackingWarehouse,
)
from ogosync.sync import notices
from ogosync.sync.lease import Lease, LeaseLostError, check_margin
from ogosync.sync.orders import future_dated, next_watermark
from ogosync.sync.runs import RunRecord, locked_run
from ogosync.timeutil import Clock, utc_now

logger = Logger(service="ogosync", child=True)

REPORT_LIMIT = 20
STORE_WAIT_ALARM_HOURS = 48  # a shipment waiting this long for the store (an unconfirmed order) raises an alarm
WAITING_RETRY_LIMIT = 50  # waiting shipments pushed again per poll, oldest first


class TrackingOutcome(StrEnum):
    NOT_OURS = "not_ours"  # no order of this integration was sent under the reference
    NOT_YET_SENT = "not_yet_sent"  # our order is being sent or its sending failed: the order flow decides first
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
    WAITING_FOR_STORE = "waiting_for_store"  # the store cannot take it yet (not confirmed): retried each poll
    BUSY = "busy"  # another worker holds a live claim on the push; try again later


# Outcomes the watermark must not pass: the change is applied again by a later poll.
_UNFINISHED = (None, TrackingOutcome.BUSY, TrackingOutcome.NOT_YET_SENT)
# The order flow has not recorded the order yet: it may still be ours (myOGO took it, our record is pending).
_BEING_SENT = (BindingStatus.CLAIMED, BindingStatus.FAILED)

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
    claim_lease_seconds: int = 120  # the store write ends claim_margin_seconds before it (module docstring)
    claim_margin_seconds: float = 30.0
    lock_ttl_seconds: int = 330
    new_token: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)
    aftercare: AftercareRepository | None = None  # the list of shipments waiting for the store (WAITSTORE#)
    notices: Notices | None = None  # a failed capture, for the merchant (sync/notices.py)

    def __post_init__(self) -> None:
        check_margin(self.claim_lease_seconds, self.claim_margin_seconds)


def candidate_order_ids(integration: Integration, reference: str) -> list[str]:
    """The store orders a myOGO reference may have been made from: one per prefix the integration has used.
    Which one it is (if any) is told by the binding that holds the very reference."""
    return [
        reference[len(prefix) :]
        for prefix in integration.reference_prefixes()
        if reference.startswith(prefix) and len(reference) > len(prefix)
    ]


def views_by_reference(
    integration: Integration, references: Iterable[str], deps: TrackingDeps
) -> dict[str, OrderTracking]:
    """The order binding (tracking view) of each reference that one of this integration's orders holds."""
    candidates = {reference: candidate_order_ids(integration, reference) for reference in references}
    wanted = [order_id for order_ids in candidates.values() for order_id in order_ids]
    views = deps.tracking.get_tracking(integration.id, wanted) if wanted else {}
    found: dict[str, OrderTracking] = {}
    for reference, order_ids in candidates.items():
        match = next((views[o] for o in order_ids if o in views and views[o].reference == reference), None)
        if match is not None:
            found[reference] = match
    return found


# ---- one order ----------------------------------------------------------------------------------


def apply_change(
    integration: Integration, change: WarehouseOrderChange, view: OrderTracking | None, deps: TrackingDeps
) -> TrackingOutcome:
    """Record where myOGO says the order is; push its shipment if it shipped and has not been pushed.

    Only an order the order flow recorded as sent is acted on: a reference that is ours by name only (an order of
    another integration on the same myOGO account, one of ours myOGO refused or that was held) is not ours."""
    if view is None or view.reference != change.reference:
        return TrackingOutcome.NOT_OURS
    if view.status in _BEING_SENT:
        return TrackingOutcome.NOT_YET_SENT
    if view.status is not BindingStatus.SENT:
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
    view = views_by_reference(integration, [reference], deps).get(reference)
    if view is None:
        return TrackingOutcome.NOT_OURS
    change = deps.warehouse.order_change(reference)
    if change is None:
        return TrackingOutcome.NOT_FOUND
    return apply_change(integration, change, view, deps)


def push_shipment(
    integration: Integration, order_id: str, change: WarehouseOrderChange, deps: TrackingDeps
) -> TrackingOutcome:
    token = deps.new_token()
    claimed_at = deps.clock()
    try:
        before = deps.tracking.claim_push(integration.id, order_id, token, claimed_at, deps.claim_lease_seconds)
    except ConcurrencyConflictError:
        return _current_outcome(integration, order_id, deps)
    renew = partial(deps.tracking.renew_push_claim, integration.id, order_id, token)
    lease = Lease(renew, deps.clock, deps.claim_lease_seconds, claimed_at)
    pushed = ShipmentToPush(
        carrier=change.shipping_code, tracking_numbers=change.tracking_numbers, tracking_url=change.tracking_url
    )
    try:
        tried_before = before.tracking_status is not None
        shipment, outcome = _push_to_store(order_id, change, pushed, lease, deps, tried_before=tried_before)
    except LeaseLostError:
        logger.warning(
            "push claim taken over before the store write: stopped without writing", extra={"order_id": order_id}
        )
        return _current_outcome(integration, order_id, deps)
    except CaptureFailedError as exc:
        logger.error(
            "store could not capture the payment: nothing shipped (possible fraud)", extra=_about(order_id, exc)
        )
        return _refused(integration, order_id, token, TrackingStatus.CAPTURE_FAILED, exc, deps)
    except OrderNotReadyError as exc:
        return _wait_for_store(integration, order_id, change.reference, token, exc, deps)
    except (RejectedByPlatformError, ShipmentMismatchError) as exc:
        logger.error("store refused the shipment", extra=_about(order_id, exc))
        return _refused(integration, order_id, token, TrackingStatus.REJECTED, exc, deps)
    except OgosyncError as exc:
        failed = TrackingStatus.FAILED
        deps.tracking.mark_push_failed(integration.id, order_id, token, failed, str(exc), deps.clock())
        raise
    deps.tracking.mark_pushed(integration.id, order_id, token, shipment, pushed, deps.clock())
    if deps.aftercare is not None:
        deps.aftercare.clear_waiting(integration.id, order_id)
    logger.info(
        "shipment in the store", extra={"order_id": order_id, "outcome": outcome, "shipment": shipment.shipment_id}
    )
    return outcome


def _push_to_store(
    order_id: str,
    change: WarehouseOrderChange,
    pushed: ShipmentToPush,
    lease: Lease,
    deps: TrackingDeps,
    *,
    tried_before: bool,
) -> tuple[StoreShipment, TrackingOutcome]:
    """After an earlier attempt whose outcome is unknown, what the store has first; the store write only once our
    claim is renewed (the adapter calls lease.renew right before it: LeaseLostError, nothing written, when the claim
    is gone), before the deadline. A first push costs no extra read: the adapter looks at the store itself and
    answers `already_shipped` when the store (or the merchant) shipped it."""
    if tried_before and (shipped := deps.store.shipped_already(order_id)) is not None:
        return shipped, TrackingOutcome.RECOVERED
    deadline = lease.deadline(deps.claim_margin_seconds)
    shipment = deps.store.push_shipment(order_id, change.lines, pushed, before_write=lease.renew, deadline=deadline)
    if shipment.already_shipped:
        return shipment, TrackingOutcome.RECOVERED
    return shipment, TrackingOutcome.COMPLETED if shipment.was_open else TrackingOutcome.PUSHED


def _refused(
    integration: Integration,
    order_id: str,
    token: str,
    status: TrackingStatus,
    error: OgosyncError,
    deps: TrackingDeps,
) -> TrackingOutcome:
    deps.tracking.mark_push_failed(integration.id, order_id, token, status, str(error), deps.clock())
    if status is TrackingStatus.CAPTURE_FAILED and deps.notices is not None:
        deps.notices.record(notices.capture_failed(integration, order_id, deps.clock()))
    return _REFUSED[status]


def _wait_for_store(
    integration: Integration, order_id: str, reference: str, token: str, error: OgosyncError, deps: TrackingDeps
) -> TrackingOutcome:
    """Keep the shipment for a later poll: listed first, then recorded, so a crash between leaves it listed."""
    now = deps.clock()
    if deps.aftercare is not None:
        deps.aftercare.mark_waiting(integration.id, order_id, reference, now)
    waiting = TrackingStatus.WAITING_FOR_STORE
    deps.tracking.mark_push_failed(integration.id, order_id, token, waiting, str(error), now)
    logger.warning("store cannot take the shipment yet; kept for the next poll", extra=_about(order_id, error))
    return TrackingOutcome.WAITING_FOR_STORE


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
    overdue: list[str] = field(default_factory=list)  # waiting for the store longer than STORE_WAIT_ALARM_HOURS
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
    read = list(deps.warehouse.orders_changed_since(base - timedelta(minutes=settings.poll_overlap_minutes)))
    changes = {change.reference: change for change in read if isinstance(change, WarehouseOrderChange)}
    views = views_by_reference(integration, changes, deps)
    result = TrackingRunResult(integration.id)
    _report_unreadable(result, [record for record in read if isinstance(record, UnreadableWarehouseRecord)])
    unfinished: list[datetime] = []
    for reference, change in changes.items():
        view = views.get(reference)
        order_id = view.store_order_id if view is not None else None
        outcome = _apply_counted(integration, change, view, deps, result)
        if outcome in _UNFINISHED and change.edited_at is not None:
            unfinished.append(change.edited_at)
        if order_id and outcome is TrackingOutcome.CANCELLED:
            result.cancelled.append(order_id)
        if order_id and outcome in (TrackingOutcome.CAPTURE_FAILED, TrackingOutcome.REJECTED):
            result.refused.append(order_id)
    _retry_waiting(integration, deps, set(changes), result)
    result.counts["seen"] = len(changes)
    result.cancelled, result.refused = result.cancelled[:REPORT_LIMIT], result.refused[:REPORT_LIMIT]
    seen = [change.edited_at for change in changes.values() if change.edited_at is not None]
    result.watermark = next_watermark(cursor.watermark, seen, unfinished, started)
    result.future_dated = future_dated({ref: change.edited_at for ref, change in changes.items()}, started)
    if result.future_dated:
        result.counts["future_dated"] = len(result.future_dated)
    logger.info("tracking poll done", extra={"counts": dict(result.counts), "cancelled": result.cancelled})
    return result


def _report_unreadable(result: TrackingRunResult, unreadable: list[UnreadableWarehouseRecord]) -> None:
    """A myOGO order that cannot be read is counted and named in the run's errors (status shows them, the
    UnreadableWarehouseRecords alarm fires). It does not hold the watermark: held, it would be re-read on every poll
    for ever; it is read again whenever myOGO changes it, and its webhook hint, if any, fails loudly meanwhile."""
    if not unreadable:
        return
    result.counts["unreadable"] += len(unreadable)
    result.errors.extend(
        f"unreadable myOGO order {record.key or '(no reference)'}: {record.problem}" for record in unreadable
    )
    logger.warning("unreadable myOGO orders", extra={"orders": [record.key for record in unreadable]})


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


def _retry_waiting(integration: Integration, deps: TrackingDeps, done: set[str], result: TrackingRunResult) -> None:
    """Push again the shipments the store could not take yet: myOGO's editTime no longer moves for them, so the
    poll by modifiedAfter would never bring them back. The oldest WAITING_RETRY_LIMIT per poll."""
    if deps.aftercare is None:
        return
    waiting = deps.aftercare.waiting_shipments(integration.id)
    overdue_since = deps.clock() - timedelta(hours=STORE_WAIT_ALARM_HOURS)
    still_waiting = list(waiting[WAITING_RETRY_LIMIT:])
    for shipment in waiting[:WAITING_RETRY_LIMIT]:
        if shipment.reference in done:  # this poll applied it already (a push clears its listing)
            still_waiting.append(shipment)
            continue
        outcome = _retry_one(integration, shipment.store_order_id, shipment.reference, deps, result)
        if outcome in (None, TrackingOutcome.WAITING_FOR_STORE, TrackingOutcome.BUSY):
            still_waiting.append(shipment)
        else:  # pushed, refused (left to a person), or no longer a shipment in myOGO
            deps.aftercare.clear_waiting(integration.id, shipment.store_order_id)
    overdue = [shipment.store_order_id for shipment in still_waiting if shipment.since < overdue_since]
    result.overdue = overdue[:REPORT_LIMIT]
    result.counts["waiting_listed"] = len(still_waiting)
    result.counts["waiting_overdue"] = len(overdue)


def _retry_one(
    integration: Integration, order_id: str, reference: str, deps: TrackingDeps, result: TrackingRunResult
) -> TrackingOutcome | None:
    change = deps.warehouse.order_change(reference)
    if change is None:
        return TrackingOutcome.NOT_FOUND
    view = deps.tracking.get_tracking(integration.id, [order_id]).get(order_id)
    outcome = _apply_counted(integration, change, view, deps, result)
    if outcome is not None:
        result.counts[f"retried_{outcome}"] += 1
    return outcome
