"""One contract, three implementations (moto, DynamoDB Local, in memory) for aftercare's state: the OPEN# list written
with the SENT record, the aftercare claim that guards a cancel/update in myOGO, ATTENTION# and WAITSTORE#, and the
tracking claim of a shipment waiting for the store (issue 10 items 9 and 10)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest

from ogosync.errors import ConcurrencyConflictError
from ogosync.models import AftercareStatus, TrackingStatus, WarehouseOrderState
from ogosync.ports import AftercareRepository, StateRepository, TrackingRepository
from ogosync.state.aftercare import DynamoAftercareRepository
from ogosync.state.dynamo import DynamoStateRepository
from ogosync.state.tracking import DynamoTrackingRepository
from tests.factories import T0
from tests.fakes import InMemoryState
from tests.fakes_aftercare import InMemoryAftercare
from tests.fakes_tracking import InMemoryTracking
from tests.integration.tables import state_table

pytestmark = pytest.mark.integration


@dataclass
class Repos:
    state: StateRepository
    aftercare: AftercareRepository
    tracking: TrackingRepository


@pytest.fixture(params=["moto", "dynamodb-local", "memory"])
def repos(request: pytest.FixtureRequest) -> Repos:
    if request.param == "memory":
        memory = InMemoryState()
        return Repos(memory, InMemoryAftercare(memory), InMemoryTracking(memory))
    table = state_table(request, request.param)
    return Repos(
        DynamoStateRepository(table.client, table.name),
        DynamoAftercareRepository(table.client, table.name),
        DynamoTrackingRepository(table.client, table.name),
    )


@pytest.fixture
def iid() -> str:
    return f"shop-{uuid.uuid4().hex[:10]}"


def _sent(repos: Repos, iid: str, order_id: str, sent_hash: str = "h1") -> None:
    repos.state.claim_order(iid, order_id, f"ACME-{order_id}", "t", T0, 60)
    sent = WarehouseOrderState(id="guid", reference=f"ACME-{order_id}", status="new")
    repos.state.mark_order_sent(iid, order_id, "t", sent, T0, was_held=False, sent_hash=sent_hash)


def test_a_sent_order_is_listed_open_with_its_digest_in_id_order_after_a_cursor(repos: Repos, iid: str) -> None:
    for order_id in ("1003", "1001", "1002"):
        _sent(repos, iid, order_id)

    first = repos.aftercare.open_orders(iid, None, 2)
    rest = repos.aftercare.open_orders(iid, first[-1].store_order_id, 2)

    assert [(o.store_order_id, o.reference) for o in first] == [("1001", "ACME-1001"), ("1002", "ACME-1002")]
    assert [o.store_order_id for o in rest] == ["1003"]
    binding = repos.state.get_order_binding(iid, "1001")
    assert binding is not None and binding.sent_hash == "h1"


def test_the_rotating_cursor_is_kept(repos: Repos, iid: str) -> None:
    assert repos.aftercare.aftercare_cursor(iid) is None
    repos.aftercare.save_aftercare_cursor(iid, "1002")
    assert repos.aftercare.aftercare_cursor(iid) == "1002"
    repos.aftercare.save_aftercare_cursor(iid, None)
    assert repos.aftercare.aftercare_cursor(iid) is None


def test_only_a_sent_order_can_be_claimed_and_a_live_claim_excludes_others(repos: Repos, iid: str) -> None:
    repos.state.claim_order(iid, "1009", "ACME-1009", "t", T0, 60)  # being sent, not sent
    with pytest.raises(ConcurrencyConflictError):
        repos.aftercare.claim_aftercare(iid, "1009", "a", T0, 60)
    _sent(repos, iid, "1001")

    before = repos.aftercare.claim_aftercare(iid, "1001", "a", T0, 60)
    with pytest.raises(ConcurrencyConflictError):
        repos.aftercare.claim_aftercare(iid, "1001", "b", T0 + timedelta(seconds=30), 60)
    repos.aftercare.claim_aftercare(iid, "1001", "c", T0 + timedelta(seconds=61), 60)  # the lease ran out

    assert before.aftercare_claim_token is None and before.reference == "ACME-1001"
    with pytest.raises(ConcurrencyConflictError):  # "a" lost its claim: it cannot record
        repos.aftercare.finish_aftercare(iid, "1001", "a", AftercareStatus.CANCELLED_IN_MYOGO, "x", T0, close=True)


def test_only_the_owner_renews_its_claim_until_another_worker_takes_it_over(repos: Repos, iid: str) -> None:
    _sent(repos, iid, "1001")
    repos.aftercare.claim_aftercare(iid, "1001", "a", T0, 60)

    repos.aftercare.renew_aftercare(iid, "1001", "a", T0 + timedelta(seconds=50), 60)  # now until T0 + 110 s
    with pytest.raises(ConcurrencyConflictError):
        repos.aftercare.claim_aftercare(iid, "1001", "b", T0 + timedelta(seconds=100), 60)
    with pytest.raises(ConcurrencyConflictError):
        repos.aftercare.renew_aftercare(iid, "1001", "b", T0 + timedelta(seconds=100), 60)  # not the owner
    repos.aftercare.claim_aftercare(iid, "1001", "b", T0 + timedelta(seconds=120), 60)  # ran out: b takes over
    with pytest.raises(ConcurrencyConflictError):
        repos.aftercare.renew_aftercare(iid, "1001", "a", T0 + timedelta(seconds=121), 60)  # a may write no more


def test_the_claim_owner_records_an_update_and_keeps_the_order_open(repos: Repos, iid: str) -> None:
    _sent(repos, iid, "1001")
    repos.aftercare.claim_aftercare(iid, "1001", "a", T0, 60)

    repos.aftercare.finish_aftercare(
        iid, "1001", "a", AftercareStatus.UPDATED_IN_MYOGO, "updated", T0, close=False, sent_hash="h2"
    )

    binding = repos.state.get_order_binding(iid, "1001")
    assert binding is not None
    assert (binding.aftercare_status, binding.sent_hash, binding.aftercare_claim_token) == (
        AftercareStatus.UPDATED_IN_MYOGO,
        "h2",
        None,
    )
    assert [o.store_order_id for o in repos.aftercare.open_orders(iid, None, 10)] == ["1001"]
    repos.aftercare.claim_aftercare(iid, "1001", "b", T0, 60)  # free again at once


def test_handing_an_order_to_a_person_lists_it_and_ends_its_aftercare(repos: Repos, iid: str) -> None:
    _sent(repos, iid, "1001")
    _sent(repos, iid, "1002")
    repos.aftercare.claim_aftercare(iid, "1001", "a", T0, 60)

    repos.aftercare.finish_aftercare(iid, "1001", "a", AftercareStatus.NEEDS_PERSON, "too late", T0, close=True)

    (attention,) = repos.aftercare.attention_orders(iid)
    assert (attention.store_order_id, attention.detail, attention.since) == ("1001", "too late", T0)
    assert [o.store_order_id for o in repos.aftercare.open_orders(iid, None, 10)] == ["1002"]
    binding = repos.state.get_order_binding(iid, "1001")
    assert binding is not None and binding.aftercare_status is AftercareStatus.NEEDS_PERSON


def test_waiting_shipments_keep_their_first_moment_oldest_first_until_cleared(repos: Repos, iid: str) -> None:
    repos.aftercare.mark_waiting(iid, "1002", "ACME-1002", T0 + timedelta(hours=1))
    repos.aftercare.mark_waiting(iid, "1001", "ACME-1001", T0 + timedelta(hours=2))
    repos.aftercare.mark_waiting(iid, "1002", "ACME-1002", T0 + timedelta(hours=3))  # again, later

    waiting = repos.aftercare.waiting_shipments(iid)
    repos.aftercare.clear_waiting(iid, "1002")

    assert [(w.store_order_id, w.since) for w in waiting] == [
        ("1002", T0 + timedelta(hours=1)),
        ("1001", T0 + timedelta(hours=2)),
    ]
    assert [w.store_order_id for w in repos.aftercare.waiting_shipments(iid)] == ["1001"]


def test_a_shipment_waiting_for_the_store_can_be_claimed_again(repos: Repos, iid: str) -> None:
    _sent(repos, iid, "1001")
    repos.tracking.claim_push(iid, "1001", "a", T0, 60)
    waiting = TrackingStatus.WAITING_FOR_STORE
    repos.tracking.mark_push_failed(iid, "1001", "a", waiting, "order is not confirmed", T0)

    before = repos.tracking.claim_push(iid, "1001", "b", T0 + timedelta(seconds=1), 60)

    assert before.tracking_status is TrackingStatus.WAITING_FOR_STORE
