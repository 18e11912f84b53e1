"""An order the Order API shows only after the poll's watermark has passed it (unpaid, on hold, a status the plugin
leaves out when it is placed), and no webhook: the order poll's late sweep sends it (issue 10 item 7)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from ogosync.models import Flow
from ogosync.timeutil import utc_now
from ogosync_local.sim import ManualClock
from ogosync_local.stack import CentraSetup, LocalStack

pytestmark = pytest.mark.e2e
SIZE = "TS100BLKM"


def _shop(stack: LocalStack) -> CentraSetup:
    setup = stack.add_centra_store("late-shop", shipping_map={"standard": "POSTI"})
    setup.centra.add_product("TS100", "BLK", "M", ean="7350000000017", stock=50)
    stack.myogo.add_product(setup.merchant_id, SIZE, stock=50)
    return setup


def _poll(stack: LocalStack, setup: CentraSetup) -> None:
    stack.enqueue_flow(setup.integration.id, Flow.ORDERS)
    assert stack.run_flow(Flow.ORDERS).failed == 0


def _in_myogo(stack: LocalStack, setup: CentraSetup) -> Counter[str]:
    return Counter(order["reference"] for order in stack.myogo.orders(setup.merchant_id).values())


def test_an_order_visible_only_later_reaches_myogo_by_the_late_sweep_without_any_webhook(stack: LocalStack) -> None:
    setup = _shop(stack)
    setup.centra.clock = ManualClock(utc_now() - timedelta(hours=2))
    late = setup.centra.add_order([{"product": SIZE}])["orderId"]  # placed two hours ago...
    setup.centra.hide_order(late)  # ...but not shown by the Order API then
    setup.centra.clock = utc_now
    newer = setup.centra.add_order([{"product": SIZE}])["orderId"]
    _poll(stack, setup)  # the first run (and its sweep): the watermark moves to `newer`
    setup.centra.hide_order(late, hidden=False)  # shown from now on; no webhook is ever delivered
    _poll(stack, setup)
    assert _in_myogo(stack, setup) == Counter({newer: 1})  # behind the regular window

    # late_sweep_minutes pass (the cursor's last sweep is moved back rather than waiting that long)
    state, integration = stack.state(), setup.integration
    cursor = state.get_cursor(integration.id, Flow.ORDERS)
    assert cursor.late_sweep_at is not None
    every = timedelta(minutes=integration.settings.late_sweep_minutes)
    state.save_cursor(cursor.model_copy(update={"late_sweep_at": cursor.late_sweep_at - every}))
    _poll(stack, setup)

    assert _in_myogo(stack, setup) == Counter({newer: 1, late: 1})
    swept = state.get_cursor(integration.id, Flow.ORDERS)
    assert swept.late_orders == [late] and swept.last_counts["late_created"] == 1
    assert integration.settings.late_sweep_minutes + integration.settings.order_poll_minutes <= 60  # the bound
