"""The scheduler fans out one job per integration and flow per interval, spread over the minutes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from pydantic import ValidationError

from ogosync.models import Cursor, Flow, Integration, IntegrationSchedule, IntegrationSettings
from ogosync.sync.schedule import (
    IDLE_AFTER_RUNS,
    OVERDUE_SWEEP_MINUTES,
    TICK_SEGMENTS,
    dispatch_due_jobs,
    due_jobs,
    overdue_flows,
    tick,
)
from tests.factories import T0, make_integration
from tests.fakes import FakeQueue, InMemoryState


def test_each_active_integration_is_due_exactly_once_per_interval() -> None:
    integrations = [make_integration(f"shop-{n:03d}") for n in range(200)]
    integrations.append(make_integration("fast-shop", settings=IntegrationSettings(order_poll_minutes=1)))
    integrations.append(make_integration("paused-shop", status="paused"))

    per_integration: Counter[str] = Counter()
    per_minute = []
    for minute in range(10):
        jobs = due_jobs(integrations, [Flow.ORDERS], T0 + timedelta(minutes=minute))
        per_integration.update(job.integration_id for job in jobs)
        per_minute.append(len(jobs))

    assert per_integration["fast-shop"] == 10
    assert "paused-shop" not in per_integration
    assert {count for name, count in per_integration.items() if name.startswith("shop-")} == {2}
    assert max(per_minute) < 80  # spread over the interval, not all at once (200 shops / 5 minutes + the fast one)


def test_each_flow_follows_its_own_interval() -> None:
    integration = make_integration(
        settings=IntegrationSettings(
            order_poll_minutes=5, stock_sync_minutes=10, product_sync_minutes=60, tracking_poll_minutes=15
        )
    )
    runs: Counter[Flow] = Counter()
    for minute in range(60):
        runs.update(job.flow for job in due_jobs([integration], list(Flow), T0 + timedelta(minutes=minute)))

    assert runs == {Flow.ORDERS: 12, Flow.STOCK: 6, Flow.PRODUCTS: 1, Flow.TRACKING: 4}


def test_a_flow_with_interval_0_is_off_and_the_others_still_run() -> None:
    integration = make_integration(settings=IntegrationSettings(stock_sync_minutes=0, product_sync_minutes=0))
    runs: Counter[Flow] = Counter()
    for minute in range(60):
        runs.update(job.flow for job in due_jobs([integration], list(Flow), T0 + timedelta(minutes=minute)))

    assert runs == {Flow.ORDERS: 12, Flow.TRACKING: 6}


def test_each_interval_takes_0_for_off_and_the_product_sync_is_never_more_often_than_5_minutes() -> None:
    assert (
        IntegrationSettings(
            order_poll_minutes=0, product_sync_minutes=0, stock_sync_minutes=0, tracking_poll_minutes=0
        ).order_poll_minutes
        == 0
    )
    with pytest.raises(ValidationError, match="must be 0 \\(off\\) or at least 5 minutes"):
        IntegrationSettings(product_sync_minutes=3)


def test_dispatch_enqueues_each_flows_jobs_on_its_own_queue() -> None:
    state = InMemoryState()
    fast = IntegrationSettings(order_poll_minutes=1, stock_sync_minutes=1)
    state.put_integration(make_integration("fast-shop", settings=fast))
    orders, stock = FakeQueue(), FakeQueue()

    jobs = dispatch_due_jobs(state, {Flow.ORDERS: orders, Flow.STOCK: stock}, T0)

    assert [(job.integration_id, job.flow) for job in jobs] == [("fast-shop", Flow.ORDERS), ("fast-shop", Flow.STOCK)]
    assert [job.flow for job in orders.jobs] == [Flow.ORDERS]  # type: ignore[attr-defined]
    assert [job.flow for job in stock.jobs] == [Flow.STOCK]  # type: ignore[attr-defined]


class CountingState(InMemoryState):
    """Counts the batch reads of cursors: the sweep must cost one per tick, whatever the fleet's size."""

    def __init__(self) -> None:
        super().__init__()
        self.cursor_batches: list[int] = []

    def get_cursors(self, keys: Sequence[tuple[str, Flow]], *, consistent: bool = True) -> list[Cursor]:
        self.cursor_batches.append(len(keys))
        return super().get_cursors(keys, consistent=consistent)


def _ran(state: InMemoryState, integration_id: str, flow: Flow, ended: datetime | None, started: datetime) -> None:
    cursor = state.get_cursor(integration_id, flow)
    state.save_cursor(cursor.model_copy(update={"last_run_started": started, "last_run_ended": ended}))


def _sweep(state: InMemoryState, flows: list[Flow], now: datetime) -> Counter[tuple[str, Flow]]:
    """Every overdue flow the sweep reports over OVERDUE_SWEEP_MINUTES minutes from `now`."""
    found: Counter[tuple[str, Flow]] = Counter()
    for minute in range(OVERDUE_SWEEP_MINUTES):
        found.update(overdue_flows(state, state.list_integrations(), flows, now + timedelta(minutes=minute)))
    return found


def test_a_flow_whose_last_run_ended_two_intervals_ago_is_found_once_per_sweep() -> None:
    state = CountingState()
    recent = T0 + timedelta(minutes=OVERDUE_SWEEP_MINUTES)  # runs that keep ending while the sweep goes on
    for n in range(300):
        state.put_integration(make_integration(f"shop-{n:03d}"))  # orders every 5 minutes, stock every 10
        _ran(state, f"shop-{n:03d}", Flow.ORDERS, ended=recent, started=recent)
        _ran(state, f"shop-{n:03d}", Flow.STOCK, ended=recent, started=recent)
    _ran(state, "shop-007", Flow.ORDERS, ended=T0 - timedelta(minutes=11), started=T0 - timedelta(minutes=11))
    _ran(state, "shop-123", Flow.STOCK, ended=None, started=T0 - timedelta(minutes=25))  # started, never ended
    state.put_integration(make_integration("paused-shop", status="paused"))
    _ran(state, "paused-shop", Flow.ORDERS, ended=T0 - timedelta(days=3), started=T0 - timedelta(days=3))
    state.put_integration(make_integration("new-shop"))  # never ran: not overdue before its first run

    found = _sweep(state, [Flow.ORDERS, Flow.STOCK], T0)

    assert found == {("shop-007", Flow.ORDERS): 1, ("shop-123", Flow.STOCK): 1}
    assert len(state.cursor_batches) == OVERDUE_SWEEP_MINUTES  # one batch read a minute
    assert sum(state.cursor_batches) == 301 * 2  # each active integration's two flows, once in the sweep
    assert max(state.cursor_batches) < 301 * 2 / 4  # spread over the minutes, not all at once


def test_the_tick_dispatches_and_sweeps_with_one_listing_of_the_integrations() -> None:
    state = CountingState()
    state.put_integration(make_integration("fast-shop", settings=IntegrationSettings(order_poll_minutes=1)))
    _ran(state, "fast-shop", Flow.ORDERS, ended=T0 - timedelta(hours=1), started=T0 - timedelta(hours=1))
    orders = FakeQueue()

    ticks = [tick(state, {Flow.ORDERS: orders}, T0 + timedelta(minutes=m)) for m in range(OVERDUE_SWEEP_MINUTES)]

    assert [len(t.dispatched) for t in ticks] == [1] * OVERDUE_SWEEP_MINUTES
    assert [t.overdue for t in ticks if t.overdue] == [[("fast-shop", Flow.ORDERS)]]


class FleetState(InMemoryState):
    """Counts what a tick reads; the whole integration (its model, its secret name...) is never read by a tick."""

    def __init__(self) -> None:
        super().__init__()
        self.listed: Counter[str] = Counter()  # integration id -> times listed
        self.segment_calls = 0
        self.cursor_reads: list[tuple[int, bool]] = []  # (keys, consistent) per batch read

    def list_integrations(self) -> list[Integration]:
        raise AssertionError("the tick reads schedules by segment, not every integration's model")

    def get_integration(self, integration_id: str) -> Integration | None:
        raise AssertionError("the tick reads no integration one by one")

    def integration_schedules(self, segment: int, segments: int) -> list[IntegrationSchedule]:
        self.segment_calls += 1
        schedules = super().integration_schedules(segment, segments)
        self.listed.update(schedule.integration_id for schedule in schedules)
        return schedules

    def get_cursors(self, keys: Sequence[tuple[str, Flow]], *, consistent: bool = True) -> list[Cursor]:
        self.cursor_reads.append((len(keys), consistent))
        return super().get_cursors(keys, consistent=consistent)


def test_a_tick_reads_each_integration_once_in_segments_and_its_reads_per_integration_are_bounded() -> None:
    fleet = 2000
    state = FleetState()
    for n in range(fleet):
        state.integrations[f"shop-{n:05d}"] = make_integration(f"shop-{n:05d}")
    queues = {flow: FakeQueue() for flow in Flow}

    result = tick(state, queues, T0)

    assert set(state.listed.values()) == {1} and len(state.listed) == fleet  # every integration, once
    assert state.segment_calls == TICK_SEGMENTS  # a constant number of listings, in parallel
    assert sorted((j.integration_id, j.flow) for j in result.dispatched) == sorted(
        (j.integration_id, j.flow) for j in due_jobs(state.integrations.values(), list(Flow), T0)
    )
    cursor_keys = sum(keys for keys, _ in state.cursor_reads)
    sweep, due_order_polls = fleet * len(Flow) / OVERDUE_SWEEP_MINUTES, fleet / 5  # this minute's shares
    assert cursor_keys <= 1.5 * (sweep + due_order_polls)
    assert all(not consistent for _, consistent in state.cursor_reads)  # half the price of a consistent read


def _idle_orders(state: InMemoryState, integration_id: str, started: datetime, idle_runs: int) -> None:
    cursor = state.get_cursor(integration_id, Flow.ORDERS)
    state.save_cursor(
        cursor.model_copy(update={"last_run_started": started, "last_run_ended": started, "idle_runs": idle_runs})
    )


def test_an_idle_order_poll_runs_every_idle_interval_and_is_not_overdue_meanwhile() -> None:
    state = InMemoryState()
    settings = IntegrationSettings(order_poll_minutes=5, idle_order_poll_minutes=20)
    state.put_integration(make_integration("quiet-shop", settings=settings))
    state.put_integration(make_integration("busy-shop", settings=settings))
    queues = {Flow.ORDERS: FakeQueue()}
    runs: Counter[str] = Counter()
    overdue: list[tuple[str, Flow]] = []
    for minute in range(120):
        now = T0 + timedelta(minutes=minute)
        result = tick(state, queues, now)
        overdue += result.overdue
        for job in result.dispatched:
            runs[job.integration_id] += 1
            idle = IDLE_AFTER_RUNS if job.integration_id == "quiet-shop" else 0  # its webhooks did all the work
            _idle_orders(state, job.integration_id, now + timedelta(seconds=5), idle)

    assert runs["busy-shop"] == 24  # every 5 minutes for two hours
    assert runs["quiet-shop"] == 6  # every 20 minutes
    assert overdue == []


def test_an_order_poll_that_imports_again_is_back_to_its_usual_interval_at_once() -> None:
    state = InMemoryState()
    settings = IntegrationSettings(order_poll_minutes=5, idle_order_poll_minutes=20)
    state.put_integration(make_integration("quiet-shop", settings=settings))
    _idle_orders(state, "quiet-shop", T0 + timedelta(seconds=5), IDLE_AFTER_RUNS)  # ran in its slot at T0
    due = [m for m in range(20) if due_jobs(state.list_integrations(), [Flow.ORDERS], T0 + timedelta(minutes=m))]

    waited = [m for m in due if tick(state, {Flow.ORDERS: FakeQueue()}, T0 + timedelta(minutes=m)).dispatched]
    _idle_orders(state, "quiet-shop", T0 + timedelta(seconds=5), 0)  # a poll imported an order the webhooks had missed
    back = [m for m in due if tick(state, {Flow.ORDERS: FakeQueue()}, T0 + timedelta(minutes=m)).dispatched]

    assert waited == [] and back == due
