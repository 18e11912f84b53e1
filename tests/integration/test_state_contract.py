"""One contract, every implementation: the DynamoDB repository over HTTP to moto and to Amazon's DynamoDB Local,
and the in-memory fake.

The conditional writes here are what invariants 1, 2 and 4 rest on.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import cast

import pytest

from ogosync.errors import ConcurrencyConflictError
from ogosync.models import (
    BindingStatus,
    Flow,
    Hold,
    HoldReason,
    IntegrationSettings,
    Notice,
    NoticeKind,
    SkuBinding,
    WarehouseOrderState,
)
from ogosync.ports import DeliveryLog, ScheduleSource, SkuBindingRepository, StateRepository
from ogosync.state.dynamo import DynamoStateRepository
from ogosync.state.notices import DynamoNotices
from ogosync.state.skus import DynamoSkuBindings
from ogosync.sync.schedule import schedule_of
from tests.factories import T0, make_integration
from tests.fakes import InMemorySkuBindings, InMemoryState
from tests.integration.tables import state_table

pytestmark = pytest.mark.integration
HOLD = Hold(reason=HoldReason.UNMAPPED_SHIPPING_METHOD, detail="no code for 'drone'")
SENT_STATE = WarehouseOrderState(id="guid-1", reference="1001", status="new")


BACKENDS = ["moto", "dynamodb-local", "memory"]


@pytest.fixture(params=BACKENDS)
def repo(request: pytest.FixtureRequest) -> StateRepository:
    if request.param == "memory":
        return InMemoryState()
    table = state_table(request, request.param)
    return DynamoStateRepository(table.client, table.name)


@pytest.fixture(params=BACKENDS)
def skus(request: pytest.FixtureRequest) -> SkuBindingRepository:
    if request.param == "memory":
        return InMemorySkuBindings()
    table = state_table(request, request.param)
    return DynamoSkuBindings(table.client, table.name)


@pytest.fixture
def iid() -> str:
    return f"shop-{uuid.uuid4().hex[:10]}"


def test_a_live_claim_excludes_others_until_its_lease_ends(repo: StateRepository, iid: str) -> None:
    assert repo.claim_order(iid, "1001", "1001", "a", T0, 60) is None
    with pytest.raises(ConcurrencyConflictError):
        repo.claim_order(iid, "1001", "1001", "b", T0 + timedelta(seconds=30), 60)

    previous = repo.claim_order(iid, "1001", "1001", "c", T0 + timedelta(seconds=61), 60)

    assert previous is not None and previous.status is BindingStatus.CLAIMED and previous.attempts == 1
    current = repo.get_order_binding(iid, "1001")
    assert current is not None and current.claim_token == "c" and current.attempts == 2


def test_only_the_claim_owner_records_the_order_as_sent_and_then_nobody_claims_it(
    repo: StateRepository, iid: str
) -> None:
    repo.claim_order(iid, "1001", "1001", "mine", T0, 60)
    with pytest.raises(ConcurrencyConflictError):
        repo.mark_order_sent(iid, "1001", "not-mine", SENT_STATE, T0, was_held=False)

    repo.mark_order_sent(iid, "1001", "mine", SENT_STATE, T0, was_held=False)

    binding = repo.get_order_binding(iid, "1001")
    assert binding is not None and binding.status is BindingStatus.SENT and binding.myogo_id == "guid-1"
    assert binding.claim_token is None
    with pytest.raises(ConcurrencyConflictError):
        repo.claim_order(iid, "1001", "1001", "late", T0 + timedelta(days=1), 60)
    assert not repo.mark_order_held(iid, "1001", "1001", [HOLD], T0, T0)
    assert not repo.mark_order_skipped(iid, "1001", "1001", "cancelled", T0, T0)


def test_only_the_claim_owner_renews_its_claim_and_a_renewed_claim_outlives_its_first_lease(
    repo: StateRepository, iid: str
) -> None:
    repo.claim_order(iid, "1001", "1001", "mine", T0, 60)
    assert not repo.renew_order_claim(iid, "1001", "not-mine", T0 + timedelta(seconds=30), 60)

    assert repo.renew_order_claim(iid, "1001", "mine", T0 + timedelta(seconds=50), 60)

    with pytest.raises(ConcurrencyConflictError):  # past the first lease, within the renewed one
        repo.claim_order(iid, "1001", "1001", "other", T0 + timedelta(seconds=90), 60)
    binding = repo.get_order_binding(iid, "1001")
    assert binding is not None and binding.status is BindingStatus.CLAIMED and binding.claim_token == "mine"
    assert binding.claim_expires == T0 + timedelta(seconds=110) and binding.attempts == 1
    # run out but taken by nobody: still ours, so still renewable
    assert repo.renew_order_claim(iid, "1001", "mine", T0 + timedelta(seconds=200), 60)


def test_a_claim_taken_over_or_closed_is_no_longer_renewable(repo: StateRepository, iid: str) -> None:
    repo.claim_order(iid, "1001", "1001", "first", T0, 60)
    repo.claim_order(iid, "1001", "1001", "second", T0 + timedelta(seconds=61), 60)  # the first's lease ran out
    assert not repo.renew_order_claim(iid, "1001", "first", T0 + timedelta(seconds=62), 60)

    repo.mark_order_sent(iid, "1001", "second", SENT_STATE, T0 + timedelta(seconds=63), was_held=False)

    assert not repo.renew_order_claim(iid, "1001", "second", T0 + timedelta(seconds=64), 60)
    binding = repo.get_order_binding(iid, "1001")
    assert binding is not None and binding.status is BindingStatus.SENT and binding.claim_expires is None
    repo.claim_order(iid, "2002", "2002", "failing", T0, 60)
    repo.mark_order_failed(iid, "2002", "failing", "myOGO timed out", T0)
    assert not repo.renew_order_claim(iid, "2002", "failing", T0, 60)
    assert not repo.renew_order_claim(iid, "3003", "anyone", T0, 60)
    assert repo.get_order_binding(iid, "3003") is None  # a renewal never creates a binding


def test_a_failed_attempt_can_be_claimed_again_and_keeps_its_attempt_count(repo: StateRepository, iid: str) -> None:
    repo.claim_order(iid, "1001", "1001", "a", T0, 60)
    repo.mark_order_failed(iid, "1001", "a", "myogo HTTP 503", T0)

    failed = repo.get_order_binding(iid, "1001")
    assert failed is not None and failed.status is BindingStatus.FAILED and failed.last_error == "myogo HTTP 503"
    previous = repo.claim_order(iid, "1001", "1001", "b", T0, 60)
    assert previous is not None and previous.attempts == 1


def test_held_orders_carry_reasons_and_markers_until_sent(repo: StateRepository, iid: str) -> None:
    assert repo.mark_order_held(iid, "1001", "1001", [HOLD], T0, T0)
    assert repo.mark_order_held(iid, "1002", "1002", [HOLD], T0, T0 - timedelta(days=30))

    held = repo.get_order_binding(iid, "1001")
    assert held is not None and held.status is BindingStatus.HELD and held.holds == [HOLD] and held.attempts == 0
    assert repo.held_order_ids(iid, T0 - timedelta(days=14)) == ["1001"]

    repo.claim_order(iid, "1001", "1001", "t", T0, 60)
    repo.mark_order_sent(iid, "1001", "t", SENT_STATE, T0, was_held=True)
    assert repo.held_order_ids(iid, T0 - timedelta(days=14)) == []
    assert repo.get_order_binding(iid, "1001").holds == []  # type: ignore[union-attr]


def test_held_orders_keep_the_units_they_hold_in_transit(repo: StateRepository, iid: str) -> None:
    assert repo.mark_order_held(iid, "1001", "1001", [HOLD], T0, T0, None, {"TS100BLKM": 2, "CP300": 1})
    assert repo.mark_order_held(iid, "1002", "1002", [HOLD], T0, T0, None, {})  # unreadable: nothing known
    assert repo.mark_order_held(iid, "1003", "1003", [HOLD], T0, T0)  # held before units were recorded
    assert repo.mark_order_held(iid, "1004", "1004", [HOLD], T0, T0 - timedelta(days=30), None, {"X": 1})

    assert repo.held_in_transit(iid, T0 - timedelta(days=14)) == {
        "1001": {"TS100BLKM": 2, "CP300": 1},
        "1002": {},
        "1003": None,
    }
    repo.claim_order(iid, "1001", "1001", "t", T0, 60)
    repo.mark_order_sent(iid, "1001", "t", SENT_STATE, T0, was_held=True)
    assert "1001" not in repo.held_in_transit(iid, T0 - timedelta(days=14))


def test_a_cursor_keeps_what_the_poll_records_besides_the_watermark(repo: StateRepository, iid: str) -> None:
    cursor = repo.get_cursor(iid, Flow.ORDERS)
    fields = {
        "future_dated": ["1002", "1003"],
        "held_recheck_after": "1500",
        "late_sweep_at": T0,
        "covered_since": T0 - timedelta(days=1),
        "late_orders": ["1001"],
        "late_orders_at": T0,
        "on_hold_seen_at": T0,
    }
    repo.save_cursor(cursor.model_copy(update=fields))

    saved = repo.get_cursor(iid, Flow.ORDERS)
    assert {name: getattr(saved, name) for name in fields} == fields


def test_holding_respects_a_live_claim_unless_it_is_ours(repo: StateRepository, iid: str) -> None:
    repo.claim_order(iid, "1001", "1001", "worker-a", T0, 60)

    assert not repo.mark_order_held(iid, "1001", "1001", [HOLD], T0, T0, token="worker-b")
    assert repo.mark_order_held(iid, "1001", "1001", [HOLD], T0, T0, token="worker-a")
    binding = repo.get_order_binding(iid, "1001")
    assert binding is not None and binding.status is BindingStatus.HELD and binding.attempts == 1


def test_skipping_clears_the_held_marker(repo: StateRepository, iid: str) -> None:
    repo.mark_order_held(iid, "1001", "1001", [HOLD], T0, T0)
    assert repo.mark_order_skipped(iid, "1001", "1001", "cancelled in the store", T0, T0)
    binding = repo.get_order_binding(iid, "1001")
    assert binding is not None and binding.status is BindingStatus.SKIPPED
    assert binding.skip_reason == "cancelled in the store"
    assert repo.held_order_ids(iid, T0 - timedelta(days=1)) == []


def test_an_orders_reference_is_the_one_of_its_first_record(repo: StateRepository, iid: str) -> None:
    assert repo.mark_order_held(iid, "1001", "A-1001", [HOLD], T0, T0)
    repo.claim_order(iid, "1002", "A-1002", "a", T0, 60)
    repo.mark_order_failed(iid, "1002", "a", "myogo timed out", T0)

    assert repo.claim_order(iid, "1001", "B-1001", "b", T0, 60) is not None
    assert repo.mark_order_held(iid, "1001", "B-1001", [HOLD], T0, T0, token="b")
    assert repo.claim_order(iid, "1002", "B-1002", "c", T0, 60) is not None
    assert repo.mark_order_skipped(iid, "1002", "B-1002", "cancelled", T0, T0, token="c")

    bindings = repo.get_order_bindings(iid, ["1001", "1002"])
    assert {order_id: binding.reference for order_id, binding in bindings.items()} == {
        "1001": "A-1001",
        "1002": "A-1002",
    }


def test_bindings_are_read_in_batches_larger_than_one_request(repo: StateRepository, iid: str) -> None:
    for n in range(150):
        repo.mark_order_held(iid, str(n), str(n), [HOLD], T0, T0)

    found = repo.get_order_bindings(iid, [str(n) for n in range(160)])

    assert sorted(found, key=int) == [str(n) for n in range(150)]


def test_cursors_are_read_in_one_batch_in_the_order_asked(repo: StateRepository, iid: str) -> None:
    repo.save_cursor(repo.get_cursor(iid, Flow.STOCK).model_copy(update={"last_run_ended": T0}))
    keys = [(iid, Flow.ORDERS), (iid, Flow.STOCK), (f"{iid}-other", Flow.STOCK)] + [(iid, Flow.TRACKING)] * 2
    keys += [(f"{iid}-{n}", Flow.PRODUCTS) for n in range(120)]  # more than one BatchGetItem request (100 keys)

    cursors = repo.get_cursors(keys)

    assert [(c.integration_id, c.flow) for c in cursors] == keys
    assert cursors[1].last_run_ended == T0 and cursors[1].version == 1
    assert all(c.last_run_ended is None and c.version == 0 for n, c in enumerate(cursors) if n != 1)


def test_a_cursor_is_compare_and_set(repo: StateRepository, iid: str) -> None:
    cursor = repo.get_cursor(iid, Flow.ORDERS)
    saved = repo.save_cursor(cursor.model_copy(update={"watermark": T0}))

    assert saved.version == 1 and repo.get_cursor(iid, Flow.ORDERS).watermark == T0
    with pytest.raises(ConcurrencyConflictError):
        repo.save_cursor(cursor.model_copy(update={"watermark": T0 + timedelta(hours=1)}))  # a stale copy


def test_a_lock_has_one_owner_until_it_expires(repo: StateRepository, iid: str) -> None:
    assert repo.acquire_lock(iid, Flow.ORDERS, "a", T0, 60)
    assert not repo.acquire_lock(iid, Flow.ORDERS, "b", T0 + timedelta(seconds=30), 60)
    repo.release_lock(iid, Flow.ORDERS, "b")  # not b's to release
    assert not repo.acquire_lock(iid, Flow.ORDERS, "b", T0 + timedelta(seconds=30), 60)
    assert repo.acquire_lock(iid, Flow.ORDERS, "b", T0 + timedelta(seconds=61), 60)
    repo.release_lock(iid, Flow.ORDERS, "b")
    assert repo.acquire_lock(iid, Flow.ORDERS, "c", T0 + timedelta(seconds=62), 60)


def test_integrations_and_shipping_maps_round_trip(repo: StateRepository, iid: str) -> None:
    integration = make_integration(iid)
    repo.put_integration(integration)
    repo.put_shipping_mapping(iid, "standard", "POSTI")
    repo.put_shipping_mapping(iid, "*", "DEFAULT")

    assert repo.get_integration(iid) == integration
    assert integration in repo.list_integrations()
    assert repo.shipping_map(iid) == {"standard": "POSTI", "*": "DEFAULT"}


def test_the_schedules_of_all_segments_hold_every_integration_once_with_its_intervals(
    repo: StateRepository, iid: str
) -> None:
    fleet = {f"{iid}-{n}": make_integration(f"{iid}-{n}") for n in range(12)}
    fleet[f"{iid}-paused"] = make_integration(f"{iid}-paused", status="paused")
    fleet[f"{iid}-fast"] = make_integration(f"{iid}-fast", settings=IntegrationSettings(order_poll_minutes=1))
    for integration in fleet.values():
        repo.put_integration(integration)
    source = cast(ScheduleSource, repo)

    listed = [s for segment in range(4) for s in source.integration_schedules(segment, 4) if s.integration_id in fleet]

    assert sorted(schedule.integration_id for schedule in listed) == sorted(fleet)
    assert {schedule.integration_id: schedule for schedule in listed} == {
        integration_id: schedule_of(integration) for integration_id, integration in fleet.items()
    }


@pytest.mark.parametrize("backend", ["moto", "dynamodb-local"])
def test_a_notice_waiting_to_be_sent_is_not_taken_for_an_integration_by_the_tick(
    request: pytest.FixtureRequest, backend: str, iid: str
) -> None:
    table = state_table(request, backend)
    repo = DynamoStateRepository(table.client, table.name)
    repo.put_integration(make_integration(iid))
    notice = Notice(integration_id=iid, kind=NoticeKind.ORDER_HELD, subject="1001", summary="held", at=T0)
    DynamoNotices(table.client, table.name).record(notice)  # pending notices share gsi1 with the integrations

    listed = [schedule for segment in range(2) for schedule in repo.integration_schedules(segment, 2)]

    assert [schedule.integration_id for schedule in listed if schedule.integration_id.startswith(iid)] == [iid]


def test_one_integration_never_sees_anothers_orders(repo: StateRepository, iid: str) -> None:
    repo.mark_order_held(iid, "1001", "1001", [HOLD], T0, T0)
    other = iid + "-other"
    assert repo.get_order_binding(other, "1001") is None
    assert repo.get_order_bindings(other, ["1001"]) == {}
    assert repo.held_order_ids(other, T0 - timedelta(days=1)) == []
    repo.claim_order(other, "1001", "1001", "x", T0, 60)  # its own order 1001, independent of the first
    assert repo.get_order_binding(iid, "1001").status is BindingStatus.HELD  # type: ignore[union-attr]


def test_sku_bindings_are_written_and_read_in_batches_per_integration(skus: SkuBindingRepository, iid: str) -> None:
    bindings = [
        SkuBinding(
            integration_id=iid,
            sku=f"TS100BLK{n:03d}",
            store_ids={"stockItemId": str(n)},
            ean=f"735{n:010d}",
            content_hash=f"h{n}",
            synced_at=T0,
        )
        for n in range(130)
    ]
    skus.put_sku_bindings(bindings)
    skus.put_sku_bindings([bindings[0].model_copy(update={"content_hash": "changed"})])

    assert len(skus.all_sku_bindings(iid)) == 130
    found = skus.get_sku_bindings(iid, ["TS100BLK000", "TS100BLK129", "NOT-THERE"])
    assert set(found) == {"TS100BLK000", "TS100BLK129"}
    assert found["TS100BLK000"].content_hash == "changed"
    assert found["TS100BLK129"] == bindings[129]
    assert skus.all_sku_bindings(iid + "-other") == []


def test_a_webhook_delivery_is_taken_once_until_it_expires_or_is_forgotten(repo: StateRepository, iid: str) -> None:
    deliveries: DeliveryLog = repo  # type: ignore[assignment]

    first = deliveries.first_delivery(iid, "event-1", T0, 60)
    again = deliveries.first_delivery(iid, "event-1", T0 + timedelta(seconds=59), 60)
    other = deliveries.first_delivery(iid, "event-2", T0, 60)
    expired = deliveries.first_delivery(iid, "event-1", T0 + timedelta(seconds=61), 60)
    deliveries.forget_delivery(iid, "event-2")
    retried = deliveries.first_delivery(iid, "event-2", T0 + timedelta(seconds=1), 60)

    assert (first, again, other, expired, retried) == (True, False, True, True, True)
