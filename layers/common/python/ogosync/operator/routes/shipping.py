"""Shipping methods: the store's methods seen in orders and their myOGO shipping codes."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ogosync.operator import shipping
from ogosync.operator.routes import IntegrationId, deps_of
from ogosync.operator.schemas import ShippingMapping, ShippingMappingIn, ShippingMethods

router = APIGatewayHttpRouter()
TAGS = ["shipping methods"]


@router.get(
    "/integrations/<integration_id>/shipping-methods",
    tags=TAGS,
    summary="The store's shipping methods seen in recent orders, with the myOGO code each one gets",
)
def shipping_methods(integration_id: IntegrationId) -> ShippingMethods:
    return shipping.shipping_methods(integration_id, deps_of(router))


@router.put(
    "/integrations/<integration_id>/shipping-mappings",
    tags=TAGS,
    summary="Set or change the myOGO shipping code of a store method ('*': every unmapped method)",
)
def set_shipping_mapping(
    integration_id: IntegrationId, request: Annotated[ShippingMappingIn, Body()]
) -> ShippingMapping:
    return shipping.set_shipping_mapping(integration_id, request, deps_of(router))


@router.delete(
    "/integrations/<integration_id>/shipping-mappings",
    status_code=204,
    tags=TAGS,
    summary="Remove the mapping of a store method",
)
def delete_shipping_mapping(
    integration_id: IntegrationId, store_method: Annotated[str, Query(min_length=1, max_length=200)]
) -> Response[None]:
    shipping.delete_shipping_mapping(integration_id, store_method, deps_of(router))
    return Response(status_code=204)
