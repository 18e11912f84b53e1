"""Fan-out of scheduled work: one job per integration and flow, so one merchant never waits on another
(design invariant 5). Each integration's runs are spread over its interval by a stable slot from its id.

The same tick sweeps for overdue flows (the FlowsOverdue metric and its alarm): each minute, the integrations whose
sweep slot is that minute, so each is checked once in OVERDUE_SWEEP_MINUTES with one batch read of its cursors
(10,000 integrations: 4,000 cursor reads a minute, 40 BatchGetItem calls, eventually consistent: a second of
staleness does not matter against two intervals). And it reads the order cursor of each integration whose order
poll is due, to hold back the polls of idle integrations to their idle interval (effective_interval).

A tick must not be late because the fleet grew (docs/benchmarks.md, "Fleet"). What grows with the fleet is the
listing (every integration's schedule, every minute), the SQS sends (about 0.42 jobs per integration a minute at the
default intervals) and the sweep's cursor reads. So the tick reads a compact schedule (id, status, intervals: no
model of the whole integration) in TICK_SEGMENTS segments of the fleet, each segment listed, dispatched and swept in
its own thread: the calls of a tick stay proportional to the fleet, but its wall time is a segment's. Uncertain:
how many segments a 256 MB function's share of a CPU keeps busy; the benchmark measures to 10,000 integrations
and extrapolates beyond.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from ogosync.models import Cursor, Flow, FlowJob, Integration, IntegrationSchedule, IntegrationStatus
from ogosync.ports import JobQueue, ScheduleSource, StateRepository

OVERDUE_SWEEP_MINUTES = 10
OVERDUE_AFTER_INTERVALS = 2  # as the operator status (ogosync.operator.status): no run ended in two intervals
TICK_SEGMENTS = 16  # segments of the fleet listed, dispatched and swept in parallel by one tick
IDLE_AFTER_RUNS = 12  # order polls in a row that found nothing new (an hour at 5 minutes) before the idle interval


def schedule_of(integration: Integration) -> IntegrationSchedule:
    return IntegrationSchedule(
        integration.id,
        integration.status is IntegrationStatus.ACTIVE,
        {flow: interval_minutes(integration, flow) for flow in Flow},
        integration.settings.idle_order_poll_minutes,
    )


def effective_interval(schedule: IntegrationSchedule, cursor: Cursor) -> int:
    """The flow's interval now: an order poll that found nothing the webhooks had not imported IDLE_AFTER_RUNS
    times in a row runs every idle_order_poll_minutes (a quiet merchant's month, docs/benchmarks.md "Cost") until
    a poll imports something itself. The webhooks import as before; a late order's bound grows to
    late_sweep_minutes + idle_order_poll_minutes."""
    interval = schedule.intervals[cursor.flow]
    idle = schedule.idle_order_poll_minutes
    if cursor.flow is Flow.ORDERS and idle > interval and cursor.idle_runs >= IDLE_AFTER_RUNS:
        return idle
    return interval


def interval_minutes(integration: Integration, flow: Flow) -> int:
    """Minutes between scheduled runs of the flow; 0: off."""
    settings = integration.settings
    return {
        Flow.ORDERS: settings.order_poll_minutes,
        Flow.PRODUCTS: settings.product_sync_minutes,
        Flow.STOCK: settings.stock_sync_minutes,
        Flow.TRACKING: settings.tracking_poll_minutes,
    }[flow]


def _schedules(integrations: Iterable[Integration | IntegrationSchedule]) -> list[IntegrationSchedule]:
    return [each if isinstance(each, IntegrationSchedule) else schedule_of(each) for each in integrations]


def _is_due(schedule: IntegrationSchedule, flow: Flow, minute: int) -> bool:
    """Never when the flow's interval is 0 (the merchant switched that flow off)."""
    interval = schedule.intervals[flow]
    if interval == 0:
        return False
    return minute % interval == zlib.crc32(f"{schedule.integration_id}:{flow}".encode()) % interval


def due_jobs(
    integrations: Iterable[Integration | IntegrationSchedule], flows: Iterable[Flow], now: datetime
) -> list[FlowJob]:
    """The jobs due in the minute of `now`: each active integration once per interval of each flow."""
    minute = int(now.timestamp() // 60)
    minute_start = datetime.fromtimestamp(minute * 60, tz=now.tzinfo)
    schedules = _schedules(integrations)
    return [
        FlowJob(integration_id=schedule.integration_id, flow=flow, scheduled_for=minute_start)
        for flow in flows
        for schedule in schedules
        if schedule.active and _is_due(schedule, flow, minute)
    ]


def dispatch_due_jobs(state: StateRepository, queues: Mapping[Flow, JobQueue], now: datetime) -> list[FlowJob]:
    """Enqueue the due jobs of every flow that has a queue; returns them."""
    return _dispatch(_schedules(state.list_integrations()), queues, now)


def _dispatch(
    schedules: list[IntegrationSchedule],
    queues: Mapping[Flow, JobQueue],
    now: datetime,
    state: ScheduleSource | None = None,
) -> list[FlowJob]:
    dispatched: list[FlowJob] = []
    for flow, queue in queues.items():
        jobs = due_jobs(schedules, [flow], now)
        if flow is Flow.ORDERS and state is not None:
            jobs = _without_idle(state, schedules, jobs, now)
        queue.send(jobs)
        dispatched.extend(jobs)
    return dispatched


def _without_idle(
    state: ScheduleSource, schedules: list[IntegrationSchedule], jobs: list[FlowJob], now: datetime
) -> list[FlowJob]:
    """The due order polls less those of idle integrations that ran within their idle interval: one eventually
    consistent read of the cursors of the integrations that may be idle (idle interval longer than the usual)."""
    by_id = {schedule.integration_id: schedule for schedule in schedules}
    may_idle = [
        job.integration_id
        for job in jobs
        if by_id[job.integration_id].idle_order_poll_minutes > by_id[job.integration_id].intervals[Flow.ORDERS]
    ]
    if not may_idle:
        return jobs
    cursors = state.get_cursors([(integration_id, Flow.ORDERS) for integration_id in may_idle], consistent=False)
    waiting = {cursor.integration_id for cursor in cursors if _waits(by_id[cursor.integration_id], cursor, now)}
    return [job for job in jobs if job.integration_id not in waiting]


def _waits(schedule: IntegrationSchedule, cursor: Cursor, now: datetime) -> bool:
    """Idle, and its last run started within its idle interval (less one usual interval: the slots are those of
    the usual interval, and a run starts a little after its slot)."""
    interval, usual = effective_interval(schedule, cursor), schedule.intervals[cursor.flow]
    started = cursor.last_run_started
    return interval > usual and started is not None and started > now - timedelta(minutes=interval - usual)


@dataclass(frozen=True)
class Tick:
    dispatched: list[FlowJob]
    overdue: list[tuple[str, Flow]]  # (integration id, flow) found overdue by this minute's share of the sweep


def tick(state: ScheduleSource, queues: Mapping[Flow, JobQueue], now: datetime, segments: int = TICK_SEGMENTS) -> Tick:
    """The scheduler's minute: enqueue the due jobs, and sweep this minute's share of the fleet for overdue flows
    (of the flows that have a queue: a flow not deployed is never due). Each segment of the fleet in its own thread;
    a segment that fails does not stop the others (the exception is raised once they are all done)."""
    with ThreadPoolExecutor(max_workers=segments) as pool:
        parts = list(pool.map(lambda segment: _tick_segment(state, queues, now, segment, segments), range(segments)))
    return Tick([job for part in parts for job in part.dispatched], [found for part in parts for found in part.overdue])


def _tick_segment(
    state: ScheduleSource, queues: Mapping[Flow, JobQueue], now: datetime, segment: int, segments: int
) -> Tick:
    schedules = state.integration_schedules(segment, segments)
    return Tick(_dispatch(schedules, queues, now, state), overdue_flows(state, schedules, list(queues), now))


def is_overdue(integration: Integration, cursor: Cursor, now: datetime) -> bool:
    """No run of an active integration's flow ended in two of its intervals. A flow that never started is not
    counted (a new integration before its first run; the status shows it as never run); one that started and never
    ended is, once its start is that old."""
    return _overdue(schedule_of(integration), cursor, now)


def _overdue(schedule: IntegrationSchedule, cursor: Cursor, now: datetime) -> bool:
    """is_overdue on the compact schedule."""
    last = cursor.last_run_ended or cursor.last_run_started
    if not schedule.active or last is None:
        return False
    return last < now - timedelta(minutes=OVERDUE_AFTER_INTERVALS * effective_interval(schedule, cursor))


def overdue_flows(
    state: ScheduleSource,
    integrations: Iterable[Integration | IntegrationSchedule],
    flows: Iterable[Flow],
    now: datetime,
) -> list[tuple[str, Flow]]:
    minute = int(now.timestamp() // 60) % OVERDUE_SWEEP_MINUTES
    swept = {
        schedule.integration_id: schedule
        for schedule in _schedules(integrations)
        if schedule.active and _sweep_slot(schedule.integration_id) == minute
    }
    keys = [(integration_id, flow) for integration_id in swept for flow in flows]
    cursors = state.get_cursors(keys, consistent=False) if keys else []
    return [
        (cursor.integration_id, cursor.flow)
        for cursor in cursors
        if _overdue(swept[cursor.integration_id], cursor, now)
    ]


def _sweep_slot(integration_id: str) -> int:
    return zlib.crc32(f"{integration_id}:overdue".encode()) % OVERDUE_SWEEP_MINUTES
