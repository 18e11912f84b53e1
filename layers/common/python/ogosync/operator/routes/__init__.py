"""The operator API's routers, one per page of the set-up: each route validates, calls one service, answers."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path

from ogosync.models import INTEGRATION_ID_PATTERN

IntegrationId = Annotated[str, Path(pattern=INTEGRATION_ID_PATTERN, description="the integration's id")]
OrderId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", description="the store's order number")]
