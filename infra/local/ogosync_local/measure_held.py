"""Figures for the held-order re-check on the simulators (issue 10 item 16): `POWERTOOLS_LOG_LEVEL=CRITICAL
.venv/bin/python -m ogosync_local.measure_held --held N` (default 10,000).

One integration whose Centra store has N orders on hold, placed three days ago (outside the poll's window and the
late sweep's), each recorded as held in DynamoDB with its units, as the order flow records them. The real order
function runs two scheduled polls through its queue, and the stock flow's in-transit count runs once. For each:
the wall time, the calls to Centra by route and the DynamoDB operations by name. Every Centra call costs 20 ms
(the simulators' latency, as in `make bench`). Test equipment: not part of `make test`.
"""

from __future__ import annotations

import argparse
import math
import time
from datetime import timedelta

from ogosync.aws import clients
from ogosync.models import Flow, Hold, HoldReason, IntegrationSettings
from ogosync.stores.centra.client import CentraStore
from ogosync.sync.stock import in_transit
from ogosync.timeutil import utc_now
from ogosync_local.measure_stock import DynamoCalls
from ogosync_local.sim import FaultConfig, ManualClock
from ogosync_local.stack import CentraSetup, LocalStack

INTEGRATION = "measure-held"
HOLD = Hold(reason=HoldReason.ON_HOLD_IN_STORE, detail="Centra: order is on hold")


def seed_held(stack: LocalStack, setup: CentraSetup, held: int) -> None:
    placed = utc_now() - timedelta(days=3)
    setup.centra.clock = ManualClock(placed)
    state = stack.state()
    for _ in range(held):
        order = setup.centra.add_order(hold=True)
        state.mark_order_held(
            INTEGRATION, order["orderId"], order["orderId"], [HOLD], utc_now(), placed, None, {"TS100BLKM": 1}
        )
    setup.centra.clock = utc_now


def _poll(stack: LocalStack, setup: CentraSetup, dynamo: DynamoCalls, title: str) -> None:
    setup.centra.calls.clear()
    dynamo.counts.clear()
    stack.enqueue_flow(INTEGRATION, Flow.ORDERS)
    started = time.perf_counter()
    report = stack.run_flow(Flow.ORDERS)
    seconds = time.perf_counter() - started
    cursor = stack.state().get_cursor(INTEGRATION, Flow.ORDERS)
    print(f"\n== {title}")
    print(f"   wall time {seconds:.1f} s; invocations {report.invocations}, failed {report.failed}")
    if cursor.last_error:
        print(f"   the run failed: {cursor.last_error}")
    print(f"   counts {dict(sorted(cursor.last_counts.items()))}; next re-check after {cursor.held_recheck_after}")
    _calls(setup, dynamo)


def _in_transit(stack: LocalStack, setup: CentraSetup, dynamo: DynamoCalls) -> None:
    setup.centra.calls.clear()
    dynamo.counts.clear()
    store = CentraStore(setup.centra.base_url, setup.secret_values["store_api_key"], setup.integration.zone)
    started = time.perf_counter()
    transit = in_transit(setup.integration, stack.state(), store, utc_now())
    seconds = time.perf_counter() - started
    print(f"\n== the stock flow's in-transit count: {sum(transit.units.values())} units in {seconds:.1f} s")
    _calls(setup, dynamo)


def _calls(setup: CentraSetup, dynamo: DynamoCalls) -> None:
    for name, calls in (("Centra", setup.centra.calls), ("DynamoDB", dynamo.counts)):
        detail = ", ".join(f"{route} {count}" for route, count in sorted(calls.items()))
        print(f"   {name + ' calls':<16} {sum(calls.values()):>5}   {detail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--held", type=int, default=10_000)
    args = parser.parse_args()
    settings = IntegrationSettings()
    # as `make bench` runs it: moto in its own process, the table in DynamoDB Local
    with LocalStack(quiet=True, visibility_timeout_s=900, moto_process=True, dynamodb_local=True) as stack:
        setup = stack.add_centra_store(INTEGRATION, shipping_map={"standard": "POSTI"}, settings=settings)
        seeding = time.perf_counter()
        seed_held(stack, setup, args.held)
        print(f"seeded {args.held} held orders in Centra and DynamoDB in {time.perf_counter() - seeding:.1f} s")
        setup.centra.faults.configure(FaultConfig(latency_ms=20))
        dynamo = DynamoCalls()
        clients.dynamodb().meta.events.register("before-call.dynamodb", dynamo)
        _poll(stack, setup, dynamo, f"1. order poll, first run (sweeps), {args.held} held orders")
        _poll(stack, setup, dynamo, f"2. order poll, next run, {args.held} held orders")
        _in_transit(stack, setup, dynamo)
        runs = math.ceil(args.held / settings.held_recheck_per_run)
        print(
            f"\nEvery held order is re-read within {runs} polls of {settings.held_recheck_per_run} "
            f"= {runs * settings.order_poll_minutes} minutes at order_poll_minutes={settings.order_poll_minutes}."
        )


if __name__ == "__main__":
    main()
