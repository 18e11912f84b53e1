"""The order flow, store -> myOGO: a paid store order becomes exactly one myOGO order, or a held one with reasons.

Exactly once rests on three things (design invariant 1):
- the myOGO reference is decided once, at the order's first record (Integration.myogo_reference with the prefix
  of that day), kept on its binding and used for ever after: a later change of the prefix never renames an order
  that may already be in myOGO (design invariant 8);
- a conditional claim in DynamoDB before the POST, so two workers never send the same order at once;
- a look-up by reference before any repeat: after a failed or unknown outcome, and whenever an earlier claim
  of the order may have reached myOGO (the worker died between myOGO's answer and our record).

No POST after the claim may have run out (sync/lease.py). The claim's lease is L = claim_lease_seconds (120 s);
every myOGO call of one import (look-ups, POSTs, log-ins, their retries, Retry-After waits and timeouts) keeps to
one deadline D = claim time + L - M, with the margin M = claim_margin_seconds (30 s), so D = claim + 90 s:
ogosync/http.py starts no attempt and takes no wait past D, and cuts each attempt's timeouts to the time left.
Before each create attempt the claim is renewed by a conditional write with our token (ours until then + L, so at
least until D + M); when that fails nothing is sent. Another worker can claim only after our lease ended, at least
M after D. M covers a request still running at D (httpx times connect, write and read apart, each cut to the time
left when the attempt started: it ends at most 5 + 10 + 10 = 25 s after D, far less near D), myOGO finishing a
request we stopped waiting for, and clock skew between workers.
Without the deadline one create attempt could last 4 tries x (5 s connect + 10 s read) + 3 Retry-After waits x
30 s = 150 s > L, and CREATE_ATTEMPTS = 3 of them with look-ups far longer: inside the poll (300 s timeout)
another worker could take the claim over and POST while the first still retried. Now an import spends at most
L - M = 90 s on myOGO after its claim: below the lease, and below the poll's timeout.
Uncertain: how long myOGO may go on processing a request after its client gave up is undocumented; M assumes
well under 30 s.

An order myOGO already holds under the reference is adopted only when its lines (code -> quantity) and delivery
address (name, address1, zip, city, country; case and spacing aside) are the store order's: otherwise it is another
order (another integration on the same myOGO account and prefix) and ours is held with reason reference_taken.
Uncertain: an order edited since the POST (in the store or in myOGO) before its record is held the same way.
"""

from __future__ import annotations

import bisect
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

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
    DEFAULT_SHIPPING_KEY,
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
    UnidentifiedOrder,
    UnreadableOrder,
    WarehouseCustomer,
    WarehouseOrder,
    WarehouseOrderLine,
    WarehouseOrderState,
    order_content_hash,
)
from ogosync.ports import (
    AftercareRepository,
    AftercareWarehouse,
    Notices,
    OrderNotes,
    SkuBindingRepository,
    StateRepository,
    StorePlatform,
    Warehouse,
    WebhookHealth,
)
from ogosync.sync import notices
from ogosync.sync.aftercare import AftercareDeps, care_for_listed, run_aftercare
from ogosync.sync.lease import Lease, LeaseLostError, check_margin
from ogosync.sync.runs import RunRecord, locked_run
from ogosync.timeutil import Clock, utc_now

logger = Logger(service="ogosync", child=True)

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
    claim_lease_seconds: int = 120  # an import's myOGO calls end claim_margin_seconds before it (module docstring)
    claim_margin_seconds: float = 30.0
    lock_ttl_seconds: int = 330  # longer than the poll function's timeout
    new_token: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)
    sleep: Callable[[float], None] = time.sleep
    sku_bindings: SkuBindingRepository | None = None  # codes bound by the product flow are known to myOGO
    aftercare: AftercareRepository | None = None  # with a warehouse that can cancel/update: sync/aftercare.py
    notes: OrderNotes | None = None  # a new hold and its reasons, for the order's timeline
    notices: Notices | None = None  # a new hold, for the merchant (sync/notices.py)

    def __post_init__(self) -> None:
        check_margin(self.claim_lease_seconds, self.claim_margin_seconds)


# ---- mapping ------------------------------------------------------------------------------------


def _skip_reason(order: StoreOrder) -> str | None:
    if order.state is StoreOrderState.CANCELLED:
        return "cancelled in the store before transfer"
    if order.state is StoreOrderState.FULFILLED:
        return "already fulfilled in the store"
    if order.state is StoreOrderState.NOT_FOR_WAREHOUSE:
        return "the store ships it from another location, not from this warehouse"
    return None


def _payment_holds(order: StoreOrder) -> list[Hold]:
    """An order waiting for payment is held whatever its adapter said (one adapter flags it with a hold of its
    own words, another only by its state)."""
    waiting = order.state is StoreOrderState.AWAITING_PAYMENT
    if not waiting or any(hold.reason is HoldReason.AWAITING_PAYMENT for hold in order.holds):
        return []
    return [Hold(reason=HoldReason.AWAITING_PAYMENT, detail="the store has not taken the payment yet")]


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


# Orders waiting for payment hold their stock in the store too: once paid they go to myOGO, so their units must not
# be sold again meanwhile. Cancelled and fulfilled orders hold nothing.
HOLDING_STOCK = frozenset({StoreOrderState.PAID, StoreOrderState.AWAITING_PAYMENT})


def units_in_transit(order: StoreOrder) -> Counter[str]:
    """Units per SKU that a store order holds while myOGO does not have it: the lines of an order that is paid or
    waiting for payment (the stock rule)."""
    units: Counter[str] = Counter()
    if order.state not in HOLDING_STOCK:
        return units
    for line in order.lines:
        if line.sku and line.quantity > 0:
            units[line.sku] += line.quantity
    return units


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
    holds = list(order.holds) + _payment_holds(order) + _address_holds(order) + _line_holds(order)
    if shipping_code_for(order, shipping_map) is None:
        method = order.shipping_method or "(none)"
        holds.append(Hold(reason=HoldReason.UNMAPPED_SHIPPING_METHOD, detail=f"no myOGO shipping code for {method!r}"))
    if holds:
        return holds
    unknown = unknown_codes(line.sku for line in order.lines if line.quantity > 0)
    if unknown:
        return [Hold(reason=HoldReason.UNKNOWN_SKU, detail=f"not in myOGO: {', '.join(sorted(unknown))}")]
    return []


def to_warehouse_order(
    integration: Integration, order: StoreOrder, reference: str, shipping_code: str | None
) -> WarehouseOrder:
    address = order.customer
    return WarehouseOrder(
        reference=reference,
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


def _normalised(value: str | None) -> str:
    return " ".join((value or "").split()).casefold()


_COMPARED_ADDRESS_FIELDS = ("name", "address1", "zip", "city", "country_code")


def contents_differences(order: StoreOrder, existing: WarehouseOrderState) -> list[str]:
    """How myOGO's order under the reference differs from the store order (lines, delivery address); [] when it
    is the same order. What myOGO's answer does not tell cannot be compared, so it counts as a difference."""
    if existing.lines is None or existing.customer is None:
        return ["myOGO's order lines or delivery address cannot be read"]
    ours: Counter[str] = Counter()
    for line in order.lines:
        ours[line.sku] += line.quantity
    theirs: Counter[str] = Counter()
    for shipped in existing.lines:
        theirs[shipped.code] += shipped.quantity
    differences = []
    if +ours != +theirs:  # unary plus drops the codes with nothing to ship
        differences.append(f"lines {_lines_text(ours)} in the store, {_lines_text(theirs)} in myOGO")
    differing = [
        name
        for name in _COMPARED_ADDRESS_FIELDS
        if _normalised(getattr(order.customer, name)) != _normalised(getattr(existing.customer, name))
    ]
    if differing:
        differences.append(f"delivery address differs in {', '.join(differing)}")
    return differences


def _lines_text(lines: Counter[str]) -> str:
    return ", ".join(f"{quantity} x {code}" for code, quantity in sorted((+lines).items())) or "none"


# ---- one order ----------------------------------------------------------------------------------


def order_reference(integration: Integration, order_id: str, binding: OrderBinding | None) -> str:
    """The order's myOGO reference: the one recorded with its first record; only a new order gets one from the
    integration's current prefix."""
    return binding.reference if binding is not None else integration.myogo_reference(order_id)


def import_order_by_id(
    integration: Integration, order_id: str, deps: OrderDeps, shipping_map: dict[str, str] | None = None
) -> ImportResult:
    """Import one order named by a hint (webhook, held re-check): the store is re-read, the hint is not trusted."""
    binding = deps.state.get_order_binding(integration.id, order_id)
    reference = order_reference(integration, order_id, binding)
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
    reference = order_reference(integration, order.order_id, binding)
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
    """A note for the timeline, and a notice for the merchant, when the order is held anew or for other reasons
    (not at each recheck). The notice is kept once per order (its key), the notes at each change of reasons."""
    if result.outcome is not ImportOutcome.HELD:
        return
    if before is not None and before.status is BindingStatus.HELD and before.holds == list(result.holds):
        return
    if deps.notices is not None:
        deps.notices.record(notices.order_held(integration, result.order_id, result.holds, deps.clock()))
    if deps.notes is None:
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
        units = units_in_transit(order)
        recorded = deps.state.mark_order_held(
            integration.id, order.order_id, reference, holds, now, order.placed_at, token, units
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
    # its lines are unknown: nothing can be counted in transit for it (the stock run reports unreadable orders)
    if not deps.state.mark_order_held(
        integration.id, order.order_id, reference, [hold], now, order.placed_at, None, {}
    ):
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
    claimed_at = deps.clock()
    try:
        previous = deps.state.claim_order(
            integration.id, order.order_id, reference, token, claimed_at, deps.claim_lease_seconds
        )
    except ConcurrencyConflictError:
        return _current_outcome(integration, order.order_id, reference, deps)
    renew = partial(deps.state.renew_order_claim, integration.id, order.order_id, token)
    lease = Lease(renew, deps.clock, deps.claim_lease_seconds, claimed_at)
    deadline = lease.deadline(deps.claim_margin_seconds)
    if previous is not None:  # recorded meanwhile by another worker: its reference stands (the claim kept it)
        reference = previous.reference
    was_held = previous is not None and previous.status is BindingStatus.HELD
    try:
        if previous is not None and previous.attempts > 0:
            existing = deps.warehouse.find_order(reference, deadline)
            if existing is not None:
                return _adopt(integration, order, existing, token, was_held, deps)
        if skip_reason or holds:
            return _record_without_claim(integration, order, reference, skip_reason, holds, deps, token)
        warehouse_order = to_warehouse_order(integration, order, reference, shipping_code_for(order, shipping_map))
        created, outcome = _create_once(warehouse_order, lease, deadline, deps)
    except LeaseLostError:
        logger.warning(
            "order claim taken over before a POST: stopped without sending", extra={"order_id": order.order_id}
        )
        return _current_outcome(integration, order.order_id, reference, deps)
    except RejectedByPlatformError as exc:
        hold = Hold(reason=HoldReason.REJECTED_BY_WAREHOUSE, detail=exc.detail)
        return _record_without_claim(integration, order, reference, None, [hold], deps, token)
    except (PlatformError, OgosyncError) as exc:
        deps.state.mark_order_failed(integration.id, order.order_id, token, str(exc), deps.clock())
        raise
    if outcome is ImportOutcome.RECOVERED:
        return _adopt(integration, order, created, token, was_held, deps)
    return _record_sent(integration, order, created, outcome, token, was_held, deps)


def _adopt(
    integration: Integration,
    order: StoreOrder,
    existing: WarehouseOrderState,
    token: str,
    was_held: bool,
    deps: OrderDeps,
) -> ImportResult:
    """Record an order myOGO already holds under the reference as this one, only when it is the same order."""
    differences = contents_differences(order, existing)
    if not differences:
        return _record_sent(integration, order, existing, ImportOutcome.RECOVERED, token, was_held, deps)
    detail = (
        f"myOGO already holds an order {existing.reference} that is not this one ({'; '.join(differences)}); "
        "nothing was sent: check in myOGO whose order it is, and give this integration its own reference_prefix"
    )
    logger.error("myOGO reference taken by another order", extra={"order_id": order.order_id, "detail": detail})
    hold = Hold(reason=HoldReason.REFERENCE_TAKEN, detail=detail)
    return _record_without_claim(integration, order, existing.reference, None, [hold], deps, token)


def _create_once(
    order: WarehouseOrder, lease: Lease, deadline: datetime, deps: OrderDeps
) -> tuple[WarehouseOrderState, ImportOutcome]:
    """POST the order, each time only once our claim is renewed (LeaseLostError otherwise), and every call before
    the deadline; after any failure whose outcome is unknown, look the reference up before trying again."""
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        lease.renew()
        try:
            return deps.warehouse.create_order(order, deadline), ImportOutcome.CREATED
        except AlreadyExistsError:
            existing = deps.warehouse.find_order(order.reference, deadline)
            if existing is None:
                raise
            return existing, ImportOutcome.RECOVERED
        except TransientPlatformError:
            existing = deps.warehouse.find_order(order.reference, deadline)
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
    sent = to_warehouse_order(integration, order, state.reference, None)  # the digest leaves the shipping code out
    sent_hash = order_content_hash(sent.customer, sent.order_lines)
    deps.state.mark_order_sent(
        integration.id, order.order_id, token, state, deps.clock(), was_held=was_held, sent_hash=sent_hash
    )
    logger.info("order in myOGO", extra={"order_id": order.order_id, "reference": state.reference, "outcome": outcome})
    return ImportResult(order.order_id, outcome, state.reference)


# ---- the poll -----------------------------------------------------------------------------------

FUTURE_SKEW = timedelta(minutes=5)  # how far a clock (the store's, myOGO's, ours) may run ahead before "future"
REPORT_LIMIT = 20  # ids listed per kind of finding in a run's record (the counts are complete)
WEBHOOK_CHECK_EVERY = timedelta(hours=1)  # how often the poll asks a store which of our webhooks it switched off
_STORE_HOLDS = (HoldReason.AWAITING_PAYMENT, HoldReason.ON_HOLD_IN_STORE)


@dataclass
class PollResult:
    integration_id: str
    ran: bool
    counts: Counter[str] = field(default_factory=Counter)
    watermark: datetime | None = None
    errors: list[str] = field(default_factory=list)
    needs_person: list[str] = field(default_factory=list)  # sent orders newly handed to a person by aftercare
    cursor_fields: dict[str, Any] = field(default_factory=dict)  # what else the run moves in its cursor
    more: bool = False  # orders were left to the next run (poll_import_limit): run again at once


def poll_orders(integration: Integration, deps: OrderDeps, owner: str) -> PollResult:
    """The source of truth: every order placed since the watermark (minus an overlap), plus the held ones in
    rotation, plus (every `late_sweep_minutes`) the orders of the last `late_order_lookback_hours` never seen."""
    lock = (integration.id, Flow.ORDERS, owner, deps.lock_ttl_seconds)
    result = locked_run(deps.state, deps.clock, lock, partial(_poll, integration, deps=deps), _run_record)
    return result if result is not None else PollResult(integration.id, ran=False)


def _run_record(result: PollResult) -> RunRecord:
    return RunRecord(result.watermark, result.counts, "; ".join(result.errors[:5]) or None, result.cursor_fields)


def _poll(integration: Integration, cursor: Cursor, started: datetime, *, deps: OrderDeps) -> PollResult:
    settings = integration.settings
    base = cursor.watermark or started - timedelta(hours=settings.first_poll_lookback_hours)
    since = base - timedelta(minutes=settings.poll_overlap_minutes)
    sweep = late_sweep_due(cursor, settings.late_sweep_minutes, started)
    read_from = min(since, started - timedelta(hours=settings.late_order_lookback_hours)) if sweep else since
    read = list(deps.store.orders_placed_since(read_from))
    listed = [order for order in read if not isinstance(order, UnidentifiedOrder)]
    recent = [order for order in listed if order.placed_at is None or order.placed_at > since]
    bindings = deps.state.get_order_bindings(integration.id, [order.order_id for order in listed])
    recent_ids = {order.order_id for order in recent}
    late = [
        order for order in listed if order.order_id not in recent_ids and _never_finished(bindings.get(order.order_id))
    ]
    shipping_map = deps.state.shipping_map(integration.id)  # once per run, not once per order
    result = PollResult(integration.id, ran=True)
    _aftercare(integration, deps, shipping_map, result, listed, bindings)  # first: one sent in this run needs none
    _count_unidentified(result, read)
    deferred = _beyond_import_limit(recent, bindings, settings.poll_import_limit)
    unfinished = [order.placed_at for order in recent if order.order_id in deferred and order.placed_at is not None]
    if deferred:
        result.counts["deferred"] = len(deferred)
    result.more = bool(deferred)
    to_import = [order for order in recent if order.order_id not in deferred]
    unfinished += _import_all(integration, to_import, bindings, shipping_map, deps, result)
    _import_all(integration, late, bindings, shipping_map, deps, result, "late_")
    seen = {order.order_id for order in listed}
    result.cursor_fields["held_recheck_after"] = _recheck_held(
        integration, cursor, started, seen, shipping_map, deps, result
    )
    result.counts["seen"] = len(recent)
    _check_webhooks(cursor, started, deps.store, result)
    # Idle polls run less often, trusting the webhooks: not while the store has switched ours off.
    webhooks_off = result.cursor_fields.get("switched_off_webhooks", cursor.switched_off_webhooks)
    result.cursor_fields["idle_runs"] = 0 if _imported_any(result) or webhooks_off else cursor.idle_runs + 1
    placed = {order.order_id: order.placed_at for order in recent}
    result.watermark = next_watermark(cursor.watermark, [*filter(None, placed.values())], unfinished, started)
    covered_since = cursor.covered_since or since
    result.cursor_fields["covered_since"] = covered_since
    _note_findings(result, placed, listed, late, bindings, sweep, started, covered_since)
    return result


def _check_webhooks(cursor: Cursor, started: datetime, store: StorePlatform, result: PollResult) -> None:
    """Once an hour, ask a store that switches webhooks off by itself which of ours it did; the status warns.
    The poll does not depend on webhooks, so a failed check is counted and logged, never a failed run."""
    if not isinstance(store, WebhookHealth):
        return
    if cursor.webhooks_checked_at is not None and started - cursor.webhooks_checked_at < WEBHOOK_CHECK_EVERY:
        return
    try:
        switched_off = store.switched_off_webhooks()
    except PlatformError as exc:
        result.counts["webhook_check_failed"] += 1
        logger.warning("could not read the store's webhooks", extra={"error": str(exc)})
        return
    result.cursor_fields |= {"switched_off_webhooks": switched_off[:REPORT_LIMIT], "webhooks_checked_at": started}
    if switched_off:
        result.counts["webhooks_switched_off"] = len(switched_off)
        logger.warning("the store switched webhooks of ours off", extra={"webhooks": switched_off})


def _imported_any(result: PollResult) -> bool:
    """The run found work the webhooks had not done: an order it sent, recovered, held anew, or could not finish."""
    outcomes = [ImportOutcome.CREATED, ImportOutcome.RECOVERED, ImportOutcome.HELD, ImportOutcome.BUSY, "failed"]
    return result.more or any(result.counts[f"{prefix}{outcome}"] for outcome in outcomes for prefix in ("", "late_"))


def _beyond_import_limit(
    recent: list[StoreOrder | UnreadableOrder], bindings: dict[str, OrderBinding], limit: int
) -> set[str]:
    """The orders this run leaves to the next one, newest first, so that one run stays within its function's time
    (a Black-Friday backlog): of the orders with work to do (not yet sent), all but the `limit` oldest. The
    watermark stops before the oldest of them."""
    to_do = [
        order
        for order in recent
        if (binding := bindings.get(order.order_id)) is None or binding.status is not BindingStatus.SENT
    ]
    if len(to_do) <= limit:
        return set()
    undated_last = datetime.max.replace(tzinfo=UTC)
    oldest_first = sorted(to_do, key=lambda order: order.placed_at or undated_last)
    return {order.order_id for order in oldest_first[limit:]}


def late_sweep_due(cursor: Cursor, every_minutes: int, now: datetime) -> bool:
    return cursor.late_sweep_at is None or now - cursor.late_sweep_at >= timedelta(minutes=every_minutes)


def _never_finished(binding: OrderBinding | None) -> bool:
    """An order the late sweep imports: never seen, or its last attempt failed. Held orders have their rotation."""
    return binding is None or binding.status in (BindingStatus.FAILED, BindingStatus.CLAIMED)


def _import_all(
    integration: Integration,
    orders: list[StoreOrder | UnreadableOrder],
    bindings: dict[str, OrderBinding],
    shipping_map: dict[str, str],
    deps: OrderDeps,
    result: PollResult,
    counter_prefix: str = "",
) -> list[datetime]:
    """Import each order; return when the unfinished ones were placed (the watermark must not pass them)."""
    unfinished: list[datetime] = []
    for order in orders:
        run = partial(import_order, integration, order, bindings.get(order.order_id), deps, shipping_map)
        if not _import_counted(result, run, counter_prefix) and order.placed_at is not None:
            unfinished.append(order.placed_at)
    return unfinished


def _recheck_held(
    integration: Integration,
    cursor: Cursor,
    started: datetime,
    seen: set[str],
    shipping_map: dict[str, str],
    deps: OrderDeps,
    result: PollResult,
) -> str | None:
    """Re-read at most `held_recheck_per_run` held orders, in rotation from where the last run stopped; return
    where the next run starts (None: this run went round them all)."""
    settings = integration.settings
    placed_after = started - timedelta(days=settings.held_recheck_days)
    held = sorted(set(deps.state.held_order_ids(integration.id, placed_after)) - seen)
    batch = rotation(held, cursor.held_recheck_after, settings.held_recheck_per_run)
    for order_id in batch:
        _import_counted(result, partial(import_order_by_id, integration, order_id, deps, shipping_map), "recheck_")
    if len(held) > len(batch):
        result.counts["held_waiting"] = len(held) - len(batch)
    return batch[-1] if len(batch) < len(held) else None


def rotation(ids: list[str], after: str | None, size: int) -> list[str]:
    """Up to `size` of the sorted `ids`, starting after `after` and going round to the start."""
    start = bisect.bisect_right(ids, after) if after is not None else 0
    batch = ids[start : start + size]
    return batch + ids[: min(start, size - len(batch))]


def _note_findings(
    result: PollResult,
    placed: dict[str, datetime | None],
    listed: list[StoreOrder | UnreadableOrder],
    late: list[StoreOrder | UnreadableOrder],
    bindings: dict[str, OrderBinding],
    sweep: bool,
    started: datetime,
    covered_since: datetime,
) -> None:
    """What the status shows: orders dated in the future, orders the late sweep found that the poll had never
    seen (likely hidden by a plugin setting when placed), and whether the store shows unpaid or held orders."""
    future = future_dated(placed, started)
    result.cursor_fields["future_dated"] = future[:REPORT_LIMIT]
    if future:
        result.counts["future_dated"] = len(future)
        logger.warning("orders dated in the future; the watermark stops at now", extra={"order_ids": future})
    missed = [  # placed where an earlier poll looked, yet never seen: the store did not show it then
        order.order_id
        for order in late
        if order.order_id not in bindings and order.placed_at is not None and order.placed_at > covered_since
    ]
    if sweep:
        result.cursor_fields["late_sweep_at"] = started
        if len(listed) > len(placed):
            result.counts["late_swept"] = len(listed) - len(placed)
    if missed:
        result.counts["late_found"] = len(missed)
        result.cursor_fields |= {"late_orders": missed[:REPORT_LIMIT], "late_orders_at": started}
        logger.warning("orders placed long before the poll could see them", extra={"order_ids": missed})
    if any(isinstance(order, StoreOrder) and _held_in_store(order) for order in listed):
        result.cursor_fields["on_hold_seen_at"] = started


def _held_in_store(order: StoreOrder) -> bool:
    return order.state is StoreOrderState.AWAITING_PAYMENT or any(hold.reason in _STORE_HOLDS for hold in order.holds)


def _aftercare(
    integration: Integration,
    deps: OrderDeps,
    shipping_map: dict[str, str],
    result: PollResult,
    listed: list[StoreOrder | UnreadableOrder],
    bindings: dict[str, OrderBinding],
) -> None:
    """Sent orders cancelled or edited in the store since (sync/aftercare.py): those the poll's listing shows, then
    a bounded batch of the others by id."""
    if deps.aftercare is None or not isinstance(deps.warehouse, AftercareWarehouse):
        return
    care_deps = AftercareDeps(
        aftercare=deps.aftercare,
        state=deps.state,
        store=deps.store,
        warehouse=deps.warehouse,
        render=lambda order, reference: to_warehouse_order(
            integration, order, reference, shipping_code_for(order, shipping_map)
        ),
        clock=deps.clock,
        claim_lease_seconds=deps.claim_lease_seconds,
        new_token=deps.new_token,
    )
    listed_care = care_for_listed(integration, listed, bindings, care_deps)
    rotation_care = run_aftercare(integration, care_deps, skip=frozenset(listed_care.acted_on))
    for care in (listed_care, rotation_care):
        result.counts.update({f"aftercare_{name}": count for name, count in care.counts.items() if count})
        result.needs_person += care.needs_person
        result.errors.extend(care.errors)


def _count_unidentified(result: PollResult, read: list[StoreOrder | UnreadableOrder | UnidentifiedOrder]) -> None:
    """A record without a usable order id cannot be held under its name: it is counted as `unreadable` and
    `unidentified` and reported in the run's errors (the flow's last_error in status)."""
    unidentified = [order for order in read if isinstance(order, UnidentifiedOrder)]
    if unidentified:
        result.counts["unreadable"] += len(unidentified)
        result.counts["unidentified"] += len(unidentified)
        result.errors.extend(f"store order without a usable id: {order.problem}" for order in unidentified)
        logger.warning("store orders without a usable id", extra={"problems": [o.problem for o in unidentified]})


def _import_counted(result: PollResult, run: Callable[[], ImportResult], counter_prefix: str = "") -> bool:
    """Run one import, count its outcome; False when it did not finish (so the watermark must not pass it)."""
    try:
        imported = run()
    except OgosyncError as exc:
        result.counts[f"{counter_prefix}failed"] += 1
        result.errors.append(str(exc))
        logger.warning("order import failed", extra={"error": str(exc)})
        return False
    result.counts[f"{counter_prefix}{imported.outcome}"] += 1
    if any(hold.reason is HoldReason.UNREADABLE_IN_STORE for hold in imported.holds):
        # the UnreadableStoreOrders alarm watches `unreadable` + `recheck_unreadable`: it stays on while one is held
        result.counts[f"{counter_prefix}unreadable"] += 1
    return imported.outcome is not ImportOutcome.BUSY


def next_watermark(
    current: datetime | None, seen: list[datetime], unfinished: list[datetime], now: datetime
) -> datetime | None:
    """Move to the newest moment seen, but never past one whose work did not finish, and never past now plus
    FUTURE_SKEW: one record dated in the future would otherwise carry the watermark past every later one. A
    watermark already beyond that (from a run before this rule) is brought back to it: re-reading is harmless."""
    ceiling = now + FUTURE_SKEW
    if not seen:
        return current if current is None else min(current, ceiling)
    candidate = min(max(seen), ceiling)
    if unfinished:
        candidate = min(candidate, min(unfinished) - timedelta(microseconds=1))
    return min(candidate if current is None else max(current, candidate), ceiling)


def future_dated(moments: Mapping[str, datetime | None], now: datetime) -> list[str]:
    """The keys whose moment lies after now plus FUTURE_SKEW, sorted."""
    ceiling = now + FUTURE_SKEW
    return sorted(name for name, moment in moments.items() if moment is not None and moment > ceiling)
