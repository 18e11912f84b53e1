"""Terminal output: readable tables for people, the same data as JSON for scripts (--json)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import click
from rich.console import Console
from rich.table import Table

_UTC_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|\+00:00)$")


def console(*, stderr: bool = False) -> Console:
    """A console on the current streams (made per command, so that captured output in tests is seen)."""
    return Console(stderr=stderr, soft_wrap=False, highlight=False)


def emit(data: Any, as_json: bool, show: Callable[[Console, Any], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    else:
        show(console(), data)


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *, header: bool = True) -> Table:
    result = Table(title=title, title_justify="left", header_style="bold", show_header=header)
    for column in columns:
        result.add_column(column, overflow="fold")
    for row in rows:
        result.add_row(*(text(value) for value in row))
    return result


def fields(title: str, values: Mapping[str, Any]) -> Table:
    """A two-column table of names and values."""
    return table(title, ("name", "value"), values.items(), header=False)


def text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str) and _UTC_TIME.match(value):
        return f"{value[:10]} {value[11:19]} UTC"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={text(item)}" for key, item in value.items()) or "-"
    if isinstance(value, list):
        return "; ".join(text(item) for item in value) or "-"
    return str(value)


def holds(values: list[Mapping[str, Any]]) -> str:
    return "; ".join(f"{hold['reason']}: {hold['detail']}" for hold in values) or "-"


# ---- the API's answers --------------------------------------------------------------------------


def integrations(out: Console, data: list[dict[str, Any]]) -> None:
    rows = [(i["id"], i["platform"], i["merchant_name"], i["status"], i["warehouse"], i["time_zone"]) for i in data]
    out.print(table("Integrations", ("id", "platform", "merchant", "status", "warehouse", "time zone"), rows))


def integration(out: Console, data: dict[str, Any]) -> None:
    out.print(fields(f"Integration {data['id']}", {k: v for k, v in data.items() if k != "settings"}))
    out.print(fields("Settings", data["settings"]))


def deleted(out: Console, data: dict[str, Any]) -> None:
    out.print(
        f"Deleted {data['integration_id']}: {data['removed_items']} items removed; order bindings kept until "
        f"{data['order_bindings_kept_until']}; the secret is deleted after {data['secret_deleted_after_days']} days."
    )


def webhook(out: Console, data: dict[str, Any]) -> None:
    out.print(fields(f"Webhook of {data['integration_id']}", data))


def shipping_methods(out: Console, data: dict[str, Any]) -> None:
    rows = [
        (m["store_method"], m["myogo_code"] or "(none: orders are held)", m["by_default"], m["orders_seen"])
        for m in data["methods"]
    ]
    out.print(
        table(
            f"Shipping methods of {data['integration_id']} ({data['orders_read']} recent orders read)",
            ("store method", "myOGO code", "by default '*'", "orders seen"),
            rows,
        )
    )
    out.print(f"default '*': {text(data['default_code'])}")
    if data.get("store_error"):
        out.print(f"[red]the store could not be read:[/red] {data['store_error']}")


def mapping(out: Console, data: dict[str, Any]) -> None:
    out.print(f"{data['integration_id']}: store method {data['store_method']!r} -> myOGO {data['myogo_code']!r}")


def flows(out: Console, state: dict[str, Any]) -> None:
    """One row per flow, narrow enough for 80 columns; each flow's last error below the table, as a sentence."""
    rows = [
        (
            f["flow"],
            f["health"],
            _last_run(f["last_run_ended"], f["lag_seconds"]),
            f"{f['interval_minutes']} min" if f["interval_minutes"] else "off",
            f["last_counts"],
        )
        for f in state["flows"]
    ]
    title = f"{state['integration_id']} ({state['status']}, {state['held_orders']} held orders)"
    out.print(table(title, ("flow", "health", "last run", "every", "counts"), rows))
    for f in state["flows"]:
        if f["last_error"]:
            out.print(f"{f['flow']}, last error: {f['last_error']}")
        for warning in f.get("warnings", []):
            out.print(f"[yellow]{f['flow']}: {warning}[/yellow]")
    attention(out, state)


def _last_run(ended: str | None, lag_seconds: int | None) -> str:
    if ended is None or lag_seconds is None:
        return "-"
    return f"{text(ended)} ({_duration(lag_seconds)} ago)"


def _duration(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def attention(out: Console, state: dict[str, Any]) -> None:
    """Sent orders a person must look at, and shipments waiting for the store (an unconfirmed order)."""
    people = [(o["store_order_id"], o["since"], o["detail"]) for o in state.get("needs_person") or []]
    if people:
        out.print(table("Orders needing a person", ("order", "since", "why"), people))
    waiting = [(w["store_order_id"], w["reference"], w["since"]) for w in state.get("waiting_for_store") or []]
    if waiting:
        out.print(table("Shipments waiting for the store", ("order", "myOGO reference", "since"), waiting))


def queues(out: Console, data: list[dict[str, Any]]) -> None:
    rows = [(q["queue"], q["waiting"], q["in_flight"], q["dead_letters"]) for q in data]
    out.print(table("Work queues", ("queue", "waiting", "in flight", "dead letters"), rows))


def overview(out: Console, data: dict[str, Any]) -> None:
    for state in data["integrations"]:
        flows(out, state)
    if not data["integrations"]:
        out.print("No integrations yet: ogosync integrations create --help")
    queues(out, data["queues"])


def order(out: Console, data: dict[str, Any]) -> None:
    summary = {
        "reference in myOGO": data["reference"],
        "in ogosync": data["status"] or "not seen yet",
        "holds": holds(data["holds"]),
        "skip reason": data["skip_reason"],
        "attempts": data["attempts"],
        "last error": data["last_error"],
    }
    for side in ("store", "myogo"):
        if data.get(side) is not None:
            summary[f"{side} now"] = {k: v for k, v in data[side].items() if v not in (None, [], "")}
    out.print(fields(f"Order {data['order_id']} of {data['integration_id']}", summary))
    out.print(table("History", ("at", "where", "event"), ((e["at"], e["where"], e["event"]) for e in data["timeline"])))


def held(out: Console, data: list[dict[str, Any]]) -> None:
    rows = [(h["order_id"], h["placed_at"], holds(h["holds"])) for h in data]
    out.print(table(f"Held orders ({len(data)})", ("order", "placed", "reasons"), rows))


def released(out: Console, data: dict[str, Any]) -> None:
    count = len(data["order_ids"])
    out.print(f"{count} order(s) of {data['integration_id']} queued for a new import: {text(data['order_ids'])}")


def flow_run(out: Console, data: dict[str, Any]) -> None:
    out.print(f"The {data['flow']} flow of {data['integration_id']} is queued ({data['enqueued_at']}).")


def product_run(out: Console, data: dict[str, Any]) -> None:
    progress = f"{data['done']} of {data['total']}" if data["total"] is not None else None
    counts = {name: count for name, count in data["counts"].items() if count}
    summary = {
        "status": data["status"],
        "requested": data["requested_at"],
        "ended": data["ended_at"],
        "progress": progress,
        "counts": counts,
        "complete": data["complete"],
        "error": data["error"],
    }
    out.print(fields(f"Product {data['action']} of {data['integration_id']} (run {data['run_id']})", summary))


def product_page(out: Console, data: dict[str, Any]) -> None:
    rows = [
        (row["sku"], row["state"], row["name"], "; ".join(f"{p['kind']}: {p['detail']}" for p in row["problems"]))
        for row in data["rows"]
    ]
    title = (
        f"Products of {data['integration_id']}, refreshed {text(data['refreshed_at'])}: {data['matching']} matching, "
        f"page {data['page']} of {data['pages']}"
    )
    out.print(table(title, ("SKU", "state", "name", "problems"), rows))
    out.print("in the whole refresh: " + text({state: n for state, n in data["counts"].items() if n}))
    if data["stale"]:
        out.print('[yellow]a "Create product" ended after this refresh: refresh again to see its effect[/yellow]')
