"""The per-minute hint counts of the order queue's fair share (state/hints.py) on moto, DynamoDB Local and the fake:
every container adds to the same count, and no addition is lost when deliveries race."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from ogosync.state.hints import DynamoHintCounter
from ogosync.sync.webhooks import HintCounter
from tests.factories import T0
from tests.fakes import InMemoryHintCounter
from tests.integration.tables import state_table

pytestmark = pytest.mark.integration


# moto's server applies an update without a lock, so two racing additions can both read the same count there (seen
# with this very test, about one run in twenty); DynamoDB and DynamoDB Local serialise them. Races run on those.
ATOMIC_BACKENDS = ["dynamodb-local", "memory"]


def _counter(request: pytest.FixtureRequest, backend: str) -> HintCounter:
    if backend == "memory":
        return InMemoryHintCounter()
    table = state_table(request, backend)
    return DynamoHintCounter(table.client, table.name)


@pytest.fixture(params=["moto", "dynamodb-local", "memory"])
def counter(request: pytest.FixtureRequest) -> HintCounter:
    return _counter(request, request.param)


@pytest.fixture(params=ATOMIC_BACKENDS)
def atomic_counter(request: pytest.FixtureRequest) -> HintCounter:
    return _counter(request, request.param)


def test_counts_add_up_per_integration_and_minute(counter: HintCounter) -> None:
    shop, other = f"shop-{uuid.uuid4().hex[:8]}", f"shop-{uuid.uuid4().hex[:8]}"
    assert counter.add_hints(shop, T0, 30) == 0
    assert counter.add_hints(shop, T0, 5) == 30
    assert counter.add_hints(other, T0, 1) == 0  # another integration's count
    assert counter.add_hints(shop, T0 + timedelta(minutes=1), 2) == 0  # a new minute, a new count


def test_racing_additions_are_all_counted(atomic_counter: HintCounter) -> None:
    shop = f"shop-{uuid.uuid4().hex[:8]}"
    assert atomic_counter.add_hints(shop, T0, 35) == 0

    with ThreadPoolExecutor(max_workers=8) as pool:
        befores = sorted(pool.map(lambda _: atomic_counter.add_hints(shop, T0, 1), range(40)))

    assert befores == list(range(35, 75))  # each racing delivery saw a different count: none lost
