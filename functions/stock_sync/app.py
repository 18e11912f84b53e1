"""Stock sync worker: one SQS record per integration (myOGO -> store), so one merchant never holds up another."""

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
UNREADABLE_METRIC = "UnreadableWarehouseRecords"  # myOGO stock rows ogosync cannot read: alarmed


@trace_method
def sync_record(record: SqsRecord) -> None:
    job = FlowJob.model_validate_json(record.body)
    logger.append_keys(integration_id=job.integration_id, flow=job.flow)
    result = jobs.stock_sync(job, owner=record.message_id)
    if result is not None:
        metrics.add_metric(name="StockWritten", unit=MetricUnit.Count, value=result.counts["written"])
        metrics.add_metric(name="StockUnbound", unit=MetricUnit.Count, value=result.counts["unbound"])
        metrics.add_metric(name=UNREADABLE_METRIC, unit=MetricUnit.Count, value=result.counts["unreadable_rows"])


@logger.inject_lambda_context
@trace_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_sqs_batch(event, sync_record, logger.service)
