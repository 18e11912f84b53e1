"""Call budgets: how many calls a fleet of containers may make to one API, and the port the HTTP client takes.

`CallBudget` is what an adapter's HttpClient asks before each attempt. Two implementations:
- `ogosync.http.RateLimiter`: a token bucket in one container's memory (ten containers, ten times the rate);
- `SharedRateLimiter`: a token bucket kept in a shared store (`TokenBuckets`; on DynamoDB: state/rate_limits.py),
  so the rate holds for every container of the deployment together.

The shared bucket is kept as one number, the time at which it is full again (`full_at`, epoch seconds; the
generic cell rate algorithm): at `now` it holds burst - rate x (full_at - now) tokens, and taking n moves full_at to
max(full_at, now) + n / rate. Tokens may be taken beyond an empty bucket, up to `max_queue_s` ahead: the taker then
sleeps until its turn, at full_at - burst / rate. While the bucket is not full, taking is one atomic addition in
the store (`extend`, conditional only on full_at staying within the queue), so concurrent workers never undo
one another and never lose a race; a worker loses only when it finds the bucket full (`restart`) just as another
took from it, and the store then hands back the current value in the same call. Waiting workers never poll.

To keep the writes per call low, a busy container takes tokens in a lease (up to `max_lease` at once) and spends
them locally for at most `lease_seconds`; a lease that runs out while still valid makes the next one twice as big,
an expired one sizes the next to what was used, so a quiet caller takes one token a write and wastes none.

Worst case (docs/benchmarks.md, "Limits that hold across containers"): in any window of W seconds the fleet sends
at most burst + rate x (W + lease_seconds) calls, and at most burst + rate x W + (tokens left unspent in the
containers' leases when the window opens, at most containers x (max_lease - 1)). The bucket's time is the
containers' wall clocks (NTP-synced on Lambda): a clock ahead by d seconds, or a write reaching the table d seconds
after the `now` it carries, may add rate x d more. Uncertain: the real ceilings of the APIs; the rates are ours
(docs/api/centra.md and docs/api/myogo.md, "Rate limits").
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ogosync.errors import ConcurrencyConflictError, ConfigurationError, TransientPlatformError

MYOGO = "myogo"
MYOGO_SHARED_KEY = "myogo:shared"
MAX_LOST_RACES = 8  # writes one lease may lose to other workers before the call fails as transient
_MICROSECONDS = 1_000_000  # times are kept to the microsecond, so the stored value is exactly the one computed


class CallBudget(Protocol):
    """Blocks until one more call may be made (or raises TransientPlatformError: the call is not to be sent now)."""

    def acquire(self) -> None: ...


@dataclass(frozen=True)
class BucketRule:
    """One shared bucket: its key (e.g. `centra:<integration id>`, `myogo:<merchant id>`, `myogo:shared`), its
    steady rate and the burst it allows after a quiet spell."""

    key: str
    rate_per_s: float
    burst: int

    def __post_init__(self) -> None:
        if not 0 < self.rate_per_s < math.inf or self.burst < 1:
            raise ValueError(f"bucket {self.key}: the rate must be positive and the burst at least 1")

    def seconds_for(self, tokens: int) -> float:
        """The time `tokens` take to come back, rounded up to the microsecond."""
        return math.ceil(tokens / self.rate_per_s * _MICROSECONDS) / _MICROSECONDS

    def turn_in(self, full_at: float, now: float) -> float:
        """How long from `now` until tokens taken up to `full_at` may be spent."""
        return max(0.0, full_at - now - self.burst / self.rate_per_s)


class BucketChangedError(ConcurrencyConflictError):
    """The bucket was not as the write assumed; `full_at` is what it holds now (None: no bucket stored)."""

    def __init__(self, key: str, full_at: float | None) -> None:
        super().__init__(f"rate bucket {key} changed under us")
        self.full_at = full_at


class TokenBuckets(Protocol):
    """Buckets in a store every container shares, each kept as the time it is full again (epoch seconds)."""

    def read(self, key: str) -> float | None:
        """The bucket's full_at (None: none stored, which is a full bucket)."""
        ...

    def restart(self, key: str, now: float, full_at: float) -> None:
        """Set a full bucket's full_at (one with none stored, or full_at <= now); otherwise raise BucketChangedError
        with the stored value, read in the same call, and write nothing."""
        ...

    def extend(self, key: str, now: float, seconds: float, latest: float) -> float:
        """Add `seconds` to full_at if it is after `now` and at most `latest`, in one atomic step, and return the
        new full_at; otherwise raise BucketChangedError with the stored value, and write nothing."""
        ...


@dataclass
class _Lease:
    left: int = 0
    used: int = 0
    valid_until: float = -math.inf


class SharedRateLimiter:
    """A CallBudget over a shared bucket: one per container and key (see the module docstring).

    `max_queue_s` bounds how far ahead a worker reserves; beyond it, it sleeps without writing until there is room
    (at least a quarter of `max_queue_s`, so that an overloaded fleet writes a few times per call, not in a loop).
    `max_wait_s` bounds all the waiting of one call for room: a call that would wait longer, or whose lease lost
    MAX_LOST_RACES writes in a row, raises TransientPlatformError (nothing sent; the job is retried)."""

    def __init__(
        self,
        buckets: TokenBuckets,
        rule: BucketRule,
        *,
        platform: str,
        max_lease: int = 5,
        lease_seconds: float = 0.5,
        max_queue_s: float = 2.0,
        max_wait_s: float = 10.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if max_lease < 1:
            raise ValueError(f"bucket {rule.key}: a lease is at least 1 token")
        self.rule = rule
        self._buckets = buckets
        self._platform = platform
        self._max_lease = min(max_lease, rule.burst)  # a lease beyond the burst would always wait
        self._lease_seconds = lease_seconds
        self._max_queue_s = max_queue_s
        self._max_wait_s = max_wait_s
        self._clock = clock
        self._sleep = sleep
        self._jitter = jitter
        self._lock = threading.Lock()
        self._lease = _Lease()
        self._full_at: float | None = None
        self._bucket_read = False

    def acquire(self) -> None:
        with self._lock:
            lease = self._lease
            if lease.left > 0 and self._clock() < lease.valid_until:
                lease.left -= 1
                lease.used += 1
                return
            size = self._next_lease_size()
            turn = self._take(size)
            self._lease = _Lease(left=size - 1, used=1, valid_until=turn + self._lease_seconds)

    def _next_lease_size(self) -> int:
        """Twice the last lease when it ran out while still valid (a busy caller), else what it used."""
        lease = self._lease
        ran_out_early = self._clock() < lease.valid_until
        wanted = 2 * lease.used if ran_out_early else lease.used
        return max(1, min(self._max_lease, wanted))

    def _take(self, count: int) -> float:
        """Take `count` tokens from the shared bucket, wait for their turn, and return when it came."""
        if not self._bucket_read:
            self._full_at = self._buckets.read(self.rule.key)
            self._bucket_read = True
        seconds = self.rule.seconds_for(count)
        waited = 0.0
        lost = 0
        carried: float | None = None  # the `now` of an attempt that found the bucket busy after all
        while True:
            now = round(self._clock(), 6) if carried is None else carried
            carried = None
            latest = now + self.rule.burst / self.rule.rate_per_s + self._max_queue_s - seconds
            full_at = self._full_at
            try:
                if full_at is None or full_at <= now:
                    self._full_at = round(now + seconds, 6)
                    self._buckets.restart(self.rule.key, now, self._full_at)
                elif full_at <= latest:
                    self._full_at = self._buckets.extend(self.rule.key, now, seconds, latest)
                else:
                    waited = self._wait_for_room(waited, full_at - latest, self.rule.turn_in(full_at, now))
                    continue
            except BucketChangedError as exc:
                self._full_at = exc.full_at
                if exc.full_at is not None and exc.full_at > now:
                    # Not full at `now` after all: add to it as of the same `now` (a fresh one could find it full
                    # again and lose the next race, over and over, to workers faster than the table's round trip).
                    lost += 0 if exc.full_at > latest else 1  # a full queue is no race
                    carried = now
                else:
                    lost += 1
                if lost >= MAX_LOST_RACES:
                    raise TransientPlatformError(
                        self._platform, f"not sent: the rate bucket {self.rule.key} lost {lost} writes in a row"
                    ) from exc
                continue
            return self._wait_for_turn(self._full_at)

    def _wait_for_turn(self, full_at: float) -> float:
        now = self._clock()
        turn_in = self.rule.turn_in(full_at, now)
        if turn_in > 0:
            self._sleep(turn_in)
        return now + turn_in

    def _wait_for_room(self, waited: float, room_in: float, turn_in: float) -> float:
        pause = max(room_in, self._max_queue_s / 4) * (1 + 0.5 * self._jitter())
        if waited + pause > self._max_wait_s:
            raise TransientPlatformError(
                self._platform, f"not sent: the rate bucket {self.rule.key} is spent for the next {turn_in:.1f} s"
            )
        self._sleep(pause)
        return waited + pause


class AllBudgets:
    """A CallBudget that takes one call from each of several budgets, in order (e.g. a myOGO merchant's bucket,
    then the deployment's): a call is made only when every one allows it."""

    def __init__(self, budgets: Sequence[CallBudget]) -> None:
        self._budgets = tuple(budgets)

    def acquire(self) -> None:
        for budget in self._budgets:
            budget.acquire()


@dataclass(frozen=True)
class RateSettings:
    """The rates ogosync keeps to (calls a second; each bucket's burst is twice its rate). Optional env:
    CENTRA_RATE_PER_S (10: a Centra store, per integration), MYOGO_MERCHANT_RATE_PER_S (10: one myOGO merchant
    account), MYOGO_SHARED_RATE_PER_S (100: the whole deployment's calls to myOGO). None is documented by the
    APIs' owners for these endpoints: docs/api/centra.md and docs/api/myogo.md, "Rate limits"."""

    store_rate_per_s: float = 10.0
    myogo_merchant_rate_per_s: float = 10.0
    myogo_shared_rate_per_s: float = 100.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> RateSettings:
        defaults = cls()
        return cls(
            store_rate_per_s=_rate(environ, "CENTRA_RATE_PER_S", defaults.store_rate_per_s),
            myogo_merchant_rate_per_s=_rate(environ, "MYOGO_MERCHANT_RATE_PER_S", defaults.myogo_merchant_rate_per_s),
            myogo_shared_rate_per_s=_rate(environ, "MYOGO_SHARED_RATE_PER_S", defaults.myogo_shared_rate_per_s),
        )


def _rate(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        rate = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of calls a second, not {raw!r}") from None
    if not 0 < rate < float("inf"):
        raise ConfigurationError(f"{name} must be a positive number of calls a second, not {raw!r}")
    return rate


def rule(key: str, rate_per_s: float) -> BucketRule:
    """A bucket of `rate_per_s` with a burst of two seconds' calls."""
    return BucketRule(key, rate_per_s, max(1, math.ceil(2 * rate_per_s)))


def store_budget(buckets: TokenBuckets, platform: str, integration_id: str, settings: RateSettings) -> CallBudget:
    """One store's budget: bucket `<platform>:<integration id>`."""
    return SharedRateLimiter(
        buckets, rule(f"{platform}:{integration_id}", settings.store_rate_per_s), platform=platform
    )


def myogo_shared_budget(buckets: TokenBuckets, settings: RateSettings) -> CallBudget:
    """The deployment's budget for myOGO (bucket `myogo:shared`): one per container, shared by its integrations."""
    return SharedRateLimiter(buckets, rule(MYOGO_SHARED_KEY, settings.myogo_shared_rate_per_s), platform=MYOGO)


def myogo_budget(buckets: TokenBuckets, merchant_id: str, shared: CallBudget, settings: RateSettings) -> CallBudget:
    """A myOGO merchant account's budget (bucket `myogo:<merchant id>`), then the deployment's."""
    merchant = SharedRateLimiter(
        buckets, rule(f"{MYOGO}:{merchant_id}", settings.myogo_merchant_rate_per_s), platform=MYOGO
    )
    return AllBudgets([merchant, shared])
