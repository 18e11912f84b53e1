"""A small browser for the console's handler in tests: keeps the session cookie, reads the CSRF token of a page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from ogosync_local.lambdas import api_gateway_event

Handle = Callable[[dict[str, Any]], dict[str, Any]]
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class ConsoleClient:
    def __init__(self, handle: Handle) -> None:
        self._handle = handle
        self.cookie: str | None = None

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> dict[str, Any]:
        path, _, query = path.partition("?")
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = b""
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(form).encode()
        event = api_gateway_event(method, path, "ANY /{proxy+}", {"proxy": path.lstrip("/")}, headers, body, query)
        answer = self._handle(event)
        set_cookie = answer["headers"].get("Set-Cookie")
        if set_cookie:
            self.cookie = set_cookie.split(";", 1)[0]
        return answer

    def get(self, path: str) -> dict[str, Any]:
        return self.request("GET", path)

    def csrf(self) -> str:
        found = _CSRF.search(self.get("/sign-in")["body"]) or _CSRF.search(self.get("/")["body"])
        assert found is not None
        return found.group(1)

    def post(self, path: str, form: dict[str, str] | None = None, *, token: bool = True) -> dict[str, Any]:
        values = dict(form or {})
        if token:
            values["csrf"] = self.csrf()
        return self.request("POST", path, values)

    def sign_in(self, username: str, password: str) -> dict[str, Any]:
        return self.post("/sign-in", {"username": username, "password": password})
