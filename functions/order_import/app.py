"""Order import worker: one SQS record per store order; failures are reported per record, never the batch."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ogosync import jobs
from ogosync.lambda_io import BatchResponse, SqsRecord, process_sqs_batch
from ogosync.models import HoldReason, OrderImportJob
from ogosync.tracing import trace_handler, trace_method

logger = Logger()
metrics = Metrics()
UNREADABLE_METRIC = "UnreadableStoreOrders"  # an order a webhook named that the store sends unreadable: alarmed


@trace_method
def import_record(record: SqsRecord) -> None:
    job = OrderImportJob.model_validate_json(record.body)
    logger.append_keys(integration_id=job.integration_id, order_id=job.order_id)
    result = jobs.order_import(job)
    if result is not None:
        metrics.add_metric(name=f"Order_{result.outcome}", unit=MetricUnit.Count, value=1)
        if any(hold.reason is HoldReason.UNREADABLE_IN_STORE for hold in result.holds):
            metrics.add_metric(name=UNREADABLE_METRIC, unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@trace_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_sqs_batch(event, import_record, logger.service)
