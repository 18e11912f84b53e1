"""The scheduler fans out one poll job per integration per interval, spread over the minutes."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

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
        jobs = due_jobs(integrations, Flow.ORDERS, T0 + timedelta(minutes=minute))
        per_integration.update(job.integration_id for job in jobs)
        per_minute.append(len(jobs))

    assert per_integration["fast-shop"] == 10
    assert "paused-shop" not in per_integration
    assert {count for name, count in per_integration.items() if name.startswith("shop-")} == {2}
    assert max(per_minute) < 80  # spread over the interval, not all at once (200 shops / 5 minutes + the fast one)


def test_dispatch_enqueues_the_due_jobs() -> None:
    state = InMemoryState()
    state.put_integration(make_integration("fast-shop", settings=IntegrationSettings(order_poll_minutes=1)))
    queue = FakeQueue()

    jobs = dispatch_due_jobs(state, queue, Flow.ORDERS, T0)

    assert [job.integration_id for job in jobs] == ["fast-shop"] and queue.jobs == jobs
