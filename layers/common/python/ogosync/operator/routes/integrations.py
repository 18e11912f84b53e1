"""Integrations: create, read, update, pause and resume, delete; and the webhook to paste into the store."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ogosync.models import Integration
from ogosync.operator import integrations
from ogosync.operator.routes import IntegrationId, deps_of
from ogosync.operator.schemas import IntegrationCreate, IntegrationDeleted, IntegrationPatch, WebhookInfo

router = APIGatewayHttpRouter()
TAGS = ["integrations"]


@router.get("/integrations", tags=TAGS, summary="Every integration")
def list_integrations() -> list[Integration]:
    return integrations.list_integrations(deps_of(router))


@router.post(
    "/integrations",
    status_code=201,
    tags=TAGS,
    summary="Create an integration; its credentials are checked with the store and myOGO first",
)
def create_integration(request: Annotated[IntegrationCreate, Body()]) -> Integration:
    return integrations.create_integration(request, deps_of(router))


@router.get("/integrations/<integration_id>", tags=TAGS, summary="One integration (never its credentials)")
def get_integration(integration_id: IntegrationId) -> Integration:
    return integrations.get_integration(integration_id, deps_of(router))


@router.patch(
    "/integrations/<integration_id>",
    tags=TAGS,
    summary="Change settings or rotate credentials; a changed side is checked again",
)
def update_integration(integration_id: IntegrationId, request: Annotated[IntegrationPatch, Body()]) -> Integration:
    return integrations.update_integration(integration_id, request, deps_of(router))


@router.delete(
    "/integrations/<integration_id>",
    tags=TAGS,
    summary="Delete an integration: its state, and its secret after a recovery window",
)
def delete_integration(integration_id: IntegrationId) -> IntegrationDeleted:
    return integrations.delete_integration(integration_id, deps_of(router))


@router.post("/integrations/<integration_id>/pause", tags=TAGS, summary="Stop every flow of the integration")
def pause_integration(integration_id: IntegrationId) -> Integration:
    return integrations.set_paused(integration_id, True, deps_of(router))


@router.post("/integrations/<integration_id>/resume", tags=TAGS, summary="Start the flows again; the poll catches up")
def resume_integration(integration_id: IntegrationId) -> Integration:
    return integrations.set_paused(integration_id, False, deps_of(router))


@router.get(
    "/integrations/<integration_id>/webhook",
    tags=TAGS,
    summary="The webhook URL to paste into the store, and whether its secret is configured",
)
def webhook(integration_id: IntegrationId) -> WebhookInfo:
    return integrations.webhook_info(integration_id, deps_of(router))
