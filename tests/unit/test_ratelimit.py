"""The shared call budget (ogosync.ratelimit) over the in-memory buckets, on a fake clock: the fleet's bound, the
writes a call costs, and the bounds on waiting."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import httpx
import pytest
import respx

from ogosync.errors import ConfigurationError, TransientPlatformError
from ogosync.http import RateLimiter
from ogosync.ratelimit import (
    MAX_LOST_RACES,
    AllBudgets,
    BucketChangedError,
    BucketRule,
    BucketState,
    RateSettings,
    SharedRateLimiter,
    TokenBuckets,
    myogo_budget,
    myogo_shared_budget,
    reserve,
    rule,
    store_budget,
)
from ogosync.warehouse.myogo import MyOgoAccount, MyOgoWarehouse
from tests.fakes_ratelimit import InMemoryTokenBuckets

RULE = BucketRule("centra:shop-1", rate_per_s=10.0, burst=5)
T0 = 1_000_000.0


class FakeClock:
    """Epoch seconds that only sleeps move; every sleep is recorded."""

    def __init__(self) -> None:
        self.now = T0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _limiter(buckets: TokenBuckets, clock: FakeClock, **options: float) -> SharedRateLimiter:
    lease = int(options.pop("max_lease", 1))
    return SharedRateLimiter(
        buckets, RULE, platform="centra", max_lease=lease, clock=clock, sleep=clock.sleep, jitter=lambda: 0.0, **options
    )


def _most_in_any_window(times: Sequence[float], window: float) -> int:
    ordered = sorted(times)
    return max(bisect.bisect_left(ordered, start + window) - i for i, start in enumerate(ordered))


# ---- the bucket's arithmetic ------------------------------------------------------------------------------


def test_a_missing_bucket_is_full_and_a_reservation_beyond_it_waits_its_turn() -> None:
    first = reserve(None, RULE, 5, T0)
    assert first.state == BucketState(tokens=0.0, updated=T0, version=1) and first.wait_s == 0

    second = reserve(first.state, RULE, 2, T0)
    assert second.state.tokens == -2 and second.wait_s == pytest.approx(0.2)


def test_a_bucket_refills_with_time_up_to_its_burst() -> None:
    empty = BucketState(tokens=-3.0, updated=T0, version=4)

    assert reserve(empty, RULE, 1, T0 + 0.5).state.tokens == pytest.approx(1.0)
    assert reserve(empty, RULE, 1, T0 + 3600).state == BucketState(tokens=4.0, updated=T0 + 3600, version=5)


def test_a_clock_behind_the_bucket_neither_refills_it_nor_moves_its_time_back() -> None:
    bucket = BucketState(tokens=0.0, updated=T0, version=1)

    behind = reserve(bucket, RULE, 1, T0 - 2)

    assert behind.state.updated == T0 and behind.state.tokens == -1
    assert behind.wait_s == pytest.approx(2.1)  # until the bucket's own time, then one token's time


# ---- many containers, one bucket ---------------------------------------------------------------------------


def test_two_containers_on_one_shared_bucket_keep_its_rate_where_per_container_buckets_double_it() -> None:
    clock = FakeClock()
    buckets = InMemoryTokenBuckets()
    shared = [_limiter(buckets, clock, max_lease=2, lease_seconds=0.5) for _ in range(2)]
    alone = [RateLimiter(RULE.rate_per_s, RULE.burst, clock=clock, sleep=clock.sleep) for _ in range(2)]

    def calls(limiters: Sequence[SharedRateLimiter | RateLimiter], per_container: int) -> list[float]:
        sent: list[float] = []
        for _ in range(per_container):
            for limiter in limiters:
                limiter.acquire()
                sent.append(clock.now)
        return sent

    fleet = calls(shared, 60)
    clock.now += 3600
    separate = calls(alone, 60)

    bound = RULE.burst + RULE.rate_per_s * (1 + 0.5)  # burst + rate x (window + lease_seconds)
    assert _most_in_any_window(fleet, 1.0) <= bound
    assert _most_in_any_window(separate, 1.0) >= 2 * RULE.rate_per_s  # each container its own rate
    assert (fleet[-1] - fleet[0]) >= (len(fleet) - RULE.burst) / RULE.rate_per_s - 0.5  # on average, the rate


def test_a_busy_container_pays_one_write_per_lease_and_a_quiet_one_wastes_no_token() -> None:
    clock = FakeClock()
    buckets = InMemoryTokenBuckets()
    busy = _limiter(buckets, clock, max_lease=4, lease_seconds=1.0)

    for _ in range(100):
        busy.acquire()

    assert buckets.writes <= 100 / 4 + 3  # leases of 1, 2, then 4 tokens
    assert buckets.reads == 1  # the container's first lease only

    quiet_buckets = InMemoryTokenBuckets()
    quiet = _limiter(quiet_buckets, clock, max_lease=4, lease_seconds=1.0)
    for _ in range(10):
        quiet.acquire()
        clock.now += 60

    assert quiet_buckets.writes == 10
    assert quiet_buckets.buckets[RULE.key].tokens == RULE.burst - 1  # each lease one token: none taken unused


def test_tokens_left_in_an_expired_lease_are_not_spent() -> None:
    clock = FakeClock()
    buckets = InMemoryTokenBuckets()
    limiter = _limiter(buckets, clock, max_lease=4, lease_seconds=0.5)
    for _ in range(3):  # leases of 1 then 2 tokens, both used up: the next is of 4
        limiter.acquire()
    limiter.acquire()
    writes = buckets.writes

    clock.now += 0.6  # three tokens left in the lease, which ended
    limiter.acquire()

    assert buckets.writes == writes + 1


def test_a_lost_race_starts_again_from_the_bucket_the_winner_wrote() -> None:
    clock = FakeClock()
    buckets = InMemoryTokenBuckets()
    mine = _limiter(buckets, clock)
    other = _limiter(buckets, clock)
    mine.acquire()  # mine now believes 4 tokens are left
    for _ in range(4):
        other.acquire()

    mine.acquire()  # the bucket is empty: one token's time

    assert buckets.lost_writes == 1
    assert clock.slept == pytest.approx([1 / RULE.rate_per_s])  # leases of one token: the fifth waits one


def test_a_full_queue_is_waited_out_without_writes_and_a_wait_too_long_sends_nothing() -> None:
    clock = FakeClock()
    buckets = InMemoryTokenBuckets()
    buckets.buckets[RULE.key] = BucketState(tokens=-30.0, updated=T0, version=7)  # 3 s of reservations ahead
    patient = _limiter(buckets, clock, max_queue_s=2.0, max_wait_s=20.0)

    patient.acquire()

    assert buckets.writes == 1 and clock.slept == pytest.approx([1.1, 2.0])  # to 2 s of queue, then its turn

    buckets.buckets[RULE.key] = BucketState(tokens=-1000.0, updated=clock.now, version=9)  # 100 s ahead
    impatient = _limiter(buckets, clock, max_queue_s=2.0, max_wait_s=20.0)
    with pytest.raises(TransientPlatformError, match="spent for the next"):
        impatient.acquire()
    assert buckets.writes == 1


class _AlwaysChanged:
    """A table where another worker always wrote first."""

    def __init__(self) -> None:
        self.writes = 0

    def read(self, key: str) -> BucketState | None:
        return None

    def replace(self, key: str, expected: BucketState | None, new: BucketState) -> None:
        self.writes += 1
        raise BucketChangedError(key, BucketState(tokens=5.0, updated=T0, version=self.writes))


def test_a_lease_that_keeps_losing_races_fails_the_call_as_transient_after_a_bounded_number_of_writes() -> None:
    clock = FakeClock()
    table = _AlwaysChanged()

    with pytest.raises(TransientPlatformError, match="lost 8 writes"):
        _limiter(table, clock).acquire()

    assert table.writes == MAX_LOST_RACES


def test_a_lease_cannot_exceed_the_burst() -> None:
    with pytest.raises(ValueError, match="1 to burst"):
        SharedRateLimiter(InMemoryTokenBuckets(), RULE, platform="centra", max_lease=RULE.burst + 1)


# ---- the budgets the adapters take ----------------------------------------------------------------------------


def test_a_myogo_call_takes_from_its_merchant_bucket_and_from_the_deployment_bucket() -> None:
    buckets = InMemoryTokenBuckets()
    settings = RateSettings()
    shared = myogo_shared_budget(buckets, settings)
    one, two = myogo_budget(buckets, "M-1", shared, settings), myogo_budget(buckets, "M-2", shared, settings)

    one.acquire()
    two.acquire()

    versions = {key: bucket.version for key, bucket in buckets.buckets.items()}
    assert versions == {"myogo:M-1": 1, "myogo:M-2": 1, "myogo:shared": 2}  # one write each, two in the shared
    store_budget(buckets, "centra", "shop-9", settings).acquire()
    assert buckets.buckets["centra:shop-9"].tokens <= rule("centra:shop-9", settings.store_rate_per_s).burst - 1


def test_rates_come_from_the_environment_and_a_bad_one_is_a_clear_error() -> None:
    assert RateSettings.from_env({}) == RateSettings(10.0, 10.0, 100.0)
    assert (
        RateSettings.from_env({"MYOGO_SHARED_RATE_PER_S": "40", "CENTRA_RATE_PER_S": " "}).myogo_shared_rate_per_s == 40
    )
    for bad in ("fast", "0", "-1", "inf", "nan"):
        with pytest.raises(ConfigurationError, match="MYOGO_MERCHANT_RATE_PER_S"):
            RateSettings.from_env({"MYOGO_MERCHANT_RATE_PER_S": bad})


class _CountingBudget:
    def __init__(self) -> None:
        self.calls = 0

    def acquire(self) -> None:
        self.calls += 1


def test_every_myogo_call_the_client_makes_is_paced_by_its_budget_the_token_request_included() -> None:
    budget = _CountingBudget()
    account = MyOgoAccount("https://api.test", "https://api.test/OAuth/Token", "M-budget", "s", "c", "cs")
    warehouse = MyOgoWarehouse(account, rate_limiter=AllBudgets([budget]))
    with respx.mock(assert_all_called=True) as api:
        api.post("https://api.test/OAuth/Token").mock(
            return_value=httpx.Response(200, json={"access_token": "t", "expires_in": 5400})
        )
        api.get("https://api.test/api/v1/Stock").mock(return_value=httpx.Response(200, json=[]))

        assert list(warehouse.stock_levels(None)) == []

    assert budget.calls == 2
