"""Run a flow now, and the work queues: depths and the redrive of what waits in their dead-letter queues."""

from __future__ import annotations

from ogosync.models import Flow, FlowJob, IntegrationStatus
from ogosync.operator.deps import OperatorDeps
from ogosync.operator.errors import conflict, not_found
from ogosync.operator.schemas import DeadLettersDiscarded, FlowRun
from ogosync.ports import DeadLetter, QueueDepth, RedriveCount


def run_flow(integration_id: str, flow: Flow, deps: OperatorDeps) -> FlowRun:
    integration = deps.integration(integration_id)
    if integration.status is IntegrationStatus.PAUSED:
        raise conflict("integration_paused", f"integration {integration.id} is paused: resume it first")
    queue = deps.flow_queues.get(flow)
    if queue is None:
        raise conflict("flow_not_deployed", f"the {flow} flow has no queue in this deployment")
    job = FlowJob(integration_id=integration.id, flow=flow, scheduled_for=deps.clock())
    queue.send([job])
    return FlowRun(integration_id=integration.id, flow=flow, enqueued_at=job.scheduled_for)


def queue_depths(deps: OperatorDeps) -> list[QueueDepth]:
    return [deps.work_queues.depth(name) for name in deps.work_queues.names()]


def redrive(queue: str, max_messages: int, deps: OperatorDeps) -> RedriveCount:
    _with_dead_letters(queue, deps)
    return deps.work_queues.redrive(queue, max_messages)


def dead_letters(queue: str, limit: int, deps: OperatorDeps) -> list[DeadLetter]:
    _with_dead_letters(queue, deps)
    return deps.work_queues.dead_letters(queue, limit)


def redrive_dead_letter(queue: str, message_id: str, deps: OperatorDeps) -> RedriveCount:
    _with_dead_letters(queue, deps)
    if not deps.work_queues.redrive_dead_letter(queue, message_id):
        raise _no_such_letter(queue, message_id)
    left = deps.work_queues.depth(queue).dead_letters or 0
    return RedriveCount(queue=queue, moved=1, failed=0, dead_letters_left=left)


def discard_dead_letters(queue: str, message_id: str | None, deps: OperatorDeps) -> DeadLettersDiscarded:
    """One message, or (message_id None) every message of the queue's DLQ, deleted for good."""
    _with_dead_letters(queue, deps)
    discarded = deps.work_queues.discard_dead_letters(queue, None if message_id is None else {message_id})
    if message_id is not None and not discarded:
        raise _no_such_letter(queue, message_id)
    return DeadLettersDiscarded(queue=queue, discarded=discarded)


def _with_dead_letters(queue: str, deps: OperatorDeps) -> None:
    if queue not in deps.work_queues.names():
        known = ", ".join(deps.work_queues.names())
        raise not_found("unknown_queue", f"no queue {queue!r} in this deployment (there are: {known})")
    if deps.work_queues.depth(queue).dead_letters is None:
        raise conflict("no_dead_letter_queue", f"queue {queue!r} has no dead-letter queue")


def _no_such_letter(queue: str, message_id: str) -> Exception:
    return not_found("unknown_dead_letter", f"the dead-letter queue of {queue!r} has no message {message_id!r}")
