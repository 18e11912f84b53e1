"""Integration fixtures: AWS on a real loopback HTTP server (moto), built from template.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ogosync_local.aws import LocalAws, create_state_table, load_template, start_local_aws
from ogosync_local.dynamodb_local import DynamoDBLocal
from tests.integration.tables import StateTable

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    aws = start_local_aws(ROOT / "template.yaml", own_process=True)  # remote, as AWS is (the benchmarks' set-up)
    yield aws
    aws.stop()


@pytest.fixture(scope="session")
def dynamodb_local_table() -> Iterator[StateTable]:
    """The state table on Amazon's DynamoDB Local (real conditional-write semantics), for the whole session."""
    with DynamoDBLocal() as db:
        client = db.client()
        create_state_table(client, "ogosync-state", load_template(ROOT / "template.yaml"))
        yield StateTable(client, "ogosync-state")
