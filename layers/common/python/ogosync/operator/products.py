"""The product sync page: "Refresh" and "Create product" are queued (they outlast an API answer), their run is
shown with its progress, and the latest refresh is listed with filters and pages."""

from __future__ import annotations

import uuid
from datetime import timedelta
from math import ceil
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from ogosync.models import (
    Flow,
    IntegrationStatus,
    ProductAction,
    ProductActionJob,
    ProductProblemKind,
    ProductRow,
    ProductRun,
    ProductRunStatus,
    ProductState,
)
from ogosync.operator.deps import OperatorDeps
from ogosync.operator.errors import conflict, not_found
from ogosync.operator.schemas import Request
from ogosync.ports import ProductRunRepository
from ogosync.sync.product_page import QUEUED_LOCK_SECONDS, as_seen, select_rows

Sku = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^\S(.*\S)?$")]


class ProductCreateIn(Request):
    skus: list[Sku] | None = Field(
        default=None, min_length=1, max_length=2000, description="the SKUs to create; left out: every active product"
    )


class ProductFilters(BaseModel):
    model_config = ConfigDict(defer_build=True)

    state: ProductState | None = None
    kind: ProductProblemKind | None = None
    search: str | None = None
    page: int = 1
    page_size: int = 100


class ProductPage(BaseModel):
    model_config = ConfigDict(defer_build=True)

    integration_id: str
    refreshed_at: AwareDatetime = Field(description="when the listed refresh read the store and myOGO")
    stale: bool = Field(description='a "Create product" ended after this refresh: refresh again to see its effect')
    counts: dict[ProductState, int] = Field(description="rows per state in the whole refresh")
    matching: int = Field(description="rows that match the filters")
    page: int
    page_size: int
    pages: int
    rows: list[ProductRow]


def request_action(
    integration_id: str,
    action: ProductAction,
    skus: list[str] | None,
    deps: OperatorDeps,
    runs: ProductRunRepository,
) -> ProductRun:
    """Take the product lock for a new run, record it as queued and queue its job; 409 while another product run
    (a refresh, a create or the scheduled sync) holds the lock."""
    integration = deps.integration(integration_id)
    if integration.status is IntegrationStatus.PAUSED:
        raise conflict("integration_paused", f"integration {integration.id} is paused: resume it first")
    queue = deps.flow_queues.get(Flow.PRODUCTS)
    if queue is None:
        raise conflict("flow_not_deployed", "the products flow has no queue in this deployment")
    now = deps.clock()
    run_id = uuid.uuid4().hex
    if not deps.state.acquire_lock(integration.id, Flow.PRODUCTS, run_id, now, QUEUED_LOCK_SECONDS):
        raise conflict("product_run_in_progress", _busy(integration.id, runs))
    run = ProductRun(
        integration_id=integration.id,
        run_id=run_id,
        action=action,
        status=ProductRunStatus.QUEUED,
        requested_at=now,
        requested_skus=None if skus is None else len(skus),
        lock_expires_at=now + timedelta(seconds=QUEUED_LOCK_SECONDS),
    )
    try:
        runs.put_product_run(run)
        queue.send([ProductActionJob(integration_id=integration.id, run_id=run_id, action=action, skus=skus)])
    except Exception:
        deps.state.release_lock(integration.id, Flow.PRODUCTS, run_id)
        runs.save_product_run(run.model_copy(update={"status": ProductRunStatus.FAILED, "error": "not queued"}))
        raise
    return run


def latest_run(integration_id: str, deps: OperatorDeps, runs: ProductRunRepository) -> ProductRun:
    integration = deps.integration(integration_id)
    run = runs.get_product_run(integration.id)
    if run is None:
        raise not_found("no_product_run", f"{integration.id} has no product refresh or create yet")
    return as_seen(run, deps.clock())


def product_page(
    integration_id: str, filters: ProductFilters, deps: OperatorDeps, runs: ProductRunRepository
) -> ProductPage:
    integration = deps.integration(integration_id)
    found = runs.product_report(integration.id)
    if found is None:
        raise not_found("no_product_report", f"{integration.id} has no refresh to list: refresh the products first")
    header, rows = found
    matching = select_rows(rows, filters.state, filters.kind, filters.search)
    start = (filters.page - 1) * filters.page_size
    latest = runs.get_product_run(integration.id)
    stale = bool(
        latest
        and latest.action is ProductAction.CREATE
        and latest.ended_at is not None
        and latest.ended_at > header.refreshed_at
    )
    return ProductPage(
        integration_id=integration.id,
        refreshed_at=header.refreshed_at,
        stale=stale,
        counts=header.counts,
        matching=len(matching),
        page=filters.page,
        page_size=filters.page_size,
        pages=max(1, ceil(len(matching) / filters.page_size)),
        rows=matching[start : start + filters.page_size],
    )


def _busy(integration_id: str, runs: ProductRunRepository) -> str:
    run = runs.get_product_run(integration_id)
    if run is not None and run.active:
        progress = f", {run.done} of {run.total} done" if run.total else ""
        return (
            f"a product {run.action} of {integration_id} is {run.status} since {run.requested_at:%Y-%m-%d %H:%M:%S} "
            f"UTC{progress}: wait for it to end (`ogosync products status {integration_id}` shows it), then try again"
        )
    return (
        f"the scheduled product sync of {integration_id} is running: try again when it has ended "
        f"(`ogosync status {integration_id}` shows when the products flow last ended)"
    )
