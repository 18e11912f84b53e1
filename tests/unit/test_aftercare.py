"""Aftercare over in-memory fakes (issue 10 item 9): a store order cancelled or edited after ogosync sent it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest

from ogosync.models import (
    Address,
    AftercareStatus,
    Integration,
    OrderBinding,
    StoreOrderState,
    WarehouseCustomer,
    WarehouseOrderContent,
)
from ogosync.sync.aftercare import AFTERCARE_BATCH
from ogosync.sync.orders import OrderDeps, PollResult, poll_orders
from tests.factories import T0, make_integration, make_order
from tests.fakes import FakeStore, InMemoryState
from tests.fakes_aftercare import FakeAftercareWarehouse, InMemoryAftercare

SKU = "TSHIRT-BLK-M"


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(minutes=5)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    integration: Integration
    deps: OrderDeps
    clock: Clock
    state: InMemoryState
    aftercare: InMemoryAftercare
    store: FakeStore
    warehouse: FakeAftercareWarehouse

    def poll(self) -> PollResult:
        self.clock.now += timedelta(minutes=5)
        result = poll_orders(self.integration, self.deps, owner="poll")
        assert result.ran
        return result

    def sent(self, *order_ids: str) -> None:
        for order_id in order_ids:
            self.store.put(make_order(order_id, placed_at=self.clock.now))
        self.poll()
        assert all(order_id in self.warehouse.orders for order_id in order_ids)
        self.clock.now += timedelta(days=1)  # the orders are far behind the poll's watermark now

    def binding(self, order_id: str) -> OrderBinding:
        found = self.state.get_order_binding(self.integration.id, order_id)
        assert found is not None
        return found


@pytest.fixture
def world() -> World:
    state = InMemoryState()
    integration = make_integration()
    state.put_integration(integration)
    state.put_shipping_mapping(integration.id, "standard", "POSTI")
    aftercare, store, warehouse, clock = InMemoryAftercare(state), FakeStore(), FakeAftercareWarehouse((SKU,)), Clock()
    deps = OrderDeps(
        state=state, store=store, warehouse=warehouse, clock=clock, sleep=lambda _: None, aftercare=aftercare
    )
    return World(integration, deps, clock, state, aftercare, store, warehouse)


def _cancelled_in_store(world: World, order_id: str) -> None:
    world.store.put(make_order(order_id, placed_at=T0, state=StoreOrderState.CANCELLED))


def _moved_in_store(world: World, order_id: str) -> None:
    address = Address(name="Maija Meikäläinen", address1="Uusi katu 1", zip="00100", city="Helsinki", country_code="FI")
    world.store.put(make_order(order_id, placed_at=T0, customer=address))


@pytest.mark.parametrize("myogo_status", ["new", "PENDING", "Reserved"])
def test_an_order_cancelled_in_the_store_before_the_warehouse_started_is_cancelled_in_myogo_once(
    world: World, myogo_status: str
) -> None:
    world.sent("1001")
    world.warehouse.statuses["1001"] = myogo_status
    _cancelled_in_store(world, "1001")

    first = world.poll()
    again = world.poll()

    assert world.warehouse.cancels == ["1001"] and world.warehouse.statuses["1001"] == "cancelled"
    assert first.counts["aftercare_cancelled_in_myogo"] == 1 and first.needs_person == []
    assert again.counts["aftercare_looked_up"] == 0  # its aftercare is over
    binding = world.binding("1001")
    assert binding.aftercare_status is AftercareStatus.CANCELLED_IN_MYOGO and binding.aftercare_claim_token is None
    assert world.aftercare.attention_orders(world.integration.id) == []


@pytest.mark.parametrize("myogo_status", ["collecting", "SHIPPED", "locked"])
def test_an_order_cancelled_in_the_store_after_the_warehouse_started_is_handed_to_a_person(
    world: World, myogo_status: str
) -> None:
    world.sent("1001")
    world.warehouse.statuses["1001"] = myogo_status
    _cancelled_in_store(world, "1001")

    result = world.poll()

    assert world.warehouse.cancels == []
    assert result.needs_person == ["1001"] and result.counts["aftercare_needs_person"] == 1
    (attention,) = world.aftercare.attention_orders(world.integration.id)
    assert attention.store_order_id == "1001" and myogo_status.lower() in attention.detail
    assert world.binding("1001").aftercare_status is AftercareStatus.NEEDS_PERSON


def test_a_store_that_no_longer_returns_a_sent_order_is_not_taken_as_a_cancellation(world: World) -> None:
    world.sent("1001")
    del world.store.orders["1001"]  # Centra: "order does not exist" (deleted, or hidden by the plugin's filter)

    result = world.poll()

    assert world.warehouse.cancels == [] and world.warehouse.statuses.get("1001", "new") == "new"
    assert result.needs_person == ["1001"]


def test_an_address_changed_in_the_store_updates_myogo_while_its_copy_is_new_and_untouched(world: World) -> None:
    world.sent("1001")
    _moved_in_store(world, "1001")

    first = world.poll()
    again = world.poll()

    assert world.warehouse.updates == ["1001"]
    updated = world.warehouse.orders["1001"]
    moved = (updated.customer.address1, updated.customer.city, updated.shipping_code)
    assert moved == ("Uusi katu 1", "Helsinki", "POSTI")
    assert first.counts["aftercare_updated_in_myogo"] == 1
    assert again.counts["aftercare_unchanged"] == 1  # the new digest is what myOGO holds now
    assert world.binding("1001").aftercare_status is AftercareStatus.UPDATED_IN_MYOGO


def test_lines_changed_in_the_store_update_myogo(world: World) -> None:
    world.sent("1001")
    world.store.put(make_order("1001", placed_at=T0, skus=(SKU, SKU)))

    world.poll()

    assert [(line.code, line.quantity) for line in world.warehouse.orders["1001"].order_lines] == [(SKU, 1), (SKU, 1)]
    assert world.warehouse.updates == ["1001"]


def test_a_change_made_in_myogo_is_never_overwritten_by_a_store_edit(world: World) -> None:
    world.sent("1001")
    kept = WarehouseCustomer(name="Maija", address1="Varasto 9", city="Vantaa", country_code="FI")
    world.warehouse.edit_in_warehouse("1001", kept)
    _moved_in_store(world, "1001")

    result = world.poll()

    assert world.warehouse.updates == [] and world.warehouse.orders["1001"].customer == kept
    assert result.needs_person == ["1001"]
    assert "changed in the warehouse" in (world.binding("1001").aftercare_detail or "")


def test_a_store_edit_after_the_warehouse_started_is_reported_not_sent(world: World) -> None:
    world.sent("1001")
    world.warehouse.statuses["1001"] = "collecting"
    _moved_in_store(world, "1001")

    result = world.poll()

    assert world.warehouse.updates == [] and result.needs_person == ["1001"]


def test_another_worker_holding_the_aftercare_claim_keeps_this_one_off(world: World) -> None:
    world.sent("1001")
    world.aftercare.claim_aftercare(world.integration.id, "1001", "other", world.clock.now, 3600)
    _cancelled_in_store(world, "1001")

    result = world.poll()

    assert world.warehouse.cancels == [] and result.counts["aftercare_busy"] == 1


def test_an_unchanged_sent_order_costs_one_store_read_and_no_myogo_call(world: World) -> None:
    world.sent("1001")
    reads, lookups = world.store.calls["get"], world.warehouse.lookups

    result = world.poll()

    assert result.counts["aftercare_unchanged"] == 1
    assert (world.store.calls["get"] - reads, world.warehouse.lookups - lookups) == (1, 0)


def test_the_look_ups_are_bounded_per_poll_and_rotate_over_every_open_order(world: World) -> None:
    order_ids = [str(5000 + number) for number in range(2 * AFTERCARE_BATCH + 5)]
    world.sent(*order_ids)
    _cancelled_in_store(world, order_ids[-1])  # the last in the rotation
    reads = []

    for _ in range(3):
        before = world.store.calls["get"]
        world.poll()
        reads.append(world.store.calls["get"] - before)

    assert reads == [AFTERCARE_BATCH, AFTERCARE_BATCH, AFTERCARE_BATCH]
    assert world.warehouse.cancels == [order_ids[-1]]


class _SlowRead(FakeAftercareWarehouse):
    """myOGO's read takes longer than the claim's lease (429 waits, retries): the clock moves while it answers, and
    another worker takes the claim over meanwhile."""

    def __init__(self, clock: Clock, lease_seconds: int, aftercare: InMemoryAftercare, integration_id: str) -> None:
        super().__init__((SKU,))
        self.clock, self.lease_seconds = clock, lease_seconds
        self.aftercare, self.integration_id = aftercare, integration_id

    def order_content(self, reference: str) -> WarehouseOrderContent | None:
        self.clock.now += timedelta(seconds=self.lease_seconds + 1)
        self.aftercare.claim_aftercare(self.integration_id, reference, "other", self.clock.now, self.lease_seconds)
        return super().order_content(reference)


def test_no_cancel_is_written_once_another_worker_took_the_claim_over_during_the_read(world: World) -> None:
    slow = _SlowRead(world.clock, world.deps.claim_lease_seconds, world.aftercare, world.integration.id)
    world.deps.warehouse = world.warehouse = slow
    world.sent("1001")
    _cancelled_in_store(world, "1001")

    first = world.poll()

    assert first.counts["aftercare_busy"] == 1 and slow.cancels == []
    assert world.binding("1001").aftercare_status is None


def test_a_cancellation_the_polls_own_listing_shows_is_acted_on_at_once_without_waiting_for_the_rotation(
    world: World,
) -> None:
    order_ids = [str(7000 + number) for number in range(AFTERCARE_BATCH + 10)]
    world.sent(*order_ids)
    last = order_ids[-1]  # the rotation reaches it only in the second poll
    world.store.put(make_order(last, placed_at=world.clock.now, state=StoreOrderState.CANCELLED))  # in the window
    world.clock.now -= timedelta(minutes=5)  # poll() moves the clock on: the order is placed within its overlap
    reads = world.store.calls["get"]

    result = world.poll()

    assert world.warehouse.cancels == [last] and result.counts["aftercare_cancelled_in_myogo"] == 1
    assert world.binding(last).aftercare_status is AftercareStatus.CANCELLED_IN_MYOGO
    assert world.store.calls["get"] - reads == AFTERCARE_BATCH  # the rotation's reads only: none for the listing
