"""The DynamoDB implementations the state contract suites run against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from ogosync_local.aws import LocalAws


@dataclass
class StateTable:
    client: Any
    name: str


def state_table(request: pytest.FixtureRequest, backend: str) -> StateTable:
    """The state table on `backend`: "moto" or "dynamodb-local"."""
    if backend == "moto":
        aws: LocalAws = request.getfixturevalue("local_aws")
        return StateTable(aws.client("dynamodb"), aws.table_name)
    table: StateTable = request.getfixturevalue("dynamodb_local_table")
    return table
