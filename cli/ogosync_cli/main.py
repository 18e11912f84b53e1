"""The `ogosync` command: every step of setting up a store integration, and what happened since.

It talks to the operator API: by default the local stack (`ogosync local up`); with --stack (and --profile,
--region) a deployed one, signing each request with SigV4; or any --api-url. Every command has --help and --json.
Credentials are read from a file or typed at a hidden prompt, and never printed.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ogosync.models import (
    BLOCKING_PROBLEMS,
    Credentials,
    Flow,
    IntegrationSettings,
    Platform,
    ProductProblemKind,
    ProductState,
)
from ogosync.stores import registry
from ogosync_cli import local, render
from ogosync_cli.client import ApiError, OperatorClient
from ogosync_cli.target import Target

CREDENTIAL_FIELDS = tuple(name for name in Credentials.model_fields if name != "store")  # the store's: per platform
SECRET_FIELDS = frozenset(
    name for name, field in Credentials.model_fields.items() if "SecretStr" in str(field.annotation)
)
STORE_KEY_ALIASES = {"store_api_key": "api_key"}  # Centra credentials files from before platforms had their own
ADDED_LATER = frozenset({"webhook_secret", "myogo_webhook_key"})  # may be left empty on create
NOT_ASKED_ON_CREATE = frozenset({"myogo_webhook_key", "notify_webhook_secret"})  # they come with a webhook, later
SETTINGS_HELP = ", ".join(IntegrationSettings.model_fields)
F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Session:
    target: Target
    _client: OperatorClient | None = None

    @property
    def api(self) -> OperatorClient:
        if self._client is None:
            self._client = self.target.client()
        return self._client


def json_option(command: F) -> F:
    """--json on a command: print the API's answer as JSON instead of tables."""
    return click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON (for scripts).")(command)


def api_errors(command: F) -> F:
    """An API error becomes a message (or its JSON with --json) and exit status 1, not a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ApiError as error:
            if kwargs.get("as_json"):
                click.echo(json.dumps(error.as_dict(), indent=2, sort_keys=True))
            else:
                where = f" (field: {error.field})" if error.field else ""
                click.echo(f"error: {error.message}{where}", err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def session() -> Session:
    found = click.get_current_context().find_object(Session)
    assert found is not None, "every command runs under the ogosync group"
    return found


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("--api-url", envvar="OGOSYNC_API_URL", help="The operator API's URL (default: the local stack).")
@click.option("--stack", envvar="OGOSYNC_STACK", help="A deployed stack's name: its OperatorApiUrl output is used.")
@click.option("--profile", envvar="AWS_PROFILE", help="AWS profile for a deployed stack (SigV4 signing).")
@click.option("--region", envvar="AWS_REGION", help="AWS region of a deployed stack.")
@click.option(
    "--home",
    envvar="OGOSYNC_HOME",
    type=click.Path(path_type=Path),
    default=Path.home() / ".ogosync",
    show_default=True,
    help="Where `ogosync local up` keeps its state.",
)
@click.pass_context
def cli(
    ctx: click.Context, api_url: str | None, stack: str | None, profile: str | None, region: str | None, home: Path
) -> None:
    """ogosync: connect online stores with the myOGO warehouse, set-up and status."""
    ctx.obj = Session(Target(api_url=api_url, stack=stack, profile=profile, region=region, home=home))


# ---- local stack --------------------------------------------------------------------------------


@cli.group("local")
def local_group() -> None:
    """The local stack for development (simulated AWS, stores and myOGO on loopback)."""


@local_group.command("up")
@click.option("--sample/--no-sample", default=True, show_default=True, help="Start a simulated store to set up.")
@json_option
@api_errors
def local_up(sample: bool, as_json: bool) -> None:
    """Start the local stack in the background (or show the running one)."""
    home = session().target.home
    with _spinner("starting the local stack", as_json):
        state = local.up(home, sample=sample)
    render.emit(state, as_json, lambda out, data: out.print(render.fields("Local stack", _flat(data))))


@local_group.command("down")
@json_option
def local_down(as_json: bool) -> None:
    """Stop the local stack."""
    stopped = local.down(session().target.home)
    render.emit({"stopped": stopped}, as_json, lambda out, _: out.print("stopped" if stopped else "not running"))


@local_group.command("status")
@json_option
def local_status(as_json: bool) -> None:
    """Show whether the local stack runs, and its URLs."""
    state = local.running(session().target.home)
    render.emit(
        state,
        as_json,
        lambda out, data: out.print(render.fields("Local stack", _flat(data)) if data else "not running"),
    )


# ---- integrations -------------------------------------------------------------------------------


@cli.group("integrations")
def integrations_group() -> None:
    """Create, show, change, pause, resume and delete integrations; the webhook to paste into the store."""


@integrations_group.command("list")
@json_option
@api_errors
def integrations_list(as_json: bool) -> None:
    """List every integration."""
    render.emit(session().api.call("GET", "/integrations"), as_json, render.integrations)


@integrations_group.command("show")
@click.argument("integration_id")
@json_option
@api_errors
def integrations_show(integration_id: str, as_json: bool) -> None:
    """Show an integration and its settings (never its credentials)."""
    render.emit(session().api.call("GET", f"/integrations/{integration_id}"), as_json, render.integration)


def _integration_options(create: bool) -> Callable[[F], F]:
    def decorate(command: F) -> F:
        options = [
            click.option("--merchant-name", required=create, help="The merchant's name."),
            click.option(
                "--store-url", required=create, help="The store's API base URL (`ogosync integrations platforms`)."
            ),
            click.option("--myogo-url", help="myOGO API base URL (default https://api.ogoship.com)."),
            click.option(
                "--myogo-token-url", help="myOGO OAuth token URL (default https://my.ogoship.com/OAuth/Token)."
            ),
            click.option(
                "--warehouse", required=create, help="The myOGO warehouse, e.g. TLL (checked with the myOGO account)."
            ),
            click.option("--time-zone", required=create, help="The store's time zone, e.g. Europe/Stockholm."),
            click.option(
                "--set",
                "settings",
                multiple=True,
                metavar="NAME=VALUE",
                help="A setting (repeatable), e.g. --set stock_sync_minutes=15; an interval of 0 switches that flow's "
                f"scheduled runs off. Names: {SETTINGS_HELP}.",
            ),
            click.option(
                "--option",
                "store_options",
                multiple=True,
                metavar="NAME=VALUE",
                help="An option of the store's platform (repeatable), e.g. --option location_id=123 for Shopify "
                "(`ogosync integrations platforms` lists them).",
            ),
            click.option(
                "--credentials-file",
                type=click.Path(exists=True, dir_okay=False, path_type=Path),
                help=f"A JSON file with the credentials ({', '.join(CREDENTIAL_FIELDS)}, and the store platform's "
                "own: `ogosync integrations platforms`).",
            ),
        ]
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


@integrations_group.command("create")
@click.argument("integration_id")
@click.option(
    "--platform",
    type=click.Choice([platform.value for platform in registry.supported()]),
    default="centra",
    show_default=True,
)
@_integration_options(create=True)
@click.option("--paused", is_flag=True, help="Create it paused: nothing syncs until `integrations resume`.")
@json_option
@api_errors
def integrations_create(integration_id: str, platform: str, paused: bool, as_json: bool, **options: Any) -> None:
    """Create an integration. Its credentials are checked with the store and myOGO first.

    Credentials come from --credentials-file; any one missing there is asked for at a hidden prompt
    (webhook_secret may be left empty and added later with `integrations update --webhook-secret`).
    """
    credentials, store = _read_credentials(options["credentials_file"], Platform(platform))
    for name in CREDENTIAL_FIELDS:
        if name not in credentials and name not in NOT_ASKED_ON_CREATE:
            value = _ask(name, hidden=name in SECRET_FIELDS, default="" if name in ADDED_LATER else None)
            if value:
                credentials[name] = value
    for name, (secret, required) in _store_fields(Platform(platform)).items():
        if name not in store and (value := _ask(f"store {name}", hidden=secret, default=None if required else "")):
            store[name] = value
    body = _integration_body(options) | {"id": integration_id, "platform": platform, "paused": paused}
    with _spinner("checking the credentials with the store and myOGO", as_json):
        created = session().api.call(
            "POST",
            "/integrations",
            body=body | {"credentials": credentials | {"store": {"platform": platform, **store}}},
        )
    render.emit(created, as_json, render.integration)
    if not as_json:
        setup = registry.adapter(Platform(platform)).setup_text
        render.console().print(f"[yellow]Next, in the store:[/yellow] {setup}")


@integrations_group.command("platforms")
@json_option
def integrations_platforms(as_json: bool) -> None:
    """The store platforms ogosync serves: each one's credentials, options and what to do in the store's admin."""
    platforms = [_platform_help(platform) for platform in registry.supported()]
    if as_json:
        click.echo(json.dumps(platforms, indent=2))
        return
    for described in platforms:
        fields = ", ".join(
            f"{field['name']}{'' if field['required'] else ' (optional)'}" for field in described["credentials"]
        )
        render.console().print(f"[bold]{described['platform']}[/bold]  credentials: {fields}")
        for option in described["options"]:
            render.console().print(f"  --option {option['name']}=...  {option['meaning']} ({option['default']})")
        render.console().print(f"  {described['setup']}\n")


def _platform_help(platform: Platform) -> dict[str, Any]:
    adapter = registry.adapter(platform)
    options = [
        {
            "name": name,
            "meaning": field.description or "",
            "default": "required" if field.is_required() else repr(field.get_default(call_default_factory=True)),
        }
        for name, field in adapter.options_model.model_fields.items()
    ]
    credentials = [{"name": name, "required": required} for name, (_, required) in _store_fields(platform).items()]
    return {"platform": platform.value, "credentials": credentials, "options": options, "setup": adapter.setup_text}


@integrations_group.command("update")
@click.argument("integration_id")
@_integration_options(create=False)
@click.option("--webhook-secret", "ask_webhook_secret", is_flag=True, help="Type the webhook's endpoint secret.")
@click.option("--notify-email", help="Where the merchant's notices and daily digest go by e-mail ('' for none).")
@click.option("--notify-webhook-url", help="An https:// URL that gets each notice as signed JSON ('' for none).")
@click.option(
    "--notify-webhook-secret",
    "ask_notify_secret",
    is_flag=True,
    help="Type the key the notice webhook is signed with (give the merchant the same key).",
)
@json_option
@api_errors
def integrations_update(
    integration_id: str, ask_webhook_secret: bool, ask_notify_secret: bool, as_json: bool, **options: Any
) -> None:
    """Change settings or rotate credentials (only what is given changes; a changed side is checked again)."""
    body = _integration_body(options)
    for option in ("notify_email", "notify_webhook_url"):
        if options.get(option) is not None:
            body.setdefault("settings", {})[option] = options[option] or None  # '' switches the channel off
    credentials: dict[str, Any] = {}
    if options["credentials_file"] is not None:
        platform = Platform(session().api.call("GET", f"/integrations/{integration_id}")["platform"])
        common, store = _read_credentials(options["credentials_file"], platform)
        credentials |= common
        if store:
            credentials["store"] = {"platform": platform.value, **store}  # replaces the store's credentials whole
    if ask_webhook_secret:
        credentials["webhook_secret"] = _ask("webhook_secret", hidden=True, default=None)
    if ask_notify_secret:
        credentials["notify_webhook_secret"] = _ask("notify_webhook_secret", hidden=True, default=None)
    if credentials:
        body["credentials"] = credentials
    updated = session().api.call("PATCH", f"/integrations/{integration_id}", body=body)
    render.emit(updated, as_json, render.integration)


@integrations_group.command("pause")
@click.argument("integration_id")
@json_option
@api_errors
def integrations_pause(integration_id: str, as_json: bool) -> None:
    """Stop every flow of an integration."""
    render.emit(session().api.call("POST", f"/integrations/{integration_id}/pause"), as_json, render.integration)


@integrations_group.command("resume")
@click.argument("integration_id")
@json_option
@api_errors
def integrations_resume(integration_id: str, as_json: bool) -> None:
    """Start the flows of a paused integration again (the order poll catches up)."""
    render.emit(session().api.call("POST", f"/integrations/{integration_id}/resume"), as_json, render.integration)


@integrations_group.command("delete")
@click.argument("integration_id")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@json_option
@api_errors
def integrations_delete(integration_id: str, yes: bool, as_json: bool) -> None:
    """Delete an integration: its state now, its credentials after a recovery window."""
    if not yes:
        click.confirm(f"Delete integration {integration_id}?", abort=True)
    render.emit(session().api.call("DELETE", f"/integrations/{integration_id}"), as_json, render.deleted)


@integrations_group.command("webhook")
@click.argument("integration_id")
@json_option
@api_errors
def integrations_webhook(integration_id: str, as_json: bool) -> None:
    """The webhook URL to paste into the store, and whether its secret is configured."""
    render.emit(session().api.call("GET", f"/integrations/{integration_id}/webhook"), as_json, render.webhook)


# ---- shipping methods ---------------------------------------------------------------------------


@cli.group("shipping")
def shipping_group() -> None:
    """The store's shipping methods and their myOGO shipping codes."""


@shipping_group.command("list")
@click.argument("integration_id")
@json_option
@api_errors
def shipping_list(integration_id: str, as_json: bool) -> None:
    """The store's methods seen in recent orders, with the myOGO code each one gets."""
    answer = session().api.call("GET", f"/integrations/{integration_id}/shipping-methods")
    render.emit(answer, as_json, render.shipping_methods)


@shipping_group.command("set")
@click.argument("integration_id")
@click.argument("store_method")
@click.argument("myogo_code")
@json_option
@api_errors
def shipping_set(integration_id: str, store_method: str, myogo_code: str, as_json: bool) -> None:
    """Map a store method to a myOGO shipping code ('*' maps every method without a mapping of its own)."""
    body = {"store_method": store_method, "myogo_code": myogo_code}
    answer = session().api.call("PUT", f"/integrations/{integration_id}/shipping-mappings", body=body)
    render.emit(answer, as_json, render.mapping)


@shipping_group.command("unset")
@click.argument("integration_id")
@click.argument("store_method")
@json_option
@api_errors
def shipping_unset(integration_id: str, store_method: str, as_json: bool) -> None:
    """Remove the mapping of a store method."""
    params = {"store_method": store_method}
    session().api.call("DELETE", f"/integrations/{integration_id}/shipping-mappings", params=params)
    result = {"integration_id": integration_id, "store_method": store_method, "removed": True}
    render.emit(result, as_json, lambda out, _: out.print(f"{integration_id}: mapping of {store_method!r} removed"))


# ---- products (store -> myOGO): the product sync page ------------------------------------------


@cli.group("products")
def products_group() -> None:
    """The product sync page: refresh, list with state and filters, create products in myOGO."""


def _run_options(command: F) -> F:
    command = click.option("--timeout", default=900, show_default=True, help="Seconds to wait at most.")(command)
    return click.option("--wait/--no-wait", default=False, help="Wait until the run has ended; show its result.")(
        command
    )


@products_group.command("refresh")
@click.argument("integration_id")
@_run_options
@json_option
@api_errors
def products_refresh(integration_id: str, wait: bool, timeout: int, as_json: bool) -> None:
    """Read every store product and its state towards myOGO (then: ogosync products list)."""
    api = session().api
    run = api.call("POST", f"/integrations/{integration_id}/products/refresh")
    if wait:
        with _spinner(f"refreshing the products of {integration_id}", as_json):
            run = _wait_for_product_run(api, integration_id, run["run_id"], timeout, lambda _: None)
    render.emit(run, as_json, render.product_run)
    if wait:
        _exit_unless_done(_product_run_shortfall(run))


@products_group.command("list")
@click.argument("integration_id")
@click.option("--state", type=click.Choice([s.value for s in ProductState]), help="Only products in this state.")
@click.option("--kind", type=click.Choice([k.value for k in ProductProblemKind]), help="Only this kind of problem.")
@click.option("--search", help="Only products whose SKU, name or EAN contains this.")
@click.option("--page", default=1, show_default=True, help="The page to show.")
@click.option("--page-size", default=100, show_default=True, help="Products per page (at most 500).")
@json_option
@api_errors
def products_list(
    integration_id: str,
    state: str | None,
    kind: str | None,
    search: str | None,
    page: int,
    page_size: int,
    as_json: bool,
) -> None:
    """The products of the latest refresh, with their state and problems."""
    params = {"state": state, "kind": kind, "q": search, "page": page, "page_size": page_size}
    answer = session().api.call(
        "GET", f"/integrations/{integration_id}/products", params={k: v for k, v in params.items() if v is not None}
    )
    render.emit(answer, as_json, render.product_page)


@products_group.command("create")
@click.argument("integration_id")
@click.argument("skus", nargs=-1)
@click.option("--all", "create_all", is_flag=True, help="Every active store product.")
@_run_options
@json_option
@api_errors
def products_create(
    integration_id: str, skus: tuple[str, ...], create_all: bool, wait: bool, timeout: int, as_json: bool
) -> None:
    """Create the given SKUs (or --all) in myOGO; a code myOGO already has is linked, not duplicated."""
    if bool(skus) == create_all:
        raise click.UsageError("give SKUs or --all")
    api = session().api
    run = api.call("POST", f"/integrations/{integration_id}/products/create", body={"skus": list(skus) or None})
    if wait:
        with _progress(as_json) as progress:
            task = progress.add_task(f"creating the products of {integration_id}", total=None)

            def show(state: dict[str, Any]) -> None:
                progress.update(task, completed=state["done"], total=state["total"])

            run = _wait_for_product_run(api, integration_id, run["run_id"], timeout, show)
    render.emit(run, as_json, render.product_run)
    if wait:
        _exit_unless_done(_product_run_shortfall(run))


@products_group.command("status")
@click.argument("integration_id")
@json_option
@api_errors
def products_status(integration_id: str, as_json: bool) -> None:
    """The latest refresh or create: where it stands, its progress and counts."""
    render.emit(
        session().api.call("GET", f"/integrations/{integration_id}/products/runs/latest"), as_json, render.product_run
    )


def _wait_for_product_run(
    api: OperatorClient, integration_id: str, run_id: str, timeout: int, show: Callable[[dict[str, Any]], None]
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        run = api.call("GET", f"/integrations/{integration_id}/products/runs/latest")
        if run["run_id"] != run_id:
            raise ApiError(0, "replaced", f"run {run_id} was replaced by run {run['run_id']}")
        show(run)
        if run["status"] not in ("queued", "running"):
            return run
        if time.monotonic() > deadline:
            raise ApiError(0, "timeout", f"the run has not ended after {timeout} s: see `ogosync products status`")
        time.sleep(0.5)


# ---- orders -------------------------------------------------------------------------------------


@cli.group("orders")
def orders_group() -> None:
    """An order's history; held orders and their release."""


@orders_group.command("show")
@click.argument("integration_id")
@click.argument("order_id")
@click.option("--live/--no-live", default=True, show_default=True, help="Also ask the store and myOGO now.")
@json_option
@api_errors
def orders_show(integration_id: str, order_id: str, live: bool, as_json: bool) -> None:
    """One order's history across the store, ogosync and myOGO."""
    params = {"live": str(live).lower()}
    answer = session().api.call("GET", f"/integrations/{integration_id}/orders/{order_id}", params=params)
    render.emit(answer, as_json, render.order)


@orders_group.command("held")
@click.argument("integration_id")
@json_option
@api_errors
def orders_held(integration_id: str, as_json: bool) -> None:
    """Orders kept back, with the reasons."""
    render.emit(session().api.call("GET", f"/integrations/{integration_id}/held-orders"), as_json, render.held)


@orders_group.command("release")
@click.argument("integration_id")
@click.argument("order_id", required=False)
@click.option("--all", "release_all", is_flag=True, help="Release every held order.")
@json_option
@api_errors
def orders_release(integration_id: str, order_id: str | None, release_all: bool, as_json: bool) -> None:
    """Import held orders again now, after a fix (the import re-reads each order and decides)."""
    if bool(order_id) == release_all:
        raise click.UsageError("give an ORDER_ID or --all")
    path = f"/integrations/{integration_id}/held-orders/" + ("release" if release_all else f"{order_id}/release")
    render.emit(session().api.call("POST", path), as_json, render.released)


@orders_group.command("do-not-send")
@click.argument("integration_id")
@click.argument("order_id")
@json_option
@api_errors
def orders_do_not_send(integration_id: str, order_id: str, as_json: bool) -> None:
    """Keep a held order from myOGO for good (the import leaves it alone from now on)."""
    answer = session().api.call("POST", f"/integrations/{integration_id}/orders/{order_id}/do-not-send")
    render.emit(answer, as_json, lambda out, data: out.print(f"order {data['order_id']}: not sent to myOGO"))


@orders_group.command("retry")
@click.argument("integration_id")
@click.argument("order_id")
@json_option
@api_errors
def orders_retry(integration_id: str, order_id: str, as_json: bool) -> None:
    """Import a failed order again now (myOGO is asked first, so it is never created twice)."""
    answer = session().api.call("POST", f"/integrations/{integration_id}/orders/{order_id}/retry")
    render.emit(answer, as_json, lambda out, data: out.print(f"order {data['order_id']}: queued for a new import"))


@orders_group.command("retry-shipment")
@click.argument("integration_id")
@click.argument("order_id")
@json_option
@api_errors
def orders_retry_shipment(integration_id: str, order_id: str, as_json: bool) -> None:
    """Push a shipment the store refused once more, after a fix in the store."""
    answer = session().api.call("POST", f"/integrations/{integration_id}/orders/{order_id}/retry-shipment")
    render.emit(answer, as_json, lambda out, data: out.print(f"order {data['order_id']}: shipment queued again"))


# ---- runs, status, dead letters -----------------------------------------------------------------


@cli.group("sync")
def sync_group() -> None:
    """Run a flow for an integration now."""


def _sync_command(flow: Flow) -> None:
    @sync_group.command(
        flow.value,
        help=f"Run the {flow.value} flow of INTEGRATION_ID now (a job on the flow's queue). With --wait, the exit "
        "status is 1 when the run ended with errors.",
        short_help=f"Run the {flow.value} flow of an integration now.",
    )
    @click.argument("integration_id", required=False)
    @click.option("--integration", "integration_option", hidden=True, help="Deprecated: give the id as an argument.")
    @click.option("--wait/--no-wait", default=False, help="Wait until the run has ended and show its result.")
    @click.option("--timeout", default=300, show_default=True, help="Seconds to wait at most.")
    @json_option
    @api_errors
    def run(
        integration_id: str | None, integration_option: str | None, wait: bool, timeout: int, as_json: bool
    ) -> None:
        integration_id = _one_integration_id(integration_id, integration_option)
        if integration_id is None:
            raise click.UsageError("missing argument INTEGRATION_ID")
        api = session().api
        queued = api.call("POST", f"/integrations/{integration_id}/flows/{flow.value}/run")
        if not wait:
            render.emit(queued, as_json, render.flow_run)
            return
        with _spinner(f"waiting for the {flow.value} run of {integration_id}", as_json):
            state = _wait_for_run(api, integration_id, flow, queued["enqueued_at"], timeout)
        render.emit(state, as_json, render.flows)
        ran = next(f for f in state["flows"] if f["flow"] == flow.value)
        _exit_unless_done(f"the {flow.value} run ended with errors: {ran['last_error']}" if ran["last_error"] else None)


for _flow in Flow:
    _sync_command(_flow)


@cli.command("status")
@click.argument("integration_id", required=False)
@click.option("--integration", "integration_option", hidden=True, help="Deprecated: give the id as an argument.")
@json_option
@api_errors
def status(integration_id: str | None, integration_option: str | None, as_json: bool) -> None:
    """Per integration and flow: last run, result and counts, lag, errors; the work queues.

    With INTEGRATION_ID, only that integration."""
    integration_id = _one_integration_id(integration_id, integration_option)
    if integration_id:
        render.emit(session().api.call("GET", f"/integrations/{integration_id}/status"), as_json, render.flows)
    else:
        render.emit(session().api.call("GET", "/status"), as_json, render.overview)


def _one_integration_id(argument: str | None, option: str | None) -> str | None:
    """The id as an argument, or from the deprecated --integration option (not both)."""
    if argument and option and argument != option:
        raise click.UsageError("give the integration id once, as an argument")
    if option:
        click.echo("note: --integration is deprecated: give the id as an argument", err=True)
    return argument or option


@cli.group("dlq")
def dlq_group() -> None:
    """Dead-letter queues: what is in them, and moving it back."""


@dlq_group.command("list")
@json_option
@api_errors
def dlq_list(as_json: bool) -> None:
    """Messages waiting, in flight and dead-lettered, per work queue."""
    render.emit(session().api.call("GET", "/queues"), as_json, render.queues)


@dlq_group.command("redrive")
@click.option("--queue", help="One work queue (default: every queue with dead letters).")
@click.option("--max", "max_messages", default=1000, show_default=True, help="Messages to move at most, per queue.")
@json_option
@api_errors
def dlq_redrive(queue: str | None, max_messages: int, as_json: bool) -> None:
    """Move dead-lettered messages back to their queue, to be processed again."""
    api = session().api
    depths = [q for q in api.call("GET", "/queues") if queue in (None, q["queue"])]
    if queue and not depths:
        raise ApiError(404, "unknown_queue", f"no queue {queue!r}")
    results = []
    with _progress(as_json) as progress:
        for depth in depths:
            if not depth["dead_letters"] and queue is None:
                continue
            total = min(max_messages, depth["dead_letters"] or 0)
            task = progress.add_task(depth["queue"], total=total)
            result = {"queue": depth["queue"], "moved": 0, "failed": 0, "dead_letters_left": depth["dead_letters"]}
            while result["moved"] + result["failed"] < max_messages:
                step = min(100, max_messages - result["moved"] - result["failed"])
                answer = api.call("POST", f"/queues/{depth['queue']}/redrive", params={"max_messages": step})
                result["moved"] += answer["moved"]
                result["failed"] += answer["failed"]
                result["dead_letters_left"] = answer["dead_letters_left"]
                progress.update(task, advance=answer["moved"] + answer["failed"])
                if answer["moved"] + answer["failed"] < step or not answer["dead_letters_left"]:
                    break
            results.append(result)
    render.emit(
        results,
        as_json,
        lambda out, data: out.print(
            render.table(
                "Redriven", ("queue", "moved", "failed", "dead letters left"), [list(r.values()) for r in data]
            )
        ),
    )


@dlq_group.command("messages")
@click.argument("queue")
@click.option("--limit", default=100, show_default=True, help="Messages to show at most.")
@json_option
@api_errors
def dlq_messages(queue: str, limit: int, as_json: bool) -> None:
    """The messages in a queue's dead-letter queue, one by one (they stay there)."""
    answer = session().api.call("GET", f"/queues/{queue}/dead-letters", params={"limit": limit})
    render.emit(
        answer,
        as_json,
        lambda out, data: out.print(
            render.table(
                f"Dead letters of {queue}",
                ("message id", "sent", "tries", "message"),
                [[m["message_id"], m["sent_at"], m["receive_count"], m["body"]] for m in data],
            )
        ),
    )


@dlq_group.command("redrive-message")
@click.argument("queue")
@click.argument("message_id")
@json_option
@api_errors
def dlq_redrive_message(queue: str, message_id: str, as_json: bool) -> None:
    """Move one dead-lettered message back to its queue."""
    answer = session().api.call("POST", f"/queues/{queue}/dead-letters/{message_id}/redrive")
    render.emit(answer, as_json, lambda out, data: out.print(f"moved back; {data['dead_letters_left']} left"))


@dlq_group.command("discard")
@click.argument("queue")
@click.argument("message_id", required=False)
@click.option("--all", "discard_all", is_flag=True, help="Delete every message of the dead-letter queue.")
@json_option
@api_errors
def dlq_discard(queue: str, message_id: str | None, discard_all: bool, as_json: bool) -> None:
    """Delete one dead-lettered message (or --all) for good."""
    if bool(message_id) == discard_all:
        raise click.UsageError("give a MESSAGE_ID or --all")
    path = f"/queues/{queue}/dead-letters" + ("" if discard_all else f"/{message_id}")
    answer = session().api.call("DELETE", path)
    render.emit(answer, as_json, lambda out, data: out.print(f"{data['discarded']} discarded"))


@cli.command("openapi")
@api_errors
def openapi() -> None:
    """Print the operator API's OpenAPI document."""
    click.echo(json.dumps(session().api.call("GET", "/openapi.json"), indent=2))


# ---- helpers ------------------------------------------------------------------------------------


def _integration_body(options: dict[str, Any]) -> dict[str, Any]:
    names = {
        "merchant_name": "merchant_name",
        "store_url": "store_base_url",
        "myogo_url": "myogo_base_url",
        "myogo_token_url": "myogo_token_url",
        "warehouse": "warehouse",
        "time_zone": "time_zone",
    }
    body = {field: options[option] for option, field in names.items() if options.get(option) is not None}
    if options.get("settings"):
        body["settings"] = dict(_setting(text, "--set") for text in options["settings"])
    if options.get("store_options"):
        body["store_options"] = dict(_setting(text, "--option") for text in options["store_options"])
    return body


def _setting(text: str, option: str) -> tuple[str, Any]:
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise click.BadParameter(f"{text!r} is not NAME=VALUE", param_hint=option)
    try:
        return name, json.loads(value)  # numbers, true/false, null
    except json.JSONDecodeError:
        return name, value


def _ask(name: str, *, hidden: bool, default: str | None) -> str:
    """A value typed at a (hidden) prompt; without a terminal, one line of standard input (so that scripts can pipe
    it), and a clear error when there is none."""
    if sys.stdin.isatty():
        return str(click.prompt(name, hide_input=hidden, default=default))
    line = sys.stdin.readline()
    if line:
        return line.rstrip("\r\n")
    if default is not None:
        return default
    raise click.ClickException(
        f"{name} is needed: put it in the --credentials-file, or run the command at a terminal to type it"
    )


def _store_fields(platform: Platform) -> dict[str, tuple[bool, bool]]:
    """The platform's own credential fields -> (secret?, required?)."""
    fields = registry.adapter(platform).credentials_model.model_fields
    return {
        name: ("SecretStr" in str(field.annotation), field.is_required())
        for name, field in fields.items()
        if name != "platform"
    }


def _read_credentials(path: Path | None, platform: Platform) -> tuple[dict[str, str], dict[str, str]]:
    """(the credentials common to every platform, the store platform's own ones given) from a JSON file."""
    if path is None:
        return {}, {}
    try:
        values = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        # Not the JSON error's text: it quotes the file's content.
        raise click.BadParameter(f"{path} is not a readable JSON file ({type(exc).__name__})") from None
    store_fields = set(_store_fields(platform))
    known = {*CREDENTIAL_FIELDS, *store_fields, *STORE_KEY_ALIASES}
    if not isinstance(values, dict) or not set(values) <= known:
        raise click.BadParameter(f"{path} must be a JSON object with only: {', '.join(sorted(known))}")
    common = {name: str(value) for name, value in values.items() if name in CREDENTIAL_FIELDS}
    store = {STORE_KEY_ALIASES.get(str(name), str(name)): str(value) for name, value in values.items()}
    store = {name: value for name, value in store.items() if name not in common}
    return common, store


def _wait_for_run(api: OperatorClient, integration_id: str, flow: Flow, enqueued_at: str, timeout: int) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        state = api.call("GET", f"/integrations/{integration_id}/status")
        run = next(f for f in state["flows"] if f["flow"] == flow.value)
        if run["last_run_started"] and run["last_run_ended"] and run["last_run_started"] >= enqueued_at:
            return state
        if time.monotonic() > deadline:
            raise ApiError(0, "timeout", f"the {flow.value} run has not ended after {timeout} s: see `ogosync status`")
        time.sleep(1)


# What a "Create product" could not do: products left out (their problem kinds) or put off (time budget).
_NOT_DONE = frozenset({kind.value for kind in BLOCKING_PROBLEMS} | {ProductProblemKind.NOT_IN_STORE.value, "deferred"})


def _product_run_shortfall(run: dict[str, Any]) -> str | None:
    """Why a product run that has ended did not do all that was asked; None when it did."""
    if run["status"] != "succeeded":
        return f"the product {run['action']} {run['status']}" + (f": {run['error']}" if run["error"] else "")
    if run["action"] != "create":
        return None
    left = {name: count for name, count in run["counts"].items() if name in _NOT_DONE and count}
    if left or run["complete"] is False:
        return f"not every product was created: {render.text(left) if left else 'the run did not finish'}"
    return None


def _exit_unless_done(shortfall: str | None) -> None:
    """Exit status 1, with the reason on stderr, when the outcome is not what was asked (after the result shown)."""
    if shortfall is not None:
        click.echo(f"error: {shortfall}", err=True)
        sys.exit(1)


def _flat(state: dict[str, Any]) -> dict[str, Any]:
    sample = state.get("sample") or {}
    return {k: v for k, v in state.items() if k != "sample"} | {f"sample {k}": v for k, v in sample.items()}


def _progress(as_json: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=render.console(stderr=True),
        transient=True,
        disable=as_json,
    )


def _spinner(message: str, as_json: bool) -> Progress:
    progress = Progress(
        SpinnerColumn(),
        TextColumn(message),
        TimeElapsedColumn(),
        console=render.console(stderr=True),
        transient=True,
        disable=as_json,
    )
    progress.add_task(message, total=None)
    return progress


def main(argv: list[str] | None = None) -> int:
    """The console script; `argv` for calls from Python (the demo, tests)."""
    try:
        cli.main(args=argv, prog_name="ogosync", standalone_mode=True)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    return 0
