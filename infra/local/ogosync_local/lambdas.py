"""Runs the real handlers locally the way Lambda would: SQS batches with partial failures, API Gateway v2 events."""

from __future__ import annotations

import base64
import importlib.util
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]
Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    """What the handlers read of a Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout_s: float = 60.0
    _started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:eu-north-1:000000000000:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return int((self.timeout_s - (time.monotonic() - self._started)) * 1000)


@cache
def load_handler(function: str) -> Handler:
    """functions/<function>/app.py's lambda_handler, imported under a unique module name."""
    path = ROOT / "functions" / function / "app.py"
    spec = importlib.util.spec_from_file_location(f"ogosync_fn_{function}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    handler: Handler = module.lambda_handler
    return handler


def invoke(function: str, event: dict[str, Any]) -> Any:
    return load_handler(function)(event, LambdaContext(function_name=f"ogosync-{function}"))


@dataclass
class DrainReport:
    received: int = 0
    failed: int = 0
    invocations: int = 0
    deliveries: Counter[str] = field(default_factory=Counter)  # receives per message id
    left_failed: list[str] = field(default_factory=list)  # receipt handles of failures left invisible


def drain_queue(
    sqs: Any,
    queue_url: str,
    function: str,
    *,
    batch_size: int = 10,
    redeliver: Callable[[list[str]], None] | None = None,
) -> DrainReport:
    """Feed a queue to a handler like Lambda's event source mapping: delete what succeeded, leave failures in the
    queue, until a receive finds nothing visible.

    Time plays no part: the local queues' visibility timeout outlasts any invocation (stack.py), so however slow the
    machine, a failed message is not received again by the clock. With `redeliver`, each invocation's failures (their
    receipt handles) go to it, which makes them visible again (what the visibility timeout running out does, e.g.
    make_visible), and they are received again until they succeed or SQS moves them to the DLQ after
    maxReceiveCount receives; without it their receipt handles are in `left_failed`.
    """
    report = DrainReport()
    while messages := sqs.receive_message(
        QueueUrl=queue_url, MaxNumberOfMessages=batch_size, AttributeNames=["All"], WaitTimeSeconds=0
    ).get("Messages", []):
        failed_ids = _invoke_batch(function, messages)
        report.received += len(messages)
        report.failed += len(failed_ids)
        report.invocations += 1
        report.deliveries.update(m["MessageId"] for m in messages)
        done = [m for m in messages if m["MessageId"] not in failed_ids]
        for start in range(0, len(done), 10):
            sqs.delete_message_batch(
                QueueUrl=queue_url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done[start : start + 10])
                ],
            )
        failed = [m["ReceiptHandle"] for m in messages if m["MessageId"] in failed_ids]
        if redeliver and failed:
            redeliver(failed)
        else:
            report.left_failed += failed
    return report


def make_visible(sqs: Any, queue_url: str, receipt_handles: list[str]) -> None:
    """End the visibility timeout of these received messages now: SQS hands them out again on the next receive."""
    for handle in receipt_handles:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=handle, VisibilityTimeout=0)


def _invoke_batch(function: str, messages: list[dict[str, Any]]) -> set[str]:
    event = {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:eu-north-1:000000000000:local",
                "awsRegion": "eu-north-1",
            }
            for m in messages
        ]
    }
    answer = invoke(function, event)
    return {failure["itemIdentifier"] for failure in answer.get("batchItemFailures", [])}


def api_gateway_event(
    method: str,
    path: str,
    route_key: str,
    path_parameters: dict[str, str],
    headers: dict[str, str],
    body: bytes,
    query: str = "",
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as the real service builds it."""
    text = body.decode("utf-8", errors="strict") if _is_text(body) else None
    parameters = urllib.parse.parse_qs(query, keep_blank_values=True)
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        # API Gateway joins repeated parameters with commas.
        **({"queryStringParameters": {k: ",".join(v) for k, v in parameters.items()}} if parameters else {}),
        "headers": {key.lower(): value for key, value in headers.items()},
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("User-Agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": "24/Nov/2026:10:00:00 +0000",
            "timeEpoch": int(time.time() * 1000),
        },
        "pathParameters": path_parameters,
        "body": text if text is not None else base64.b64encode(body).decode(),
        "isBase64Encoded": text is None,
    }


def _is_text(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


WEBHOOK_FUNCTIONS = {"myogo": "warehouse_webhook"}  # routes of template.yaml other than the stores' webhooks


class _LoopbackGateway:
    """An HTTP server on loopback that hands each request to a handler as API Gateway (HTTP API) would."""

    def __init__(self) -> None:
        gateway = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                gateway.handle(self)

            do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, answer: dict[str, Any]) -> None:
        """Write a Lambda proxy answer (status, headers, body, base64 or not) as the HTTP response."""
        text = str(answer.get("body") or "")
        payload = base64.b64decode(text) if answer.get("isBase64Encoded") else text.encode()
        request.send_response(answer["statusCode"])
        for name, value in (answer.get("headers") or {}).items():
            request.send_header(name, value)
        request.send_header("Content-Length", str(len(payload)))
        request.end_headers()
        if request.command != "HEAD":
            request.wfile.write(payload)


class WebhookGateway(_LoopbackGateway):
    """POST /webhooks/<platform>/<integrationId> -> the store_webhook handler (warehouse_webhook for myOGO)."""

    def __init__(self) -> None:
        super().__init__()
        self.responses: list[int] = []

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = request.path.split("?", 1)[0].strip("/").split("/")
        if request.command != "POST" or len(parts) != 3 or parts[0] != "webhooks":
            request.send_error(404)
            return
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        function = WEBHOOK_FUNCTIONS.get(parts[1], "store_webhook")
        if function == "store_webhook":  # the one route of every store platform, as in template.yaml
            route, path = "POST /webhooks/{platform}/{integrationId}", {"platform": parts[1], "integrationId": parts[2]}
        else:
            route, path = f"POST /webhooks/{parts[1]}/{{integrationId}}", {"integrationId": parts[2]}
        event = api_gateway_event("POST", request.path, route, path, dict(request.headers.items()), body)
        answer = invoke(function, event)
        self.responses.append(answer["statusCode"])
        self._reply(request, answer)


class OperatorGateway(_LoopbackGateway):
    """The operator HTTP API: every method and path -> the operator_api handler, like API Gateway's `ANY /{proxy+}`
    route. Loopback only, so there is no SigV4 check; one request at a time, like one container."""

    function = "operator_api"

    def __init__(self) -> None:
        super().__init__()
        self._one_at_a_time = threading.Lock()  # Powertools' resolver keeps the current event on the class

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        path, _, query = request.path.partition("?")
        body = request.rfile.read(int(request.headers.get("Content-Length") or 0))
        event = api_gateway_event(
            request.command,
            path,
            "ANY /{proxy+}",
            {"proxy": path.lstrip("/")},
            dict(request.headers.items()),
            body,
            query,
        )
        with self._one_at_a_time:
            answer = invoke(self.function, event)
        self._reply(request, answer)


class ConsoleGateway(OperatorGateway):
    """The web console's HTTP API: every method and path -> the console handler (no authoriser: its own session)."""

    function = "console"
