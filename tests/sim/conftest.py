"""Fixtures for the simulator tests: a manual clock, started simulators, clients and a webhook receiver."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from ogosync_local.sim import CentraSimulator, ManualClock, MyOgoSimulator, SimServer
from ogosync_local.sim.server import Request, Response, empty_response

CENTRA_KEY = "centra-test-key"
CENTRA_SECRET = "test123"
CLIENT_ID, CLIENT_SECRET = "123456", "abcdef"
MERCHANTS = {"m1": "secret-1", "m2": "secret-2"}
START = datetime(2024, 6, 1, 10, 0, tzinfo=UTC)  # 12:00 in Stockholm (CEST)


class Receiver(SimServer):
    """A webhook endpoint that records every POST to /hook and answers `status`."""

    def __init__(self) -> None:
        super().__init__()
        self.status = 200
        self.received: list[Request] = []
        self.add_route("POST", "/hook", self._hook, auth=False)

    @property
    def url(self) -> str:
        return self.base_url + "/hook"

    def _hook(self, request: Request) -> Response:
        self.received.append(request)
        return empty_response(self.status)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


@pytest.fixture
def centra(clock: ManualClock) -> Iterator[CentraSimulator]:
    with CentraSimulator(api_key=CENTRA_KEY, endpoint_secret=CENTRA_SECRET, clock=clock) as sim:
        yield sim


@pytest.fixture
def centra_http(centra: CentraSimulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=centra.base_url, headers={"API-Authorization": CENTRA_KEY}, timeout=5) as client:
        yield client


@pytest.fixture
def myogo(clock: ManualClock) -> Iterator[MyOgoSimulator]:
    with MyOgoSimulator(clock=clock) as sim:
        for merchant_id, secret in MERCHANTS.items():
            sim.add_merchant(merchant_id, secret)
        yield sim


def token(sim: MyOgoSimulator, merchant_id: str = "m1", **form: str) -> httpx.Response:
    """Ask for a token with the password grant (override any form field)."""
    data = {
        "grant_type": "password",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "username": merchant_id,
        "password": MERCHANTS.get(merchant_id, ""),
        **form,
    }
    return httpx.post(f"{sim.base_url}/OAuth/Token", data=data)


def ogo_client(sim: MyOgoSimulator, merchant_id: str = "m1", password: str | None = None) -> httpx.Client:
    """A client for the v1 API authenticated as `merchant_id` (password defaults to MERCHANTS)."""
    access = token(sim, merchant_id, password=password or MERCHANTS[merchant_id]).json()["access_token"]
    return httpx.Client(base_url=sim.base_url, headers={"Authorization": f"Bearer {access}"}, timeout=5)


@pytest.fixture
def ogo_http(myogo: MyOgoSimulator) -> Iterator[httpx.Client]:
    with ogo_client(myogo) as client:
        yield client


def new_ogo_order(reference: str, *lines: tuple[str, int], **fields: Any) -> dict[str, Any]:
    """A valid v1 order body."""
    return {
        "reference": reference,
        "status": "new",
        "customer": {
            "name": "Test Person",
            "address1": "Teknobulevardi 3-5",
            "city": "Vantaa",
            "zip": "01530",
            "countryCode": "FI",
            "email": "foo@bar.com",
        },
        "orderLines": [{"code": code, "quantity": qty, "unitPrice": 12.4, "vatPercentage": 24} for code, qty in lines],
        **fields,
    }
