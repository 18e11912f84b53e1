"""The tracking flow knows an order by the reference recorded on its binding, under any prefix the integration has
used, and pushes a shipment only for an order the order flow itself recorded as sent (design invariant 8)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ogosync.models import (
    BindingStatus,
    Hold,
    HoldReason,
    Integration,
    IntegrationSettings,
    ShippedLine,
    WarehouseOrderChange,
    WarehouseOrderState,
)
from ogosync.sync.tracking import (
    TrackingDeps,
    TrackingOutcome,
    TrackingRunResult,
    candidate_order_ids,
    handle_tracking_hint,
    poll_tracking,
)
from tests.factories import T0, make_integration, make_order
from tests.fakes import InMemoryState
from tests.fakes_tracking import FakeShipmentStore, FakeTrackingWarehouse, InMemoryTracking

TEE = "TS100BLKM"


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(hours=1)

    def __call__(self) -> datetime:
        return self.now


class World:
    def __init__(self, integration: Integration) -> None:
        self.integration = integration
        self.state = InMemoryState()
        self.state.put_integration(integration)
        self.tracking = InMemoryTracking(self.state)
        self.store = FakeShipmentStore()
        self.warehouse = FakeTrackingWarehouse()
        self.clock = Clock()
        self.deps = TrackingDeps(
            state=self.state, tracking=self.tracking, store=self.store, warehouse=self.warehouse, clock=self.clock
        )

    def poll(self, integration: Integration | None = None) -> TrackingRunResult:
        result = poll_tracking(integration or self.integration, self.deps, owner="test")
        assert result is not None
        return result

    def sent(self, order_id: str, reference: str) -> None:
        self.store.put(make_order(order_id, skus=(TEE,)))
        self.state.claim_order(self.integration.id, order_id, reference, "t", T0, 60)
        state = WarehouseOrderState(id=f"id-{order_id}", reference=reference, status="new")
        self.state.mark_order_sent(self.integration.id, order_id, "t", state, T0, was_held=False)

    def shipped(self, reference: str) -> None:
        self.warehouse.put(
            WarehouseOrderChange(
                reference=reference,
                status="shipped",
                tracking_numbers=["JJFI1"],
                shipping_code="POSTI",
                lines=[ShippedLine(code=TEE, quantity=1)],
                edited_at=self.clock.now - timedelta(minutes=1),
            )
        )


def _renamed(integration: Integration, prefix: str) -> Integration:
    """What the operator's update makes of a prefix change: the old prefix is remembered."""
    settings = integration.settings.model_copy(update={"reference_prefix": prefix})
    past = [*integration.past_reference_prefixes, integration.settings.reference_prefix]
    return integration.model_copy(update={"settings": settings, "past_reference_prefixes": past})


@pytest.fixture
def world() -> World:
    return World(make_integration(settings=IntegrationSettings(reference_prefix="A-")))


def test_orders_sent_under_an_old_prefix_still_get_their_shipments(world: World) -> None:
    world.sent("1001", "A-1001")
    renamed = _renamed(world.integration, "B-")
    world.sent("1002", "B-1002")
    world.shipped("A-1001")
    world.shipped("B-1002")

    result = world.poll(renamed)

    assert result.counts["pushed"] == 2
    assert sorted(order_id for order_id, _, _ in world.store.created) == ["1001", "1002"]


def test_a_hint_for_an_order_sent_under_an_old_prefix_reaches_the_store(world: World) -> None:
    world.sent("1001", "A-1001")
    world.shipped("A-1001")

    outcome = handle_tracking_hint(_renamed(world.integration, "B-"), "A-1001", world.deps)

    assert outcome is TrackingOutcome.PUSHED and len(world.store.created) == 1


def test_a_reference_that_only_looks_like_ours_is_not_ours(world: World) -> None:
    world.sent("1001", "A-1001")
    world.shipped("B-1001")  # another integration's order, or never sent by us under that name

    result = world.poll(_renamed(world.integration, "B-"))

    assert result.counts["not_ours"] == 1 and world.store.created == []


def test_a_shipment_is_pushed_only_for_an_order_this_integration_recorded_as_sent(world: World) -> None:
    held = Hold(reason=HoldReason.UNMAPPED_SHIPPING_METHOD, detail="no code for 'drone'")
    world.state.mark_order_held(world.integration.id, "1001", "A-1001", [held], T0, T0)
    world.store.put(make_order("1001", skus=(TEE,)))
    world.shipped("A-1001")  # another integration's order 1001 on the same myOGO account and prefix

    by_poll = world.poll()
    by_hint = handle_tracking_hint(world.integration, "A-1001", world.deps)

    assert by_poll.counts["not_ours"] == 1 and by_hint is TrackingOutcome.NOT_OURS
    assert world.store.created == [] and world.store.lookups == 0
    binding = world.state.get_order_binding(world.integration.id, "1001")
    assert binding is not None and binding.myogo_status is None  # nothing of the other order is recorded on ours


def test_an_order_still_being_sent_holds_the_watermark_until_the_order_flow_records_it(world: World) -> None:
    world.store.put(make_order("1001", skus=(TEE,)))
    world.state.claim_order(world.integration.id, "1001", "A-1001", "t", T0, 60)  # POSTed; not yet recorded
    world.shipped("A-1001")
    shipped_at = world.warehouse.orders["A-1001"].edited_at
    assert shipped_at is not None

    waiting = world.poll()
    state = WarehouseOrderState(id="id-1001", reference="A-1001", status="new")
    world.state.mark_order_sent(world.integration.id, "1001", "t", state, T0, was_held=False)
    world.clock.now += timedelta(minutes=10)
    after = world.poll()

    assert waiting.counts["not_yet_sent"] == 1
    assert waiting.watermark is not None and waiting.watermark < shipped_at
    assert after.counts["pushed"] == 1 and len(world.store.created) == 1
    binding = world.state.get_order_binding(world.integration.id, "1001")
    assert binding is not None and binding.status is BindingStatus.SENT


@pytest.mark.parametrize(
    ("prefix", "past", "reference", "candidates"),
    [
        ("", [], "1001", ["1001"]),
        ("ACME-", [], "ACME-1001", ["1001"]),
        ("ACME-", [], "1001", []),
        ("ACME-", [], "ACME-", []),
        ("B-", ["A-", ""], "A-1001", ["1001", "A-1001"]),
    ],
)
def test_a_reference_may_name_a_store_order_under_every_prefix_the_integration_used(
    prefix: str, past: list[str], reference: str, candidates: list[str]
) -> None:
    integration = make_integration(settings=IntegrationSettings(reference_prefix=prefix))
    integration = integration.model_copy(update={"past_reference_prefixes": past})

    assert candidate_order_ids(integration, reference) == candidates
