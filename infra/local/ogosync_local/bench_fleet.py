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
import statistics
import sys
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
from ogosync_local import cost
from ogosync_local.markdown import replace_section, table
from ogosync_local.stack import LocalStack

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

    def send_message_batch(self, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:  # noqa: N803
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
            model_values(
                Cursor(integration_id=integration.id, flow=flow, last_run_started=ended, last_run_ended=ended)
            )
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
        state = DynamoStateRepository(stack.aws.client("dynamodb"), stack.aws.table_name)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleet", default="100,1000,10000", help="fleet sizes of the tick section")
    parser.add_argument("--minutes", type=int, default=OVERDUE_SWEEP_MINUTES)
    parser.add_argument("--only", choices=["fleet", "fairness", "cost"], action="append")
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    command = "python -m ogosync_local.bench_fleet " + " ".join(sys.argv[1:] if argv is None else argv)
    only = set(args.only or ["fleet", "fairness", "cost"])

    def write(name: str, text: str) -> None:
        print(f"\n== {name}\n{text}")
        if args.markdown:
            replace_section(args.markdown, name, text)

    if "fleet" in only:
        rows = [bench_fleet_tick(int(size), args.minutes) for size in args.fleet.split(",")]
        write("bench-fleet", render_fleet(rows, command, args.minutes))
    return 0


if __name__ == "__main__":
    sys.exit(main())
