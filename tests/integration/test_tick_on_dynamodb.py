"""The scheduler's tick on a real DynamoDB API (moto over HTTP): its calls per integration are bounded, and what a
fleet of 10,000 or 100,000 costs each minute follows from them (docs/benchmarks.md, "Fleet")."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import pytest

from ogosync.models import Flow
from ogosync.state.dynamo import DynamoStateRepository
from ogosync.state.integrations import integration_item
from ogosync.state.table import Table
from ogosync.sync.schedule import OVERDUE_SWEEP_MINUTES, TICK_SEGMENTS, tick
from ogosync_local.aws import LocalAws, create_state_table, load_template
from tests.factories import T0, make_integration
from tests.fakes import FakeQueue
from tests.integration.conftest import ROOT

pytestmark = pytest.mark.integration
FLEET = 1500


def test_a_tick_over_a_fleet_makes_a_bounded_number_of_dynamodb_calls_per_integration(local_aws: LocalAws) -> None:
    client = local_aws.client("dynamodb")
    table_name = "ogosync-fleet-tick"
    create_state_table(client, table_name, load_template(ROOT / "template.yaml"))
    Table(client, table_name).batch_put([integration_item(make_integration(f"shop-{n:05d}")) for n in range(FLEET)])
    calls: Counter[str] = Counter()
    consistent: list[bool] = []

    def count(params: dict[str, Any], model: Any, **_: Any) -> None:
        calls[model.name] += 1
        if model.name == "BatchGetItem":
            consistent.extend(spec.get("ConsistentRead", False) for spec in params["RequestItems"].values())

    client.meta.events.register("before-parameter-build.dynamodb", count)
    result = tick(DynamoStateRepository(client, table_name), {flow: FakeQueue() for flow in Flow}, T0)

    integration_bytes = 700  # a CONFIG item is under this (docs/benchmarks.md, "Fleet")
    scan_pages = TICK_SEGMENTS * (1 + math.ceil(FLEET * integration_bytes / TICK_SEGMENTS / 2**20))
    swept, due_order_polls = FLEET * len(Flow) / OVERDUE_SWEEP_MINUTES, FLEET / 5  # this minute's shares
    cursor_batches = 2 * TICK_SEGMENTS + math.ceil(1.5 * (swept + due_order_polls) / 100)
    assert set(calls) <= {"Scan", "BatchGetItem"}  # no Query of every whole item, no read one by one
    assert calls["Scan"] <= scan_pages
    assert calls["BatchGetItem"] <= cursor_batches
    assert not any(consistent)  # the sweep's reads are eventually consistent: half the read units
    assert len({job.integration_id for job in result.dispatched}) > FLEET / 10  # the tick did dispatch the fleet
