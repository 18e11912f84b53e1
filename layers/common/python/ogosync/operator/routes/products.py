"""The product sync page: Refresh, the list with its state and filters, Create product (picked SKUs or all).

Refresh and Create product outlast an API answer (30 s): they answer 202 with the queued run, whose progress and
result GET .../products/runs/latest shows."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ogosync.models import ProductAction, ProductProblemKind, ProductRun, ProductState
from ogosync.operator import products
from ogosync.operator.products import ProductCreateIn, ProductFilters, ProductPage
from ogosync.operator.routes import IntegrationId, deps_of, product_runs_of

router = APIGatewayHttpRouter()
TAGS = ["products"]
PRODUCTS = "/integrations/<integration_id>/products"


@router.post(
    f"{PRODUCTS}/refresh",
    status_code=202,
    tags=TAGS,
    summary="Refresh: read every store product and its state towards myOGO (queued; see runs/latest)",
)
def refresh(integration_id: IntegrationId) -> ProductRun:
    return products.request_action(
        integration_id, ProductAction.REFRESH, None, deps_of(router), product_runs_of(router)
    )


@router.post(
    f"{PRODUCTS}/create",
    status_code=202,
    tags=TAGS,
    summary="Create product: the picked SKUs, or every active product, go to myOGO (queued; see runs/latest)",
)
def create(integration_id: IntegrationId, request: Annotated[ProductCreateIn, Body()]) -> ProductRun:
    return products.request_action(
        integration_id, ProductAction.CREATE, request.skus, deps_of(router), product_runs_of(router)
    )


@router.get(
    f"{PRODUCTS}/runs/latest",
    tags=TAGS,
    summary="The latest refresh or create: queued, running (with progress), succeeded or failed, and its counts",
)
def latest_run(integration_id: IntegrationId) -> ProductRun:
    return products.latest_run(integration_id, deps_of(router), product_runs_of(router))


@router.get(PRODUCTS, tags=TAGS, summary="The latest refresh's products, filtered and paged")
def product_list(
    integration_id: IntegrationId,
    state: Annotated[ProductState | None, Query(description="only products in this state")] = None,
    kind: Annotated[ProductProblemKind | None, Query(description="only products with a problem of this kind")] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="in the SKU, name or EAN")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ProductPage:
    filters = ProductFilters(state=state, kind=kind, search=q, page=page, page_size=page_size)
    return products.product_page(integration_id, filters, deps_of(router), product_runs_of(router))
