"""The small Shopify chaos run of `make test` (`make chaos` runs more): the scenario and verdict of test_chaos.py
for a Shopify merchant, with THROTTLED answers (HTTP 200 and 429) and sales between the stock read and write."""

from __future__ import annotations

import pytest

from ogosync_local.chaos import render
from ogosync_local.chaos_platform import SMALL_RUN
from ogosync_local.chaos_shopify import run_shopify_chaos

pytestmark = pytest.mark.e2e
SMALL = SMALL_RUN


def test_a_shopify_store_converges_exactly_once_under_faults_throttling_and_kills() -> None:
    report = run_shopify_chaos(SMALL)

    assert report.converged, render(report, "test")
    cohorts = report.cohorts
    kinds = (cohorts.pending, cohorts.hidden, cohorts.cancelled, cohorts.late_cancelled)
    assert [len(cohort) for cohort in kinds] == [2, 2, 2, 1]
    assert report.duplicates == 0 and report.cancelled_shipped == [] and report.late_cancels_for_a_person == 1
    assert report.myogo_orders == report.paid_orders > 20  # the sales made during the stock run are orders too
    assert not report.tracking_problems and not report.stock_problems
    assert sum(report.kills.values()) > 0 and report.webhooks["duplicate"] > 0
    assert report.webhooks["sales between the stock read and write"] > 0
    assert all(sum(counts.values()) > 0 for counts in report.faults.values())
