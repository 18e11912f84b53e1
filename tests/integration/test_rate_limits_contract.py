"""One contract for the shared rate buckets: DynamoDB over HTTP to moto and to Amazon's DynamoDB Local, and the
in-memory fake the unit tests use. The conditional write is what keeps a fleet of workers to one rate."""

from __future__ import annotations

import threading
import uuid

import pytest

from ogosync.ratelimit import BucketChangedError, BucketRule, BucketState, TokenBuckets, reserve
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
    first = BucketState(tokens=-2.5, updated=T0, version=1)

    buckets.replace(key, None, first)

    assert buckets.read(key) == first


def test_a_write_on_a_stale_bucket_writes_nothing_and_returns_the_stored_one(buckets: TokenBuckets, key: str) -> None:
    first = BucketState(tokens=4.0, updated=T0, version=1)
    buckets.replace(key, None, first)
    second = BucketState(tokens=3.0, updated=T0 + 0.1, version=2)
    buckets.replace(key, first, second)

    for stale in (None, first):
        with pytest.raises(BucketChangedError) as lost:
            buckets.replace(key, stale, BucketState(tokens=0.0, updated=T0 + 0.2, version=9))
        assert lost.value.current == second

    assert buckets.read(key) == second


@pytest.fixture(params=ATOMIC_BACKENDS)
def atomic_buckets(request: pytest.FixtureRequest) -> TokenBuckets:
    if request.param == "memory":
        return InMemoryTokenBuckets()
    table = state_table(request, request.param)
    return DynamoTokenBuckets(table.client, table.name)


def test_concurrent_workers_each_get_a_slot_of_their_own(atomic_buckets: TokenBuckets, key: str) -> None:
    """Four workers take ten tokens each at one instant: the first `burst` go now, every other waits its own turn,
    one token's time after the one before: never two on one slot, never more than the bucket holds."""
    buckets = atomic_buckets
    rule = BucketRule(key, rate_per_s=10.0, burst=5)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        bucket = buckets.read(key)
        for _ in range(10):
            while True:
                reservation = reserve(bucket, rule, 1, T0)
                try:
                    buckets.replace(key, bucket, reservation.state)
                except BucketChangedError as exc:
                    bucket = exc.current
                    continue
                bucket = reservation.state
                with lock:
                    waits.append(reservation.wait_s)
                break

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(waits) == pytest.approx([0.0] * 5 + [turn / 10 for turn in range(1, 36)])
    stored = buckets.read(key)
    assert stored is not None and stored.version == 40 and stored.tokens == pytest.approx(-35)


@pytest.mark.parametrize("backend", ["moto", "dynamodb-local"])
def test_a_bucket_item_is_in_its_own_partition_and_expires_a_day_after_its_last_write(
    request: pytest.FixtureRequest, backend: str, key: str
) -> None:
    table = state_table(request, backend)
    DynamoTokenBuckets(table.client, table.name).replace(key, None, BucketState(tokens=1.0, updated=T0, version=1))

    item = table.client.get_item(TableName=table.name, Key=bucket_key(key))["Item"]

    assert item["pk"] == {"S": f"LIMIT#{key}"} and item["sk"] == {"S": "BUCKET"}
    assert int(item["expires_at"]["N"]) == int(T0) + IDLE_TTL_SECONDS
