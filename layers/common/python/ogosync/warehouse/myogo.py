"""myOGO v1 API client (reference myogo-api.md §1.1, §2, §3, §7).

OAuth2 password flow: merchant ID + secret token, with the application's client id and secret. Tokens live 1.5 h;
they are cached in memory per warehouse account (never written anywhere) and renewed a minute early; a 401 from the
API is answered once by logging in again. Uncertain in the reference, coded defensively:
- how a duplicate order reference is refused in v1 (the legacy API said "order with same reference"): any refusal
  that mentions the reference existing is taken as "already exists", and the caller then looks it up;
- enum casing in answers: statuses are compared in lower case.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx

from ogosync.errors import AlreadyExistsError, AuthenticationError, PlatformError, RejectedByPlatformError
from ogosync.http import HttpClient, RetryPolicy
from ogosync.models import WarehouseOrder, WarehouseOrderState
from ogosync.timeutil import Clock, utc_now

PLATFORM = "myogo"
SCOPES = "read:order write:order read:product write:product"
_EXISTS_MARKERS = ("same reference", "already exist")


@dataclass(frozen=True)
class MyOgoAccount:
    base_url: str
    token_url: str
    merchant_id: str
    secret_token: str
    client_id: str
    client_secret: str


@dataclass
class _Token:
    value: str
    expires_at: datetime


_tokens: dict[tuple[str, str, str], _Token] = {}
_tokens_lock = threading.Lock()


def _error_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error_description") or body.get("error") or body)[:300]
    return str(body)[:300]


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=utc_now().tzinfo)


def parse_order_state(raw: dict[str, Any]) -> WarehouseOrderState:
    return WarehouseOrderState(
        id=raw.get("id"),
        reference=str(raw.get("reference") or ""),
        status=str(raw.get("status") or "unknown"),
        tracking_number=raw.get("trackingNumber") or None,
        tracking_url=raw.get("trackingUrl") or None,
        edited_at=_parse_time(raw.get("editTime")),
    )


class MyOgoWarehouse:
    """One merchant account in myOGO."""

    def __init__(
        self,
        account: MyOgoAccount,
        *,
        clock: Clock = utc_now,
        http: HttpClient | None = None,
        token_http: HttpClient | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._account = account
        self._clock = clock
        self._http = http or HttpClient(
            PLATFORM,
            account.base_url,
            headers={"Accept": "application/json"},
            error_message=_error_message,
            retry=retry,
        )
        self._token_http = token_http or HttpClient(
            PLATFORM, account.token_url, error_message=_error_message, retry=retry
        )
        self._token_key = (account.token_url, account.client_id, account.merchant_id)
        self._known_codes: set[str] = set()

    def close(self) -> None:
        self._http.close()
        self._token_http.close()

    def check_access(self) -> None:
        """Log in afresh (a cached token would hide wrong credentials) and make one cheap read."""
        self._forget_token()
        self._call("GET", "api/v1/Orders", params={"limit": 1, "page": 1})

    # ---- orders ---------------------------------------------------------------------------------

    def find_order(self, reference: str) -> WarehouseOrderState | None:
        found = self._call("GET", "api/v1/Orders", params={"reference": reference, "limit": 50, "page": 1}).json()
        matches = [raw for raw in found or [] if str(raw.get("reference")) == reference]
        return parse_order_state(matches[0]) if matches else None

    def create_order(self, order: WarehouseOrder) -> WarehouseOrderState:
        try:
            response = self._call("POST", "api/v1/Orders", json=order.to_wire())
        except RejectedByPlatformError as exc:
            if any(marker in exc.detail.lower() for marker in _EXISTS_MARKERS):
                raise AlreadyExistsError(PLATFORM, exc.detail, exc.status) from exc
            raise
        return parse_order_state(response.json())

    # ---- products -------------------------------------------------------------------------------

    def unknown_product_codes(self, codes: Iterable[str]) -> set[str]:
        unknown = set()
        for code in set(codes) - self._known_codes:
            found = self._call("GET", "api/v1/Products", params={"code": code, "limit": 50, "page": 1}).json()
            if any(str(raw.get("code")) == code for raw in found or []):
                self._known_codes.add(code)
            else:
                unknown.add(code)
        return unknown

    # ---- plumbing -------------------------------------------------------------------------------

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = self._auth_header()  # outside the try: a refused login is final, not a reason to log in again
        try:
            return self._http.request(method, path, headers=headers, **kwargs)
        except AuthenticationError:
            self._forget_token()
            return self._http.request(method, path, headers=self._auth_header(), **kwargs)

    def _auth_header(self) -> dict[str, str]:
        with _tokens_lock:
            token = _tokens.get(self._token_key)
            if token is None or token.expires_at <= self._clock():
                token = self._login()
                _tokens[self._token_key] = token
        return {"Authorization": f"Bearer {token.value}"}

    def _forget_token(self) -> None:
        with _tokens_lock:
            _tokens.pop(self._token_key, None)

    def _login(self) -> _Token:
        account = self._account
        form = {
            "grant_type": "password",
            "client_id": account.client_id,
            "client_secret": account.client_secret,
            "username": account.merchant_id,
            "password": account.secret_token,
            "scope": SCOPES,
        }
        try:
            response = self._token_http.request("POST", "", data=form, idempotent=True)
        except RejectedByPlatformError as exc:  # OAuth answers 400 invalid_grant for wrong credentials
            raise AuthenticationError(
                PLATFORM, f"login refused for merchant {account.merchant_id}: {exc.detail}", exc.status
            ) from exc
        body = response.json()
        if not isinstance(body, dict) or not body.get("access_token"):
            raise PlatformError(PLATFORM, "token answer has no access_token")
        lifetime = int(body.get("expires_in") or 3600)
        return _Token(value=str(body["access_token"]), expires_at=self._clock() + timedelta(seconds=lifetime - 60))
