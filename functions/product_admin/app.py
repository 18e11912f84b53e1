"""The merchant's product actions, invoked directly until the operator API serves them: "Refresh" (every store
product with its state) and "Create product" (all, or the picked SKUs). Event: a ProductAdminRequest as JSON."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import ValidationError

from ogosync import jobs
from ogosync.errors import UnknownIntegrationError
from ogosync.models import ProductAdminRequest, ProductRunResult, ProductState

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    try:
        request = ProductAdminRequest.model_validate(event)
        logger.append_keys(integration_id=request.integration_id, action=request.action)
        answer = jobs.product_admin(request, owner=context.aws_request_id)
    except (ValidationError, UnknownIntegrationError) as exc:
        metrics.add_metric(name="ProductAdminRequestRefused", unit=MetricUnit.Count, value=1)
        reason = "bad_request" if isinstance(exc, ValidationError) else "unknown_integration"
        return {"error": reason, "message": str(exc)}
    if isinstance(answer, ProductRunResult):
        metrics.add_metric(name="ProductsTransferred", unit=MetricUnit.Count, value=len(answer.transfers))
    else:
        metrics.add_metric(name="ProductsInError", unit=MetricUnit.Count, value=answer.counts[ProductState.ERROR])
    return answer.model_dump(mode="json")
