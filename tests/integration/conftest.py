"""Integration fixtures: AWS on a real loopback HTTP server (moto), built from template.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ogosync_local.aws import LocalAws, start_local_aws

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    aws = start_local_aws(ROOT / "template.yaml")
    yield aws
    aws.stop()
