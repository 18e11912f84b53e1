"""Small helpers for handlers: API Gateway bodies and answers."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

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
