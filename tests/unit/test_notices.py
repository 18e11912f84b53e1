"""The events a merchant hears about, recorded where they happen, once each (over the in-memory fakes)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ogosync.errors import AuthenticationError, TransientPlatformError
from ogosync.models import (
    Hold,
    HoldReason,
    IntegrationSettings,
    NoticeKind,
    WarehouseOrderChange,
    WarehouseOrderState,
)
from ogosync.sync import notices as events
from ogosync.sync.notices import REDACTED_PATTERNS, redact, telling_refused_credentials
from ogosync.sync.orders import OrderDeps, import_order_by_id, poll_orders
from ogosync.sync.products import ProductDeps, sync_products
from ogosync.sync.tracking import TrackingDeps, poll_tracking
from tests.factories import T0, make_integration, make_order
from tests.fakes import FakeStore, FakeWarehouse, InMemorySkuBindings, InMemoryState
from tests.fakes_notices import InMemoryNotices
from tests.fakes_products import FakeCatalog, FakeMyOgoProducts, InMemoryProductRefusals, store_product
from tests.fakes_tracking import FakeShipmentStore, FakeTrackingWarehouse, InMemoryTracking

SKU = "TSHIRT-BLK-M"


def _kinds(notices: InMemoryNotices) -> list[tuple[NoticeKind, str]]:
    return [(notice.kind, notice.subject) for notice in notices.pending(100)]


def test_a_held_order_is_recorded_once_however_often_the_import_and_the_poll_meet_it() -> None:
    state, notices = InMemoryState(), InMemoryNotices()
    integration = make_integration()
    state.put_integration(integration)
    store = FakeStore()
    store.put(make_order("1001", shipping_method="drone"))  # no mapping: held
    deps = OrderDeps(
        state=state, store=store, warehouse=FakeWarehouse([SKU]), clock=lambda: T0, notices=notices, sleep=lambda _: 0
    )

    for _ in range(3):
        import_order_by_id(integration, "1001", deps)
    poll_orders(integration, deps, owner="poll-1")

    assert _kinds(notices) == [(NoticeKind.ORDER_HELD, "1001")]
    (notice,) = notices.pending(1)
    assert "1001" in notice.summary and "drone" in notice.summary and notice.at == T0


def test_a_second_worker_recording_the_same_hold_adds_nothing() -> None:
    notices = InMemoryNotices()
    integration = make_integration()
    store = FakeStore()
    store.put(make_order("1001", shipping_method="drone"))
    workers = [
        OrderDeps(state=InMemoryState(), store=store, warehouse=FakeWarehouse([SKU]), notices=notices) for _ in range(2)
    ]

    for deps in workers:  # two workers whose state both saw the order new (the notice is keyed, not remembered)
        import_order_by_id(integration, "1001", deps)

    assert _kinds(notices) == [(NoticeKind.ORDER_HELD, "1001")]


def test_a_product_myogo_refuses_is_recorded_once_and_again_only_when_its_content_changed() -> None:
    notices = InMemoryNotices()
    integration = make_integration(settings=IntegrationSettings(create_new_products=True))
    myogo = FakeMyOgoProducts()
    myogo.refuse["A2"] = "Product languageCode is required (2 letters)"
    catalog = FakeCatalog([store_product("A1", 1), store_product("A2", 2)])
    deps = ProductDeps(
        state=InMemoryState(),
        store=catalog,
        warehouse=myogo,
        skus=InMemorySkuBindings(),
        refusals=InMemoryProductRefusals(),
        clock=lambda: T0,
        notices=notices,
    )

    sync_products(integration, deps, owner="schedule")
    sync_products(integration, deps, owner="schedule")  # the same content is not sent again
    catalog.items[1] = store_product("A2", 2, name="Renamed")
    sync_products(integration, deps, owner="schedule")  # a new content, refused again: a new event

    refused = [(kind, subject.split("#")[0]) for kind, subject in _kinds(notices)]
    assert refused == [(NoticeKind.PRODUCT_REFUSED, "A2")] * 2
    assert "languageCode is required" in notices.pending(1)[0].summary


def _shipped(order_id: str, reference: str) -> WarehouseOrderChange:
    from ogosync.models import ShippedLine

    return WarehouseOrderChange(
        reference=reference,
        status="shipped",
        tracking_numbers=["JJFI1"],
        shipping_code="POSTI",
        lines=[ShippedLine(code=SKU, quantity=1)],
        edited_at=T0,
    )


def test_a_failed_capture_is_recorded_once_and_a_shipment_pushed_records_nothing() -> None:
    state, notices = InMemoryState(), InMemoryNotices()
    integration = make_integration()
    state.put_integration(integration)
    store, warehouse = FakeShipmentStore(), FakeTrackingWarehouse()
    for order_id in ("1001", "1002"):
        store.put(make_order(order_id))
        state.claim_order(integration.id, order_id, order_id, "t", T0, 60)
        sent = WarehouseOrderState(id=f"id-{order_id}", reference=order_id, status="new")
        state.mark_order_sent(integration.id, order_id, "t", sent, T0, was_held=False)
        warehouse.put(_shipped(order_id, order_id))
    store.capture_fails = {"1001"}
    clock = iter(T0 + timedelta(hours=1, seconds=n) for n in range(1000))
    deps = TrackingDeps(
        state=state,
        tracking=InMemoryTracking(state),
        store=store,
        warehouse=warehouse,
        clock=lambda: next(clock),
        notices=notices,
    )

    poll_tracking(integration, deps, owner="a")
    poll_tracking(integration, deps, owner="b")

    assert _kinds(notices) == [(NoticeKind.CAPTURE_FAILED, "1001")]


def test_refused_credentials_in_any_run_are_recorded_once_a_day_per_side_and_still_raised() -> None:
    notices = InMemoryNotices()
    integration = make_integration()  # Europe/Stockholm
    now = {"at": datetime.fromisoformat("2026-03-01T20:00:00+00:00")}

    def run(error: Exception) -> None:
        with pytest.raises(type(error)), telling_refused_credentials(integration, notices, lambda: now["at"]):
            raise error

    run(AuthenticationError("myogo", "login refused for merchant m-1: invalid_grant", 400))
    run(AuthenticationError("myogo", "401 Unauthorized", 401))  # a retry, a second flow: the same event
    run(AuthenticationError("centra", "403 Forbidden", 403))
    run(TransientPlatformError("centra", "503", 503))  # not about credentials
    now["at"] += timedelta(hours=3)  # the next local day in Stockholm
    run(AuthenticationError("myogo", "401 Unauthorized", 401))

    assert _kinds(notices) == [
        (NoticeKind.CREDENTIALS_REFUSED, "centra#2026-03-01"),
        (NoticeKind.CREDENTIALS_REFUSED, "myogo#2026-03-01"),
        (NoticeKind.CREDENTIALS_REFUSED, "myogo#2026-03-02"),
    ]
    assert all("m-1" not in notice.summary for notice in notices.pending(10))  # the platform's words are left out


def test_any_order_id_or_sku_a_store_sends_gives_one_stable_notice_of_bounded_size() -> None:
    integration, huge = make_integration(), "9" * 5000
    notices = InMemoryNotices()
    built = [
        events.order_held(integration, huge, [Hold(reason=HoldReason.MISSING_SKU, detail=huge)], T0),
        events.product_refused(integration, huge, "h" * 64, huge, T0),
        events.capture_failed(integration, huge, T0),
    ]

    assert all(notices.record(notice) for notice in built)
    assert not any(notices.record(notice) for notice in [events.capture_failed(integration, huge, T0)])
    assert all(len(notice.subject) <= 200 and len(notice.summary) <= 500 for notice in built)
    assert (
        events.capture_failed(integration, huge, T0).subject
        != events.capture_failed(integration, huge + "1", T0).subject
    )


@pytest.mark.parametrize(
    "text",
    [
        "mail maija@example.com now",
        "see https://user:pw@shop.example/x?token=abc",
        "key sk_live_4eC39HqLyjWDarjtT1zdp7dc here",
        "myogo-secret-token-1234567890abcdef",
    ],
)
def test_redact_takes_out_addresses_urls_and_tokens(text: str) -> None:
    cleaned = redact(text)
    assert [part for part in ("@", "://", "4eC39Hq", "1234567890abcdef") if part in cleaned] == []


def test_redact_keeps_what_a_merchant_reads_and_cuts_long_text() -> None:
    assert redact("no myOGO shipping code for 'drone'") == "no myOGO shipping code for 'drone'"
    assert len(redact("word " * 200)) == 240


@given(st.text(), st.integers(min_value=2, max_value=500))
def test_whatever_a_platform_says_its_redacted_words_hold_no_address_url_or_token_and_keep_to_the_limit(
    text: str, limit: int
) -> None:
    cleaned = redact(text, limit)

    assert len(cleaned) <= limit
    assert [pattern.pattern for pattern in REDACTED_PATTERNS if pattern.search(cleaned)] == []
