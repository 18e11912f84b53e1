"""HttpClient: which failures are retried, how long it waits, how errors are mapped, what it logs."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from ogosync import http as http_module
from ogosync.errors import (
    AuthenticationError,
    NotFoundError,
    PlatformError,
    RejectedByPlatformError,
    TransientPlatformError,
)
from ogosync.http import HttpClient, RateLimiter, RetryPolicy, retry_after_seconds

BASE = "http://centra.test/api/ogosync"
POLICY = RetryPolicy(attempts=4, base_delay_s=0.25, max_delay_s=8.0, max_retry_after_s=30.0)


@pytest.fixture
def delays() -> list[float]:
    return []


@pytest.fixture
def client(delays: list[float]) -> Iterator[HttpClient]:
    http = HttpClient("centra", BASE, retry=POLICY, sleep=delays.append)
    yield http
    http.close()


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as router:
        yield router


def _backoff_bound(retry_number: int) -> float:
    return float(min(POLICY.max_delay_s, POLICY.base_delay_s * 2 ** (retry_number - 1)))


# ---- retries --------------------------------------------------------------------------------------


def test_get_is_retried_on_503_then_succeeds(client: HttpClient, api: respx.MockRouter, delays: list[float]) -> None:
    route = api.get("/orders").mock(
        side_effect=[httpx.Response(503), httpx.Response(503), httpx.Response(200, json={"status": "ok"})]
    )

    response = client.request("GET", "orders")

    assert response.json() == {"status": "ok"}
    assert route.call_count == 3
    assert len(delays) == 2
    for retry_number, delay in enumerate(delays, start=1):
        assert 0 <= delay <= _backoff_bound(retry_number)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD"])
def test_idempotent_methods_are_retried_on_5xx(
    client: HttpClient, api: respx.MockRouter, delays: list[float], method: str
) -> None:
    route = api.route(method=method, path="/thing").mock(
        side_effect=[httpx.Response(500), httpx.Response(502), httpx.Response(504), httpx.Response(200)]
    )

    assert client.request(method, "thing").status_code == 200
    assert route.call_count == 4
    assert len(delays) == 3


def test_get_is_retried_on_read_timeout(client: HttpClient, api: respx.MockRouter, delays: list[float]) -> None:
    route = api.get("/orders").mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200, json=[])])

    assert client.request("GET", "orders").json() == []
    assert route.call_count == 2
    assert len(delays) == 1


def test_post_is_not_retried_on_503(client: HttpClient, api: respx.MockRouter, delays: list[float]) -> None:
    route = api.post("/shipments").mock(side_effect=[httpx.Response(503), httpx.Response(200)])

    with pytest.raises(TransientPlatformError) as caught:
        client.request("POST", "shipments", json={"order": "1"})

    assert route.call_count == 1
    assert delays == []
    assert caught.value.status == 503


def test_post_is_not_retried_on_read_timeout(client: HttpClient, api: respx.MockRouter, delays: list[float]) -> None:
    route = api.post("/shipments").mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200)])

    with pytest.raises(TransientPlatformError) as caught:
        client.request("POST", "shipments", json={"order": "1"})

    assert route.call_count == 1
    assert delays == []
    assert "timed out" in str(caught.value)
    assert caught.value.platform == "centra"


def test_post_is_not_retried_on_other_transport_errors(
    client: HttpClient, api: respx.MockRouter, delays: list[float]
) -> None:
    route = api.post("/shipments").mock(side_effect=[httpx.RemoteProtocolError("reset"), httpx.Response(200)])

    with pytest.raises(TransientPlatformError):
        client.request("POST", "shipments", json={})

    assert route.call_count == 1
    assert delays == []


def test_post_marked_idempotent_is_retried_on_503(
    client: HttpClient, api: respx.MockRouter, delays: list[float]
) -> None:
    route = api.post("/token").mock(side_effect=[httpx.Response(503), httpx.Response(200, json={})])

    client.request("POST", "token", data={"a": "b"}, idempotent=True)

    assert route.call_count == 2
    assert len(delays) == 1


def test_get_marked_not_idempotent_is_not_retried(client: HttpClient, api: respx.MockRouter) -> None:
    route = api.get("/orders").mock(side_effect=[httpx.Response(503), httpx.Response(200)])

    with pytest.raises(TransientPlatformError):
        client.request("GET", "orders", idempotent=False)

    assert route.call_count == 1


@pytest.mark.parametrize("failure", [httpx.ConnectError("refused"), httpx.ConnectTimeout("no answer")])
def test_post_is_retried_on_connect_errors(
    client: HttpClient, api: respx.MockRouter, delays: list[float], failure: Exception
) -> None:
    route = api.post("/shipments").mock(side_effect=[failure, httpx.Response(200, json={"status": "ok"})])

    response = client.request("POST", "shipments", json={"order": "1"})

    assert response.json() == {"status": "ok"}
    assert route.call_count == 2
    assert len(delays) == 1
    assert 0 <= delays[0] <= _backoff_bound(1)


def test_post_is_retried_on_429(client: HttpClient, api: respx.MockRouter, delays: list[float]) -> None:
    route = api.post("/stock").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(200, json={"status": "ok"})]
    )

    client.request("POST", "stock", json={"products": []})

    assert route.call_count == 2
    assert delays == [1.0]


def test_429_with_retry_after_seconds_sleeps_that_long(
    client: HttpClient, api: respx.MockRouter, delays: list[float]
) -> None:
    route = api.get("/orders").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json={})]
    )

    client.request("GET", "orders")

    assert route.call_count == 2
    assert delays == [2.0]


def test_429_with_http_date_retry_after(client: HttpClient, api: respx.MockRouter, delays: list[float]) -> None:
    when = datetime.now(UTC) + timedelta(seconds=10)
    route = api.get("/orders").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": format_datetime(when, usegmt=True)}),
            httpx.Response(200, json={}),
        ]
    )

    client.request("GET", "orders")

    assert route.call_count == 2
    assert len(delays) == 1
    assert 8.0 <= delays[0] <= 10.0  # the header has whole seconds; the test itself takes a moment


def test_429_with_unix_timestamp_retry_after(client: HttpClient, api: respx.MockRouter, delays: list[float]) -> None:
    route = api.get("/orders").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": str(int(time.time()) + 10)}),
            httpx.Response(200, json={}),
        ]
    )

    client.request("GET", "orders")

    assert route.call_count == 2
    assert len(delays) == 1
    assert 8.0 <= delays[0] <= 10.0


def test_429_without_usable_retry_after_uses_backoff(
    client: HttpClient, api: respx.MockRouter, delays: list[float]
) -> None:
    route = api.get("/orders").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "soon"}), httpx.Response(429), httpx.Response(200)]
    )

    client.request("GET", "orders")

    assert route.call_count == 3
    assert len(delays) == 2
    assert all(0 <= d <= _backoff_bound(n) for n, d in enumerate(delays, start=1))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_retry_after_above_the_cap_fails_at_once(
    client: HttpClient, api: respx.MockRouter, delays: list[float], method: str
) -> None:
    route = api.route(method=method, path="/orders").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "120"}), httpx.Response(200)]
    )

    with pytest.raises(TransientPlatformError) as caught:
        client.request(method, "orders")

    assert route.call_count == 1
    assert delays == []
    assert caught.value.status == 429


def test_retry_after_at_the_cap_is_honoured(client: HttpClient, api: respx.MockRouter, delays: list[float]) -> None:
    api.get("/orders").mock(side_effect=[httpx.Response(429, headers={"Retry-After": "30"}), httpx.Response(200)])

    client.request("GET", "orders")

    assert delays == [30.0]


def test_attempts_are_bounded_for_5xx(api: respx.MockRouter, delays: list[float]) -> None:
    route = api.get("/orders").mock(return_value=httpx.Response(503, text="maintenance"))
    http = HttpClient("centra", BASE, retry=RetryPolicy(attempts=3), sleep=delays.append)

    with pytest.raises(TransientPlatformError) as caught:
        http.request("GET", "orders")

    assert route.call_count == 3
    assert len(delays) == 2
    assert caught.value.status == 503
    assert "maintenance" in str(caught.value)


def test_attempts_are_bounded_for_429(api: respx.MockRouter, delays: list[float]) -> None:
    route = api.post("/stock").mock(return_value=httpx.Response(429, headers={"Retry-After": "1"}))
    http = HttpClient("centra", BASE, retry=RetryPolicy(attempts=3), sleep=delays.append)

    with pytest.raises(TransientPlatformError) as caught:
        http.request("POST", "stock", json={})

    assert route.call_count == 3
    assert delays == [1.0, 1.0]
    assert caught.value.status == 429


def test_attempts_are_bounded_for_connect_errors(api: respx.MockRouter, delays: list[float]) -> None:
    route = api.post("/stock").mock(side_effect=httpx.ConnectError("refused"))
    http = HttpClient("centra", BASE, retry=RetryPolicy(attempts=2), sleep=delays.append)

    with pytest.raises(TransientPlatformError) as caught:
        http.request("POST", "stock", json={})

    assert route.call_count == 2
    assert len(delays) == 1
    assert "cannot connect" in str(caught.value)
    assert caught.value.status is None


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=4.0)
    for retry_number, bound in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 4.0), (10, 4.0)]:
        for _ in range(50):
            assert 0 <= policy.backoff(retry_number) <= bound


# ---- Retry-After parsing --------------------------------------------------------------------------

NOW = datetime(2026, 3, 2, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", 2.0),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("Mon, 02 Mar 2026 12:00:07 GMT", 7.0),
        ("Mon, 02 Mar 2026 11:59:00 GMT", 0.0),  # in the past: go now
        (str(int(NOW.timestamp()) + 5), 5.0),
        (str(int(NOW.timestamp()) - 5), 0.0),
        (None, None),
        ("", None),
        ("later", None),
    ],
)
def test_retry_after_seconds(value: str | None, expected: float | None) -> None:
    assert retry_after_seconds(value, NOW) == expected


# ---- error mapping --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, RejectedByPlatformError),
        (401, AuthenticationError),
        (403, AuthenticationError),
        (404, NotFoundError),
        (409, RejectedByPlatformError),
        (422, RejectedByPlatformError),
        (429, TransientPlatformError),
        (500, TransientPlatformError),
        (502, TransientPlatformError),
        (503, TransientPlatformError),
        (504, TransientPlatformError),
    ],
)
def test_status_maps_to_error_naming_the_platform(
    api: respx.MockRouter, status: int, error_type: type[PlatformError]
) -> None:
    api.get("/orders").mock(return_value=httpx.Response(status, text="went wrong"))
    http = HttpClient("centra", BASE, retry=RetryPolicy(attempts=1), sleep=lambda _: None)

    with pytest.raises(PlatformError) as caught:
        http.request("GET", "orders")

    assert type(caught.value) is error_type
    assert caught.value.platform == "centra"
    assert caught.value.status == status
    assert str(caught.value).startswith(f"centra HTTP {status}: ")
    assert "went wrong" in str(caught.value)


def test_4xx_other_than_429_is_never_retried(client: HttpClient, api: respx.MockRouter, delays: list[float]) -> None:
    route = api.get("/orders").mock(return_value=httpx.Response(400))

    with pytest.raises(RejectedByPlatformError):
        client.request("GET", "orders")

    assert route.call_count == 1
    assert delays == []


def test_custom_error_message_is_used(api: respx.MockRouter) -> None:
    api.get("/orders").mock(return_value=httpx.Response(422, json={"msg": "bad thing"}))
    http = HttpClient("myogo", BASE, error_message=lambda r: r.json()["msg"], sleep=lambda _: None)

    with pytest.raises(RejectedByPlatformError, match=r"^myogo HTTP 422: bad thing$"):
        http.request("GET", "orders")


def test_ok_statuses_are_returned_not_raised(client: HttpClient, api: respx.MockRouter) -> None:
    api.get("/orders").mock(return_value=httpx.Response(404))

    assert client.request("GET", "orders", ok_statuses=frozenset({404})).status_code == 404


def test_paths_are_relative_to_the_base_url(client: HttpClient, api: respx.MockRouter) -> None:
    route = api.get("/orders").mock(return_value=httpx.Response(200))

    client.request("GET", "/orders")

    assert str(route.calls.last.request.url) == f"{BASE}/orders"


def test_an_empty_path_is_the_base_url_itself_without_a_trailing_slash() -> None:
    # An OAuth token endpoint is configured as a full URL; ".../OAuth/Token/" is another path to a strict server.
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        exact = router.post("http://myogo.test/OAuth/Token").mock(return_value=httpx.Response(200, json={}))
        http = HttpClient("myogo", "http://myogo.test/OAuth/Token/", sleep=lambda _: None)

        http.request("POST", "", data={"grant_type": "password"})

    assert exact.call_count == 1
    assert str(exact.calls.last.request.url) == "http://myogo.test/OAuth/Token"


def test_transport_error_names_the_platform(api: respx.MockRouter) -> None:
    api.get("/orders").mock(side_effect=httpx.ReadTimeout("slow"))
    http = HttpClient("myogo", BASE, retry=RetryPolicy(attempts=2), sleep=lambda _: None)

    with pytest.raises(TransientPlatformError, match=r"^myogo: GET orders timed out$"):
        http.request("GET", "orders")


# ---- logging --------------------------------------------------------------------------------------

SECRET = "s3cr3t-api-key-DO-NOT-LOG"
QUERY_SECRET = "q-value-DO-NOT-LOG"


def _rendered(records: list[logging.LogRecord]) -> list[str]:
    """Each record as the JSON line Powertools would write, plus its raw attributes (extras included)."""
    formatter = LambdaPowertoolsFormatter()
    return [formatter.format(record) + " " + repr(vars(record)) for record in records]


def test_logs_carry_method_and_path_but_no_secret_header_or_query(
    api: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    api.get("/orders").mock(side_effect=[httpx.Response(503), httpx.Response(200, json={})])
    api.post("/shipments").mock(side_effect=[httpx.ConnectError("refused"), httpx.Response(401, text="no")])
    http = HttpClient(
        "centra",
        BASE,
        headers={"API-Authorization": SECRET, "Authorization": f"Bearer {SECRET}"},
        sleep=lambda _: None,
    )
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger=http_module.logger.name)

    http.request("GET", f"orders?token={QUERY_SECRET}", params={"newer_than": QUERY_SECRET})
    with pytest.raises(AuthenticationError):
        http.request("POST", "shipments", json={"order": "1"}, headers={"Authorization": f"Bearer {SECRET}"})

    ours = [r for r in caplog.records if r.name.startswith("ogosync")]
    assert len(ours) == 4  # two attempts of each call
    assert {(r.method, r.path, r.status) for r in ours} == {  # type: ignore[attr-defined]
        ("GET", "orders", 503),
        ("GET", "orders", 200),
        ("POST", "shipments", None),
        ("POST", "shipments", 401),
    }
    for line in _rendered(ours):
        assert SECRET not in line
        assert QUERY_SECRET not in line
        assert "?" not in line.split('"path":', 1)[1].split(",", 1)[0]
        assert '"path":"orders"' in line or '"path":"shipments"' in line
    for line in _rendered(caplog.records):  # no logger at all (httpx included) may see the header value
        assert SECRET not in line


def test_failures_log_at_warning(api: respx.MockRouter, caplog: pytest.LogCaptureFixture) -> None:
    api.get("/orders").mock(return_value=httpx.Response(404))
    http = HttpClient("centra", BASE, sleep=lambda _: None)
    caplog.set_level(logging.DEBUG, logger=http_module.logger.name)

    with pytest.raises(NotFoundError):
        http.request("GET", "orders")

    warnings = [r for r in caplog.records if r.name.startswith("ogosync") and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].platform == "centra"  # type: ignore[attr-defined]
    assert warnings[0].status == 404  # type: ignore[attr-defined]


# ---- rate limiter ---------------------------------------------------------------------------------


class _FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limiter_allows_a_burst_then_paces() -> None:
    clock = _FakeClock()
    limiter = RateLimiter(rate_per_s=2.0, burst=3, clock=clock, sleep=clock.sleep)

    for _ in range(3):
        limiter.acquire()
    assert clock.slept == []

    limiter.acquire()
    limiter.acquire()
    assert clock.slept == pytest.approx([0.5, 0.5])


def test_rate_limiter_refills_over_time_up_to_burst() -> None:
    clock = _FakeClock()
    limiter = RateLimiter(rate_per_s=1.0, burst=2, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.acquire()

    clock.now += 60  # a long pause refills only up to the burst
    limiter.acquire()
    limiter.acquire()
    assert clock.slept == []
    limiter.acquire()
    assert clock.slept == pytest.approx([1.0])


def test_client_acquires_the_limiter_for_every_attempt(api: respx.MockRouter) -> None:
    clock = _FakeClock()
    limiter = RateLimiter(rate_per_s=1.0, burst=1, clock=clock, sleep=clock.sleep)
    api.get("/orders").mock(side_effect=[httpx.Response(503), httpx.Response(200)])
    http = HttpClient("centra", BASE, rate_limiter=limiter, sleep=lambda _: None)

    http.request("GET", "orders")

    assert clock.slept == pytest.approx([1.0])


# ---- a deadline (the order claim's lease, see sync/orders.py) ----------------------------------------


class _SteppingClock:
    """A fake clock that each call of the server and each sleep moves on."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def _deadline_client(clock: _SteppingClock, sleeps: list[float]) -> HttpClient:
    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        clock.advance(seconds)

    return HttpClient("myogo", BASE, retry=POLICY, sleep=sleep, clock=clock, timeout=httpx.Timeout(10.0, connect=5.0))


def test_a_retry_after_that_would_end_past_the_deadline_is_not_waited_for(api: respx.MockRouter) -> None:
    clock, sleeps = _SteppingClock(), []
    route = api.post("/orders").mock(return_value=httpx.Response(429, headers={"Retry-After": "30"}))

    with pytest.raises(TransientPlatformError) as caught:
        _deadline_client(clock, sleeps).request("POST", "orders", json={}, deadline=clock() + timedelta(seconds=45))

    assert caught.value.status == 429
    assert route.call_count == 2  # one Retry-After of 30 s fitted in 45 s, a second one did not
    assert sleeps == [30.0]


def test_nothing_is_sent_once_the_deadline_has_passed(api: respx.MockRouter) -> None:
    clock, sleeps = _SteppingClock(), []
    route = api.post("/orders").mock(return_value=httpx.Response(201, json={}))

    with pytest.raises(TransientPlatformError, match="deadline"):
        _deadline_client(clock, sleeps).request("POST", "orders", json={}, deadline=clock())

    assert route.call_count == 0 and sleeps == []


def test_each_attempts_timeouts_are_cut_to_the_time_left(api: respx.MockRouter) -> None:
    clock, sleeps = _SteppingClock(), []
    route = api.get("/orders").mock(return_value=httpx.Response(200, json=[]))

    _deadline_client(clock, sleeps).request("GET", "orders", deadline=clock() + timedelta(seconds=3))

    timeouts = route.calls.last.request.extensions["timeout"]
    assert timeouts == {"connect": 3.0, "read": 3.0, "write": 3.0, "pool": 3.0}


def test_without_a_deadline_the_clients_own_timeouts_hold(api: respx.MockRouter) -> None:
    clock, sleeps = _SteppingClock(), []
    route = api.get("/orders").mock(return_value=httpx.Response(200, json=[]))

    _deadline_client(clock, sleeps).request("GET", "orders")

    timeouts = route.calls.last.request.extensions["timeout"]
    assert timeouts == {"connect": 5.0, "read": 10.0, "write": 10.0, "pool": 10.0}
