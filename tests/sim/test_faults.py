"""The fault layer: unit behaviour of Faults, and every fault kind over HTTP."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from ogosync_local.sim import CentraSimulator, FaultConfig, FaultRule, Faults, MyOgoSimulator

from .conftest import CENTRA_KEY, token


def statuses(faults: Faults, count: int = 40) -> list[int | None]:
    return [faults.decide("GET", "/orders").status for _ in range(count)]


def test_random_faults_are_deterministic_with_a_seed() -> None:
    config = FaultConfig(error_rate=0.3, rate_limit_rate=0.3, seed=42)
    first, second = statuses(Faults(config)), statuses(Faults(config))
    assert first == second
    assert {429, None} <= set(first)
    assert set(first) <= {None, 429, 500, 503}
    assert statuses(Faults(FaultConfig(error_rate=0.3, rate_limit_rate=0.3, seed=7))) != first


def test_rule_fires_after_skip_for_times_requests() -> None:
    faults = Faults()
    rule = faults.add_rule(FaultRule("get", "/ORDERS", 502, times=2, skip=1))
    assert statuses(faults, 4) == [None, 502, 502, None]
    assert faults.decide("POST", "/orders").status is None
    assert (rule.seen, rule.fired) == (4, 2)


def test_rule_wins_over_random_faults_and_any_method_matches_star() -> None:
    faults = Faults(FaultConfig(error_rate=1.0, seed=1))
    faults.add_rule(FaultRule("*", "/stock", 418, body={"x": 1}))
    decision = faults.decide("PUT", "/stock")
    assert (decision.status, decision.body) == (418, {"x": 1})
    assert faults.decide("GET", "/stock").status in (500, 503)


def test_rate_limit_carries_retry_after_seconds(centra: CentraSimulator, centra_http: httpx.Client) -> None:
    centra.faults.configure(FaultConfig(rate_limit_rate=1.0, retry_after_s=2))
    response = centra_http.get("/orders")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "2"
    assert response.json()["status"] == "no"


def test_rate_limit_retry_after_as_http_date(centra: CentraSimulator, centra_http: httpx.Client) -> None:
    centra.faults.configure(FaultConfig(rate_limit_rate=1.0, retry_after_s=30, retry_after_format="http-date"))
    before = datetime.now(UTC).replace(microsecond=0)  # an HTTP date has whole seconds
    response = centra_http.get("/orders")
    after = datetime.now(UTC)
    retry_at = email.utils.parsedate_to_datetime(response.headers["Retry-After"])
    assert before + timedelta(seconds=30) <= retry_at <= after + timedelta(seconds=30)


def test_error_rate_answers_500_or_503(centra: CentraSimulator, centra_http: httpx.Client) -> None:
    centra.faults.configure(FaultConfig(error_rate=1.0, seed=3))
    codes = {centra_http.get("/orders").status_code for _ in range(12)}
    assert codes == {500, 503}
    assert centra.calls["GET /orders"] == 12


def test_timeout_really_exceeds_the_client_timeout(centra: CentraSimulator) -> None:
    centra.faults.configure(FaultConfig(timeout_rate=1.0, hang_s=0.5))
    with pytest.raises(httpx.ReadTimeout):  # gave up before the server answered
        httpx.get(centra.base_url + "/orders", headers={"API-Authorization": CENTRA_KEY}, timeout=0.2)
    assert centra.faults.injected["timeout"] == 1
    centra.faults.clear()
    assert httpx.get(centra.base_url + "/orders", headers={"API-Authorization": CENTRA_KEY}).status_code == 200


def test_latency_delays_every_answer(centra: CentraSimulator, centra_http: httpx.Client) -> None:
    centra.faults.configure(FaultConfig(latency_ms=150))
    assert {centra.faults.decide("GET", path).delay_s for path in ("/orders", "/products", "/stock")} == {0.15}
    assert centra_http.get("/orders").status_code == 200


def test_after_success_rule_performs_the_operation_then_fails(
    centra: CentraSimulator, centra_http: httpx.Client
) -> None:
    order = centra.add_order()
    line_id = order["products"][0]["lineId"]
    centra.faults.add_rule(FaultRule("POST", "/shipments", 500, after_success=True))
    body = {"order": order["orderId"], "products": {line_id: 1}, "gtg": True}
    assert centra_http.post("/shipments", json=body).status_code == 500
    assert len(centra.shipments(order["orderId"])) == 1
    retry = centra_http.post("/shipments", json=body).json()  # a naive retry is refused, not duplicated
    assert retry["status"] == "no"
    assert len(centra.shipments(order["orderId"])) == 1


def test_control_routes_configure_faults_and_are_never_faulted(centra: CentraSimulator) -> None:
    control = centra.root_url + "/_sim"
    rule = {"method": "GET", "path_prefix": "/products", "status": 503, "times": 1}
    configured = httpx.post(control + "/faults", json={"error_rate": 0, "seed": 1, "rules": [rule]})
    assert configured.status_code == 200
    assert [r.path_prefix for r in centra.faults.rules] == ["/products"]
    headers = {"API-Authorization": CENTRA_KEY}
    assert httpx.get(centra.base_url + "/products", headers=headers).status_code == 503
    assert httpx.get(centra.base_url + "/products", headers=headers).status_code == 200
    httpx.post(control + "/faults", json={"error_rate": 1.0})
    assert httpx.get(control + "/state").status_code == 200
    assert httpx.post(control + "/faults", json={"bogus": 1}).status_code == 400
    assert httpx.post(control + "/reset").status_code == 200
    assert centra.faults.config == FaultConfig()
    assert centra.calls == {}


def test_faults_apply_to_the_myogo_token_endpoint_with_api_error_body(myogo: MyOgoSimulator) -> None:
    myogo.faults.add_rule(FaultRule("POST", "/oauth/token", 503))
    failed = token(myogo)
    assert failed.status_code == 503
    assert failed.json() == {
        "statusCode": 503,
        "statusDescription": "Service Unavailable",
        "message": "Simulated fault",
    }
    assert token(myogo).status_code == 200
