"""Stock sync worker: one SQS record per integration (myOGO -> store), so one merchant never holds up another."""

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
from ogosync.models import FlowJob

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = sqs_batch_processor(logger)
UNREADABLE_METRIC = "UnreadableWarehouseRecords"  # myOGO stock rows ogosync cannot read: alarmed


@tracer.capture_method(capture_response=False)
def sync_record(record: SQSRecord) -> None:
    job = FlowJob.model_validate_json(record.body)
    logger.append_keys(integration_id=job.integration_id, flow=job.flow)
    result = jobs.stock_sync(job, owner=record.message_id)
    if result is not None:
        metrics.add_metric(name="StockWritten", unit=MetricUnit.Count, value=result.counts["written"])
        metrics.add_metric(name="StockUnbound", unit=MetricUnit.Count, value=result.counts["unbound"])
        metrics.add_metric(name=UNREADABLE_METRIC, unit=MetricUnit.Count, value=result.counts["unreadable_rows"])


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=sync_record, processor=processor, context=context)
