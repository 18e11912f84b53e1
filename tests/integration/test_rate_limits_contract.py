"""One contract for the shared rate buckets: DynamoDB over HTTP to moto and to Amazon's DynamoDB Local, and the
in-memory fake the unit tests use. The conditional write is what keeps a fleet of workers to one rate."""

from __future__ import annotations

import threading
import uuid

import pytest

from ogosync.ratelimit import BucketChangedError, BucketRule, SharedRateLimiter, TokenBuckets
from ogosync.state.rate_limits import IDLE_TTL_SECONDS, DynamoTokenBuckets, bucket_key
from tests.fakes_ratelimit import InMemoryTokenBuckets
from tests.integration.tables import state_table

pytestmark = pytest.mark.integration
BACKENDS = ["moto", "dynamodb-local", "memory"]
# moto's server checks a condition and writes without a lock, so concurrent conditional writes can both succeed
# there (seen with this very test); DynamoDB and DynamoDB Local serialise them. Races run on the latter only.
ATOMIC_BACKENDS = ["dynamodb-local", "memory"]
T0 = 1_800_000_000.123456


@pytest.fixture(params=BACKENDS)
def buckets(request: pytest.FixtureRequest) -> TokenBuckets:
    if request.param == "memory":
        return InMemoryTokenBuckets()
    table = state_table(request, request.param)
    return DynamoTokenBuckets(table.client, table.name)


@pytest.fixture
def key() -> str:
    return f"centra:shop-{uuid.uuid4().hex[:10]}"


def test_a_bucket_is_absent_until_written_and_reads_back_exactly_as_written(buckets: TokenBuckets, key: str) -> None:
    assert buckets.read(key) is None

    buckets.restart(key, T0, T0 + 0.1)

    assert buckets.read(key) == T0 + 0.1


def test_a_busy_bucket_is_added_to_and_a_full_one_restarted(buckets: TokenBuckets, key: str) -> None:
    buckets.restart(key, T0, T0 + 0.1)

    assert buckets.extend(key, T0, 0.25, T0 + 1) == pytest.approx(T0 + 0.35, abs=1e-6)
    assert buckets.extend(key, T0 + 0.3, 0.25, T0 + 1) == pytest.approx(T0 + 0.6, abs=1e-6)
    buckets.restart(key, T0 + 5, T0 + 5.1)  # full again by then
    assert buckets.read(key) == pytest.approx(T0 + 5.1, abs=1e-6)


def test_a_write_on_a_bucket_not_as_assumed_writes_nothing_and_returns_the_stored_value(
    buckets: TokenBuckets, key: str
) -> None:
    with pytest.raises(BucketChangedError) as absent:
        buckets.extend(key, T0, 0.1, T0 + 1)
    assert absent.value.full_at is None
    buckets.restart(key, T0, T0 + 0.5)

    with pytest.raises(BucketChangedError) as not_full:
        buckets.restart(key, T0 + 0.2, T0 + 0.3)
    with pytest.raises(BucketChangedError) as queue_full:
        buckets.extend(key, T0, 0.1, T0 + 0.4)
    with pytest.raises(BucketChangedError) as full:
        buckets.extend(key, T0 + 0.5, 0.1, T0 + 2)

    assert not_full.value.full_at == queue_full.value.full_at == full.value.full_at == pytest.approx(T0 + 0.5)
    assert buckets.read(key) == pytest.approx(T0 + 0.5)


@pytest.fixture(params=ATOMIC_BACKENDS)
def atomic_buckets(request: pytest.FixtureRequest) -> TokenBuckets:
    if request.param == "memory":
        return InMemoryTokenBuckets()
    table = state_table(request, request.param)
    return DynamoTokenBuckets(table.client, table.name)


def test_concurrent_workers_each_get_a_turn_of_their_own(atomic_buckets: TokenBuckets, key: str) -> None:
    """Four workers (limiters with one-token leases) take ten tokens each at one instant: the first `burst` go
    now, every other waits its own turn, one token's time after the one before: never two on one turn, never more
    than the bucket holds."""
    rule = BucketRule(key, rate_per_s=10.0, burst=5)
    waits: list[float] = []

    def worker() -> None:
        limiter = SharedRateLimiter(
            atomic_buckets, rule, platform="centra", max_lease=1, max_queue_s=10, clock=lambda: T0, sleep=waits.append
        )
        for _ in range(10):
            limiter.acquire()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    turns = sorted(waits)
    assert len(turns) == 35 and turns == pytest.approx([turn / 10 for turn in range(1, 36)], abs=1e-5)
    assert atomic_buckets.read(key) == pytest.approx(T0 + 40 / rule.rate_per_s, abs=1e-5)


@pytest.mark.parametrize("backend", ["moto", "dynamodb-local"])
def test_a_bucket_item_is_in_its_own_partition_and_expires_a_day_after_its_last_write(
    request: pytest.FixtureRequest, backend: str, key: str
) -> None:
    table = state_table(request, backend)
    DynamoTokenBuckets(table.client, table.name).restart(key, T0, T0 + 0.1)

    item = table.client.get_item(TableName=table.name, Key=bucket_key(key))["Item"]

    assert item["pk"] == {"S": f"LIMIT#{key}"} and item["sk"] == {"S": "BUCKET"}
    assert int(item["expires_at"]["N"]) == int(T0) + IDLE_TTL_SECONDS
