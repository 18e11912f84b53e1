"""chaos.py's order and shipping phases for a store on the platform registry (Shopify, WooCommerce).

What differs per platform is only how its simulator delivers webhooks, takes a late payment or a release, and
cancels an order; each platform's chaos module says that (and sets up, sells and judges its own store), and this
class runs the phases the same way for both."""

from __future__ import annotations

import argparse
import random
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from ogosync.models import BindingStatus, Flow
from ogosync_local.chaos import ChaosConfig, ChaosReport, ChaosRun, Cohorts
from ogosync_local.markdown import replace_section
from ogosync_local.sim.webhooks import DeliveryRecord

# The small run of `make test` (tests/e2e/test_chaos_<platform>.py): 20 orders on a fast clock, each merchant action
# at least once.
SMALL_RUN = ChaosConfig(
    orders=20,
    products=6,
    retry_after_s=0.1,
    client_timeout_s=0.3,
    kill_rate=0.3,
    max_rounds=8,
    pending_share=0.1,
    cancel_share=0.1,
    late_cancel_share=0.05,
    hidden_share=0.1,
)


Report = TypeVar("Report", bound=ChaosReport)


def chaos_main(
    argv: list[str] | None,
    platform: str,
    run: Callable[[ChaosConfig], Report],
    render: Callable[[Report, str], str],
) -> int:
    """`python -m ogosync_local.chaos_<platform> --orders N [--seed S] [--markdown FILE]`: 1 when not converged."""
    parser = argparse.ArgumentParser(description=f"make chaos, {platform}'s part")
    parser.add_argument("--orders", type=int, default=150)
    parser.add_argument("--seed", type=int, default=ChaosConfig.seed)
    parser.add_argument(
        "--markdown", type=Path, help=f"write the tables into this file between the chaos-{platform} markers"
    )
    args = parser.parse_args(argv)
    report = run(ChaosConfig(orders=args.orders, seed=args.seed))
    text = render(report, f"python -m ogosync_local.chaos_{platform} --orders {args.orders}")
    print(text)
    if args.markdown:
        replace_section(args.markdown, f"chaos-{platform}", text)
    return 0 if report.converged else 1


class PlatformChaosRun(ChaosRun, ABC):
    @abstractmethod
    def _place(self, place: str, lines: list[dict[str, Any]], cohorts: Cohorts) -> str:
        """Place one order in the store as its cohort wants it (unpaid, held in the store, or paid); its id."""

    @abstractmethod
    def _store_deliveries(self, duplicate_rate: float, loss_rate: float) -> Iterable[DeliveryRecord]:
        """Deliver the store's queued webhooks (duplicated, lost and reordered as asked); what happened to each."""

    @abstractmethod
    def _pay_and_release(self, pending: set[str], held: set[str]) -> None:
        """The merchant's late payments (`pending`) and releases of orders kept back in the store (`held`)."""

    @abstractmethod
    def _cancel_in_store(self, order_id: str) -> None: ...

    def _before_orders(self) -> None:
        """A platform's own fault at the start of the order phase (none by default)."""

    def _before_tracking(self) -> None:
        """A platform's own fault before the warehouse's shipments come back (none by default)."""

    def _place_orders(self, codes: list[str]) -> None:
        """The paid orders of the run, baskets of 1-3 SKUs drawn from the seed, each merchant action a share."""
        rng = random.Random(self.config.seed)
        baskets = [
            [{"sku": code, "quantity": rng.randint(1, 3)} for code in rng.sample(codes, rng.randint(1, 3))]
            for _ in range(self.config.orders)
        ]
        by_place = Cohorts.pick([str(n) for n in range(len(baskets))], self.config)
        placed = [self._place(str(n), lines, by_place) for n, lines in enumerate(baskets)]
        self.report.paid_orders = self.config.orders
        self.cohorts = self.report.cohorts = Cohorts(
            *({placed[int(n)] for n in cohort} for cohort in by_place.__dict__.values())
        )

    def _deliver_store_webhooks(self) -> None:
        deliveries = self._store_deliveries(self.config.duplicate_rate, self.config.loss_rate)
        self.report.webhooks.update(
            "lost" if d.lost else "duplicate" if d.duplicated else f"answered {d.status}" for d in deliveries
        )

    def _orders_to_myogo(self) -> None:
        self._before_orders()
        self._deliver_store_webhooks()
        self._drain("order_import", self.stack.aws.queue_urls["OrderQueue"], batch_size=10)
        self._change_reference_prefix()
        waiting = self.cohorts.pending | self.cohorts.hidden
        self._until(Flow.ORDERS, lambda: not (set(self._order_problems()) - waiting) and self._all_held(waiting))
        self.report.hidden_before = len(waiting - set(self._not_once_in_myogo()))  # must be 0: held, not sent
        self._pay_and_release(self.cohorts.pending, self.cohorts.hidden)
        self._deliver_store_webhooks()
        self._drain("order_import", self.stack.aws.queue_urls["OrderQueue"], batch_size=10)
        self._until(Flow.ORDERS, lambda: not self._order_problems())
        self._cancel_after_sending()

    def _all_held(self, order_ids: set[str]) -> bool:
        bindings = self._bindings()
        return all(order_id in bindings and bindings[order_id].status is BindingStatus.HELD for order_id in order_ids)

    def _cancel_after_sending(self) -> None:
        for order_id in self.cohorts.cancelled:
            self._cancel_in_store(order_id)
        self._deliver_store_webhooks()
        self._until(Flow.ORDERS, lambda: not self._not_cancelled_in_myogo())

    def _ship_and_track(self) -> None:
        self.stack.myogo.advance(1)  # new -> collecting
        for order_id in self.cohorts.late_cancelled:  # too late for ogosync to stop: a person must
            self._cancel_in_store(order_id)
        self._until(Flow.ORDERS, lambda: len(self._late_cancels_for_a_person()) == len(self.cohorts.late_cancelled))
        self.stack.myogo.advance(1)  # collecting -> shipped
        self._before_tracking()
        self.stack.myogo.deliver_webhooks()  # hints to the tracking queue
        self._until(Flow.TRACKING, lambda: not self._tracking_problems())
