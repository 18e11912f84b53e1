"""Figures for the stock flow on the simulators: `make measure-stock`, or with other sizes
`POWERTOOLS_LOG_LEVEL=CRITICAL .venv/bin/python -m ogosync_local.measure_stock --skus N --changed M`.

One integration with N SKUs (default 20,000), all in Centra, in myOGO and bound. The real stock function runs three
times through its queue: the first run (a full reconciliation), a run after M SKUs (default 2,000) changed in myOGO,
and a run with no change. For each run: the calls to myOGO and to Centra by route, the DynamoDB operations by name
(a botocore event hook on the functions' own client) and the wall time. The catalogue's myOGO changes are spread
over the five hours before the last hour, as a real catalogue's are, rather than all at the watermark.
Test equipment: not part of `make test`.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from datetime import timedelta
from typing import Any

from ogosync.aws import clients
from ogosync.models import Flow
from ogosync.timeutil import utc_now
from ogosync_local.sim import ManualClock
from ogosync_local.stack import CentraSetup, LocalStack

INTEGRATION = "measure-shop"


class DynamoCalls:
    """Counts the DynamoDB operations the functions make, by operation name."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def __call__(self, model: Any, **_: Any) -> None:
        self.counts[model.name] += 1


def seed_skus(stack: LocalStack, setup: CentraSetup, skus: int) -> list[str]:
    history = ManualClock(utc_now() - timedelta(hours=6))
    stack.myogo.clock = history
    codes = []
    for n in range(skus):
        history.advance(5 * 3600 / skus)
        product, variant, size = f"P{n:05d}", "BLK", "M"
        setup.centra.add_product(product, variant, size, ean=f"735{n:010d}", stock=10)
        codes.append(product + variant + size)
        stack.myogo.add_product(setup.merchant_id, codes[-1], stock=10)
    stack.myogo.clock = utc_now
    stack.seed_sku_bindings(INTEGRATION)
    return codes


def _run(stack: LocalStack, setup: CentraSetup, dynamo: DynamoCalls, title: str) -> None:
    stack.myogo.calls.clear()
    setup.centra.calls.clear()
    dynamo.counts.clear()
    stack.enqueue_flow(INTEGRATION, Flow.STOCK)
    started = time.perf_counter()
    report = stack.run_flow(Flow.STOCK)
    seconds = time.perf_counter() - started
    cursor = stack.state().get_cursor(INTEGRATION, Flow.STOCK)
    counts = cursor.last_counts
    print(f"\n== {title}")
    print(f"   wall time {seconds:.1f} s; invocations {report.invocations}, failed {report.failed}")
    if cursor.last_error:
        print(f"   the run failed: {cursor.last_error}")
    shown = ("full", "levels", "written", "unchanged")
    print("   run: " + ", ".join(f"{name} {counts.get(name, 0)}" for name in shown))
    for name, calls in (("myOGO", stack.myogo.calls), ("Centra", setup.centra.calls), ("DynamoDB", dynamo.counts)):
        detail = ", ".join(f"{route} {count}" for route, count in sorted(calls.items()))
        print(f"   {name + ' calls':<16} {sum(calls.values()):>5}   {detail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=20_000)
    parser.add_argument("--changed", type=int, default=2_000)
    args = parser.parse_args()
    with LocalStack(quiet=True, visibility_timeout_s=900) as stack:  # no redelivery while a long run is under way
        setup = stack.add_centra_store(INTEGRATION, shipping_map={"standard": "POSTI"})
        seeding = time.perf_counter()
        codes = seed_skus(stack, setup, args.skus)
        print(f"seeded {len(codes)} SKUs in Centra, myOGO and the bindings in {time.perf_counter() - seeding:.1f} s")
        dynamo = DynamoCalls()
        clients.dynamodb().meta.events.register("before-call.dynamodb", dynamo)

        _run(stack, setup, dynamo, f"1. first run: full reconciliation of {len(codes)} SKUs")
        step = max(1, len(codes) // args.changed)
        for code in codes[::step][: args.changed]:
            stack.myogo.set_stock(setup.merchant_id, code, 7)
        _run(stack, setup, dynamo, f"2. {args.changed} SKUs changed in myOGO")
        _run(stack, setup, dynamo, "3. no change")


if __name__ == "__main__":
    main()
