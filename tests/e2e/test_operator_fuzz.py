"""A fuzz of the operator API from its own OpenAPI document (schemathesis): data that fits the schema and data
that does not, for every operation, over real HTTP on the local stack. No answer may be a 5xx.

Generated URLs point anywhere: name resolution is refused for every host but loopback, so nothing leaves the
machine (a refused store or myOGO is then a 422 of the credentials check)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.generation import GenerationMode

from ogosync_local.stack import LocalStack
from tests.operator_api import create_body

pytestmark = pytest.mark.e2e
EXAMPLES_PER_OPERATION_AND_MODE = 10  # bounds the work; no wall-clock budget (timings: docs/benchmarks.md)


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    resolve = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        answers = resolve(host, *args, **kwargs) if host in ("localhost", "127.0.0.1", "::1") else []
        if not answers or not all(answer[4][0] in ("127.0.0.1", "::1") for answer in answers):
            raise socket.gaierror(socket.EAI_NONAME, f"{host}: only loopback in tests")
        return answers

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    with LocalStack(quiet=True) as local:
        merchant = local.add_centra_merchant("acme-centra", shipping_codes={"POSTI"})
        merchant.centra.add_order(shipping_list="standard")
        created = httpx.post(f"{local.operator.base_url}/integrations", json=create_body(local, merchant), timeout=30)
        assert created.status_code == 201, created.text
        yield local


def test_no_request_the_schema_allows_or_forbids_gets_a_5xx(stack: LocalStack, loopback_only: None) -> None:
    base_url = stack.operator.base_url
    document = httpx.get(f"{base_url}/openapi.json").json()
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == sum(len(methods) for methods in document["paths"].values())

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES_PER_OPERATION_AND_MODE,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def call(case: schemathesis.Case) -> None:
                response = case.call(base_url=base_url, timeout=30)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text}")

            call()
    assert failures == []
