"""What the Shopify and WooCommerce demos share. The products phase: "Refresh" and "Create product" with the CLI,
and the problems the merchant must fix in the store. The order phase: after the webhooks, the order worker and up
to three polls until every paid order is in myOGO once and every kept-back one is recorded with its reasons; then
the summary and the verdict, read from myOGO's and ogosync's state (never from what the demo expects)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ogosync.models import BindingStatus, Flow
from ogosync_local.stack import LocalStack

Cli = Callable[[list[str], int], str]  # an ogosync command and the exit status it must end with -> its output


def refresh_and_create(stack: LocalStack, integration_id: str, cli: Cli) -> dict[str, Any]:
    """ "Refresh", then "Create product" for every row, as the merchant does with the CLI; prints what was created
    and each row's problems, and returns the product list (`products list --json`). Create exits 1: some rows
    have problems to fix in the store."""
    with stack.background_workers(Flow.PRODUCTS):
        cli(["products", "refresh", integration_id, "--wait", "--json"], 0)
        created = json.loads(cli(["products", "create", integration_id, "--all", "--wait", "--json"], 1))
        listed: dict[str, Any] = json.loads(
            cli(["products", "list", integration_id, "--page-size", "500", "--json"], 0)
        )
    print(f"   Create product (all): { {k: v for k, v in sorted(created['counts'].items()) if v} }")
    for row in listed["rows"]:
        for problem in row["problems"]:
            print(f"      {row['sku'] or '(no SKU)':<11} {row['name']:<18} {problem['kind']}: {problem['detail']}")
    return listed


@dataclass(frozen=True)
class DemoOrders:
    """One merchant's demo orders: those to reach myOGO, and those to be kept back with why."""

    stack: LocalStack
    integration_id: str
    merchant_id: str
    placed: list[str]
    held: dict[str, str]  # order id -> why the demo expects it kept back

    def references(self) -> Counter[str]:
        return Counter(order["reference"] for order in self.stack.myogo.orders(self.merchant_id).values())

    def problems(self) -> list[str]:
        """Paid orders not in myOGO exactly once, kept-back ones sent or not recorded, held ones without a reason."""
        references = self.references()
        bindings = self.stack.state().get_order_bindings(self.integration_id, [*self.placed, *self.held])
        missing = [order_id for order_id in self.placed if references[order_id] != 1]
        not_kept = [order_id for order_id in self.held if order_id not in bindings or references[order_id]]
        kept = [binding for order_id, binding in bindings.items() if order_id in self.held]
        unexplained = [b.store_order_id for b in kept if b.status is BindingStatus.HELD and not b.holds]
        return missing + not_kept + unexplained

    def work_then_poll(self, poll_words: str) -> None:
        """The order worker takes what the webhooks queued; then the poll runs until nothing is left (3 at most)."""
        report = self.stack.run_order_workers(redeliver_failures=True)
        print(f"   order worker: {report.received} messages, {report.failed} retried later")
        for _ in range(3):
            self.stack.enqueue_flow(self.integration_id, Flow.ORDERS)
            self.stack.run_flow(Flow.ORDERS, redeliver_failures=True)
            counts = dict(sorted(self.stack.state().get_cursor(self.integration_id, Flow.ORDERS).last_counts.items()))
            print(f"   poll ({poll_words}): {counts}")
            if not self.problems():
                break

    def summary(self, title: str, paid_words: str) -> bool:
        """Print the counts and each kept-back order with ogosync's reasons; True when the orders converged."""
        references = self.references()
        bindings = self.stack.state().get_order_bindings(self.integration_id, list(self.held))
        print(title)
        print(f"   {paid_words:<34}{len(self.placed):>4}")
        print(f"   in myOGO                          {sum(references.values()):>4}")
        print(f"   duplicates in myOGO (must be 0)   {sum(n - 1 for n in references.values()):>4}")
        print(f"   kept back                         {sum(1 for order_id in self.held if order_id in bindings):>4}")
        for order_id, why in self.held.items():
            binding = bindings.get(order_id)
            recorded = "; ".join(f"{h.reason.value}: {h.detail}" for h in binding.holds) if binding else "(none)"
            reason = binding.skip_reason if binding and binding.status is BindingStatus.SKIPPED else recorded
            print(f"      order {order_id:<8} {why:<52} ogosync: {reason}")
        problems = self.problems()
        if problems:
            print(f"   NOT CONVERGED: {problems}")
        return not problems
