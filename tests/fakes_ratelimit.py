"""In-memory shared rate buckets (ogosync.ratelimit.TokenBuckets), as state/rate_limits.py keeps them in DynamoDB;
tests/integration/test_rate_limits_contract.py holds both to one contract."""

from __future__ import annotations

import threading
from typing import NoReturn

from ogosync.ratelimit import BucketChangedError


class InMemoryTokenBuckets:
    """Each bucket's full_at by key, with the conditional writes and the counts of reads and writes (won or lost)
    a table bills."""

    def __init__(self) -> None:
        self.full_at: dict[str, float] = {}
        self.reads = 0
        self.writes = 0
        self.lost_writes = 0
        self._lock = threading.Lock()

    def read(self, key: str) -> float | None:
        with self._lock:
            self.reads += 1
            return self.full_at.get(key)

    def restart(self, key: str, now: float, full_at: float) -> None:
        with self._lock:
            current = self._written(key)
            if current is not None and current > now:
                self._lost(key, current)
            self.full_at[key] = full_at

    def extend(self, key: str, now: float, seconds: float, latest: float) -> float:
        with self._lock:
            current = self._written(key)
            if current is None or not now < current <= latest:
                self._lost(key, current)
            self.full_at[key] = round(current + seconds, 6)
            return self.full_at[key]

    def _written(self, key: str) -> float | None:
        self.writes += 1
        return self.full_at.get(key)

    def _lost(self, key: str, current: float | None) -> NoReturn:
        self.lost_writes += 1
        raise BucketChangedError(key, current)
