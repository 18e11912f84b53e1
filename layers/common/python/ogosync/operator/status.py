"""Status: each flow's last run, result, counts, lag and errors; an order's history across the store, ogosync and
myOGO; the held orders with their reasons, and their release once the cause is fixed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ogosync.errors import PlatformError
from ogosync.models import (
    BindingStatus,
    Cursor,
    Flow,
    Integration,
    IntegrationStatus,
    OrderBinding,
    OrderImportJob,
    UnreadableOrder,
)
from ogosync.operator import orders
from ogosync.operator.deps import OperatorDeps
from ogosync.operator.errors import conflict, not_found
from ogosync.operator.schemas import (
    FlowStatus,
    HeldOrder,
    IntegrationState,
    OrderHistory,
    Overview,
    Released,
    StoreSide,
    WarehouseSide,
)
from ogosync.stores import registry
from ogosync.sync.schedule import effective_interval, interval_minutes, schedule_of

_EVERY_HELD_ORDER = datetime.min.replace(tzinfo=UTC)
LATE_ORDER_WARNING = timedelta(days=7)  # how long a late sweep's finding stays in the status


def flow_statuses(integration: Integration, deps: OperatorDeps) -> list[FlowStatus]:
    now = deps.clock()
    visibility = registry.adapter(integration.platform).order_visibility_settings
    statuses = []
    for flow in Flow:
        cursor = deps.state.get_cursor(integration.id, flow)
        interval = interval_minutes(integration, flow)
        expected = effective_interval(schedule_of(integration), cursor)  # longer while the order poll is idle
        deployed = flow in deps.flow_queues
        ended = cursor.last_run_ended
        # A flow that never ran is "not run yet", not overdue: a new integration waits for its first slot.
        overdue = (
            integration.status is IntegrationStatus.ACTIVE
            and deployed
            and interval > 0
            and ended is not None
            and ended < now - timedelta(minutes=2 * expected)
        )
        statuses.append(
            FlowStatus(
                flow=flow,
                deployed=deployed,
                interval_minutes=interval,
                health=_health(cursor, interval, deployed, overdue),
                result="never_run" if cursor.last_run_started is None else "errors" if cursor.last_error else "ok",
                last_run_started=cursor.last_run_started,
                last_run_ended=ended,
                last_counts=cursor.last_counts,
                last_error=cursor.last_error,
                watermark=cursor.watermark,
                lag_seconds=None if ended is None else int((now - ended).total_seconds()),
                overdue=overdue,
                future_dated=cursor.future_dated,
                warnings=flow_warnings(cursor, now, visibility),
            )
        )
    return statuses


def _health(cursor: Cursor, interval: int, deployed: bool, overdue: bool) -> str:
    if interval == 0:
        return "off"
    if not deployed:
        return "not deployed"
    if cursor.last_run_started is None:
        return "not run yet"
    if cursor.last_error:
        return "errors"
    return "overdue" if overdue else "ok"


def flow_warnings(cursor: Cursor, now: datetime, visibility_settings: str = "") -> list[str]:
    """What the run records say a person should check. `visibility_settings` names the store settings that can
    keep unpaid or held orders out of its API (the platform adapter's); they cannot be read through the API, so the
    warnings about them are inferred from what the poll saw (docs/api/centra.md, "Plugin settings")."""
    warnings = []
    if cursor.future_dated:
        warnings.append(
            f"dated in the future: {', '.join(cursor.future_dated)}; the watermark stops at now (check the "
            "store's clock and time zone)"
        )
    if cursor.flow is not Flow.ORDERS:
        return warnings
    if cursor.switched_off_webhooks:
        checked = cursor.webhooks_checked_at
        warnings.append(
            f"the store has switched off webhooks of ours: {'; '.join(cursor.switched_off_webhooks)}. Orders still "
            "arrive by the poll, only later: switch them back on in the store"
            + (f" (as it said at {checked:%Y-%m-%d %H:%M} UTC)" if checked else "")
        )
    if cursor.late_orders and cursor.late_orders_at and now - cursor.late_orders_at < LATE_ORDER_WARNING:
        warnings.append(
            f"orders visible to the store's API only long after they were placed: {', '.join(cursor.late_orders)} "
            "(the late sweep sent them)"
            + (f". Likely a store setting hid them then: check {visibility_settings}" if visibility_settings else "")
        )
    if visibility_settings and cursor.last_run_ended is not None and cursor.on_hold_seen_at is None:
        warnings.append(
            "no order waiting for payment or on hold seen yet: a store setting may hide such orders (check "
            f"{visibility_settings}); hidden, they stay invisible until released and reach myOGO by the late sweep, "
            "up to late_sweep_minutes + order_poll_minutes later (a hint: a store may simply have none)"
        )
    return warnings


def order_flow_warnings(integration_id: str, deps: OperatorDeps) -> list[str]:
    """The order flow's warnings alone (the console's orders page)."""
    integration = deps.integration(integration_id)
    cursor = deps.state.get_cursor(integration.id, Flow.ORDERS)
    return flow_warnings(cursor, deps.clock(), registry.adapter(integration.platform).order_visibility_settings)


def integration_state(integration_id: str, deps: OperatorDeps) -> IntegrationState:
    return _state_of(deps.integration(integration_id), deps)


def overview(deps: OperatorDeps) -> Overview:
    integrations = sorted(deps.state.list_integrations(), key=lambda integration: integration.id)
    return Overview(
        integrations=[_state_of(integration, deps) for integration in integrations],
        queues=[deps.work_queues.depth(name) for name in deps.work_queues.names()],
    )


def held_orders(integration_id: str, deps: OperatorDeps) -> list[HeldOrder]:
    integration = deps.integration(integration_id)
    return [
        HeldOrder(
            order_id=binding.store_order_id,
            reference=binding.reference,
            holds=binding.holds,
            placed_at=binding.store_placed_at,
            first_seen_at=binding.first_seen_at,
            updated_at=binding.updated_at,
        )
        for binding in _held_bindings(integration, deps)
    ]


def release_order(integration_id: str, order_id: str, deps: OperatorDeps) -> Released:
    integration = _active(integration_id, deps)
    binding = deps.state.get_order_binding(integration.id, order_id)
    if binding is None:
        raise not_found("unknown_order", f"ogosync has not seen order {order_id!r} of {integration.id}")
    if binding.status is not BindingStatus.HELD:
        raise conflict("order_not_held", f"order {order_id!r} is not held: it is {binding.status}")
    return _release(integration, [order_id], deps)


def release_held_orders(integration_id: str, deps: OperatorDeps) -> Released:
    integration = _active(integration_id, deps)
    return _release(integration, [binding.store_order_id for binding in _held_bindings(integration, deps)], deps)


def order_history(integration_id: str, order_id: str, live: bool, deps: OperatorDeps) -> OrderHistory:
    integration = deps.integration(integration_id)
    binding = deps.state.get_order_binding(integration.id, order_id)
    store = _store_side(integration, order_id, deps) if live else None
    if binding is None and (store is None or not store.found):
        raise not_found("unknown_order", f"neither ogosync nor the store knows order {order_id!r} of {integration.id}")
    reference = binding.reference if binding else integration.myogo_reference(order_id)
    return OrderHistory(
        integration_id=integration.id,
        order_id=order_id,
        reference=reference,
        status=binding.status if binding else None,
        holds=binding.holds if binding else [],
        skip_reason=binding.skip_reason if binding else None,
        attempts=binding.attempts if binding else 0,
        last_error=binding.last_error if binding else None,
        timeline=orders.history_of(integration, binding, deps) if binding else [],
        shipment=orders.shipment_status(integration, order_id, deps),
        store=store,
        myogo=_warehouse_side(integration, reference, deps) if live else None,
    )


def _state_of(integration: Integration, deps: OperatorDeps) -> IntegrationState:
    return IntegrationState(
        integration_id=integration.id,
        status=integration.status,
        flows=flow_statuses(integration, deps),
        held_orders=len(deps.state.held_order_ids(integration.id, _EVERY_HELD_ORDER)),
        needs_person=deps.aftercare.attention_orders(integration.id) if deps.aftercare else [],
        waiting_for_store=deps.aftercare.waiting_shipments(integration.id) if deps.aftercare else [],
    )


def _held_bindings(integration: Integration, deps: OperatorDeps) -> list[OrderBinding]:
    order_ids = deps.state.held_order_ids(integration.id, _EVERY_HELD_ORDER)
    bindings = deps.state.get_order_bindings(integration.id, order_ids)
    held = [binding for binding in bindings.values() if binding.status is BindingStatus.HELD]
    return sorted(held, key=lambda binding: binding.first_seen_at)


def _active(integration_id: str, deps: OperatorDeps) -> Integration:
    integration = deps.integration(integration_id)
    if integration.status is IntegrationStatus.PAUSED:
        raise conflict("integration_paused", f"integration {integration.id} is paused: resume it first")
    return integration


def _release(integration: Integration, order_ids: list[str], deps: OperatorDeps) -> Released:
    deps.order_queue.send(
        [OrderImportJob(integration_id=integration.id, order_id=order_id, source="recheck") for order_id in order_ids]
    )
    for order_id in order_ids:
        orders.add_note(integration, order_id, "released by a person", deps)
    return Released(integration_id=integration.id, order_ids=order_ids)


def _store_side(integration: Integration, order_id: str, deps: OperatorDeps) -> StoreSide:
    try:
        order = deps.store(integration).get_order(order_id)
    except PlatformError as exc:
        return StoreSide(found=False, error=str(exc))
    if order is None:
        return StoreSide(found=False)
    if isinstance(order, UnreadableOrder):
        return StoreSide(found=True, error=f"unreadable: {order.problem}")
    return StoreSide(found=True, state=order.state, shipping_method=order.shipping_method, holds=order.holds)


def _warehouse_side(integration: Integration, reference: str, deps: OperatorDeps) -> WarehouseSide:
    try:
        state = deps.warehouse(integration).find_order(reference)
    except PlatformError as exc:
        return WarehouseSide(found=False, error=str(exc))
    if state is None:
        return WarehouseSide(found=False)
    return WarehouseSide(
        found=True, status=state.status, tracking_number=state.tracking_number, tracking_url=state.tracking_url
    )
