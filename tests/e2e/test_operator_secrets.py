"""No secret appears in any API answer, CLI output or log line, nor in DynamoDB (invariant 6).

Known, distinctive credential values go through every route and CLI command that takes or could show them, in
success and failure (refused credentials, invalid requests, rotations); then every answer, every CLI output, every
log record and line written, and every table item is searched for them."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from ogosync.models import Flow
from ogosync_cli.main import cli
from ogosync_local.lambdas import load_handler
from ogosync_local.stack import CentraMerchant, LocalStack
from tests.operator_api import create_body

pytestmark = pytest.mark.e2e
SECRET_FIELDS = ("store_api_key", "webhook_secret", "myogo_secret_token", "myogo_client_secret")


class Records(logging.Handler):
    """Every log record, as the line its logger writes (Powertools' JSON for the functions' loggers)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def records(stack: LocalStack) -> Iterator[Records]:
    """Records of every logger, with the functions' loggers at their most talkative."""
    for function in ("operator_api", "order_poll", "order_import"):
        load_handler(function)  # their loggers exist from here on
    names = [name for name in logging.root.manager.loggerDict if name.startswith("ogosync")]
    loggers = [logging.getLogger(), *map(logging.getLogger, names)]
    levels = [logger.level for logger in loggers]
    added: list[tuple[logging.Logger, Records]] = []
    collector = Records()
    for logger in loggers:
        if logger.handlers or logger is loggers[0]:  # Powertools' loggers do not propagate: one handler each
            handler = Records()
            handler.lines = collector.lines
            handler.setFormatter(logger.handlers[0].formatter if logger.handlers else None)
            logger.addHandler(handler)
            added.append((logger, handler))
        logger.setLevel(logging.DEBUG)
    yield collector
    for logger, handler in added:
        logger.removeHandler(handler)
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    with LocalStack(quiet=True) as local:
        yield local


def _distinctive(merchant: CentraMerchant) -> dict[str, str]:
    """The merchant's secrets: random 32-character values, which cannot appear by chance. The myOGO client secret is
    left out: the simulator uses the reference's public demo pair (abcdef), which is not a secret."""
    return {name: merchant.secret_values[name] for name in SECRET_FIELDS if name != "myogo_client_secret"}


def test_no_secret_in_answers_cli_output_logs_or_dynamodb(
    stack: LocalStack, records: Records, capfd: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    merchant = stack.add_centra_merchant("acme-centra", shipping_codes={"POSTI"})
    known = _distinctive(merchant)
    credentials = dict(merchant.secret_values)
    seen: list[str] = []
    api = httpx.Client(base_url=stack.operator.base_url, timeout=30)

    def call(method: str, path: str, **kwargs: object) -> None:
        response = api.request(method, path, **kwargs)  # type: ignore[arg-type]
        seen.append(f"{response.status_code} {response.headers} {response.text}")

    # The API: refused credentials, an invalid request that carries them, then a good create and every read.
    body = create_body(stack, merchant, credentials=credentials)
    call("POST", "/integrations", json=body | {"credentials": credentials | {"myogo_secret_token": "wrong-token"}})
    call("POST", "/integrations", json=body | {"settings": {"order_poll_minutes": known["store_api_key"]}})
    call("POST", "/integrations", json=body | {"credentials": credentials | {"colour": known["webhook_secret"]}})
    call("POST", "/integrations", json=body)
    rotated = f"SECRET-rotated-{secrets.token_hex(8)}"
    known["rotated"] = rotated
    merchant.centra.api_key = rotated
    call("PATCH", "/integrations/acme-centra", json={"credentials": {"store_api_key": rotated}})
    call("PATCH", "/integrations/acme-centra", json={"credentials": {"store_api_key": 12345}})
    for path in ("/integrations", "/integrations/acme-centra", "/integrations/acme-centra/webhook", "/status"):
        call("GET", path)
    call("GET", "/integrations/acme-centra/shipping-methods")
    merchant.centra.add_order(shipping_list="express")
    call("POST", "/integrations/acme-centra/flows/orders/run")
    stack.run_flow(Flow.ORDERS)
    call("GET", "/integrations/acme-centra/held-orders")
    call("GET", "/integrations/acme-centra/orders/1001")
    merchant.centra.add_product("TS100", "BLK", "M", ean="7350000000017", name="Tee")
    call("POST", "/integrations/acme-centra/products/refresh")
    call("POST", "/integrations/acme-centra/products/create", json={"skus": [known["store_api_key"]]})  # a 409
    stack.run_flow(Flow.PRODUCTS)
    call("POST", "/integrations/acme-centra/products/create", json={})
    stack.run_flow(Flow.PRODUCTS)
    call("GET", "/integrations/acme-centra/products")
    call("GET", "/integrations/acme-centra/products/runs/latest")
    # The CLI: create (file and hidden prompt), show, update with a typed secret, list; tables and JSON.
    cli_known = {name: f"SECRET-cli-{name}-{secrets.token_hex(8)}" for name in ("store_api_key", "webhook_secret")}
    known |= cli_known
    second = stack.add_centra_merchant("cli-shop", shipping_codes={"POSTI"})
    second.centra.api_key = cli_known["store_api_key"]
    file = tmp_path / "credentials.json"
    file.write_text(json.dumps({k: v for k, v in second.secret_values.items() if k not in cli_known} | {
        "store_api_key": cli_known["store_api_key"]
    }))  # fmt: skip
    runner = CliRunner()
    base = ["--api-url", stack.operator.base_url]
    create = ["integrations", "create", "cli-shop", "--merchant-name", "Cli", "--store-url", second.centra.base_url,
              "--myogo-url", stack.myogo.root_url, "--myogo-token-url", stack.myogo_token_url, "--warehouse", "TLL",
              "--time-zone", "Europe/Stockholm", "--credentials-file", str(file)]  # fmt: skip
    outputs = [
        runner.invoke(cli, [*base, *create], input=cli_known["webhook_secret"] + "\n"),
        runner.invoke(cli, [*base, *create, "--json"], input=cli_known["webhook_secret"] + "\n"),  # 409
        runner.invoke(cli, [*base, "integrations", "show", "cli-shop"]),
        runner.invoke(cli, [*base, "integrations", "show", "cli-shop", "--json"]),
        runner.invoke(cli, [*base, "integrations", "update", "cli-shop", "--webhook-secret"], input="typed\n"),
        runner.invoke(cli, [*base, "integrations", "webhook", "cli-shop"]),
        runner.invoke(cli, [*base, "integrations", "list", "--json"]),
        runner.invoke(cli, [*base, "status"]),
        runner.invoke(cli, [*base, "products", "list", "acme-centra"]),
        runner.invoke(cli, [*base, "products", "status", "acme-centra", "--json"]),
    ]
    assert [result.exit_code for result in outputs] == [0, 1, 0, 0, 0, 0, 0, 0, 0, 0], [r.output for r in outputs]
    seen += [result.output for result in outputs]
    written = capfd.readouterr()
    items = stack.aws.client("dynamodb").scan(TableName=stack.aws.table_name)["Items"]

    assert any('"message":"operator request"' in line for line in records.lines), "no log line: nothing proved"
    assert any('"level":"DEBUG"' in line for line in records.lines)
    haystacks = {
        "answers and CLI output": "\n".join(seen),
        "log records": "\n".join(records.lines),
        "stdout and stderr": written.out + written.err,
        "DynamoDB items": json.dumps(items),
    }
    leaks = {(where, name) for where, text in haystacks.items() for name, value in known.items() if value in text}
    assert leaks == set()
    assert "credentials_check_failed" in haystacks["answers and CLI output"], "a refusal was among the answers"
