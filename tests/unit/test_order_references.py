"""An order's myOGO reference is decided at its first record and used for ever after (design invariant 8):
a change of the integration's reference prefix renames no order that may already be in myOGO; and an order myOGO
already holds under the reference is adopted only when it is the same order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ogosync.errors import TransientPlatformError
from ogosync.models import (
    BindingStatus,
    HoldReason,
    Integration,
    IntegrationSettings,
    WarehouseCustomer,
    WarehouseOrder,
    WarehouseOrderLine,
    WarehouseOrderState,
)
from ogosync.sync.orders import ImportOutcome, OrderDeps, contents_differences, import_order_by_id, poll_orders
from tests.factories import T0, make_integration, make_order
from tests.fakes import FakeStore, FakeWarehouse, InMemoryState

SKU = "TSHIRT-BLK-M"


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(minutes=5)

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


def _with_prefix(integration: Integration, prefix: str) -> Integration:
    settings = integration.settings.model_copy(update={"reference_prefix": prefix})
    return integration.model_copy(update={"settings": settings})


@pytest.fixture
def world():  # type: ignore[no-untyped-def]
    state = InMemoryState()
    integration = make_integration(settings=IntegrationSettings(reference_prefix="A-"))
    state.put_integration(integration)
    state.put_shipping_mapping(integration.id, "standard", "POSTI")
    clock = Clock()
    deps = OrderDeps(state=state, store=FakeStore(), warehouse=FakeWarehouse([SKU]), clock=clock, sleep=lambda _: None)
    return integration, deps, clock


def test_an_order_whose_post_reached_myogo_is_not_sent_again_after_a_prefix_change(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, clock = world
    deps.store.put(make_order("1001"))
    deps.state.fail_next_mark_sent = True  # myOGO took A-1001; the worker died before recording it
    with pytest.raises(Exception, match="simulated crash"):
        import_order_by_id(integration, "1001", deps)
    clock.now += timedelta(seconds=deps.claim_lease_seconds + 1)  # the dead worker's claim runs out

    renamed = _with_prefix(integration, "B-")
    by_hint = import_order_by_id(renamed, "1001", deps)
    by_poll = poll_orders(renamed, deps, owner="poll-1")

    assert by_hint.outcome is ImportOutcome.RECOVERED and by_hint.reference == "A-1001"
    assert by_poll.counts["already_sent"] == 1
    assert deps.warehouse.accepted == ["A-1001"] and deps.warehouse.creates == 1
    binding = deps.state.get_order_binding(integration.id, "1001")
    assert binding is not None and binding.status is BindingStatus.SENT and binding.reference == "A-1001"


def test_a_failed_order_is_retried_under_its_first_reference_after_a_prefix_change(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.store.put(make_order("1001"))
    deps.warehouse.fail_creates = [TransientPlatformError("myogo", "503", 503)] * 3
    with pytest.raises(TransientPlatformError):
        import_order_by_id(integration, "1001", deps)

    retried = import_order_by_id(_with_prefix(integration, "B-"), "1001", deps)

    assert retried.outcome is ImportOutcome.CREATED and retried.reference == "A-1001"
    assert deps.warehouse.accepted == ["A-1001"]


def test_a_prefix_change_applies_to_orders_not_yet_recorded(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.store.put(make_order("1001", shipping_method="drone"))  # held: no shipping mapping
    assert import_order_by_id(integration, "1001", deps).outcome is ImportOutcome.HELD

    renamed = _with_prefix(integration, "B-")
    deps.state.put_shipping_mapping(integration.id, "drone", "POSTI")
    deps.store.put(make_order("1002", placed_at=T0 + timedelta(minutes=1)))
    poll_orders(renamed, deps, owner="poll-1")

    assert sorted(deps.warehouse.accepted) == ["A-1001", "B-1002"]


def _other_integrations_order(reference: str, *, sku: str = "CAP-RED", name: str = "Someone Else") -> WarehouseOrder:
    """An order another integration on the same myOGO account put there under the same reference."""
    customer = WarehouseCustomer(name=name, address1="Mannerheimintie 1", city="Helsinki", country_code="FI")
    return WarehouseOrder(
        reference=reference, customer=customer, order_lines=[WarehouseOrderLine(code=sku, quantity=1)]
    )


def test_already_exists_with_another_orders_contents_holds_the_order_and_marks_nothing_sent(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.warehouse.orders["A-1001"] = _other_integrations_order("A-1001")
    deps.store.put(make_order("1001"))

    result = import_order_by_id(integration, "1001", deps)

    assert result.outcome is ImportOutcome.HELD
    (hold,) = result.holds
    assert hold.reason is HoldReason.REFERENCE_TAKEN
    assert "A-1001" in hold.detail and "1 x CAP-RED in myOGO" in hold.detail and "name" in hold.detail
    binding = deps.state.get_order_binding(integration.id, "1001")
    assert binding is not None and binding.status is BindingStatus.HELD and binding.myogo_id is None
    assert deps.warehouse.orders["A-1001"].customer.name == "Someone Else"  # theirs, untouched


def test_a_recheck_after_an_earlier_attempt_adopts_only_the_same_order(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    deps.store.put(make_order("1001"))
    deps.warehouse.fail_creates = [TransientPlatformError("myogo", "503", 503)] * 3
    with pytest.raises(TransientPlatformError):
        import_order_by_id(integration, "1001", deps)
    deps.warehouse.orders["A-1001"] = _other_integrations_order("A-1001", sku=SKU)  # same line, other address

    result = import_order_by_id(integration, "1001", deps)

    assert result.outcome is ImportOutcome.HELD and result.holds[0].reason is HoldReason.REFERENCE_TAKEN
    assert "delivery address differs in name, address1, zip, city" in result.holds[0].detail
    assert deps.warehouse.accepted == []


def test_our_own_order_is_adopted_whatever_its_case_and_spacing(world) -> None:  # type: ignore[no-untyped-def]
    integration, deps, _ = world
    store_order = make_order("1001")
    deps.store.put(store_order)
    address = store_order.customer
    deps.warehouse.orders["A-1001"] = WarehouseOrder(
        reference="A-1001",
        customer=WarehouseCustomer(
            name=f"  {address.name.upper()} ",
            address1=address.address1.replace(" ", "  "),
            zip=address.zip,
            city=address.city.lower(),
            country_code=address.country_code.lower(),
        ),
        order_lines=[WarehouseOrderLine(code=SKU, quantity=1)],
    )

    result = import_order_by_id(integration, "1001", deps)

    assert result.outcome is ImportOutcome.RECOVERED
    binding = deps.state.get_order_binding(integration.id, "1001")
    assert binding is not None and binding.status is BindingStatus.SENT


def test_contents_myogo_does_not_tell_are_not_taken_for_the_same_order() -> None:
    order = make_order("1001")
    unreadable = WarehouseOrderState(reference="1001", status="new", lines=None, customer=order.customer)

    assert contents_differences(order, unreadable) == ["myOGO's order lines or delivery address cannot be read"]
