"""Order import worker: one SQS record per store order; failures are reported per record, never the batch."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ogosync import jobs
from ogosync.lambda_io import sqs_batch_processor
from ogosync.models import HoldReason, OrderImportJob

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = sqs_batch_processor(logger)
UNREADABLE_METRIC = "UnreadableStoreOrders"  # an order a webhook named that the store sends unreadable: alarmed


@tracer.capture_method(capture_response=False)
def import_record(record: SQSRecord) -> None:
    job = OrderImportJob.model_validate_json(record.body)
    logger.append_keys(integration_id=job.integration_id, order_id=job.order_id)
    result = jobs.order_import(job)
    if result is not None:
        metrics.add_metric(name=f"Order_{result.outcome}", unit=MetricUnit.Count, value=1)
        if any(hold.reason is HoldReason.UNREADABLE_IN_STORE for hold in result.holds):
            metrics.add_metric(name=UNREADABLE_METRIC, unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=import_record, processor=processor, context=context)
