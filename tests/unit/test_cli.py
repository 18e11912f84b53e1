"""The CLI as a new user meets it, against a canned operator API (no stack): exit statuses that tell the outcome,
one-line errors without AWS credentials or a terminal, the integration id as an argument everywhere, help texts,
and a status table that reads at 80 columns."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result
from rich.console import Console

from ogosync_cli import render
from ogosync_cli.client import OperatorClient
from ogosync_cli.main import cli
from ogosync_cli.target import Target

ENQUEUED = "2026-11-29T20:00:00+00:00"
Answer = Callable[[httpx.Request], Any]


def _flow(flow: str, **changes: Any) -> dict[str, Any]:
    return {
        "flow": flow,
        "deployed": True,
        "interval_minutes": 5,
        "health": "ok",
        "result": "ok",
        "last_run_started": "2026-11-29T20:00:01+00:00",
        "last_run_ended": "2026-11-29T20:00:02+00:00",
        "last_counts": {"seen": 0},
        "last_error": None,
        "watermark": None,
        "lag_seconds": 3,
        "overdue": False,
    } | changes


def _state(*flows: dict[str, Any]) -> dict[str, Any]:
    return {"integration_id": "acme-centra", "status": "active", "held_orders": 0, "flows": list(flows)}


def _run(action: str, **changes: Any) -> dict[str, Any]:
    return {
        "integration_id": "acme-centra",
        "run_id": "r1",
        "action": action,
        "status": "succeeded",
        "requested_at": ENQUEUED,
        "requested_skus": 2,
        "started_at": ENQUEUED,
        "ended_at": ENQUEUED,
        "lock_expires_at": ENQUEUED,
        "done": 1,
        "total": 1,
        "counts": {"created": 1},
        "complete": True,
        "error": None,
    } | changes


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> dict[tuple[str, str], Answer]:
    """Routes ("POST", "/path") -> answer; the CLI's client talks to them instead of a stack."""
    routes: dict[tuple[str, str], Answer] = {}
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        route = routes.get((request.method, request.url.path))
        if route is None:
            return httpx.Response(404, json={"status": 404, "code": "no_such_route", "message": request.url.path})
        return httpx.Response(200, json=route(request))

    def client(self: Target, transport: httpx.BaseTransport | None = None) -> OperatorClient:
        return OperatorClient("http://127.0.0.1:9", transport=httpx.MockTransport(answer))

    monkeypatch.setattr(Target, "client", client)
    return routes


def ogosync(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--api-url", "http://127.0.0.1:9", *args], input=input)


# ---- exit statuses ------------------------------------------------------------------------------


def test_sync_wait_exits_1_when_the_run_failed_and_0_when_it_succeeded(api: dict[tuple[str, str], Answer]) -> None:
    api[("POST", "/integrations/acme-centra/flows/orders/run")] = lambda _: {
        "integration_id": "acme-centra",
        "flow": "orders",
        "enqueued_at": ENQUEUED,
    }
    error = "AuthenticationError: centra HTTP 401: Authorization failed"
    api[("GET", "/integrations/acme-centra/status")] = lambda _: _state(
        _flow("orders", health="errors", result="errors", last_error=error)
    )

    failed = ogosync("sync", "orders", "acme-centra", "--wait")
    api[("GET", "/integrations/acme-centra/status")] = lambda _: _state(_flow("orders"))
    succeeded = ogosync("sync", "orders", "acme-centra", "--wait", "--json")

    assert failed.exit_code == 1, failed.output
    assert "error: the orders run ended with errors: AuthenticationError: centra HTTP 401" in failed.stderr
    assert succeeded.exit_code == 0, succeeded.output
    assert json.loads(succeeded.stdout)["flows"][0]["result"] == "ok"


def test_products_create_exits_1_when_a_sku_is_not_in_the_store(api: dict[tuple[str, str], Answer]) -> None:
    api[("POST", "/integrations/acme-centra/products/create")] = lambda _: _run("create", status="queued")
    api[("GET", "/integrations/acme-centra/products/runs/latest")] = lambda _: _run(
        "create", counts={"created": 1, "not_in_store": 1}
    )

    result = ogosync("products", "create", "acme-centra", "CAPRED", "NOPE", "--wait")

    assert result.exit_code == 1, result.output
    assert "error: not every product was created: not_in_store=1" in result.stderr


@pytest.mark.parametrize(
    ("run", "code"),
    [
        (_run("create"), 0),
        (_run("create", counts={"created": 1, "ean_differs": 1}), 0),  # created, with a warning
        (_run("create", counts={"created": 3, "deferred": 2}, complete=False), 1),
        (_run("create", counts={"missing_sku": 1}), 1),
        (_run("refresh", status="failed", error="centra: HTTP 401"), 1),
        (_run("refresh", counts={"error": 3, "linked": 1}), 0),  # a refresh that lists errors did what it was asked
    ],
)
def test_a_product_run_exits_non_zero_unless_it_did_what_was_asked(
    api: dict[tuple[str, str], Answer], run: dict[str, Any], code: int
) -> None:
    api[("POST", f"/integrations/acme-centra/products/{run['action']}")] = lambda _: run | {"status": "queued"}
    api[("GET", "/integrations/acme-centra/products/runs/latest")] = lambda _: run
    args = ["products", run["action"], "acme-centra", *(["--all"] if run["action"] == "create" else []), "--wait"]

    assert ogosync(*args).exit_code == code


# ---- the integration id, and help -----------------------------------------------------------------


def test_sync_takes_the_integration_as_an_argument_and_the_old_option_still_works(
    api: dict[tuple[str, str], Answer],
) -> None:
    queued = {"integration_id": "acme-centra", "flow": "stock", "enqueued_at": ENQUEUED}
    api[("POST", "/integrations/acme-centra/flows/stock/run")] = lambda _: queued

    new = ogosync("sync", "stock", "acme-centra", "--json")
    old = ogosync("sync", "stock", "--integration", "acme-centra", "--json")
    neither = ogosync("sync", "stock")

    assert new.exit_code == 0 and json.loads(new.stdout) == queued
    assert old.exit_code == 0 and json.loads(old.stdout) == queued and "deprecated" in old.stderr
    assert neither.exit_code == 2 and "INTEGRATION_ID" in neither.output


def test_status_takes_the_integration_as_an_argument(api: dict[tuple[str, str], Answer]) -> None:
    api[("GET", "/integrations/acme-centra/status")] = lambda _: _state(_flow("orders"))

    shown = ogosync("status", "acme-centra", "--json")

    assert shown.exit_code == 0 and json.loads(shown.stdout)["integration_id"] == "acme-centra"


def test_sync_help_describes_every_flow_command() -> None:
    group = CliRunner().invoke(cli, ["sync", "--help"])
    orders = CliRunner().invoke(cli, ["sync", "orders", "--help"])

    for flow in ("orders", "products", "stock", "tracking"):
        assert re.search(rf"^\s+{flow}\s+Run the {flow} flow of an integration now", group.stdout, re.M), group.stdout
    assert "sync orders [OPTIONS] [INTEGRATION_ID]" in orders.stdout
    assert "Run the orders flow of INTEGRATION_ID now" in orders.stdout
    assert "--integration " not in orders.stdout  # the deprecated option is hidden


# ---- no AWS credentials, no terminal ----------------------------------------------------------------


def test_a_stack_without_aws_credentials_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    result = CliRunner().invoke(cli, ["--stack", "ogosync-prod", "integrations", "list"])

    assert result.exit_code == 1
    assert result.stderr == (
        "error: no AWS credentials found: set --profile (or AWS_PROFILE), or sign in with `aws sso login`\n"
    )


def test_an_unknown_profile_is_a_one_line_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))

    result = CliRunner().invoke(cli, ["--stack", "ogosync-prod", "--profile", "ghost", "status"])

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "ghost" in result.stderr


def test_a_missing_credential_without_a_terminal_is_a_clear_error(
    api: dict[tuple[str, str], Answer], tmp_path: Path
) -> None:
    credentials = tmp_path / "credentials.json"
    credentials.write_text(json.dumps({"store_api_key": "k", "myogo_merchant_id": "M-1"}))
    create = ["integrations", "create", "acme-centra", "--merchant-name", "Acme",
              "--store-url", "https://a.example", "--warehouse", "TLL", "--time-zone", "Europe/Stockholm",
              "--credentials-file", str(credentials)]  # fmt: skip

    result = ogosync(*create, input="")

    assert result.exit_code == 1
    assert "GetPassWarning" not in result.output and "Aborted" not in result.output
    assert result.stderr == (
        "Error: myogo_secret_token is needed: put it in the --credentials-file, or run the command at a terminal "
        "to type it\n"
    )


def test_a_credential_can_be_piped_without_a_terminal(api: dict[tuple[str, str], Answer]) -> None:
    sent: list[Any] = []

    def update(request: httpx.Request) -> dict[str, Any]:
        sent.append(json.loads(request.content))
        return {"id": "acme-centra"}

    api[("PATCH", "/integrations/acme-centra")] = update

    result = ogosync("integrations", "update", "acme-centra", "--webhook-secret", "--json", input="s3cr3t\n")

    assert result.exit_code == 0, result.output
    assert sent == [{"credentials": {"webhook_secret": "s3cr3t"}}]


def test_update_sets_the_notice_channels_and_takes_the_webhook_key_at_a_prompt(
    api: dict[tuple[str, str], Answer],
) -> None:
    sent: list[Any] = []

    def update(request: httpx.Request) -> dict[str, Any]:
        sent.append(json.loads(request.content))
        return {"id": "acme-centra"}

    api[("PATCH", "/integrations/acme-centra")] = update
    channels = ["--notify-email", "ops@acme.example", "--notify-webhook-url", "https://hooks.acme.example/n"]

    on = ogosync(
        "integrations", "update", "acme-centra", *channels, "--notify-webhook-secret", "--json", input="k" * 32
    )
    off = ogosync("integrations", "update", "acme-centra", "--notify-email", "", "--json")

    assert (on.exit_code, off.exit_code) == (0, 0), on.output + off.output
    assert sent == [
        {
            "settings": {"notify_email": "ops@acme.example", "notify_webhook_url": "https://hooks.acme.example/n"},
            "credentials": {"notify_webhook_secret": "k" * 32},
        },
        {"settings": {"notify_email": None}},
    ]


# ---- status at 80 columns -------------------------------------------------------------------------


def test_status_reads_at_80_columns_without_a_word_broken() -> None:
    error = "AuthenticationError: centra HTTP 401: Authorization failed for the Order API plugin's key"
    state = _state(
        _flow("orders", health="errors", result="errors", last_error=error, lag_seconds=7260,
              last_counts={"created": 12, "held": 3, "seen": 15, "skipped": 0}),
        _flow("products", health="not run yet", result="never_run", last_run_started=None, last_run_ended=None,
              lag_seconds=None, last_counts={}),
        _flow("stock", health="off", interval_minutes=0, last_counts={"not_in_store": 2, "oversold": 0}),
        _flow("tracking", health="not deployed", deployed=False),
    )  # fmt: skip
    console = Console(width=80, record=True, soft_wrap=False, highlight=False)

    render.flows(console, state)

    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 80
    words = {
        word
        for flow in state["flows"]
        for value in (flow["flow"], flow["health"], render.text(flow["last_counts"]), flow["last_error"] or "")
        for word in value.split()
    }
    words |= {"2026-11-29", "20:00:02", "UTC", "(2", "h", "ago)", "min", "off", "last", "run", "every", "counts"}
    cells = {cell for line in lines for cell in re.split(r"[\s│┃]+", line)}
    assert words - cells == set(), "\n".join(lines)
