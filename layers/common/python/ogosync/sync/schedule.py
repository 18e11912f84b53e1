"""Fan-out of scheduled work: one job per integration and flow, so one merchant never waits on another
(design invariant 5). Each integration's runs are spread over its interval by a stable slot from its id.

The same tick sweeps for overdue flows (the FlowsOverdue metric and its alarm): each minute, the integrations whose
sweep slot is that minute, so each is checked once in OVERDUE_SWEEP_MINUTES with one batch read of its cursors
(10,000 integrations: 4,000 cursor reads a minute, 40 BatchGetItem calls).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from ogosync.models import Cursor, Flow, FlowJob, Integration, IntegrationStatus
from ogosync.ports import JobQueue, StateRepository

OVERDUE_SWEEP_MINUTES = 10
OVERDUE_AFTER_INTERVALS = 2  # as the operator status (ogosync.operator.status): no run ended in two intervals


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
    return _dispatch(state.list_integrations(), queues, now)


def _dispatch(integrations: list[Integration], queues: Mapping[Flow, JobQueue], now: datetime) -> list[FlowJob]:
    dispatched: list[FlowJob] = []
    for flow, queue in queues.items():
        jobs = due_jobs(integrations, [flow], now)
        queue.send(jobs)
        dispatched.extend(jobs)
    return dispatched


@dataclass(frozen=True)
class Tick:
    dispatched: list[FlowJob]
    overdue: list[tuple[str, Flow]]  # (integration id, flow) found overdue by this minute's share of the sweep


def tick(state: StateRepository, queues: Mapping[Flow, JobQueue], now: datetime) -> Tick:
    """The scheduler's minute: enqueue the due jobs, and sweep this minute's share of the fleet for overdue flows
    (of the flows that have a queue: a flow not deployed is never due)."""
    integrations = state.list_integrations()
    return Tick(_dispatch(integrations, queues, now), overdue_flows(state, integrations, list(queues), now))


def is_overdue(integration: Integration, cursor: Cursor, now: datetime) -> bool:
    """No run of an active integration's flow ended in two of its intervals. A flow that never started is not
    counted (a new integration before its first run; the status shows it as never run); one that started and never
    ended is, once its start is that old."""
    last = cursor.last_run_ended or cursor.last_run_started
    if integration.status is not IntegrationStatus.ACTIVE or last is None:
        return False
    return last < now - timedelta(minutes=OVERDUE_AFTER_INTERVALS * interval_minutes(integration, cursor.flow))


def overdue_flows(
    state: StateRepository, integrations: Iterable[Integration], flows: Iterable[Flow], now: datetime
) -> list[tuple[str, Flow]]:
    minute = int(now.timestamp() // 60) % OVERDUE_SWEEP_MINUTES
    swept = {
        integration.id: integration
        for integration in integrations
        if integration.status is IntegrationStatus.ACTIVE and _sweep_slot(integration) == minute
    }
    cursors = state.get_cursors([(integration_id, flow) for integration_id in swept for flow in flows])
    return [
        (cursor.integration_id, cursor.flow)
        for cursor in cursors
        if is_overdue(swept[cursor.integration_id], cursor, now)
    ]


def _sweep_slot(integration: Integration) -> int:
    return zlib.crc32(f"{integration.id}:overdue".encode()) % OVERDUE_SWEEP_MINUTES
