"""Fan-out of scheduled work: one job per integration and flow, so one merchant never waits on another
(design invariant 5). Each integration's runs are spread over its interval by a stable slot from its id."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from datetime import datetime

from ogosync.models import Flow, FlowJob, Integration, IntegrationStatus
from ogosync.ports import JobQueue, StateRepository


def interval_minutes(integration: Integration, flow: Flow) -> int:
    """Minutes between scheduled runs of the flow; 0: off."""
    settings = integration.settings
    return {
        Flow.ORDERS: settings.order_poll_minutes,
        Flow.PRODUCTS: settings.product_sync_minutes,
        Flow.STOCK: settings.stock_sync_minutes,
        Flow.TRACKING: settings.tracking_poll_minutes,
    }[flow]


def _is_due(integration: Integration, flow: Flow, minute: int) -> bool:
    """Never when the flow's interval is 0 (the merchant switched that flow off)."""
    interval = interval_minutes(integration, flow)
    if interval == 0:
        return False
    return minute % interval == zlib.crc32(f"{integration.id}:{flow}".encode()) % interval


def due_jobs(integrations: Iterable[Integration], flows: Iterable[Flow], now: datetime) -> list[FlowJob]:
    """The jobs due in the minute of `now`: each active integration once per interval of each flow."""
    minute = int(now.timestamp() // 60)
    minute_start = datetime.fromtimestamp(minute * 60, tz=now.tzinfo)
    return [
        FlowJob(integration_id=integration.id, flow=flow, scheduled_for=minute_start)
        for flow in flows
        for integration in integrations
        if integration.status is IntegrationStatus.ACTIVE and _is_due(integration, flow, minute)
    ]


def dispatch_due_jobs(state: StateRepository, queues: Mapping[Flow, JobQueue], now: datetime) -> list[FlowJob]:
    """Enqueue the due jobs of every flow that has a queue; returns them."""
    integrations = state.list_integrations()
    dispatched: list[FlowJob] = []
    for flow, queue in queues.items():
        jobs = due_jobs(integrations, [flow], now)
        queue.send(jobs)
        dispatched.extend(jobs)
    return dispatched
