"""myOGO webhooks (POST /webhooks/myogo/{integrationId}): verify, enqueue the order for the tracking worker, 202."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ogosync import jobs
from ogosync.errors import WebhookRejectedError
from ogosync.lambda_io import HttpApiRequest, json_response, raw_body
from ogosync.tracing import trace_aws_handler

logger = Logger()
metrics = Metrics()


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@trace_aws_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = HttpApiRequest.model_validate(event)
    integration_id = (request.pathParameters or {}).get("integrationId", "")
    try:
        ack = jobs.warehouse_webhook(integration_id, request.headers, raw_body(request))
    except WebhookRejectedError as refused:
        logger.warning("webhook refused", extra={"integration_id": integration_id, "reason": refused.reason})
        metrics.add_metric(name="WarehouseWebhookRefused", unit=MetricUnit.Count, value=1)
        return json_response(refused.status, {"error": refused.reason, "message": str(refused)})
    metrics.add_metric(name="WarehouseWebhookOrdersEnqueued", unit=MetricUnit.Count, value=ack.accepted_orders)
    return json_response(202, ack.model_dump())
