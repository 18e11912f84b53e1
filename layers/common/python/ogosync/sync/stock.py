"""The stock flow, myOGO -> store: the store sells what the warehouse has, less what is sold and not yet in myOGO.

The value published per SKU is V = max(0, myOGO available - in transit). In transit are the units of PAID store
orders, and of those waiting for payment (they hold their stock in the store), that myOGO does not have yet: the
orders placed since the order flow's watermark (minus its overlap) and the held ones, less those SENT. They are
counted BEFORE myOGO is read, so an order that reaches myOGO in between is subtracted twice for one run (the store
sells a unit less for a while) rather than given back to the store.

Only what changed is written: myOGO's stock changed since the watermark (minus an overlap), plus the SKUs in transit
now or at the last run, and of those only the ones whose V differs from what the ledger says was last published.
The ledger is written batch by batch as the store accepts the writes, and the watermark never passes a change that
was not written, so a run that fails halfway is repeated only for what is left. Once a day (from the integration's
local hour `stock_reconcile_hour`) a full reconciliation rewrites every SKU, which repairs any drift; a failed one
is resumed by the next run, skipping what it already rewrote.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger

from ogosync.errors import OgosyncError
from ogosync.models import (
    PROBLEMS_KEPT,
    BindingStatus,
    Cursor,
    Flow,
    Integration,
    PublishedStock,
    SkuBinding,
    StockRunState,
    StockToPublish,
    UnidentifiedOrder,
    UnreadableOrder,
    UnreadableWarehouseRecord,
    WarehouseStockLevel,
)
from ogosync.ports import SkuBindingRepository, StateRepository, StockLedger, StockStore, StockWarehouse
from ogosync.sync.orders import future_dated, next_watermark, units_in_transit
from ogosync.sync.runs import RunRecord, locked_run
from ogosync.timeutil import Clock, utc_now

logger = Logger(service="ogosync", child=True)

REPORT_LIMIT = 20  # codes listed per kind of problem in a run's result (the counts are complete)
STALE_RETRIES = 2  # recomputations per run of SKUs the store changed between our read and our write


@dataclass
class StockDeps:
    state: StateRepository
    skus: SkuBindingRepository
    ledger: StockLedger
    store: StockStore
    warehouse: StockWarehouse
    clock: Clock = utc_now
    lock_ttl_seconds: int = 330  # longer than the stock function's timeout


@dataclass
class StockRunResult:
    integration_id: str
    full: bool
    counts: Counter[str] = field(default_factory=Counter)
    unbound: list[str] = field(default_factory=list)  # changed in myOGO, but no store item is bound to it
    not_in_store: list[str] = field(default_factory=list)  # bound, but the store has no such item
    oversold: list[str] = field(default_factory=list)  # the store sold more than myOGO has: published as 0
    stale: list[str] = field(default_factory=list)  # still changed by the store at each try: left for the next run
    unreadable: list[str] = field(default_factory=list)  # myOGO stock rows that cannot be read, with the problem
    watermark: datetime | None = None
    future_dated: list[str] = field(default_factory=list)  # changed in myOGO "after now": the watermark stops at now
    failure: OgosyncError | None = None  # the store write that stopped the run (what came before is recorded)
    written_skus: set[str] = field(default_factory=set)  # every SKU whose write the store accepted
    refused_skus: set[str] = field(default_factory=set)  # every SKU whose write the store refused (not_in_store)


# ---- what is in transit ------------------------------------------------------------------------


@dataclass
class InTransit:
    units: Counter[str]
    unreadable_orders: int


def in_transit(integration: Integration, state: StateRepository, store: StockStore, now: datetime) -> InTransit:
    """Units per SKU of store orders paid or waiting for payment that myOGO does not have yet (not SENT): the recent
    ones, read from the store, and the held ones, from the units the order flow recorded when it held them (so
    thousands of held orders cost no store reads). A held order recorded before units were kept is read from the
    store."""
    settings = integration.settings
    watermark = state.get_cursor(integration.id, Flow.ORDERS).watermark
    since = (watermark or now - timedelta(hours=settings.first_poll_lookback_hours)) - timedelta(
        minutes=settings.poll_overlap_minutes
    )
    read = list(store.orders_placed_since(since))
    orders = {order.order_id: order for order in read if not isinstance(order, UnidentifiedOrder)}
    held = state.held_in_transit(integration.id, now - timedelta(days=settings.held_recheck_days))
    units: Counter[str] = Counter()
    for order_id, recorded in held.items():
        if order_id in orders:
            continue
        if recorded is not None:
            units.update(recorded)
        elif (order := store.get_order(order_id)) is not None:
            orders[order_id] = order
    bindings = state.get_order_bindings(integration.id, list(orders))
    unreadable = sum(isinstance(order, UnidentifiedOrder) for order in read)
    for order in orders.values():
        if isinstance(order, UnreadableOrder):
            unreadable += 1  # its lines are unknown: nothing can be subtracted for it
            continue
        binding = bindings.get(order.order_id)
        if binding is None or binding.status is not BindingStatus.SENT:
            units.update(units_in_transit(order))
    return InTransit(+units, unreadable)


# ---- when to reconcile everything ---------------------------------------------------------------


def full_run_due(integration: Integration, state: StockRunState, now: datetime) -> bool:
    """A reconciliation resumes until it completes; a new one is due once a day from the local reconcile hour."""
    if state.full_run_started is not None or state.last_full_run is None:
        return True
    local_now = now.astimezone(integration.zone)
    if local_now.hour < integration.settings.stock_reconcile_hour:
        return False
    return state.last_full_run.astimezone(integration.zone).date() < local_now.date()


# ---- the run ------------------------------------------------------------------------------------


def sync_stock(integration: Integration, deps: StockDeps, owner: str) -> StockRunResult | None:
    """One stock run; None when another run of this integration holds the lock. A failed store write is recorded
    with what was done before it, then raised, so the job is retried."""
    lock = (integration.id, Flow.STOCK, owner, deps.lock_ttl_seconds)
    result = locked_run(
        deps.state, deps.clock, lock, lambda cursor, started: _run(integration, deps, cursor, started), _record
    )
    if result is not None and result.failure is not None:
        raise result.failure
    return result


def _record(result: StockRunResult) -> RunRecord:
    failure = str(result.failure) if result.failure else None
    return RunRecord(result.watermark, result.counts, failure, {"future_dated": result.future_dated[:REPORT_LIMIT]})


def _run(integration: Integration, deps: StockDeps, cursor: Cursor, started: datetime) -> StockRunResult:
    run_state = deps.ledger.run_state(integration.id)
    full = full_run_due(integration, run_state, started)
    result = StockRunResult(integration.id, full=full, watermark=cursor.watermark)
    result.counts.update(dict.fromkeys(("written", "unchanged", "not_in_store", "oversold"), 0))  # always shown
    transit = in_transit(integration, deps.state, deps.store, started)  # before myOGO is read: see the docstring
    changed = _changed_levels(integration, deps, cursor, full, result)
    levels = changed | _rechecked_levels(deps, set(transit.units) | set(run_state.in_transit_skus), changed, full)
    bindings = _bindings(integration, deps, levels, full)
    items, entries = _to_publish(integration, deps, run_state, levels, bindings, transit.units, started, result)
    written, stale = _publish(deps, items, entries, result)
    written |= _recompute_stale(integration, deps, run_state, stale, bindings, levels, result)
    unfinished = [levels[item.binding.sku].modified for item in items if item.binding.sku not in written]
    result.watermark = next_watermark(
        cursor.watermark,
        [level.modified for level in changed.values() if level.modified],
        [moment for moment in unfinished if moment is not None],
        started,
    )
    result.future_dated = future_dated({code: level.modified for code, level in changed.items()}, started)
    unbound = {code for code in levels if code not in bindings}
    problems = _kept_problems(run_state, full and result.failure is None, set(levels), unbound, result)
    deps.ledger.save_run_state(_next_run_state(run_state, full, started, transit.units, result.failure, problems))
    result.counts.update(
        levels=len(changed),
        rechecked=len(levels) - len(changed),
        in_transit_skus=len(transit.units),
        in_transit_units=sum(transit.units.values()),
        unreadable_orders=transit.unreadable_orders,
        future_dated=len(result.future_dated),
        full=int(full),
    )
    _log(result)
    return result


def _changed_levels(
    integration: Integration, deps: StockDeps, cursor: Cursor, full: bool, result: StockRunResult
) -> dict[str, WarehouseStockLevel]:
    """myOGO's changed stock rows. One that cannot be read is counted (`unreadable_rows`, alarmed) and named in the
    result; it does not hold the watermark (it would be re-read on every run for ever): the daily reconciliation
    reads it again, and reports it again while it stays unreadable."""
    overlap = timedelta(minutes=integration.settings.poll_overlap_minutes)
    since = None if full or cursor.watermark is None else cursor.watermark - overlap
    levels: dict[str, WarehouseStockLevel] = {}
    for row in deps.warehouse.stock_levels(since):
        if isinstance(row, UnreadableWarehouseRecord):
            result.counts["unreadable_rows"] += 1
            result.unreadable.append(f"{row.key or '(no productCode)'}: {row.problem}")
        else:
            levels[row.code] = row
    result.unreadable = result.unreadable[:REPORT_LIMIT]
    return levels


def _rechecked_levels(
    deps: StockDeps, codes: set[str], changed: Mapping[str, WarehouseStockLevel], full: bool
) -> dict[str, WarehouseStockLevel]:
    """myOGO's current stock of SKUs in transit now or at the last run that did not change in myOGO: their value
    to publish moves with what is in transit. A full run has read everything already."""
    if full:
        return {}
    found = (deps.warehouse.stock_level(code) for code in sorted(codes - set(changed)))
    return {level.code: level for level in found if level is not None}


def _bindings(
    integration: Integration, deps: StockDeps, levels: Mapping[str, WarehouseStockLevel], full: bool
) -> dict[str, SkuBinding]:
    if full:
        return {binding.sku: binding for binding in deps.skus.all_sku_bindings(integration.id)}
    return deps.skus.get_sku_bindings(integration.id, list(levels))


def _to_publish(
    integration: Integration,
    deps: StockDeps,
    run_state: StockRunState,
    levels: Mapping[str, WarehouseStockLevel],
    bindings: Mapping[str, SkuBinding],
    transit: Counter[str],
    now: datetime,
    result: StockRunResult,
    force: bool = False,
) -> tuple[list[StockToPublish], dict[str, PublishedStock]]:
    """The items to write, oldest myOGO change first, and the ledger entry each will get once written; `force`
    writes even what the ledger says was published (the store changed it since)."""
    unbound = sorted(code for code in levels if code not in bindings)
    result.counts["unbound"] = len(unbound)
    result.unbound = unbound[:REPORT_LIMIT]
    bound = [level for level in levels.values() if level.code in bindings]
    previous = _previous(integration, deps, run_state, result.full, [level.code for level in bound])
    items: list[StockToPublish] = []
    entries: dict[str, PublishedStock] = {}
    for level in sorted(bound, key=lambda level: (level.modified is not None, level.modified, level.code)):
        wanted = level.available - transit[level.code]
        if wanted < 0:
            result.counts["oversold"] += 1
            if len(result.oversold) < REPORT_LIMIT:
                result.oversold.append(level.code)
        quantity = max(0, wanted)
        if not force and _already_published(previous.get(level.code), quantity, run_state):
            result.counts["unchanged"] += 1
            continue
        items.append(StockToPublish(binding=bindings[level.code], quantity=quantity))
        entries[level.code] = PublishedStock(
            integration_id=integration.id,
            sku=level.code,
            quantity=quantity,
            available=level.available,
            in_transit=transit[level.code],
            store_quantity=quantity,
            published_at=now,
        )
    return items, entries


def _previous(
    integration: Integration, deps: StockDeps, run_state: StockRunState, full: bool, codes: list[str]
) -> dict[str, PublishedStock]:
    """The ledger entries to compare with: all of them when resuming a reconciliation, none when starting one."""
    if run_state.full_run_started is not None:
        return deps.ledger.all_published(integration.id)
    return {} if full else deps.ledger.published(integration.id, codes)


def _already_published(previous: PublishedStock | None, quantity: int, run_state: StockRunState) -> bool:
    if previous is None or previous.quantity != quantity:
        return False
    resuming = run_state.full_run_started
    return resuming is None or previous.published_at >= resuming  # a reconciliation rewrites what it has not yet


def _recompute_stale(
    integration: Integration,
    deps: StockDeps,
    run_state: StockRunState,
    stale: set[str],
    bindings: Mapping[str, SkuBinding],
    levels: dict[str, WarehouseStockLevel],
    result: StockRunResult,
) -> set[str]:
    """SKUs a store's compare-and-swap refused (a sale between our read and our write): what is in transit and
    myOGO's stock are read again and the value recomputed and written, forced (the ledger may already hold it),
    at most STALE_RETRIES times; what stays stale is left for the next run (the watermark does not pass it)."""
    done: set[str] = set()
    for _ in range(STALE_RETRIES):
        if not stale or result.failure is not None:
            break
        result.counts["stale_recomputed"] += len(stale)
        now = deps.clock()
        transit = in_transit(integration, deps.state, deps.store, now)
        fresh = {code: level for code in sorted(stale) if (level := deps.warehouse.stock_level(code)) is not None}
        levels.update(fresh)
        items, entries = _to_publish(integration, deps, run_state, fresh, bindings, transit.units, now, result, True)
        written, stale = _publish(deps, items, entries, result)
        done |= written
    result.counts["stale"] = len(stale)
    result.stale = sorted(stale)[:REPORT_LIMIT]
    return done


def _publish(
    deps: StockDeps, items: list[StockToPublish], entries: Mapping[str, PublishedStock], result: StockRunResult
) -> tuple[set[str], set[str]]:
    """Write to the store; record each accepted batch in the ledger. Returns the SKUs done (written or not in the
    store) and the ones the store changed meanwhile (stale: not written). A failure stops the run: it is kept in
    the result, and the SKUs not done stay for the next run."""
    done: set[str] = set()
    stale: set[str] = set()
    if not items:
        return done, stale
    try:
        for batch in deps.store.publish_stock(items):
            deps.ledger.record_published(
                [
                    entries[write.sku].model_copy(update={"store_quantity": write.store_quantity})
                    for write in batch.written
                ]
            )
            done.update(write.sku for write in batch.written)
            done.update(batch.not_found)
            stale.update(batch.stale)
            result.written_skus.update(write.sku for write in batch.written)
            result.refused_skus.update(batch.not_found)
            result.counts["written"] += len(batch.written)
            result.counts["not_in_store"] += len(batch.not_found)
            result.not_in_store.extend(batch.not_found[: REPORT_LIMIT - len(result.not_in_store)])
    except OgosyncError as exc:
        result.failure = exc
        result.counts["not_written"] = len(items) - len(done)
    return done, stale


def _kept_problems(
    previous: StockRunState, complete: bool, read: set[str], unbound: set[str], result: StockRunResult
) -> dict[str, list[str]]:
    """The SKUs myOGO has and no store item is linked to, and those the store refused, for the stock page. A
    completed reconciliation read everything: its findings replace the lists. Any other run changes only what it
    read: a SKU read again is unbound or not as it is now, and a refused one leaves the list once a write of it is
    accepted (or it is no longer linked)."""
    if complete:
        kept_unbound, kept_refused = unbound, result.refused_skus
    else:
        kept_unbound = (set(previous.unbound_skus) - read) | unbound
        kept_refused = (set(previous.refused_skus) - result.written_skus - unbound) | result.refused_skus
    return {"unbound_skus": sorted(kept_unbound)[:PROBLEMS_KEPT], "refused_skus": sorted(kept_refused)[:PROBLEMS_KEPT]}


def _next_run_state(
    previous: StockRunState,
    full: bool,
    started: datetime,
    transit: Iterable[str],
    failure: OgosyncError | None,
    problems: Mapping[str, list[str]],
) -> StockRunState:
    in_transit_skus = set(transit) | (set(previous.in_transit_skus) if failure else set())
    if not full:
        return previous.model_copy(update={"in_transit_skus": sorted(in_transit_skus), **problems})
    return previous.model_copy(
        update={
            **problems,
            "in_transit_skus": sorted(in_transit_skus),
            "last_full_run": previous.last_full_run if failure else started,
            "full_run_started": (previous.full_run_started or started) if failure else None,
        }
    )


def _log(result: StockRunResult) -> None:
    if result.unbound:
        logger.warning("myOGO SKUs without a store item", extra={"count": len(result.unbound), "codes": result.unbound})
    if result.not_in_store:
        logger.warning("bound SKUs the store does not have", extra={"codes": result.not_in_store})
    if result.oversold:
        logger.warning("store sold more than myOGO has; published 0", extra={"codes": result.oversold})
    if result.unreadable:
        logger.warning("unreadable myOGO stock rows", extra={"rows": result.unreadable})
    logger.info("stock run done", extra={"full": result.full, "counts": dict(result.counts)})
