"""The small chaos run of `make test` (`make chaos` runs 1,000 orders): faults on both simulators, duplicate, lost
and reordered webhooks, workers killed mid-invocation; every flow must still converge exactly once."""

from __future__ import annotations

import pytest

from ogosync.state.dynamo import DynamoStateRepository
from ogosync.warehouse.myogo import MyOgoWarehouse
from ogosync_local.chaos import KILL_POINTS, ChaosConfig, render, run_chaos

pytestmark = pytest.mark.e2e
SMALL = ChaosConfig(
    orders=20,
    products=6,
    retry_after_s=0.1,
    client_timeout_s=0.3,
    kill_rate=0.3,
    max_rounds=8,
    garbled_share=0.05,
    object_lines_share=0.05,
    pending_share=0.1,
    cancel_share=0.1,
    late_cancel_share=0.05,
    hidden_share=0.05,
)


def test_whole_cycle_converges_exactly_once_under_faults_and_kills() -> None:
    report = run_chaos(SMALL)

    assert report.converged, render(report, "test")
    cohorts = report.cohorts
    kinds = (cohorts.garbled, cohorts.object_lines, cohorts.pending, cohorts.late_cancelled, cohorts.hidden)
    assert ([len(c) for c in kinds], len(cohorts.cancelled)) == ([1, 1, 2, 1, 1], 2)  # each odd datum and action
    assert (report.myogo_orders, report.duplicates, report.shipped) == (20, 0, 18)  # the 2 cancelled in time
    assert report.held_unreadable == 1 and report.cancelled_in_myogo == 2 and report.cancelled_shipped == []
    assert report.late_cancels_for_a_person == 1
    assert not report.tracking_problems and not report.stock_problems
    assert sum(report.kills.values()) > 0  # the run did kill workers...
    assert all(sum(counts.values()) > 0 for counts in report.faults.values())  # ...and both simulators misbehaved
    assert report.webhooks["duplicate"] > 0


def test_a_worker_killed_between_the_myogo_write_and_the_state_write_sends_no_second_order() -> None:
    between = tuple(
        point
        for point in KILL_POINTS
        if point[:2] in {(MyOgoWarehouse, "create_order"), (DynamoStateRepository, "mark_order_sent")}
    )
    quiet = ChaosConfig(
        orders=8,
        products=4,
        error_rate=0,
        rate_limit_rate=0,
        timeout_rate=0,
        kill_rate=0.8,
        kill_reach=2,
        kill_points=between,
        garbled_share=0,
        object_lines_share=0,
        pending_share=0,
        cancel_share=0,
        late_cancel_share=0,
        hidden_share=0,
    )
    report = run_chaos(quiet)

    assert report.kills["at MyOgoWarehouse.create_order"] + report.kills["at DynamoStateRepository.mark_order_sent"]
    assert report.converged, render(report, "test")
    assert (report.myogo_orders, report.duplicates) == (8, 0)
