"""`make bench`: the busy-merchant benchmarks on the local stack, each figure beside its floor and the naive way.

Every call to Centra and myOGO costs 20 ms (the simulators' latency). Sections, each on a fresh stack:
- orders: 5,000 paid orders in waves of 100, their webhooks, the order worker (throughput, calls and DynamoDB
  operations per order), webhook-to-myOGO latency of orders arriving one at a time, one scheduled poll over the
  hour's orders;
- stock: 20,000 bound SKUs (ogosync_local.measure_stock): the first run, a run with 2,000 changes, one with none;
- products: 20,000 sizes (ogosync_local.measure_products): the first transfer, a run with 100 changes, one with none;
- imports: each handler's cold import (CPU time in a fresh interpreter) against boto3 + Powertools alone, with
  tracing on (as in Lambda with Tracing: Active) and off (POWERTOOLS_TRACE_DISABLED); `--only imports` runs it alone;
- memory (tracemalloc peak per invocation, in a repeat of each section's heaviest run) and the cost estimate.
The naive way (one call per item, in sequence, through the same adapters) runs on a sample in the same stack; its
figures are scaled to the section's size and given as a ratio. `--markdown FILE` writes the tables into FILE.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from ogosync import runtime
from ogosync.aws import clients
from ogosync.models import Flow, IntegrationSettings, ProductRunStatus, StockToPublish, StoreOrder
from ogosync.sync.orders import to_warehouse_order
from ogosync.sync.products import build_catalog
from ogosync_local import lambdas
from ogosync_local.lambdas import ROOT
from ogosync_local.markdown import replace_section, table
from ogosync_local.measure_products import change_products, fill_store
from ogosync_local.measure_stock import seed_skus
from ogosync_local.sim import FaultConfig
from ogosync_local.stack import CentraSetup, LocalStack

LATENCY = FaultConfig(latency_ms=20)
FUNCTIONS = sorted(path.parent.name for path in (ROOT / "functions").glob("*/app.py"))
# Prices (USD, eu-north-1 list prices as of 2026; on-demand DynamoDB after the Nov 2024 reduction). uncertain:
# regional prices change; the counts in the tables are what to re-price.
PRICES = {
    "lambda_gb_s": 0.0000166667,
    "lambda_request": 0.20 / 1e6,
    "dynamodb_write_unit": 0.625 / 1e6,
    "dynamodb_read_unit": 0.125 / 1e6,
    "sqs_request": 0.40 / 1e6,
    "api_gateway_request": 1.00 / 1e6,
    "secret_month": 0.40,
    "secrets_api_call": 0.05 / 10_000,
}
WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


# ---- meters -----------------------------------------------------------------------------------------


@dataclass
class Window:
    """What one measured stretch of work cost."""

    seconds: float = 0.0
    myogo: Counter[str] = field(default_factory=Counter)
    centra: Counter[str] = field(default_factory=Counter)
    dynamodb: Counter[str] = field(default_factory=Counter)
    read_units: float = 0.0
    write_units: float = 0.0
    sqs: int = 0
    secrets: int = 0
    dynamodb_seconds: float = 0.0  # time the functions waited for DynamoDB (DynamoDB Local here)
    invocations: Counter[str] = field(default_factory=Counter)
    function_seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @property
    def myogo_calls(self) -> int:
        return sum(self.myogo.values())

    @property
    def centra_calls(self) -> int:
        return sum(self.centra.values())

    @property
    def dynamodb_ops(self) -> int:
        return sum(self.dynamodb.values())

    def add(self, other: Window) -> None:
        """Count another stretch of the same work into this one."""
        self.seconds += other.seconds
        self.read_units += other.read_units
        self.write_units += other.write_units
        self.sqs += other.sqs
        self.secrets += other.secrets
        self.dynamodb_seconds += other.dynamodb_seconds
        for mine, theirs in ((self.myogo, other.myogo), (self.centra, other.centra), (self.dynamodb, other.dynamodb)):
            mine.update(theirs)
        self.invocations.update(other.invocations)
        for function, seconds in other.function_seconds.items():
            self.function_seconds[function] += seconds


class Meter:
    """Counts simulator calls, DynamoDB operations and request units (1 per item written, 2 in a transaction, 1 per
    item read by key, 1 per 4 KB a Query page returns; items here are under 1 KB), SQS and Secrets Manager requests,
    and each handler's invocations and time."""

    def __init__(self, stack: LocalStack, setup: CentraSetup) -> None:
        self._stack, self._setup = stack, setup
        self._window: Window | None = None
        self.peaks: dict[str, int] = defaultdict(int)  # function -> tracemalloc peak bytes of one invocation
        self._trace_memory = False
        if boto3.DEFAULT_SESSION is None:
            boto3.setup_default_session()
        events = boto3.DEFAULT_SESSION.events  # type: ignore[union-attr]
        events.register("before-call.sqs", self._count_sqs)  # the functions' sends and the poller's receives
        events.register("before-call.secrets-manager", self._count_secret)
        runtime.reset()  # the functions' clients are made again, with the hooks
        clients.dynamodb().meta.events.register("before-parameter-build.dynamodb", self._count_dynamodb)
        clients.dynamodb().meta.events.register("before-call.dynamodb", self._start_dynamodb_call)
        clients.dynamodb().meta.events.register("after-call.dynamodb", self._count_read_items)
        self._dynamodb_call_started = 0.0
        self._real_invoke = lambdas.invoke

    @contextlib.contextmanager
    def window(self) -> Iterator[Window]:
        window = Window()
        self._stack.myogo.reset_calls()
        self._setup.centra.reset_calls()
        self._window = window
        started = time.perf_counter()
        with _patched(lambdas, "invoke", self._invoke):
            try:
                yield window
            finally:
                window.seconds = time.perf_counter() - started
                window.myogo.update(self._stack.myogo.calls)
                window.centra.update(self._setup.centra.calls)
                self._window = None

    @contextlib.contextmanager
    def memory(self) -> Iterator[None]:
        self._trace_memory = True
        tracemalloc.start()
        try:
            with _patched(lambdas, "invoke", self._invoke):
                yield
        finally:
            tracemalloc.stop()
            self._trace_memory = False

    def _invoke(self, function: str, event: dict[str, Any]) -> Any:
        if self._trace_memory:
            tracemalloc.reset_peak()
        started = time.perf_counter()
        try:
            return self._real_invoke(function, event)
        finally:
            if self._window is not None:
                self._window.invocations[function] += 1
                self._window.function_seconds[function] += time.perf_counter() - started
            if self._trace_memory:
                self.peaks[function] = max(self.peaks[function], tracemalloc.get_traced_memory()[1])

    def _count_dynamodb(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        if self._window is None:
            return
        self._window.dynamodb[model.name] += 1
        if model.name == "BatchWriteItem":
            self._window.write_units += sum(len(requests) for requests in params["RequestItems"].values())
        elif model.name == "TransactWriteItems":  # billed twice per item
            self._window.write_units += 2 * len(params["TransactItems"])
        elif model.name in WRITES:
            self._window.write_units += 1
        elif model.name == "BatchGetItem":
            self._window.read_units += sum(len(spec["Keys"]) for spec in params["RequestItems"].values())
        elif model.name == "GetItem":
            self._window.read_units += 1

    def _start_dynamodb_call(self, **_: Any) -> None:
        self._dynamodb_call_started = time.perf_counter()

    def _count_read_items(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        if self._window is None:
            return
        self._window.dynamodb_seconds += time.perf_counter() - self._dynamodb_call_started
        if model.name in ("Query", "Scan"):  # billed by the data read: the items' sizes, per 4 KB, per page
            read = sum(item_bytes(item) for item in parsed.get("Items", []))
            self._window.read_units += max(1, math.ceil(read / 4096))

    def _count_sqs(self, **_: Any) -> None:
        if self._window is not None:
            self._window.sqs += 1

    def _count_secret(self, **_: Any) -> None:
        if self._window is not None:
            self._window.secrets += 1


def item_bytes(item: dict[str, Any]) -> int:
    """An item's size as DynamoDB bills it: attribute names plus values (numbers about 1 byte per 2 digits)."""
    return sum(len(name.encode()) + _value_bytes(value) for name, value in item.items())


def _value_bytes(value: dict[str, Any]) -> int:
    ((kind, data),) = value.items()
    match kind:
        case "S":
            return len(data.encode())
        case "N":
            return len(data.lstrip("-").replace(".", "")) // 2 + 1
        case "B":
            return len(data)
        case "M":
            return 3 + item_bytes(data) + len(data)
        case "L":
            return 3 + sum(_value_bytes(element) + 1 for element in data)
        case "SS" | "NS" | "BS":
            return sum(len(str(element).encode()) for element in data)
        case _:  # BOOL, NULL
            return 1


@contextlib.contextmanager
def _patched(owner: Any, name: str, value: Any) -> Iterator[None]:
    original = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, original)


@dataclass
class Results:
    orders: dict[str, Any] = field(default_factory=dict)
    stock: dict[str, Window] = field(default_factory=dict)
    products: dict[str, Window] = field(default_factory=dict)
    naive: dict[str, Window] = field(default_factory=dict)  # scaled to the section's size
    quiet: dict[Flow, Window] = field(default_factory=dict)  # scheduled runs with nothing to do
    peaks: dict[str, int] = field(default_factory=dict)
    imports: dict[str, float] = field(default_factory=dict)  # module -> median ms, tracing on
    imports_untraced: dict[str, float] = field(default_factory=dict)  # module -> median ms, tracing off
    # module -> median of its imports' ratios to the floor in use measured just before each (tracing on, off)
    import_ratios: dict[str, float] = field(default_factory=dict)
    import_ratios_untraced: dict[str, float] = field(default_factory=dict)
    memory_sizes: dict[str, int] = field(default_factory=dict)


# ---- orders -----------------------------------------------------------------------------------------

ORDER_INTEGRATION = "bench-orders"
# Orders arrive in waves of this many, each imported before the next. Over an hour the queue stays short; moto's
# SQS also reads every message of a queue for each one it receives, so 5,000 at once would measure moto, not us.
ORDER_WAVE = 100


def _bench_stack(visibility_timeout_s: int) -> LocalStack:
    """A fresh local stack as the benchmarks run it: moto in its own process, the table in DynamoDB Local."""
    return LocalStack(quiet=True, visibility_timeout_s=visibility_timeout_s, moto_process=True, dynamodb_local=True)


def _slow_simulators(stack: LocalStack, setup: CentraSetup) -> None:
    for simulator in (stack.myogo, setup.centra):
        simulator.faults.configure(LATENCY)


def _scheduled_run(stack: LocalStack, integration_id: str, flow: Flow) -> None:
    """One scheduled job of the flow, run by its worker; a failed run voids the benchmark."""
    stack.enqueue_flow(integration_id, flow)
    if stack.run_flow(flow).failed:
        raise SystemExit(f"{flow}: a run failed; the benchmark is void")


def bench_orders(results: Results, orders: int, latency_sample: int, naive_sample: int) -> None:
    with _bench_stack(visibility_timeout_s=60) as stack:
        setup = stack.add_centra_store(
            ORDER_INTEGRATION,
            shipping_map={"standard": "POSTI"},
            products={f"BO{n:04d}BLKM": 10**6 for n in range(200)},
            # The hour's orders come here within minutes: the webhooks' fair share, counted per minute (bench_fleet
            # measures it), would hand most of them to the poll. 5,000 an hour is 84 a minute, under the default 100.
            settings=IntegrationSettings(webhook_orders_per_minute=10_000),
        )
        for n in range(200):
            setup.centra.add_product(f"BO{n:04d}", "BLK", "M", ean=f"7352{n:09d}", stock=10**6)
        stack.seed_sku_bindings(ORDER_INTEGRATION)
        meter = Meter(stack, setup)
        _slow_simulators(stack, setup)
        for flow in (Flow.ORDERS, Flow.TRACKING):  # a quiet hour: scheduled runs with nothing to do
            with meter.window() as results.quiet[flow]:
                stack.enqueue_flow(ORDER_INTEGRATION, flow)
                stack.run_flow(flow)
        webhooks, worker, failed = Window(), Window(), 0
        for wave in range(0, orders, ORDER_WAVE):  # the hour's orders come in waves; the worker keeps up
            for n in range(wave, min(orders, wave + ORDER_WAVE)):
                lines = [{"product": f"BO{(n * 7 + k) % 200:04d}BLKM", "qty": 1} for k in range(1 + n % 3)]
                setup.centra.add_order(lines)
            with meter.window() as delivered:
                setup.centra.deliver_webhooks()
            with meter.window() as imported:
                failed += stack.run_order_workers().failed
            webhooks.add(delivered)
            worker.add(imported)
        if failed or len(stack.myogo.orders(setup.merchant_id)) != orders:
            raise SystemExit(f"orders: {failed} failed imports; the benchmark is void")
        with meter.window() as poll:
            stack.enqueue_flow(ORDER_INTEGRATION, Flow.ORDERS)
            stack.run_flow(Flow.ORDERS)

        latencies = []
        for n in range(latency_sample):
            setup.centra.add_order([{"product": f"BO{n % 200:04d}BLKM", "qty": 1}])
            started = time.perf_counter()
            setup.centra.deliver_webhooks()
            stack.run_order_workers()
            latencies.append(time.perf_counter() - started)

        with meter.memory():
            for n in range(10):
                setup.centra.add_order([{"product": f"BO{n:04d}BLKM", "qty": 1}])
            setup.centra.deliver_webhooks()
            stack.run_order_workers()
            stack.enqueue_flow(ORDER_INTEGRATION, Flow.ORDERS)
            stack.run_flow(Flow.ORDERS)

        naive_ids = [
            setup.centra.add_order([{"product": "BO0001BLKM", "qty": 1}])["orderId"] for _ in range(naive_sample)
        ]
        with meter.window() as naive:
            _naive_orders(naive_ids)
        results.naive["orders"] = _scaled(naive, orders / naive_sample)
        results.peaks.update(meter.peaks)
        quantiles = statistics.quantiles(latencies, n=20)
        results.orders = {
            "orders": orders,
            "webhooks": webhooks,
            "worker": worker,
            "poll": poll,
            "p50": statistics.median(latencies),
            "p95": quantiles[18],
        }


def _naive_orders(order_ids: list[str]) -> None:
    """Per order: read it, ask myOGO about each line's product and about the reference, then POST it."""
    integration = runtime.integration(ORDER_INTEGRATION)
    adapters = runtime.order_deps(integration)
    for order_id in order_ids:
        order = adapters.store.get_order(order_id)
        if not isinstance(order, StoreOrder):
            raise SystemExit(f"naive orders: order {order_id} cannot be read")
        for line in order.lines:
            adapters.warehouse.find_product(line.sku or "")  # type: ignore[attr-defined]
        reference = integration.myogo_reference(order_id)
        if adapters.warehouse.find_order(reference) is None:
            adapters.warehouse.create_order(to_warehouse_order(integration, order, reference, "POSTI"))


def _scaled(window: Window, factor: float) -> Window:
    def scale(counter: Counter[str]) -> Counter[str]:
        return Counter({name: round(count * factor) for name, count in counter.items()})

    return Window(
        seconds=window.seconds * factor,
        myogo=scale(window.myogo),
        centra=scale(window.centra),
        dynamodb=scale(window.dynamodb),
        read_units=window.read_units * factor,
        write_units=window.write_units * factor,
        sqs=round(window.sqs * factor),
    )


# ---- stock ------------------------------------------------------------------------------------------


def bench_stock(results: Results, skus: int, changed: int, naive_sample: int) -> None:
    from ogosync_local.measure_stock import INTEGRATION

    with _bench_stack(visibility_timeout_s=900) as stack:
        setup = stack.add_centra_store(INTEGRATION, shipping_map={"standard": "POSTI"})
        codes = seed_skus(stack, setup, skus)
        meter = Meter(stack, setup)
        _slow_simulators(stack, setup)

        def change(quantity: int) -> None:
            for code in codes[:: max(1, skus // changed)][:changed]:
                stack.myogo.set_stock(setup.merchant_id, code, quantity)

        with meter.window() as results.stock["first run (reconciliation)"]:
            _scheduled_run(stack, INTEGRATION, Flow.STOCK)
        change(7)
        with meter.window() as results.stock[f"{changed} changed"]:
            _scheduled_run(stack, INTEGRATION, Flow.STOCK)
        with meter.window() as results.stock["no change"]:
            _scheduled_run(stack, INTEGRATION, Flow.STOCK)
        change(5)
        with meter.memory():
            _scheduled_run(stack, INTEGRATION, Flow.STOCK)
        results.peaks.update(meter.peaks)
        with meter.window() as naive:
            _naive_stock(INTEGRATION, codes[:naive_sample])
        results.naive["stock"] = _scaled(naive, skus / naive_sample)


def _naive_stock(integration_id: str, codes: list[str]) -> None:
    """Per SKU (the naive way cannot know which changed): ask myOGO for its level, write it to the store."""
    integration = runtime.integration(integration_id)
    adapters = runtime.order_deps(integration)
    bindings = runtime.sku_bindings().get_sku_bindings(integration_id, codes)
    for code in codes:
        level = adapters.warehouse.stock_level(code)  # type: ignore[attr-defined]
        item = StockToPublish(binding=bindings[code], quantity=max(0, level.available if level else 0))
        list(adapters.store.publish_stock([item]))  # type: ignore[attr-defined]


# ---- products ---------------------------------------------------------------------------------------


def bench_products(results: Results, sizes: int, changes: int, naive_sample: int) -> None:
    from ogosync_local.measure_products import INTEGRATION, create_all_products

    with _bench_stack(visibility_timeout_s=3600) as stack:
        settings = IntegrationSettings(product_url_template="https://shop.example/p/{sku}", pricelist="EUR")
        setup = stack.add_centra_store(INTEGRATION, shipping_map={"standard": "POSTI"}, settings=settings)
        fill_store(setup, sizes)
        meter = Meter(stack, setup)
        _slow_simulators(stack, setup)

        with meter.window() as results.products[f"first transfer of {sizes}"]:
            run = create_all_products(stack, INTEGRATION)
            if run is None or run.status is not ProductRunStatus.SUCCEEDED:
                raise SystemExit("products: the first transfer failed; the benchmark is void")
        change_products(setup, changes, sizes)
        with meter.window() as results.products[f"{changes} changed"]:
            _scheduled_run(stack, INTEGRATION, Flow.PRODUCTS)
        with meter.window() as results.products["no change"]:
            _scheduled_run(stack, INTEGRATION, Flow.PRODUCTS)
        change_products(setup, changes, sizes)
        with meter.memory():
            _scheduled_run(stack, INTEGRATION, Flow.PRODUCTS)
        results.peaks.update(meter.peaks)
        with meter.window() as naive:
            _naive_products(INTEGRATION, naive_sample)
        results.naive["products"] = _scaled(naive, sizes / naive_sample)


def _naive_products(integration_id: str, sample: int) -> None:
    """Per size: ask myOGO whether it has the product, then create or update it."""
    integration = runtime.integration(integration_id)
    with runtime.product_deps(integration) as deps:
        products = []
        for product in deps.store.products():
            products.append(product)
            if len(products) == sample:
                break
        for item in build_catalog(integration, products):
            if item.payload is None or item.sku is None:
                continue
            if deps.warehouse.find_product(item.sku) is None:
                deps.warehouse.create_product(item.payload)
            else:
                deps.warehouse.update_product(item.sku, item.payload)


# ---- imports and memory -----------------------------------------------------------------------------

FLOOR_IMPORT = "import boto3; from aws_lambda_powertools import Logger, Metrics, Tracer"
FLOOR_IN_USE = f"{FLOOR_IMPORT}; Logger(); Metrics(); Tracer()"  # a Tracer loads X-Ray's SDK, even a disabled one
FLOOR_ROW, FLOOR_IN_USE_ROW = "boto3 + Powertools (floor)", "floor + Logger(), Metrics(), Tracer()"
# The CLI's libraries are in this venv but not in the Lambda layer (layers/deps/requirements.txt). httpx imports its
# own command line when they are installed, so they are hidden here, as they are in Lambda.
AS_IN_LAMBDA = "import sys; sys.modules.update(dict.fromkeys(('click', 'rich', 'pygments'))); "
# Powertools (and ogosync.tracing) trace only inside Lambda (LAMBDA_TASK_ROOT set) unless POWERTOOLS_TRACE_DISABLED.
TRACING_ON = {"LAMBDA_TASK_ROOT": str(ROOT), "POWERTOOLS_TRACE_DISABLED": "false"}
TRACING_OFF = {"POWERTOOLS_TRACE_DISABLED": "true"}


def bench_imports(results: Results, repeats: int = 5) -> None:
    """Median cold import of each handler module in a fresh interpreter, and of boto3 + Powertools alone.

    CPU time (time.process_time), not wall time: on a machine shared with other work, wall time measures the
    neighbours too. The floors are measured the same way, so the ratios compare like with like. The load of a
    shared machine still drifts over the minutes this takes (the floor in use measured 539-755 ms in one day), so a
    function's ratio is the median of `repeats` pairs, each its import right after one of the floor in use."""
    results.imports[FLOOR_ROW] = _import_ms(FLOOR_IMPORT, repeats, TRACING_ON)
    results.imports[FLOOR_IN_USE_ROW] = _import_ms(FLOOR_IN_USE, repeats, TRACING_ON)
    for function in FUNCTIONS:
        app = ROOT / "functions" / function / "app.py"
        code = (
            f"{AS_IN_LAMBDA}import importlib.util as u; "
            f"s = u.spec_from_file_location('app', {str(app)!r}); s.loader.exec_module(u.module_from_spec(s))"
        )
        results.imports[function], results.import_ratios[function] = _paired_import(code, repeats, TRACING_ON)
        untraced = _paired_import(code, repeats, TRACING_OFF)
        results.imports_untraced[function], results.import_ratios_untraced[function] = untraced
    results.memory_sizes = _memory_sizes()


def _paired_import(code: str, repeats: int, tracing: dict[str, str]) -> tuple[float, float]:
    """The median ms of `code`'s import and the median of its ratios to the floor in use imported just before."""
    times, ratios = [], []
    for _ in range(repeats):
        floor = _import_ms(FLOOR_IN_USE, 1, TRACING_ON)
        ms = _import_ms(code, 1, tracing)
        times.append(ms)
        ratios.append(ms / floor)
    return statistics.median(times), statistics.median(ratios)


def _import_ms(code: str, repeats: int, tracing: dict[str, str]) -> float:
    env = {
        **{name: value for name, value in os.environ.items() if name not in ("LAMBDA_TASK_ROOT", "AWS_SAM_LOCAL")},
        "PYTHONPATH": str(ROOT / "layers" / "common" / "python"),
        "AWS_DEFAULT_REGION": "eu-north-1",
        "POWERTOOLS_SERVICE_NAME": "ogosync",
        "POWERTOOLS_METRICS_NAMESPACE": "ogosync",
        **tracing,
    }
    timed = f"import time; _started = time.process_time(); {code}; print(time.process_time() - _started)"
    times = []
    for _ in range(repeats):
        done = subprocess.run(  # noqa: S603 (our own interpreter and code)
            [sys.executable, "-c", timed], env=env, capture_output=True, text=True, check=True
        )
        times.append(float(done.stdout.split()[-1]) * 1000)
    return statistics.median(times)


def _memory_sizes() -> dict[str, int]:
    from ogosync_local.aws import load_template

    template = load_template(ROOT / "template.yaml")
    default = template.get("Globals", {}).get("Function", {}).get("MemorySize", 128)
    sizes = {}
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            properties = resource["Properties"]
            sizes[Path(str(properties.get("CodeUri", ""))).name] = int(properties.get("MemorySize", default))
    return sizes


# ---- cost -------------------------------------------------------------------------------------------


def cost(results: Results, windows: list[Window]) -> dict[str, float]:
    """USD of the work in these windows, by service, at PRICES (Lambda time as measured here, on a laptop)."""
    gb_s = sum(
        seconds * results.memory_sizes.get(function, 256) / 1024
        for window in windows
        for function, seconds in window.function_seconds.items()
    )
    return {
        "Lambda": gb_s * PRICES["lambda_gb_s"]
        + sum(sum(w.invocations.values()) for w in windows) * PRICES["lambda_request"],
        "DynamoDB": sum(w.write_units for w in windows) * PRICES["dynamodb_write_unit"]
        + sum(w.read_units for w in windows) * PRICES["dynamodb_read_unit"],
        "SQS": sum(w.sqs for w in windows) * PRICES["sqs_request"],
        "API Gateway": sum(w.invocations["store_webhook"] for w in windows) * PRICES["api_gateway_request"],
        "Secrets Manager": sum(w.secrets for w in windows) * PRICES["secrets_api_call"],
    }


def _month_of_quiet_runs(results: Results) -> dict[str, float]:
    """One integration for 30 days with nothing to sync: each flow's scheduled runs at the default intervals."""
    settings = IntegrationSettings()
    per_day = {
        Flow.ORDERS: 1440 / settings.order_poll_minutes,
        Flow.TRACKING: 1440 / settings.tracking_poll_minutes,
        Flow.STOCK: 1440 / settings.stock_sync_minutes,
        Flow.PRODUCTS: 1440 / settings.product_sync_minutes,
    }
    quiet = {**results.quiet, Flow.STOCK: results.stock["no change"], Flow.PRODUCTS: results.products["no change"]}
    month: defaultdict[str, float] = defaultdict(float, {"Secrets Manager": PRICES["secret_month"]})
    for flow, window in quiet.items():
        for service, usd in cost(results, [window]).items():
            month[service] += usd * per_day[flow] * 30
    return dict(month)


# ---- the tables -------------------------------------------------------------------------------------


def _ratio(naive: float, ours: float) -> str:
    return f"{naive / ours:.1f}x" if ours else "-"


def render_orders(results: Results) -> str:
    o = results.orders
    orders, worker, hooks, poll, naive = o["orders"], o["worker"], o["webhooks"], o["poll"], results.naive["orders"]
    per_order = [
        ["orders per second, one worker", f"{orders / worker.seconds:.1f}", "", f"{orders / naive.seconds:.1f}",
         _ratio(orders / worker.seconds, orders / naive.seconds)],
        ["Centra calls per order", f"{worker.centra_calls / orders:.2f}", "1 read",
         f"{naive.centra_calls / orders:.2f}", _ratio(naive.centra_calls, worker.centra_calls)],
        ["myOGO calls per order", f"{worker.myogo_calls / orders:.2f}", "1 write", f"{naive.myogo_calls / orders:.2f}",
         _ratio(naive.myogo_calls, worker.myogo_calls)],
        ["DynamoDB operations per order (worker)", f"{worker.dynamodb_ops / orders:.2f}", "", "0", ""],
        ["DynamoDB operations per order (webhook)", f"{hooks.dynamodb_ops / orders:.2f}", "", "", ""],
        ["DynamoDB Local time per operation", f"{worker.dynamodb_seconds * 1000 / max(1, worker.dynamodb_ops):.1f} ms",
         "", "", ""],
        ["worker time per order waiting for DynamoDB", f"{worker.dynamodb_seconds * 1000 / orders:.0f} ms", "", "", ""],
        ["webhook -> order in myOGO, p50", f"{o['p50'] * 1000:.0f} ms", "40 ms (2 calls)", "", ""],
        ["webhook -> order in myOGO, p95", f"{o['p95'] * 1000:.0f} ms", "", "", ""],
        ["scheduled poll over the hour's orders", f"{poll.seconds:.1f} s", "", "", ""],
    ]  # fmt: skip
    detail = [
        ["worker (order_import)", _calls(worker.centra), _calls(worker.myogo), _calls(worker.dynamodb)],
        ["webhooks (store_webhook)", _calls(hooks.centra), _calls(hooks.myogo), _calls(hooks.dynamodb)],
        [f"poll over {orders} orders", _calls(poll.centra), _calls(poll.myogo), _calls(poll.dynamodb)],
        ["naive (scaled)", _calls(naive.centra), _calls(naive.myogo), "-"],
    ]
    return "\n\n".join(
        [
            table([f"orders ({orders} paid, 1-3 lines)", "ogosync", "floor", "naive", "naive / ogosync"], per_order),
            table(["calls by route", "Centra", "myOGO", "DynamoDB"], detail),
        ]
    )


def _calls(counter: Counter[str]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counter.items())) or "0"


def render_runs(runs: dict[str, Window], naive: Window, floor: Callable[[str], str]) -> str:
    rows = [
        [name, f"{w.seconds:.1f} s", str(w.myogo_calls), str(w.centra_calls), str(w.dynamodb_ops),
         f"{w.read_units:.0f} / {w.write_units:.0f}", floor(name)]
        for name, w in runs.items()
    ]  # fmt: skip
    rows.append(
        ["naive, every item (scaled)", f"{naive.seconds:.0f} s", str(naive.myogo_calls), str(naive.centra_calls),
         str(naive.dynamodb_ops), "-", ""]
    )  # fmt: skip
    first = next(iter(runs.values()))
    rows.append(
        ["naive / first run", _ratio(naive.seconds, first.seconds),
         _ratio(naive.myogo_calls, first.myogo_calls), _ratio(naive.centra_calls, first.centra_calls), "", "", ""]
    )  # fmt: skip
    detail = [[name, _calls(w.myogo), _calls(w.centra), _calls(w.dynamodb)] for name, w in runs.items()]
    header = ["run", "wall time", "myOGO calls", "Centra calls", "DynamoDB ops", "RCU / WCU", "floor"]
    return "\n\n".join([table(header, rows), table(["run", "myOGO", "Centra", "DynamoDB"], detail)])


def render_imports(results: Results, command: str) -> str:
    floor, in_use = results.imports[FLOOR_ROW], results.imports[FLOOR_IN_USE_ROW]
    untraced, ratios, untraced_ratios = results.imports_untraced, results.import_ratios, results.import_ratios_untraced
    rows = [
        [name, f"{ms:.0f} ms", f"{ms / floor:.2f}x", f"{ratios.get(name, ms / in_use):.2f}x",
         f"{untraced[name]:.0f} ms" if name in untraced else "-",
         f"{untraced_ratios[name]:.2f}x" if name in untraced_ratios else "-"]
        for name, ms in results.imports.items()
    ]  # fmt: skip
    header = ["module", "tracing on", "vs floor", "vs floor in use", "tracing off", "vs floor in use"]
    python = ".".join(map(str, sys.version_info[:3]))
    return table(header, rows) + (
        f"\n\n`{command}`: median CPU time of 5 fresh interpreters each (Python {python}). A function's \"vs floor "
        "in use\" is the median of 5 ratios, each of its import to the floor in use's imported just before it."
    )


def render_memory(results: Results) -> str:
    rows = [
        [name, f"{results.peaks[name] / 2**20:.1f} MB" if name in results.peaks else "-", f"{size} MB"]
        for name, size in sorted(results.memory_sizes.items())
    ]
    return table(["function", "peak traced memory of one invocation", "MemorySize"], rows)


def render_cost(results: Results) -> str:
    o = results.orders
    per_thousand = {
        service: usd * 1000 / o["orders"] for service, usd in cost(results, [o["webhooks"], o["worker"]]).items()
    }
    month = _month_of_quiet_runs(results)
    rows = [[service, f"${per_thousand.get(service, 0):.4f}", f"${month.get(service, 0):.4f}"] for service in month]
    rows.append(["total", f"${sum(per_thousand.values()):.4f}", f"${sum(month.values()):.4f}"])
    prices = ", ".join(f"{name} ${price:.10g}" for name, price in PRICES.items())
    return table(["service", "per 1,000 orders", "per integration-month (nothing to sync)"], rows) + (
        f"\n\nPrices used (USD): {prices}."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--skus", type=int, default=20_000)
    parser.add_argument("--changed", type=int, default=2000)
    parser.add_argument("--sizes", type=int, default=20_000)
    parser.add_argument("--product-changes", type=int, default=100)
    parser.add_argument("--naive-sample", type=int, default=300)
    parser.add_argument("--markdown", type=Path)
    parser.add_argument("--only", choices=["imports"], help="run this section alone (no local stack)")
    args = parser.parse_args(argv)
    results = Results()
    started = time.monotonic()
    command = "python -m ogosync_local.bench " + " ".join(sys.argv[1:] if argv is None else argv)

    def write(name: str, text: str) -> None:
        print(f"\n== {name}\n{text}")
        if args.markdown:  # each section as soon as it is measured
            replace_section(args.markdown, name, text)

    bench_imports(results)
    write("bench-imports", render_imports(results, command))
    if args.only == "imports":
        return 0
    bench_orders(results, args.orders, latency_sample=100, naive_sample=args.naive_sample)
    write("bench-orders", render_orders(results))
    bench_stock(results, args.skus, args.changed, args.naive_sample)
    write("bench-stock", render_runs(results.stock, results.naive["stock"], _stock_floor))
    bench_products(results, args.sizes, args.product_changes, args.naive_sample)
    write(
        "bench-products", render_runs(results.products, results.naive["products"], _product_floor(args.product_changes))
    )
    write("bench-memory", render_memory(results))
    write("bench-cost", render_cost(results))
    write("bench-command", f"`{command}`: {time.monotonic() - started:.0f} s in all, 20 ms per simulator call.")
    return 0


def _stock_floor(run: str) -> str:
    return "1 store write per changed SKU (batched: 1 call per batch)"


def _product_floor(changes: int) -> Callable[[str], str]:
    return lambda run: (
        "1 myOGO write per size"
        if run.startswith("first")
        else f"{changes} myOGO writes"
        if "changed" in run
        else "0 writes"
    )


if __name__ == "__main__":
    sys.exit(main())
