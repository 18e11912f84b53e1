"""The product flow, store -> myOGO: the store is dominant for product information.

- Refresh: every store product (Centra: every size) with its state towards myOGO and its problems.
- Create: the merchant's pick (or all) goes to myOGO; a code myOGO already has is linked, never duplicated.
- The schedule sends only what changed in the store since its last transfer, and creates new products only when
  the integration says so: a run in which nothing changed makes no call to myOGO at all.

A SKU binding records each product myOGO accepted, with the hash of what was sent. Bindings are written as myOGO
accepts each product (in batches, flushed before a failure ends the run), so after a run that stops halfway they
are still true to myOGO and the next run carries on from there. A product whose SKU is missing or shared by
several store products is reported and never sent; one the store deleted is reported and left in myOGO (the
warehouse may still hold its goods).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import quote

from aws_lambda_powertools import Logger

from ogosync.errors import NotFoundError, RejectedByPlatformError, TransientPlatformError
from ogosync.models import (
    Cursor,
    Flow,
    Integration,
    ProductProblem,
    ProductProblemKind,
    ProductRefusal,
    ProductReport,
    ProductRow,
    ProductRunResult,
    ProductState,
    ProductTransfer,
    SkuBinding,
    StoreProduct,
    TransferOutcome,
    WarehouseProduct,
    WarehouseProductState,
)
from ogosync.ports import (
    Notices,
    ProductRefusalRepository,
    SkuBindingRepository,
    StateRepository,
    StoreCatalog,
    WarehouseCatalog,
)
from ogosync.sync import notices
from ogosync.sync.runs import RunRecord, failure_record, locked_run
from ogosync.timeutil import Clock, utc_now

logger = Logger(service="ogosync", child=True)

MyOgoView = Mapping[str, WarehouseProductState]  # myOGO's products by code, as listed at the start of a run
BINDING_BATCH = 25  # bindings per write: one full DynamoDB BatchWriteItem
Progress = Callable[[int, int], None]  # (products handled, products to handle), told after each one


@dataclass
class ProductDeps:
    state: StateRepository
    store: StoreCatalog
    warehouse: WarehouseCatalog
    skus: SkuBindingRepository
    refusals: ProductRefusalRepository
    clock: Clock = utc_now
    lock_ttl_seconds: int = 960  # longer than the product functions' timeout (900 s)
    run_budget_seconds: float = 780  # no transfer starts later than this into a run; the next run does the rest
    notices: Notices | None = None  # a refusal, for the merchant (sync/notices.py)


# ---- the catalog: what the store has, as myOGO would get it -------------------------------------


@dataclass(frozen=True)
class CatalogItem:
    product: StoreProduct
    payload: WarehouseProduct | None  # None when the product has no SKU
    content_hash: str | None
    problems: tuple[ProductProblem, ...]

    @property
    def sku(self) -> str | None:
        return self.product.sku


def to_warehouse_product(integration: Integration, product: StoreProduct, sku: str) -> WarehouseProduct:
    settings = integration.settings
    template = settings.product_url_template
    return WarehouseProduct(
        code=sku,
        name=product.name,
        description=product.description,
        ean_code=product.ean,
        sales_price=product.price,
        currency_code=product.currency,
        info_url=template.replace("{sku}", quote(sku, safe="")) if template else product.product_url,
        picture_url=product.image_url,
        language_code=settings.language_code,
    )


def content_hash(payload: WarehouseProduct) -> str:
    """sha256 of the canonical JSON of what myOGO gets: equal hashes, equal content."""
    canonical = json.dumps(payload.to_wire(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def build_catalog(integration: Integration, products: Sequence[StoreProduct]) -> list[CatalogItem]:
    """Each store product with its myOGO payload and its store-side problems. A SKU shared by several products is
    an error on each of them: they are never merged into one myOGO product."""
    sharing: dict[str, list[StoreProduct]] = {}
    for product in products:
        if product.sku:
            sharing.setdefault(product.sku, []).append(product)
    catalog = []
    for product in products:
        problems = _store_problems(integration, product, sharing.get(product.sku or "", []))
        payload = to_warehouse_product(integration, product, product.sku) if product.sku else None
        catalog.append(CatalogItem(product, payload, content_hash(payload) if payload else None, tuple(problems)))
    return catalog


def _store_problems(
    integration: Integration, product: StoreProduct, same_sku: list[StoreProduct]
) -> list[ProductProblem]:
    problems = []
    if not product.sku:
        detail = "no SKU: give the product, variant and size SKUs (or an EAN) in the store"
        problems.append(ProductProblem(kind=ProductProblemKind.MISSING_SKU, detail=detail))
    elif len(same_sku) > 1:
        others = [other for other in same_sku if other is not product]
        more = f" and {len(others) - 3} more" if len(others) > 3 else ""
        named = ", ".join(_label(other) for other in others[:3]) + more
        detail = f"SKU {product.sku} is also the SKU of {named}: give each product its own SKU in the store"
        problems.append(ProductProblem(kind=ProductProblemKind.DUPLICATE_SKU, detail=detail))
    if not product.active:
        problems.append(ProductProblem(kind=ProductProblemKind.INACTIVE_IN_STORE, detail="inactive in the store"))
    if product.price is None:
        pricelist = integration.settings.pricelist
        detail = f"no price in pricelist {pricelist!r}" if pricelist else "no price in the store"
        problems.append(ProductProblem(kind=ProductProblemKind.NO_PRICE, detail=detail))
    return problems


def _label(product: StoreProduct) -> str:
    ids = ", ".join(f"{name} {value}" for name, value in product.store_ids.items())
    return f"{product.name or '(no name)'} ({ids})" if ids else product.name or "(no name)"


@dataclass(frozen=True)
class _Snapshot:
    """The store's catalog and what ogosync recorded of earlier transfers, read at the start of a run."""

    catalog: list[CatalogItem]
    bindings: dict[str, SkuBinding]
    refusals: dict[str, ProductRefusal]

    @property
    def deleted_in_store(self) -> list[SkuBinding]:
        """Bindings whose SKU the store no longer returns."""
        in_store = {item.sku for item in self.catalog if item.sku}
        return [binding for sku, binding in self.bindings.items() if sku not in in_store]


def _snapshot(integration: Integration, deps: ProductDeps) -> _Snapshot:
    products = list(deps.store.products())
    return _Snapshot(
        catalog=build_catalog(integration, products),
        bindings={binding.sku: binding for binding in deps.skus.all_sku_bindings(integration.id)},
        refusals={refusal.sku: refusal for refusal in deps.refusals.all_product_refusals(integration.id)},
    )


# ---- refresh ------------------------------------------------------------------------------------


def refresh_products(
    integration: Integration, deps: ProductDeps, states: Collection[ProductState] | None = None
) -> ProductReport:
    """Every store product with its state (and every product the store deleted); only `states`, when given."""
    snapshot = _snapshot(integration, deps)
    in_myogo = _myogo_view(deps)
    rows = [
        _row(item, snapshot.bindings.get(item.sku or ""), snapshot.refusals.get(item.sku or ""), in_myogo)
        for item in snapshot.catalog
    ]
    rows += [_deleted_row(binding) for binding in snapshot.deleted_in_store]
    counts = Counter(row.state for row in rows)
    return ProductReport(
        integration_id=integration.id,
        counts={state: counts[state] for state in ProductState},
        rows=[row for row in rows if states is None or row.state in states],
    )


def _row(
    item: CatalogItem, binding: SkuBinding | None, refusal: ProductRefusal | None, in_myogo: MyOgoView
) -> ProductRow:
    problems = list(item.problems)
    current = in_myogo.get(item.sku) if item.sku else None
    if refusal is not None and refusal.content_hash == item.content_hash:
        problems.append(ProductProblem(kind=ProductProblemKind.REFUSED_BY_MYOGO, detail=refusal.message))
    ean_problem = _ean_problem(item.product, current)
    if ean_problem:
        problems.append(ean_problem)
    if binding is not None and current is None:
        detail = 'linked before, but myOGO no longer has it: "Create product" sends it again'
        problems.append(ProductProblem(kind=ProductProblemKind.MISSING_IN_MYOGO, detail=detail))
    return ProductRow(
        sku=item.sku,
        state=_state(item, binding, current, problems),
        name=item.product.name,
        ean=item.product.ean,
        store_ids=item.product.store_ids,
        problems=problems,
        synced_at=binding.synced_at if binding else None,
    )


def _state(
    item: CatalogItem,
    binding: SkuBinding | None,
    current: WarehouseProductState | None,
    problems: list[ProductProblem],
) -> ProductState:
    if any(problem.blocking for problem in problems):
        return ProductState.ERROR
    if current is None:
        return ProductState.NOT_IN_MYOGO
    if binding is None:
        return ProductState.IN_MYOGO_UNLINKED
    return ProductState.LINKED if binding.content_hash == item.content_hash else ProductState.CHANGED


def _error_row(item: CatalogItem) -> ProductRow:
    return ProductRow(
        sku=item.sku,
        state=ProductState.ERROR,
        name=item.product.name,
        ean=item.product.ean,
        store_ids=item.product.store_ids,
        problems=list(item.problems),
    )


def _deleted_row(binding: SkuBinding) -> ProductRow:
    detail = "no longer in the store; left in myOGO, where the warehouse may still hold its goods"
    return ProductRow(
        sku=binding.sku,
        state=ProductState.DELETED_IN_STORE,
        name=binding.sku,
        ean=binding.ean,
        store_ids=binding.store_ids,
        problems=[ProductProblem(kind=ProductProblemKind.NOT_IN_STORE, detail=detail)],
        synced_at=binding.synced_at,
    )


def _ean_problem(product: StoreProduct, current: WarehouseProductState | None) -> ProductProblem | None:
    if current is None or not product.ean or not current.ean_code or current.ean_code == product.ean:
        return None
    detail = f"myOGO keeps its EAN {current.ean_code} (the store has {product.ean}); myOGO never overwrites an EAN"
    return ProductProblem(kind=ProductProblemKind.EAN_DIFFERS, detail=detail)


def _myogo_view(deps: ProductDeps) -> dict[str, WarehouseProductState]:
    return {product.code: product for product in deps.warehouse.list_products()}


# ---- runs: the schedule and "Create product" ----------------------------------------------------


@dataclass(frozen=True)
class _Work:
    item: CatalogItem
    binding: SkuBinding | None
    payload: WarehouseProduct
    content_hash: str

    @property
    def unchanged(self) -> bool:
        return self.binding is not None and self.binding.content_hash == self.content_hash


def _work(item: CatalogItem, bindings: Mapping[str, SkuBinding]) -> _Work | None:
    """What sending this product takes; None when it must not be sent (no SKU, a shared SKU)."""
    if item.payload is None or item.content_hash is None or any(problem.blocking for problem in item.problems):
        return None
    return _Work(item, bindings.get(item.payload.code), item.payload, item.content_hash)


@dataclass
class _Run:
    integration: Integration
    deps: ProductDeps
    started: datetime
    result: ProductRunResult
    refusals: dict[str, ProductRefusal] = field(default_factory=dict)
    progress: Progress | None = None

    def count(self, name: str, by: int = 1) -> None:
        self.result.counts[name] = self.result.counts.get(name, 0) + by

    def leave_out(self, item: CatalogItem) -> None:
        """Report a product that is not sent, counted by its first error."""
        row = _error_row(item)
        self.count(next(problem.kind.value for problem in row.problems if problem.blocking))
        self.result.not_sent.append(row)


def sync_products(integration: Integration, deps: ProductDeps, owner: str) -> ProductRunResult:
    """The scheduled run: send what changed since its last transfer (and new products, if the settings say so)."""

    runs: list[_Run] = []

    def run_once(cursor: Cursor, started: datetime) -> tuple[_Run, Cursor]:
        runs.append(_Run(integration, deps, started, ProductRunResult(integration_id=integration.id, ran=True)))
        _scheduled_run(runs[0])
        return runs[0], cursor

    def record_failure(cursor: Cursor, error: Exception) -> RunRecord:  # what got through is still counted
        failed = failure_record(cursor, error)
        return RunRecord(failed.watermark, runs[0].result.counts if runs else {}, failed.error)

    def record(outcome: tuple[_Run, Cursor]) -> RunRecord:
        run, cursor = outcome
        # The watermark says "the store as of then is in myOGO": it moves only when the whole run got through.
        watermark = run.started if run.result.complete else cursor.watermark
        return RunRecord(watermark, run.result.counts, _refusals_summary(run.result))

    lock = (integration.id, Flow.PRODUCTS, owner, deps.lock_ttl_seconds)
    outcome = locked_run(deps.state, deps.clock, lock, run_once, record, record_failure)
    if outcome is None:
        return ProductRunResult(integration_id=integration.id, ran=False)
    result = outcome[0].result
    logger.info("product sync done", extra={"counts": result.counts, "complete": result.complete})
    return result


def _scheduled_run(run: _Run) -> None:
    integration, deps = run.integration, run.deps
    snapshot = _snapshot(integration, deps)
    run.refusals = snapshot.refusals
    run.count("seen", len(snapshot.catalog))
    work = []
    for item in snapshot.catalog:
        unit = _work(item, snapshot.bindings)
        if unit is None:
            run.leave_out(item)
            continue
        refusal = run.refusals.get(unit.payload.code)
        if refusal is not None and refusal.content_hash == unit.content_hash:
            run.count("refused_before")  # the same content again would be refused again
        elif unit.unchanged:
            run.count("unchanged")
        elif unit.binding is not None or (integration.settings.create_new_products and item.product.active):
            work.append(unit)
        else:
            run.count("not_in_myogo")
    deleted = snapshot.deleted_in_store
    if deleted:
        run.count("deleted_in_store", len(deleted))
        logger.warning("bound products gone from the store", extra={"skus": [b.sku for b in deleted][:50]})
    # myOGO's view is needed only to create: a run with nothing new to create asks myOGO nothing but its writes.
    view = _myogo_view(deps) if any(unit.binding is None for unit in work) else None
    _transfer(run, work, view)


def create_products(
    integration: Integration,
    deps: ProductDeps,
    owner: str,
    skus: Collection[str] | None = None,
    progress: Progress | None = None,
) -> ProductRunResult:
    """ "Create product": the picked SKUs (all active products when None) go to myOGO, myOGO's earlier refusals
    notwithstanding. A code myOGO already has is linked (and updated when its content differs), not duplicated.
    `progress` is told how many products were sent of how many."""
    started = deps.clock()
    if not deps.state.acquire_lock(integration.id, Flow.PRODUCTS, owner, started, deps.lock_ttl_seconds):
        return ProductRunResult(integration_id=integration.id, ran=False)
    try:
        result = ProductRunResult(integration_id=integration.id, ran=True)
        run = _Run(integration, deps, started, result, progress=progress)
        snapshot = _snapshot(integration, deps)
        run.refusals = snapshot.refusals
        view = _myogo_view(deps)
        work = []
        for item in _picked(run, snapshot.catalog, skus):
            unit = _work(item, snapshot.bindings)
            if unit is None:
                run.leave_out(item)
            elif unit.unchanged and unit.payload.code in view:
                run.count("unchanged")
            else:
                work.append(unit)
        _transfer(run, work, view)
        logger.info("products created", extra={"counts": run.result.counts, "complete": run.result.complete})
        return run.result
    finally:
        deps.state.release_lock(integration.id, Flow.PRODUCTS, owner)


def _picked(run: _Run, catalog: list[CatalogItem], skus: Collection[str] | None) -> list[CatalogItem]:
    if skus is None:
        run.count("inactive", sum(1 for item in catalog if not item.product.active))
        return [item for item in catalog if item.product.active]
    wanted = set(skus)
    for sku in sorted(wanted - {item.sku for item in catalog}):
        problem = ProductProblem(kind=ProductProblemKind.NOT_IN_STORE, detail=f"the store has no product {sku}")
        run.count(problem.kind.value)
        run.result.not_sent.append(ProductRow(sku=sku, state=ProductState.ERROR, name=sku, problems=[problem]))
    return [item for item in catalog if item.sku in wanted]


def _transfer(run: _Run, work: list[_Work], view: MyOgoView | None) -> None:
    """Send each unit of work, recording bindings as myOGO accepts them; stop when the time budget runs out."""
    deadline = run.started + timedelta(seconds=run.deps.run_budget_seconds)
    writer = _BindingWriter(run.deps.skus)
    if run.progress:
        run.progress(0, len(work))
    try:
        for index, unit in enumerate(work):
            if run.deps.clock() >= deadline:
                run.result.complete = False
                run.count("deferred", len(work) - index)
                break
            _transfer_one(run, unit, view, writer)
            if run.progress:
                run.progress(index + 1, len(work))
    finally:
        writer.flush()  # before any failure ends the run: the bindings stay true to what myOGO has


def _transfer_one(run: _Run, unit: _Work, view: MyOgoView | None, writer: _BindingWriter) -> None:
    code = unit.payload.code
    try:
        state, outcome = _send(unit, view, run.deps)
    except RejectedByPlatformError as exc:
        _refuse(run, unit, exc.detail)
        return
    writer.add(
        SkuBinding(
            integration_id=run.integration.id,
            sku=code,
            store_ids=unit.item.product.store_ids,
            ean=unit.item.product.ean,
            myogo_id=state.id,
            content_hash=unit.content_hash,
            synced_at=run.deps.clock(),
        )
    )
    if code in run.refusals:
        run.deps.refusals.delete_product_refusals(run.integration.id, [code])
    ean_problem = _ean_problem(unit.item.product, state)
    if ean_problem:
        run.count(ean_problem.kind.value)
        logger.warning("myOGO keeps another EAN", extra={"sku": code, "myogo_ean": state.ean_code})
    run.count(outcome.value)
    detail = ean_problem.detail if ean_problem else None
    run.result.transfers.append(ProductTransfer(sku=code, outcome=outcome, detail=detail))


def _send(unit: _Work, view: MyOgoView | None, deps: ProductDeps) -> tuple[WarehouseProductState, TransferOutcome]:
    payload = unit.payload
    if view is not None and payload.code in view:
        return _align(view[payload.code], payload, deps)
    if view is None and unit.binding is not None:
        try:
            return deps.warehouse.update_product(payload.code, payload), TransferOutcome.UPDATED
        except NotFoundError:  # deleted in myOGO since it was linked; the store is dominant, so it is made again
            logger.warning("linked product missing in myOGO, creating it again", extra={"sku": payload.code})
    return _create(payload, deps)


def _create(payload: WarehouseProduct, deps: ProductDeps) -> tuple[WarehouseProductState, TransferOutcome]:
    """POST the product; when myOGO has the code already (made by hand, or by a run that died before binding it,
    or by this very POST whose answer was lost), link that one instead. How myOGO words a duplicate code is not
    documented (uncertain), so after any refusal the code is looked up before the refusal is believed."""
    try:
        return deps.warehouse.create_product(payload), TransferOutcome.CREATED
    except (RejectedByPlatformError, TransientPlatformError):
        existing = deps.warehouse.find_product(payload.code)
        if existing is None:
            raise
        return _align(existing, payload, deps)


def _align(
    existing: WarehouseProductState, payload: WarehouseProduct, deps: ProductDeps
) -> tuple[WarehouseProductState, TransferOutcome]:
    if existing.same_content(payload):
        return existing, TransferOutcome.LINKED
    return deps.warehouse.update_product(payload.code, payload), TransferOutcome.UPDATED


def _refuse(run: _Run, unit: _Work, message: str) -> None:
    refusal = ProductRefusal(
        integration_id=run.integration.id,
        sku=unit.payload.code,
        message=message,
        content_hash=unit.content_hash,
        refused_at=run.deps.clock(),
    )
    run.deps.refusals.put_product_refusal(refusal)
    if run.deps.notices is not None:
        notice = notices.product_refused(
            run.integration, refusal.sku, refusal.content_hash, message, refusal.refused_at
        )
        run.deps.notices.record(notice)
    run.refusals[refusal.sku] = refusal
    run.count(TransferOutcome.REFUSED.value)
    run.result.transfers.append(ProductTransfer(sku=refusal.sku, outcome=TransferOutcome.REFUSED, detail=message))
    logger.warning("myOGO refused a product", extra={"sku": refusal.sku, "reason": message})


def _refusals_summary(result: ProductRunResult) -> str | None:
    refused = [f"{t.sku}: {t.detail}" for t in result.transfers if t.outcome is TransferOutcome.REFUSED]
    return "; ".join(refused[:5]) or None


class _BindingWriter:
    """Collects bindings and writes them in full DynamoDB batches."""

    def __init__(self, repository: SkuBindingRepository) -> None:
        self._repository = repository
        self._pending: list[SkuBinding] = []

    def add(self, binding: SkuBinding) -> None:
        self._pending.append(binding)
        if len(self._pending) >= BINDING_BATCH:
            self.flush()

    def flush(self) -> None:
        if self._pending:
            self._repository.put_sku_bindings(self._pending)
            self._pending = []
