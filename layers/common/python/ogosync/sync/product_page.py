"""The product sync page (seed 004, Products -> Sync webshop products): "Refresh", the list, "Create product".

API Gateway answers within 30 s and a large catalog takes minutes, so the operator API only takes the product lock
for a new run, records it as queued and puts a ProductActionJob on ProductSyncQueue; the product_sync worker runs it
here: "Refresh" stores its report (listed later with filters and pages, without reading the store again) and
"Create product" records its progress as it goes. The run record says where it stands; the lock keeps a refresh,
a create and the scheduled sync of one integration from running at the same time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger

from ogosync.errors import OgosyncError
from ogosync.models import (
    Flow,
    Integration,
    IntegrationStatus,
    ProductAction,
    ProductActionJob,
    ProductProblemKind,
    ProductReportHeader,
    ProductRow,
    ProductRun,
    ProductRunStatus,
    ProductState,
)
from ogosync.ports import ProductRunRepository
from ogosync.sync.products import ProductDeps, create_products, refresh_products

logger = Logger(service="ogosync", child=True)

QUEUED_LOCK_SECONDS = 900  # a queued run's job must start within this, or a new run may take the lock


@dataclass
class ProductPageDeps:
    products: ProductDeps
    runs: ProductRunRepository
    progress_every_seconds: float = 2.0  # how often "Create product" writes its progress


def run_product_action(integration: Integration, job: ProductActionJob, deps: ProductPageDeps) -> ProductRun | None:
    """Run the queued action under the product lock the API took for it; None when its job came a second time."""
    products = deps.products
    started = products.clock()
    lock_expires_at = started + timedelta(seconds=products.lock_ttl_seconds)
    if not deps.runs.start_product_run(integration.id, job.run_id, started, lock_expires_at):
        logger.info("product run already started or replaced", extra={"run_id": job.run_id})
        return None
    run = deps.runs.get_product_run(integration.id)
    if run is None or run.run_id != job.run_id:  # replaced since it started: nothing to record into
        return None
    if integration.status is IntegrationStatus.PAUSED:
        return _finish(deps, run, error="the integration was paused before the run started")
    if not products.state.acquire_lock(integration.id, Flow.PRODUCTS, job.run_id, started, products.lock_ttl_seconds):
        return _finish(deps, run, error="another product run took the lock: this one waited too long in the queue")
    try:
        if job.action is ProductAction.REFRESH:
            return _refresh(integration, run, deps)
        return _create(integration, job, run, deps)
    except OgosyncError as exc:  # the store or myOGO refused or failed: the merchant sees why and tries again
        return _finish(deps, run, error=str(exc))
    except Exception as exc:
        _finish(deps, run, error=f"{type(exc).__name__}: {exc}")
        raise  # a fault of ogosync: the function's Errors alarm; a redelivered job finds the run ended
    finally:
        products.state.release_lock(integration.id, Flow.PRODUCTS, job.run_id)


def _refresh(integration: Integration, run: ProductRun, deps: ProductPageDeps) -> ProductRun:
    report = refresh_products(integration, deps.products)
    header = ProductReportHeader(
        integration_id=integration.id,
        report_id=run.run_id,
        run_id=run.run_id,
        refreshed_at=deps.products.clock(),
        counts=report.counts,
        rows=len(report.rows),
        chunks=0,  # the repository counts them as it writes them
    )
    deps.runs.put_product_report(header, report.rows)
    counts = {state.value: count for state, count in report.counts.items()}
    return _finish(deps, run, counts=counts, done=len(report.rows), total=len(report.rows))


def _create(integration: Integration, job: ProductActionJob, run: ProductRun, deps: ProductPageDeps) -> ProductRun:
    tracker = _ProgressTracker(deps, run)
    result = create_products(integration, deps.products, job.run_id, job.skus, progress=tracker)
    if not result.ran:  # the lock is ours, so this cannot happen unless it expired under us
        return _finish(deps, tracker.run, error="the product lock was lost during the run")
    return _finish(deps, tracker.run, counts=result.counts, complete=result.complete)


@dataclass
class _ProgressTracker:
    """Writes "Create product"'s progress into its run record, at most every few seconds."""

    deps: ProductPageDeps
    run: ProductRun
    _written: datetime | None = field(default=None)

    def __call__(self, done: int, total: int) -> None:
        now = self.deps.products.clock()
        self.run = self.run.model_copy(update={"done": done, "total": total})
        due = self._written is None or (now - self._written).total_seconds() >= self.deps.progress_every_seconds
        if due or done == total:
            self.deps.runs.save_product_run(self.run)
            self._written = now


def _finish(
    deps: ProductPageDeps,
    run: ProductRun,
    *,
    error: str | None = None,
    counts: dict[str, int] | None = None,
    **changes: object,
) -> ProductRun:
    ended = run.model_copy(
        update={
            "status": ProductRunStatus.FAILED if error else ProductRunStatus.SUCCEEDED,
            "ended_at": deps.products.clock(),
            "error": error,
            "counts": counts if counts is not None else run.counts,
            **changes,
        }
    )
    deps.runs.save_product_run(ended)
    logger.info("product run ended", extra={"action": run.action, "status": ended.status, "counts": ended.counts})
    return ended


# ---- what the page shows ------------------------------------------------------------------------


def as_seen(run: ProductRun, now: datetime) -> ProductRun:
    """The run as the merchant sees it: a queued or running run whose lock ran out was interrupted."""
    if run.active and run.lock_expires_at < now:
        return run.model_copy(update={"status": ProductRunStatus.INTERRUPTED})
    return run


def select_rows(
    rows: list[ProductRow],
    state: ProductState | None = None,
    kind: ProductProblemKind | None = None,
    search: str | None = None,
) -> list[ProductRow]:
    """The rows in `state`, with a problem of `kind`, whose SKU, name or EAN contains `search` (any case)."""
    needle = search.casefold() if search else None
    return [
        row
        for row in rows
        if (state is None or row.state is state)
        and (kind is None or any(problem.kind is kind for problem in row.problems))
        and (needle is None or any(needle in (text or "").casefold() for text in (row.sku, row.name, row.ean)))
    ]
