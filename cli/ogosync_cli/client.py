"""The operator API over HTTP: locally plain, against a deployed stack signed with AWS SigV4."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Generator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

TIMEOUT_S = 35.0  # API Gateway gives up after 30 s


class ApiError(Exception):
    """An error answer of the operator API (its one error shape), or no answer at all (status 0)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "code": self.code, "message": self.message, "field": self.field}


class SigV4(httpx.Auth):
    """Signs each request for API Gateway (service execute-api) with the caller's AWS credentials."""

    requires_request_body = True

    def __init__(self, credentials: ReadOnlyCredentials, region: str) -> None:
        self._credentials = credentials
        self._region = region

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        signed = AWSRequest(
            method=request.method,
            url=str(request.url),
            data=request.content,
            headers={"Content-Type": request.headers.get("Content-Type", "application/json")},
        )
        SigV4Auth(self._credentials, "execute-api", self._region).add_auth(signed)
        request.headers.update(dict(signed.headers.items()))
        yield request


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OperatorClient:
    def __init__(self, base_url: str, *, auth: httpx.Auth | None = None, transport: httpx.BaseTransport | None = None):
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, auth=auth, timeout=TIMEOUT_S, transport=transport)

    def call(
        self, method: str, path: str, *, body: Mapping[str, Any] | None = None, params: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            response = self._http.request(method, path, json=body, params=params)
        except httpx.HTTPError as exc:
            raise ApiError(0, "unreachable", f"cannot reach the operator API at {self.base_url}: {exc}") from exc
        if response.status_code == 204:
            return None
        try:
            payload = response.json()
        except json.JSONDecodeError:
            payload = None
        if response.is_success:
            return payload
        if isinstance(payload, dict) and {"code", "message"} <= payload.keys():
            raise ApiError(response.status_code, payload["code"], payload["message"], payload.get("field"))
        # API Gateway's own refusals ({"message": "Forbidden"} for a bad signature) have no code word.
        message = payload.get("message") if isinstance(payload, dict) else response.text[:200]
        raise ApiError(response.status_code, "http_error", str(message or response.reason_phrase))

    def close(self) -> None:
        self._http.close()
