"""The order flow, store -> myOGO: a paid store order becomes exactly one myOGO order, or a held one with reasons.

Exactly once rests on three things (design invariant 1):
- the myOGO reference is deterministic (Integration.myogo_reference);
- a conditional claim in DynamoDB before the POST, so two workers never send the same order at once;
- a look-up by reference before any repeat: after a failed or unknown outcome, and whenever an earlier claim
  of the order may have reached myOGO (the worker died between myOGO's answer and our record).
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial

from aws_lambda_powertools import Logger

from ogosync.errors import (
    AlreadyExistsError,
    ConcurrencyConflictError,
    OgosyncError,
    PlatformError,
    RejectedByPlatformError,
    TransientPlatformError,
)
from ogosync.models import (
    DO_NOT_SEND_REASON,
    BindingStatus,
    Cursor,
    Flow,
    Hold,
    HoldReason,
    Integration,
    OrderBinding,
    OrderNote,
    StoreOrder,
    StoreOrderState,
    UnreadableOrder,
    WarehouseCustomer,
    WarehouseOrder,
    WarehouseOrderLine,
    WarehouseOrderState,
)
from ogosync.ports import OrderNotes, SkuBindingRepository, StateRepository, StorePlatform, Warehouse
from ogosync.sync.runs import RunRecord, locked_run
from ogosync.timeutil import Clock, utc_now

logger = Logger(service="ogosync", child=True)

DEFAULT_SHIPPING_KEY = "*"  # a shipping mapping for every store method that has no mapping of its own
CREATE_ATTEMPTS = 3


class ImportOutcome(StrEnum):
    CREATED = "created"
    RECOVERED = "recovered"  # myOGO already had it from an earlier attempt; now recorded
    ALREADY_SENT = "already_sent"
    HELD = "held"
    SKIPPED = "skipped"
    NOT_FOUND = "not_found"  # the store does not return the order (deleted, or a status the plugin hides)
    BUSY = "busy"  # another worker holds a live claim on it; try again later


@dataclass(frozen=True)
class ImportResult:
    order_id: str
    outcome: ImportOutcome
    reference: str
    holds: tuple[Hold, ...] = ()


@dataclass
class OrderDeps:
    state: StateRepository
    store: StorePlatform
    warehouse: Warehouse
    clock: Clock = utc_now
    claim_lease_seconds: int = 120  # longer than the import function's timeout: a live claim means a live worker
    lock_ttl_seconds: int = 330  # longer than the poll function's timeout
    new_token: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)
    sleep: Callable[[float], None] = time.sleep
    sku_bindings: SkuBindingRepository | None = None  # codes bound by the product flow are known to myOGO
    notes: OrderNotes | None = None  # a new hold and its reasons, for the order's timeline


# ---- mapping ------------------------------------------------------------------------------------


def _skip_reason(order: StoreOrder) -> str | None:
    if order.state is StoreOrderState.CANCELLED:
        return "cancelled in the store before transfer"
    if order.state is StoreOrderState.FULFILLED:
        return "already fulfilled in the store"
    return None


def _address_holds(order: StoreOrder) -> list[Hold]:
    address = order.customer
    missing = [name for name in ("name", "address1", "city", "country_code") if not getattr(address, name)]
    if not missing:
        return []
    return [Hold(reason=HoldReason.INCOMPLETE_ADDRESS, detail=f"delivery address lacks {', '.join(missing)}")]


def _line_holds(order: StoreOrder) -> list[Hold]:
    lines = [line for line in order.lines if line.quantity > 0]
    if not lines:
        return [Hold(reason=HoldReason.NO_LINES, detail="the order has no lines to ship")]
    without_sku = [line.name or line.line_id for line in lines if not line.sku]
    if without_sku:
        return [Hold(reason=HoldReason.MISSING_SKU, detail=f"lines without SKU: {', '.join(without_sku)}")]
    return []


def shipping_code_for(order: StoreOrder, shipping_map: dict[str, str]) -> str | None:
    method = order.shipping_method or ""
    return shipping_map.get(method) or shipping_map.get(DEFAULT_SHIPPING_KEY)


def unknown_product_codes(integration: Integration, codes: Iterable[str], deps: OrderDeps) -> set[str]:
    """The codes myOGO has no product for. A code with a SKU binding is known (the product flow put it in myOGO),
    so myOGO is asked only about the others."""
    wanted = set(codes)
    if deps.sku_bindings is not None and wanted:
        wanted -= deps.sku_bindings.get_sku_bindings(integration.id, sorted(wanted)).keys()
    return deps.warehouse.unknown_product_codes(wanted) if wanted else set()


def order_holds(
    order: StoreOrder, shipping_map: dict[str, str], unknown_codes: Callable[[Iterable[str]], set[str]]
) -> list[Hold]:
    """Every reason to keep a paid order back, store-side flags first. myOGO is asked about SKUs only when
    nothing else holds the order, so held orders cost no warehouse calls on every re-check."""
    holds = list(order.holds) + _address_holds(order) + _line_holds(order)
    if shipping_code_for(order, shipping_map) is None:
        method = order.shipping_method or "(none)"
        holds.append(Hold(reason=HoldReason.UNMAPPED_SHIPPING_METHOD, detail=f"no myOGO shipping code for {method!r}"))
    if holds:
        return holds
    unknown = unknown_codes(line.sku for line in order.lines if line.quantity > 0)
    if unknown:
        return [Hold(reason=HoldReason.UNKNOWN_SKU, detail=f"not in myOGO: {', '.join(sorted(unknown))}")]
    return []


def to_warehouse_order(integration: Integration, order: StoreOrder, shipping_code: str | None) -> WarehouseOrder:
    address = order.customer
    return WarehouseOrder(
        reference=integration.myogo_reference(order.order_id),
        shipping_code=shipping_code,
        pick_up_point_code=order.pickup_point,
        customer=WarehouseCustomer(
            name=address.name,
            company=address.company,
            address1=address.address1,
            address2=address.address2,
            city=address.city,
            country_code=address.country_code,
            zip=address.zip,
            phone=address.phone,
            email=address.email,
        ),
        order_lines=[
            WarehouseOrderLine(
                code=line.sku, quantity=line.quantity, unit_price=line.unit_price, vat_percentage=line.vat_percentage
            )
            for line in order.lines
            if line.quantity > 0
        ],
        comments=order.comment,
        price_total=order.total,
        price_currency=order.currency or None,
        test=True if integration.settings.send_as_test_orders else None,
    )


# ---- one order ----------------------------------------------------------------------------------


def import_order_by_id(
    integration: Integration, order_id: str, deps: OrderDeps, shipping_map: dict[str, str] | None = None
) -> ImportResult:
    """Import one order named by a hint (webhook, held re-check): the store is re-read, the hint is not trusted."""
    reference = integration.myogo_reference(order_id)
    binding = deps.state.get_order_binding(integration.id, order_id)
    if binding is not None and binding.status is BindingStatus.SENT:
        return ImportResult(order_id, ImportOutcome.ALREADY_SENT, reference)
    order = deps.store.get_order(order_id)
    if order is None:
        return ImportResult(order_id, ImportOutcome.NOT_FOUND, reference)
    return import_order(integration, order, binding, deps, shipping_map)


def import_order(
    integration: Integration,
    order: StoreOrder | UnreadableOrder,
    binding: OrderBinding | None,
    deps: OrderDeps,
    shipping_map: dict[str, str] | None = None,
) -> ImportResult:
    """Bring one store order to its right place: sent to myOGO once, held with reasons, or skipped.

    `shipping_map` is the integration's mapping when the caller has read it already (a poll reads it once)."""
    reference = integration.myogo_reference(order.order_id)
    if binding is not None and binding.status is BindingStatus.SENT:
        return ImportResult(order.order_id, ImportOutcome.ALREADY_SENT, reference)
    if binding is not None and binding.status is BindingStatus.SKIPPED and binding.skip_reason == DO_NOT_SEND_REASON:
        return ImportResult(order.order_id, ImportOutcome.SKIPPED, reference)
    if isinstance(order, UnreadableOrder):
        return _record_unreadable(integration, order, reference, deps)
    skip_reason = _skip_reason(order)
    if shipping_map is None:
        shipping_map = deps.state.shipping_map(integration.id)
    codes = partial(unknown_product_codes, integration, deps=deps)
    holds = [] if skip_reason else order_holds(order, shipping_map, codes)
    may_be_in_myogo = binding is not None and binding.attempts > 0
    if not may_be_in_myogo and (skip_reason or holds):
        result = _record_without_claim(integration, order, reference, skip_reason, holds, deps)
    else:
        result = _claim_and_send(integration, order, reference, skip_reason, holds, shipping_map, deps)
    _note_new_hold(integration, binding, result, deps)
    return result


def _note_new_hold(
    integration: Integration, before: OrderBinding | None, result: ImportResult, deps: OrderDeps
) -> None:
    """A note for the timeline when the order is held anew or for other reasons (not at each recheck)."""
    if deps.notes is None or result.outcome is not ImportOutcome.HELD:
        return
    if before is not None and before.status is BindingStatus.HELD and before.holds == list(result.holds):
        return
    reasons = "; ".join(hold.detail for hold in result.holds)
    deps.notes.add_note(
        OrderNote(
            integration_id=integration.id,
            store_order_id=result.order_id,
            at=deps.clock(),
            where="ogosync",
            event=f"held: {reasons}",
        )
    )


def _record_without_claim(
    integration: Integration,
    order: StoreOrder,
    reference: str,
    skip_reason: str | None,
    holds: list[Hold],
    deps: OrderDeps,
    token: str | None = None,
) -> ImportResult:
    now = deps.clock()
    if skip_reason:
        recorded = deps.state.mark_order_skipped(
            integration.id, order.order_id, reference, skip_reason, now, order.placed_at, token
        )
        outcome = ImportOutcome.SKIPPED
    else:
        recorded = deps.state.mark_order_held(
            integration.id, order.order_id, reference, holds, now, order.placed_at, token
        )
        outcome = ImportOutcome.HELD
    if not recorded:  # sent or being sent by another worker meanwhile: theirs is the newer truth
        return _current_outcome(integration, order.order_id, reference, deps)
    logger.info(
        "order kept back",
        extra={
            "order_id": order.order_id,
            "outcome": outcome,
            "reasons": [hold.reason for hold in holds],
            "skip_reason": skip_reason,
        },
    )
    return ImportResult(order.order_id, outcome, reference, tuple(holds))


def _record_unreadable(
    integration: Integration, order: UnreadableOrder, reference: str, deps: OrderDeps
) -> ImportResult:
    hold = Hold(reason=HoldReason.UNREADABLE_IN_STORE, detail=order.problem)
    now = deps.clock()
    if not deps.state.mark_order_held(integration.id, order.order_id, reference, [hold], now, order.placed_at):
        return _current_outcome(integration, order.order_id, reference, deps)
    logger.warning("store order unreadable, held", extra={"order_id": order.order_id, "problem": order.problem})
    return ImportResult(order.order_id, ImportOutcome.HELD, reference, (hold,))


def _current_outcome(integration: Integration, order_id: str, reference: str, deps: OrderDeps) -> ImportResult:
    current = deps.state.get_order_binding(integration.id, order_id)
    if current is not None and current.status is BindingStatus.SENT:
        return ImportResult(order_id, ImportOutcome.ALREADY_SENT, reference)
    return ImportResult(order_id, ImportOutcome.BUSY, reference)


def _claim_and_send(
    integration: Integration,
    order: StoreOrder,
    reference: str,
    skip_reason: str | None,
    holds: list[Hold],
    shipping_map: dict[str, str],
    deps: OrderDeps,
) -> ImportResult:
    token = deps.new_token()
    try:
        previous = deps.state.claim_order(
            integration.id, order.order_id, reference, token, deps.clock(), deps.claim_lease_seconds
        )
    except ConcurrencyConflictError:
        return _current_outcome(integration, order.order_id, reference, deps)
    was_held = previous is not None and previous.status is BindingStatus.HELD
    try:
        if previous is not None and previous.attempts > 0:
            existing = deps.warehouse.find_order(reference)
            if existing is not None:
                return _record_sent(integration, order, existing, ImportOutcome.RECOVERED, token, was_held, deps)
        if skip_reason or holds:
            return _record_without_claim(integration, order, reference, skip_reason, holds, deps, token)
        warehouse_order = to_warehouse_order(integration, order, shipping_code_for(order, shipping_map))
        created, outcome = _create_once(warehouse_order, deps)
    except RejectedByPlatformError as exc:
        hold = Hold(reason=HoldReason.REJECTED_BY_WAREHOUSE, detail=exc.detail)
        return _record_without_claim(integration, order, reference, None, [hold], deps, token)
    except (PlatformError, OgosyncError) as exc:
        deps.state.mark_order_failed(integration.id, order.order_id, token, str(exc), deps.clock())
        raise
    return _record_sent(integration, order, created, outcome, token, was_held, deps)


def _create_once(order: WarehouseOrder, deps: OrderDeps) -> tuple[WarehouseOrderState, ImportOutcome]:
    """POST the order; after any failure whose outcome is unknown, look the reference up before trying again."""
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            return deps.warehouse.create_order(order), ImportOutcome.CREATED
        except AlreadyExistsError:
            existing = deps.warehouse.find_order(order.reference)
            if existing is None:
                raise
            return existing, ImportOutcome.RECOVERED
        except TransientPlatformError:
            existing = deps.warehouse.find_order(order.reference)
            if existing is not None:
                return existing, ImportOutcome.RECOVERED
            if attempt == CREATE_ATTEMPTS:
                raise
            deps.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _record_sent(
    integration: Integration,
    order: StoreOrder,
    state: WarehouseOrderState,
    outcome: ImportOutcome,
    token: str,
    was_held: bool,
    deps: OrderDeps,
) -> ImportResult:
    deps.state.mark_order_sent(integration.id, order.order_id, token, state, deps.clock(), was_held=was_held)
    logger.info("order in myOGO", extra={"order_id": order.order_id, "reference": state.reference, "outcome": outcome})
    return ImportResult(order.order_id, outcome, state.reference)


# ---- the poll -----------------------------------------------------------------------------------


@dataclass
class PollResult:
    integration_id: str
    ran: bool
    counts: Counter[str] = field(default_factory=Counter)
    watermark: datetime | None = None
    errors: list[str] = field(default_factory=list)


def poll_orders(integration: Integration, deps: OrderDeps, owner: str) -> PollResult:
    """The source of truth: every order placed since the watermark (minus an overlap), plus the held ones."""
    lock = (integration.id, Flow.ORDERS, owner, deps.lock_ttl_seconds)
    result = locked_run(deps.state, deps.clock, lock, partial(_poll, integration, deps=deps), _run_record)
    return result if result is not None else PollResult(integration.id, ran=False)


def _run_record(result: PollResult) -> RunRecord:
    return RunRecord(result.watermark, result.counts, "; ".join(result.errors[:5]) or None)


def _poll(integration: Integration, cursor: Cursor, started: datetime, *, deps: OrderDeps) -> PollResult:
    settings = integration.settings
    base = cursor.watermark or started - timedelta(hours=settings.first_poll_lookback_hours)
    orders = list(deps.store.orders_placed_since(base - timedelta(minutes=settings.poll_overlap_minutes)))
    bindings = deps.state.get_order_bindings(integration.id, [order.order_id for order in orders])
    shipping_map = deps.state.shipping_map(integration.id)  # once per run, not once per order
    result = PollResult(integration.id, ran=True)
    unfinished: list[datetime] = []
    for order in orders:
        binding = bindings.get(order.order_id)
        finished = _import_counted(result, partial(import_order, integration, order, binding, deps, shipping_map))
        if not finished and order.placed_at is not None:
            unfinished.append(order.placed_at)
    seen = {order.order_id for order in orders}
    for order_id in deps.state.held_order_ids(integration.id, started - timedelta(days=settings.held_recheck_days)):
        if order_id not in seen:
            recheck = partial(import_order_by_id, integration, order_id, deps, shipping_map)
            _import_counted(result, recheck, "recheck_")
    result.counts["seen"] = len(orders)
    placed = [order.placed_at for order in orders if order.placed_at is not None]
    result.watermark = next_watermark(cursor.watermark, placed, unfinished)
    return result


def _import_counted(result: PollResult, run: Callable[[], ImportResult], counter_prefix: str = "") -> bool:
    """Run one import, count its outcome; False when it did not finish (so the watermark must not pass it)."""
    try:
        outcome = run().outcome
    except OgosyncError as exc:
        result.counts[f"{counter_prefix}failed"] += 1
        result.errors.append(str(exc))
        logger.warning("order import failed", extra={"error": str(exc)})
        return False
    result.counts[f"{counter_prefix}{outcome}"] += 1
    return outcome is not ImportOutcome.BUSY


def next_watermark(current: datetime | None, seen: list[datetime], unfinished: list[datetime]) -> datetime | None:
    """Move to the newest order seen, but never past an order whose import did not finish."""
    if not seen:
        return current
    candidate = max(seen)
    if unfinished:
        candidate = min(candidate, min(unfinished) - timedelta(microseconds=1))
    return candidate if current is None else max(current, candidate)
