"""Every minute: enqueue one job per flow for each active integration whose interval of that flow is due, and count
the overdue flows of this minute's share of the fleet (FlowsOverdue: FlowsOverdueAlarm)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ogosync import jobs
from ogosync.timeutil import utc_now
from ogosync.tracing import trace_aws_handler

logger = Logger()
metrics = Metrics()
OVERDUE_METRIC = "FlowsOverdue"  # FlowsOverdueAlarm


@logger.inject_lambda_context
@trace_aws_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    tick = jobs.schedule(utc_now())
    metrics.add_metric(name="PollJobsEnqueued", unit=MetricUnit.Count, value=len(tick.dispatched))
    metrics.add_metric(name=OVERDUE_METRIC, unit=MetricUnit.Count, value=len(tick.overdue))
    if tick.overdue:
        logger.warning("flows overdue", extra={"overdue": [f"{iid}/{flow}" for iid, flow in tick.overdue]})
    by_flow: dict[str, list[str]] = {}
    for job in tick.dispatched:
        by_flow.setdefault(job.flow, []).append(job.integration_id)
    return {"enqueued": by_flow}
