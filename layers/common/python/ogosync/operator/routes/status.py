"""Status: flows per integration, an order's history, the held orders and their release."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ogosync.operator import status
from ogosync.operator.routes import IntegrationId, OrderId, deps_of
from ogosync.operator.schemas import HeldOrder, IntegrationState, OrderHistory, Overview, Released

router = APIGatewayHttpRouter()
TAGS = ["status"]


@router.get("/status", tags=TAGS, summary="Every integration's flows and held orders, and the work queues")
def overview() -> Overview:
    return status.overview(deps_of(router))


@router.get(
    "/integrations/<integration_id>/status",
    tags=TAGS,
    summary="Per flow: last run, its result and counts, lag and errors; and the number of held orders",
)
def integration_status(integration_id: IntegrationId) -> IntegrationState:
    return status.integration_state(integration_id, deps_of(router))


@router.get(
    "/integrations/<integration_id>/orders/<order_id>",
    tags=TAGS,
    summary="One order's history in ogosync, and (live) what the store and myOGO say about it now",
)
def order_history(
    integration_id: IntegrationId,
    order_id: OrderId,
    live: Annotated[bool, Query(description="also ask the store and myOGO")] = True,
) -> OrderHistory:
    return status.order_history(integration_id, order_id, live, deps_of(router))


@router.get("/integrations/<integration_id>/held-orders", tags=TAGS, summary="Orders kept back, with the reasons")
def held_orders(integration_id: IntegrationId) -> list[HeldOrder]:
    return status.held_orders(integration_id, deps_of(router))


@router.post(
    "/integrations/<integration_id>/held-orders/<order_id>/release",
    status_code=202,
    tags=TAGS,
    summary="Import a held order again now (after a fix); the import re-reads it and decides",
)
def release_order(integration_id: IntegrationId, order_id: OrderId) -> Released:
    return status.release_order(integration_id, order_id, deps_of(router))


@router.post(
    "/integrations/<integration_id>/held-orders/release",
    status_code=202,
    tags=TAGS,
    summary="Import every held order again now",
)
def release_held_orders(integration_id: IntegrationId) -> Released:
    return status.release_held_orders(integration_id, deps_of(router))
