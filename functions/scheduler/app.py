"""Every minute: enqueue one job per flow for each active integration whose interval of that flow is due."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ogosync import jobs
from ogosync.timeutil import utc_now
from ogosync.tracing import trace_handler

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context
@trace_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    enqueued = jobs.schedule(utc_now())
    metrics.add_metric(name="PollJobsEnqueued", unit=MetricUnit.Count, value=len(enqueued))
    by_flow: dict[str, list[str]] = {}
    for job in enqueued:
        by_flow.setdefault(job.flow, []).append(job.integration_id)
    return {"enqueued": by_flow}
