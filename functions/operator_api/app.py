"""Operator API (an HTTP API with IAM authorisation): set up integrations and see what happened.

No metrics of its own: API Gateway counts requests, 4xx and 5xx per API."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ogosync import jobs
from ogosync.tracing import trace_handler

logger = Logger()


# The event is never logged (log_event stays off): request bodies carry credentials.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@trace_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return jobs.operator_request(event, context)
