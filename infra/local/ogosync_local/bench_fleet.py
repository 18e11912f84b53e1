"""`python -m ogosync_local.bench_fleet`: the fleet benchmarks of issue 14 on the local stack.

Sections (each on a fresh stack: the table in DynamoDB Local, SQS in moto in its own process, as `make bench`):
- fleet: N integrations written with the state layer's batch writes, each with its four cursors; then the
  scheduler's minute tick (ogosync.sync.schedule.tick with the real DynamoDB adapter and SQS queues) for
  OVERDUE_SWEEP_MINUTES minutes in a row: wall time, DynamoDB calls and the read units DynamoDB Local reports
  (ReturnConsumedCapacity), SQS sends; and the same minutes the way the tick read the fleet before (one Query of
  every whole integration, sequential sends, consistent cursor reads), for comparison;
- fairness: see bench_fairness below;
- cost: the integration-month of a quiet, a typical and a busy merchant and of a mixed fleet, from counted calls
  (ogosync_local.cost).
Uncertain: DynamoDB Local and moto answer on loopback in a few milliseconds, AWS in-region in ~5-20 ms; the times
here are the local stack's (on a machine shared with other work), the calls and units are what AWS would count.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ogosync import runtime
from ogosync.aws import clients
from ogosync.aws.sqs import SqsJobQueue
from ogosync.models import Cursor, Flow, Integration, IntegrationSettings, IntegrationStatus, Platform
from ogosync.ports import JobQueue
from ogosync.state.dynamo import DynamoStateRepository
from ogosync.state.integrations import integration_item
from ogosync.state.table import Table, encode, key, model_values
from ogosync.sync.schedule import OVERDUE_SWEEP_MINUTES, TICK_SEGMENTS, due_jobs, tick
from ogosync_local import cost, lambdas
from ogosync_local.bench import LATENCY, Meter, Window
from ogosync_local.markdown import replace_section, table
from ogosync_local.stack import CentraSetup, LocalStack

TICK_START = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # Black Friday, 09:00 UTC
SQS_LATENCY_S = 0.015  # assumed: one SendMessageBatch in-region (uncertain; AWS publishes no latency figure)


@dataclass
class TickFigures:
    """What the scheduler's ticks over one fleet cost, per tick (the mean of the measured minutes)."""

    fleet: int
    seconds: list[float] = field(default_factory=list)
    dynamodb: Counter[str] = field(default_factory=Counter)
    read_units: float = 0.0
    sqs: Counter[str] = field(default_factory=Counter)
    jobs: int = 0
    ticks: int = 0

    @property
    def sqs_sends(self) -> float:
        return float(self.sqs["SendMessageBatch"])

    def per_tick(self, total: float) -> float:
        return total / max(1, self.ticks)


class LatencySqs:
    """An SQS client that answers SendMessageBatch after SQS_LATENCY_S, as SQS in the function's region would, and
    counts it. moto's SQS, loaded with a fleet's jobs, took ~200 ms a batch on this machine: it would measure moto."""

    def __init__(self, meter: TickMeter) -> None:
        self._meter = meter

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        time.sleep(SQS_LATENCY_S)
        self._meter.count_sqs("SendMessageBatch")
        return {"Successful": [{"Id": entry["Id"]} for entry in Entries], "Failed": []}


class TickMeter:
    """Counts the functions' DynamoDB calls and the read units DynamoDB reports for them, and their SQS calls."""

    def __init__(self) -> None:
        self.figures: TickFigures | None = None
        dynamodb = clients.dynamodb().meta.events
        dynamodb.register("before-parameter-build.dynamodb", self._ask_capacity)
        dynamodb.register("after-call.dynamodb", self._count_capacity)

    def _ask_capacity(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self.figures is not None and model.name in ("Query", "Scan", "BatchGetItem", "GetItem"):
            params["ReturnConsumedCapacity"] = "TOTAL"
            self.figures.dynamodb[model.name] += 1

    def _count_capacity(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if self.figures is None:
            return
        consumed = parsed.get("ConsumedCapacity")
        for each in consumed if isinstance(consumed, list) else [consumed] if consumed else []:
            self.figures.read_units += float(each.get("CapacityUnits", 0))

    def count_sqs(self, operation: str) -> None:
        if self.figures is not None:
            self.figures.sqs[operation] += 1

    @contextmanager
    def measuring(self, figures: TickFigures) -> Iterator[None]:
        self.figures = figures
        try:
            yield
        finally:
            self.figures = None


def fleet_integration(n: int) -> Integration:
    integration_id = f"fleet-{n:06d}"
    return Integration(
        id=integration_id,
        platform=Platform.CENTRA,
        merchant_name=f"Merchant {integration_id}",
        store_base_url=f"https://{integration_id}.centra.example/api/ogosync",
        warehouse="TLL",
        time_zone="Europe/Helsinki",
        secret_name=f"ogosync/integrations/{integration_id}",
        settings=IntegrationSettings(),
    )


def write_fleet(table_: Table, fleet: int, now: datetime) -> None:
    """The integrations and a cursor of each flow (a run ended a minute ago), with the state layer's batch writes."""
    integrations = [fleet_integration(n) for n in range(fleet)]
    table_.batch_put([integration_item(integration) for integration in integrations])
    ended = now - timedelta(minutes=1)
    cursors = [
        key(integration.id, f"CURSOR#{flow}")
        | encode(
            model_values(Cursor(integration_id=integration.id, flow=flow, last_run_started=ended, last_run_ended=ended))
        )
        for integration in integrations
        for flow in Flow
    ]
    table_.batch_put(cursors)


def tick_as_before(state: DynamoStateRepository, queues: Mapping[Flow, JobQueue], now: datetime) -> int:
    """The tick as it was before issue 14 (git history of ogosync/sync/schedule.py): one Query of every whole
    integration parsed to its model, each flow's jobs sent in sequence, the sweep's cursors read consistently."""
    integrations = state.list_integrations()
    jobs = 0
    for flow, queue in queues.items():
        due = due_jobs(integrations, [flow], now)
        queue.send(due)
        jobs += len(due)
    minute = int(now.timestamp() // 60) % OVERDUE_SWEEP_MINUTES
    swept = [
        integration
        for integration in integrations
        if integration.status is IntegrationStatus.ACTIVE
        and zlib.crc32(f"{integration.id}:overdue".encode()) % OVERDUE_SWEEP_MINUTES == minute
    ]
    state.get_cursors([(integration.id, flow) for integration in swept for flow in queues])
    return jobs


def bench_fleet_tick(fleet: int, minutes: int) -> tuple[TickFigures, TickFigures]:
    """(after, before): the tick's figures over `minutes` consecutive minutes."""
    with LocalStack(quiet=True, moto_process=True, dynamodb_local=True) as stack:
        write_fleet(Table(stack.aws.client("dynamodb"), stack.aws.table_name), fleet, TICK_START)
        meter = TickMeter()
        sqs = LatencySqs(meter)
        queues: dict[Flow, JobQueue] = {flow: SqsJobQueue(sqs, f"local-{flow}") for flow in Flow}  # type: ignore[arg-type]
        after, before = TickFigures(fleet), TickFigures(fleet)
        for figures, before_issue in ((after, False), (before, True)):
            for minute in range(minutes):
                now = TICK_START + timedelta(minutes=minute)
                with meter.measuring(figures):
                    started = time.perf_counter()
                    figures.jobs += (
                        tick_as_before(runtime.state(), queues, now)
                        if before_issue
                        else len(tick(runtime.state(), queues, now).dispatched)
                    )
                    figures.seconds.append(time.perf_counter() - started)
                figures.ticks += 1
        return after, before


def render_fleet(rows: list[tuple[TickFigures, TickFigures]], command: str, minutes: int) -> str:
    header = [
        "integrations", "tick, mean / max", "before: mean / max", "DynamoDB calls", "read units", "before: units",
        "SQS sends (batches of 10)", "jobs", "USD a month (tick)", "before: USD a month",
    ]  # fmt: skip
    lines = []
    for after, before in rows:
        calls = ", ".join(f"{name} {after.per_tick(n):.0f}" for name, n in sorted(after.dynamodb.items()))
        month, month_before = cost.tick_month(after), cost.tick_month(before)
        lines.append(
            [f"{after.fleet:,}", _seconds(after.seconds), _seconds(before.seconds), calls,
             f"{after.per_tick(after.read_units):.0f}", f"{before.per_tick(before.read_units):.0f}",
             f"{after.per_tick(after.sqs['SendMessageBatch']):.0f}", f"{after.per_tick(after.jobs):.0f}",
             f"${sum(month.values()):.2f}", f"${sum(month_before.values()):.2f}"]
        )  # fmt: skip
    largest = max(rows, key=lambda pair: pair[0].fleet)[0]
    scale = 100_000 / largest.fleet
    projected = cost.tick_month(largest, scale)
    lines.append(
        [f"100,000 (extrapolated: {largest.fleet:,} x {scale:.0f})", "-", "-",
         ", ".join(f"{name} {largest.per_tick(n) * scale:.0f}" for name, n in sorted(largest.dynamodb.items())),
         f"{largest.per_tick(largest.read_units) * scale:.0f}", "-",
         f"{largest.per_tick(largest.sqs['SendMessageBatch']) * scale:.0f}",
         f"{largest.per_tick(largest.jobs) * scale:.0f}", f"${sum(projected.values()):.2f}", "-"]
    )  # fmt: skip
    split = ", ".join(f"{service} ${usd:.2f}" for service, usd in projected.items())
    return (
        table(header, lines)
        + f"\n\nThe month at 100,000 by service: {split}. {cost.PRICE_NOTE}\n\n`{command}`: "
        + f"{TICK_SEGMENTS} segments; each fleet ticked {minutes} minutes in a row, after then before; "
        + f"SQS answered each batch after {SQS_LATENCY_S * 1000:.0f} ms."
    )


def _seconds(values: list[float]) -> str:
    return f"{statistics.mean(values):.2f} / {max(values):.2f} s" if values else "-"


# ---- fairness -----------------------------------------------------------------------------------------

BACKLOG_SHOP = "bf-shop"
OTHER_ORDERS_EACH = 3
ARRIVAL_GAP_S = 0.2  # the others' orders arrive one every 0.2 s: 5 a second, under one local worker's ~11
LOCAL_SHARE = 10  # webhook_orders_per_minute in the bench: the default 100 scaled to 1 local worker of 10 deployed


@dataclass
class FairnessRound:
    scenario: str
    latencies: list[float]  # the other merchants' orders: webhook delivered -> order in myOGO
    queued_ahead: int  # the backlog's jobs in the order queue when the others' orders began
    left_to_poll: int
    backlog_seconds: float  # until the whole backlog was in myOGO


class Completions:
    """When each order's import ended, from the order worker's invocations (failed records left out)."""

    def __init__(self) -> None:
        self.done: dict[tuple[str, str], float] = {}
        self._invoke = lambdas.invoke

    def __call__(self, function: str, event: dict[str, Any]) -> Any:
        answer = self._invoke(function, event)
        if function == "order_import":
            ended = time.perf_counter()
            failed = {failure["itemIdentifier"] for failure in answer.get("batchItemFailures", [])}
            for record in event["Records"]:
                if record["messageId"] not in failed:
                    job = json.loads(record["body"])
                    self.done.setdefault((job["integration_id"], job["order_id"]), ended)
        return answer


@contextmanager
def _workers(stack: LocalStack) -> Iterator[None]:
    """The order worker and the order poll worker, each in its own thread, as two Lambda functions."""
    stop = threading.Event()

    def loop(drain: Any) -> None:
        while not stop.wait(0.02):
            drain()

    threads = [
        threading.Thread(target=loop, args=(stack.run_order_workers,), daemon=True),
        threading.Thread(target=loop, args=(lambda: stack.run_flow(Flow.ORDERS),), daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def _fairness_stack_setup(stack: LocalStack, others: int) -> tuple[CentraSetup, list[CentraSetup]]:
    def merchant(integration_id: str, code: str, settings: IntegrationSettings) -> CentraSetup:
        setup = stack.add_centra_store(
            integration_id, shipping_map={"standard": "POSTI"}, products={f"{code}BLKM": 10**7}, settings=settings
        )
        setup.centra.add_product(code, "BLK", "M", ean="", stock=10**7)
        stack.seed_sku_bindings(integration_id)
        for simulator in (stack.myogo, setup.centra):
            simulator.faults.configure(LATENCY)
        return setup

    big = merchant(BACKLOG_SHOP, "BF01", IntegrationSettings(webhook_orders_per_minute=LOCAL_SHARE))
    return big, [merchant(f"shop-{n:03d}", f"S{n:03d}", IntegrationSettings()) for n in range(others)]


def _others_orders(merchants: list[CentraSetup], completions: Completions) -> list[float]:
    delivered: dict[tuple[str, str], float] = {}
    for _ in range(OTHER_ORDERS_EACH):
        for setup in merchants:
            code = setup.centra.products[0]["sku"]
            order_id = str(setup.centra.add_order([{"product": f"{code}BLKM", "qty": 1}])["orderId"])
            delivered[(setup.integration.id, order_id)] = time.perf_counter()
            setup.centra.deliver_webhooks()
            time.sleep(ARRIVAL_GAP_S)
    deadline = time.monotonic() + 1800
    while any(key not in completions.done for key in delivered) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [completions.done.get(key, float("inf")) - at for key, at in delivered.items()]


def _fairness_round(
    stack: LocalStack, big: CentraSetup, merchants: list[CentraSetup], backlog: int, share: int, scenario: str
) -> FairnessRound:
    completions = Completions()
    if big.integration.settings.webhook_orders_per_minute != share:
        big.integration = big.integration.model_copy(
            update={"settings": big.integration.settings.model_copy(update={"webhook_orders_per_minute": share})}
        )
        stack.state().put_integration(big.integration)
    before = len(stack.myogo.orders(big.merchant_id))
    started = time.perf_counter()
    for _ in range(backlog):  # the Black-Friday import: every order's webhook at once, 50 a delivery
        big.centra.add_order([{"product": "BF01BLKM", "qty": 1}])
    records = big.centra.deliver_webhooks(batch=50) if backlog else []
    queued_ahead = stack.queue_depth("OrderQueue")
    left = backlog - queued_ahead if records else 0
    with _patched_invoke(completions), _workers(stack):
        latencies = _others_orders(merchants, completions)
        while len(stack.myogo.orders(big.merchant_id)) < before + backlog:
            time.sleep(0.5)
    return FairnessRound(scenario, latencies, queued_ahead, left, time.perf_counter() - started)


@contextmanager
def _patched_invoke(completions: Completions) -> Iterator[None]:
    lambdas.invoke = completions
    try:
        yield
    finally:
        lambdas.invoke = completions._invoke


def bench_fairness(backlog: int, others: int, unfair: bool) -> list[FairnessRound]:
    with LocalStack(quiet=True, moto_process=True, dynamodb_local=True) as stack:
        big, merchants = _fairness_stack_setup(stack, others)
        # not measured: each merchant's first orders read its secret and take a myOGO token (cold caches)
        _fairness_round(stack, big, merchants, 0, LOCAL_SHARE, "warm-up")
        rounds = [
            _fairness_round(stack, big, merchants, 0, LOCAL_SHARE, "no backlog"),
            _fairness_round(stack, big, merchants, backlog, LOCAL_SHARE, "backlog, fair share"),
        ]
        if unfair:
            rounds.append(_fairness_round(stack, big, merchants, backlog, 10_000, "backlog, no share (as before)"))
        return rounds


def render_fairness(rounds: list[FairnessRound], backlog: int, others: int, command: str) -> str:
    header = [
        "scenario", "others' orders", "webhook -> myOGO p50", "p95", "max", "backlog jobs in the order queue",
        "backlog orders left to the poll", "whole backlog in myOGO after",
    ]  # fmt: skip
    rows = []
    for r in rounds:
        p95 = statistics.quantiles(r.latencies, n=20)[18]
        rows.append(
            [r.scenario, str(len(r.latencies)), f"{statistics.median(r.latencies):.2f} s", f"{p95:.2f} s",
             f"{max(r.latencies):.2f} s", str(r.queued_ahead), str(r.left_to_poll),
             f"{r.backlog_seconds:.0f} s" if "backlog," in r.scenario else "-"]
        )  # fmt: skip
    return table(header, rows) + (
        f"\n\n`{command}`: after a warm-up round (not shown), {others} merchants with {OTHER_ORDERS_EACH} orders "
        "each, one every "
        f"{ARRIVAL_GAP_S} s; a backlog of {backlog:,} orders (the issue's 50,000 scaled down) delivered 50 a "
        f"webhook just before; one order worker and one order poll worker, each in its own thread; "
        f"webhook_orders_per_minute {LOCAL_SHARE} (the default 100 scaled to one worker of the 10 deployed); "
        "20 ms per simulator call."
    )


# ---- cost ---------------------------------------------------------------------------------------------

COST_SHOP = "quiet-shop"
CATALOG_FLOWS = frozenset({Flow.PRODUCTS.value})  # a scheduled product run reads the whole catalog
CREDENTIALED = ("order_import", "store_webhook", "order_poll", "product_sync", "stock_sync", "tracking_sync")


def usage_of(window: Window, memory_mb: Mapping[str, int]) -> cost.Usage:
    """A measured window as counted use: Lambda GB-s at each function's MemorySize, one secret read per
    invocation that needs credentials (cost.SECRET_READS_PER_INVOCATION), one HTTP API request per webhook."""
    return cost.Usage(
        invocations=sum(window.invocations.values()),
        gb_seconds=sum(seconds * memory_mb.get(f, 256) / 1024 for f, seconds in window.function_seconds.items()),
        read_units=window.read_units,
        write_units=window.write_units,
        sqs_requests=window.sqs,
        secret_reads=sum(window.invocations[f] for f in CREDENTIALED) * cost.SECRET_READS_PER_INVOCATION,
        api_requests=window.invocations["store_webhook"],
    )


def bench_cost(sizes: int, orders: int) -> cost.Measured:
    """One quiet merchant on the local stack: each flow's scheduled run with nothing to do (the second run after
    the first transfer), and `orders` orders through webhook and worker."""
    from ogosync_local.bench import _bench_stack, _memory_sizes, _scheduled_run, _slow_simulators
    from ogosync_local.measure_products import create_all_products, fill_store

    memory_mb = _memory_sizes()
    with _bench_stack(visibility_timeout_s=3600) as stack:
        settings = IntegrationSettings(product_url_template="https://shop.example/p/{sku}", pricelist="EUR")
        setup = stack.add_centra_store(COST_SHOP, shipping_map={"standard": "POSTI"}, settings=settings)
        fill_store(setup, sizes)
        meter = Meter(stack, setup)
        _slow_simulators(stack, setup)
        with _myogo_clock_back(stack, timedelta(hours=1)):  # the catalog came to myOGO an hour ago
            create_all_products(stack, COST_SHOP)
        first_code = next(iter(stack.myogo.products(setup.merchant_id)))
        stack.myogo.set_stock(setup.merchant_id, first_code, 5)  # and one SKU's stock changed since
        quiet: dict[str, cost.Usage] = {}
        for flow in Flow:
            _scheduled_run(stack, COST_SHOP, flow)  # the first run of each flow catches up; the next is quiet
            with meter.window() as window:
                _scheduled_run(stack, COST_SHOP, flow)
            quiet[flow.value] = usage_of(window, memory_mb)
        with meter.window() as per_order:
            for n in range(orders):
                setup.centra.add_order([{"product": f"ST{n % (sizes // 5):05d}BLKM", "qty": 1}])
                setup.centra.deliver_webhooks()
                stack.run_order_workers()
        if len(stack.myogo.orders(setup.merchant_id)) != orders:
            raise SystemExit("cost: an order did not reach myOGO; the benchmark is void")
    return cost.Measured(sizes, quiet, usage_of(per_order, memory_mb).times(1 / orders), CATALOG_FLOWS)


@contextmanager
def _myogo_clock_back(stack: LocalStack, by: timedelta) -> Iterator[None]:
    real = stack.myogo.clock
    stack.myogo.clock = lambda: real() - by
    try:
        yield
    finally:
        stack.myogo.clock = real


def _merchants(order_poll_minutes: int) -> list[cost.Merchant]:
    settings = IntegrationSettings()
    runs = cost.runs_a_month(
        {
            Flow.ORDERS.value: order_poll_minutes,
            Flow.STOCK.value: settings.stock_sync_minutes,
            Flow.TRACKING.value: settings.tracking_poll_minutes,
            Flow.PRODUCTS.value: settings.product_sync_minutes,
        }
    )
    return [
        cost.Merchant("quiet (10 orders a day, 200 sizes)", 10 * 30, 200, runs),
        cost.Merchant("typical (200 a day, 5,000 sizes)", 200 * 30, 5000, runs),
        cost.Merchant("busy (5,000 an hour at peak, 40,000 a day, 20,000 sizes)", 40_000 * 30, 20_000, runs),
    ]


def render_cost(measured: cost.Measured, tick_usd: float, command: str) -> str:
    """After: the order poll idle (the webhooks import every order) at idle_order_poll_minutes, with the tick's
    eventually consistent cursor read at each usual slot; before: every order_poll_minutes."""
    defaults = IntegrationSettings()
    before = {m.name: cost.merchant_month(m, measured) for m in _merchants(defaults.order_poll_minutes)}
    merchants = _merchants(defaults.idle_order_poll_minutes)
    idle_checks = cost.usage_cost(cost.Usage(read_units=0.5 * cost.MINUTES_A_MONTH / defaults.order_poll_minutes))
    months = {m.name: cost.merchant_month(m, measured) for m in merchants}
    for month in months.values():
        month["DynamoDB"] += idle_checks["DynamoDB"]
    services = ["Secrets Manager", "Lambda", "DynamoDB", "SQS", "CloudWatch", "API Gateway"]
    rows = [[service, *(f"${months[m.name][service]:.4f}" for m in merchants)] for service in services]
    rows.append(["total", *(f"**${cost.total(months[m.name]):.4f}**" for m in merchants)])
    rows.append(["what dominates", *(_dominant(months[m.name]) for m in merchants)])
    rows.append(
        [f"before: the order poll every {defaults.order_poll_minutes} min, idle or not",
         *(f"${cost.total(before[m.name]):.4f}" for m in merchants)]
    )  # fmt: skip
    mix = {merchants[0].name: 7000, merchants[1].name: 2500, merchants[2].name: 500}
    fleet = {name: cost.total(months[name]) * count for name, count in mix.items()}
    deployment = cost.deployment_month(tick_usd)
    fleet_total = sum(fleet.values()) + sum(deployment.values())
    fleet_rows = [[name, f"{mix[name]:,}", f"${usd:,.2f}"] for name, usd in fleet.items()]
    fleet_rows += [[f"deployment: {name}", "1", f"${usd:,.2f}"] for name, usd in deployment.items()]
    fleet_rows.append(["fleet of 10,000", "", f"**${fleet_total:,.2f}**"])
    q, o = measured.quiet_run, measured.per_order
    run_rows = [
        [flow, f"{runs:,.0f}", f"{q[flow].read_units:.1f} / {q[flow].write_units:.1f}", f"{q[flow].gb_seconds:.3f}",
         f"{q[flow].sqs_requests:.0f}"]
        for flow, runs in merchants[0].runs_a_month.items()
    ]  # fmt: skip
    run_rows.append(
        ["per order (webhook + worker)", "", f"{o.read_units:.1f} / {o.write_units:.1f}", f"{o.gb_seconds:.3f}",
         f"{o.sqs_requests:.1f}"]
    )  # fmt: skip
    run_header = ["measured", "runs a month (idle order poll)", "read / write units", "Lambda GB-s", "SQS requests"]
    return "\n\n".join(
        [
            table(["integration-month", *(m.name for m in merchants)], rows),
            table(["fleet of 10,000 mixed merchants", "integrations", "USD a month"], fleet_rows),
            table(run_header, run_rows),
            f"`{command}`: {measured.sizes} sizes measured on the local stack (20 ms per simulator call); "
            f"{cost.PRICE_NOTE}",
        ]
    )


def _dominant(month: Mapping[str, float]) -> str:
    service, usd = max(month.items(), key=lambda item: item[1])
    return f"{service} ({usd / cost.total(month):.0%})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleet", default="100,1000,10000", help="fleet sizes of the tick section")
    parser.add_argument("--minutes", type=int, default=OVERDUE_SWEEP_MINUTES)
    parser.add_argument("--only", choices=["fleet", "fairness", "cost"], action="append")
    parser.add_argument("--backlog", type=int, default=2000, help="the Black-Friday backlog (orders)")
    parser.add_argument("--others", type=int, default=100, help="merchants with a few orders each")
    parser.add_argument("--unfair", action="store_true", help="also the backlog without the fair share")
    parser.add_argument("--sizes", type=int, default=200, help="the quiet merchant's catalog (cost section)")
    parser.add_argument("--cost-orders", type=int, default=20)
    parser.add_argument("--tick-usd", type=float, default=0.0, help="the tick's month when the fleet is not run")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    command = "python -m ogosync_local.bench_fleet " + " ".join(sys.argv[1:] if argv is None else argv)
    only = set(args.only or ["fleet", "fairness", "cost"])

    def write(name: str, text: str) -> None:
        print(f"\n== {name}\n{text}")
        if args.markdown:
            replace_section(args.markdown, name, text)

    tick_usd = args.tick_usd
    if "fleet" in only:
        rows = []
        for size in args.fleet.split(","):
            rows.append(bench_fleet_tick(int(size), args.minutes))
            print(render_fleet(rows, command, args.minutes), flush=True)
        write("bench-fleet", render_fleet(rows, command, args.minutes))
        tick_usd = cost.total(cost.tick_month(max(rows, key=lambda pair: pair[0].fleet)[0]))
    if "fairness" in only:
        rounds = bench_fairness(args.backlog, args.others, args.unfair)
        write("bench-fairness", render_fairness(rounds, args.backlog, args.others, command))
    if "cost" in only:
        measured = bench_cost(args.sizes, args.cost_orders)
        write("bench-fleet-cost", render_cost(measured, tick_usd, command))
    return 0


if __name__ == "__main__":
    sys.exit(main())
