"""Store webhooks (POST /webhooks/{platform}/{integrationId}, one route for every platform): verify, enqueue,
answer 202 fast."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from ogosync import jobs
from ogosync.errors import WebhookRejectedError
from ogosync.lambda_io import HttpApiRequest, json_response, raw_body
from ogosync.models import Platform
from ogosync.tracing import trace_aws_handler

logger = Logger()
metrics = Metrics()


def _platform(name: str) -> Platform | None:
    return next((platform for platform in Platform if platform.value == name), None)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@trace_aws_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = HttpApiRequest.model_validate(event)
    path = request.pathParameters or {}
    integration_id = path.get("integrationId", "")
    platform = _platform(path.get("platform", ""))
    try:
        if platform is None:
            raise WebhookRejectedError(404, "unknown_platform", "no webhook route for this platform")
        ack = jobs.store_webhook(platform, integration_id, request.headers, raw_body(request))
    except WebhookRejectedError as refused:
        logger.warning("webhook refused", extra={"integration_id": integration_id, "reason": refused.reason})
        metrics.add_metric(name="WebhookRefused", unit=MetricUnit.Count, value=1)
        return json_response(refused.status, {"error": refused.reason, "message": str(refused)})
    enqueued = ack.accepted_orders - ack.left_to_poll
    metrics.add_metric(name="WebhookOrdersEnqueued", unit=MetricUnit.Count, value=enqueued)
    if ack.left_to_poll:  # beyond the integration's fair share of the order queue this minute
        metrics.add_metric(name="WebhookOrdersLeftToPoll", unit=MetricUnit.Count, value=ack.left_to_poll)
    return json_response(202, ack.model_dump())
