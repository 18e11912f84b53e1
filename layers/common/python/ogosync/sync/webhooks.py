"""Store webhooks: verify, enqueue the orders they name, answer fast (design invariant 3).

Nothing is trusted before the signature is checked, and nothing is written or enqueued for a refused delivery.
A webhook is only a hint: the worker re-reads the order from the store, and the poll covers lost deliveries.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel

from ogosync.errors import ConfigurationError, WebhookRejectedError
from ogosync.models import INTEGRATION_ID_PATTERN, IntegrationStatus, OrderImportJob, Platform
from ogosync.ports import DeliveryLog, JobQueue, SecretStore, StateRepository, WebhookVerifier
from ogosync.timeutil import Clock, utc_now

MAX_BODY_BYTES = 256 * 1024


class WebhookAck(BaseModel):
    integration_id: str
    accepted_orders: int
    ignored_events: int
    paused: bool = False
    duplicate: bool = False  # the platform delivered this event before: nothing enqueued again


# Shopify redelivers a failed webhook for up to 4 hours (docs/api/shopify.md, "Webhooks"): a delivery id is kept a day.
DELIVERY_KEEP_SECONDS = 24 * 3600


@dataclass
class WebhookDeps:
    state: StateRepository
    secrets: SecretStore
    queue: JobQueue
    verifier_for: Callable[[Platform], WebhookVerifier]  # ConfigurationError for a platform without an adapter
    deliveries: DeliveryLog
    clock: Clock = utc_now


def receive_store_webhook(
    platform: Platform, integration_id: str, headers: Mapping[str, str], body: bytes, deps: WebhookDeps
) -> WebhookAck:
    if len(body) > MAX_BODY_BYTES:
        raise WebhookRejectedError(413, "body_too_large", f"body is over {MAX_BODY_BYTES} bytes")
    unknown = WebhookRejectedError(404, "unknown_integration", "no such integration for this platform")
    if not re.fullmatch(INTEGRATION_ID_PATTERN, integration_id):
        raise unknown
    integration = deps.state.get_integration(integration_id)
    if integration is None or integration.platform is not platform:
        raise unknown
    try:
        verifier = deps.verifier_for(platform)
    except ConfigurationError:
        raise unknown from None
    secret = deps.secrets.credentials(integration).webhook_secret.get_secret_value()
    if not secret:  # not configured yet: an empty HMAC key would let anyone sign
        raise WebhookRejectedError(401, "no_webhook_secret", "no webhook secret is configured for this integration")
    hints = verifier.verify(headers, body, secret, deps.clock())
    if hints.delivery_id and not deps.deliveries.first_delivery(
        integration_id, hints.delivery_id, deps.clock(), DELIVERY_KEEP_SECONDS
    ):
        return WebhookAck(integration_id=integration_id, accepted_orders=0, ignored_events=0, duplicate=True)
    if integration.status is IntegrationStatus.PAUSED:  # the poll catches up after resume
        return WebhookAck(
            integration_id=integration_id,
            accepted_orders=0,
            ignored_events=hints.ignored_events + len(hints.order_ids),
            paused=True,
        )
    jobs = [
        OrderImportJob(integration_id=integration_id, order_id=order_id, source="webhook")
        for order_id in hints.order_ids
    ]
    try:
        deps.queue.send(jobs)
    except Exception:
        if hints.delivery_id:  # the platform's retry of this delivery must not be taken for a duplicate
            deps.deliveries.forget_delivery(integration_id, hints.delivery_id)
        raise
    return WebhookAck(
        integration_id=integration_id, accepted_orders=len(hints.order_ids), ignored_events=hints.ignored_events
    )
