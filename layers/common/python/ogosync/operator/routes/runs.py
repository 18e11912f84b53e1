"""Run a flow now; the work queues and the redrive of their dead letters."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ogosync import runtime
from ogosync.models import Flow
from ogosync.operator import runs
from ogosync.operator.routes import IntegrationId
from ogosync.operator.schemas import FlowRun
from ogosync.ports import QueueDepth, RedriveCount

router = APIGatewayHttpRouter()
TAGS = ["runs and queues"]


@router.post(
    "/integrations/<integration_id>/flows/<flow>/run",
    status_code=202,
    tags=TAGS,
    summary="Run a flow for the integration now (a job on the flow's queue)",
)
def run_flow(integration_id: IntegrationId, flow: Annotated[Flow, Path()]) -> FlowRun:
    return runs.run_flow(integration_id, flow, runtime.operator_deps())


@router.get("/queues", tags=TAGS, summary="Messages waiting, in flight and dead-lettered, per work queue")
def queues() -> list[QueueDepth]:
    return runs.queue_depths(runtime.operator_deps())


@router.post(
    "/queues/<queue>/redrive",
    tags=TAGS,
    summary="Move messages from the queue's dead-letter queue back to it",
)
def redrive(
    queue: Annotated[str, Path(pattern=r"^[a-z][a-z-]{1,40}$")],
    max_messages: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> RedriveCount:
    return runs.redrive(queue, max_messages, runtime.operator_deps())
