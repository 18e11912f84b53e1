"""One HTTP client for every external call: timeouts, bounded retries with backoff, 429 Retry-After, safe logging.

Requests that are not idempotent (POST, and anything the caller marks so) are retried only when the request can
not have reached the server (connection refused, connect timeout) or was refused unprocessed (429). For any other
failure the outcome is unknown, and the caller must find out before sending again (see sync/orders.py).

A call may carry a deadline (sync/orders.py and sync/tracking.py give the external calls made under a claim the
end of the claim's lease minus a margin): no attempt starts at or after it, each attempt's timeouts are cut to the
time left, and a wait (Retry-After, backoff) that would not leave time for the next attempt is not taken: the call
fails at once with TransientPlatformError instead. httpx times each phase of a request apart (connect, write, each
read), so an attempt started just before the deadline can end after it by at most its own cut timeouts; the
caller's margin covers that.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from aws_lambda_powertools import Logger

from ogosync.errors import (
    AuthenticationError,
    NotFoundError,
    PlatformError,
    RejectedByPlatformError,
    TransientPlatformError,
)
from ogosync.ratelimit import CallBudget
from ogosync.timeutil import Clock, utc_now

logger = Logger(service="ogosync", child=True)
# httpx logs full URLs (query strings included) at INFO and httpcore headers at DEBUG: our own log line replaces them.
for _library in ("httpx", "httpcore"):
    logging.getLogger(_library).setLevel(logging.WARNING)

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
ErrorMessage = Callable[[httpx.Response], str]
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 4
    base_delay_s: float = 0.25
    max_delay_s: float = 8.0
    max_retry_after_s: float = 30.0  # a longer Retry-After fails the call now; the job is retried later

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential backoff for the given retry number (1 = first retry)."""
        return random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1)))  # noqa: S311


@dataclass
class RateLimiter:
    """A token bucket shared by the calls to one store, so a burst does not trip the platform's own limits.

    A CallBudget of one container only: for a limit that holds across containers, see ogosync.ratelimit."""

    rate_per_s: float
    burst: int
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    _tokens: float = field(init=False)
    _updated: float = field(init=False)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._tokens = float(self.burst)
        self._updated = self.clock()

    def acquire(self) -> None:
        with self._lock:
            now = self.clock()
            self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate_per_s)
            self._updated = now
            wait = 0.0 if self._tokens >= 1 else (1 - self._tokens) / self.rate_per_s
            self._tokens -= 1
        if wait:
            self.sleep(wait)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Parse Retry-After: delta seconds, an HTTP date, or (Centra's docs) a Unix timestamp."""
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, (when - now).total_seconds())
    if number > 1_000_000_000:  # a Unix timestamp, not a delay
        return max(0.0, number - now.timestamp())
    return max(0.0, number)


def _transport_failure(method: str, path: str, exc: httpx.TransportError) -> str:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout):
        return f"cannot connect ({type(exc).__name__})"
    if isinstance(exc, httpx.TimeoutException):
        return f"{method} {path} timed out"
    return f"{method} {path} failed: {type(exc).__name__}"


def _at_most(timeout: float | None, limit: float) -> float:
    return limit if timeout is None else min(timeout, limit)


def _default_error_message(response: httpx.Response) -> str:
    return response.text[:300] or response.reason_phrase


class HttpClient:
    """An httpx.Client bound to one platform and base URL, with our retry and error rules."""

    def __init__(
        self,
        platform: str,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        rate_limiter: CallBudget | None = None,
        error_message: ErrorMessage = _default_error_message,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.platform = platform
        self._base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self._base_url + "/", headers=dict(headers or {}), timeout=timeout, transport=transport
        )
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._retry = retry or RetryPolicy()
        self._clock = clock
        self._limiter = rate_limiter
        self._error_message = error_message
        self._sleep = sleep

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        ok_statuses: frozenset[int] = frozenset(),
        deadline: datetime | None = None,
    ) -> httpx.Response:
        """Send with retries. Returns a 2xx response (or one in `ok_statuses`); raises our PlatformError otherwise.

        With a `deadline`, nothing is sent or waited for past it (see the module docstring)."""
        safe_to_repeat = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
        url = path.lstrip("/") or self._base_url  # an empty path is the base URL itself, with no slash added
        for attempt in range(1, self._retry.attempts + 1):
            last = attempt == self._retry.attempts
            if self._limiter:
                self._limiter.acquire()
            timeout = self._timeout_before(deadline, method, path)
            started = time.perf_counter()
            try:
                response = self._client.request(
                    method, url, params=params, json=json, content=content, data=data, headers=headers, timeout=timeout
                )
            except httpx.TransportError as exc:
                self._log(method, path, None, started, attempt, type(exc).__name__)
                never_sent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)  # so always safe to repeat
                backoff = self._retry.backoff(attempt)
                if last or not (never_sent or safe_to_repeat) or not self._fits(backoff, deadline):
                    raise TransientPlatformError(self.platform, _transport_failure(method, path, exc)) from exc
                self._sleep(backoff)
                continue
            self._log(method, path, response.status_code, started, attempt, None)
            if response.is_success or response.status_code in ok_statuses:
                return response
            delay = self._retry_delay(response, attempt, safe_to_repeat)
            if delay is None or last or not self._fits(delay, deadline):
                raise self._error(response)
            self._sleep(delay)
        raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover

    def _seconds_left(self, deadline: datetime | None) -> float | None:
        return None if deadline is None else (deadline - self._clock()).total_seconds()

    def _timeout_before(self, deadline: datetime | None, method: str, path: str) -> httpx.Timeout:
        """The attempt's timeouts, each cut to the time left; TransientPlatformError (nothing sent) when none is."""
        left = self._seconds_left(deadline)
        if left is None:
            return self._timeout
        if left <= 0:
            raise TransientPlatformError(self.platform, f"{method} {path} not sent: its deadline has passed")
        configured = self._timeout
        return httpx.Timeout(
            connect=_at_most(configured.connect, left),
            read=_at_most(configured.read, left),
            write=_at_most(configured.write, left),
            pool=_at_most(configured.pool, left),
        )

    def _fits(self, wait: float, deadline: datetime | None) -> bool:
        """Whether waiting `wait` seconds still leaves time before the deadline for another attempt."""
        left = self._seconds_left(deadline)
        return left is None or wait < left

    def _retry_delay(self, response: httpx.Response, attempt: int, safe_to_repeat: bool) -> float | None:
        """How long to wait before retrying this response, or None when it must not be retried."""
        status = response.status_code
        if status == 429:  # refused before processing: safe to repeat whatever the method
            wait = retry_after_seconds(response.headers.get("Retry-After"), self._clock())
            wait = self._retry.backoff(attempt) if wait is None else wait
            return wait if wait <= self._retry.max_retry_after_s else None
        if status in RETRYABLE_STATUSES and safe_to_repeat:
            return self._retry.backoff(attempt)
        return None

    def _error(self, response: httpx.Response) -> PlatformError:
        status = response.status_code
        message = self._error_message(response)
        if status in RETRYABLE_STATUSES:
            return TransientPlatformError(self.platform, message, status)
        if status in (401, 403):
            return AuthenticationError(self.platform, message, status)
        if status == 404:
            return NotFoundError(self.platform, message, status)
        return RejectedByPlatformError(self.platform, message, status)

    def _log(
        self, method: str, path: str, status: int | None, started: float, attempt: int, failure: str | None
    ) -> None:
        # Only method, path (no query string, no headers, no body): nothing secret can reach the log.
        log = logger.warning if failure or (status is not None and status >= 400) else logger.debug
        log(
            "http call",
            extra={
                "platform": self.platform,
                "method": method,
                "path": path.split("?", 1)[0],
                "status": status,
                "failure": failure,
                "attempt": attempt,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
