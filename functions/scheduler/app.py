"""Every minute: enqueue one poll job for each active integration whose interval is due."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ogosync import jobs
from ogosync.timeutil import utc_now

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    enqueued = jobs.schedule(utc_now())
    metrics.add_metric(name="PollJobsEnqueued", unit=MetricUnit.Count, value=len(enqueued))
    return {"enqueued": [job.integration_id for job in enqueued]}
