"""Tracking worker: one SQS record per integration poll (scheduled) or per order a myOGO webhook named."""

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
from ogosync.models import FlowJob, TrackingJob
from ogosync.sync.tracking import TrackingOutcome

logger = Logger()
tracer = Tracer()
metrics = Metrics()
processor = sqs_batch_processor(logger)
REFUSED_METRIC = "ShipmentsRefused"  # a shipment the store refused or could not capture: ShipmentRefusedAlarm
WAITING_OVERDUE_METRIC = "ShipmentsWaitingOverdue"  # waiting for the store >= 48 h: ShipmentWaitingForStoreAlarm
UNREADABLE_METRIC = "UnreadableWarehouseRecords"  # myOGO orders ogosync cannot read: UnreadableWarehouseRecordsAlarm


@tracer.capture_method(capture_response=False)
def tracking_record(record: SQSRecord) -> None:
    job = TrackingJob.validate_json(record.body)
    logger.append_keys(integration_id=job.integration_id)
    if isinstance(job, FlowJob):
        result = jobs.tracking_poll(job, owner=record.message_id)
        if result is not None:
            pushed = result.counts["pushed"] + result.counts["completed"]
            refused = result.counts["capture_failed"] + result.counts["rejected"]
            metrics.add_metric(name="ShipmentsPushed", unit=MetricUnit.Count, value=pushed)
            metrics.add_metric(name=REFUSED_METRIC, unit=MetricUnit.Count, value=refused)
            overdue = result.counts["waiting_overdue"]
            metrics.add_metric(name=WAITING_OVERDUE_METRIC, unit=MetricUnit.Count, value=overdue)
            metrics.add_metric(name=UNREADABLE_METRIC, unit=MetricUnit.Count, value=result.counts["unreadable"])
        return
    outcome = jobs.tracking_hint(job)
    if outcome is not None:
        metrics.add_metric(name=f"Tracking_{outcome}", unit=MetricUnit.Count, value=1)
        if outcome in (TrackingOutcome.CAPTURE_FAILED, TrackingOutcome.REJECTED):
            metrics.add_metric(name=REFUSED_METRIC, unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=tracking_record, processor=processor, context=context)
