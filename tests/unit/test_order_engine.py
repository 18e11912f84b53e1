"""The order engine over in-memory fakes: exactly once, held with reasons, never lost."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest

from ogosync.errors import RejectedByPlatformError, TransientPlatformError
from ogosync.models import (
    Address,
    BindingStatus,
    Hold,
    HoldReason,
    SkuBinding,
    StoreOrderState,
    UnidentifiedOrder,
    UnreadableOrder,
)
from ogosync.sync.orders import (
    ImportOutcome,
    OrderDeps,
    import_order_by_id,
    next_watermark,
    poll_orders,
    units_in_transit,
)
from tests.factories import T0, make_integration, make_order
from tests.fakes import FakeStore, FakeWarehouse, InMemorySkuBindings, InMemoryState

SKU = "TSHIRT-BLK-M"


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(minutes=5)

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


@pytest.fixture
def world():  # type: ignore[no-untyped-def]
    state = InMemoryState()
    integration = make_integration()
    state.put_integration(integration)
    state.put_shipping_mapping(integration.id, "standard", "POSTI")
    clock = Clock()
    deps = OrderDeps(
        state=state, store=FakeStore(), warehouse=FakeWarehouse([SKU, "CAP-RED"]), clock=clock, sleep=lambda _: None
    )
    return integration, deps, clock


def test_a_paid_order_is_created_once_and_then_only_recognised(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.store.put(make_order("1001"))

    first = import_order_by_id(integration, "1001", deps)
    again = import_order_by_id(integration, "1001", deps)

    assert first.outcome is ImportOutcome.CREATED
    assert again.outcome is ImportOutcome.ALREADY_SENT
    assert deps.warehouse.creates == 1
    sent = deps.warehouse.orders["1001"]
    assert sent.shipping_code == "POSTI"
    assert [(line.code, line.quantity) for line in sent.order_lines] == [(SKU, 1)]
    assert sent.customer.country_code == "FI"
    binding = deps.state.get_order_binding(integration.id, "1001")
    assert binding is not None and binding.status is BindingStatus.SENT and binding.myogo_id == "id-1001"


def test_webhook_three_times_and_the_poll_give_one_myogo_order(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.store.put(make_order("1001"))

    outcomes = [import_order_by_id(integration, "1001", deps).outcome for _ in range(3)]
    poll = poll_orders(integration, deps, owner="poll-1")

    assert outcomes == [ImportOutcome.CREATED, ImportOutcome.ALREADY_SENT, ImportOutcome.ALREADY_SENT]
    assert poll.counts["already_sent"] == 1
    assert deps.warehouse.creates == 1 and len(deps.warehouse.orders) == 1


def test_worker_dies_after_myogo_accepted_and_the_retry_creates_no_second_order(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, clock = world
    deps.store.put(make_order("1001"))
    deps.state.fail_next_mark_sent = True

    with pytest.raises(Exception, match="simulated crash"):
        import_order_by_id(integration, "1001", deps)
    assert "1001" in deps.warehouse.orders  # myOGO has it, our record does not

    early = import_order_by_id(integration, "1001", deps)  # SQS redelivers while the dead claim is still live
    clock.now += timedelta(seconds=deps.claim_lease_seconds + 1)
    late = import_order_by_id(integration, "1001", deps)

    assert early.outcome is ImportOutcome.BUSY
    assert late.outcome is ImportOutcome.RECOVERED
    assert deps.warehouse.creates == 1
    assert deps.state.get_order_binding(integration.id, "1001").status is BindingStatus.SENT  # type: ignore[union-attr]


def test_a_timeout_after_myogo_accepted_is_resolved_by_lookup_not_by_posting_again(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.store.put(make_order("1001"))
    deps.warehouse.reject_duplicates = False  # even if myOGO accepted duplicates, we must not send twice
    deps.warehouse.fail_after_accept = [TransientPlatformError("myogo", "read timed out")]

    result = import_order_by_id(integration, "1001", deps)

    assert result.outcome is ImportOutcome.RECOVERED
    assert deps.warehouse.creates == 1 and deps.warehouse.lookups == 1


def test_a_failure_before_myogo_accepted_is_retried_after_a_lookup(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.store.put(make_order("1001"))
    deps.warehouse.fail_creates = [TransientPlatformError("myogo", "503", 503)]

    result = import_order_by_id(integration, "1001", deps)

    assert result.outcome is ImportOutcome.CREATED
    assert deps.warehouse.creates == 2 and deps.warehouse.lookups == 1 and len(deps.warehouse.orders) == 1


def test_a_persistent_outage_releases_the_claim_and_the_next_attempt_looks_up_first(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.store.put(make_order("1001"))
    deps.warehouse.fail_creates = [TransientPlatformError("myogo", "503", 503)] * 3

    with pytest.raises(TransientPlatformError):
        import_order_by_id(integration, "1001", deps)
    binding = deps.state.get_order_binding(integration.id, "1001")
    assert binding is not None and binding.status is BindingStatus.FAILED and "503" in (binding.last_error or "")

    lookups_before = deps.warehouse.lookups
    assert import_order_by_id(integration, "1001", deps).outcome is ImportOutcome.CREATED
    assert deps.warehouse.lookups == lookups_before + 1  # looked up before posting again
    assert len(deps.warehouse.orders) == 1


def test_concurrent_workers_on_the_same_order_send_it_once(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.store.put(make_order("1001"))
    inside = threading.Event()
    release = threading.Event()
    original_create = deps.warehouse.create_order

    def slow_create(order, deadline=None):  # type: ignore[no-untyped-def]
        inside.set()
        release.wait(5)
        return original_create(order, deadline)

    deps.warehouse.create_order = slow_create
    results = []
    first = threading.Thread(target=lambda: results.append(import_order_by_id(integration, "1001", deps)))
    first.start()
    inside.wait(5)
    results.append(import_order_by_id(integration, "1001", deps))  # a duplicate webhook while the first is sending
    release.set()
    first.join(5)

    assert sorted(result.outcome for result in results) == [ImportOutcome.BUSY, ImportOutcome.CREATED]
    assert deps.warehouse.creates == 1


@pytest.mark.parametrize(
    ("order", "reason"),
    [
        (make_order(holds=[Hold(reason=HoldReason.ON_HOLD_IN_STORE, detail="on hold")]), HoldReason.ON_HOLD_IN_STORE),
        (
            make_order(
                state=StoreOrderState.AWAITING_PAYMENT,
                holds=[Hold(reason=HoldReason.AWAITING_PAYMENT, detail="waiting")],
            ),
            HoldReason.AWAITING_PAYMENT,
        ),
        (make_order(shipping_method="drone"), HoldReason.UNMAPPED_SHIPPING_METHOD),
        (make_order(skus=("NOT-IN-MYOGO",)), HoldReason.UNKNOWN_SKU),
        (make_order(skus=("",)), HoldReason.MISSING_SKU),
        (
            make_order(customer=Address(name="No Street", city="Vantaa", country_code="FI")),
            HoldReason.INCOMPLETE_ADDRESS,
        ),
    ],
)
def test_orders_that_cannot_ship_are_held_with_a_reason_and_not_sent(world, order, reason) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.store.put(order)

    result = import_order_by_id(integration, order.order_id, deps)

    assert result.outcome is ImportOutcome.HELD
    assert reason in {hold.reason for hold in result.holds}
    assert deps.warehouse.creates == 0
    binding = deps.state.get_order_binding(integration.id, order.order_id)
    assert binding is not None and binding.status is BindingStatus.HELD
    assert all(hold.detail for hold in binding.holds)
    assert deps.state.held_order_ids(integration.id, T0 - timedelta(days=1)) == [order.order_id]


def test_a_held_order_is_sent_by_the_poll_once_its_shipping_method_is_mapped(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, clock = world
    deps.store.put(make_order("1001", shipping_method="express"))
    deps.store.put(make_order("1002", placed_at=T0 + timedelta(hours=1)))  # moves the watermark past 1001's window
    clock.now += timedelta(hours=2)
    first = poll_orders(integration, deps, owner="p1")
    assert (first.counts["held"], first.counts["created"]) == (1, 1)

    deps.state.put_shipping_mapping(integration.id, "express", "POSTI-EXPRESS")
    result = poll_orders(integration, deps, owner="p2")  # 1001 is outside the window now: the re-check finds it

    assert result.counts["recheck_created"] == 1
    assert deps.warehouse.orders["1001"].shipping_code == "POSTI-EXPRESS"
    assert deps.state.held_order_ids(integration.id, T0 - timedelta(days=1)) == []


def test_a_default_shipping_mapping_covers_unmapped_methods(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.state.put_shipping_mapping(integration.id, "*", "DEFAULT")
    deps.store.put(make_order("1001", shipping_method="pickup"))

    assert import_order_by_id(integration, "1001", deps).outcome is ImportOutcome.CREATED
    assert deps.warehouse.orders["1001"].shipping_code == "DEFAULT"


def test_cancelled_and_fulfilled_orders_are_skipped(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.store.put(make_order("1001", state=StoreOrderState.CANCELLED))
    deps.store.put(make_order("1002", state=StoreOrderState.FULFILLED))

    outcomes = {import_order_by_id(integration, order_id, deps).outcome for order_id in ("1001", "1002")}

    assert outcomes == {ImportOutcome.SKIPPED}
    assert deps.warehouse.creates == 0


def test_an_order_the_store_ships_from_another_location_is_skipped_and_holds_no_stock(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    elsewhere = make_order("1003", state=StoreOrderState.NOT_FOR_WAREHOUSE)
    deps.store.put(elsewhere)

    result = import_order_by_id(integration, "1003", deps)

    assert result.outcome is ImportOutcome.SKIPPED and deps.warehouse.creates == 0
    binding = deps.state.get_order_binding(integration.id, "1003")
    assert binding is not None and "another location" in (binding.skip_reason or "")
    assert units_in_transit(elsewhere) == Counter()


def test_an_order_myogo_refuses_is_held_with_myogos_message(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.store.put(make_order("1001"))
    deps.warehouse.fail_creates = [RejectedByPlatformError("myogo", "Shipping method not enabled", 400)]

    result = import_order_by_id(integration, "1001", deps)

    assert result.outcome is ImportOutcome.HELD
    assert result.holds[0].reason is HoldReason.REJECTED_BY_WAREHOUSE
    assert "Shipping method not enabled" in result.holds[0].detail


def test_an_order_the_store_does_not_return_is_reported_not_found(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    assert import_order_by_id(integration, "404", deps).outcome is ImportOutcome.NOT_FOUND
    assert deps.state.get_order_binding(integration.id, "404") is None


# ---- the poll -----------------------------------------------------------------------------------


def test_the_poll_sends_every_paid_order_and_moves_the_watermark_to_the_newest(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    for minute in range(3):
        deps.store.put(make_order(f"10{minute}", placed_at=T0 + timedelta(minutes=minute)))

    result = poll_orders(integration, deps, owner="p1")

    assert result.counts["created"] == 3 and result.counts["seen"] == 3
    cursor = deps.state.get_cursor(integration.id, "orders")  # type: ignore[arg-type]
    assert cursor.watermark == T0 + timedelta(minutes=2)
    assert cursor.last_counts["created"] == 3 and cursor.last_error is None


def test_the_watermark_never_passes_an_order_that_failed(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    for minute in range(3):
        deps.store.put(make_order(f"10{minute}", placed_at=T0 + timedelta(minutes=minute)))
    calls = {"n": 0}
    original = deps.warehouse.create_order

    def fail_the_second(order, deadline=None):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if order.reference == "101":
            raise TransientPlatformError("myogo", "503", 503)
        return original(order, deadline)

    deps.warehouse.create_order = fail_the_second
    result = poll_orders(integration, deps, owner="p1")

    assert result.counts["failed"] == 1 and result.counts["created"] == 2
    cursor = deps.state.get_cursor(integration.id, "orders")  # type: ignore[arg-type]
    assert cursor.watermark is not None and cursor.watermark < T0 + timedelta(minutes=1)
    assert "503" in (cursor.last_error or "")

    deps.warehouse.create_order = original
    again = poll_orders(integration, deps, owner="p2")
    assert again.counts["created"] == 1 and len(deps.warehouse.orders) == 3


def test_a_store_outage_fails_the_run_and_records_it_without_moving_the_watermark(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.store.fail_listing = TransientPlatformError("centra", "503", 503)

    with pytest.raises(TransientPlatformError):
        poll_orders(integration, deps, owner="p1")

    cursor = deps.state.get_cursor(integration.id, "orders")  # type: ignore[arg-type]
    assert cursor.watermark is None and "503" in (cursor.last_error or "")
    assert deps.state.locks == {}  # the lock is released even on failure


def test_two_polls_of_one_integration_never_overlap(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, clock = world
    assert deps.state.acquire_lock(integration.id, "orders", "other", clock.now, 300)  # type: ignore[arg-type]

    result = poll_orders(integration, deps, owner="p1")

    assert result.ran is False and deps.store.calls["list"] == 0


def test_an_order_the_store_sends_garbled_is_held_and_does_not_stop_the_poll(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.store.put(make_order("1001", placed_at=T0))
    deps.store.put(UnreadableOrder(order_id="1002", placed_at=T0 + timedelta(minutes=1), problem="unknown orderStatus"))
    deps.store.put(make_order("1003", placed_at=T0 + timedelta(minutes=2)))

    result = poll_orders(integration, deps, owner="p1")

    assert (result.counts["created"], result.counts["held"]) == (2, 1)
    binding = deps.state.get_order_binding(integration.id, "1002")
    assert binding is not None and binding.holds[0].reason is HoldReason.UNREADABLE_IN_STORE
    assert binding.holds[0].detail == "unknown orderStatus"
    assert deps.state.get_cursor(integration.id, "orders").watermark == T0 + timedelta(minutes=2)  # type: ignore[arg-type]


def test_a_record_without_an_order_id_is_counted_and_reported_and_the_others_go_on(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.store.put(make_order("1001", placed_at=T0))
    deps.store.put(UnreadableOrder(order_id="1002", placed_at=None, problem="products element 1 is not an object"))
    deps.store.unidentified.append(UnidentifiedOrder(problem="not an order with an orderId: None"))

    result = poll_orders(integration, deps, owner="p1")

    assert (result.counts["created"], result.counts["held"]) == (1, 1)
    assert (result.counts["unreadable"], result.counts["unidentified"]) == (2, 1)
    later = poll_orders(integration, deps, owner="p2")  # still held and unreadable: still counted (alarm stays on)
    assert later.counts["unreadable"] + later.counts["recheck_unreadable"] == 2
    assert result.errors == ["store order without a usable id: not an order with an orderId: None"]
    cursor = deps.state.get_cursor(integration.id, "orders")  # type: ignore[arg-type]
    assert cursor.watermark == T0 and "without a usable id" in (cursor.last_error or "")


def test_next_watermark() -> None:
    now = T0 + timedelta(hours=1)
    assert next_watermark(None, [], [], now) is None
    assert next_watermark(T0, [], [], now) == T0
    later = T0 + timedelta(minutes=5)
    assert next_watermark(T0, [T0, later], [], now) == later
    assert next_watermark(T0, [T0 + timedelta(minutes=1), later], [later], now) == later - timedelta(microseconds=1)
    assert next_watermark(later, [T0], [T0], now) == later  # never backwards


def test_skus_bound_by_the_product_flow_cost_no_myogo_lookup(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.sku_bindings = InMemorySkuBindings()
    deps.sku_bindings.put_sku_bindings([SkuBinding(integration_id=integration.id, sku=SKU)])
    asked: list[set[str]] = []
    known_to_myogo = deps.warehouse.unknown_product_codes

    def counting(codes):  # type: ignore[no-untyped-def]
        asked.append(set(codes))
        return known_to_myogo(asked[-1])

    deps.warehouse.unknown_product_codes = counting
    deps.store.put(make_order("1001", skus=(SKU,)))
    deps.store.put(make_order("1002", skus=(SKU, "CAP-RED")))

    assert import_order_by_id(integration, "1001", deps).outcome is ImportOutcome.CREATED
    assert import_order_by_id(integration, "1002", deps).outcome is ImportOutcome.CREATED
    assert asked == [{"CAP-RED"}]  # 1001 needed no myOGO call at all; 1002 only for its unbound SKU


def test_a_poll_reads_the_shipping_map_once_whatever_the_number_of_new_orders(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    for minute in range(5):
        deps.store.put(make_order(f"10{minute}", placed_at=T0 + timedelta(minutes=minute)))
    reads = {"n": 0}
    read_map = deps.state.shipping_map

    def counted(integration_id: str) -> dict[str, str]:
        reads["n"] += 1
        return read_map(integration_id)

    deps.state.shipping_map = counted

    assert poll_orders(integration, deps, owner="p1").counts["created"] == 5
    assert reads["n"] == 1
