"""Aftercare of sent orders, store -> myOGO: a store order cancelled or edited after ogosync sent it (design
invariant 10).

Each order poll first acts on the sent orders its own listing shows cancelled or changed (no extra store call),
then looks a bounded batch of the open orders (sent, not yet shipped: items OPEN#) up in the store
directly, by id, so a cancellation is seen even when the order is older than the poll's watermark. The batch
rotates over all open orders with a cursor kept in DynamoDB, so every open order is looked at within
ceil(open orders / AFTERCARE_BATCH) polls. For each:
- cancelled in the store: while myOGO has not started on it (new, pending, reserved, draft) it is cancelled in
  myOGO; once myOGO is collecting it (or later) it is handed to a person (ATTENTION#, metric and alarm);
- lines or delivery address changed in the store: myOGO's copy is re-read; only while it is NEW and still exactly
  what ogosync sent (its digest equals the one stored at send time) is it updated. myOGO asks integrations never
  to overwrite changes made in myOGO, so any other case is handed to a person;
- fulfilled in the store, or shipped/cancelled in myOGO (as the tracking flow recorded): aftercare ends.
Every write to myOGO is made under a conditional claim on the order binding (like the order's own claim), renewed
by a conditional write with the owner's token right before the write (so a slow read cannot let a lapsed claim
write), and recorded by the claim's owner only.
Uncertain (docs/api/myogo.md, "Cancelling and updating a sent order"): the cancel call itself (PUT with status
"cancelled" is inferred from the reference), and whether myOGO's API accepts a PUT of a NEW order (its support page
says NEW orders are not editable by hand): a refusal is handed to a person.
A store that answers "does not exist" for a sent order is NOT taken as a cancellation (the order may be deleted,
or hidden by the plugin's status/hold filters): it is handed to a person too.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial

from aws_lambda_powertools import Logger

from ogosync.errors import ConcurrencyConflictError, OgosyncError, RejectedByPlatformError
from ogosync.models import (
    MYOGO_CANCELLED,
    AftercareStatus,
    BindingStatus,
    Integration,
    OpenOrder,
    OrderBinding,
    StoreOrder,
    StoreOrderState,
    UnreadableOrder,
    WarehouseOrder,
    WarehouseOrderContent,
    order_content_hash,
)
from ogosync.ports import AftercareRepository, AftercareWarehouse, StateRepository, StorePlatform
from ogosync.timeutil import Clock, utc_now

logger = Logger(service="ogosync", child=True)

AFTERCARE_BATCH = 25  # open orders looked up in the store per order poll (one store read each, more on a change)
REPORT_LIMIT = 20
# myOGO statuses in which an order can still be cancelled through the API (reference §3.1, docs/api/myogo.md).
CANCELLABLE = frozenset({"new", "pending", "reserved", "draft"})
EDITABLE = frozenset({"new"})  # the brief's rule: contents are updated only while myOGO's order is still NEW
FINISHED_IN_MYOGO = frozenset({"shipped", "cancelled", "returned"})
_FINAL = (AftercareStatus.CANCELLED_IN_MYOGO, AftercareStatus.NEEDS_PERSON)


class AftercareOutcome(StrEnum):
    UNCHANGED = "unchanged"
    CLOSED = "closed"  # nothing more to watch: shipped, fulfilled, or handled earlier
    CANCELLED_IN_MYOGO = "cancelled_in_myogo"
    UPDATED_IN_MYOGO = "updated_in_myogo"
    NEEDS_PERSON = "needs_person"
    UNREADABLE = "unreadable"  # the store's answer could not be read: looked at again next round
    BUSY = "busy"  # another worker holds the aftercare claim


@dataclass
class AftercareDeps:
    aftercare: AftercareRepository
    state: StateRepository
    store: StorePlatform
    warehouse: AftercareWarehouse
    render: Callable[[StoreOrder, str], WarehouseOrder]  # the store order as ogosync would send it now, by reference
    clock: Clock = utc_now
    claim_lease_seconds: int = 120
    new_token: Callable[[], str] = field(default=lambda: uuid.uuid4().hex)
    batch: int = AFTERCARE_BATCH


@dataclass
class AftercareResult:
    counts: Counter[str] = field(default_factory=Counter)
    needs_person: list[str] = field(default_factory=list)  # store order ids newly handed to a person
    acted_on: set[str] = field(default_factory=set)  # store order ids this run looked at
    errors: list[str] = field(default_factory=list)


def run_aftercare(integration: Integration, deps: AftercareDeps, skip: frozenset[str] = frozenset()) -> AftercareResult:
    """Look the next batch of open orders up in the store and act on what changed. Runs under the order poll's
    lock, which makes the cursor's plain write safe."""
    result = AftercareResult()
    batch = _next_batch(integration, deps)
    for open_order in batch:
        if open_order.store_order_id not in skip:  # acted on already in this poll (care_for_listed)
            _count(result, open_order.store_order_id, partial(check_open_order, integration, open_order, deps))
    result.counts["looked_up"] = len(batch)
    deps.aftercare.save_aftercare_cursor(integration.id, batch[-1].store_order_id if batch else None)
    return result


def _count(result: AftercareResult, order_id: str, act: Callable[[], AftercareOutcome]) -> None:
    """Run one order's aftercare and count its outcome; a failure is reported and the others go on."""
    result.acted_on.add(order_id)
    try:
        outcome = act()
    except OgosyncError as exc:
        result.counts["failed"] += 1
        result.errors.append(f"aftercare of order {order_id}: {exc}")
        logger.warning("aftercare failed", extra={"order_id": order_id, "error": str(exc)})
        return
    result.counts[outcome] += 1
    if outcome is AftercareOutcome.NEEDS_PERSON and len(result.needs_person) < REPORT_LIMIT:
        result.needs_person.append(order_id)


def _next_batch(integration: Integration, deps: AftercareDeps) -> list[OpenOrder]:
    """Up to `batch` open orders after the cursor, wrapping around to the first ones."""
    after = deps.aftercare.aftercare_cursor(integration.id)
    batch = deps.aftercare.open_orders(integration.id, after, deps.batch)
    if len(batch) < deps.batch and after is not None:
        taken = {open_order.store_order_id for open_order in batch}
        wrapped = deps.aftercare.open_orders(integration.id, None, deps.batch - len(batch))
        batch += [open_order for open_order in wrapped if open_order.store_order_id not in taken]
    return batch


def check_open_order(integration: Integration, open_order: OpenOrder, deps: AftercareDeps) -> AftercareOutcome:
    order_id = open_order.store_order_id
    binding = deps.state.get_order_binding(integration.id, order_id)
    if binding is None or _finished(binding):
        deps.aftercare.close_open_order(integration.id, order_id)
        return AftercareOutcome.CLOSED
    return act_on_store_order(integration, binding, deps.store.get_order(order_id), deps)


def act_on_store_order(
    integration: Integration, binding: OrderBinding, order: StoreOrder | UnreadableOrder | None, deps: AftercareDeps
) -> AftercareOutcome:
    """What the store now says of a sent, open order (None: it does not return it), acted on."""
    order_id = binding.store_order_id
    if order is None:
        detail = (
            f"the store no longer returns order {order_id}, which myOGO holds as {binding.reference}: deleted, or"
            " hidden by the store's status or hold filter. Not cancelled in myOGO: check the order in both."
        )
        return _hand_over(integration, binding, detail, deps)
    if isinstance(order, UnreadableOrder):
        return AftercareOutcome.UNREADABLE
    if order.state is StoreOrderState.FULFILLED:
        deps.aftercare.close_open_order(integration.id, order_id)
        return AftercareOutcome.CLOSED
    if order.state is StoreOrderState.CANCELLED:
        return _claimed(integration, binding, deps, lambda token: _cancel(integration, binding, token, deps))
    wanted = deps.render(order, binding.reference)
    if order_content_hash(wanted.customer, wanted.order_lines) == binding.sent_hash:
        return AftercareOutcome.UNCHANGED
    return _claimed(integration, binding, deps, lambda token: _update(integration, binding, wanted, token, deps))


def care_for_listed(
    integration: Integration,
    listed: Iterable[StoreOrder | UnreadableOrder],
    bindings: Mapping[str, OrderBinding],
    deps: AftercareDeps,
) -> AftercareResult:
    """Sent, open orders that the poll's own listing shows cancelled or changed are acted on at once, without
    waiting for their turn in the rotation (the listing costs no extra store call; unchanged ones no call at all)."""
    result = AftercareResult()
    for order in listed:
        binding = bindings.get(order.order_id)
        if (
            not isinstance(order, StoreOrder)
            or binding is None
            or _finished(binding)
            or not _changed(order, binding, deps)
        ):
            continue
        _count(result, binding.store_order_id, partial(act_on_store_order, integration, binding, order, deps))
    return result


def _changed(order: StoreOrder, binding: OrderBinding, deps: AftercareDeps) -> bool:
    if order.state in (StoreOrderState.CANCELLED, StoreOrderState.FULFILLED):
        return True
    wanted = deps.render(order, binding.reference)
    return order_content_hash(wanted.customer, wanted.order_lines) != binding.sent_hash


def _finished(binding: OrderBinding) -> bool:
    if binding.status is not BindingStatus.SENT or binding.aftercare_status in _FINAL:
        return True
    return (binding.myogo_status or "").lower() in FINISHED_IN_MYOGO


def _claimed(
    integration: Integration,
    binding: OrderBinding,
    deps: AftercareDeps,
    act: Callable[[str], AftercareOutcome],
) -> AftercareOutcome:
    token = deps.new_token()
    try:
        deps.aftercare.claim_aftercare(
            integration.id, binding.store_order_id, token, deps.clock(), deps.claim_lease_seconds
        )
    except ConcurrencyConflictError:
        return AftercareOutcome.BUSY
    try:
        return act(token)
    except ConcurrencyConflictError:  # our claim ran out before a write (none was made) or before the record
        return AftercareOutcome.BUSY
    except RejectedByPlatformError as exc:
        detail = f"myOGO refused the change of order {binding.reference}: {exc.detail}"
        return _finish(integration, binding, token, AftercareStatus.NEEDS_PERSON, detail, deps)


def _cancel(integration: Integration, binding: OrderBinding, token: str, deps: AftercareDeps) -> AftercareOutcome:
    current = deps.warehouse.order_content(binding.reference)
    if current is None:
        detail = f"cancelled in the store, but myOGO has no order {binding.reference}"
        return _finish(integration, binding, token, AftercareStatus.NEEDS_PERSON, detail, deps)
    if current.status == MYOGO_CANCELLED:
        detail = f"cancelled in the store; {binding.reference} was already cancelled in myOGO"
        return _finish(integration, binding, token, AftercareStatus.CANCELLED_IN_MYOGO, detail, deps)
    if current.status not in CANCELLABLE:
        detail = (
            f"cancelled in the store after myOGO started on {binding.reference} (status {current.status}): ask the"
            " warehouse to stop it (request cancellation in myOGO), or refund after a return"
        )
        return _finish(integration, binding, token, AftercareStatus.NEEDS_PERSON, detail, deps)
    _renew(integration, binding, token, deps)
    deps.warehouse.cancel_order(current)
    detail = f"cancelled in the store; cancelled {binding.reference} in myOGO (it was {current.status})"
    return _finish(integration, binding, token, AftercareStatus.CANCELLED_IN_MYOGO, detail, deps)


def _update(
    integration: Integration, binding: OrderBinding, wanted: WarehouseOrder, token: str, deps: AftercareDeps
) -> AftercareOutcome:
    current = deps.warehouse.order_content(binding.reference)
    problem = _not_updatable(binding, current)
    if problem:
        detail = f"lines or delivery address changed in the store; {problem}: myOGO not updated"
        return _finish(integration, binding, token, AftercareStatus.NEEDS_PERSON, detail, deps)
    _renew(integration, binding, token, deps)
    deps.warehouse.update_order(wanted)
    new_hash = order_content_hash(wanted.customer, wanted.order_lines)
    detail = f"lines or delivery address changed in the store; updated {binding.reference} in myOGO"
    deps.aftercare.finish_aftercare(
        integration.id,
        binding.store_order_id,
        token,
        AftercareStatus.UPDATED_IN_MYOGO,
        detail,
        deps.clock(),
        close=False,
        sent_hash=new_hash,
    )
    logger.info("order updated in myOGO", extra={"order_id": binding.store_order_id, "reference": binding.reference})
    return AftercareOutcome.UPDATED_IN_MYOGO


def _renew(integration: Integration, binding: OrderBinding, token: str, deps: AftercareDeps) -> None:
    """Prove the claim is still ours, and extend it, right before writing to myOGO (the read before may have been
    slow): ConcurrencyConflictError, and no write, when it is not."""
    deps.aftercare.renew_aftercare(
        integration.id, binding.store_order_id, token, deps.clock(), deps.claim_lease_seconds
    )


def _not_updatable(binding: OrderBinding, current: WarehouseOrderContent | None) -> str | None:
    if current is None:
        return f"myOGO has no order {binding.reference}"
    if current.status not in EDITABLE:
        return f"myOGO's order {binding.reference} is {current.status}, no longer new"
    if binding.sent_hash is None or order_content_hash(current.customer, current.order_lines) != binding.sent_hash:
        return f"myOGO's copy of {binding.reference} was changed in the warehouse too, and is never overwritten"
    return None


def _finish(
    integration: Integration,
    binding: OrderBinding,
    token: str,
    status: AftercareStatus,
    detail: str,
    deps: AftercareDeps,
) -> AftercareOutcome:
    deps.aftercare.finish_aftercare(
        integration.id, binding.store_order_id, token, status, detail, deps.clock(), close=True
    )
    if status is AftercareStatus.NEEDS_PERSON:
        logger.error("order needs a person", extra={"order_id": binding.store_order_id, "detail": detail})
        return AftercareOutcome.NEEDS_PERSON
    logger.info("order cancelled in myOGO", extra={"order_id": binding.store_order_id, "detail": detail})
    return AftercareOutcome.CANCELLED_IN_MYOGO


def _hand_over(integration: Integration, binding: OrderBinding, detail: str, deps: AftercareDeps) -> AftercareOutcome:
    return _claimed(
        integration,
        binding,
        deps,
        lambda token: _finish(integration, binding, token, AftercareStatus.NEEDS_PERSON, detail, deps),
    )
