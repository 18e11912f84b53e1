"""The scheduler fans out one job per integration and flow per interval, spread over the minutes."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from pydantic import ValidationError

from ogosync.models import Flow, IntegrationSettings
from ogosync.sync.schedule import dispatch_due_jobs, due_jobs
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
