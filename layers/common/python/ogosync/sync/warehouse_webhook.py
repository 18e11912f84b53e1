"""myOGO webhooks: verify, enqueue the orders they name for the tracking worker, answer fast (design invariant 3).

Nothing is trusted before the signature is checked, and nothing is written or enqueued for a refused delivery. A
delivery is only a hint: the worker re-reads the order from myOGO, and the tracking poll covers lost deliveries.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from ogosync.errors import WebhookRejectedError
from ogosync.models import INTEGRATION_ID_PATTERN, IntegrationStatus, TrackingHintJob
from ogosync.ports import JobQueue, SecretStore, StateRepository, WarehouseWebhookVerifier
from ogosync.sync.webhooks import MAX_BODY_BYTES


class WarehouseWebhookAck(BaseModel):
    model_config = ConfigDict(defer_build=True)

    integration_id: str
    accepted_orders: int
    ignored_events: int
    paused: bool = False


@dataclass
class WarehouseWebhookDeps:
    state: StateRepository
    secrets: SecretStore
    queue: JobQueue
    verifier: WarehouseWebhookVerifier


def receive_warehouse_webhook(
    integration_id: str, headers: Mapping[str, str], body: bytes, deps: WarehouseWebhookDeps
) -> WarehouseWebhookAck:
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRejectedError(413, "body_too_large", f"body is over {MAX_BODY_BYTES} bytes")
    unknown = WebhookRejectedError(404, "unknown_integration", "no such integration with a myOGO webhook")
    if not re.fullmatch(INTEGRATION_ID_PATTERN, integration_id):
        raise unknown
    integration = deps.state.get_integration(integration_id)
    if integration is None:
        raise unknown
    key = deps.secrets.credentials(integration).myogo_webhook_key
    secret = key.get_secret_value() if key is not None else ""
    if not secret:  # no myOGO webhook registered (an empty HMAC key would let anyone sign): nothing to verify
        raise unknown
    references = deps.verifier.verify(headers, body, secret)
    ignored = 0 if references else 1
    if integration.status is IntegrationStatus.PAUSED:  # the poll catches up after resume
        return WarehouseWebhookAck(
            integration_id=integration_id, accepted_orders=0, ignored_events=ignored + len(references), paused=True
        )
    deps.queue.send([TrackingHintJob(integration_id=integration_id, reference=reference) for reference in references])
    return WarehouseWebhookAck(integration_id=integration_id, accepted_orders=len(references), ignored_events=ignored)
