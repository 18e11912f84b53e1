"""The product engine over in-memory fakes: refresh, create, the scheduled run, and what each must never do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from ogosync.errors import RejectedByPlatformError, TransientPlatformError
from ogosync.models import (
    Flow,
    Integration,
    IntegrationSettings,
    ProductProblemKind,
    ProductState,
    StoreProduct,
    TransferOutcome,
    WarehouseProduct,
)
from ogosync.sync.products import ProductDeps, content_hash, create_products, refresh_products, sync_products
from ogosync.sync.products import to_warehouse_product as payload_of
from tests.factories import T0, make_integration
from tests.fakes import InMemorySkuBindings, InMemoryState
from tests.fakes_products import FakeCatalog, FakeMyOgoProducts, InMemoryProductRefusals, store_product


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    integration: Integration
    deps: ProductDeps
    store: FakeCatalog
    myogo: FakeMyOgoProducts
    skus: InMemorySkuBindings
    refusals: InMemoryProductRefusals
    state: InMemoryState
    clock: Clock

    def with_settings(self, **settings: Any) -> None:
        self.integration = self.integration.model_copy(
            update={"settings": self.integration.settings.model_copy(update=settings)}
        )

    def sync(self) -> Any:
        return sync_products(self.integration, self.deps, owner="schedule")

    def create(self, skus: list[str] | None = None) -> Any:
        return create_products(self.integration, self.deps, owner="operator", skus=skus)

    def refresh(self, states: list[ProductState] | None = None) -> Any:
        return refresh_products(self.integration, self.deps, states)

    def payload(self, product: StoreProduct) -> WarehouseProduct:
        assert product.sku is not None
        return payload_of(self.integration, product, product.sku)


def _world(products: list[StoreProduct], **settings: Any) -> World:
    integration = make_integration(
        settings=IntegrationSettings(product_url_template="https://shop.example/p/{sku}", **settings)
    )
    state, store, myogo = InMemoryState(), FakeCatalog(products), FakeMyOgoProducts()
    skus, refusals, clock = InMemorySkuBindings(), InMemoryProductRefusals(), Clock()
    deps = ProductDeps(state=state, store=store, warehouse=myogo, skus=skus, refusals=refusals, clock=clock)
    return World(integration, deps, store, myogo, skus, refusals, state, clock)


@pytest.fixture
def world() -> World:
    return _world([store_product("A1", 1), store_product("A2", 2), store_product("A3", 3)])


def _bound(world: World) -> dict[str, str | None]:
    return {binding.sku: binding.content_hash for binding in world.skus.all_sku_bindings(world.integration.id)}


def _rows(report: Any) -> dict[str | None, Any]:
    return {row.sku: row for row in report.rows}


# ---- must hold: duplicate and missing SKUs are reported per product, never merged or sent ---------


def test_duplicate_and_missing_skus_are_reported_per_product_and_never_sent() -> None:
    world = _world(
        [
            store_product("A1", 1),
            store_product("DUP", 2, name="Shirt red"),
            store_product("DUP", 3, name="Shirt blue"),
            store_product(None, 4, name="Scarf"),
        ],
        create_new_products=True,
    )

    report = world.refresh()
    created = world.create()
    picked = world.create(["DUP"])
    scheduled = world.sync()

    duplicates = [row for row in report.rows if row.sku == "DUP"]
    assert len(duplicates) == 2 and all(row.state is ProductState.ERROR for row in duplicates)
    assert [problem.kind for row in duplicates for problem in row.problems] == [ProductProblemKind.DUPLICATE_SKU] * 2
    assert "Shirt blue" in duplicates[0].problems[0].detail and "Shirt red" in duplicates[1].problems[0].detail
    (missing,) = [row for row in report.rows if row.sku is None]
    assert (missing.name, missing.state, missing.problems[0].kind) == (
        "Scarf",
        ProductState.ERROR,
        ProductProblemKind.MISSING_SKU,
    )
    assert report.counts[ProductState.ERROR] == 3 and report.counts[ProductState.NOT_IN_MYOGO] == 1
    assert set(world.myogo.products) == {"A1"} and world.myogo.written == ["A1"]  # nothing merged, nothing sent
    assert created.counts == {"duplicate_sku": 2, "missing_sku": 1, "created": 1, "inactive": 0}
    assert [row.name for row in created.not_sent] == ["Shirt red", "Shirt blue", "Scarf"]
    assert picked.counts == {"duplicate_sku": 2} and scheduled.counts["duplicate_sku"] == 2
    assert set(_bound(world)) == {"A1"}


# ---- must hold: a run without store changes writes nothing; a change sends exactly that product --


def test_a_second_run_with_no_store_change_makes_no_call_to_myogo(world: World) -> None:
    world.create()
    calls_before, binding_writes = sum(world.myogo.calls.values()), world.skus.writes

    result = world.sync()

    assert result.counts == {"seen": 3, "unchanged": 3}
    assert sum(world.myogo.calls.values()) == calls_before  # no write, and not even a read
    assert world.skus.writes == binding_writes


def test_a_changed_description_sends_exactly_that_product(world: World) -> None:
    world.create()
    world.store.change("A2", description="Now in organic cotton")
    written_before = len(world.myogo.written)

    result = world.sync()

    assert world.myogo.written[written_before:] == ["A2"]
    assert world.myogo.calls["update"] == 1 and world.myogo.calls["list"] == 1  # the list was the create's
    assert world.myogo.products["A2"].description == "Now in organic cotton"
    assert [(t.sku, t.outcome) for t in result.transfers] == [("A2", TransferOutcome.UPDATED)]
    changed = next(item for item in world.store.items if item.sku == "A2")
    assert _bound(world)["A2"] == content_hash(world.payload(changed))
    assert world.sync().counts == {"seen": 3, "unchanged": 3}


# ---- must hold: a failure midway leaves bindings true to myOGO; the next run does only the rest ----


@pytest.mark.parametrize("first_transfer", [True, False], ids=["creating", "updating"])
def test_myogo_failing_on_product_500_of_2000_leaves_true_bindings_and_the_next_run_does_the_rest(
    first_transfer: bool,
) -> None:
    world = _world([store_product(f"SKU{n:04d}", n) for n in range(1, 2001)], create_new_products=True)
    if not first_transfer:
        world.create()
        for item in world.store.items:
            world.store.change(str(item.sku), price=Decimal("19.90"))
    written_before = len(world.myogo.written)
    world.myogo.fail_write_number = world.myogo.writes + 500
    world.myogo.failure = TransientPlatformError("myogo", "Service Unavailable", 503)

    with pytest.raises(TransientPlatformError):
        world.sync()

    accepted = world.myogo.written[written_before:]
    assert accepted == [f"SKU{n:04d}" for n in range(1, 500)]
    expected = {item.sku: content_hash(world.payload(item)) for item in world.store.items}
    bound = _bound(world)
    changed_and_bound = {sku for sku, digest in bound.items() if digest == expected[sku]}
    assert changed_and_bound == set(accepted)  # every binding says what myOGO holds, no more, no less
    for sku in accepted:
        assert world.myogo.products[sku].same_content(world.payload(_item(world, sku)))
    cursor = world.state.get_cursor(world.integration.id, Flow.PRODUCTS)
    assert "503" in (cursor.last_error or "") and cursor.last_counts["created" if first_transfer else "updated"] == 499
    assert world.state.locks == {}

    world.myogo.heal()
    again = world.sync()

    assert world.myogo.written[written_before + 499 :] == [f"SKU{n:04d}" for n in range(500, 2001)]
    assert not set(world.myogo.written[written_before + 499 :]) & set(accepted)  # the first 499 are not sent again
    assert again.counts["unchanged"] == 499 and _bound(world) == expected


def _item(world: World, sku: str) -> StoreProduct:
    return next(item for item in world.store.items if item.sku == sku)


# ---- must hold: a product the store deleted is reported, not deleted in myOGO -----------------------


def test_a_product_deleted_in_the_store_is_reported_and_left_in_myogo(world: World) -> None:
    world.create()
    world.store.remove("A3")

    result = world.sync()
    report = world.refresh()

    assert result.counts["deleted_in_store"] == 1
    assert "A3" in world.myogo.products and "A3" in _bound(world)
    row = _rows(report)["A3"]
    assert row.state is ProductState.DELETED_IN_STORE
    assert row.problems[0].kind is ProductProblemKind.NOT_IN_STORE and "left in myOGO" in row.problems[0].detail
    assert world.myogo.calls["update"] == 0


# ---- refresh --------------------------------------------------------------------------------------


def test_refresh_shows_each_state_and_can_be_filtered() -> None:
    world = _world([store_product(f"P{n}", n) for n in range(1, 6)])
    world.create(["P1", "P2"])
    world.store.change("P2", name="Renamed")
    world.myogo.add(world.payload(_item(world, "P3")))  # made in myOGO by hand
    world.myogo.refuse["P4"] = "Product name is too long"
    world.create(["P4"])

    report = world.refresh()
    changed_only = world.refresh([ProductState.CHANGED])

    states = {row.sku: row.state for row in report.rows}
    assert states == {
        "P1": ProductState.LINKED,
        "P2": ProductState.CHANGED,
        "P3": ProductState.IN_MYOGO_UNLINKED,
        "P4": ProductState.ERROR,
        "P5": ProductState.NOT_IN_MYOGO,
    }
    assert _rows(report)["P4"].problems[0].detail == "Product name is too long"
    assert _rows(report)["P1"].synced_at == T0
    assert [row.sku for row in changed_only.rows] == ["P2"]
    assert changed_only.counts == report.counts and report.counts[ProductState.LINKED] == 1
    assert report.model_dump(mode="json")["rows"][0]["state"] == "linked"  # JSON for the operator API


def test_refresh_warns_when_myogo_keeps_another_ean(world: World) -> None:
    world.myogo.add(world.payload(_item(world, "A1")).model_copy(update={"ean_code": "6400000000001"}))

    row = _rows(world.refresh())["A1"]

    assert row.state is ProductState.IN_MYOGO_UNLINKED
    assert [problem.kind for problem in row.problems] == [ProductProblemKind.EAN_DIFFERS]
    assert "6400000000001" in row.problems[0].detail and not row.problems[0].blocking


def test_refresh_says_when_a_linked_product_is_gone_from_myogo(world: World) -> None:
    world.create()
    del world.myogo.products["A1"]

    row = _rows(world.refresh())["A1"]

    assert row.state is ProductState.NOT_IN_MYOGO
    assert row.problems[0].kind is ProductProblemKind.MISSING_IN_MYOGO


# ---- create -------------------------------------------------------------------------------------


def test_create_sends_the_payload_the_reference_describes(world: World) -> None:
    world.with_settings(language_code="fi")

    world.create(["A1"])

    sent = world.myogo.products["A1"]
    assert (sent.code, sent.name, sent.description) == ("A1", "Product A1", "About A1")
    assert (sent.ean_code, sent.sales_price, sent.currency_code) == ("7350000000001", Decimal("29.90"), "EUR")
    assert (sent.info_url, sent.picture_url) == ("https://shop.example/p/A1", "https://cdn.example/1.jpg")
    assert sent.language_code == "fi"
    binding = world.skus.get_sku_bindings(world.integration.id, ["A1"])["A1"]
    assert binding.store_ids == {"productId": "0", "stockItemId": "1"} and binding.myogo_id == "id-A1"
    assert (binding.ean, binding.synced_at) == ("7350000000001", T0)


def test_a_code_myogo_already_has_is_linked_not_duplicated(world: World) -> None:
    world.myogo.add(world.payload(_item(world, "A1")))  # the same content, made by hand
    world.myogo.add(world.payload(_item(world, "A2")).model_copy(update={"name": "Old name", "ean_code": "111"}))

    result = world.create()

    outcomes = {t.sku: t.outcome for t in result.transfers}
    assert outcomes == {"A1": TransferOutcome.LINKED, "A2": TransferOutcome.UPDATED, "A3": TransferOutcome.CREATED}
    assert world.myogo.calls["create"] == 1 and world.myogo.written == ["A2", "A3"]
    assert world.myogo.products["A2"].name == "Product A2"
    assert world.myogo.products["A2"].ean_code == "111"  # myOGO never overwrites its EAN...
    a2 = next(t for t in result.transfers if t.sku == "A2")
    assert a2.detail is not None and "111" in a2.detail  # ...and the merchant is told
    assert result.counts["ean_differs"] == 1 and set(_bound(world)) == {"A1", "A2", "A3"}


def test_a_create_whose_answer_is_lost_is_looked_up_and_bound_once(world: World) -> None:
    world.myogo.lose_create_answers = True

    result = world.create(["A1"])

    assert world.myogo.calls["create"] == 1 and world.myogo.calls["find"] == 1
    assert [(t.sku, t.outcome) for t in result.transfers] == [("A1", TransferOutcome.LINKED)]
    assert "A1" in _bound(world)


def test_any_refusal_of_a_create_is_checked_against_myogo_before_it_is_believed(world: World) -> None:
    def made_meanwhile(product: WarehouseProduct) -> Any:
        world.myogo.add(product)  # by someone else, after the run listed myOGO's products
        raise RejectedByPlatformError("myogo", "Code must be unique", 400)  # wording of myOGO's own choosing

    world.myogo.create_product = made_meanwhile  # type: ignore[method-assign]

    result = world.create(["A1"])

    assert [(t.sku, t.outcome) for t in result.transfers] == [("A1", TransferOutcome.LINKED)]
    assert world.refusals.all_product_refusals(world.integration.id) == [] and "A1" in _bound(world)


def test_a_run_that_died_before_binding_is_finished_by_the_next_without_a_second_product(world: World) -> None:
    world.myogo.add(world.payload(_item(world, "A1")))  # created by the dead run, never bound
    world.with_settings(create_new_products=True)

    result = world.sync()

    assert {t.sku: t.outcome for t in result.transfers}["A1"] is TransferOutcome.LINKED
    assert world.myogo.calls["create"] == 2 and world.myogo.written == ["A2", "A3"]


def test_create_all_leaves_inactive_products_out_but_a_pick_takes_them(world: World) -> None:
    world.store.change("A3", active=False)

    everything = world.create()
    picked = world.create(["A3", "NOPE"])

    assert set(world.myogo.products) == {"A1", "A2", "A3"}
    assert everything.counts["inactive"] == 1 and picked.counts["created"] == 1
    assert [(row.sku, row.problems[0].kind) for row in picked.not_sent] == [("NOPE", ProductProblemKind.NOT_IN_STORE)]


def test_a_refused_product_is_an_error_with_myogos_message_and_is_not_resent_unchanged(world: World) -> None:
    world.myogo.refuse["A2"] = "Product languageCode is required (2 letters)"
    world.with_settings(create_new_products=True)

    first = world.sync()
    cursor = world.state.get_cursor(world.integration.id, Flow.PRODUCTS)
    writes = world.myogo.writes
    second = world.sync()

    assert [(t.sku, t.outcome, t.detail) for t in first.transfers if t.sku == "A2"] == [
        ("A2", TransferOutcome.REFUSED, "Product languageCode is required (2 letters)")
    ]
    assert "A2: Product languageCode" in (cursor.last_error or "")
    assert second.counts["refused_before"] == 1 and world.myogo.writes == writes

    del world.myogo.refuse["A2"]
    world.store.change("A2", name="Shorter")  # new content: worth another try
    assert [t.outcome for t in world.sync().transfers] == [TransferOutcome.CREATED]
    assert world.refusals.all_product_refusals(world.integration.id) == []


def test_the_operator_can_retry_a_refused_product_without_changing_it(world: World) -> None:
    world.myogo.refuse["A1"] = "temporarily refused"
    world.create(["A1"])
    del world.myogo.refuse["A1"]

    assert [t.outcome for t in world.create(["A1"]).transfers] == [TransferOutcome.CREATED]


# ---- the schedule ------------------------------------------------------------------------------


def test_new_store_products_wait_for_the_merchant_unless_the_setting_says_create(world: World) -> None:
    off = world.sync()
    assert off.counts == {"seen": 3, "not_in_myogo": 3} and sum(world.myogo.calls.values()) == 0

    world.with_settings(create_new_products=True)
    on = world.sync()

    assert on.counts["created"] == 3 and set(world.myogo.products) == {"A1", "A2", "A3"}


def test_a_linked_product_deleted_in_myogo_is_made_again_by_the_next_change(world: World) -> None:
    world.create()
    del world.myogo.products["A1"]
    world.store.change("A1", description="changed")

    result = world.sync()

    assert [(t.sku, t.outcome) for t in result.transfers] == [("A1", TransferOutcome.CREATED)]
    assert world.myogo.calls["update"] == 1  # tried the update first, got 404


def test_the_run_is_recorded_in_the_cursor_and_holds_the_lock(world: World) -> None:
    world.with_settings(create_new_products=True)
    assert world.state.acquire_lock(world.integration.id, Flow.PRODUCTS, "other", T0, 300)

    assert world.sync().ran is False and world.store.reads == 0

    world.state.release_lock(world.integration.id, Flow.PRODUCTS, "other")
    world.sync()
    cursor = world.state.get_cursor(world.integration.id, Flow.PRODUCTS)
    assert (cursor.watermark, cursor.last_run_started, cursor.last_error) == (T0, T0, None)
    assert cursor.last_counts == {"seen": 3, "created": 3}
    assert world.state.locks == {}


def test_a_run_out_of_time_stops_cleanly_and_the_next_one_continues(world: World) -> None:
    world.with_settings(create_new_products=True)
    world.deps.run_budget_seconds = 60
    original = world.myogo.create_product

    def slow_create(product: WarehouseProduct) -> Any:
        world.clock.now += timedelta(seconds=45)
        return original(product)

    world.myogo.create_product = slow_create  # type: ignore[method-assign]
    first = world.sync()

    assert (first.complete, first.counts["created"], first.counts["deferred"]) == (False, 2, 1)
    assert world.state.get_cursor(world.integration.id, Flow.PRODUCTS).watermark is None
    second = world.sync()
    assert (second.complete, second.counts["created"], second.counts["unchanged"]) == (True, 1, 2)
