"""One contract, two implementations, for the stock ledger and the tracking view of order bindings: DynamoDB (over
HTTP to moto) and the in-memory fakes. The conditional writes here are what "push once" (invariant 4) rests on."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest

from ogosync.errors import ConcurrencyConflictError
from ogosync.models import (
    PROBLEMS_KEPT,
    BindingStatus,
    PublishedStock,
    ShipmentToPush,
    StockRunState,
    StoreShipment,
    TrackingStatus,
    WarehouseOrderState,
)
from ogosync.ports import StateRepository, StockLedger, TrackingRepository
from ogosync.state.dynamo import DynamoStateRepository
from ogosync.state.stock import DynamoStockLedger
from ogosync.state.tracking import DynamoTrackingRepository
from tests.factories import T0
from tests.fakes import InMemoryState
from tests.fakes_stock import InMemoryStockLedger
from tests.fakes_tracking import InMemoryTracking
from tests.integration.tables import state_table

pytestmark = pytest.mark.integration
SHIPMENT = StoreShipment(shipment_id="1001-1", shipped=True, tracking="JJFI1,JJFI2")
PUSHED = ShipmentToPush(carrier="POSTI", tracking_numbers=["JJFI1", "JJFI2"], tracking_url="https://posti.example/1")


@dataclass
class Repos:
    state: StateRepository
    tracking: TrackingRepository


BACKENDS = ["moto", "dynamodb-local", "memory"]  # the claims' conditional writes also on Amazon's DynamoDB Local


@pytest.fixture(params=BACKENDS)
def repos(request: pytest.FixtureRequest) -> Repos:
    if request.param == "memory":
        memory = InMemoryState()
        return Repos(memory, InMemoryTracking(memory))
    table = state_table(request, request.param)
    return Repos(DynamoStateRepository(table.client, table.name), DynamoTrackingRepository(table.client, table.name))


@pytest.fixture(params=BACKENDS)
def ledger(request: pytest.FixtureRequest) -> StockLedger:
    if request.param == "memory":
        return InMemoryStockLedger()
    table = state_table(request, request.param)
    return DynamoStockLedger(table.client, table.name)


@pytest.fixture
def iid() -> str:
    return f"shop-{uuid.uuid4().hex[:10]}"


def _sent(repos: Repos, iid: str, order_id: str = "1001") -> None:
    repos.state.claim_order(iid, order_id, f"ACME-{order_id}", "t", T0, 60)
    sent = WarehouseOrderState(id="guid", reference=f"ACME-{order_id}", status="new")
    repos.state.mark_order_sent(iid, order_id, "t", sent, T0, was_held=False)


def _entry(iid: str, sku: str, quantity: int) -> PublishedStock:
    return PublishedStock(
        integration_id=iid,
        sku=sku,
        quantity=quantity,
        available=quantity + 1,
        in_transit=1,
        store_quantity=quantity + 4,
        published_at=T0,
    )


# ---- stock ledger -------------------------------------------------------------------------------


def test_the_ledger_returns_what_was_last_published_per_sku(ledger: StockLedger, iid: str) -> None:
    ledger.record_published([_entry(iid, f"SKU-{n}", n) for n in range(30)])  # more than one batch of 25
    ledger.record_published([_entry(iid, "SKU-3", 7)])

    some = ledger.published(iid, ["SKU-3", "SKU-29", "NEVER"])
    every = ledger.all_published(iid)

    assert {sku: entry.quantity for sku, entry in some.items()} == {"SKU-3": 7, "SKU-29": 29}
    assert len(every) == 30 and every["SKU-0"] == _entry(iid, "SKU-0", 0)
    assert ledger.all_published(f"{iid}-other") == {}


def test_the_run_state_starts_empty_and_keeps_what_was_saved_apart_from_the_ledger(
    ledger: StockLedger, iid: str
) -> None:
    assert ledger.run_state(iid) == StockRunState(integration_id=iid)
    saved = StockRunState(integration_id=iid, full_run_started=T0, in_transit_skus=["SKU-1", "SKU-2"])

    ledger.save_run_state(saved)
    ledger.record_published([_entry(iid, "SKU-1", 1)])

    assert ledger.run_state(iid) == saved
    assert list(ledger.all_published(iid)) == ["SKU-1"]


def test_the_run_state_keeps_the_unbound_and_refused_skus_at_their_bound(ledger: StockLedger, iid: str) -> None:
    skus = [f"SKU-{n:05d}-{'X' * 40}" for n in range(PROBLEMS_KEPT)]  # the bound, with long SKUs: one item holds it
    saved = StockRunState(integration_id=iid, unbound_skus=skus, refused_skus=skus)

    ledger.save_run_state(saved)
    ledger.save_run_state(saved.model_copy(update={"refused_skus": []}))

    assert ledger.run_state(iid) == saved.model_copy(update={"refused_skus": []})


# ---- tracking ---------------------------------------------------------------------------------


def test_the_tracking_view_tells_the_order_flows_record(repos: Repos, iid: str) -> None:
    _sent(repos, iid)
    repos.state.claim_order(iid, "1002", "ACME-1002", "t", T0, 60)

    views = repos.tracking.get_tracking(iid, ["1001", "1002"])

    assert {order_id: view.status for order_id, view in views.items()} == {
        "1001": BindingStatus.SENT,
        "1002": BindingStatus.CLAIMED,
    }


def test_only_orders_with_a_binding_have_a_tracking_view_and_get_a_myogo_status(repos: Repos, iid: str) -> None:
    _sent(repos, iid)

    repos.tracking.record_myogo_status(iid, "1001", "collecting", T0)
    repos.tracking.record_myogo_status(iid, "9999", "shipped", T0)  # not ours: nothing happens

    views = repos.tracking.get_tracking(iid, ["1001", "9999"])
    assert list(views) == ["1001"]
    assert (views["1001"].reference, views["1001"].myogo_status, views["1001"].tracking_status) == (
        "ACME-1001",
        "collecting",
        None,
    )
    binding = repos.state.get_order_binding(iid, "1001")  # the order flow's view of the same item
    assert binding is not None and binding.status is BindingStatus.SENT and binding.myogo_status == "collecting"
    assert repos.state.get_order_binding(iid, "9999") is None


def test_a_live_push_claim_excludes_others_until_its_lease_ends(repos: Repos, iid: str) -> None:
    _sent(repos, iid)
    first = repos.tracking.claim_push(iid, "1001", "a", T0, 60)
    with pytest.raises(ConcurrencyConflictError):
        repos.tracking.claim_push(iid, "1001", "b", T0 + timedelta(seconds=30), 60)

    previous = repos.tracking.claim_push(iid, "1001", "c", T0 + timedelta(seconds=61), 60)

    assert first.tracking_status is None and first.tracking_attempts == 0
    assert previous.tracking_status is TrackingStatus.CLAIMED and previous.tracking_attempts == 1
    current = repos.tracking.get_tracking(iid, ["1001"])["1001"]
    assert current.tracking_claim_token == "c" and current.tracking_attempts == 2


def test_only_the_claim_owner_records_the_push_and_then_nobody_claims_it(repos: Repos, iid: str) -> None:
    _sent(repos, iid)
    repos.tracking.claim_push(iid, "1001", "mine", T0, 60)
    with pytest.raises(ConcurrencyConflictError):
        repos.tracking.mark_pushed(iid, "1001", "not-mine", SHIPMENT, PUSHED, T0)

    repos.tracking.mark_pushed(iid, "1001", "mine", SHIPMENT, PUSHED, T0)

    view = repos.tracking.get_tracking(iid, ["1001"])["1001"]
    assert (view.tracking_status, view.store_shipment_id, view.tracking_numbers, view.tracking_url) == (
        TrackingStatus.PUSHED,
        "1001-1",
        ["JJFI1", "JJFI2"],
        "https://posti.example/1",
    )
    assert view.tracking_claim_token is None and view.tracking_pushed_at == T0
    with pytest.raises(ConcurrencyConflictError):
        repos.tracking.claim_push(iid, "1001", "late", T0 + timedelta(days=1), 60)


def test_only_the_push_claim_owner_renews_it_and_nothing_of_the_order_flow_changes(repos: Repos, iid: str) -> None:
    _sent(repos, iid)
    repos.tracking.claim_push(iid, "1001", "mine", T0, 60)
    assert not repos.tracking.renew_push_claim(iid, "1001", "not-mine", T0 + timedelta(seconds=30), 60)

    assert repos.tracking.renew_push_claim(iid, "1001", "mine", T0 + timedelta(seconds=50), 60)

    with pytest.raises(ConcurrencyConflictError):  # past the first lease, within the renewed one
        repos.tracking.claim_push(iid, "1001", "other", T0 + timedelta(seconds=90), 60)
    view = repos.tracking.get_tracking(iid, ["1001"])["1001"]
    assert view.tracking_claim_token == "mine" and view.tracking_claim_expires == T0 + timedelta(seconds=110)
    binding = repos.state.get_order_binding(iid, "1001")
    assert binding is not None and binding.status is BindingStatus.SENT and binding.claim_token is None


def test_a_push_claim_taken_over_or_recorded_is_no_longer_renewable(repos: Repos, iid: str) -> None:
    _sent(repos, iid)
    repos.tracking.claim_push(iid, "1001", "first", T0, 60)
    repos.tracking.claim_push(iid, "1001", "second", T0 + timedelta(seconds=61), 60)  # the first's lease ran out
    assert not repos.tracking.renew_push_claim(iid, "1001", "first", T0 + timedelta(seconds=62), 60)

    repos.tracking.mark_pushed(iid, "1001", "second", SHIPMENT, PUSHED, T0 + timedelta(seconds=63))

    assert not repos.tracking.renew_push_claim(iid, "1001", "second", T0 + timedelta(seconds=64), 60)
    assert not repos.tracking.renew_push_claim(iid, "2002", "anyone", T0, 60)
    assert repos.tracking.get_tracking(iid, ["2002"]) == {}  # a renewal never creates a binding


def test_a_failed_push_can_be_claimed_again_and_a_refused_one_cannot(repos: Repos, iid: str) -> None:
    _sent(repos, iid, "1001")
    _sent(repos, iid, "1002")
    repos.tracking.claim_push(iid, "1001", "a", T0, 60)
    repos.tracking.claim_push(iid, "1002", "b", T0, 60)
    repos.tracking.mark_push_failed(iid, "1001", "someone-else", TrackingStatus.FAILED, "timeout", T0)  # ignored

    repos.tracking.mark_push_failed(iid, "1001", "a", TrackingStatus.FAILED, "centra timed out", T0)
    repos.tracking.mark_push_failed(iid, "1002", "b", TrackingStatus.CAPTURE_FAILED, "capture failed", T0)

    views = repos.tracking.get_tracking(iid, ["1001", "1002"])
    assert (views["1001"].tracking_status, views["1001"].tracking_error) == (TrackingStatus.FAILED, "centra timed out")
    assert views["1002"].tracking_status is TrackingStatus.CAPTURE_FAILED and views["1002"].tracking_failed_at == T0
    assert repos.tracking.claim_push(iid, "1001", "c", T0, 60).tracking_attempts == 1
    with pytest.raises(ConcurrencyConflictError):
        repos.tracking.claim_push(iid, "1002", "d", T0 + timedelta(days=1), 60)


def test_an_order_without_a_binding_cannot_be_claimed(repos: Repos, iid: str) -> None:
    with pytest.raises(ConcurrencyConflictError):
        repos.tracking.claim_push(iid, "1001", "a", T0, 60)
    assert repos.state.get_order_binding(iid, "1001") is None  # and no item was made up


def test_a_refused_push_is_reopened_once_and_can_then_be_claimed(repos: Repos, iid: str) -> None:
    _sent(repos, iid, "1001")
    _sent(repos, iid, "1002")
    repos.tracking.claim_push(iid, "1001", "a", T0, 60)
    repos.tracking.mark_push_failed(iid, "1001", "a", TrackingStatus.REJECTED, "shipment refused", T0)
    later = T0 + timedelta(hours=1)

    reopened = repos.tracking.reopen_refused_push(iid, "1001", later)
    again = repos.tracking.reopen_refused_push(iid, "1001", later)
    never_refused = repos.tracking.reopen_refused_push(iid, "1002", later)
    unknown = repos.tracking.reopen_refused_push(iid, "9999", later)

    assert (reopened, again, never_refused, unknown) == (True, False, False, False)
    view = repos.tracking.get_tracking(iid, ["1001"])["1001"]
    assert (view.tracking_status, view.tracking_failed_at) == (TrackingStatus.FAILED, later)
    assert repos.tracking.claim_push(iid, "1001", "b", later, 60).tracking_attempts == 1
    assert repos.state.get_order_binding(iid, "9999") is None
