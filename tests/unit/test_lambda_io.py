"""The handlers' own small event helpers: SQS partial batch answers, HTTP API requests, and tracing's switch."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from aws_lambda_powertools import Tracer

from ogosync import tracing
from ogosync.errors import WebhookRejectedError
from ogosync.lambda_io import HttpApiRequest, SqsRecord, process_sqs_batch, raw_body


def _event(*bodies: str) -> dict[str, Any]:
    return {"Records": [{"messageId": f"m{i}", "body": body} for i, body in enumerate(bodies)]}


def test_only_the_records_that_raised_are_reported_for_redelivery(caplog: pytest.LogCaptureFixture) -> None:
    done: list[str] = []

    def handle(record: SqsRecord) -> None:
        if record.body == "bad":
            raise ValueError("unreadable job")
        done.append(record.message_id)

    with caplog.at_level(logging.ERROR, logger="ogosync-test"):
        answer = process_sqs_batch(_event("ok", "bad", "ok"), handle, "ogosync-test")
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert done == ["m0", "m2"]
    assert "unreadable job" in caplog.text  # the traceback says why the job is on its way to the DLQ


def test_a_batch_whose_every_record_failed_is_answered_not_raised() -> None:
    def handle(record: SqsRecord) -> None:
        raise RuntimeError(record.body)

    answer = process_sqs_batch(_event("a", "b"), handle, "ogosync-test")
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m0"}, {"itemIdentifier": "m1"}]}


def test_the_raw_body_is_the_bytes_the_sender_signed() -> None:
    signed = b'{"order": "1"}\n'
    request = HttpApiRequest.model_validate(
        {"routeKey": "POST /x", "body": base64.b64encode(signed).decode(), "isBase64Encoded": True}
    )
    assert raw_body(request) == signed
    with pytest.raises(WebhookRejectedError):
        raw_body(request.model_copy(update={"body": "not base64!"}))


ENVIRONMENTS = [
    {},
    {"LAMBDA_TASK_ROOT": "/var/task"},
    {"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"},
    {"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "1"},
    {"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "false"},
    {"LAMBDA_TASK_ROOT": "/var/task", "AWS_SAM_LOCAL": "true"},
    {"LAMBDA_TASK_ROOT": "/var/task", "AWS_CHALICE_CLI_MODE": "true"},
    {"POWERTOOLS_TRACE_DISABLED": "false"},
]


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_tracing_is_on_exactly_when_powertools_would_trace(
    environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("LAMBDA_TASK_ROOT", "POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL", "AWS_CHALICE_CLI_MODE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert tracing.tracing_enabled() is not bool(Tracer._is_tracer_disabled())
