"""Product sync worker: one SQS record per integration. A FlowJob is the scheduled run, which sends what changed in
the store since the last transfer; a ProductActionJob is the merchant's "Refresh" or "Create product", queued by the
operator API."""

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
from ogosync.models import FlowJob, ProductJob, ProductRunResult

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = sqs_batch_processor(logger)


@tracer.capture_method(capture_response=False)
def sync_record(record: SQSRecord) -> None:
    job = ProductJob.validate_json(record.body)
    kind = job.flow if isinstance(job, FlowJob) else job.action
    logger.append_keys(integration_id=job.integration_id, flow="products", job=kind)
    result = jobs.product_sync(job, owner=record.message_id)
    if isinstance(result, ProductRunResult):  # the engine logs its counts
        metrics.add_metric(name="ProductsTransferred", unit=MetricUnit.Count, value=len(result.transfers))
    elif result is not None:
        logger.info("product action done", extra={"status": result.status, "counts": result.counts})
        metrics.add_metric(
            name=f"Product{result.action.title()}{result.status.title()}", unit=MetricUnit.Count, value=1
        )


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=sync_record, processor=processor, context=context)
