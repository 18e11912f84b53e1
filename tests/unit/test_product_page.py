"""The product sync page's worker over in-memory fakes: a queued "Refresh" or "Create product" runs once, under the
product lock the operator API took for it, and records its progress, report and result."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ogosync.errors import TransientPlatformError
from ogosync.models import (
    Flow,
    ProductAction,
    ProductActionJob,
    ProductProblemKind,
    ProductRow,
    ProductRun,
    ProductRunStatus,
    ProductState,
)
from ogosync.state.product_runs import CHUNK_BYTES, chunked
from ogosync.sync.product_page import QUEUED_LOCK_SECONDS, ProductPageDeps, as_seen, run_product_action, select_rows
from ogosync.sync.products import sync_products
from tests.factories import T0
from tests.fakes_product_page import InMemoryProductRuns
from tests.fakes_products import store_product
from tests.unit.test_product_engine import World, _world


@pytest.fixture
def world() -> World:
    return _world([store_product("A1", 1), store_product("A2", 2), store_product(None, 3, name="Gift card")])


@pytest.fixture
def runs() -> InMemoryProductRuns:
    return InMemoryProductRuns()


def _queue(
    world: World, runs: InMemoryProductRuns, action: ProductAction, skus: list[str] | None = None
) -> ProductActionJob:
    """What the operator API does: take the product lock for the new run, record it queued, make its job."""
    job = ProductActionJob(integration_id=world.integration.id, run_id=f"run-{runs.saves}", action=action, skus=skus)
    assert world.state.acquire_lock(job.integration_id, Flow.PRODUCTS, job.run_id, world.clock(), QUEUED_LOCK_SECONDS)
    runs.put_product_run(
        ProductRun(
            integration_id=job.integration_id,
            run_id=job.run_id,
            action=action,
            status=ProductRunStatus.QUEUED,
            requested_at=world.clock(),
            lock_expires_at=world.clock() + timedelta(seconds=QUEUED_LOCK_SECONDS),
        )
    )
    return job


def _run(world: World, runs: InMemoryProductRuns, job: ProductActionJob) -> ProductRun | None:
    return run_product_action(world.integration, job, ProductPageDeps(world.deps, runs))


def test_a_refresh_stores_its_report_and_releases_the_lock(world: World, runs: InMemoryProductRuns) -> None:
    job = _queue(world, runs, ProductAction.REFRESH)

    run = _run(world, runs, job)

    assert run is not None and run.status is ProductRunStatus.SUCCEEDED
    assert run.counts == {"not_in_myogo": 2, "in_myogo_unlinked": 0, "linked": 0, "changed": 0, "error": 1,
                          "deleted_in_store": 0}  # fmt: skip
    header, rows = runs.reports[world.integration.id]
    assert (header.report_id, header.rows, [row.sku for row in rows]) == (job.run_id, 3, ["A1", "A2", None])
    assert world.state.acquire_lock(world.integration.id, Flow.PRODUCTS, "schedule", world.clock(), 60), "released"
    assert world.myogo.writes == 0, "a refresh writes nothing to myOGO"


def test_a_create_delivered_twice_runs_once_with_its_progress(world: World, runs: InMemoryProductRuns) -> None:
    job = _queue(world, runs, ProductAction.CREATE, ["A1", "A2"])

    first = _run(world, runs, job)
    second = _run(world, runs, job)

    assert first is not None and (first.status, first.counts) == (ProductRunStatus.SUCCEEDED, {"created": 2})
    assert (first.done, first.total, first.complete) == (2, 2, True)
    assert second is None and world.myogo.writes == 2
    assert runs.runs[world.integration.id] == first


def test_progress_is_written_at_most_every_few_seconds_and_at_the_end(world: World, runs: InMemoryProductRuns) -> None:
    world.store.items = [store_product(f"P{n}", n) for n in range(10)]
    job = _queue(world, runs, ProductAction.CREATE)
    ticks = iter(range(1000))
    world.deps.clock = lambda: T0 + timedelta(seconds=next(ticks) * 0.5)

    run = _run(world, runs, job)

    assert run is not None and (run.done, run.total) == (10, 10)
    assert 2 <= runs.saves < 10, "throttled, not one write per product"


def test_a_queued_run_holds_off_the_schedule(world: World, runs: InMemoryProductRuns) -> None:
    job = _queue(world, runs, ProductAction.CREATE)

    scheduled = sync_products(world.integration, world.deps, owner="schedule")
    run = _run(world, runs, job)

    assert not scheduled.ran
    assert run is not None and run.status is ProductRunStatus.SUCCEEDED


def test_a_run_whose_lock_was_taken_meanwhile_fails_and_sends_nothing(world: World, runs: InMemoryProductRuns) -> None:
    job = _queue(world, runs, ProductAction.CREATE)
    world.clock.now += timedelta(seconds=QUEUED_LOCK_SECONDS + 1)  # the job waited too long in the queue
    assert world.state.acquire_lock(world.integration.id, Flow.PRODUCTS, "schedule", world.clock(), 900)

    run = _run(world, runs, job)

    assert run is not None and run.status is ProductRunStatus.FAILED and "waited too long" in (run.error or "")
    assert world.myogo.writes == 0


def test_a_platform_failure_fails_the_run_and_frees_the_lock(world: World, runs: InMemoryProductRuns) -> None:
    job = _queue(world, runs, ProductAction.REFRESH)

    def unavailable() -> None:
        raise TransientPlatformError("myogo", 503, "Service Unavailable")

    world.myogo.list_products = unavailable  # type: ignore[method-assign,assignment]
    run = _run(world, runs, job)

    assert run is not None and run.status is ProductRunStatus.FAILED and "503" in (run.error or "")
    assert world.integration.id not in runs.reports
    assert world.state.acquire_lock(world.integration.id, Flow.PRODUCTS, "schedule", world.clock(), 60)


def test_an_unexpected_error_fails_the_run_and_is_raised(world: World, runs: InMemoryProductRuns) -> None:
    job = _queue(world, runs, ProductAction.REFRESH)
    world.store.items = None  # type: ignore[assignment]

    with pytest.raises(TypeError):
        _run(world, runs, job)

    assert runs.runs[world.integration.id].status is ProductRunStatus.FAILED


def test_a_queued_or_running_run_whose_lock_ran_out_is_shown_interrupted(
    world: World, runs: InMemoryProductRuns
) -> None:
    _queue(world, runs, ProductAction.CREATE)
    queued = runs.runs[world.integration.id]

    assert as_seen(queued, T0).status is ProductRunStatus.QUEUED
    assert as_seen(queued, T0 + timedelta(seconds=QUEUED_LOCK_SECONDS + 1)).status is ProductRunStatus.INTERRUPTED
    ended = queued.model_copy(update={"status": ProductRunStatus.SUCCEEDED})
    assert as_seen(ended, T0 + timedelta(days=1)).status is ProductRunStatus.SUCCEEDED


def test_rows_are_selected_by_state_problem_kind_and_search(world: World) -> None:
    rows = world.refresh().rows

    assert [row.sku for row in select_rows(rows, state=ProductState.NOT_IN_MYOGO)] == ["A1", "A2"]
    assert [row.name for row in select_rows(rows, kind=ProductProblemKind.MISSING_SKU)] == ["Gift card"]
    assert [row.sku for row in select_rows(rows, search="a2")] == ["A2"]
    assert [row.sku for row in select_rows(rows, search="gift")] == [None]
    assert select_rows(rows, state=ProductState.LINKED, search="a1") == []


def test_a_large_report_is_split_into_chunks_under_the_item_limit() -> None:
    rows = [ProductRow(sku=f"SKU{n:05d}", state=ProductState.NOT_IN_MYOGO, name="Ö" * 200) for n in range(5000)]

    chunks = chunked(rows)

    assert len(chunks) > 1 and all(len(chunk.encode()) <= CHUNK_BYTES for chunk in chunks)
    rejoined = [row for chunk in chunks for row in json.loads(chunk)]
    assert [row["sku"] for row in rejoined] == [row.sku for row in rows]
