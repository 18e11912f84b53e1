"""Order poll worker: one SQS record per integration, so one merchant's failure never holds up another."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ogosync import jobs
from ogosync.lambda_io import BatchResponse, SqsRecord, process_sqs_batch
from ogosync.models import FlowJob
from ogosync.tracing import trace_handler, trace_method

logger = Logger()
metrics = Metrics()
NEEDS_PERSON_METRIC = "OrdersNeedingPerson"  # a sent order cancelled/edited too late: OrderNeedsPersonAlarm
UNREADABLE_METRIC = "UnreadableStoreOrders"  # store orders ogosync cannot read (held or reported): alarmed


@trace_method
def poll_record(record: SqsRecord) -> None:
    job = FlowJob.model_validate_json(record.body)
    logger.append_keys(integration_id=job.integration_id, flow=job.flow)
    result = jobs.order_poll(job, owner=record.message_id)
    if result is not None:
        logger.info("order poll done", extra={"ran": result.ran, "counts": dict(result.counts)})
        metrics.add_metric(name="OrdersSeenByPoll", unit=MetricUnit.Count, value=result.counts["seen"])
        needs_person = result.counts["aftercare_needs_person"]
        metrics.add_metric(name=NEEDS_PERSON_METRIC, unit=MetricUnit.Count, value=needs_person)
        unreadable = result.counts["unreadable"] + result.counts["recheck_unreadable"]
        metrics.add_metric(name=UNREADABLE_METRIC, unit=MetricUnit.Count, value=unreadable)


@logger.inject_lambda_context
@trace_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_sqs_batch(event, poll_record, logger.service)
