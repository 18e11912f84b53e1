"""Fan-out of scheduled work: one job per integration and flow, so one merchant never waits on another
(design invariant 5). Each integration's runs are spread over the interval by a stable slot from its id."""

from __future__ import annotations

import zlib
from datetime import datetime

from ogosync.models import Flow, FlowJob, Integration, IntegrationStatus
from ogosync.ports import JobQueue, StateRepository


def _interval_minutes(integration: Integration, flow: Flow) -> int:
    if flow is Flow.ORDERS:
        return integration.settings.order_poll_minutes
    raise ValueError(f"flow {flow} has no schedule yet")


def _slot(integration_id: str, interval: int) -> int:
    return zlib.crc32(integration_id.encode()) % interval


def due_jobs(integrations: list[Integration], flow: Flow, now: datetime) -> list[FlowJob]:
    """The jobs due in the minute of `now`: each active integration once every interval, in its own slot."""
    minute = int(now.timestamp() // 60)
    minute_start = datetime.fromtimestamp(minute * 60, tz=now.tzinfo)
    return [
        FlowJob(integration_id=integration.id, flow=flow, scheduled_for=minute_start)
        for integration in integrations
        if integration.status is IntegrationStatus.ACTIVE
        and minute % _interval_minutes(integration, flow) == _slot(integration.id, _interval_minutes(integration, flow))
    ]


def dispatch_due_jobs(state: StateRepository, queue: JobQueue, flow: Flow, now: datetime) -> list[FlowJob]:
    jobs = due_jobs(state.list_integrations(), flow, now)
    queue.send(jobs)
    return jobs
