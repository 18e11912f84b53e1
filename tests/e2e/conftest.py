"""End-to-end fixtures: a fresh local stack (moto + simulators + gateway) per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ogosync_local.stack import LocalStack


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    with LocalStack(visibility_timeout_s=1, claim_lease_seconds=1) as local:
        yield local
