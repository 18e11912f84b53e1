"""Requests and answers of the console as API Gateway (HTTP API, payload 2.0) carries them; the security headers
every answer gets."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

# No inline script or style, no framing, forms post only to the console itself.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
MAX_FORM_BYTES = 16 * 1024


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] = field(default_factory=dict)
    form_lists: dict[str, list[str]] = field(default_factory=dict)  # every value of a field sent more than once
    cookies: dict[str, str] = field(default_factory=dict)


@dataclass
class Answer:
    status: int
    body: str = ""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    def to_event(self) -> dict[str, Any]:
        headers = {"Content-Type": self.content_type, **SECURITY_HEADERS, **self.headers}
        return {"statusCode": self.status, "headers": headers, "body": self.body, "isBase64Encoded": False}


def redirect(location: str) -> Answer:
    return Answer(303, headers={"Location": location})


def parse(event: Mapping[str, Any]) -> Request:
    """The request of an API Gateway event; a form over MAX_FORM_BYTES or not UTF-8 is read as empty (refused by the
    CSRF check, as it then carries no token)."""
    http = event.get("requestContext", {}).get("http", {})
    headers = {str(key).lower(): str(value) for key, value in (event.get("headers") or {}).items()}
    is_form = headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
    form = _form(event) if is_form else {}
    return Request(
        method=str(http.get("method", "GET")).upper(),
        path=str(event.get("rawPath") or http.get("path") or "/"),
        query=_single(parse_qs(str(event.get("rawQueryString") or ""))),
        form=_single(form),
        form_lists=form,
        cookies=_cookies(event, headers),
    )


def _form(event: Mapping[str, Any]) -> dict[str, list[str]]:
    raw = event.get("body") or ""
    try:
        body = base64.b64decode(raw, validate=True) if event.get("isBase64Encoded") else str(raw).encode()
        text = body.decode("utf-8")
    except (binascii.Error, ValueError):
        return {}
    if len(body) > MAX_FORM_BYTES:
        return {}
    return parse_qs(text, keep_blank_values=True)


def _cookies(event: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, str]:
    """Payload 2.0 moves the Cookie header into `cookies`; a loopback gateway may leave it in the headers."""
    pairs = list(event.get("cookies") or []) + headers.get("cookie", "").split(";")
    cookies: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = str(pair).strip().partition("=")
        if sep and name not in cookies:
            cookies[name] = value
    return cookies


def _single(values: Mapping[str, list[str]]) -> dict[str, str]:
    return {key: found[0] for key, found in values.items() if found}
