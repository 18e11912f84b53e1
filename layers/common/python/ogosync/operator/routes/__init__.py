"""The operator API's routers, one per page of the set-up: each route validates, calls one service, answers.

A route is handed its dependencies: `api.resolve` puts them in the request's context, and `deps_of` /
`product_runs_of` read them there, so no route reaches into `ogosync.runtime`."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ogosync.models import INTEGRATION_ID_PATTERN
from ogosync.operator.deps import OperatorDeps
from ogosync.ports import ProductRunRepository

IntegrationId = Annotated[str, Path(pattern=INTEGRATION_ID_PATTERN, description="the integration's id")]
OrderId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="the store's order number")]


def deps_of(router: APIGatewayHttpRouter) -> OperatorDeps:
    """The operator's dependencies this request was handed (api.resolve)."""
    found = router.context.get("deps")
    if not isinstance(found, OperatorDeps):
        raise RuntimeError("the operator API was called without its dependencies (api.resolve hands them over)")
    return found


def product_runs_of(router: APIGatewayHttpRouter) -> ProductRunRepository:
    """The product sync page's runs and reports this request was handed (api.resolve)."""
    found = router.context.get("product_runs")
    if found is None:
        raise RuntimeError("the operator API was called without its product runs (api.resolve hands them over)")
    runs: ProductRunRepository = found
    return runs
