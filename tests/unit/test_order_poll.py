"""The order poll's reach: a future date cannot carry the watermark away, a late-visible order is swept up, and
held orders are re-read in a bounded rotation (issue 10 items 6, 7, 16)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from ogosync.errors import PlatformError
from ogosync.models import BindingStatus, Flow, Integration, IntegrationSettings, Platform
from ogosync.operator.status import LATE_ORDER_WARNING, flow_warnings
from ogosync.stores import registry
from ogosync.sync.orders import FUTURE_SKEW, OrderDeps, PollResult, next_watermark, poll_orders, rotation
from tests.factories import T0, make_integration, make_order
from tests.fakes import FakeStore, FakeWarehouse, InMemoryState

SKU = "TSHIRT-BLK-M"
CENTRA_SETTINGS = registry.adapter(Platform.CENTRA).order_visibility_settings


class Clock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(minutes=5)

    def __call__(self) -> datetime:
        return self.now


class HidingStore(FakeStore):
    """A store whose Order API does not return the `hidden` orders (a plugin status filter, unpaid, on hold)."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden: set[str] = set()

    def orders_placed_since(self, since: datetime):  # type: ignore[no-untyped-def]
        return (order for order in super().orders_placed_since(since) if order.order_id not in self.hidden)

    def get_order(self, order_id: str):  # type: ignore[no-untyped-def]
        return None if order_id in self.hidden else super().get_order(order_id)


def _world(**settings: int) -> tuple[Integration, OrderDeps, Clock, HidingStore]:
    state = InMemoryState()
    integration = make_integration(settings=IntegrationSettings(**settings))
    state.put_integration(integration)
    state.put_shipping_mapping(integration.id, "standard", "POSTI")
    clock, store = Clock(), HidingStore()
    deps = OrderDeps(state=state, store=store, warehouse=FakeWarehouse([SKU]), clock=clock, sleep=lambda _: None)
    return integration, deps, clock, store


def _poll(integration: Integration, deps: OrderDeps) -> PollResult:
    result = poll_orders(integration, deps, owner="poll")
    assert result.ran
    return result


# ---- item 6: a future date ------------------------------------------------------------------------


def test_an_order_dated_in_the_future_does_not_carry_the_watermark_past_later_orders() -> None:
    integration, deps, clock, store = _world()
    store.put(make_order("1001", placed_at=T0))
    store.put(make_order("1002", placed_at=T0 + timedelta(days=3)))  # a typo, or a clock three days ahead

    first = _poll(integration, deps)

    cursor = deps.state.get_cursor(integration.id, Flow.ORDERS)
    assert cursor.watermark is not None and cursor.watermark <= clock.now + FUTURE_SKEW
    assert (first.counts["future_dated"], cursor.future_dated) == (1, ["1002"])
    clock.now += timedelta(minutes=15)  # well before the next late sweep
    store.put(make_order("1003", placed_at=clock.now - timedelta(minutes=1)))
    second = _poll(integration, deps)

    assert second.counts["created"] == 1 and "1003" in deps.warehouse.orders  # type: ignore[attr-defined]
    assert second.counts["already_sent"] == 1  # 1002 is read again until its date has passed, never sent twice
    assert deps.warehouse.creates == 3  # type: ignore[attr-defined]


def test_a_watermark_already_in_the_future_is_brought_back_to_now() -> None:
    now = T0
    assert next_watermark(T0 + timedelta(days=3), [], [], now) == now + FUTURE_SKEW
    assert next_watermark(None, [T0 + timedelta(days=3)], [], now) == now + FUTURE_SKEW
    assert next_watermark(T0 + timedelta(days=3), [T0], [], now) == now + FUTURE_SKEW


# ---- item 7: an order that becomes visible late ----------------------------------------------------


def test_an_order_visible_only_after_the_watermark_passed_it_reaches_myogo_within_the_bound() -> None:
    integration, deps, clock, store = _world()
    store.put(make_order("1001", placed_at=T0))
    store.hidden.add("1001")  # placed at 09:00, paid (so visible) only at 09:40
    store.put(make_order("1000", placed_at=T0 + timedelta(minutes=20)))
    clock.now = T0 + timedelta(minutes=25)
    _poll(integration, deps)  # the watermark moves to 09:20, past 09:00 and its overlap
    clock.now = T0 + timedelta(minutes=40)
    store.hidden.clear()
    visible_at = clock.now
    bound = timedelta(minutes=integration.settings.late_sweep_minutes + integration.settings.order_poll_minutes)

    polls = 0
    while "1001" not in deps.warehouse.orders:  # type: ignore[attr-defined]
        assert clock.now - visible_at <= bound, "the late order was not sent within the stated bound"
        clock.now += timedelta(minutes=integration.settings.order_poll_minutes)
        result = _poll(integration, deps)
        polls += 1

    assert bound <= timedelta(minutes=60)  # the bound the defaults promise
    assert result.counts["late_created"] == 1 and result.counts["late_found"] == 1
    cursor = deps.state.get_cursor(integration.id, Flow.ORDERS)
    assert cursor.late_orders == ["1001"] and cursor.late_orders_at == clock.now
    assert deps.warehouse.creates == 2  # type: ignore[attr-defined]


def test_the_late_sweep_imports_only_orders_never_finished_and_runs_at_most_every_late_sweep_minutes() -> None:
    integration, deps, clock, store = _world(late_sweep_minutes=30, late_order_lookback_hours=48)
    store.put(make_order("1001", placed_at=T0 - timedelta(hours=30), shipping_method="unmapped"))
    first = _poll(integration, deps)  # the first run sweeps too: 1001 is held
    assert first.counts["late_held"] == 1
    clock.now += timedelta(minutes=10)
    assert "late_swept" not in _poll(integration, deps).counts
    clock.now += timedelta(minutes=20)

    swept = _poll(integration, deps)

    assert (swept.counts["late_swept"], swept.counts["late_found"]) == (1, 0)
    assert not any(name.startswith("late_held") for name in swept.counts)  # held orders have their own rotation


def test_the_poll_notes_when_it_last_saw_an_order_waiting_for_payment_or_on_hold() -> None:
    integration, deps, clock, store = _world()
    store.put(make_order("1001", placed_at=T0))
    _poll(integration, deps)
    assert deps.state.get_cursor(integration.id, Flow.ORDERS).on_hold_seen_at is None
    clock.now += timedelta(minutes=5)
    store.put(make_order("1002", placed_at=clock.now - timedelta(minutes=1), state="awaiting_payment"))  # type: ignore[arg-type]

    _poll(integration, deps)

    assert deps.state.get_cursor(integration.id, Flow.ORDERS).on_hold_seen_at == clock.now


# ---- item 16: held orders in rotation --------------------------------------------------------------


def test_held_orders_are_rechecked_a_bounded_number_per_poll_and_all_within_a_rotation() -> None:
    integration, deps, clock, store = _world(held_recheck_per_run=10, late_order_lookback_hours=48)
    for number in range(25):
        store.put(make_order(f"{2000 + number}", placed_at=T0 - timedelta(hours=40), shipping_method="express"))
    deps.state.put_shipping_mapping(integration.id, "express", "")  # nothing maps: every order is held
    _poll(integration, deps)  # the first run's sweep holds all 25
    assert len(deps.state.held_order_ids(integration.id, T0 - timedelta(days=14))) == 25
    deps.state.put_shipping_mapping(integration.id, "express", "POSTI-EXPRESS")  # now they can all go

    per_poll = []
    for _ in range(3):
        clock.now += timedelta(minutes=5)
        before = store.calls["get"]
        result = _poll(integration, deps)
        per_poll.append(store.calls["get"] - before)
        assert result.counts["recheck_created"] == per_poll[-1]

    assert per_poll == [10, 10, 5]
    assert len(deps.warehouse.orders) == 25  # type: ignore[attr-defined]
    assert deps.state.get_cursor(integration.id, Flow.ORDERS).held_recheck_after is None  # went round


@pytest.mark.parametrize(
    ("after", "size", "expected"),
    [(None, 3, ["a", "b", "c"]), ("c", 3, ["d", "e", "a"]), ("bb", 2, ["c", "d"]), ("e", 9, ["a", "b", "c", "d", "e"])],
)
def test_rotation_goes_round_without_repeating(after: str | None, size: int, expected: list[str]) -> None:
    assert rotation(["a", "b", "c", "d", "e"], after, size) == expected


def test_a_held_order_keeps_its_units_recorded_for_the_stock_flow() -> None:
    integration, deps, _, store = _world()
    store.put(make_order("1001", placed_at=T0, shipping_method="express", skus=(SKU, SKU)))
    _poll(integration, deps)

    binding = deps.state.get_order_binding(integration.id, "1001")
    assert binding is not None and binding.status is BindingStatus.HELD
    assert deps.state.held_in_transit(integration.id, T0 - timedelta(days=1)) == {"1001": {SKU: 2}}


# ---- what the status says -------------------------------------------------------------------------


def test_the_status_warns_of_future_dates_late_orders_and_unseen_held_orders() -> None:
    integration, deps, clock, store = _world()
    store.put(make_order("1001", placed_at=T0 + timedelta(days=3)))
    store.put(make_order("1002", placed_at=T0 - timedelta(hours=2)))
    store.hidden.add("1002")
    _poll(integration, deps)
    assert deps.state.get_cursor(integration.id, Flow.ORDERS).late_orders == []  # the first run reports none
    store.hidden.clear()
    clock.now += timedelta(minutes=integration.settings.late_sweep_minutes)
    _poll(integration, deps)  # the sweep finds 1002

    cursor = deps.state.get_cursor(integration.id, Flow.ORDERS)
    warnings = flow_warnings(cursor, clock.now, CENTRA_SETTINGS)

    assert len(warnings) == 3
    assert "1001" in warnings[0] and "future" in warnings[0]
    assert "1002" in warnings[1] and "Get orders with status" in warnings[1]
    assert "Return waiting for payment / On hold orders" in warnings[2]
    later = clock.now + LATE_ORDER_WARNING
    assert len(flow_warnings(deps.state.get_cursor(integration.id, Flow.ORDERS), later, CENTRA_SETTINGS)) == 2
    unsettable = flow_warnings(cursor, clock.now)  # a platform whose API shows every order: no setting to blame
    assert len(unsettable) == 2 and "1002" in unsettable[1] and "setting" not in unsettable[1]


# ---- issue 14: a backlog is imported in bounded runs ------------------------------------------------


def test_a_backlog_is_imported_in_runs_of_the_import_limit_each_order_once_oldest_first() -> None:
    integration, deps, clock, store = _world(poll_import_limit=10)
    for n in range(35):  # a Black-Friday import, placed a second apart
        store.put(make_order(f"{2000 + n}", placed_at=T0 + timedelta(seconds=n)))
    clock.now = T0 + timedelta(minutes=2)

    runs = []
    while not runs or runs[-1].more:
        runs.append(_poll(integration, deps))
        assert len(runs) <= 4, "the backlog did not shrink by the limit each run"

    assert [run.counts["created"] for run in runs] == [10, 10, 10, 5]
    assert [run.counts["deferred"] for run in runs] == [25, 15, 5, 0]
    assert deps.warehouse.creates == 35 and len(deps.warehouse.orders) == 35  # type: ignore[attr-defined]
    first_cursor_after = runs[0].watermark
    assert first_cursor_after is not None and first_cursor_after < T0 + timedelta(seconds=10)  # before the 11th


def test_the_poll_counts_its_runs_in_a_row_that_found_nothing_the_webhooks_had_not_imported() -> None:
    integration, deps, clock, store = _world()
    idle = []
    for _ in range(3):
        clock.now += timedelta(minutes=5)
        _poll(integration, deps)
        idle.append(deps.state.get_cursor(integration.id, Flow.ORDERS).idle_runs)
    store.put(make_order("3001", placed_at=clock.now))  # its webhook was lost: the poll imports it
    clock.now += timedelta(minutes=5)
    _poll(integration, deps)

    assert idle == [1, 2, 3]
    assert deps.state.get_cursor(integration.id, Flow.ORDERS).idle_runs == 0


# ---- webhooks the store switched off (WooCommerce disables a webhook after failed deliveries) -----------------


class SwitchingStore(HidingStore):
    """A store that switches webhooks off by itself and says which (ports.WebhookHealth)."""

    def __init__(self) -> None:
        super().__init__()
        self.switched_off: list[str] = []
        self.asked = 0
        self.fails = False

    def switched_off_webhooks(self) -> list[str]:
        self.asked += 1
        if self.fails:
            raise PlatformError("shop", "GET webhooks answered 500")
        return list(self.switched_off)


def _switching_world() -> tuple[Integration, OrderDeps, Clock, SwitchingStore]:
    integration, deps, clock, _ = _world()
    store = SwitchingStore()
    deps.store = store
    return integration, deps, clock, store


def test_the_poll_asks_hourly_which_webhooks_the_store_switched_off_and_the_status_warns() -> None:
    integration, deps, clock, store = _switching_world()
    store.switched_off = ["webhook 7 'orders' (order.created) is disabled: set its status to Active"]
    for _ in range(12):  # an hour of 5-minute polls
        clock.now += timedelta(minutes=5)
        _poll(integration, deps)

    cursor = deps.state.get_cursor(integration.id, Flow.ORDERS)
    assert store.asked == 1
    assert cursor.switched_off_webhooks == store.switched_off
    warning = next(text for text in flow_warnings(cursor, clock.now) if "switched off webhooks" in text)
    assert "webhook 7" in warning and "poll" in warning
    store.switched_off = []  # the merchant set it Active again
    clock.now += timedelta(minutes=5)
    _poll(integration, deps)

    cursor = deps.state.get_cursor(integration.id, Flow.ORDERS)
    assert store.asked == 2 and cursor.switched_off_webhooks == []
    assert not any("switched off webhooks" in text for text in flow_warnings(cursor, clock.now))


def test_while_webhooks_are_switched_off_the_poll_never_goes_idle() -> None:
    integration, deps, clock, store = _switching_world()
    store.switched_off = ["webhook 7 is disabled"]
    for _ in range(15):
        clock.now += timedelta(minutes=5)
        _poll(integration, deps)

    assert deps.state.get_cursor(integration.id, Flow.ORDERS).idle_runs == 0


def test_a_failed_webhook_check_is_counted_and_the_poll_still_imports() -> None:
    integration, deps, clock, store = _switching_world()
    store.fails = True
    store.put(make_order("4001", placed_at=clock.now))
    clock.now += timedelta(minutes=5)

    result = _poll(integration, deps)

    assert result.counts["webhook_check_failed"] == 1 and result.counts["created"] == 1
    assert deps.state.get_cursor(integration.id, Flow.ORDERS).webhooks_checked_at is None  # asked again next run


def test_a_store_without_webhook_health_is_never_asked() -> None:
    integration, deps, clock, _ = _world()
    clock.now += timedelta(minutes=5)

    result = _poll(integration, deps)

    assert "webhook_check_failed" not in result.counts
    assert deps.state.get_cursor(integration.id, Flow.ORDERS).webhooks_checked_at is None
