"""What a person may do to one order, and its history as a timeline.

- "do not send": a held order is closed as skipped with DO_NOT_SEND_REASON by the same conditional write the order
  import uses, so it fails (409) when a worker claimed the order meanwhile; the import leaves such an order alone.
- retry: a failed order (myOGO's answer unknown) is queued for a new import, which looks it up in myOGO before it
  sends again (the import's own rule), so a retry never makes a second myOGO order.
- retry a refused shipment: see retry_shipment.
- The timeline is built from what ogosync recorded (the order binding and the tracking flow's attributes). It shows
  the latest hold with its reasons, not every earlier hold: the binding keeps only the current ones.
"""

from __future__ import annotations

from datetime import datetime

from ogosync.models import (
    DO_NOT_SEND_REASON,
    BindingStatus,
    Flow,
    Integration,
    OrderBinding,
    OrderImportJob,
    OrderNote,
    OrderTracking,
    TrackingHintJob,
    TrackingStatus,
)
from ogosync.operator.deps import OperatorDeps
from ogosync.operator.errors import conflict, not_found
from ogosync.operator.schemas import OrderEvent, OrderOutcome


def do_not_send(integration_id: str, order_id: str, deps: OperatorDeps) -> OrderOutcome:
    integration = deps.integration(integration_id)
    binding = _binding(integration, order_id, deps)
    if binding.status is not BindingStatus.HELD:
        raise conflict(
            "order_not_held", f"only a held order can be kept from myOGO; order {order_id!r} is {binding.status}"
        )
    closed = deps.state.mark_order_skipped(
        integration.id, order_id, binding.reference, DO_NOT_SEND_REASON, deps.clock(), binding.store_placed_at
    )
    if not closed:
        raise conflict("order_busy", f"order {order_id!r} is being sent right now; look at it again in a minute")
    add_note(integration, order_id, "a person chose: do not send to myOGO", deps)
    return OrderOutcome(integration_id=integration.id, order_id=order_id, status=BindingStatus.SKIPPED)


def retry_order(integration_id: str, order_id: str, deps: OperatorDeps) -> OrderOutcome:
    integration = deps.integration(integration_id)
    binding = _binding(integration, order_id, deps)
    if binding.status is not BindingStatus.FAILED:
        raise conflict(
            "order_not_failed", f"only a failed order can be retried; order {order_id!r} is {binding.status}"
        )
    deps.order_queue.send([OrderImportJob(integration_id=integration.id, order_id=order_id, source="recheck")])
    add_note(integration, order_id, "retried by a person", deps)
    return OrderOutcome(integration_id=integration.id, order_id=order_id, status=binding.status, queued=True)


def retry_shipment(integration_id: str, order_id: str, deps: OperatorDeps) -> OrderOutcome:
    """Push a shipment the store refused once more (after a fix in the store): the refusal becomes a failed push by
    a conditional write, and a tracking job re-reads the order from myOGO and pushes it, looking in the store first."""
    integration = deps.integration(integration_id)
    binding = _binding(integration, order_id, deps)
    queue = deps.flow_queues.get(Flow.TRACKING)
    if queue is None or deps.tracking is None:
        raise conflict("flow_not_deployed", "the tracking flow has no queue in this deployment")
    if not deps.tracking.reopen_refused_push(integration.id, order_id, deps.clock()):
        raise conflict("shipment_not_refused", f"the store has not refused a shipment of order {order_id!r}")
    queue.send([TrackingHintJob(integration_id=integration.id, reference=binding.reference)])
    add_note(integration, order_id, "shipment retried by a person", deps)
    return OrderOutcome(integration_id=integration.id, order_id=order_id, status=binding.status, queued=True)


def timeline(binding: OrderBinding, tracking: OrderTracking | None, notes: list[OrderNote]) -> list[OrderEvent]:
    """Received, placed, each hold and why, releases, sent, myOGO's status, shipped and tracking pushed, by time."""
    events = [OrderEvent(at=binding.first_seen_at, where="ogosync", event="received")]
    if binding.store_placed_at:
        events.append(OrderEvent(at=binding.store_placed_at, where="store", event="placed"))
    noted = [OrderEvent(at=note.at, where=note.where, event=note.event) for note in notes]
    events.extend(noted)
    said = {event.event for event in noted}
    events.extend(event for event in _outcome_events(binding) if event.event not in said)
    if tracking is not None:
        events.extend(_tracking_events(tracking))
    return sorted(events, key=lambda event: event.at)


def history_of(integration: Integration, binding: OrderBinding, deps: OperatorDeps) -> list[OrderEvent]:
    order_id = binding.store_order_id
    tracking = None if deps.tracking is None else deps.tracking.get_tracking(integration.id, [order_id]).get(order_id)
    notes = [] if deps.notes is None else deps.notes.notes(integration.id, order_id)
    return timeline(binding, tracking, notes)


def shipment_status(integration: Integration, order_id: str, deps: OperatorDeps) -> str | None:
    if deps.tracking is None:
        return None
    view = deps.tracking.get_tracking(integration.id, [order_id]).get(order_id)
    return None if view is None or view.tracking_status is None else str(view.tracking_status)


def add_note(integration: Integration, order_id: str, event: str, deps: OperatorDeps) -> None:
    if deps.notes is not None:
        note = OrderNote(
            integration_id=integration.id, store_order_id=order_id, at=deps.clock(), where="ogosync", event=event
        )
        deps.notes.add_note(note)


def _outcome_events(binding: OrderBinding) -> list[OrderEvent]:
    at = binding.updated_at
    if binding.status is BindingStatus.HELD:
        reasons = "; ".join(hold.detail for hold in binding.holds)
        return [OrderEvent(at=at, where="ogosync", event=f"held: {reasons}")]
    if binding.status is BindingStatus.SKIPPED:
        return [OrderEvent(at=at, where="ogosync", event=f"not sent: {binding.skip_reason}")]
    if binding.status is BindingStatus.FAILED:
        return [OrderEvent(at=at, where="ogosync", event=f"sending failed: {binding.last_error}")]
    if binding.status is BindingStatus.CLAIMED:
        return [OrderEvent(at=at, where="ogosync", event="being sent")]
    if binding.sent_at is None:
        return []
    events = [OrderEvent(at=binding.sent_at, where="myogo", event=f"sent; created in myOGO as {binding.reference}")]
    if binding.aftercare_at and binding.aftercare_status:  # a cancel or edit in the store after sending
        detail = f"after sending: {binding.aftercare_status}: {binding.aftercare_detail or ''}"
        events.append(OrderEvent(at=binding.aftercare_at, where="ogosync", event=detail))
    return events


def _tracking_events(tracking: OrderTracking) -> list[OrderEvent]:
    events = []
    if tracking.myogo_status and tracking.myogo_status_at:
        events.append(_at(tracking.myogo_status_at, "myogo", f"status {tracking.myogo_status}"))
    if tracking.tracking_pushed_at:
        numbers = ", ".join(tracking.tracking_numbers) or "no tracking number"
        events.append(_at(tracking.tracking_pushed_at, "store", f"shipped; tracking pushed ({numbers})"))
    if tracking.tracking_failed_at and tracking.tracking_status in (TrackingStatus.REJECTED, TrackingStatus.FAILED):
        detail = tracking.tracking_error or tracking.tracking_status
        events.append(_at(tracking.tracking_failed_at, "store", f"shipment not accepted: {detail}"))
    return events


def _at(at: datetime, where: str, event: str) -> OrderEvent:
    return OrderEvent(at=at, where=where, event=event)


def _binding(integration: Integration, order_id: str, deps: OperatorDeps) -> OrderBinding:
    binding = deps.state.get_order_binding(integration.id, order_id)
    if binding is None:
        raise not_found("unknown_order", f"ogosync has not seen order {order_id!r} of {integration.id}")
    return binding
