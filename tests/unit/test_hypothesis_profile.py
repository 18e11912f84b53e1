"""Property tests are bounded by their examples, not by time (tests/conftest.py): an example slowed down by a busy
machine is not a failure."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

BUSY_MACHINE_PAUSE_S = 0.3  # longer than Hypothesis' default deadline of 200 ms


@settings(max_examples=2)
@given(st.integers())
def test_an_example_slower_than_hypothesis_default_deadline_is_not_a_failure(number: int) -> None:
    time.sleep(BUSY_MACHINE_PAUSE_S)

    assert settings().deadline is None and isinstance(number, int)
