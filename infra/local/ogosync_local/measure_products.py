"""`python -m ogosync_local.measure_products [sizes] [changes]`: what the product flow costs, on the simulators.

A Centra store of 20,000 sizes (by default) goes to an empty myOGO through the real handlers: the first transfer
("Create product", all), a scheduled run after 100 products changed in Centra, and a scheduled run with no change.
For each: the calls myOGO received (the simulator's per-route counter), the DynamoDB operations ogosync made (a
botocore event hook on ogosync's own DynamoDB client, so the harness's own reads are not counted) and wall time.
A measurement, not a test: `make test` does not run it.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx

from ogosync.aws import clients
from ogosync.models import Flow, IntegrationSettings, ProductRun
from ogosync_local.stack import CentraSetup, LocalStack

INTEGRATION = "measure-centra"
SIZE_NAMES = ("XS", "S", "M", "L", "XL")


def fill_store(setup: CentraSetup, sizes: int) -> None:
    for n in range(sizes):
        style, size = divmod(n, len(SIZE_NAMES))
        setup.centra.add_product(
            f"ST{style:05d}", "BLK", SIZE_NAMES[size], ean=f"735{n:010d}", name=f"Style {style}", variant="Black",
            size=SIZE_NAMES[size], description=f"Style {style} in organic cotton", price=29.9, currency="EUR",
        )  # fmt: skip


def change_products(setup: CentraSetup, count: int, sizes: int) -> None:
    step = max(1, sizes // count)
    for row in setup.centra.products[::step][:count]:
        key = row["sku"] + row["variantSku"] + row["sizeSku"]
        setup.centra.update_product(key, description=row["description"] + " (new season)")


def create_all_products(stack: LocalStack, integration_id: str) -> ProductRun | None:
    """`ogosync products create --all`: queued through the operator API, run by the product worker."""
    queued = httpx.post(f"{stack.operator.base_url}/integrations/{integration_id}/products/create", json={})
    queued.raise_for_status()
    stack.run_flow(Flow.PRODUCTS)
    return stack.product_runs().get_product_run(integration_id)


def _measure(stack: LocalStack, dynamodb_calls: Counter[str], label: str, run: Callable[[], Any]) -> None:
    stack.myogo.reset_calls()
    dynamodb_calls.clear()
    started = time.monotonic()
    run()
    seconds = time.monotonic() - started
    counts = stack.state().get_cursor(INTEGRATION, Flow.PRODUCTS).last_counts
    print(f"\n== {label}: {seconds:.1f} s")
    print(f"   myOGO calls      {sum(stack.myogo.calls.values()):>6}   {dict(sorted(stack.myogo.calls.items()))}")
    print(f"   DynamoDB ops     {sum(dynamodb_calls.values()):>6}   {dict(sorted(dynamodb_calls.items()))}")
    if label.startswith("scheduled"):
        print(f"   run counts       {dict(sorted(counts.items()))}")


def _sync(stack: LocalStack) -> None:
    stack.enqueue_flow(INTEGRATION, Flow.PRODUCTS)
    report = stack.run_flow(Flow.PRODUCTS)
    if report.failed:
        raise SystemExit("the scheduled product sync failed")


def main(sizes: int = 20_000, changes: int = 100) -> int:
    with LocalStack(quiet=True) as stack:
        settings = IntegrationSettings(product_url_template="https://shop.example/p/{sku}", pricelist="EUR")
        setup = stack.add_centra_store(INTEGRATION, shipping_map={"standard": "POSTI"}, settings=settings)
        fill_store(setup, sizes)
        dynamodb_calls: Counter[str] = Counter()

        def count(**event: Any) -> None:
            dynamodb_calls[event["model"].name] += 1

        clients.dynamodb().meta.events.register("before-call.dynamodb", count)
        print(f"A Centra store of {sizes} sizes, an empty myOGO; Centra pages of 100 sizes, myOGO pages of 250.")

        def create_all() -> None:
            run = create_all_products(stack, INTEGRATION)
            print(f"   run counts       {run.counts if run else 'no run'}")

        _measure(stack, dynamodb_calls, "first transfer (Create product, all)", create_all)
        change_products(setup, changes, sizes)
        _measure(stack, dynamodb_calls, f"scheduled run, {changes} changed in Centra", lambda: _sync(stack))
        _measure(stack, dynamodb_calls, "scheduled run, nothing changed", lambda: _sync(stack))
    return 0


if __name__ == "__main__":
    sys.exit(main(*(int(arg) for arg in sys.argv[1:3])))
