"""The web console (its own HTTP API, signed in with Cognito): server-rendered pages for merchants and operators.

Its own function, so that the console's code never loads in the sync functions. No metrics of its own: API Gateway
counts requests, 4xx and 5xx per API."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from ogosync.console import runtime
from ogosync.console.app import handle
from ogosync.tracing import trace_handler

logger = Logger()


# The event is never logged (log_event stays off): the sign-in form carries a password.
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@trace_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(event, runtime.console_deps())
