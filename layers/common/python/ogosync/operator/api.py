"""The operator HTTP API: Powertools' resolver with validation, the routers, one error shape, and its OpenAPI
document at GET /openapi.json. API Gateway authorises every call with IAM (SigV4) before it gets here."""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn
from aws_lambda_powertools.utilities.typing import LambdaContext

from ogosync.errors import UnknownIntegrationError
from ogosync.operator.deps import OperatorDeps
from ogosync.operator.errors import OperatorError, describe
from ogosync.operator.routes import integrations, orders, products, runs, shipping, status
from ogosync.operator.schemas import ErrorBody
from ogosync.ports import ProductRunRepository

logger = Logger(service="ogosync", child=True)

MAX_BODY_BYTES = 64 * 1024
TITLE = "ogosync operator API"
VERSION = "1"
_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}

# debug=False always: Powertools' debug mode prints whole events, request bodies (credentials) included.
app = APIGatewayHttpResolver(enable_validation=True, debug=False)
app.include_router(integrations.router)
app.include_router(shipping.router)
app.include_router(status.router)
app.include_router(runs.router)
# ---- one order's actions (do not send, retry)
app.include_router(orders.router)
# ---- products (store -> myOGO): the product sync page's router (refresh, list, create).
app.include_router(products.router)


def error_response(status: int, code: str, message: str, field: str | None = None) -> Response[str]:
    body = ErrorBody(status=status, code=code, message=message, field=field)
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body.model_dump_json())


@app.exception_handler(RequestValidationError)
def _invalid_request(exc: RequestValidationError) -> Response[str]:
    field, message = describe([_as_caller_named(error) for error in exc.errors()])
    return error_response(422, "invalid_request", message, field)


@app.exception_handler(OperatorError)
def _refused(exc: OperatorError) -> Response[str]:
    return error_response(exc.status, exc.code, exc.message, exc.field)


@app.exception_handler(UnknownIntegrationError)
def _unknown_integration(exc: UnknownIntegrationError) -> Response[str]:
    return error_response(404, "unknown_integration", f"no integration with id {exc.integration_id!r}")


@app.exception_handler(RequestUnsupportedContentType)
def _unsupported_content_type(exc: RequestUnsupportedContentType) -> Response[str]:
    return error_response(415, "unsupported_media_type", "send the body as application/json")


@app.not_found
def _no_route(exc: NotFoundError) -> Response[str]:
    event = app.current_event
    return error_response(404, "no_such_route", f"there is no route {event.http_method} {event.path}")


@app.exception_handler(Exception)
def _unexpected(exc: Exception) -> Response[str]:
    logger.exception("operator request failed", extra={"error_type": type(exc).__name__})
    request_id = app.current_event.request_context.request_id
    return error_response(500, "internal_error", f"an unexpected error occurred (request {request_id})")


@app.get("/openapi.json", include_in_schema=False)
def _openapi_document() -> Response[str]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=json.dumps(openapi_document()))


def openapi_document() -> dict[str, Any]:
    """The OpenAPI document of the routes, with the one error shape every 4xx and 5xx answer has."""
    document: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title=TITLE,
            version=VERSION,
            description="Set up ogosync integrations and see what happened. Every call is signed with AWS SigV4.",
            security_schemes={
                "sigv4": APIKey(name="Authorization", in_=APIKeyIn.header, description="AWS Signature Version 4")
            },
            security=[{"sigv4": []}],
        )
    )
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas["ErrorBody"] = ErrorBody.model_json_schema()
    error = {"description": "Error", "content": {content_types.APPLICATION_JSON: {"schema": _ERROR_REF}}}
    for operations in document["paths"].values():
        for operation in operations.values():
            operation["responses"]["422"] = error | {"description": "Invalid request: the field is named"}
            operation["responses"]["default"] = error
    return document


def resolve(
    event: Mapping[str, Any], context: LambdaContext, deps: OperatorDeps, product_runs: ProductRunRepository
) -> dict[str, Any]:
    """Answer one API Gateway (HTTP API, payload 2.0) request with these dependencies (the routes read them from
    the request's context); oversized bodies are refused before parsing."""
    started = time.perf_counter()
    refusal = _refusal_before_routing(event)
    if refusal is not None:
        answer = {
            "statusCode": refusal.status_code,
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": refusal.body,
            "isBase64Encoded": False,
        }
    else:
        app.append_context(deps=deps, product_runs=product_runs)  # Powertools clears it after the request
        answer = app.resolve(event, context)
    http = event.get("requestContext", {}).get("http", {})
    # Method, path and status only: query strings and bodies may carry credentials.
    logger.info(
        "operator request",
        extra={
            "method": http.get("method"),
            "path": http.get("path"),
            "status": answer.get("statusCode"),
            "ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    return answer


def _refusal_before_routing(event: Mapping[str, Any]) -> Response[str] | None:
    """Oversized bodies (before any parsing); bodies that are not UTF-8 (Powertools would fail decoding them) or are
    JSON but not an object (Powertools' validation would take the first element of a list as the body)."""
    body = _body(event)
    if len(body) > MAX_BODY_BYTES:
        return error_response(413, "body_too_large", f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return error_response(422, "invalid_request", "body: the body is not UTF-8 JSON", "body")
    try:
        parsed = json.loads(text) if text.strip() else {}
    except ValueError:
        return None  # the route's validation says it is not JSON, when the route takes a body
    if not isinstance(parsed, dict):
        return error_response(422, "invalid_request", "body: the body must be a JSON object", "body")
    return None


def _body(event: Mapping[str, Any]) -> bytes:
    body = event.get("body") or ""
    if not event.get("isBase64Encoded"):
        return str(body).encode()
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        return str(body).encode()


def _as_caller_named(error: Mapping[str, Any]) -> dict[str, Any]:
    """The error with its field as the caller named it: ("body", "settings", "x") -> ("settings", "x")."""
    if error["type"] == "json_invalid":
        return dict(error) | {"loc": ("body",), "msg": "the body is not valid JSON"}
    location = tuple(error["loc"])
    # An unknown field's error sits on the model that has it (errors.describe adds the field's name): for the
    # body itself that is ("body",), which the caller did not name either.
    on_a_field = len(location) > 1 or error["type"] == "unknown_field"
    if on_a_field and location and location[0] in ("body", "query", "path", "header"):
        location = location[1:]
    return dict(error) | {"loc": location}
