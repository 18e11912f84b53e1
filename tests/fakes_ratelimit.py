"""In-memory shared rate buckets (ogosync.ratelimit.TokenBuckets), as state/rate_limits.py keeps them in DynamoDB;
tests/integration/test_rate_limits_contract.py holds both to one contract."""

from __future__ import annotations

import threading

from ogosync.ratelimit import BucketChangedError, BucketState


class InMemoryTokenBuckets:
    """Buckets by key, with the conditional write and the counts of reads and writes (won or lost) a table bills."""

    def __init__(self) -> None:
        self.buckets: dict[str, BucketState] = {}
        self.reads = 0
        self.writes = 0
        self.lost_writes = 0
        self._lock = threading.Lock()

    def read(self, key: str) -> BucketState | None:
        with self._lock:
            self.reads += 1
            return self.buckets.get(key)

    def replace(self, key: str, expected: BucketState | None, new: BucketState) -> None:
        with self._lock:
            self.writes += 1
            current = self.buckets.get(key)
            stored_version = None if current is None else current.version
            expected_version = None if expected is None else expected.version
            if stored_version != expected_version:
                self.lost_writes += 1
                raise BucketChangedError(key, current)
            self.buckets[key] = new
