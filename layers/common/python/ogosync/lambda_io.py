"""Small helpers for handlers: API Gateway bodies and answers, SQS batch processing."""

from __future__ import annotations

import base64
import binascii
import json
import logging
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model

from ogosync.errors import WebhookRejectedError


def raw_body(request: APIGatewayProxyEventV2Model) -> bytes:
    """The body bytes as the sender signed them."""
    body = request.body if isinstance(request.body, str) else ""
    if not request.isBase64Encoded:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookRejectedError(400, "malformed_body", "body is not valid base64") from exc


def json_response(status: int, payload: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(payload)}


def sqs_batch_processor(logger: Logger) -> BatchProcessor:
    """Partial batch responses for an SQS worker. A failed record is logged with its traceback through the
    handler's logger (Powertools logs it only at DEBUG otherwise), so a job on its way to the DLQ says why."""
    return BatchProcessor(
        event_type=EventType.SQS, raise_on_entire_batch_failure=False, logger=logging.getLogger(logger.service)
    )
