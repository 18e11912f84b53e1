"""The small WooCommerce chaos run of `make test` (`make chaos` runs more): the scenario and verdict of test_chaos.py
for a WooCommerce merchant, with per-item batch errors, 413s and sales between the stock read and write (no
compare-and-swap: each wrong value written must be corrected by a later run)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ogosync_local.chaos_platform import SMALL_RUN
from ogosync_local.chaos_woocommerce import render_woocommerce, run_woocommerce_chaos

pytestmark = pytest.mark.e2e
SMALL = replace(SMALL_RUN, products=8)


def test_a_woocommerce_store_converges_exactly_once_under_faults_kills_and_sales_between_read_and_write() -> None:
    report = run_woocommerce_chaos(SMALL)

    assert report.converged, render_woocommerce(report, "test")
    cohorts = report.cohorts
    kinds = (cohorts.pending, cohorts.hidden, cohorts.cancelled, cohorts.late_cancelled)
    assert [len(cohort) for cohort in kinds] == [2, 2, 2, 1]
    assert report.duplicates == 0 and report.missing == [] and report.cancelled_shipped == []
    assert report.late_cancels_for_a_person == 1
    assert report.myogo_orders == report.paid_orders > 20  # the sales made during the stock run are orders too
    assert not report.tracking_problems and not report.stock_problems
    assert sum(report.kills.values()) > 0 and report.webhooks["duplicate"] > 0
    assert report.changed_writes and not report.uncorrected  # sales overwrote our value, later runs mended it
    assert report.batch_item_errors > 0 and report.batch_refusals > 0
    assert all(sum(counts.values()) > 0 for counts in report.faults.values())
