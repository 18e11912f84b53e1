"""No second POST after a lease may have run out, over the real pieces: the DynamoDB state (moto), the myOGO
adapter over HTTP to the myOGO simulator with its fault injection (429 with Retry-After), on a manual clock that
only the waits move (the store is a fake: this is about the claim and myOGO)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ogosync.http import HttpClient
from ogosync.models import BindingStatus
from ogosync.state.dynamo import DynamoStateRepository
from ogosync.sync.orders import ImportOutcome, OrderDeps, import_order_by_id, poll_orders
from ogosync.warehouse.myogo import PLATFORM, MyOgoAccount, MyOgoWarehouse
from ogosync_local.sim import FaultConfig, FaultRule, ManualClock, MyOgoSimulator
from tests.factories import T0, make_integration, make_order
from tests.fakes import FakeStore
from tests.integration.tables import state_table

pytestmark = pytest.mark.integration
SKU = "TS100BLKM"
LEASE = 120
RETRY_AFTER_S = 30


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 27, 9, 5, tzinfo=UTC))


@pytest.fixture
def myogo(clock: ManualClock) -> Iterator[MyOgoSimulator]:
    with MyOgoSimulator(clock=clock) as sim:
        sim.add_merchant("M-1", "token-1", shipping_codes={"POSTI"})
        sim.add_product("M-1", SKU, stock=10)
        yield sim


def _warehouse(sim: MyOgoSimulator, clock: ManualClock, sleep: Callable[[float], None]) -> MyOgoWarehouse:
    """The myOGO adapter as deployed, but waiting on the manual clock."""
    account = MyOgoAccount(sim.root_url, f"{sim.root_url}/OAuth/Token", "M-1", "token-1", "123456", "abcdef")

    def http(url: str) -> HttpClient:
        return HttpClient(PLATFORM, url, headers={"Accept": "application/json"}, sleep=sleep, clock=clock)

    return MyOgoWarehouse(account, clock=clock, http=http(account.base_url), token_http=http(account.token_url))


def test_a_myogo_answering_429_until_the_lease_ends_and_a_racing_webhook_worker_give_one_post(
    request: pytest.FixtureRequest, myogo: MyOgoSimulator, clock: ManualClock
) -> None:
    table = state_table(request, "moto")
    state = DynamoStateRepository(table.client, table.name)
    integration = make_integration(f"shop-{uuid.uuid4().hex[:10]}")
    state.put_shipping_mapping(integration.id, "standard", "POSTI")
    store = FakeStore([make_order("1001", placed_at=T0, skus=(SKU,))])
    refusals = FaultRule(method="POST", path_prefix="/api/v1/Orders", status=429, times=1_000)
    myogo.faults.configure(FaultConfig(retry_after_s=RETRY_AFTER_S), [refusals])
    lease_ends = clock() + timedelta(seconds=LEASE)
    outcomes: list[ImportOutcome] = []

    def waits(seconds: float) -> None:
        """Every wait moves the clock; the first one that ends past the lease lets myOGO take orders again and
        brings the webhook's job to another worker, while this one still waits."""
        clock.advance(seconds)
        if clock() > lease_ends and myogo.faults.rules:
            myogo.faults.clear()
            webhook_worker()

    def webhook_worker() -> None:
        worker = OrderDeps(state, store, _warehouse(myogo, clock, waits), clock=clock, sleep=waits)
        outcomes.append(import_order_by_id(integration, "1001", worker).outcome)

    poll = OrderDeps(state, store, _warehouse(myogo, clock, waits), clock=clock, sleep=waits)
    poll_orders(integration, poll, owner="poll")
    webhook_worker()  # delivered again after the poll

    processed = myogo.calls["POST /api/v1/Orders"] - refusals.fired
    assert processed == 1
    assert list(myogo.orders("M-1")) == ["1001"]
    assert ImportOutcome.CREATED in outcomes
    binding = state.get_order_binding(integration.id, "1001")
    assert binding is not None and binding.status is BindingStatus.SENT
