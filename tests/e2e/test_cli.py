"""The ogosync CLI against the operator API of the local stack, run the way a person runs it: every step of
setting up a Centra integration (seed 004), --help on every command, --json for scripts, and `local up|down`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from click.testing import CliRunner, Result

from ogosync.models import BindingStatus, Flow
from ogosync_cli.main import cli
from ogosync_local.stack import CentraMerchant, LocalStack

pytestmark = pytest.mark.e2e
SIZE = "TS100BLKM"


@pytest.fixture
def stack() -> Iterator[LocalStack]:
    with LocalStack(quiet=True) as local:
        yield local


@pytest.fixture
def merchant(stack: LocalStack) -> CentraMerchant:
    shop = stack.add_centra_merchant("acme-centra", shipping_codes={"POSTI", "POSTI-EXPRESS"})
    shop.centra.add_product("TS100", "BLK", "M", ean="7350000000017", stock=10)
    stack.myogo.add_product(shop.merchant_id, SIZE, stock=10)
    return shop


def ogosync(stack: LocalStack, *args: str, input: str | None = None, code: int = 0) -> Result:
    result = CliRunner().invoke(cli, ["--api-url", stack.operator.base_url, *args], input=input)
    assert result.exit_code == code, f"ogosync {' '.join(args)}: {result.output}{result.exception!r}"
    return result


def as_json(stack: LocalStack, *args: str) -> Any:
    return json.loads(ogosync(stack, *args, "--json").stdout)


def _credentials_file(tmp_path: Path, values: dict[str, str]) -> Path:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps(values))
    return path


def test_a_centra_integration_is_set_up_step_by_step_with_the_cli(
    stack: LocalStack, merchant: CentraMerchant, tmp_path: Path
) -> None:
    paid = merchant.centra.add_order([{"product": SIZE}], shipping_list="standard")["orderId"]
    express = merchant.centra.add_order([{"product": SIZE}], shipping_list="express")["orderId"]
    without_webhook_secret = {k: v for k, v in merchant.secret_values.items() if k != "webhook_secret"}
    credentials = _credentials_file(tmp_path, without_webhook_secret)

    # 1. Installing the integration: Base URL and API key, myOGO, warehouse, time zone, settings.
    created = ogosync(
        stack,
        "integrations", "create", "acme-centra",
        "--merchant-name", "Acme Apparel",
        "--store-url", merchant.centra.base_url,
        "--myogo-url", stack.myogo.root_url,
        "--myogo-token-url", stack.myogo_token_url,
        "--warehouse", "TLL",
        "--time-zone", "Europe/Stockholm",
        "--set", "order_poll_minutes=1",
        "--set", "stock_sync_minutes=15",
        "--credentials-file", str(credentials),
        input="\n",  # no webhook secret yet: the prompt is left empty
    )  # fmt: skip
    assert "Integration acme-centra" in created.stdout and "stock_sync_minutes" in created.stdout
    # 2. The webhook to paste into Centra, then its endpoint secret.
    webhook = as_json(stack, "integrations", "webhook", "acme-centra")
    assert webhook["url"] == f"{stack.gateway.base_url}/webhooks/centra/acme-centra"
    assert not webhook["secret_configured"]
    ogosync(stack, "integrations", "update", "acme-centra", "--webhook-secret",
            input=merchant.secret_values["webhook_secret"] + "\n")  # fmt: skip
    assert as_json(stack, "integrations", "webhook", "acme-centra")["secret_configured"]
    # 3. Shipping methods: the store's methods seen in orders, mapped to myOGO codes.
    methods = as_json(stack, "shipping", "list", "acme-centra")
    assert {m["store_method"] for m in methods["methods"]} == {"standard", "express"}
    ogosync(stack, "shipping", "set", "acme-centra", "standard", "POSTI")
    # 4. The first run, now, waiting for its result.
    pump = _pump(stack)
    try:
        ran = as_json(stack, "sync", "orders", "acme-centra", "--wait")
    finally:
        pump.set()
    orders_run = next(f for f in ran["flows"] if f["flow"] == "orders")
    assert orders_run["last_counts"] == {"created": 1, "held": 1, "seen": 2}
    held = as_json(stack, "orders", "held", "acme-centra")
    assert [(h["order_id"], h["holds"][0]["reason"]) for h in held] == [(express, "unmapped_shipping_method")]
    # 5. The fix, and the release of what was held.
    ogosync(stack, "shipping", "set", "acme-centra", "express", "POSTI-EXPRESS")
    assert as_json(stack, "orders", "release", "acme-centra", "--all")["order_ids"] == [express]
    stack.run_order_workers()
    shown = ogosync(stack, "orders", "show", "acme-centra", express)
    assert "sent" in shown.stdout and "created in myOGO as" in shown.stdout
    binding = stack.state().get_order_binding("acme-centra", paid)
    assert binding is not None and binding.status is BindingStatus.SENT
    # 6. Status for a person and for a script.
    assert "acme-centra (active, 0 held orders)" in ogosync(stack, "status").stdout
    (state,) = as_json(stack, "status")["integrations"]
    assert next(f for f in state["flows"] if f["flow"] == "orders")["result"] == "ok"
    assert {q["queue"] for q in as_json(stack, "dlq", "list")} == {
        "order-import",
        "orders-flow",
        "products-flow",
        "stock-flow",
        "tracking-flow",
    }
    # 7. Pause, resume, delete.
    assert as_json(stack, "integrations", "pause", "acme-centra")["status"] == "paused"
    assert as_json(stack, "integrations", "resume", "acme-centra")["status"] == "active"
    ogosync(stack, "integrations", "delete", "acme-centra", input="n\n", code=1)  # asked, and refused
    assert as_json(stack, "integrations", "delete", "acme-centra", "--yes")["integration_id"] == "acme-centra"
    assert as_json(stack, "integrations", "list") == []


def test_the_product_page_with_the_cli(stack: LocalStack, merchant: CentraMerchant, tmp_path: Path) -> None:
    """Refresh, the list with filters (a table, and JSON), create picked SKUs and all, waiting with progress."""
    merchant.centra.add_product("CAP", "RED", "", ean="7350000000020", name="Red cap")
    merchant.centra.add_product("", name="Gift card")
    create = ["integrations", "create", "acme-centra", "--merchant-name", "Acme", "--store-url",
              merchant.centra.base_url, "--myogo-url", stack.myogo.root_url, "--myogo-token-url",
              stack.myogo_token_url, "--warehouse", "TLL", "--time-zone", "Europe/Stockholm",
              "--credentials-file", str(_credentials_file(tmp_path, merchant.secret_values))]  # fmt: skip
    ogosync(stack, *create)
    ogosync(stack, "products", "create", "acme-centra", code=2)  # neither SKUs nor --all: a usage error

    with stack.background_workers(Flow.PRODUCTS):
        refreshed = as_json(stack, "products", "refresh", "acme-centra", "--wait")
        table = ogosync(stack, "products", "list", "acme-centra", "--state", "error").stdout
        found = as_json(stack, "products", "list", "acme-centra", "--search", "cap")
        picked = as_json(stack, "products", "create", "acme-centra", "CAPRED", "--wait")
        # The gift card has no SKU: not every product could be created, so the exit status is 1.
        everything = ogosync(stack, "products", "create", "acme-centra", "--all", "--wait", code=1).stdout
        latest = as_json(stack, "products", "status", "acme-centra")

    assert (refreshed["status"], refreshed["counts"]["error"], refreshed["counts"]["not_in_myogo"]) == (
        "succeeded",
        1,
        1,
    )
    assert "Gift card" in table and "missing_sku" in table and "1 matching" in table
    assert [row["sku"] for row in found["rows"]] == ["CAPRED"]
    assert (picked["status"], picked["counts"]) == ("succeeded", {"created": 1})
    assert "Product create of acme-centra" in everything and "succeeded" in everything
    assert latest["counts"] == {"inactive": 0, "missing_sku": 1, "unchanged": 1, "updated": 1}
    assert set(stack.myogo.products(merchant.merchant_id)) == {SIZE, "CAPRED"}


def test_choices_are_checked_with_myogo_and_refusals_name_the_valid_ones(
    stack: LocalStack, merchant: CentraMerchant, tmp_path: Path
) -> None:
    create = ["integrations", "create", "acme-centra", "--merchant-name", "Acme", "--store-url",
              merchant.centra.base_url + "/", "--myogo-url", stack.myogo.root_url, "--myogo-token-url",
              stack.myogo_token_url, "--time-zone", "Europe/Stockholm",
              "--credentials-file", str(_credentials_file(tmp_path, merchant.secret_values))]  # fmt: skip

    warehouse = ogosync(stack, *create, "--warehouse", "XXX", code=1)
    setting = ogosync(stack, *create, "--warehouse", "TLL", "--set", "stock_minutes=15", code=1)
    zone = ogosync(stack, *create[:-4], "--time-zone", "Europe/Stokholm", *create[-2:], "--warehouse", "TLL", code=1)
    created = as_json(stack, *create, "--warehouse", "TLL", "--set", "stock_sync_minutes=0")
    code = ogosync(stack, "shipping", "set", "acme-centra", "standard", "NOPE", code=1)
    mapped = as_json(stack, "shipping", "set", "acme-centra", "standard", "POSTI")
    status = ogosync(stack, "status", "acme-centra").stdout

    assert warehouse.stderr.strip() == (
        "error: warehouse: myOGO has no warehouse 'XXX' for this merchant: the warehouses are GOT, TLL, VNT "
        "(field: warehouse)"
    )
    assert "unknown setting stock_minutes: the settings are order_poll_minutes," in setting.stderr
    assert "Extra inputs" not in setting.stderr
    assert "did you mean Europe/Stockholm" in zone.stderr
    assert created["store_base_url"] == merchant.centra.base_url  # stored without the trailing slash
    assert code.stderr == (
        "error: myogo_code: myOGO has no shipping method 'NOPE' enabled for this merchant: the codes are POSTI, "
        "POSTI-EXPRESS (field: myogo_code)\n"
    )
    assert mapped["checked"] and stack.state().shipping_map("acme-centra") == {"standard": "POSTI"}
    assert "not run yet" in status and "overdue" not in status
    assert re.search(r"stock\s+│ off\s+│", status), status


def test_dead_letters_are_moved_back_with_a_progress_bar(stack: LocalStack) -> None:
    sqs = stack.aws.client("sqs")
    for _ in range(3):
        sqs.send_message(QueueUrl=stack.aws.queue_urls["OrderDLQ"], MessageBody="{}")

    moved = as_json(stack, "dlq", "redrive")

    assert moved == [{"queue": "order-import", "moved": 3, "failed": 0, "dead_letters_left": 0}]
    assert stack.queue_depth("OrderQueue") == 3


def test_errors_are_one_line_for_people_and_the_error_shape_for_scripts(stack: LocalStack) -> None:
    person = ogosync(stack, "integrations", "show", "ghost-shop", code=1)
    script = ogosync(stack, "integrations", "show", "ghost-shop", "--json", code=1)

    assert person.stderr == "error: no integration with id 'ghost-shop'\n"
    assert json.loads(script.stdout) == {
        "status": 404,
        "code": "unknown_integration",
        "message": "no integration with id 'ghost-shop'",
        "field": None,
    }
    wrong = ogosync(stack, "sync", "stock", "--integration", "ghost-shop", code=1)
    assert "ghost-shop" in wrong.stderr


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield prefix
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name)


def test_every_command_has_help_and_every_leaf_has_json() -> None:
    commands = list(_commands(cli))
    for path in commands:
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0 and result.stdout.startswith("Usage: "), path
        leaf = cli
        for name in path:
            leaf = leaf.commands[name]  # type: ignore[attr-defined]
        if not isinstance(leaf, click.Group) and path != ("openapi",):
            assert "--json" in result.stdout, path
    assert {("sync", flow) for flow in ("orders", "products", "stock", "tracking")} <= set(commands)


def test_local_up_serves_the_operator_api_and_down_stops_it(tmp_path: Path) -> None:
    env = os.environ | {"OGOSYNC_HOME": str(tmp_path), "POWERTOOLS_LOG_LEVEL": "WARNING"}
    env.pop("OGOSYNC_API_URL", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 (our own CLI)
            [sys.executable, "-m", "ogosync_cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            check=True,
        )

    up = json.loads(run("local", "up", "--json").stdout)
    try:
        assert up["operator_url"].startswith("http://127.0.0.1:")
        assert json.loads(run("integrations", "list", "--json").stdout) == []
        sample = up["sample"]
        assert (Path(sample["credentials_file"]).stat().st_mode & 0o777) == 0o600
        shop = up["shopify_sample"]
        app = json.loads(Path(shop["credentials_file"]).read_text())["store"]
        assert (Path(shop["credentials_file"]).stat().st_mode & 0o777) == 0o600
        grant = {
            "grant_type": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
        }
        assert httpx.post(f"{shop['store_url']}/admin/oauth/access_token", data=grant).status_code == 200
    finally:
        down = json.loads(run("local", "down", "--json").stdout)
    assert down == {"stopped": True}
    assert not (tmp_path / "local.json").exists()


def _pump(stack: LocalStack) -> threading.Event:
    """Drain the poll queue in the background, as Lambda would, until the returned event is set."""
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(0.2):
            stack.run_flow(Flow.ORDERS)

    threading.Thread(target=run, daemon=True).start()
    return stop
