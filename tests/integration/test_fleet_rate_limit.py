"""Several workers at once, as separate Lambda containers would be (each its own HttpClient, adapter and limiter
object), against ONE simulated Centra store over real HTTP: the store counts its requests per second by its own
receive times. With the shared bucket in DynamoDB (DynamoDB Local: moto's server does not serialise concurrent
conditional writes) the fleet keeps the bucket's rate; with a bucket per container it sends the rate times the
number of containers. The work is bounded (calls per worker), not the time. Its figures are in
docs/benchmarks.md, "Limits that hold across containers" (run with -s to print them).
"""

from __future__ import annotations

import bisect
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from email.message import Message
from zoneinfo import ZoneInfo

import pytest

from ogosync.http import HttpClient, RateLimiter, RetryPolicy
from ogosync.ratelimit import BucketChangedError, BucketRule, CallBudget, SharedRateLimiter
from ogosync.state.rate_limits import DynamoTokenBuckets
from ogosync.stores.centra.client import CentraStore
from ogosync.stores.centra.mapping import PLATFORM
from ogosync_local.sim import CentraSimulator
from ogosync_local.sim.server import Response
from tests.integration.tables import StateTable

pytestmark = pytest.mark.integration
API_KEY = "fleet-key"
WORKERS = 4
CALLS_PER_WORKER = 15
RATE_PER_S = 10.0
BURST = 5
MAX_LEASE = 2
LEASE_SECONDS = 0.5
WINDOW_S = 1.0


class CountingCentra(CentraSimulator):
    """The Centra simulator, recording when each API request reached it (its own clock, before any work)."""

    def __init__(self) -> None:
        super().__init__(api_key=API_KEY)
        self.received: list[float] = []
        self._received_lock = threading.Lock()

    def handle(self, method: str, raw_path: str, headers: Message[str, str], body: bytes) -> Response:
        if not raw_path.startswith("/_sim/"):
            with self._received_lock:
                self.received.append(time.time())
        return super().handle(method, raw_path, headers, body)


class CountingBuckets(DynamoTokenBuckets):
    """The DynamoDB buckets, counting what they bill: reads, writes, and the writes that lost a race."""

    def __init__(self, table: StateTable) -> None:
        super().__init__(table.client, table.name)
        self.reads = self.writes = self.lost = 0
        self._lock = threading.Lock()

    def read(self, key: str) -> float | None:
        self._count("reads")
        return super().read(key)

    def restart(self, key: str, now: float, full_at: float) -> None:
        self._count("writes")
        try:
            super().restart(key, now, full_at)
        except BucketChangedError:
            self._count("lost")
            raise

    def extend(self, key: str, now: float, seconds: float, latest: float) -> float:
        self._count("writes")
        try:
            return super().extend(key, now, seconds, latest)
        except BucketChangedError:
            self._count("lost")
            raise

    def _count(self, what: str) -> None:
        with self._lock:
            setattr(self, what, getattr(self, what) + 1)


@dataclass
class Released:
    """A budget that records when each call was let through (to measure the way to the store)."""

    budget: CallBudget
    times: list[float] = field(default_factory=list)

    def acquire(self) -> None:
        self.budget.acquire()
        self.times.append(time.time())


@dataclass(frozen=True)
class FleetRun:
    received: list[float]
    released: list[float]

    @property
    def most_in_a_window(self) -> int:
        ordered = sorted(self.received)
        return max(bisect.bisect_left(ordered, start + WINDOW_S) - i for i, start in enumerate(ordered))

    @property
    def longest_way_to_the_store(self) -> float:
        """The longest time from a call's release to its arrival (pairs matched in order of time)."""
        return max(got - sent for sent, got in zip(sorted(self.released), sorted(self.received), strict=True))


@pytest.fixture
def centra() -> Iterator[CountingCentra]:
    with CountingCentra() as sim:
        sim.add_order(order_id="5001")
        yield sim


def _run_fleet(centra: CountingCentra, budgets: Sequence[CallBudget]) -> FleetRun:
    centra.received.clear()
    released = [Released(budget) for budget in budgets]
    errors: list[BaseException] = []

    def worker(budget: Released) -> None:
        http = HttpClient(
            PLATFORM,
            centra.base_url,
            headers={"API-Authorization": API_KEY},
            rate_limiter=budget,
            retry=RetryPolicy(attempts=1),
        )
        store = CentraStore(centra.base_url, API_KEY, ZoneInfo("Europe/Stockholm"), http=http)
        try:
            for _ in range(CALLS_PER_WORKER):
                assert store.get_order("5001") is not None
        except BaseException as exc:
            errors.append(exc)
        finally:
            store.close()

    threads = [threading.Thread(target=worker, args=(budget,)) for budget in released]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return FleetRun(list(centra.received), [moment for budget in released for moment in budget.times])


def _shared(buckets: CountingBuckets, key: str) -> Callable[[], CallBudget]:
    rule = BucketRule(key, RATE_PER_S, BURST)
    return lambda: SharedRateLimiter(buckets, rule, platform=PLATFORM, max_lease=MAX_LEASE, lease_seconds=LEASE_SECONDS)


def test_a_fleet_of_workers_keeps_one_shared_rate_where_per_container_limiters_multiply_it(
    centra: CountingCentra, dynamodb_local_table: StateTable
) -> None:
    buckets = CountingBuckets(dynamodb_local_table)
    new_shared = _shared(buckets, f"centra:fleet-{uuid.uuid4().hex[:8]}")

    shared = _run_fleet(centra, [new_shared() for _ in range(WORKERS)])
    separate = _run_fleet(centra, [RateLimiter(RATE_PER_S, BURST) for _ in range(WORKERS)])

    calls = WORKERS * CALLS_PER_WORKER
    assert len(shared.received) == len(separate.received) == calls
    # The bound of ogosync/ratelimit.py for a 1 s window, plus the calls of the longest way from release to store
    # (a request let through just before a window can arrive in it).
    bound = BURST + RATE_PER_S * (WINDOW_S + LEASE_SECONDS + shared.longest_way_to_the_store)
    assert shared.most_in_a_window <= bound
    assert separate.most_in_a_window > BURST + RATE_PER_S * (WINDOW_S + LEASE_SECONDS)
    assert buckets.writes <= calls  # a write per lease, the lost races included
    print(
        f"\nfleet of {WORKERS} x {CALLS_PER_WORKER} calls, rate {RATE_PER_S:g}/s burst {BURST} lease {MAX_LEASE}:"
        f" shared bucket: most in 1 s {shared.most_in_a_window} (bound {bound:.1f}),"
        f" {max(shared.received) - min(shared.received):.1f} s in all,"
        f" DynamoDB {buckets.reads} reads, {buckets.writes} writes ({buckets.lost} lost races),"
        f" {buckets.writes / calls:.2f} writes a call, longest way to the store"
        f" {shared.longest_way_to_the_store * 1000:.0f} ms;"
        f" a bucket per container: most in 1 s {separate.most_in_a_window},"
        f" {max(separate.received) - min(separate.received):.1f} s in all"
    )
