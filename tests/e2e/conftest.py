"""End-to-end fixtures: a fresh local stack (moto + simulators + gateway) per test.

Its defaults keep the tests independent of the machine's speed: no message comes back and no claim runs out by the
clock; a test that wants a redelivery asks for it (run_flow/run_order_workers with redeliver_failures=True)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ogosync_local.stack import LocalStack


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    with LocalStack() as local:
        yield local
