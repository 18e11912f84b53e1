"""The shared call budget (ogosync.ratelimit) over the in-memory buckets, on a fake clock: the fleet's bound, the
writes a call costs, the races, and the bounds on waiting."""

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
    RateSettings,
    SharedRateLimiter,
    TokenBuckets,
    myogo_budget,
    myogo_shared_budget,
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
        last = clock.now
        clock.now += 60

    assert quiet_buckets.writes == 10
    assert quiet_buckets.full_at[RULE.key] == pytest.approx(last + 1 / RULE.rate_per_s)  # one token a lease


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


def test_workers_with_a_stale_view_add_to_a_busy_bucket_without_losing_and_race_only_at_a_full_one() -> None:
    clock = FakeClock()
    buckets = InMemoryTokenBuckets()
    mine = _limiter(buckets, clock)
    other = _limiter(buckets, clock)
    mine.acquire()  # mine's view: one token taken
    for _ in range(4):
        other.acquire()

    mine.acquire()  # the bucket is empty: mine adds to it all the same, and waits one token's time

    assert buckets.lost_writes == 0
    assert clock.slept == pytest.approx([1 / RULE.rate_per_s])

    clock.now += 60  # full again, in both views
    mine.acquire()
    other.acquire()  # finds mine's write: one lost race, then added to the bucket

    assert buckets.lost_writes == 1
    assert buckets.full_at[RULE.key] == pytest.approx(clock.now + 2 / RULE.rate_per_s)


class _SlowTable(InMemoryTokenBuckets):
    """A table whose writes take `latency` seconds of the clock, and whose read was taken before another worker
    wrote; it records each write's kind and `now`."""

    def __init__(self, clock: FakeClock, latency: float, stale: float) -> None:
        super().__init__()
        self.clock, self.latency, self.stale = clock, latency, stale
        self.calls: list[tuple[str, float]] = []

    def read(self, key: str) -> float | None:
        return self.stale

    def restart(self, key: str, now: float, full_at: float) -> None:
        self.calls.append(("restart", now))
        self.clock.now += self.latency
        super().restart(key, now, full_at)

    def extend(self, key: str, now: float, seconds: float, latest: float) -> float:
        self.calls.append(("extend", now))
        self.clock.now += self.latency
        return super().extend(key, now, seconds, latest)


def test_a_worker_that_finds_the_bucket_busy_after_all_adds_to_it_as_of_the_same_moment() -> None:
    """With a fresh moment it could find the bucket full again by its clock and lose to the next worker, over and
    over, whenever the table's round trip is longer than the time between other workers' writes."""
    clock = FakeClock()
    table = _SlowTable(clock, latency=0.2, stale=T0 - 60)  # full, as mine last saw it
    table.full_at[RULE.key] = T0 + 0.15  # another worker's take since
    mine = _limiter(table, clock)

    mine.acquire()

    assert table.calls == [("restart", T0), ("extend", T0)]
    assert table.full_at[RULE.key] == pytest.approx(T0 + 0.25)


def test_a_full_queue_is_waited_out_without_writes_and_a_wait_too_long_sends_nothing() -> None:
    clock = FakeClock()
    buckets = InMemoryTokenBuckets()
    buckets.full_at[RULE.key] = T0 + 0.5 + 3  # 3 s of reservations beyond the burst
    patient = _limiter(buckets, clock, max_queue_s=2.0, max_wait_s=20.0)

    patient.acquire()

    assert buckets.writes == 1 and clock.slept == pytest.approx([1.1, 2.0])  # room in the queue, then its turn

    buckets.full_at[RULE.key] = clock.now + 100
    impatient = _limiter(buckets, clock, max_queue_s=2.0, max_wait_s=20.0)
    with pytest.raises(TransientPlatformError, match="spent for the next"):
        impatient.acquire()
    assert buckets.writes == 1


class _AlwaysChanged:
    """A table where every write finds the bucket gone (as if deleted under it each time)."""

    def __init__(self) -> None:
        self.writes = 0

    def read(self, key: str) -> float | None:
        return None

    def restart(self, key: str, now: float, full_at: float) -> None:
        self.writes += 1
        raise BucketChangedError(key, None)

    def extend(self, key: str, now: float, seconds: float, latest: float) -> float:
        raise AssertionError("never called: the bucket is never seen busy")


def test_a_lease_that_keeps_losing_races_fails_the_call_as_transient_after_a_bounded_number_of_writes() -> None:
    clock = FakeClock()
    table = _AlwaysChanged()

    with pytest.raises(TransientPlatformError, match="lost 8 writes"):
        _limiter(table, clock).acquire()

    assert table.writes == MAX_LOST_RACES


def test_a_lease_is_at_most_the_burst_so_a_slow_rate_still_works() -> None:
    clock = FakeClock()
    buckets = InMemoryTokenBuckets()
    slow = rule("centra:slow", 0.5)  # a burst of 1
    limiter = SharedRateLimiter(buckets, slow, platform="centra", clock=clock, sleep=clock.sleep, jitter=lambda: 0.0)

    for _ in range(3):
        limiter.acquire()

    assert buckets.writes == 3 and clock.slept == pytest.approx([2.0, 2.0])
    with pytest.raises(ValueError, match="at least 1"):
        SharedRateLimiter(buckets, RULE, platform="centra", max_lease=0)


# ---- the budgets the adapters take ----------------------------------------------------------------------------


def test_a_myogo_call_takes_from_its_merchant_bucket_and_from_the_deployment_bucket() -> None:
    buckets = InMemoryTokenBuckets()
    settings = RateSettings()
    shared = myogo_shared_budget(buckets, settings)
    one, two = myogo_budget(buckets, "M-1", shared, settings), myogo_budget(buckets, "M-2", shared, settings)

    one.acquire()
    two.acquire()

    assert set(buckets.full_at) == {"myogo:M-1", "myogo:M-2", "myogo:shared"}
    assert buckets.writes == 4  # one in each merchant's bucket, two in the deployment's
    store_budget(buckets, "centra", "shop-9", settings).acquire()
    assert "centra:shop-9" in buckets.full_at and buckets.writes == 5
    assert rule("centra:shop-9", 10.0) == BucketRule("centra:shop-9", 10.0, 20)  # a burst of two seconds' calls


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
