"""The stock engine over in-memory fakes: what is published, what is written, and how far the watermark moves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from ogosync.errors import OgosyncError
from ogosync.models import (
    PROBLEMS_KEPT,
    Flow,
    Hold,
    HoldReason,
    Integration,
    IntegrationSettings,
    SkuBinding,
    StockRunState,
    StoreOrderState,
    UnidentifiedOrder,
    UnreadableWarehouseRecord,
    WarehouseOrderState,
)
from ogosync.sync.orders import FUTURE_SKEW
from ogosync.sync.stock import StockDeps, StockRunResult, full_run_due, sync_stock
from tests.factories import T0, make_integration, make_order
from tests.fakes import InMemorySkuBindings, InMemoryState
from tests.fakes_stock import FakeStockStore, FakeStockWarehouse, InMemoryStockLedger

TEE, HOODIE, CAP = "TS100BLKM", "HD200GRYS", "CP300REDOS"


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(minutes=5)  # 10:05 in Stockholm

    def __call__(self) -> datetime:
        return self.now

    def tick(self, minutes: float = 10) -> datetime:
        self.now += timedelta(minutes=minutes)
        return self.now


@dataclass
class World:
    integration: Integration
    deps: StockDeps
    clock: Clock
    state: InMemoryState
    store: FakeStockStore
    warehouse: FakeStockWarehouse
    ledger: InMemoryStockLedger

    def run(self) -> StockRunResult:
        result = sync_stock(self.integration, self.deps, owner="test")
        assert result is not None
        return result

    def stock(self, code: str, available: int, minutes_ago: float = 1) -> datetime:
        modified = self.clock.now - timedelta(minutes=minutes_ago)
        self.warehouse.set(code, available, modified)
        return modified

    def sent_to_myogo(self, order_id: str) -> None:
        self.state.claim_order(self.integration.id, order_id, order_id, "t", self.clock.now, 60)
        sent = WarehouseOrderState(id=f"id-{order_id}", reference=order_id, status="new")
        self.state.mark_order_sent(self.integration.id, order_id, "t", sent, self.clock.now, was_held=False)


@pytest.fixture
def world() -> World:
    state, skus, ledger = InMemoryState(), InMemorySkuBindings(), InMemoryStockLedger()
    integration = make_integration(settings=IntegrationSettings(poll_overlap_minutes=1))
    state.put_integration(integration)
    skus.put_sku_bindings([SkuBinding(integration_id=integration.id, sku=sku) for sku in (TEE, HOODIE, CAP)])
    store, warehouse, clock = FakeStockStore(batch_size=2), FakeStockWarehouse(), Clock()
    deps = StockDeps(state=state, skus=skus, ledger=ledger, store=store, warehouse=warehouse, clock=clock)
    return World(integration, deps, clock, state, store, warehouse, ledger)


def _reconciled(world: World) -> None:
    """The first run (a full reconciliation) over TEE 5, HOODIE 0, CAP 7, changed in myOGO long before; an hour on."""
    for code, available in ((TEE, 5), (HOODIE, 0), (CAP, 7)):
        world.stock(code, available, minutes_ago=30)
    assert world.run().full
    world.store.batches.clear()
    world.clock.tick(60)


def test_the_first_run_publishes_every_bound_sku_zero_included_and_reports_the_unbound(world: World) -> None:
    world.stock(TEE, 5)
    world.stock(HOODIE, 0)
    newest = world.stock(CAP, 7, minutes_ago=0.5)
    world.stock("ONLY-IN-MYOGO", 3)

    result = world.run()

    assert result.full and result.counts["written"] == 3
    assert world.store.sellable == {TEE: 5, HOODIE: 0, CAP: 7}
    assert (result.unbound, result.counts["unbound"]) == (["ONLY-IN-MYOGO"], 1)
    assert world.ledger.published(world.integration.id, [HOODIE])[HOODIE].quantity == 0
    cursor = world.state.get_cursor(world.integration.id, Flow.STOCK)
    assert cursor.watermark == newest and cursor.last_error is None
    assert world.ledger.run_state(world.integration.id).last_full_run == world.clock.now


def test_unreadable_myogo_rows_and_store_orders_are_counted_and_the_run_goes_on(world: World) -> None:
    world.stock(TEE, 5)
    world.stock(CAP, 7)
    world.warehouse.unreadable.append(UnreadableWarehouseRecord(key=HOODIE, problem="stockAvailable is not whole"))
    world.store.unidentified.append(UnidentifiedOrder(problem="not an order with an orderId: None"))

    result = world.run()

    assert world.store.sellable == {TEE: 5, CAP: 7}
    assert (result.counts["unreadable_rows"], result.counts["unreadable_orders"]) == (1, 1)
    assert result.unreadable == [f"{HOODIE}: stockAvailable is not whole"]


def test_a_changes_run_writes_only_skus_whose_value_differs_from_what_was_last_written(world: World) -> None:
    _reconciled(world)
    world.stock(TEE, 4)
    world.stock(CAP, 7)  # touched in myOGO, same value

    result = world.run()

    assert not result.full
    assert world.store.writes == [(TEE, 4)]
    # CAP was touched with its old value; HOODIE, at the watermark, was read again in the overlap: neither is written
    assert (result.counts["levels"], result.counts["written"], result.counts["unchanged"]) == (3, 1, 2)


def test_a_run_with_no_change_writes_nothing_and_reads_myogo_once(world: World) -> None:
    _reconciled(world)
    calls_before = dict(world.warehouse.calls)

    result = world.run()

    assert world.store.writes == [] and result.counts["written"] == 0
    assert world.warehouse.calls == {"list": calls_before["list"] + 1, "one": calls_before["one"]}


def test_an_order_paid_a_second_before_the_run_is_subtracted_and_not_twice_once_myogo_has_it(world: World) -> None:
    _reconciled(world)
    world.store.put(make_order("1001", placed_at=world.clock.now - timedelta(seconds=1), skus=(TEE, TEE)))

    first = world.run()  # myOGO does not have the order: 5 - 2

    assert world.store.writes == [(TEE, 3)]
    assert (first.counts["in_transit_skus"], first.counts["in_transit_units"]) == (1, 2)

    world.sent_to_myogo("1001")  # the order flow sent it; myOGO reserved the two units
    world.stock(TEE, 3, minutes_ago=0)
    world.clock.tick()
    second = world.run()

    assert world.store.sellable[TEE] == 3  # 3 available, nothing in transit: not 1
    assert world.store.writes == [(TEE, 3)] and second.counts["written"] == 0


def test_a_sku_in_transit_is_read_from_myogo_even_when_myogo_did_not_change_it(world: World) -> None:
    _reconciled(world)
    world.stock(CAP, 8, minutes_ago=0)
    world.run()  # the watermark moves to CAP's change, an hour after TEE's: TEE is no longer in the overlap
    world.store.batches.clear()
    world.clock.tick()
    world.store.put(make_order("1001", placed_at=world.clock.now - timedelta(seconds=1), skus=(TEE,)))

    result = world.run()

    assert world.store.writes == [(TEE, 4)]
    assert (result.counts["levels"], result.counts["rechecked"], world.warehouse.calls["one"]) == (1, 1, 1)


def test_paid_held_orders_and_orders_awaiting_payment_are_in_transit_cancelled_ones_are_not(world: World) -> None:
    """Issue 10 item 11: an order waiting for payment holds its stock in the store, so once paid it cannot be
    oversold; a cancelled one holds nothing."""
    long_ago = T0 - timedelta(days=3)  # before the order poll's window: only the held marker names it
    held = make_order(
        "1001", placed_at=long_ago, skus=(TEE,), holds=[Hold(reason=HoldReason.ON_HOLD_IN_STORE, detail="")]
    )
    world.store.put(held)
    world.state.mark_order_held(world.integration.id, "1001", "1001", held.holds, world.clock.now, long_ago)
    world.store.put(make_order("1002", skus=(TEE,), state=StoreOrderState.AWAITING_PAYMENT))
    world.store.put(make_order("1003", skus=(HOODIE,), state=StoreOrderState.CANCELLED))
    world.stock(TEE, 5)
    world.stock(HOODIE, 5)

    world.run()

    assert world.store.sellable == {TEE: 3, HOODIE: 5}


def test_more_sold_than_myogo_has_is_published_as_zero_and_reported(world: World) -> None:
    world.store.put(make_order("1001", skus=(TEE, TEE, TEE)))
    world.stock(TEE, 1)

    result = world.run()

    assert world.store.sellable[TEE] == 0
    assert (result.oversold, result.counts["oversold"]) == ([TEE], 1)


def test_a_run_failing_halfway_moves_the_watermark_only_past_what_was_written_and_the_retry_writes_the_rest(
    world: World,
) -> None:
    codes = [f"SKU-{n}" for n in range(5)]
    world.deps.skus.put_sku_bindings([SkuBinding(integration_id=world.integration.id, sku=code) for code in codes])
    _reconciled(world)
    modified = [world.stock(code, 10 + n, minutes_ago=5 - n) for n, code in enumerate(codes)]
    world.store.fail_on_batch = 2  # batches of two: SKU-0 and SKU-1 are written, then the store fails

    with pytest.raises(OgosyncError, match="503"):
        world.run()

    cursor = world.state.get_cursor(world.integration.id, Flow.STOCK)
    assert cursor.watermark == modified[2] - timedelta(microseconds=1)
    assert "503" in (cursor.last_error or "") and cursor.last_counts["not_written"] == 3
    assert set(world.ledger.published(world.integration.id, codes)) == {"SKU-0", "SKU-1"}

    world.store.fail_on_batch = None
    world.store.batches.clear()
    world.clock.tick(1)
    world.run()

    assert world.store.writes == [("SKU-2", 12), ("SKU-3", 13), ("SKU-4", 14)]
    assert world.state.get_cursor(world.integration.id, Flow.STOCK).watermark == modified[4]


def test_the_daily_reconciliation_runs_from_the_local_hour_and_rewrites_every_sku(world: World) -> None:
    _reconciled(world)  # the last full run: 27 Nov, 10:05 in Stockholm
    world.clock.now = datetime(2026, 11, 28, 1, 30, tzinfo=UTC)  # 02:30 in Stockholm: before the reconcile hour (3)
    assert not world.run().full and world.store.writes == []

    world.clock.now = datetime(2026, 11, 28, 2, 10, tzinfo=UTC)  # 03:10 in Stockholm
    result = world.run()

    assert result.full
    assert sorted(world.store.writes) == sorted([(TEE, 5), (HOODIE, 0), (CAP, 7)])
    world.clock.tick()
    assert not world.run().full  # once a day


def test_a_failed_reconciliation_is_resumed_by_the_next_run_without_rewriting_what_it_did(world: World) -> None:
    for minutes_ago, (code, available) in zip((30, 20, 10), ((TEE, 5), (HOODIE, 0), (CAP, 7)), strict=True):
        world.stock(code, available, minutes_ago=minutes_ago)
    world.store.fail_on_batch = 2  # batches of two, oldest change first: TEE and HOODIE are written

    with pytest.raises(OgosyncError):
        world.run()
    world.store.fail_on_batch = None
    world.store.batches.clear()
    world.clock.tick()
    result = world.run()

    assert result.full and world.store.writes == [(CAP, 7)]
    run_state = world.ledger.run_state(world.integration.id)
    assert run_state.full_run_started is None and run_state.last_full_run == world.clock.now


def test_a_bound_sku_the_store_does_not_have_is_reported_and_not_recorded(world: World) -> None:
    world.store.unknown = {CAP}
    world.stock(TEE, 5)
    newest = world.stock(CAP, 7, minutes_ago=0.5)

    result = world.run()

    assert (result.not_in_store, result.counts["not_in_store"]) == ([CAP], 1)
    assert CAP not in world.ledger.published(world.integration.id, [CAP])
    assert world.state.get_cursor(world.integration.id, Flow.STOCK).watermark == newest  # reported, not retried


def test_the_run_state_keeps_which_skus_are_unbound_or_refused_until_that_changes(world: World) -> None:
    world.store.unknown = {CAP}
    for code, available in ((TEE, 5), (CAP, 7), ("ONLY-IN-MYOGO", 3), ("ALSO-ONLY", 1)):
        world.stock(code, available, minutes_ago=30)
    world.run()  # the first run: a full reconciliation
    first = world.ledger.run_state(world.integration.id)

    world.clock.tick()
    world.stock(TEE, 4)
    world.run()  # reads TEE only: what it did not read is kept
    kept = world.ledger.run_state(world.integration.id)

    world.store.unknown = set()
    world.deps.skus.put_sku_bindings([SkuBinding(integration_id=world.integration.id, sku="ONLY-IN-MYOGO")])
    world.clock.tick()
    world.stock(CAP, 6)
    world.stock("ONLY-IN-MYOGO", 2)
    world.run()  # CAP written now, ONLY-IN-MYOGO linked now
    mended = world.ledger.run_state(world.integration.id)

    assert (first.unbound_skus, first.refused_skus) == (["ALSO-ONLY", "ONLY-IN-MYOGO"], [CAP])
    assert (kept.unbound_skus, kept.refused_skus) == (["ALSO-ONLY", "ONLY-IN-MYOGO"], [CAP])
    assert (mended.unbound_skus, mended.refused_skus) == (["ALSO-ONLY"], [])


def test_a_reconciliation_replaces_the_kept_problems_and_keeps_them_bounded(world: World) -> None:
    stale = StockRunState(integration_id=world.integration.id, unbound_skus=["GONE-FROM-MYOGO"], refused_skus=["OLD"])
    world.ledger.save_run_state(stale)
    for number in range(PROBLEMS_KEPT + 5):
        world.stock(f"X{number:05d}", 1, minutes_ago=30)

    world.run()

    kept = world.ledger.run_state(world.integration.id)
    assert len(kept.unbound_skus) == PROBLEMS_KEPT and kept.unbound_skus[0] == "X00000"
    assert "GONE-FROM-MYOGO" not in kept.unbound_skus and kept.refused_skus == []


def test_stock_comes_back_when_an_order_waiting_for_payment_is_cancelled(world: World) -> None:
    _reconciled(world)
    world.store.put(make_order("1001", skus=(TEE,), placed_at=world.clock.now, state=StoreOrderState.AWAITING_PAYMENT))
    world.run()
    assert world.store.sellable[TEE] == 4

    world.store.put(make_order("1001", skus=(TEE,), state=StoreOrderState.CANCELLED))
    world.clock.tick()
    world.run()

    assert world.store.sellable[TEE] == 5


def test_stock_comes_back_when_an_order_in_transit_is_cancelled_in_the_store(world: World) -> None:
    _reconciled(world)
    world.store.put(make_order("1001", skus=(TEE,), placed_at=world.clock.now - timedelta(minutes=1)))
    world.run()
    assert world.store.sellable[TEE] == 4

    world.store.put(make_order("1001", skus=(TEE,), state=StoreOrderState.CANCELLED))
    world.clock.tick()
    world.run()  # TEE did not change in myOGO, but it was in transit at the last run: re-checked

    assert world.store.sellable[TEE] == 5


def test_a_run_of_the_same_integration_under_way_makes_this_one_do_nothing(world: World) -> None:
    world.state.acquire_lock(world.integration.id, Flow.STOCK, "other", world.clock.now, 300)

    assert sync_stock(world.integration, world.deps, owner="test") is None
    assert world.warehouse.calls == {"list": 0, "one": 0}


@pytest.mark.parametrize(
    ("last_full_run", "now", "due"),
    [
        (None, datetime(2026, 11, 27, 12, 0, tzinfo=UTC), True),  # never reconciled
        (datetime(2026, 11, 27, 2, 5, tzinfo=UTC), datetime(2026, 11, 27, 12, 0, tzinfo=UTC), False),  # done today
        (datetime(2026, 11, 27, 2, 5, tzinfo=UTC), datetime(2026, 11, 28, 1, 59, tzinfo=UTC), False),  # 02:59 local
        (datetime(2026, 11, 27, 2, 5, tzinfo=UTC), datetime(2026, 11, 28, 2, 0, tzinfo=UTC), True),  # 03:00 local
        (datetime(2026, 11, 20, 2, 5, tzinfo=UTC), datetime(2026, 11, 28, 22, 0, tzinfo=UTC), True),  # days missed
    ],
)
def test_when_a_full_reconciliation_is_due(last_full_run: datetime | None, now: datetime, due: bool) -> None:
    state = StockRunState(integration_id="acme-centra", last_full_run=last_full_run)

    assert full_run_due(make_integration(), state, now) is due


def test_held_orders_count_in_transit_from_what_was_recorded_without_reading_the_store(world: World) -> None:
    long_ago = T0 - timedelta(days=3)
    for number in range(50):  # thousands in production: none may cost a store read per stock run
        held = make_order(f"{3000 + number}", placed_at=long_ago, skus=(TEE,))
        world.store.put(held)
        hold = [Hold(reason=HoldReason.ON_HOLD_IN_STORE, detail="")]
        world.state.mark_order_held(
            world.integration.id, held.order_id, held.order_id, hold, world.clock.now, long_ago, None, {TEE: 1}
        )
    world.stock(TEE, 60)

    result = world.run()

    assert world.store.calls["get"] == 0
    assert world.store.sellable[TEE] == 10 and result.counts["in_transit_units"] == 50


def test_a_myogo_change_dated_in_the_future_does_not_carry_the_stock_watermark_away(world: World) -> None:
    world.stock(TEE, 5, minutes_ago=-3 * 24 * 60)  # myOGO's editTime three days ahead

    result = world.run()

    cursor = world.state.get_cursor(world.integration.id, Flow.STOCK)
    assert cursor.watermark is not None and cursor.watermark <= world.clock.now + FUTURE_SKEW
    assert (result.counts["future_dated"], cursor.future_dated) == (1, [TEE])


def test_a_sale_between_the_read_and_the_write_is_not_overwritten_the_value_is_recomputed(world: World) -> None:
    _reconciled(world)
    world.stock(TEE, 8)  # a delivery reached the warehouse
    sale = make_order("2001", placed_at=world.clock.now - timedelta(seconds=1), skus=(TEE,))
    world.store.sales_before_write.append((TEE, sale))

    result = world.run()

    assert world.store.sellable[TEE] == 7  # myOGO's 8 less the order sold meanwhile, not 8 over the sale
    assert world.store.writes == [(TEE, 7)]
    assert (result.counts["stale_recomputed"], result.counts["stale"]) == (1, 0)
    assert world.ledger.published(world.integration.id, [TEE])[TEE].in_transit == 1


def test_a_sku_the_store_keeps_changing_is_left_for_the_next_run_and_holds_the_watermark(world: World) -> None:
    _reconciled(world)
    changed = world.stock(TEE, 8)
    for n in range(3):  # a sale before each of the three writes of this run
        world.store.sales_before_write.append(
            (TEE, make_order(f"300{n}", placed_at=world.clock.now - timedelta(seconds=1), skus=(TEE,)))
        )

    result = world.run()

    assert (result.counts["stale"], result.stale) == (1, [TEE])
    assert world.store.writes == []  # never written over a sale
    watermark = world.state.get_cursor(world.integration.id, Flow.STOCK).watermark
    assert watermark is not None and watermark < changed  # the next run reads the change again
