"""Invariants 1 and 2 under any interleaving: every paid order ends in myOGO exactly once, whatever happens on the way.

The fake warehouse here ACCEPTS duplicate references (the real one's behaviour is uncertain), so a second send
would show as a second order instead of being refused.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ogosync.errors import OgosyncError, TransientPlatformError
from ogosync.sync.orders import OrderDeps, import_order_by_id, poll_orders
from tests.factories import T0, make_integration, make_order
from tests.fakes import FakeStore, FakeWarehouse, InMemoryState

ORDER_IDS = [str(1001 + n) for n in range(6)]
Step = tuple[str, int]
steps = st.lists(
    st.tuples(
        st.sampled_from(["webhook", "poll", "crash_next_record", "fail_before_accept", "fail_after_accept", "wait"]),
        st.integers(0, len(ORDER_IDS) - 1),
    ),
    max_size=40,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps)
def test_every_paid_order_reaches_myogo_exactly_once(plan: list[Step]) -> None:
    now = {"t": T0 + timedelta(minutes=10)}
    state = InMemoryState()
    integration = make_integration()
    state.put_shipping_mapping(integration.id, "standard", "POSTI")
    warehouse = FakeWarehouse(["TSHIRT-BLK-M"])
    warehouse.reject_duplicates = False
    store = FakeStore(make_order(order_id, placed_at=T0 + timedelta(seconds=n)) for n, order_id in enumerate(ORDER_IDS))
    deps = OrderDeps(state=state, store=store, warehouse=warehouse, clock=lambda: now["t"], sleep=lambda _: None)

    for action, index in plan:
        try:
            if action == "webhook":
                import_order_by_id(integration, ORDER_IDS[index], deps)
            elif action == "poll":
                poll_orders(integration, deps, owner=f"poll-{len(warehouse.accepted)}")
            elif action == "crash_next_record":
                state.fail_next_mark_sent = True
            elif action == "fail_before_accept":
                warehouse.fail_creates.append(TransientPlatformError("myogo", "503", 503))
            elif action == "fail_after_accept":
                warehouse.fail_after_accept.append(TransientPlatformError("myogo", "read timeout"))
            else:
                now["t"] += timedelta(seconds=deps.claim_lease_seconds // 2 + index * 30)
        except OgosyncError:
            pass  # a failed invocation: SQS would redeliver it, the poll would find it again

    # The faults stop; time passes beyond every lease; the scheduled poll keeps running.
    state.fail_next_mark_sent = False
    warehouse.fail_creates.clear()
    warehouse.fail_after_accept.clear()
    for _ in range(3):
        now["t"] += timedelta(seconds=deps.claim_lease_seconds + 1)
        poll_orders(integration, deps, owner="final")

    assert sorted(warehouse.accepted) == ORDER_IDS, f"sent twice: {warehouse.accepted}"
    assert sorted(warehouse.orders) == ORDER_IDS
    assert all(state.get_order_binding(integration.id, order_id).status == "sent" for order_id in ORDER_IDS)  # type: ignore[union-attr]
