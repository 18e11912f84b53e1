"""Every few minutes: send each new notice once to its integration's channels, and the daily digests due this hour
(sync/notify.py). Sent and undelivered counts are metrics; NoticesNotDeliveredAlarm watches the second."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ogosync import jobs
from ogosync.tracing import trace_handler

logger = Logger()
metrics = Metrics()
NOT_DELIVERED_METRIC = "NoticesNotDelivered"  # NoticesNotDeliveredAlarm


@logger.inject_lambda_context
@trace_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    result = jobs.notify()
    counts = result.counts
    sent = counts["sent_email"] + counts["sent_webhook"]
    metrics.add_metric(name="NoticesSent", unit=MetricUnit.Count, value=sent)
    metrics.add_metric(
        name="DigestsSent", unit=MetricUnit.Count, value=counts["digest_email"] + counts["digest_webhook"]
    )
    not_delivered = counts["not_delivered"] + counts["digest_not_delivered"] + counts["given_up"]
    metrics.add_metric(name=NOT_DELIVERED_METRIC, unit=MetricUnit.Count, value=not_delivered)
    result.raise_if_unknown()  # NotifyErrorsAlarm: a send whose outcome is unknown is not repeated
    return dict(counts)
