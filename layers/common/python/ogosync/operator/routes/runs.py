"""Run a flow now; the work queues and the redrive of their dead letters."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ogosync.models import Flow
from ogosync.operator import runs
from ogosync.operator.routes import IntegrationId, deps_of
from ogosync.operator.schemas import DeadLettersDiscarded, FlowRun
from ogosync.ports import DeadLetter, QueueDepth, RedriveCount

router = APIGatewayHttpRouter()
TAGS = ["runs and queues"]
QueueName = Annotated[str, Path(pattern=r"^[a-z][a-z-]{1,40}$")]
MessageId = Annotated[str, Path(pattern=r"^[A-Za-z0-9-]{1,100}$", description="the SQS message id")]


@router.post(
    "/integrations/<integration_id>/flows/<flow>/run",
    status_code=202,
    tags=TAGS,
    summary="Run a flow for the integration now (a job on the flow's queue)",
)
def run_flow(integration_id: IntegrationId, flow: Annotated[Flow, Path()]) -> FlowRun:
    return runs.run_flow(integration_id, flow, deps_of(router))


@router.get("/queues", tags=TAGS, summary="Messages waiting, in flight and dead-lettered, per work queue")
def queues() -> list[QueueDepth]:
    return runs.queue_depths(deps_of(router))


@router.post(
    "/queues/<queue>/redrive",
    tags=TAGS,
    summary="Move messages from the queue's dead-letter queue back to it",
)
def redrive(
    queue: QueueName,
    max_messages: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> RedriveCount:
    return runs.redrive(queue, max_messages, deps_of(router))


@router.get("/queues/<queue>/dead-letters", tags=TAGS, summary="The messages in the queue's dead-letter queue")
def dead_letters(queue: QueueName, limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[DeadLetter]:
    return runs.dead_letters(queue, limit, deps_of(router))


@router.post(
    "/queues/<queue>/dead-letters/<message_id>/redrive",
    tags=TAGS,
    summary="Move one message from the dead-letter queue back to its queue",
)
def redrive_dead_letter(queue: QueueName, message_id: MessageId) -> RedriveCount:
    return runs.redrive_dead_letter(queue, message_id, deps_of(router))


@router.delete(
    "/queues/<queue>/dead-letters/<message_id>", tags=TAGS, summary="Delete one message of the dead-letter queue"
)
def discard_dead_letter(queue: QueueName, message_id: MessageId) -> DeadLettersDiscarded:
    return runs.discard_dead_letters(queue, message_id, deps_of(router))


@router.delete("/queues/<queue>/dead-letters", tags=TAGS, summary="Delete every message of the dead-letter queue")
def discard_dead_letters(queue: QueueName) -> DeadLettersDiscarded:
    return runs.discard_dead_letters(queue, None, deps_of(router))
