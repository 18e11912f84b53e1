"""Product sync worker: one SQS record per integration. A FlowJob is the scheduled run, which sends what changed in
the store since the last transfer; a ProductActionJob is the merchant's "Refresh" or "Create product", queued by the
operator API."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ogosync import jobs
from ogosync.lambda_io import BatchResponse, SqsRecord, process_sqs_batch
from ogosync.models import FlowJob, ProductJob, ProductRunResult
from ogosync.tracing import trace_handler, trace_method

logger = Logger()
metrics = Metrics()


@trace_method
def sync_record(record: SqsRecord) -> None:
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
@trace_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> BatchResponse:
    return process_sqs_batch(event, sync_record, logger.service)
