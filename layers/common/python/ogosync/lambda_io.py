"""Small helpers for handlers: API Gateway bodies and answers, SQS batches with partial failures.

Not Powertools' parser and batch utilities: importing either loads Powertools' models and data classes of every
event source (Kafka, CloudWatch, AppSync, ...), the largest part of a handler's cold import after boto3 and the
X-Ray SDK (docs/benchmarks.md, "Cold imports and memory"). The handlers read five fields of an HTTP API event and two
of an SQS record; these are they.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypedDict

from pydantic import BaseModel, ConfigDict

from ogosync.errors import WebhookRejectedError


class HttpApiRequest(BaseModel):
    """The fields the webhooks read of an API Gateway HTTP API event (payload format 2.0)."""

    model_config = ConfigDict(defer_build=True)

    routeKey: str
    pathParameters: dict[str, str] | None = None
    headers: dict[str, str] = {}
    body: str | None = None
    isBase64Encoded: bool = False


def raw_body(request: HttpApiRequest) -> bytes:
    """The body bytes as the sender signed them."""
    body = request.body or ""
    if not request.isBase64Encoded:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WebhookRejectedError(400, "malformed_body", "body is not valid base64") from exc


def json_response(status: int, payload: Any) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(payload)}


@dataclass(frozen=True)
class SqsRecord:
    message_id: str
    body: str


class ItemFailure(TypedDict):
    itemIdentifier: str


class BatchResponse(TypedDict):
    """The answer of an SQS event source mapping with ReportBatchItemFailures: the records to deliver again."""

    batchItemFailures: list[ItemFailure]


def process_sqs_batch(event: Mapping[str, Any], handle: Callable[[SqsRecord], None], service: str) -> BatchResponse:
    """Each record on its own: one that raises is logged with its traceback (so a job on its way to the DLQ says
    why) and reported as failed; the others are done. An event with every record failed is answered the same way,
    not raised, so the queue redelivers only the records, never the batch twice over."""
    log = logging.getLogger(service)
    failures: list[ItemFailure] = []
    for raw in event.get("Records", []):
        record = SqsRecord(message_id=str(raw["messageId"]), body=str(raw["body"]))
        try:
            handle(record)
        except Exception:
            log.exception("record failed; the queue will deliver it again", extra={"message_id": record.message_id})
            failures.append({"itemIdentifier": record.message_id})
    return {"batchItemFailures": failures}
