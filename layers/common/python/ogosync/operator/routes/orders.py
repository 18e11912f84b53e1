"""One order's actions: keep a held order from myOGO ("do not send"), retry a failed one, push a refused shipment
again."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ogosync.operator import orders
from ogosync.operator.routes import IntegrationId, OrderId, deps_of
from ogosync.operator.schemas import OrderOutcome

router = APIGatewayHttpRouter()
TAGS = ["status"]


@router.post(
    "/integrations/<integration_id>/orders/<order_id>/do-not-send",
    tags=TAGS,
    summary="Keep a held order from myOGO for good: the import leaves it alone from now on",
)
def do_not_send(integration_id: IntegrationId, order_id: OrderId) -> OrderOutcome:
    return orders.do_not_send(integration_id, order_id, deps_of(router))


@router.post(
    "/integrations/<integration_id>/orders/<order_id>/retry",
    status_code=202,
    tags=TAGS,
    summary="Import a failed order again now; myOGO is asked first, so it is never created twice",
)
def retry_order(integration_id: IntegrationId, order_id: OrderId) -> OrderOutcome:
    return orders.retry_order(integration_id, order_id, deps_of(router))


@router.post(
    "/integrations/<integration_id>/orders/<order_id>/retry-shipment",
    status_code=202,
    tags=TAGS,
    summary="Push a shipment the store refused once more, after a fix in the store",
)
def retry_shipment(integration_id: IntegrationId, order_id: OrderId) -> OrderOutcome:
    return orders.retry_shipment(integration_id, order_id, deps_of(router))
